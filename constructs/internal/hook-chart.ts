// The migration Job's Helm chart as pure functions: hook ConfigMaps (runner bundle, migrations, provisioning
// config as base64 binaryData) and the hook Job, deterministic YAML, the content hash, and Helm's release size.
import { createHash } from 'node:crypto';
import { gzipSync, constants as zlibConstants } from 'node:zlib';
import { stringify } from 'yaml';
import { normalizeSql } from '../../common/migration-files';
import { MANIFEST_FILENAME, renderManifest } from '../../common/migration-manifest';
import { memoByContent } from './content-memo';
import { restrictedContainerSecurityContextManifest, restrictedPodSecurityContextManifest } from './pod-security';
import { PgConnection } from './pg-connection';
import type { PostgresEndpoint } from '../postgres-instance';

/** Where the Job's files are inside the container. */
export const RUNNER_DIR = '/opt/caracal/runner';
export const MIGRATIONS_DIR = '/opt/caracal/migrations';
export const SECRETS_DIR = '/var/run/secrets/caracal';
export const RUNNER_FILE = 'caracal-migrate.cjs';
export const PROVISION_FILE = 'provision.json';
/** Kubernetes caps a Secret (Helm's release record) and a ConfigMap at 1 MiB. */
export const OBJECT_LIMIT_BYTES = 1024 * 1024;
/** Synth fails above this share of the limit: Go's gzip and zlib differ slightly, and the next release adds migrations. */
export const RELEASE_SIZE_MARGIN = 0.9;
/** Go template action that puts the release value into the Job; the only template action in the chart. */
const HASH_TEMPLATE = '{{ .Values.contentHash | quote }}';
const HASH_PLACEHOLDER = '__CARACAL_CONTENT_HASH__';

export interface MigrationFile {
  /** File name, e.g. `0001_baseline.up.sql` (a ConfigMap key). */
  readonly name: string;
  readonly content: Buffer;
}

export interface ProvisionLogin {
  readonly loginRole: string;
  readonly groupRole: string;
  /** Secret holding the login's password and the key of the password in it. */
  readonly secretName: string;
  readonly passwordKey: string;
  readonly settings: Readonly<Record<string, string>>;
  /** The inactive slot of an alternating login being retired: its grace in seconds (provision.json). */
  readonly retireAfterSeconds?: number;
}

export interface ContainerResources {
  readonly requests?: { readonly cpu?: string; readonly memory?: string };
  readonly limits?: { readonly cpu?: string; readonly memory?: string };
}

export interface HookChartSpec {
  /** Chart name and the prefix of every object name (a DNS-1123 label). */
  readonly name: string;
  /** Labels of every object; the pod also gets `podLabels`. */
  readonly labels: Readonly<Record<string, string>>;
  /** Labels the Job's pod carries (the Postgres NetworkPolicy and the Job's egress policy select them). */
  readonly podLabels: Readonly<Record<string, string>>;
  /** The runner bundle (dist/caracal-migrate.cjs); undefined when a custom image ships the runner. */
  readonly runnerBundle?: Buffer;
  readonly migrations: readonly MigrationFile[];
  /** The owner (migrator) login: role name, Secret and password key. */
  readonly owner: { readonly username: string; readonly secretName: string; readonly passwordKey: string };
  /** Service logins the Job provisions after migrating. */
  readonly logins: readonly ProvisionLogin[];
  /** Where the database is (the Job's PG* connection). */
  readonly database: PostgresEndpoint;
  readonly image: string;
  /** The container command; `defaultCommand()` unless overridden. */
  readonly command: readonly string[];
  readonly waitForDbSeconds: number;
  readonly backoffLimit: number;
  readonly activeDeadlineSeconds: number;
  readonly resources: ContainerResources;
  /** Numeric uid/gid of the container (1000 is `node` in the official Node images). */
  readonly runAsUser: number;
  /** Hook weights: the ConfigMaps' must be lower than the Job's. */
  readonly configMapWeight: number;
  readonly jobWeight: number;
  /** Version tokens of the Secrets the Job reads (a rotated password reruns it); never the values. */
  readonly secretVersions: Readonly<Record<string, string>>;
}

