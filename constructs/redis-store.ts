// IRedisStreams: "a Redis the services can reach for Caracal's streams", as IPostgresDatabase is for Postgres. The
// in-cluster RedisStreams implements it, and so does a Redis imported with RedisStreams.fromAttributes() (managed,
// or run elsewhere, with its ACL users set up by its owner). The composite, the exporters and the services' values
// use only this interface.
import type { IConstruct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import type { ClientAdmission, ClientWorkload } from './connections';
import type { ServiceName } from '../common/names';
import type { RedisUser } from './internal/redis-config';
import type { WorkloadConnectionValues } from './workload-values';

/** Where clients connect. */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Where one ACL user's password is. */
export interface RedisUserSecretRef {
  readonly user: RedisUser;
  readonly secretName: string;
  readonly passwordKey: string;
  /** Changes whenever the password does. */
  readonly version: string;
}

export interface IRedisStreams extends IConstruct {
  /** `in-cluster` (a StatefulSet of this library) or `external` (imported: nothing of Redis itself is deployed). */
  readonly mode: 'in-cluster' | 'external';
  readonly endpoint: RedisEndpoint;
  /** The ACL users whose Secrets exist. */
  readonly users: readonly RedisUser[];
  /** The services deployed (their ACL users and connection ConfigMaps exist), in the canonical order. */
  readonly services: readonly ServiceName[];
  /** Labels of the Redis pods, for the clients' egress rules; undefined outside the cluster. */
  readonly podLabels?: Readonly<Record<string, string>> | undefined;
  /** What must exist before anything connects (for depends_on): the StatefulSet and its NetworkPolicy; empty when external. */
  readonly readyResources: readonly ITerraformDependable[];
  /** Where an ACL user's password is. */
  userSecret(user: RedisUser): RedisUserSecretRef;
  /** Name of the Secret holding a user's password. */
  secretName(user: RedisUser): string;
  /** Name of a service's Redis connection ConfigMap (REDIS_HOST ... REDIS_PASSWORD_FILE, stream names). */
  connectionConfigMapName(service: ServiceName): string;
  /** A service chart's values to reach Redis: its connection ConfigMap and its own password Secret, as files. */
  helmValues(service: ServiceName): WorkloadConnectionValues;
  /**
   * Admits one more client workload (by pod selector) besides the defaults, which are always admitted: the
   * Redis's ingress rule (in the cluster) and the client's egress rule (unless `egress: false`).
   */
  allowFrom(id: string, client: ClientWorkload): ClientAdmission;
}
