// RedisStreams: the Redis that carries Caracal's streams (propagation, invalidation, revocation, audit
// delivery, consumer groups, pending entries) and rate-limit counters: one StatefulSet on a protected
// volume, AOF every second, noeviction, one ACL user per service, locked down by NetworkPolicy.
import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { Fn, ITerraformDependable } from 'cdktf';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import { protectedDataVolume } from './internal/data-volume';
import { storeNetworkPolicy } from './internal/network-policy';
import { SecretV1 } from '@cdktf/provider-kubernetes/lib/secret-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { Password } from '@cdktf/provider-random/lib/password';
import { Problems } from './errors';
import { selectorLabels, standardLabels } from './internal/labels';
import { HARDENED_POD_SPEC, restrictedContainerSecurityContext, restrictedPodSecurityContext } from './internal/pod-security';
import type { ServiceName } from '../common/names';
import * as rules from './internal/rules';
import type { WorkloadConnectionValues } from './workload-values';
import {
  connectionConfigMapOf,
  redisConnectionConfigMaps,
  redisServiceValues,
  redisUsersFor,
  userSecretOf,
} from './internal/redis-connection';
import { defaultClients } from './internal/default-clients';
import { AdmittingStore, ClientAdmission, ClientWorkload, admitClient } from './connections';
import type { IRedisStreams, RedisEndpoint, RedisUserSecretRef } from './redis-store';
import { ExternalRedis, ExternalRedisProps } from './external-redis';
import type { Duration } from '../common/durations';
import { AlternatingRotation, activeVersion, liveSlots, rotationState, RotationSlot } from '../common/rotation';
import { REDIS_ACL_RELOADER_SCRIPT, RELOADER_USER } from '../common/redis-acl-reloader';
import {
  DEFAULT_MAXMEMORY_FRACTION,
  MAX_MAXMEMORY_FRACTION,
  REDIS_USERS,
  RedisUser,
  STREAMS,
  StreamName,
  defaultMaxmemory,
  renderAclFile,
  renderRedisConf,
} from './internal/redis-config';
import { formatK8sSize, parseQuantity } from '../common/units';
import type { ResourceRequirements } from './postgres-instance';
import { checkStackIdentity } from './internal/stack-identity';
import { existingVersion } from './internal/credentials-checksum';

/**
 * The official image, Redis 7.2 (the last BSD-licensed line, which Valkey forked from): 7.2.16 carries the
 * fix for ACL key checks of XREAD/XREADGROUP that Caracal's per-stream users rely on. Tests run the
 * rendered config on Debian's redis-server 7.0.15; everything rendered is 7.0-compatible.
 */
export const DEFAULT_REDIS_IMAGE = 'docker.io/library/redis:7.2.16-bookworm';
/** uid/gid of the `redis` user in the official Debian-based image (and in valkey/valkey). */
export const REDIS_UID = 999;
export const REDIS_PORT = 6379;

const CONF_DIR = '/etc/redis/conf';
const ACL_DIR = '/etc/redis/acl';
const DATA_DIR = '/data';
const PROBE_SECRET_DIR = '/var/run/secrets/caracal/redis-healthcheck';
const RELOADER_SECRET_DIR = '/var/run/secrets/caracal/redis-reloader';
/** How often the ACL reloader looks at the mounted ACL file (seconds); the kubelet refreshes Secret volumes about every minute. */
const RELOAD_INTERVAL_SECONDS = 5;

export interface GeneratedRedisPasswordsOptions {
  /** Password length (alphanumeric). @default 32 */
  readonly length?: number;
  /**
   * Rotation per user. A token (slot a's) replaces the password at once: clients still on the old one get
   * WRONGPASS until they roll. An AlternatingRotation rotates without that: both slots' passwords are valid while
   * the clients roll (see docs/operations.md#rotation). Redis is never restarted: the ACL reloader applies the
   * passwords live. @default '0' for each
   */
  readonly rotation?: Partial<Record<RedisUser, string | AlternatingRotation>>;
  /** Rotation token of the ACL reloader's own password; changing it restarts Redis (the reloader cannot apply its own). @default '0' */
  readonly reloaderRotation?: string;
}

