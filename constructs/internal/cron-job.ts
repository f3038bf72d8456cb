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
import type { Duration } from '../../common/durations';
import type { Problems } from '../errors';
import { HARDENED_POD_SPEC, restrictedPodSecurityContext } from './pod-security';
import * as rules from './rules';

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

/** The run props every scheduled job takes (each construct documents its own defaults on its props). */
export interface CronRunProps {
  readonly runAsUser?: number;
  readonly schedule?: string;
  readonly timeZone?: string;
  readonly activeDeadline?: Duration;
  readonly startingDeadline?: Duration;
  readonly backoffLimit?: number;
}

/** A job's run settings, checked and resolved: what restrictedCronJob takes. */
export type CronRun = Pick<
  RestrictedCronJobProps,
  'runAsUser' | 'schedule' | 'timeZone' | 'activeDeadlineSeconds' | 'startingDeadlineSeconds' | 'backoffLimit'
>;

/**
 * Checks a job's run props, each problem naming its prop, and fills in the construct's defaults (the time zone
 * defaults to Etc/UTC and backoffLimit to 1 for every job).
 */
export function cronRun(
  problems: Problems,
  props: CronRunProps,
  defaults: {
    readonly runAsUser: number;
    readonly schedule: string;
    readonly activeDeadline: Duration;
    readonly startingDeadline: Duration;
  },
): CronRun {
  const runAsUser = props.runAsUser ?? defaults.runAsUser;
  const schedule = props.schedule ?? defaults.schedule;
  const timeZone = props.timeZone ?? 'Etc/UTC';
  const backoffLimit = props.backoffLimit ?? 1;
  rules.nonRootUid(problems, 'runAsUser', runAsUser);
  rules.cronSchedule(problems, 'schedule', schedule);
  rules.timeZone(problems, 'timeZone', timeZone);
  const activeDeadline = props.activeDeadline ?? defaults.activeDeadline;
  const startingDeadline = props.startingDeadline ?? defaults.startingDeadline;
  const activeDeadlineSeconds = rules.durationSeconds(problems, 'activeDeadline', activeDeadline, 60, 86400) ?? NaN;
  const startingDeadlineSeconds = rules.durationSeconds(problems, 'startingDeadline', startingDeadline, 10, 86400) ?? NaN;
  rules.integer(problems, 'backoffLimit', backoffLimit, 0, 10);
  return { runAsUser, schedule, timeZone, activeDeadlineSeconds, startingDeadlineSeconds, backoffLimit };
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
