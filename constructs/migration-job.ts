// MigrationJob: the Helm pre-install/pre-upgrade hook that runs `caracal-migrate up` and provisions the
// environment's login roles, as a generated chart (TerraformAsset) installed by a helm_release.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Construct } from 'constructs';
import { AssetType, ITerraformDependable, TerraformAsset, TerraformResource } from 'cdktf';
import { Release } from '@cdktf/provider-helm/lib/release';
import type { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import type { DatabaseSecrets } from './database-secrets';
import type { IPostgresDatabase } from './postgres-database';
import type { HelmConfigMapVolume, HelmVolumeMount, ServicePools } from './service-pools';
import {
  HookChart,
  OBJECT_LIMIT_BYTES,
  RELEASE_SIZE_MARGIN,
  RUNNER_DIR,
  RUNNER_FILE,
  defaultCommand,
  renderHookChart,
  ContainerResources,
} from './internal/hook-chart';
import { writeChartDirectory } from './internal/chart-directory';
import { egressOnlyPolicy } from './internal/network-policy';
import { defaultMigrationsDir, defaultRunnerBundlePath } from './internal/package-files';
import { migrationJobSelector, standardLabels } from './internal/labels';
import { restrictedContainerSecurityContextManifest } from './internal/pod-security';
import { classifyFilename } from '../common/migration-files';
import { PROVISIONED_LOGINS } from '../common/names';
import * as rules from './internal/rules';
import { Problems } from './errors';
import type { Duration } from '../common/durations';
import { checkStackIdentity } from './internal/stack-identity';

/** The public Node image the Job runs by default (official image, pinned; `node` is uid 1000 in it). */
export const DEFAULT_NODE_IMAGE = 'docker.io/library/node:20.19.5-alpine';

/** What the Job's container runs: the public Node image with the chart's runner bundle, or your own image. */
export class MigrationRunnerImage {
  /** A public Node image; the chart carries the runner bundle (dist/caracal-migrate.cjs) in a hook ConfigMap. */
  static publicNode(image: string = DEFAULT_NODE_IMAGE): MigrationRunnerImage {
    return new MigrationRunnerImage({ kind: 'public-node', image });
  }

  /**
   * An image that ships the runner itself (no bundle in the chart). `command` must run `up` with
   * `--dir /opt/caracal/migrations --provision /opt/caracal/runner/provision.json` (the chart mounts both).
   * @default command `caracal-migrate up --wait-for-db=<n>s --dir ... --provision ...` (the CLI on PATH)
   */
  static custom(image: string, options: { command?: readonly string[]; runAsUser?: number } = {}): MigrationRunnerImage {
    return new MigrationRunnerImage({ kind: 'custom', image, command: options.command, runAsUser: options.runAsUser });
  }

  private constructor(
    readonly source:
      { kind: 'public-node'; image: string } | { kind: 'custom'; image: string; command?: readonly string[]; runAsUser?: number },
  ) {}
}

export interface MigrationJobProps {
  /** Environment name (labels, object names). */
  readonly environment: string;
  /** Namespace of the release, the Job and its NetworkPolicy (where the Secrets are). */
  readonly namespace: string;
  /** The database the Job migrates: endpoint, and for an in-cluster instance its pods and policy. */
  readonly database: IPostgresDatabase;
  /**
   * The login Secrets: the owner's password is the Job's PGPASSWORD_FILE; every other login they hold is provisioned
   * (the deployed services', the maintenance, monitoring and backup logins).
   */
  readonly secrets: DatabaseSecrets;
  /** Per-role settings (`ALTER ROLE ... IN DATABASE ... SET`). @default no settings */
  readonly pools?: ServicePools;
  /** The runner image. @default MigrationRunnerImage.publicNode() */
  readonly image?: MigrationRunnerImage;
  /** Directory of `NNNN_name.up.sql` files. @default the package's own `migrations/` */
  readonly migrationsDir?: string;
  /**
   * The built runner bundle the chart carries (publicNode only); synth never builds it.
   * @default the package's own `dist/caracal-migrate.cjs` (made by `npm run build`; shipped in the package)
   */
  readonly runnerBundlePath?: string;
  /** How long the runner retries connecting before it gives up (whole seconds). @default '120s' */
  readonly waitForDb?: Duration;
  /** Pod retries after a failure. @default 1 */
  readonly backoffLimit?: number;
  /** Deadline of one run of the Job (its activeDeadlineSeconds; whole seconds). @default '10min' */
  readonly activeDeadline?: Duration;
  /** Container resources. @default requests cpu 100m / memory 128Mi, limit memory 256Mi */
  readonly resources?: ContainerResources;
  /** Release name; also the prefix of the chart's object names. @default `caracal-<env>-migrate` */
  readonly releaseName?: string;
  /** Releases Helm keeps (each is a Secret with the whole chart). @default 5 */
  readonly maxHistory?: number;
  /** helm_release timeout (whole seconds); synth checks it outlasts the Job. @default activeDeadline x (backoffLimit + 1) + waitForDb + 60s */
  readonly timeout?: Duration;
  /** Where an external database is, for the Job's egress policy. @default ['0.0.0.0/0', '::/0'] (any address, database port only) */
  readonly externalDatabaseCidrs?: readonly string[];
  /** The cluster DNS pods the Job may query. @default kube-system pods labelled k8s-app=kube-dns */
  readonly dns?: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> };
}