export interface ExistingRedisPasswordsOptions {
  /** Secret name per user. @default `<prefix>-<user>` */
  readonly secretNames?: Partial<Record<RedisUser, string>>;
  /** Key of the password in each user's Secret. @default 'password' */
  readonly passwordKey?: string;
  /**
   * Secret holding the ACL file (key `aclKey`), built by whoever owns the passwords, e.g. an External
   * Secrets template from `RedisStreams.aclFileTemplate()`. @default `<prefix>-acl`
   */
  readonly aclSecretName?: string;
  /** @default 'users.acl' */
  readonly aclKey?: string;
  /**
   * Secret of the ACL reloader's password (key `passwordKey`); its user is in the ACL file when the template is
   * rendered with `{ reloader: true }`. Until it exists the reloader waits and Redis runs without it. @default `<prefix>-reloader`
   */
  readonly reloaderSecretName?: string;
  /**
   * Version token per user, bumped (or set to the secret manager's version id) when the secret manager rotates that
   * user's password: it feeds the `caracal.dev/redis-credentials` annotation, so the user's pods roll. @default none
   */
  readonly rotation?: Partial<Record<RedisUser, string>>;
}

/** Where the Redis users' passwords come from. */
export class RedisPasswords {
  /** `random_password` per user; the ACL file holds their SHA-256 hashes, computed inside Terraform. Values live in Terraform state. */
  static generated(options: GeneratedRedisPasswordsOptions = {}): RedisPasswords {
    return new RedisPasswords({ kind: 'generated', options });
  }

  /** Secrets made by someone else (External Secrets, Vault), including the ACL file Secret. Nothing is generated or read. */
  static fromExistingSecrets(prefix: string, options: ExistingRedisPasswordsOptions = {}): RedisPasswords {
    return new RedisPasswords({ kind: 'existing', prefix, options });
  }

  private constructor(
    readonly source:
      | { kind: 'generated'; options: GeneratedRedisPasswordsOptions }
      | { kind: 'existing'; prefix: string; options: ExistingRedisPasswordsOptions },
  ) {}
}

export interface RedisStreamsProps {
  /** Environment name (labels, default client selectors). */
  readonly environment: string;
  /** Namespace Redis runs in. */
  readonly namespace: string;
  /** Name of the StatefulSet and Service (the in-cluster host name). @default 'redis' */
  readonly name?: string;
  /** Image, pinned (tag or digest). Valkey works too: set `image` to e.g. `docker.io/valkey/valkey:7.2.11-bookworm`. @default DEFAULT_REDIS_IMAGE */
  readonly image?: string;
  /** Server binary in the image. @default 'redis-server' */
  readonly serverBinary?: string;
  /** CLI binary the probes run. @default 'redis-cli' */
  readonly cliBinary?: string;
  /** Numeric uid/gid the container runs as (the image's redis user). @default 999 */
  readonly runAsUser?: number;
  /** Passwords of the ACL users. @default RedisPasswords.generated() */
  readonly passwords?: RedisPasswords;
  /** Create the `ops` user (inspect and repair streams and consumer groups). @default true */
  readonly opsUser?: boolean;
  /** Create the `exporter` user (INFO, and XINFO on the streams only, for redis_exporter). @default true */
  readonly exporterUser?: boolean;
  /** Create the `backup` user (REPLCONF and SYNC only: the backup CronJob's `redis-cli --rdb`). @default false */
  readonly backupUser?: boolean;
  /** Container resources; `limits.memory` is required and bounds `maxmemory`. @default requests 100m/512Mi, limits memory 512Mi */
  readonly resources?: ResourceRequirements;
  /**
   * Memory for data (redis.conf `maxmemory`, rendered in bytes); writes are refused beyond it. A Kubernetes quantity
   * like the memory limit it must stay within (`256Mi`); Redis' own `256mb` or `256MB` is refused with the hint
   * `256Mi` or `256M`. At most 75% of the memory limit. @default half the memory limit
   */
  readonly maxmemory?: string;
  /** RDB snapshot schedule (`save` syntax), '' for none. AOF is always on. @default '3600 1 300 100 60 10000' */
  readonly save?: string;
  /** Initial size of the data volume (AOF + RDB). @default '8Gi' */
  readonly storageSize?: string;
  /** Storage class of the data volume. @default the cluster's default class */
  readonly storageClassName?: string;
  /**
   * More pod selectors the NetworkPolicy admits, besides the defaults (always admitted: the five services and the
   * exporters of this environment). See also allowFrom(). @default none
   */
  readonly allowedClients?: ReadonlyArray<Readonly<Record<string, string>>>;
  /** How long Kubernetes waits for the final AOF fsync and RDB save (whole seconds). @default '60s' */
  readonly terminationGracePeriod?: Duration;
  /** Prefix of Secret and ConfigMap names (`<prefix>-redis-<user>`). @default 'caracal' */
  readonly namePrefix?: string;
  /** Prefix of the fixed Terraform logical ids of passwords, Secrets and the data volume. @default 'caracal' */
  readonly logicalIdPrefix?: string;
  /** The services deployed (a subset of the five): only their ACL users, Secrets and connection ConfigMaps exist, and only their pods are admitted. @default all five */
  readonly services?: readonly ServiceName[];
}

