// The constructs' one rule library: each domain check (environment name, namespace, DNS names, Secret names and
// keys, pinned images, Kubernetes quantities, durations, logical-id prefixes, rotation tokens, label selectors)
// is written once, with the one wording of its problem. A rule records a problem and returns the parsed value
// (or whether the value is valid), so a construct reports every problem at once.
import { Problems as ProblemsOf } from '../errors';
import type { Problems } from '../errors';
import { DURATION_UNITS_ACCEPTED, parseCpu, parseDuration, parseQuantity } from '../../common/units';
import { ENVIRONMENT_NAME_ACCEPTED, ENVIRONMENT_NAME_PATTERN, SERVICES, ServiceName } from '../../common/names';
import { ALTERNATING_ROTATION_KEYS, ROTATION_SLOTS } from '../../common/rotation';

// ---- Names ------------------------------------------------------------------------------------

/** Environment names become part of SQL role names and Kubernetes names (the grammar is shared with doctor --environment). */
export const ENVIRONMENT_NAME = ENVIRONMENT_NAME_PATTERN;

/** DNS-1123 label (namespaces, Service names, name prefixes). */
const DNS_LABEL_CHARS = 'lower-case letters, digits and "-"';
function dnsLabelPattern(maxLength: number): RegExp {
  return new RegExp(`^[a-z0-9]([-a-z0-9]{0,${maxLength - 2}}[a-z0-9])?$`);
}

/** DNS-1123 subdomain (Secret, ConfigMap and storage class names): at most 253 characters. */
export const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_SUBDOMAIN_ACCEPTED = 'a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", at most 253 characters';

/** A Kubernetes Secret/ConfigMap data key. */
const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
/** An unquoted SQL identifier (database names). */
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** What a logical-id prefix may become: a letter, then letters, digits or "_" (Terraform resource names). */
const LOGICAL_ID_PREFIX = /^[a-z][a-z0-9_]{0,30}$/;
const ROTATION_TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;

export function environmentName(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && ENVIRONMENT_NAME.test(value)) return true;
  problems.add(field, value, `is not a valid environment name: expected ${ENVIRONMENT_NAME_ACCEPTED}`);
  return false;
}

/** A DNS-1123 label of at most `maxLength` characters, named `what` in the problem (`Service name`, `CronJob name`). */
export function dnsLabel(problems: Problems, field: string, value: unknown, what: string, maxLength = 63, why?: string): value is string {
  if (typeof value === 'string' && dnsLabelPattern(maxLength).test(value)) return true;
  problems.add(
    field,
    value,
    `is not a ${what}: expected a DNS-1123 label (${DNS_LABEL_CHARS}) of at most ${maxLength} characters${why ? ` (${why})` : ''}`,
  );
  return false;
}

export function namespace(problems: Problems, field: string, value: unknown): value is string {
  return dnsLabel(problems, field, value, 'namespace');
}

/** A prefix of object names (`<prefix>-...`): a DNS-1123 label short enough to leave room for the rest. */
export function namePrefix(problems: Problems, field: string, value: unknown, maxLength: number, why?: string): value is string {
  return dnsLabel(problems, field, value, 'valid name prefix', maxLength, why);
}

/** A DNS-1123 subdomain, named `what` in the problem (`Secret name`, `storage class name`, `Secret name prefix`). */
export function dnsSubdomain(problems: Problems, field: string, value: unknown, what: string): value is string {
  if (typeof value === 'string' && DNS_SUBDOMAIN.test(value)) return true;
  problems.add(field, value, `is not a ${what}: expected ${DNS_SUBDOMAIN_ACCEPTED}`);
  return false;
}

export function secretName(problems: Problems, field: string, value: unknown): value is string {
  return dnsSubdomain(problems, field, value, 'Secret name');
}

/** A key of a Secret or ConfigMap. */
export function secretKey(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && DATA_KEY.test(value)) return true;
  problems.add(field, value, 'is not a Secret key: expected letters, digits, "-", "_" and "." (a Kubernetes data key)');
  return false;
}

export function databaseName(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && SQL_IDENTIFIER.test(value)) return true;
  problems.add(
    field,
    value,
    'is not a database name: expected a lower-case SQL identifier: letters, digits and "_", at most 63 characters',
  );
  return false;
}

/**
 * A login Secret reference that must belong to `groupRole` (e.g. the maintenance CronJob's login, never the owner's):
 * the problem names the login's user and the group role it has instead.
 */