/**
 * The init container of a service's pods: `caracal-migrate wait --version <newest migration>` as the service's own
 * login, so a pod of a new version never starts on a schema older than its image (docs/operations.md, "Upgrades
 * without a maintenance window").
 */
export interface SchemaWaitInitContainer {
  readonly name: string;
  readonly image: string;
  readonly imagePullPolicy: 'IfNotPresent';
  readonly command: readonly string[];
  readonly envFrom: ReadonlyArray<{ readonly configMapRef: { readonly name: string } }>;
  readonly volumeMounts: readonly HelmVolumeMount[];
  readonly resources: ContainerResources;
  readonly securityContext: ReturnType<typeof restrictedContainerSecurityContextManifest>;
}

/** The init container's name in every service pod. */
export const SCHEMA_WAIT_CONTAINER = 'caracal-wait-for-schema';
const RUNNER_VOLUME = 'caracal-migrate-runner';

/** Every prop of MigrationJobProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<MigrationJobProps>({
  environment: true,
  namespace: true,
  database: true,
  secrets: true,
  pools: true,
  image: true,
  migrationsDir: true,
  runnerBundlePath: true,
  waitForDb: true,
  backoffLimit: true,
  activeDeadline: true,
  resources: true,
  releaseName: true,
  maxHistory: true,
  timeout: true,
  externalDatabaseCidrs: true,
  dns: true,
});

/** Runs migrations and login provisioning before every install and upgrade of the release. */
export class MigrationJob extends Construct {
  /** The helm_release; services' releases depend on it so they start on a migrated schema. */
  readonly release: Release;
  /** sha256 of everything that reruns the Job (a release value, so `terraform plan` shows a change). */
  readonly contentHash: string;
  /** Bytes of Helm's release record for this chart (limit 1 MiB). */
  readonly releaseSizeBytes: number;
  /** The generated chart (files, manifests), for inspection and tests. */
  readonly chart: HookChart;
  /** Labels of the Job's pod (what the Postgres NetworkPolicy admits). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The Job pod's egress policy (database and DNS only). */
  readonly networkPolicy: NetworkPolicyV1;
  /** The helm_release timeout in seconds. */
  readonly timeoutSeconds: number;
  /** The generated chart on disk, in the app's outdir (`caracal-hook-charts/`); the TerraformAsset copies it into the stack. */
  readonly chartDirectory: string;
  /** The newest migration version the chart applies (decimal): what the services' init container waits for. */
  readonly schemaVersion: string;
  private readonly runner: {
    readonly image: string;
    readonly command: readonly string[];
    readonly configMap?: string;
    readonly runAsUser: number;
  };

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'MigrationJob prop');
    const env = props.environment;
    rules.environmentName(problems, 'environment', env);
    rules.namespace(problems, 'namespace', props.namespace);
    const releaseName = props.releaseName ?? `caracal-${env}-migrate`;
    // The chart's object names are `<release>-runner`, `<release>-migrations`, `<release>-egress`.
    rules.dnsLabel(problems, 'releaseName', releaseName, 'Helm release name usable as an object prefix', 46);

    const image = props.image ?? MigrationRunnerImage.publicNode();
    const src = image.source;
    rules.pinnedImage(problems, 'image', src.image);

    const backoffLimit = props.backoffLimit ?? 1;
    const maxHistory = props.maxHistory ?? 5;
    const waitForDb = rules.durationSeconds(problems, 'waitForDb', props.waitForDb ?? '120s', 1, 3600) ?? NaN;
    rules.integer(problems, 'backoffLimit', backoffLimit, 0, 10);
    const deadline = rules.durationSeconds(problems, 'activeDeadline', props.activeDeadline ?? '10min', 30, 86_400) ?? NaN;
    rules.integer(problems, 'maxHistory', maxHistory, 1, 100);
    if (deadline <= waitForDb + 30) {
      problems.add(
        'activeDeadline',
        props.activeDeadline ?? '10min',
        `leaves no time to migrate after waiting up to ${waitForDb} s for the database: expected more than waitForDb + 30s`,
      );
    }
    const minTimeout = deadline * (backoffLimit + 1) + waitForDb;
    const timeout =
      props.timeout === undefined ? minTimeout + 60 : rules.durationSeconds(problems, 'timeout', props.timeout, 1, 86_400 * 12);
    if (timeout !== undefined && Number.isFinite(minTimeout) && !(timeout > minTimeout)) {
      problems.add(
        'timeout',
        props.timeout,
        `is not longer than the Job can run: activeDeadline ${deadline} s x (backoffLimit ${backoffLimit} + 1) + waitForDb ${waitForDb} s = ${minTimeout} s; Helm would give up (and roll back) while the Job still runs`,
      );
    }

    const resources = props.resources ?? { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } };
    // Node and the runner need about 64Mi.
    rules.resources(problems, 'resources', resources, {
      limitRequired: 'expected a quantity such as 256Mi (Node needs about 64Mi for the runner)',
      minLimit: '64Mi',
      example: '256Mi',
    });

    const runAsUser = src.kind === 'custom' ? (src.runAsUser ?? 1000) : 1000;
    rules.nonRootUid(problems, 'image.runAsUser', runAsUser);
    let command: string[] = defaultCommand(waitForDb);
    if (src.kind === 'custom') {
      command = src.command ? [...src.command] : ['caracal-migrate', ...defaultCommand(waitForDb).slice(2)];
      if (command.length === 0 || command.some((c) => typeof c !== 'string' || c === ''))
        problems.add('image.command', src.command, 'is not a command: expected a non-empty list of non-empty strings');
    }

    const cidrs = props.externalDatabaseCidrs ?? ['0.0.0.0/0', '::/0'];
    cidrs.forEach((c, i) => rules.cidr(problems, `externalDatabaseCidrs[${i}]`, c));
    if (cidrs.length === 0) problems.add('externalDatabaseCidrs', cidrs, 'is empty: the Job could not reach the database');
    // The DNS egress rule: a bad namespace or label only fails at apply, and an empty selector admits every pod there.
    if (props.dns !== undefined) {
      rules.knownKeys(problems, 'dns', props.dns, ['namespace', 'podLabels'], 'dns key');
      rules.namespace(problems, 'dns.namespace', props.dns.namespace);
      rules.podSelector(problems, 'dns.podLabels', props.dns.podLabels, 'the DNS pods\' labels, e.g. { "k8s-app": "kube-dns" }');
    }

    const migrationsDir = path.resolve(props.migrationsDir ?? defaultMigrationsDir());
    const migrations = readMigrations(problems, migrationsDir);
    let runnerBundle: Buffer | undefined;
    if (src.kind === 'public-node') {
      // Built by `npm run build` (shipped in the package's dist/), never at synth.
      const bundlePath = path.resolve(props.runnerBundlePath ?? defaultRunnerBundlePath());
      try {
        runnerBundle = readFileSync(bundlePath);
      } catch {
        problems.add(
          'runnerBundlePath',
          bundlePath,
          'does not exist: run `npm run build` (it bundles the runner the Job carries), or use MigrationRunnerImage.custom() with an image that ships it',
        );
      }
    } else if (props.runnerBundlePath !== undefined) {
      problems.add(
        'runnerBundlePath',
        props.runnerBundlePath,
        'is set with MigrationRunnerImage.custom(): the custom image ships the runner; remove runnerBundlePath',
      );
    }
    problems.throwIfAny();

    const instance = `caracal-${env}`;
    this.podLabels = migrationJobSelector(instance);
    const endpoint = props.database.endpoint;
    const owner = props.secrets.login('owner');
    const settingsByRole = new Map((props.pools?.roleSettings() ?? []).map((r) => [r.role, r.settings]));
    // Only the logins that exist: a service that is not deployed (DatabaseSecrets `services`) gets no login.
    const provisioned = PROVISIONED_LOGINS.filter((l) => props.secrets.hasLogin(l));
    const secretVersions: Record<string, string> = { owner: owner.version };
    // Every slot's version (one slot: the login's version as before), so a token bump or a retirement reruns the Job.
    for (const l of provisioned)
      secretVersions[l] = props.secrets
        .loginSlots(l)
        .map((s) => s.version)
        .join(' ');

    this.chart = renderHookChart({
      name: releaseName,
      labels: standardLabels({ name: 'caracal-migrate', instance, component: 'migration' }),
      podLabels: this.podLabels,
      runnerBundle,
      migrations,
      owner: { username: owner.username, secretName: owner.secretName, passwordKey: owner.passwordKey },
      // Both slots of an alternating login, members of the same group role with the same settings.
      logins: provisioned.flatMap((login) => {
        const l = props.secrets.login(login);
        return props.secrets.loginSlots(login).map((slot) => ({
          loginRole: slot.username,
          groupRole: l.groupRole,
          secretName: slot.secretName,
          passwordKey: slot.passwordKey,
          settings: settingsByRole.get(l.username) ?? {},
          ...(slot.retireAfterSeconds !== undefined ? { retireAfterSeconds: slot.retireAfterSeconds } : {}),
        }));
      }),
      database: endpoint,
      image: src.image,
      command,
      waitForDbSeconds: waitForDb,
      backoffLimit,
      activeDeadlineSeconds: deadline,
      resources,
      runAsUser,
      configMapWeight: -10,
      jobWeight: 0,
      secretVersions,
    });
    this.schemaVersion = migrations
      .map((m) => classifyFilename(m.name))
      .reduce((max, v) => (v.kind === 'migration' && v.version > max ? v.version : max), 0n)
      .toString();
    this.runner =
      src.kind === 'public-node'
        ? { image: src.image, command: ['node', `${RUNNER_DIR}/${RUNNER_FILE}`], configMap: `${releaseName}-runner`, runAsUser }
        : { image: src.image, command: ['caracal-migrate'], runAsUser };
    this.contentHash = this.chart.contentHash;
    this.releaseSizeBytes = this.chart.releaseSizeBytes;
    this.timeoutSeconds = timeout ?? minTimeout + 60;

    const budget = Math.floor(OBJECT_LIMIT_BYTES * RELEASE_SIZE_MARGIN);
    if (this.releaseSizeBytes > budget) {
      problems.addMessage(
        'migrationsDir',
        `the Helm release record would be ${this.releaseSizeBytes} bytes (base64 of gzipped release JSON, hooks included), over ${budget} bytes ` +
          `(${Math.round(RELEASE_SIZE_MARGIN * 100)}% of Kubernetes' 1 MiB Secret limit): squash applied migrations into a new baseline, or ship the runner in your image (MigrationRunnerImage.custom)`,
      );
    }
    for (const [name, bytes] of Object.entries(this.chart.configMapBytes)) {
      if (bytes > budget)
        problems.addMessage(
          name.endsWith('-runner') ? 'runnerBundlePath' : 'migrationsDir',
          `ConfigMap ${name} would hold ${bytes} bytes, over ${budget} (${Math.round(RELEASE_SIZE_MARGIN * 100)}% of the 1 MiB object limit)`,
        );
    }
    problems.throwIfAny();

    this.chartDirectory = writeChartDirectory(this, releaseName, this.chart.files);
    const asset = new TerraformAsset(this, 'chart', { path: this.chartDirectory, type: AssetType.DIRECTORY });

    this.networkPolicy = egressOnlyPolicy(this, 'network-policy', {
      name: `${releaseName}-egress`,
      namespace: props.namespace,
      labels: standardLabels({ name: 'caracal-migrate', instance, component: 'migration' }),
      podSelector: { ...this.podLabels },
      database:
        props.database.podLabels !== undefined
          ? { port: endpoint.port, pods: stableLabels(props.database.podLabels) }
          : { port: endpoint.port, cidrs },
      dns: props.dns ?? { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
    });

    const dependsOn: ITerraformDependable[] = [this.networkPolicy, ...resourcesUnder(props.secrets), ...resourcesUnder(props.database)];
    this.release = new Release(this, 'release', {
      name: releaseName,
      namespace: props.namespace,
      chart: asset.path,
      description: 'Caracal migration Job (caracal-migrate up + login provisioning), pre-install/pre-upgrade hook',
      atomic: true,
      wait: true,
      waitForJobs: true,
      cleanupOnFail: true,
      maxHistory,
      timeout: this.timeoutSeconds,
      set: [{ name: 'contentHash', value: this.contentHash, type: 'string' }],
      dependsOn,
    });
  }

  /**
   * The init container for a service's pods, with the volume it needs besides the service's own (the runner bundle's
   * ConfigMap, for the public Node image; a custom image must have `caracal-migrate` on its PATH). `service` is the
   * service's connection as its pods have it: the ConfigMap with PGHOST ... PGPASSWORD_FILE, and the mounts of its
   * password (and CA). It waits as long as this Job's release may run (`timeoutSeconds`), then exits 3 naming the
   * version it saw, and the kubelet restarts it. The pod must let the container's uid read the password file
   * (fsGroup), as the service container itself must.
   */
  schemaWait(service: {
    readonly envFrom: ReadonlyArray<{ readonly configMapRef: { readonly name: string } }>;
    readonly volumeMounts: readonly HelmVolumeMount[];
  }): { readonly initContainer: SchemaWaitInitContainer; readonly volumes: readonly HelmConfigMapVolume[] } {
    const runnerMount: HelmVolumeMount[] = this.runner.configMap ? [{ name: RUNNER_VOLUME, mountPath: RUNNER_DIR, readOnly: true }] : [];
    return {
      initContainer: {
        name: SCHEMA_WAIT_CONTAINER,
        image: this.runner.image,
        imagePullPolicy: 'IfNotPresent',
        command: [...this.runner.command, 'wait', '--version', this.schemaVersion, '--timeout', `${this.timeoutSeconds}s`],
        envFrom: service.envFrom.map((e) => ({ configMapRef: { name: e.configMapRef.name } })),
        volumeMounts: [...service.volumeMounts.map((m) => ({ ...m })), ...runnerMount],
        resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '128Mi' } },
        securityContext: restrictedContainerSecurityContextManifest({ runAsUser: this.runner.runAsUser, readOnlyRootFilesystem: true }),
      },
      volumes: this.runner.configMap ? [{ name: RUNNER_VOLUME, configMap: { name: this.runner.configMap, defaultMode: 0o444 } }] : [],
    };
  }
}

function readMigrations(problems: Problems, dir: string): { name: string; content: Buffer }[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort();
  } catch {
    problems.add('migrationsDir', dir, 'is not a readable directory: expected the directory of NNNN_name.up.sql files');
    return [];
  }
  const files = names.filter((n) => statSync(path.join(dir, n)).isFile());
  // The runner's own grammar (common/migration-files.ts): a file it would refuse fails synth, not the Job.
  const bad = files.filter((n) => classifyFilename(n).kind !== 'migration');
  if (bad.length > 0)
    problems.add('migrationsDir', dir, `holds files the runner would refuse: ${bad.join(', ')} (expected NNNN_name.up.sql)`);
  if (files.length === 0) problems.add('migrationsDir', dir, 'has no migration files: expected at least 0001_baseline.up.sql');
  return files.filter((n) => !bad.includes(n)).map((name) => ({ name, content: readFileSync(path.join(dir, name)) }));
}

/** Labels fit for a selector: never `managed-by`, which changes with tooling (see internal/labels). */
function stableLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'app.kubernetes.io/managed-by'));
}

function resourcesUnder(scope: Construct): TerraformResource[] {
  return scope.node.findAll().filter((c): c is TerraformResource => c instanceof TerraformResource);
}
