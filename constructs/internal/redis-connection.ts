// A service's connection to Redis, for the in-cluster RedisStreams and an imported external Redis alike: one
// ConfigMap per service (where Redis is, which ACL user to be, where the password file is, which streams and the
// rate-limit prefix), and the chart values that mount the service's own password Secret as files.
import { Construct } from 'constructs';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { serviceSelector, standardLabels } from './labels';
import { SERVICES, type ServiceName } from '../../common/names';
import { RATE_LIMITED_SERVICES, REDIS_USERS, RedisUser, STREAMS, STREAM_ACCESS, StreamName, rateLimitPattern } from './redis-config';
import * as rules from './rules';
import type { WorkloadConnectionValues } from '../workload-values';
import type { RedisUserSecretRef } from '../redis-store';
import { credentialsAnnotation } from './credentials-checksum';

/** Where a service's pods find their Redis password file. */
export const SERVICE_SECRET_MOUNT = '/var/run/secrets/caracal/redis';

export interface RedisConnectionsSpec {
  readonly prefix: string;
  readonly namespace: string;
  readonly instance: string;
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly services: readonly ServiceName[];
  /** The key of the password in each service user's Secret. */
  readonly passwordKey: (service: ServiceName) => string;
}

/** Creates one connection ConfigMap per service under `scope` (ids `connection-<service>`); returns their names. */
export function redisConnectionConfigMaps(scope: Construct, spec: RedisConnectionsSpec): Map<ServiceName, string> {
  const names = new Map<ServiceName, string>();
  for (const service of spec.services) {
    const cm = `${spec.prefix}-${service}-redis`;
    const data: Record<string, string> = {
      REDIS_HOST: spec.endpoint.host,
      REDIS_PORT: String(spec.endpoint.port),
      REDIS_USERNAME: service,
      REDIS_PASSWORD_FILE: `${SERVICE_SECRET_MOUNT}/${spec.passwordKey(service)}`,
      REDIS_CONSUMER_GROUP: service,
    };
    for (const s of Object.keys(STREAMS) as StreamName[]) {
      const a = STREAM_ACCESS[s];
      if (a.producers.includes(service) || a.consumers.includes(service)) data[`REDIS_STREAM_${s.toUpperCase()}`] = STREAMS[s];
    }
    if (RATE_LIMITED_SERVICES.includes(service)) data.REDIS_RATE_LIMIT_PREFIX = rateLimitPattern(service).slice(0, -1);
    new ConfigMapV1(scope, `connection-${service}`, {
      metadata: {
        name: cm,
        namespace: spec.namespace,
        labels: standardLabels({ name: `caracal-${service}`, instance: spec.instance, component: service }),
      },
      data,
    });
    names.set(service, cm);
  }
  return names;
}

/**
 * A service chart's values to reach Redis: its connection ConfigMap, its own password Secret mounted as files, and
 * the annotation that rolls the pods when that password's version changes.
 */
export function redisServiceValues(
  instance: string,
  service: ServiceName,
  configMap: string,
  { secretName, version }: RedisUserSecretRef,
): WorkloadConnectionValues {
  return {
    podLabels: serviceSelector(instance, service),
    podAnnotations: credentialsAnnotation('redis', [version]),
    envFrom: [{ configMapRef: { name: configMap } }],
    volumes: [{ name: 'caracal-redis-credentials', secret: { secretName, defaultMode: 0o440 } }],
    volumeMounts: [{ name: 'caracal-redis-credentials', mountPath: SERVICE_SECRET_MOUNT, readOnly: true }],
  };
}

/** A Redis store's Secret reference of `user`; an error naming the store and the users it has otherwise. */
export function userSecretOf<U extends string>(
  scope: Construct,
  secrets: ReadonlyMap<U, RedisUserSecretRef>,
  users: readonly U[],
  user: U,
): RedisUserSecretRef {
  const ref = secrets.get(user);
  if (!ref) throw new Error(`${scope.node.path}: unknown Redis user ${JSON.stringify(user)}; expected one of ${users.join(', ')}`);
  return ref;
}

/** A Redis store's connection ConfigMap name of `service`; an error naming the store and the services otherwise. */
export function connectionConfigMapOf(scope: Construct, configMaps: ReadonlyMap<ServiceName, string>, service: ServiceName): string {
  const name = configMaps.get(rules.deployedService(scope.node.path, [...configMaps.keys()], service));
  if (!name) throw new Error(`${scope.node.path}: no connection ConfigMap for ${service}`);
  return name;
}

/**
 * The ACL users of a Redis that serves `services`: the deployed services' users, then the built-in users `keep`
 * admits (healthcheck, ops, exporter, backup), in REDIS_USERS order.
 */
export function redisUsersFor(services: readonly ServiceName[], keep: (user: RedisUser) => boolean = () => true): RedisUser[] {
  return REDIS_USERS.filter((u) => ((SERVICES as readonly string[]).includes(u) ? services.includes(u as ServiceName) : keep(u)));
}