export function loginOf(
  problems: Problems,
  field: string,
  login: { readonly username?: string; readonly groupRole?: string } | undefined,
  groupRole: string,
  what: string,
  why: string,
): boolean {
  if (login?.groupRole === groupRole) return true;
  problems.add(
    field,
    login?.username,
    `is a member of ${login?.groupRole ?? 'no group role'}: expected ${what} (a member of ${groupRole}); ${why}`,
  );
  return false;
}

/** Turns a construct id or prefix into a Terraform-safe logical id fragment. */
export function logicalIdFragment(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
}

/**
 * The prefix of fixed Terraform logical ids (key material, passwords, data volumes): these ids never follow
 * the construct path, so moving code never replaces state. Returns the fragment the ids start with.
 */
export function logicalIdPrefix(problems: Problems, field: string, value: string | undefined): string {
  const fragment = logicalIdFragment(value ?? 'caracal');
  if (!LOGICAL_ID_PREFIX.test(fragment))
    problems.add(field, value, 'is not a valid logical id prefix: expected a letter then letters, digits or "_"');
  return fragment;
}

/** One rotation token: a short opaque string. */
export function rotationToken(problems: Problems, field: string, token: unknown): token is string {
  if (typeof token === 'string' && ROTATION_TOKEN.test(token)) return true;
  problems.add(field, token, 'is not a rotation token: expected 1-64 letters, digits, ".", "_", ":" or "-"');
  return false;
}

/**
 * Rotation tokens by key (login, Redis user): each key one of `keys`, each value a short opaque token, or, when
 * `alternating`, also an AlternatingRotation (common/rotation.ts) whose active slot exists and whose retired slot is
 * not the only one.
 */
export function rotationTokens(
  problems: Problems,
  field: string,
  rotation: Readonly<Record<string, unknown>> | undefined,
  keys: readonly string[],
  what: string,
  alternating = false,
): void {
  for (const [key, value] of Object.entries(rotation ?? {})) {
    const f = `${field}.${key}`;
    if (!keys.includes(key)) problems.add(f, key, `is not a ${what}: expected one of ${keys.join(', ')}`);
    else if (!alternating || typeof value === 'string') rotationToken(problems, f, value);
    else if (value === null || typeof value !== 'object' || Array.isArray(value))
      problems.add(f, value, 'is not a rotation: expected a token, or { a?, b?, active?: "a" | "b", retireInactive? }');
    else {
      const r = value as Record<string, unknown>;
      knownKeys(problems, f, r, ALTERNATING_ROTATION_KEYS, 'key of an alternating rotation');
      for (const slot of ROTATION_SLOTS) if (r[slot] !== undefined) rotationToken(problems, `${f}.${slot}`, r[slot]);
      if (r.active !== undefined && !(ROTATION_SLOTS as readonly unknown[]).includes(r.active))
        problems.add(`${f}.active`, r.active, 'is not a rotation slot: expected "a" or "b"');
      else if (r.active === 'b' && r.b === undefined)
        problems.add(`${f}.active`, r.active, 'names slot b, which has no token: set b first (its credential then exists beside a)');
      if (r.retireInactive !== undefined && typeof r.retireInactive !== 'boolean')
        problems.add(`${f}.retireInactive`, r.retireInactive, 'is not a boolean: expected true or false');
      else if (r.retireInactive === true && (r.active ?? 'a') === 'a' && r.b === undefined)
        problems.add(
          `${f}.retireInactive`,
          r.retireInactive,
          'retires slot b, which does not exist: expected false while only slot a exists',
        );
    }
  }
}

/**
 * Each key of `value` is one of `keys`: a construct's props, a nested option object, or a record keyed by service,
 * login or user. JavaScript callers get no compile-time check, so a misspelled key (`poolmax`) is an error naming the
 * key and the closest known one (`field` '' for a construct's own props).
 */
export function knownKeys(problems: Problems, field: string, value: unknown, keys: readonly string[], what: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  for (const key of Object.keys(value)) {
    if (keys.includes(key)) continue;
    const near = closestKey(key, keys);
    problems.add(
      field ? `${field}.${key}` : key,
      key,
      `is not a ${what}: expected one of ${keys.join(', ')}${near === undefined ? '' : `; did you mean "${near}"?`}`,
    );
  }
}

/** The keys of a props or options type, spelled once and checked complete by the compiler (for knownKeys). */
export function keysOf<T extends object>(keys: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(keys);
}

