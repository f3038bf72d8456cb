// The CronJob every scheduled job of the stores is (audit partition maintenance, backup): never two runs at once,
// a starting and an active deadline, no restarts in place, the last three runs kept, a restricted pod without a
// service-account token or a mesh sidecar. The job passes its containers and volumes.
import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import {
  CronJobV1,
  CronJobV1SpecJobTemplateSpecTemplateSpecContainer,
  CronJobV1SpecJobTemplateSpecTemplateSpecVolume,
} from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import { HARDENED_POD_SPEC, restrictedPodSecurityContext } from './pod-security';

export type CronJobContainer = CronJobV1SpecJobTemplateSpecTemplateSpecContainer;
export type CronJobVolume = CronJobV1SpecJobTemplateSpecTemplateSpecVolume;

export interface RestrictedCronJobProps {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly schedule: string;
  readonly timeZone: string;
  /** Whole seconds. */
  readonly startingDeadlineSeconds: number;
  /** Whole seconds. */
  readonly activeDeadlineSeconds: number;
  readonly backoffLimit: number;
  /** The pod's uid (and gid, fsGroup). */
  readonly runAsUser: number;
  /** Run in order before the containers, each to success. @default none */
  readonly initContainers?: CronJobContainer[];
  readonly containers: CronJobContainer[];
  readonly volumes: CronJobVolume[];
  readonly dependsOn?: ITerraformDependable[];
}

export function restrictedCronJob(scope: Construct, id: string, props: RestrictedCronJobProps): CronJobV1 {
  const labels = props.labels;
  return new CronJobV1(scope, id, {
    dependsOn: props.dependsOn,
    metadata: { name: props.name, namespace: props.namespace, labels },
    spec: {
      schedule: props.schedule,
      timezone: props.timeZone,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: props.startingDeadlineSeconds,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: props.backoffLimit,
          activeDeadlineSeconds: props.activeDeadlineSeconds,
          template: {
            metadata: { labels, annotations: { 'sidecar.istio.io/inject': 'false' } },
            spec: {
              ...HARDENED_POD_SPEC,
              restartPolicy: 'Never',
              securityContext: restrictedPodSecurityContext({ runAsUser: props.runAsUser }),
              ...(props.initContainers?.length ? { initContainer: props.initContainers } : {}),
              container: props.containers,
              volume: props.volumes,
            },
          },
        },
      },
    },
  });
}