export interface HookChart {
  /** Chart files by path relative to the chart directory, in sorted order. */
  readonly files: ReadonlyMap<string, string>;
  /** sha256 (hex) over everything that should rerun the Job. */
  readonly contentHash: string;
  /** Objects of the chart as Helm renders them (the hash filled in), in install order. */
  readonly manifests: readonly KubeObject[];
  /** Bytes of Helm's release record (base64 of gzipped JSON) for one release of this chart (see releaseSize). */
  readonly releaseSizeBytes: number;
  /** The same, from gzipping the whole record (slow: for tests and benches). */
  readonly wholeReleaseSizeBytes: () => number;
  /** Raw data bytes per ConfigMap name (the 1 MiB limit applies to each). */
  readonly configMapBytes: Readonly<Record<string, number>>;
}

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: unknown }; [k: string]: unknown };

/** The default container command: migrate, then provision the logins, in one Node process. */
export function defaultCommand(waitForDbSeconds: number): string[] {
  return [
    'node',
    `${RUNNER_DIR}/${RUNNER_FILE}`,
    'up',
    `--wait-for-db=${waitForDbSeconds}s`,
    '--dir',
    MIGRATIONS_DIR,
    '--provision',
    `${RUNNER_DIR}/${PROVISION_FILE}`,
  ];
}

/** Where a login's password file is mounted in the Job's container. */
export function loginPasswordPath(loginRole: string): string {
  return `${SECRETS_DIR}/logins/${loginRole}/password`;
}

/** provision.json: the logins the Job provisions (paths, never passwords). */
export function provisionConfig(spec: HookChartSpec) {
  return {
    version: 1 as const,
    logins: spec.logins.map((l) => ({
      loginRole: l.loginRole,
      groupRole: l.groupRole,
      passwordFile: loginPasswordPath(l.loginRole),
      settings: sortKeys(l.settings),
      ...(l.retireAfterSeconds !== undefined ? { retireAfterSeconds: l.retireAfterSeconds } : {}),
    })),
  };
}