/** The known key nearest to `key` by edit distance (case-insensitive), when near enough to be a misspelling. */
/**
 * The services a construct deploys (a subset of the five, issue 12 point 7): a non-empty list of known service names,
 * each once. Returns them in the canonical order (SERVICES), so the output does not depend on the list's order;
 * `undefined` (the prop left out) is all five. On a problem, returns all five (the caller has already failed).
 */
export function serviceSet(problems: Problems, field: string, value: unknown): readonly ServiceName[] {
  if (value === undefined) return SERVICES;
  const accepted = `a non-empty list of Caracal services, each once, from ${SERVICES.join(', ')}`;
  if (!Array.isArray(value)) {
    problems.add(field, value, `is not a list of services: expected ${accepted}`);
    return SERVICES;
  }
  const before = problems.count;
  if (value.length === 0) problems.add(field, value, `is empty: expected ${accepted} (leave it out for all five)`);
  const seen = new Set<unknown>();
  value.forEach((s: unknown, i) => {
    if (typeof s !== 'string' || !(SERVICES as readonly string[]).includes(s)) {
      const near = typeof s === 'string' ? closestKey(s, SERVICES) : undefined;
      problems.add(
        `${field}[${i}]`,
        s,
        `is not a Caracal service: expected one of ${SERVICES.join(', ')}${near === undefined ? '' : `; did you mean "${near}"?`}`,
      );
    } else if (seen.has(s)) problems.add(`${field}[${i}]`, s, `is listed twice: expected ${accepted}`);
    seen.add(s);
  });
  return problems.count === before ? SERVICES.filter((s) => seen.has(s)) : SERVICES;
}

/**
 * `service` when it is among the deployed `services`; otherwise one ValidationError naming the construct, the
 * service and the deployed ones (serviceWorkload('sts') on stores that deploy only api and audit, a JavaScript
 * caller's typo).
 */
export function deployedService<S extends string>(where: string, services: readonly S[], service: unknown): S {
  if (typeof service === 'string' && (services as readonly string[]).includes(service)) return service as S;
  const known = typeof service === 'string' && (SERVICES as readonly string[]).includes(service);
  const problems = new ProblemsOf(where);
  const near = typeof service === 'string' && !known ? closestKey(service, services) : undefined;
  problems.add(
    'service',
    service,
    `is not a service of these stores: expected one of ${services.join(', ')}` +
      (known ? ` (${service} is not deployed: add it to \`services\` to deploy it)` : near ? `; did you mean "${near}"?` : ''),
  );
  problems.throwIfAny();
  throw new Error(`${where}: no service ${String(service)}`); // throwIfAny has thrown
}

export function closestKey(key: string, keys: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of keys) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

// ---- Images -----------------------------------------------------------------------------------

/**
 * An image reference pinned by a version tag or a digest: `registry[:port]/name:tag`, `name@sha256:<digest>`
 * or both. `:latest` and a bare name change under the same reference, so they are refused.
 */
export function pinnedImage(problems: Problems, field: string, value: unknown): value is string {
  const problem = imageProblem(value);
  if (problem === undefined) return true;
  problems.add(field, value, `is not a pinned image reference: ${problem}`);
  return false;
}

const IMAGE_GRAMMAR = 'expected registry/name:tag or registry/name@sha256:<digest> (never latest)';
/** Repository: lower-case components separated by "/", the first optionally a registry host with a port. */
const IMAGE_NAME = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$/;

function imageProblem(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return IMAGE_GRAMMAR;
  const [nameAndTag, digest, ...more] = ref.split('@');
  const colon = nameAndTag.lastIndexOf(':');
  const tag = colon > nameAndTag.lastIndexOf('/') ? nameAndTag.slice(colon + 1) : undefined;
  const name = tag === undefined ? nameAndTag : nameAndTag.slice(0, colon);
  if (more.length > 0 || !IMAGE_NAME.test(name) || (tag !== undefined && !/^\w[\w.-]{0,127}$/.test(tag))) return IMAGE_GRAMMAR;
  if (digest !== undefined)
    return /^sha256:[a-f0-9]{64}$/.test(digest) ? undefined : 'its digest is malformed: expected @sha256:<64 hex digits>';
  if (tag === undefined) return 'it has no version tag: expected name:1.2.3 or name@sha256:<digest> (never latest)';
  if (tag === 'latest') return '":latest" changes under the same name: expected a version tag or a digest';
  return undefined;
}

// ---- Numbers ----------------------------------------------------------------------------------

