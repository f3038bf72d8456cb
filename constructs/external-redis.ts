// ExternalRedis: a Redis this library does not deploy (managed, or run elsewhere), imported by its attributes with
// RedisStreams.fromAttributes(). Its owner sets up the ACL users (RedisStreams.aclFileTemplate() renders their
// rules) and their password Secrets; this construct only creates each service's connection ConfigMap and hands the
// services the same values as the in-cluster RedisStreams does.
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { Problems } from './errors';
import * as rules from './internal/rules';
import { existingVersion } from './internal/credentials-checksum';
import type { ServiceName } from '../common/names';
import { REDIS_USERS, RedisUser } from './internal/redis-config';
import {
  connectionConfigMapOf,
  redisConnectionConfigMaps,
  redisServiceValues,
  redisUsersFor,
  userSecretOf,
} from './internal/redis-connection';
import type { WorkloadConnectionValues } from './workload-values';
import type { IRedisStreams, RedisEndpoint, RedisUserSecretRef } from './redis-store';
import { AdmittingStore, ClientAdmission, ClientWorkload, admitClient } from './connections';
import { checkStackIdentity } from './internal/stack-identity';

/** The attributes of an external Redis (RedisStreams.fromAttributes). */
export interface ExternalRedisProps {
  /** Environment name (labels of the connection ConfigMaps). */
  readonly environment: string;
  /** Namespace of the services (and of the password Secrets and connection ConfigMaps). */
  readonly namespace: string;
  /** Host name of the Redis. */
  readonly host: string;
  /** @default 6379 */
  readonly port?: number;
  /** Prefix of the existing password Secrets (`<prefix>-<user>`), one per ACL user. */
  readonly secretPrefix: string;
  /** Secret name per user, overriding `<secretPrefix>-<user>`. @default `<secretPrefix>-<user>` */
  readonly secretNames?: Partial<Record<RedisUser, string>>;
  /** Key of the password in each Secret. @default 'password' */
  readonly passwordKey?: string;
  /**
   * Version token per user, bumped (or set to the secret manager's version id) when that user's password rotates:
   * it feeds the `caracal.dev/redis-credentials` annotation, so the user's pods roll. @default none
   */
  readonly rotation?: Partial<Record<RedisUser, string>>;
  /** Prefix of the connection ConfigMaps (`<prefix>-<service>-redis`). @default 'caracal' */
  readonly namePrefix?: string;
  /** The services deployed (a subset of the five): only their users' Secrets are expected and only their connection ConfigMaps created. @default all five */
  readonly services?: readonly ServiceName[];
}

/** Every prop of ExternalRedisProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<ExternalRedisProps>({
  environment: true,
  namespace: true,
  host: true,
  port: true,
  secretPrefix: true,
  secretNames: true,
  passwordKey: true,
  rotation: true,
  namePrefix: true,
  services: true,
});

export class ExternalRedis extends Construct implements IRedisStreams {
  readonly mode = 'external' as const;
  readonly endpoint: RedisEndpoint;
  readonly users: readonly RedisUser[];
  /** The services deployed, in the canonical order. */
  readonly services: readonly ServiceName[];
  readonly podLabels = undefined;
  readonly readyResources: readonly ITerraformDependable[] = [];
  private readonly userSecrets = new Map<RedisUser, RedisUserSecretRef>();
  private readonly serviceConfigMaps: ReadonlyMap<ServiceName, string>;
  private readonly instance: string;
  private readonly admitting: AdmittingStore;

  constructor(scope: Construct, id: string, props: ExternalRedisProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'ExternalRedis prop');
    const port = props.port ?? 6379;
    const prefix = props.namePrefix ?? 'caracal';
    const passwordKey = props.passwordKey ?? 'password';
    rules.environmentName(problems, 'environment', props.environment);
    rules.namespace(problems, 'namespace', props.namespace);
    rules.hostName(problems, 'host', props.host);
    rules.port(problems, 'port', port);
    rules.dnsSubdomain(problems, 'secretPrefix', props.secretPrefix, 'Secret name prefix');
    rules.knownKeys(problems, 'secretNames', props.secretNames, REDIS_USERS, 'Redis user');
    for (const [user, n] of Object.entries(props.secretNames ?? {})) rules.secretName(problems, `secretNames.${user}`, n);
    rules.secretKey(problems, 'passwordKey', passwordKey);
    rules.rotationTokens(problems, 'rotation', props.rotation, REDIS_USERS, 'Redis user');
    rules.namePrefix(problems, 'namePrefix', prefix, 32);
    this.services = rules.serviceSet(problems, 'services', props.services);
    this.users = redisUsersFor(this.services);
    problems.throwIfAny();

    this.instance = `caracal-${props.environment}`;
    this.endpoint = { host: props.host, port };
    for (const user of this.users) {
      const secretName = props.secretNames?.[user] ?? `${props.secretPrefix}-${user}`;
      this.userSecrets.set(user, { user, secretName, passwordKey, version: existingVersion(secretName, props.rotation?.[user]) });
    }
    this.admitting = { name: id, namespace: props.namespace, labels: {}, port };
    this.serviceConfigMaps = redisConnectionConfigMaps(this, {
      prefix,
      namespace: props.namespace,
      instance: this.instance,
      endpoint: this.endpoint,
      services: this.services,
      passwordKey: () => passwordKey,
    });
  }

  /** A client workload of ours that must reach this Redis: its egress rule to the port (any address) and DNS. */
  allowFrom(id: string, client: ClientWorkload): ClientAdmission {
    return admitClient(this, id, this.admitting, client);
  }

  userSecret(user: RedisUser): RedisUserSecretRef {
    return userSecretOf(this, this.userSecrets, this.users, user);
  }

  secretName(user: RedisUser): string {
    return this.userSecret(user).secretName;
  }

  connectionConfigMapName(service: ServiceName): string {
    return connectionConfigMapOf(this, this.serviceConfigMaps, service);
  }

  helmValues(service: ServiceName): WorkloadConnectionValues {
    return redisServiceValues(this.instance, service, this.connectionConfigMapName(service), this.userSecret(service));
  }
}