/** Renders the chart. Pure: the same spec gives byte-identical files. */
export function renderHookChart(spec: HookChartSpec): HookChart {
  // Helm runs the objects as pre-install/pre-upgrade hooks; Argo CD (which renders the chart with `helm template` and
  // applies it itself) as PreSync hooks in the same order. Both delete the previous run's objects only when the next
  // run starts, so the last run's Job, and its pod's logs, stay until then.
  const hookAnnotations = (weight: number) => ({
    'argocd.argoproj.io/hook': 'PreSync',
    'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
    'argocd.argoproj.io/sync-wave': String(weight),
    'helm.sh/hook': 'pre-install,pre-upgrade',
    'helm.sh/hook-delete-policy': 'before-hook-creation',
    'helm.sh/hook-weight': String(weight),
  });
  const runnerName = `${spec.name}-runner`;
  const migrationsName = `${spec.name}-migrations`;
  const runnerData: Record<string, string> = { [PROVISION_FILE]: b64(Buffer.from(`${JSON.stringify(provisionConfig(spec), null, 2)}\n`)) };
  if (spec.runnerBundle) runnerData[RUNNER_FILE] = fileBase64(spec.runnerBundle);
  const migrationData: Record<string, string> = {};
  for (const m of spec.migrations) migrationData[m.name] = fileBase64(m.content);
  // The checksum manifest, from the same bytes: `up` in the Job takes applied files' checksums from it (docs/runner.md).
  migrationData[MANIFEST_FILENAME] = b64(Buffer.from(migrationManifest(spec.migrations)));

  const configMap = (name: string, binaryData: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { ...spec.labels }, annotations: hookAnnotations(spec.configMapWeight) },
    binaryData,
    immutable: true,
  });

  // The owner's connection (PGPASSWORD_FILE on its Secret, the CA when given): the one PG* contract.
  const connection = new PgConnection({
    endpoint: spec.database,
    login: spec.owner,
    password: { volume: 'owner-password', dir: `${SECRETS_DIR}/owner`, file: 'password' },
    ca: { volume: 'ca-cert', dir: `${SECRETS_DIR}/ca`, file: 'ca.crt' },
    extraEnv: [{ name: 'HOME', value: '/tmp' }],
  });
  const [ownerVolume, ...caVolumes] = connection.manifestVolumes();
  const [ownerMount, ...caMounts] = connection.mounts;
  const loginVolume = (name: string, secretName: string, key: string) => ({
    name,
    secret: { secretName, items: [{ key, path: 'password' }], defaultMode: 0o440 },
  });
  const volumes: object[] = [
    { name: 'runner', configMap: { name: runnerName, defaultMode: 0o444 } },
    { name: 'migrations', configMap: { name: migrationsName, defaultMode: 0o444 } },
    ownerVolume,
    ...spec.logins.map((l, i) => loginVolume(`login-${i}`, l.secretName, l.passwordKey)),
    ...caVolumes,
    { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
  ];
  const volumeMounts: object[] = [
    { name: 'runner', mountPath: RUNNER_DIR, readOnly: true },
    { name: 'migrations', mountPath: MIGRATIONS_DIR, readOnly: true },
    ownerMount,
    ...spec.logins.map((l, i) => ({ name: `login-${i}`, mountPath: `${SECRETS_DIR}/logins/${l.loginRole}`, readOnly: true })),
    ...caMounts,
    { name: 'tmp', mountPath: '/tmp' },
  ];
  const env = connection.env;

  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: spec.name, labels: { ...spec.labels }, annotations: hookAnnotations(spec.jobWeight) },
    spec: {
      backoffLimit: spec.backoffLimit,
      activeDeadlineSeconds: spec.activeDeadlineSeconds,
      template: {
        metadata: {
          labels: { ...spec.labels, ...spec.podLabels },
          annotations: {
            'caracal.dev/content-hash': HASH_PLACEHOLDER,
            // A mesh sidecar never exits, so the Job would never complete; the Job talks to Postgres only.
            'linkerd.io/inject': 'disabled',
            'sidecar.istio.io/inject': 'false',
          },
        },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurityContextManifest({ runAsUser: spec.runAsUser }),
          containers: [
            {
              name: 'migrate',
              image: spec.image,
              imagePullPolicy: 'IfNotPresent',
              command: [...spec.command],
              env: env.map((e) => ({ ...e })),
              resources: spec.resources,
              securityContext: restrictedContainerSecurityContextManifest({ runAsUser: spec.runAsUser, readOnlyRootFilesystem: true }),
              volumeMounts,
            },
          ],
          volumes,
        },
      },
    },
  };

  const objects = new Map<string, KubeObject>([
    ['templates/configmap-runner.yaml', configMap(runnerName, runnerData)],
    ['templates/configmap-migrations.yaml', configMap(migrationsName, migrationData)],
    ['templates/job.yaml', job],
  ]);
  // ConfigMaps as JSON (valid YAML; emitting their large base64 values as YAML costs tens of ms per synth).
  const templates = new Map(
    [...objects].map(([p, o]) => [p, o.kind === 'ConfigMap' ? configMapJson(o) : toYaml(o).replace(HASH_PLACEHOLDER, HASH_TEMPLATE)]),
  );
  const contentHash = hashOf(templates, spec.secretVersions);
  const chartYaml = toYaml({
    apiVersion: 'v2',
    name: spec.name,
    description:
      'Caracal migration Job: caracal-migrate up and login provisioning as a pre-install/pre-upgrade hook (generated; do not edit)',
    type: 'application',
    version: '1.0.0',
    appVersion: contentHash.slice(0, 12),
  });
  const files = new Map<string, string>([['Chart.yaml', chartYaml], ...[...templates].sort(byKey), ['values.yaml', VALUES_YAML]]);

  // What Helm renders (releaseRecord fills in the one template action): the objects with the hash in place.
  const manifests = [...objects.values()].map((o) => withHash(o, contentHash));
  return {
    files: new Map([...files].sort(byKey)),
    contentHash,
    manifests,
    releaseSizeBytes: releaseSize(spec.name, templates, objects, contentHash),
    wholeReleaseSizeBytes: () => wholeReleaseSize(spec.name, templates, objects, contentHash),
    configMapBytes: { [runnerName]: rawBytes(runnerData), [migrationsName]: rawBytes(migrationData) },
  };
}

/** ConfigMap values at least this long are compressed apart from the rest in releaseSize (deflate's window is 32 KiB). */
const SEPARATE_VALUE_CHARS = 16 * 1024;
/** Gzipped size of a ConfigMap's large values as they appear in the release (verbatim, and base64 again), by their text. */
const separateSizes = new Map<string, number>();

const gzipBytes = (data: Buffer) => gzipSync(data, { level: zlibConstants.Z_BEST_COMPRESSION }).length;

function separateSize(value: string): number {
  let size = separateSizes.get(value);
  if (size === undefined) {
    const raw = Buffer.from(value);
    size = gzipBytes(raw) + gzipBytes(Buffer.from(b64(raw)));
    separateSizes.set(value, size);
  }
  return size;
}

/** Bytes of the Secret's `release` value: base64 of `gzippedBytes`. */
const base64Bytes = (gzippedBytes: number) => Math.ceil(gzippedBytes / 3) * 4;