/** An integer within [min, max]; `note` says what the unit or bound is for. */
export function integer(problems: Problems, field: string, value: unknown, min: number, max: number, note?: string): value is number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return true;
  problems.add(field, value, `is out of range: expected an integer from ${min} to ${max}${note ? ` (${note})` : ''}`);
  return false;
}

export function nonRootUid(problems: Problems, field: string, value: unknown): value is number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 2_147_483_647) return true;
  problems.add(field, value, 'is not a non-root uid: expected an integer from 1 to 2147483647');
  return false;
}

export function port(problems: Problems, field: string, value: unknown): value is number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535) return true;
  problems.add(field, value, 'is not a TCP port: expected an integer from 1 to 65535');
  return false;
}

// ---- Kubernetes quantities ----------------------------------------------------------------------

const GI = 1024 ** 3;

/** A Kubernetes CPU quantity as written into a pod spec: cores (`2`, `0.5`) or millicores (`500m`), nothing around it. */
const CPU_QUANTITY = /^[0-9]+(?:\.[0-9]+)?m?$/;

/** A CPU quantity (`500m`, `2`); returns millicores. */
export function cpu(problems: Problems, field: string, value: unknown): number | undefined {
  const millis =
    typeof value === 'number' || (typeof value === 'string' && CPU_QUANTITY.test(value)) ? parseCpu(value as string | number) : undefined;
  if (millis === undefined) problems.add(field, value, `is not a CPU quantity: expected e.g. 500m or 2${cpuHint(value)}`);
  return millis;
}

/**
 * The hint for a CPU amount written as people say it (`500 m`, `500 millicores`, `0.5cores`, `2 CPU`, `1 vCPU`),
 * which the API server refuses: the Kubernetes spellings it probably meant. Empty when the value is not of that kind.
 */
export function cpuHint(value: unknown): string {
  if (typeof value !== 'string') return '';
  const milli = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:m|millicores?|millicpus?|mcpus?)\s*$/i.exec(value);
  if (milli) return `; did you mean \`${milli[1]}m\`?`;
  const cores = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(?:cores?|cpus?|vcpus?)?\s*$/i.exec(value);
  if (!cores) return '';
  const millis = Math.round(Number(cores[1]) * 1000);
  return millis > 0 ? `; did you mean \`${cores[1]}\` or \`${millis}m\`?` : '';
}

/**
 * The hint for a size written with Postgres' or SI byte units (`5GB`, `512MB`, `1GiB`, `2 Gi`), which the API
 * server refuses: the two Kubernetes spellings it probably meant. Empty when the value is not of that kind.
 */
export function quantityHint(value: unknown): string {
  const m = typeof value === 'string' ? /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtTpP])(i?)[bB]?\s*$/.exec(value) : null;
  if (!m || parseQuantity(value as string) !== undefined) return '';
  const unit = m[2] === 'k' || m[2] === 'K' ? 'K' : m[2].toUpperCase();
  return `; did you mean \`${m[1]}${unit}i\` or \`${m[1]}${unit === 'K' ? 'k' : unit}\`?`;
}

/** A Kubernetes memory or storage quantity (`512Mi`, `2Gi`, `1G`); returns bytes. */
export function quantity(problems: Problems, field: string, value: unknown, example: string): number | undefined {
  const bytes = typeof value === 'string' ? parseQuantity(value) : undefined;
  if (bytes === undefined) problems.add(field, value, `is not a Kubernetes quantity: expected e.g. ${example}${quantityHint(value)}`);
  return bytes;
}

export interface ResourcesRule {
  /** Why a memory limit is required, when it is. */
  readonly limitRequired?: string;
  /** The smallest memory limit that works, as a quantity (`64Mi`). */
  readonly minLimit?: string;
  /** An example memory quantity for the problems. */
  readonly example: string;
}

/**
 * Container resources: CPU and memory quantities, the request within the limit, and (per `rule`) a required
 * memory limit of at least `minLimit`. Returns the memory limit in bytes when it is valid.
 */