export type { IRedisStreams, RedisEndpoint, RedisUserSecretRef };
export type { ExternalRedisProps };

/** The values one service's chart needs to reach Redis. */
export type RedisServiceHelmValues = WorkloadConnectionValues;

/** Every prop of RedisStreamsProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<RedisStreamsProps>({
  environment: true,
  namespace: true,
  name: true,
  image: true,
  serverBinary: true,
  cliBinary: true,
  runAsUser: true,
  passwords: true,
  opsUser: true,
  exporterUser: true,
  resources: true,
  maxmemory: true,
  save: true,
  storageSize: true,
  storageClassName: true,
  allowedClients: true,
  terminationGracePeriod: true,
  namePrefix: true,
  logicalIdPrefix: true,
  backupUser: true,
  services: true,
});

export class RedisStreams extends Construct implements IRedisStreams {
  /**
   * A Redis this library does not deploy (managed, or run elsewhere), imported by its attributes: its owner sets up
   * the ACL users (aclFileTemplate()) and their password Secrets; each service's connection ConfigMap is created.
   */
  static fromAttributes(scope: Construct, id: string, attributes: ExternalRedisProps): ExternalRedis {
    return new ExternalRedis(scope, id, attributes);
  }

  /**
   * The ACL file with `hash(user)` in place of each password hash: for owners of existing Secrets who
   * build the ACL Secret themselves (e.g. `(u) => '{{ .' + u + ' | sha256sum }}'` in an External Secrets template).
   */
  static aclFileTemplate(
    hash: (user: RedisUser | typeof RELOADER_USER) => string | readonly string[],
    users: readonly RedisUser[] = REDIS_USERS,
    options: { readonly reloader?: boolean } = {},
  ): string {
    const reloader = options.reloader ? hash(RELOADER_USER) : undefined;
    return renderAclFile(Object.fromEntries(users.map((u) => [u, hash(u)])), typeof reloader === 'string' ? reloader : reloader?.[0]);
  }

  readonly mode = 'in-cluster' as const;
  readonly endpoint: RedisEndpoint;
  /** The ACL users that exist. */
  readonly users: readonly RedisUser[];
  /** The services deployed, in the canonical order. */
  readonly services: readonly ServiceName[];
  /** maxmemory in bytes. */
  readonly maxmemoryBytes: number;
  /** The rendered redis.conf (no secrets). */
  readonly redisConf: string;
  readonly configMapName: string;
  readonly aclSecretName: string;
  readonly podLabels: Readonly<Record<string, string>>;
  /** The server's pinned image (the backup CronJob runs its redis-cli). */
  readonly image: string;
  readonly statefulSet: StatefulSetV1;
  readonly networkPolicy: NetworkPolicyV1;
  readonly dataVolume: PersistentVolumeClaimV1;

  private readonly admitting: AdmittingStore;

  /** The StatefulSet and its NetworkPolicy: what must exist before anything connects. */
  get readyResources(): readonly ITerraformDependable[] {
    return [this.statefulSet, this.networkPolicy];
  }

  /**
   * Admits one more client workload on 6379, besides the defaults: Redis's ingress rule and (unless `egress: false`)
   * the client's egress rule to it and DNS. The client still needs an ACL user: Caracal's users are fixed
   * (internal/redis-config.ts). `id` names the policies (`<name>-allow-<id>`).
   */
  allowFrom(id: string, client: ClientWorkload): ClientAdmission {
    return admitClient(this, id, this.admitting, client);
  }

  /** Stream names, by role. */
  readonly streams: Readonly<Record<StreamName, string>> = STREAMS;
  private readonly userSecrets = new Map<RedisUser, RedisUserSecretRef>();
  private readonly serviceConfigMaps: ReadonlyMap<ServiceName, string>;
  private readonly instance: string;

  constructor(scope: Construct, id: string, props: RedisStreamsProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'RedisStreams prop');
    const name = props.name ?? 'redis';
    const image = props.image ?? DEFAULT_REDIS_IMAGE;
    const uid = props.runAsUser ?? REDIS_UID;
    const passwords = props.passwords ?? RedisPasswords.generated();
    const resources: ResourceRequirements = props.resources ?? { requests: { cpu: '100m', memory: '512Mi' }, limits: { memory: '512Mi' } };
    const storageSize = props.storageSize ?? '8Gi';
    const prefix = props.namePrefix ?? 'caracal';
    const serverBinary = props.serverBinary ?? 'redis-server';
    const cliBinary = props.cliBinary ?? 'redis-cli';
    this.instance = `caracal-${props.environment}`;
    this.services = rules.serviceSet(problems, 'services', props.services);
    this.users = redisUsersFor(
      this.services,
      (u) =>
        (u !== 'ops' || (props.opsUser ?? true)) &&
        (u !== 'exporter' || (props.exporterUser ?? true)) &&
        (u !== 'backup' || (props.backupUser ?? false)),
    );
    this.image = image;

    rules.environmentName(problems, 'environment', props.environment);
    rules.namespace(problems, 'namespace', props.namespace);
    rules.dnsLabel(problems, 'name', name, 'Service name');
    rules.pinnedImage(problems, 'image', image);
    for (const [field, bin] of [
      ['serverBinary', serverBinary],
      ['cliBinary', cliBinary],
    ] as const) {
      if (typeof bin !== 'string' || !/^[A-Za-z0-9_./-]+$/.test(bin))
        problems.add(field, bin, 'is not an executable name: expected letters, digits, "_", ".", "/" or "-"');
    }
    rules.nonRootUid(problems, 'runAsUser', uid);
    rules.namePrefix(problems, 'namePrefix', prefix, 32);
    const idPrefix = rules.logicalIdPrefix(problems, 'logicalIdPrefix', props.logicalIdPrefix);
    const grace =
      rules.durationSeconds(
        problems,
        'terminationGracePeriod',
        props.terminationGracePeriod ?? '60s',
        10,
        3600,
        'long enough for the final AOF fsync and RDB save',
      ) ?? 0;
    rules.volumeSize(problems, 'storageSize', storageSize, '8Gi');
    rules.storageClassName(problems, 'storageClassName', props.storageClassName);
    if (props.save !== undefined && !(props.save === '' || /^\d+ \d+( \d+ \d+)*$/.test(props.save))) {
      problems.add('save', props.save, 'is not a save schedule: expected "" or pairs of "<seconds> <changes>", e.g. "3600 1 300 100"');
    }

    const memoryLimit = resources.limits?.memory;
    const limitBytes = rules.resources(problems, 'resources', resources, {
      limitRequired:
        'maxmemory is derived from it and Redis without a limit is the first pod the kernel kills; expected a quantity such as 1Gi',
      minLimit: '128Mi',
      example: '1Gi',
    });
    let maxmemoryBytes = limitBytes === undefined ? 0 : defaultMaxmemory(limitBytes);
    if (props.maxmemory !== undefined) {
      // A Kubernetes quantity like the memory limit it is compared with (redis.conf gets bytes): `256mb` (Redis'
      // own spelling) or `256MB` gets the hint for `256Mi` or `256M`.
      const mm = typeof props.maxmemory === 'string' ? parseQuantity(props.maxmemory) : undefined;
      if (mm === undefined || mm < 16 * 1024 ** 2)
        problems.add(
          'maxmemory',
          props.maxmemory,
          `is not a Kubernetes quantity of at least 16Mi: expected e.g. 256Mi${rules.quantityHint(props.maxmemory)}`,
        );
      else if (limitBytes !== undefined && mm > limitBytes * MAX_MAXMEMORY_FRACTION) {
        problems.add(
          'maxmemory',
          props.maxmemory,
          `exceeds ${MAX_MAXMEMORY_FRACTION * 100}% of the memory limit (${memoryLimit}): an AOF rewrite forks and copies pages on write, ` +
            `and client buffers live outside maxmemory; expected at most ${formatK8sSize(Math.floor((limitBytes * MAX_MAXMEMORY_FRACTION) / 1024 ** 2) * 1024 ** 2)} ` +
            `(the default is ${DEFAULT_MAXMEMORY_FRACTION * 100}%)`,
        );
      } else maxmemoryBytes = mm;
    }

    const instance = this.instance;
    const allowed = [
      ...defaultClients('redis', props.environment, this.services),
      ...rules.allowedClients(problems, 'allowedClients', props.allowedClients),
    ];

    const src = passwords.source;
    rules.knownKeys(
      problems,
      'passwords',
      src.options,
      src.kind === 'generated'
        ? ['length', 'rotation', 'reloaderRotation']
        : ['secretNames', 'passwordKey', 'aclSecretName', 'aclKey', 'reloaderSecretName', 'rotation'],
      `${src.kind} passwords option`,
    );
    if (src.kind === 'generated') {
      const length = src.options.length ?? 32;
      rules.integer(problems, 'passwords.length', length, 16, 128);
      rules.rotationTokens(problems, 'passwords.rotation', src.options.rotation, REDIS_USERS, 'Redis user', true);
      if (src.options.reloaderRotation !== undefined)
        rules.rotationToken(problems, 'passwords.reloaderRotation', src.options.reloaderRotation);
    } else {
      const o = src.options;
      rules.dnsSubdomain(problems, 'passwords.prefix', src.prefix, 'Secret name prefix');
      rules.knownKeys(problems, 'passwords.secretNames', o.secretNames, REDIS_USERS, 'Redis user');
      for (const [user, n] of Object.entries(o.secretNames ?? {})) rules.secretName(problems, `passwords.secretNames.${user}`, n);
      if (o.passwordKey !== undefined) rules.secretKey(problems, 'passwords.passwordKey', o.passwordKey);
      if (o.aclSecretName !== undefined) rules.secretName(problems, 'passwords.aclSecretName', o.aclSecretName);
      if (o.aclKey !== undefined) rules.secretKey(problems, 'passwords.aclKey', o.aclKey);
      if (o.reloaderSecretName !== undefined) rules.secretName(problems, 'passwords.reloaderSecretName', o.reloaderSecretName);
      rules.rotationTokens(problems, 'passwords.rotation', o.rotation, REDIS_USERS, 'Redis user');
    }
    problems.throwIfAny();

    this.maxmemoryBytes = maxmemoryBytes;
    this.endpoint = { host: `${name}.${props.namespace}.svc.cluster.local`, port: REDIS_PORT };
    const labelProps = { name: 'redis', instance, component: 'streams' };
    const labels = standardLabels(labelProps);
    const selector = selectorLabels(labelProps);
    this.podLabels = labels;

    // Passwords and the ACL file. Generated: the hashes are computed by Terraform (sha256 of each
    // random_password result), so the synthesized JSON holds only references.
    let aclKey = 'users.acl';
    let reloaderSecret: Omit<RedisUserSecretRef, 'user'>;
    if (src.kind === 'generated') {
      const length = src.options.length ?? 32;
      const hashes: Partial<Record<RedisUser, string[]>> = {};
      const password = (user: RedisUser | typeof RELOADER_USER, slot: RotationSlot, rotation: string) => {
        // Slot a keeps the address and keepers of the single password it replaces: an environment that never
        // alternated plans no change.
        const p = new Password(this, slot === 'a' ? `password-${user}` : `password-${user}-b`, {
          length,
          special: false,
          minLower: 1,
          minUpper: 1,
          minNumeric: 1,
          keepers: slot === 'a' ? { rotation, user } : { rotation, user, slot },
        });
        p.overrideLogicalId(`${idPrefix}_redis_password_${user}${slot === 'a' ? '' : '_b'}`);
        return p;
      };
      const userSecret = (user: RedisUser | typeof RELOADER_USER, value: string, version: string) => {
        const secretName = `${prefix}-redis-${user}`;
        const secret = new SecretV1(this, `secret-${user}`, {
          metadata: {
            name: secretName,
            namespace: props.namespace,
            labels: standardLabels({ name: 'redis', instance, component: `redis-user-${user}` }),
          },
          type: 'Opaque',
          data: { username: user, password: value },
        });
        secret.overrideLogicalId(`${idPrefix}_redis_secret_${user}`);
        return { secretName, passwordKey: 'password', version };
      };
      for (const user of this.users) {
        const state = rotationState(src.options.rotation?.[user]);
        const slots = { a: password(user, 'a', state.a), b: state.b === undefined ? undefined : password(user, 'b', state.b) };
        // The Secret holds the active slot's password; the ACL file every live slot's hash (the reloader applies them).
        hashes[user] = liveSlots(state).map((slot) => Fn.sha256(slots[slot]!.result));
        this.userSecrets.set(user, {
          user,
          ...userSecret(user, slots[state.active]!.result, `generated:${length}:${activeVersion(state)}`),
        });
      }
      const reloaderPassword = password(RELOADER_USER, 'a', src.options.reloaderRotation ?? '0');
      reloaderSecret = userSecret(RELOADER_USER, reloaderPassword.result, `generated:${length}:${src.options.reloaderRotation ?? '0'}`);
      const aclContent = renderAclFile(hashes, Fn.sha256(reloaderPassword.result));
      this.aclSecretName = `${prefix}-redis-acl`;
      const aclSecret = new SecretV1(this, 'acl', {
        metadata: {
          name: this.aclSecretName,
          namespace: props.namespace,
          labels: standardLabels({ name: 'redis', instance, component: 'redis-acl' }),
        },
        type: 'Opaque',
        data: { [aclKey]: aclContent },
      });
      aclSecret.overrideLogicalId(`${idPrefix}_redis_acl`);
    } else {
      const o = src.options;
      aclKey = o.aclKey ?? 'users.acl';
      this.aclSecretName = o.aclSecretName ?? `${src.prefix}-acl`;
      for (const user of this.users) {
        const secretName = o.secretNames?.[user] ?? `${src.prefix}-${user}`;
        this.userSecrets.set(user, {
          user,
          secretName,
          passwordKey: o.passwordKey ?? 'password',
          version: existingVersion(secretName, o.rotation?.[user]),
        });
      }
      const secretName = o.reloaderSecretName ?? `${src.prefix}-${RELOADER_USER}`;
      reloaderSecret = { secretName, passwordKey: o.passwordKey ?? 'password', version: `existing:${secretName}` };
    }

    this.redisConf = renderRedisConf({
      maxmemoryBytes,
      aclfile: `${ACL_DIR}/${aclKey}`,
      dir: DATA_DIR,
      port: REDIS_PORT,
      save: props.save,
    });
    this.configMapName = `${prefix}-redis-config`;
    new ConfigMapV1(this, 'config', {
      metadata: { name: this.configMapName, namespace: props.namespace, labels },
      data: { 'redis.conf': this.redisConf },
    });

    // One connection ConfigMap per service: where Redis is, who to be, where the password file is, which streams.
    this.serviceConfigMaps = redisConnectionConfigMaps(this, {
      prefix,
      namespace: props.namespace,
      instance,
      endpoint: this.endpoint,
      services: this.services,
      passwordKey: (service) => this.userSecret(service).passwordKey,
    });

    this.dataVolume = protectedDataVolume(this, 'data', {
      name: `${name}-data`,
      namespace: props.namespace,
      labels,
      storageClassName: props.storageClassName,
      storageSize,
      logicalId: `${idPrefix}_redis_data`,
    });

    const service = new ServiceV1(this, 'service', {
      metadata: { name, namespace: props.namespace, labels },
      spec: { type: 'ClusterIP', selector, port: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis', protocol: 'TCP' }] },
    });

    const probeSecret = this.userSecret('healthcheck');
    const sec = { runAsUser: uid };
    // Redis restarts to pick up a changed redis.conf, ACL rules or users, and the reloader's own password: a hash of
    // them (and of the reloader password's version, never its value) is a pod annotation. The users' passwords are
    // not in it: the ACL reloader applies them to the running server (ACL SETUSER), keeping every connection.
    const rulesTemplate = RedisStreams.aclFileTemplate((u) => `<${u}>`, this.users, { reloader: true });
    const configHash = createHash('sha256')
      .update(`${this.redisConf}\n${rulesTemplate}\n${this.aclSecretName}:${aclKey}\n${reloaderSecret.version}`)
      .digest('hex');
    const annotations: Record<string, string> = { 'caracal.dev/config-hash': configHash, 'sidecar.istio.io/inject': 'false' };
    this.statefulSet = new StatefulSetV1(this, 'statefulset', {
      metadata: { name, namespace: props.namespace, labels },
      spec: {
        serviceName: service.metadata.name,
        replicas: '1',
        podManagementPolicy: 'OrderedReady',
        updateStrategy: [{ type: 'RollingUpdate' }],
        selector: { matchLabels: selector },
        template: {
          metadata: { labels, annotations },
          spec: {
            ...HARDENED_POD_SPEC,
            terminationGracePeriodSeconds: grace,
            securityContext: restrictedPodSecurityContext(sec),
            container: [
              {
                name: 'redis',
                image,
                imagePullPolicy: 'IfNotPresent',
                command: [serverBinary],
                args: [`${CONF_DIR}/redis.conf`],
                port: [{ name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' }],
                // Paths only: the probes read the password from the mounted file.
                env: [
                  { name: 'REDIS_PORT', value: String(REDIS_PORT) },
                  { name: 'REDIS_PROBE_PASSWORD_FILE', value: `${PROBE_SECRET_DIR}/${probeSecret.passwordKey}` },
                ],
                resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
                securityContext: restrictedContainerSecurityContext({ ...sec, readOnlyRootFilesystem: true }),
                // A server loading a large AOF answers LOADING: alive, not ready. Liveness never restarts it mid-load.
                startupProbe: {
                  exec: { command: probeCommand(cliBinary, 'PONG|LOADING') },
                  periodSeconds: 5,
                  timeoutSeconds: 5,
                  failureThreshold: 60,
                },
                livenessProbe: {
                  exec: { command: probeCommand(cliBinary, 'PONG|LOADING') },
                  periodSeconds: 10,
                  timeoutSeconds: 5,
                  failureThreshold: 6,
                },
                readinessProbe: {
                  exec: { command: probeCommand(cliBinary, 'PONG') },
                  periodSeconds: 5,
                  timeoutSeconds: 5,
                  failureThreshold: 3,
                },
                volumeMount: [
                  { name: 'data', mountPath: DATA_DIR },
                  { name: 'config', mountPath: CONF_DIR, readOnly: true },
                  { name: 'acl', mountPath: ACL_DIR, readOnly: true },
                  { name: 'healthcheck-password', mountPath: PROBE_SECRET_DIR, readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
              {
                // Applies rotated passwords from the mounted ACL file live (common/redis-acl-reloader.ts).
                name: 'acl-reloader',
                image,
                imagePullPolicy: 'IfNotPresent',
                command: ['sh', '-c', REDIS_ACL_RELOADER_SCRIPT],
                env: [
                  { name: 'ACL_FILE', value: `${ACL_DIR}/${aclKey}` },
                  { name: 'RELOADER_USER', value: RELOADER_USER },
                  { name: 'RELOADER_PASSWORD_FILE', value: `${RELOADER_SECRET_DIR}/${reloaderSecret.passwordKey}` },
                  { name: 'REDIS_CLI', value: cliBinary },
                  { name: 'REDIS_PORT', value: String(REDIS_PORT) },
                  { name: 'RELOAD_INTERVAL', value: String(RELOAD_INTERVAL_SECONDS) },
                ],
                resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
                securityContext: restrictedContainerSecurityContext({ ...sec, readOnlyRootFilesystem: true }),
                volumeMount: [
                  { name: 'acl', mountPath: ACL_DIR, readOnly: true },
                  { name: 'reloader-password', mountPath: RELOADER_SECRET_DIR, readOnly: true },
                ],
              },
            ],
            volume: [
              { name: 'data', persistentVolumeClaim: { claimName: this.dataVolume.metadata.name } },
              { name: 'config', configMap: { name: this.configMapName, defaultMode: '0444' } },
              { name: 'acl', secret: { secretName: this.aclSecretName, defaultMode: '0440' } },
              { name: 'healthcheck-password', secret: { secretName: probeSecret.secretName, defaultMode: '0440' } },
              // Optional: an existing-Secrets Redis keeps running (without live reload) until its owner creates it.
              { name: 'reloader-password', secret: { secretName: reloaderSecret.secretName, defaultMode: '0440', optional: true } },
              { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
            ],
          },
        },
      },
      waitForRollout: false,
    });

    // Default deny both ways; only Caracal's services may connect, and Redis dials out to nobody.
    this.admitting = { name, namespace: props.namespace, labels, pods: selector, port: REDIS_PORT };
    this.networkPolicy = storeNetworkPolicy(this, 'network-policy', {
      name: `${name}-allow-caracal`,
      namespace: props.namespace,
      labels,
      podSelector: selector,
      allowedClients: allowed,
      port: REDIS_PORT,
    });
  }

  /** Where an ACL user's password is (each service mounts only its own). */
  userSecret(user: RedisUser): RedisUserSecretRef {
    return userSecretOf(this, this.userSecrets, this.users, user);
  }

  /** Name of the Secret holding a user's password. */
  secretName(user: RedisUser): string {
    return this.userSecret(user).secretName;
  }

  /** Name of a service's Redis connection ConfigMap (REDIS_HOST ... REDIS_PASSWORD_FILE, stream names). */
  connectionConfigMapName(service: ServiceName): string {
    return connectionConfigMapOf(this, this.serviceConfigMaps, service);
  }

  /** Typed values fragment for a service's chart: its connection ConfigMap and its own password Secret, as files. */
  helmValues(service: ServiceName): RedisServiceHelmValues {
    return redisServiceValues(this.instance, service, this.connectionConfigMapName(service), this.userSecret(service));
  }
}

/**
 * `sh -c` probe as the healthcheck user: the password goes from the mounted file into REDISCLI_AUTH
 * (VALKEYCLI_AUTH for valkey-cli) inside the container only, never into the spec or the process list.
 * redis-cli exits 0 on error replies, so the reply itself is matched.
 */
export function probeCommand(cliBinary: string, accept: string): string[] {
  return [
    'sh',
    '-c',
    `REDISCLI_AUTH="$(cat "$REDIS_PROBE_PASSWORD_FILE")" VALKEYCLI_AUTH="$(cat "$REDIS_PROBE_PASSWORD_FILE")" ` +
      `${cliBinary} --user healthcheck -h 127.0.0.1 -p "$REDIS_PORT" ping 2>&1 | grep -Eq '^(${accept})'`,
  ];
}