/**
 * Helm 3 stores each release as a Secret `sh.helm.release.v1.<name>.v<n>` whose `release` key is
 * base64(gzip(JSON of the release)): chart metadata, templates (base64), values, config, manifest and
 * every hook with its rendered manifest. This is that JSON for the given template texts (`texts`, by path; the
 * hooks' manifests are the same texts as Helm renders them, in `objects`' order).
 */
function releaseRecord(
  name: string,
  texts: ReadonlyMap<string, string>,
  objects: ReadonlyMap<string, KubeObject>,
  contentHash: string,
): string {
  const time = '2026-01-01T00:00:00.000000000Z';
  const release = {
    name,
    info: { first_deployed: time, last_deployed: time, deleted: '', description: 'Install complete', status: 'deployed' },
    chart: {
      metadata: {
        name,
        version: '1.0.0',
        description: 'x'.repeat(120),
        apiVersion: 'v2',
        appVersion: contentHash.slice(0, 12),
        type: 'application',
      },
      lock: null,
      templates: [...texts].sort(byKey).map(([p, data]) => ({ name: p, data: b64(Buffer.from(data)) })),
      values: { contentHash: '' },
      schema: null,
      files: [],
    },
    config: { contentHash },
    manifest: '',
    hooks: [...objects].map(([p, obj]) => {
      const weight = Number((obj.metadata.annotations as Record<string, string>)['helm.sh/hook-weight']);
      return {
        name: obj.metadata.name,
        kind: obj.kind,
        path: p,
        manifest: `---\n# Source: ${name}/${p}\n${texts.get(p)!.replace(HASH_TEMPLATE, JSON.stringify(contentHash))}`,
        events: ['pre-install', 'pre-upgrade'],
        last_run: { started_at: time, completed_at: time, phase: 'Succeeded' },
        weight,
        delete_policies: ['before-hook-creation'],
      };
    }),
    version: 1,
    namespace: 'caracal-namespace-of-typical-length',
  };
  return JSON.stringify(release);
}

/** The release record's size computed as Helm stores it: gzip at best compression of the whole record. */
function wholeReleaseSize(
  name: string,
  templates: ReadonlyMap<string, string>,
  objects: ReadonlyMap<string, KubeObject>,
  contentHash: string,
): number {
  return base64Bytes(gzipBytes(Buffer.from(releaseRecord(name, templates, objects, contentHash))));
}

/**
 * The release record's size as synth reports it: as wholeReleaseSize, except that each ConfigMap's large values
 * (the runner bundle, the large migration files, with whatever lies between them) are compressed apart from the
 * rest, once per process, and their size added. Every environment ships the same bundle and files, and deflate
 * cannot reach back further than 32 KiB, so they compress apart as they do inside the record (verbatim in the
 * hook's manifest, base64 again in the template); within 0.1% of wholeReleaseSize. Gzipping each environment's
 * whole 1.2 MB record cost 60-90 ms.
 */
function releaseSize(
  name: string,
  templates: ReadonlyMap<string, string>,
  objects: ReadonlyMap<string, KubeObject>,
  contentHash: string,
): number {
  let separate = 0;
  const thin = new Map(templates);
  for (const [p, o] of objects) {
    if (o.kind !== 'ConfigMap') continue;
    const large = Object.entries(o.binaryData as Record<string, string>)
      .sort(byKey)
      .map(([, v]) => v)
      .filter((v) => v.length >= SEPARATE_VALUE_CHARS);
    if (large.length === 0) continue;
    // The manifest's text from its first large value to the end of its last, verbatim (the small values between
    // them too): neighbouring migration files share text, and deflate finds a repeat in the base64 of the base64
    // only at the distances the record has.
    const text = templates.get(p)!;
    const start = indexOfLong(text, large[0]);
    const end = lastIndexOfLong(text, large[large.length - 1]) + large[large.length - 1].length;
    separate += separateSize(text.slice(start, end));
    thin.set(p, text.slice(0, start) + text.slice(end));
  }
  return base64Bytes(gzipBytes(Buffer.from(releaseRecord(name, thin, objects, contentHash))) + separate);
}

function hashOf(templates: Map<string, string>, secretVersions: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const [p, t] of [...templates].sort(byKey)) h.update(`${p}\0${t.length}\0${t}\0`);
  h.update(JSON.stringify(sortKeys(secretVersions)));
  return h.digest('hex');
}

/** The part of a long value that indexOfLong and lastIndexOfLong search for before comparing the whole. */
const HEAD_CHARS = 64;

/**
 * text.indexOf(needle) for a needle of hundreds of KB: candidates by the needle's head, each confirmed by comparing the
 * slice (V8 compares equal-length strings in bulk; startsWith compares character by character, slower than indexOf).
 */