export function resources(
  problems: Problems,
  field: string,
  r: {
    readonly requests?: { readonly cpu?: string; readonly memory?: string };
    readonly limits?: { readonly cpu?: string; readonly memory?: string };
  },
  rule: ResourcesRule,
): number | undefined {
  knownKeys(problems, field, r, ['requests', 'limits'], 'resources key');
  for (const kind of ['requests', 'limits'] as const) {
    knownKeys(problems, `${field}.${kind}`, r[kind], ['cpu', 'memory'], 'resource');
    if (r[kind]?.cpu !== undefined) cpu(problems, `${field}.${kind}.cpu`, r[kind]?.cpu);
  }
  const limit = r.limits?.memory;
  let limitBytes: number | undefined;
  if (limit === undefined) {
    if (rule.limitRequired) problems.add(`${field}.limits.memory`, undefined, `is required: ${rule.limitRequired}`);
  } else {
    limitBytes = quantity(problems, `${field}.limits.memory`, limit, rule.example);
    const min = rule.minLimit === undefined ? undefined : parseQuantity(rule.minLimit);
    if (limitBytes !== undefined && min !== undefined && limitBytes < min) {
      problems.add(`${field}.limits.memory`, limit, `is not a memory limit of at least ${rule.minLimit}: expected e.g. ${rule.example}`);
      limitBytes = undefined;
    }
  }
  const request = r.requests?.memory;
  if (request !== undefined) {
    const requestBytes = quantity(problems, `${field}.requests.memory`, request, rule.example);
    if (requestBytes !== undefined && limitBytes !== undefined && requestBytes > limitBytes)
      problems.add(`${field}.requests.memory`, request, `exceeds the memory limit (${limit})`);
  }
  return limitBytes;
}

/** The initial size of a data volume: a quantity of at least 1Gi. Returns bytes. */
export function volumeSize(problems: Problems, field: string, value: unknown, example: string): number | undefined {
  const bytes = typeof value === 'string' ? parseQuantity(value) : undefined;
  if (bytes !== undefined && bytes >= GI) return bytes;
  problems.add(
    field,
    value,
    `is not a volume size of at least 1Gi: expected a Kubernetes quantity such as ${example}${quantityHint(value)}`,
  );
  return undefined;
}

export function storageClassName(problems: Problems, field: string, value: unknown): void {
  if (value !== undefined) dnsSubdomain(problems, field, value, 'storage class name');
}

// ---- Durations and schedules --------------------------------------------------------------------

export interface DurationRange {
  readonly minMs: number;
  readonly maxMs: number;
  /** The accepted range in words, e.g. `100ms to 1h (0 would disable it)`. */
  readonly accepted: string;
}

/** A duration prop within a range; returns milliseconds. */
export function duration(problems: Problems, field: string, value: unknown, range: DurationRange): number | undefined {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) problems.add(field, value, `is not a duration: expected ${DURATION_UNITS_ACCEPTED}`);
  else if (ms < range.minMs || ms > range.maxMs) problems.add(field, value, `is out of range: expected ${range.accepted}`);
  else return ms;
  return undefined;
}

/** A duration prop for a Kubernetes or Helm field in whole seconds, from `minSeconds` to `maxSeconds`; returns seconds. */
export function durationSeconds(
  problems: Problems,
  field: string,
  value: unknown,
  minSeconds: number,
  maxSeconds: number,
  why = '',
): number | undefined {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  const range = `${formatSeconds(minSeconds)} to ${formatSeconds(maxSeconds)}${why ? `: ${why}` : ''}`;
  if (ms === undefined) problems.add(field, value, `is not a duration: expected ${DURATION_UNITS_ACCEPTED}, ${range}`);
  else if (ms % 1000 !== 0) problems.add(field, value, `is not a whole number of seconds: expected ${range}`);
  else if (ms < minSeconds * 1000 || ms > maxSeconds * 1000) problems.add(field, value, `is out of range: expected ${range}`);
  else return ms / 1000;
  return undefined;
}

/** Seconds in the largest unit that divides them (`90s`, `10min`, `1h`), for messages. */
export function formatSeconds(seconds: number): string {
  if (seconds >= 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60}min`;
  return `${seconds}s`;
}

const CRON_SCHEDULE = /^(@(hourly|daily|weekly|monthly|yearly|annually|midnight)|(\S+\s+){4}\S+)$/;

export function cronSchedule(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && CRON_SCHEDULE.test(value.trim())) return true;
  problems.add(field, value, 'is not a cron schedule: expected five fields ("17 * * * *") or @hourly/@daily/...');
  return false;
}

export function timeZone(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(value)) return true;
  problems.add(field, value, 'is not an IANA time zone: expected e.g. Etc/UTC or Europe/Berlin');
  return false;
}

// ---- Paths and addresses ------------------------------------------------------------------------

/** An absolute path in a container, without `..`. */
export function absolutePath(problems: Problems, field: string, value: unknown, example: string, why = ''): value is string {
  if (typeof value === 'string' && /^\/[A-Za-z0-9._/-]+$/.test(value) && !value.includes('..')) return true;
  problems.add(field, value, `is not an absolute path${why}: expected e.g. ${example}`);
  return false;
}

export function cidr(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/.test(value)) return true;
  problems.add(field, value, 'is not a CIDR: expected e.g. 10.0.0.0/16');
  return false;
}

export function hostName(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/.test(value)) return true;
  problems.add(field, value, 'is not a host name: expected a DNS name or IP address (no scheme, no port)');
  return false;
}

/** An https URL without credentials, query or fragment (an S3-compatible endpoint): `https://host[:port][/path]`. */
export function httpsUrl(problems: Problems, field: string, value: unknown, example: string): URL | undefined {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url && url.protocol === 'https:' && !url.username && !url.password && !url.search && !url.hash && url.hostname) return url;
  problems.add(field, value, `is not an https URL without credentials, query or fragment: expected e.g. ${example}`);
  return undefined;
}