export function indexOfLong(text: string, needle: string): number {
  const head = needle.slice(0, HEAD_CHARS);
  for (let i = text.indexOf(head); i !== -1; i = text.indexOf(head, i + 1)) if (text.slice(i, i + needle.length) === needle) return i;
  return -1;
}

/** text.lastIndexOf(needle), as indexOfLong from the needle's tail (searched backwards from the end of the text). */
export function lastIndexOfLong(text: string, needle: string): number {
  const tail = needle.slice(-HEAD_CHARS);
  for (let j = text.lastIndexOf(tail); j !== -1; j = j === 0 ? -1 : text.lastIndexOf(tail, j - 1)) {
    const i = j + tail.length - needle.length;
    if (i >= 0 && text.slice(i, i + needle.length) === needle) return i;
  }
  return -1;
}

/** binaryData values at least this long are spliced into a ConfigMap's JSON instead of stringified (configMapJson). */
const SPLICE_CHARS = 4 * 1024;
const SPLICE_MARK = '__CARACAL_BASE64_';

/**
 * toJsonManifest of one of this chart's ConfigMaps: its binaryData values are base64 (made here), which JSON writes
 * as they are, so the long ones are put in after JSON.stringify instead of being scanned by it (about 0.85 ms per
 * 500 KB, for every environment). Byte for byte toJsonManifest's text; when a marker is not found exactly once (a
 * name that contains one), toJsonManifest itself.
 */
function configMapJson(o: KubeObject): string {
  const long: string[] = [];
  const binaryData = Object.fromEntries(
    Object.entries(o.binaryData as Record<string, string>).map(([k, v]) => [
      k,
      v.length < SPLICE_CHARS ? v : `${SPLICE_MARK}${long.push(v) - 1}__`,
    ]),
  );
  const parts = toJsonManifest({ ...o, binaryData }).split(new RegExp(`"${SPLICE_MARK}(\\d+)__"`));
  // split with a capture group: text, index, text, index, ..., text; each index once.
  const indices = parts.filter((_, i) => i % 2 === 1);
  if (indices.length !== long.length || new Set(indices).size !== long.length || indices.some((t) => !(Number(t) < long.length)))
    return toJsonManifest(o);
  return parts.map((t, i) => (i % 2 === 0 ? t : `"${long[Number(t)]}"`)).join('');
}

/** JSON with sorted keys, one line per key at the top level (a valid YAML document). */
export function toJsonManifest(value: KubeObject): string {
  return `${JSON.stringify(sortDeep(value), null, 2)}\n`;
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, sortDeep(x)]),
    );
  return v;
}

/** YAML with sorted keys and no line folding (stable output, long base64 lines kept whole). */
export function toYaml(value: unknown): string {
  return stringify(value, { sortMapEntries: true, lineWidth: 0, minContentWidth: 0, singleQuote: false });
}

/** values.yaml: the one value, set by the helm_release; the same for every chart. */
const VALUES_YAML = `# Set by the helm_release from the construct; a change reruns the Job.\n${toYaml({ contentHash: '' })}`;

/** A copy of `o` with the content-hash placeholder replaced (the only templated value). */
function withHash(o: KubeObject, contentHash: string): KubeObject {
  if (o.kind !== 'Job') return o;
  return JSON.parse(JSON.stringify(o).split(HASH_PLACEHOLDER).join(contentHash)) as KubeObject;
}

function byKey<T>([a]: [string, T], [b]: [string, T]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A migration file's checksum as the runner computes it (UTF-8, BOM dropped, LF line endings), once per content. */
const migrationChecksum = memoByContent((content) => sha256Hex(normalizeSql(content.toString('utf8'))));

/** common/migration-manifest.ts over the files as the runner reads them. */
export function migrationManifest(migrations: readonly MigrationFile[]): string {
  return renderManifest(
    migrations.map((m) => ({ filename: m.name, checksum: migrationChecksum(m.content) })),
    sha256Hex,
  );
}

function b64(data: Buffer): string {
  return data.toString('base64');
}

/** base64 of a file the chart ships (the runner bundle, a migration), once per content: every environment ships the same. */
const fileBase64 = memoByContent(b64);

function rawBytes(binaryData: Record<string, string>): number {
  // The decoded length, from the base64 text's length and padding (no decoding).
  return Object.entries(binaryData).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v, 'base64'), 0);
}

function sortKeys<T extends Record<string, unknown>>(o: Readonly<T>): T {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as T;
}