/** An S3 bucket name (the AWS rules, which S3-compatible stores follow): 3-63 lower-case letters, digits, "-", ".". */
export function bucketName(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(value) && !value.includes('..')) return true;
  problems.add(
    field,
    value,
    'is not an S3 bucket name: expected 3 to 63 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit',
  );
  return false;
}

/** An object key prefix: empty, or path segments of safe characters ending in "/" (no "..", no leading "/"). */
export function objectPrefix(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && (value === '' || /^([A-Za-z0-9._-]+\/)+$/.test(value)) && !value.split('/').includes('..')) return true;
  problems.add(
    field,
    value,
    'is not an object key prefix: expected "" or segments of letters, digits, ".", "_", "-" each ending in "/", e.g. caracal/prod/',
  );
  return false;
}

/** A cloud region name (`eu-central-1`, `us-east-1`, `auto`). */
export function regionName(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(value)) return true;
  problems.add(field, value, 'is not a region name: expected lower-case letters, digits and "-", e.g. eu-central-1');
  return false;
}

/** pg_dump's --compress: a gzip level (0-9), or `gzip|lz4|zstd|none[:level]` (methods other than gzip need Postgres 16+). */
export function pgDumpCompression(problems: Problems, field: string, value: unknown): value is string {
  if (typeof value === 'string' && /^([0-9]|(gzip|lz4|zstd|none)(:[0-9]{1,2})?)$/.test(value)) return true;
  problems.add(
    field,
    value,
    'is not a pg_dump compression: expected a gzip level 0-9, or gzip, lz4 or zstd with an optional :level (lz4 and zstd need pg_dump 16+)',
  );
  return false;
}

// ---- Label selectors ----------------------------------------------------------------------------

/** Kubernetes label value rule: at most 63 characters, alphanumeric at both ends. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
/** Kubernetes label key rule: an optional DNS-subdomain prefix and a name of at most 63 characters. */
const LABEL_KEY = /^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Reports every entry of a label selector whose key or value Kubernetes would refuse, as `field.key`. */
export function selectorEntries(problems: Problems, field: string, selector: Readonly<Record<string, string>> | undefined): void {
  for (const [k, v] of Object.entries(selector ?? {})) {
    if (!LABEL_KEY.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v)) {
      problems.add(`${field}.${k}`, v, 'is not a valid label selector entry: expected a label key and a value of at most 63 characters');
    }
  }
}

/** A non-empty selector (an empty one selects every pod) with valid entries; `what` names the pods it must select. */
export function podSelector(problems: Problems, field: string, selector: Readonly<Record<string, string>> | undefined, what: string): void {
  if (Object.keys(selector ?? {}).length === 0)
    problems.add(field, selector, `is an empty selector, which selects every pod in the namespace: expected ${what}`);
  selectorEntries(problems, field, selector);
}

/** The clients a store admits besides its defaults: none empty (that would admit every pod). Returns the list ([] when not one). */
export function allowedClients(problems: Problems, field: string, allowed: unknown): readonly Readonly<Record<string, string>>[] {
  if (allowed === undefined) return [];
  if (!Array.isArray(allowed)) {
    problems.add(field, allowed, 'is not a list of pod selectors: expected e.g. [{ app: "reports" }]');
    return [];
  }
  allowed.forEach((sel, i) => {
    if (Object.keys(sel ?? {}).length === 0)
      problems.add(`${field}[${i}]`, sel, 'is an empty selector, which admits every pod in the namespace: expected at least one label');
    selectorEntries(problems, `${field}[${i}]`, sel);
  });
  return allowed as readonly Readonly<Record<string, string>>[];
}
