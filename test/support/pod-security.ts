// Checks every pod spec in synthesized Terraform JSON (or in Kubernetes manifests, e.g. a Helm chart's
// rendered YAML) against the Kubernetes Pod Security Standards "restricted" profile (baseline included),
// control by control as https://kubernetes.io/docs/concepts/security/pod-security-standards/ lists them
// (Kubernetes v1.34), and reports the project's extra hardening separately.
//
// Helm charts: `checkChartDirectory` reads `templates/**/*.y(a)ml`, stands in a plain value for every
// `{{ ... }}` action (security fields in this project's charts are literal), and checks the documents.
//
// Pod specs are found structurally, not by resource type: in Terraform JSON any object with a
// `container` list (kubernetes_pod/deployment/stateful_set/daemon_set/job/cron_job/replication_controller,
// v1 or not), in manifests any object with a `containers` list. Terraform's snake_case blocks are
// normalized to the Kubernetes API shape first, so one set of checks serves both.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One failed Pod Security Standards control. */
export interface PodSecurityViolation {
  /** Terraform address (`kubernetes_stateful_set_v1.redis`) or `<source>:<Kind>/<name>`. */
  readonly address: string;
  /** Path of the pod spec inside the resource, e.g. `spec.template.spec`. */
  readonly podPath: string;
  /** The standard's control name, e.g. `Running as Non-root`. */
  readonly control: string;
  readonly profile: 'baseline' | 'restricted';
  /** Field in Kubernetes API terms, relative to the pod template, e.g. `spec.containers[redis].securityContext.runAsNonRoot`. */
  readonly field: string;
  readonly value: unknown;
  /** The standard's allowed values for the field. */
  readonly allowed: string;
}

/** A hardening setting the project expects beyond "restricted" that a pod lacks. */
export interface HardeningFinding {
  readonly address: string;
  readonly podPath: string;
  readonly check: 'readOnlyRootFilesystem' | 'automountServiceAccountToken';
  readonly field: string;
  readonly value: unknown;
}

export interface PodRef {
  readonly address: string;
  readonly podPath: string;
  readonly containers: readonly string[];
}

export interface PodSecurityReport {
  /** Every pod spec found (a check over zero pods proves nothing: assert on this). */
  readonly pods: readonly PodRef[];
  readonly violations: readonly PodSecurityViolation[];
  readonly hardening: readonly HardeningFinding[];
}

// ---- The standard's lists -------------------------------------------------------------------

/** Baseline "Capabilities": capabilities that may be added. */
export const BASELINE_ADDABLE_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
] as const;

/** Baseline "Sysctls": the safe set (v1.29+). */
export const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
] as const;

/** Baseline "SELinux": allowed `seLinuxOptions.type` values (besides undefined/""). */
export const SELINUX_TYPES = ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'] as const;

/** Restricted "Volume Types": the only volume sources allowed. */
export const RESTRICTED_VOLUME_SOURCES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
] as const;

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

// ---- Kubernetes API shape (only the fields the checks read) --------------------------------

type Obj = Record<string, unknown>;

interface PodSpecLike {
  readonly spec: Obj;
  readonly metadata: Obj;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A single nested block: Terraform JSON may write it as an object or as a one-element list. */
function one(v: unknown): Obj | undefined {
  if (Array.isArray(v)) return isObj(v[0]) ? v[0] : undefined;
  return isObj(v) ? v : undefined;
}

function list(v: unknown): Obj[] {
  if (Array.isArray(v)) return v.filter(isObj);
  return isObj(v) ? [v] : [];
}

/** `true`, `"true"` -> true; `false`, `"false"` -> false; anything else undefined. */
function bool(v: unknown): boolean | undefined {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

// ---- Terraform (provider-kubernetes) -> Kubernetes API shape -------------------------------

const TF_RENAMES: Record<string, string> = {
  container: 'containers',
  init_container: 'initContainers',
  ephemeral_container: 'ephemeralContainers',
  volume: 'volumes',
  volume_mount: 'volumeMounts',
  sysctl: 'sysctls',
  host_pid: 'hostPID',
  host_ipc: 'hostIPC',
  downward_api: 'downwardAPI',
  ceph_fs: 'cephfs',
  app_armor_profile: 'appArmorProfile',
};

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Deep snake_case -> camelCase with the provider's singular block names mapped to the API's plurals. */
export function fromTerraformShape(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => fromTerraformShape(v, key));
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    // `annotations`/`labels` keys are data, not schema: keep them verbatim.
    if (k === 'annotations' || k === 'labels' || k === 'match_labels') {
      out[camel(k)] = v;
      continue;
    }
    let name = TF_RENAMES[k] ?? camel(k);
    // A container's `port` blocks are the API's `ports`; a probe's `port` is a scalar.
    if (k === 'port' && Array.isArray(v)) name = 'ports';
    out[name] = fromTerraformShape(v, k);
  }
  return out;
}

// ---- The checks -------------------------------------------------------------------------------

interface ContainerRef {
  readonly c: Obj;
  readonly path: string;
  readonly name: string;
}

function containersOf(spec: Obj): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const kind of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    list(spec[kind]).forEach((c, i) => {
      const name = str(c.name) ?? String(i);
      out.push({ c, name, path: `spec.${kind}[${name}]` });
    });
  }
  return out;
}

type Emit = (profile: 'baseline' | 'restricted', control: string, field: string, value: unknown, allowed: string) => void;

/** Checks one pod (API shape: `spec` is a PodSpec, `metadata` the pod template's metadata). */
export function checkPod(pod: PodSpecLike, emit: Emit): void {
  const spec = pod.spec;
  const podSc = one(spec.securityContext) ?? {};
  const containers = containersOf(spec);
  const scOf = (ref: ContainerRef) => one(ref.c.securityContext) ?? {};

  // Baseline: HostProcess.
  const hostProcessAllowed = 'undefined/nil, false';
  const podWin = one(podSc.windowsOptions);
  if (podWin && bool(podWin.hostProcess) !== false && podWin.hostProcess !== undefined) {
    emit('baseline', 'HostProcess', 'spec.securityContext.windowsOptions.hostProcess', podWin.hostProcess, hostProcessAllowed);
  }
  for (const ref of containers) {
    const win = one(scOf(ref).windowsOptions);
    if (win && win.hostProcess !== undefined && bool(win.hostProcess) !== false) {
      emit('baseline', 'HostProcess', `${ref.path}.securityContext.windowsOptions.hostProcess`, win.hostProcess, hostProcessAllowed);
    }
  }

  // Baseline: Host Namespaces.
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[f] !== undefined && bool(spec[f]) !== false) {
      emit('baseline', 'Host Namespaces', `spec.${f}`, spec[f], 'undefined/nil, false');
    }
  }

  // Baseline: Privileged Containers.
  for (const ref of containers) {
    const v = scOf(ref).privileged;
    if (v !== undefined && bool(v) !== false) {
      emit('baseline', 'Privileged Containers', `${ref.path}.securityContext.privileged`, v, 'undefined/nil, false');
    }
  }

  // Baseline: Capabilities.
  for (const ref of containers) {
    const add = one(scOf(ref).capabilities)?.add;
    for (const cap of Array.isArray(add) ? add : []) {
      if (!(BASELINE_ADDABLE_CAPABILITIES as readonly unknown[]).includes(cap)) {
        emit(
          'baseline',
          'Capabilities',
          `${ref.path}.securityContext.capabilities.add`,
          cap,
          `undefined/nil, ${BASELINE_ADDABLE_CAPABILITIES.join(', ')}`,
        );
      }
    }
  }

  // Baseline: HostPath Volumes.
  const volumes = list(spec.volumes);
  volumes.forEach((v, i) => {
    if (v.hostPath !== undefined) {
      emit('baseline', 'HostPath Volumes', `spec.volumes[${str(v.name) ?? i}].hostPath`, v.hostPath, 'undefined/nil');
    }
  });

  // Baseline: Host Ports.
  for (const ref of containers) {
    list(ref.c.ports).forEach((p, i) => {
      if (p.hostPort !== undefined && num(p.hostPort) !== 0) {
        emit('baseline', 'Host Ports', `${ref.path}.ports[${i}].hostPort`, p.hostPort, 'undefined/nil, 0');
      }
    });
  }

  // Baseline: Host Probes / Lifecycle Hooks (v1.34).
  for (const ref of containers) {
    const handlers: Array<[string, Obj | undefined]> = [
      ['livenessProbe', one(ref.c.livenessProbe)],
      ['readinessProbe', one(ref.c.readinessProbe)],
      ['startupProbe', one(ref.c.startupProbe)],
      ['lifecycle.postStart', one(one(ref.c.lifecycle)?.postStart)],
      ['lifecycle.preStop', one(one(ref.c.lifecycle)?.preStop)],
    ];
    for (const [where, h] of handlers) {
      if (!h) continue;
      for (const action of ['httpGet', 'tcpSocket'] as const) {
        const host = one(h[action])?.host;
        if (host !== undefined && host !== '') {
          emit('baseline', 'Host Probes / Lifecycle Hooks', `${ref.path}.${where}.${action}.host`, host, 'undefined/nil, ""');
        }
      }
    }
  }

  // Baseline: AppArmor.
  const appArmorTypes = ['RuntimeDefault', 'Localhost'];
  const checkAppArmor = (sc: Obj, field: string) => {
    const t = one(sc.appArmorProfile)?.type;
    if (t !== undefined && !appArmorTypes.includes(String(t))) {
      emit('baseline', 'AppArmor', `${field}.appArmorProfile.type`, t, 'undefined/nil, RuntimeDefault, Localhost');
    }
  };
  checkAppArmor(podSc, 'spec.securityContext');
  for (const ref of containers) checkAppArmor(scOf(ref), `${ref.path}.securityContext`);
  for (const [k, v] of Object.entries(one(pod.metadata.annotations) ?? {})) {
    if (!k.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    const s = str(v) ?? '';
    if (!(s === '' || s === 'runtime/default' || s.startsWith('localhost/'))) {
      emit('baseline', 'AppArmor', `metadata.annotations['${k}']`, v, 'undefined/nil, runtime/default, localhost/*');
    }
  }

  // Baseline: SELinux.
  const checkSeLinux = (sc: Obj, field: string) => {
    const o = one(sc.seLinuxOptions);
    if (!o) return;
    if (o.type !== undefined && o.type !== '' && !(SELINUX_TYPES as readonly unknown[]).includes(o.type)) {
      emit('baseline', 'SELinux', `${field}.seLinuxOptions.type`, o.type, `undefined/"", ${SELINUX_TYPES.join(', ')}`);
    }
    for (const f of ['user', 'role'] as const) {
      if (o[f] !== undefined && o[f] !== '') emit('baseline', 'SELinux', `${field}.seLinuxOptions.${f}`, o[f], 'undefined/""');
    }
  };
  checkSeLinux(podSc, 'spec.securityContext');
  for (const ref of containers) checkSeLinux(scOf(ref), `${ref.path}.securityContext`);

  // Baseline: /proc Mount Type.
  for (const ref of containers) {
    const v = scOf(ref).procMount;
    if (v !== undefined && v !== 'Default') {
      emit('baseline', '/proc Mount Type', `${ref.path}.securityContext.procMount`, v, 'undefined/nil, Default');
    }
  }

  // Baseline: Seccomp (Unconfined forbidden). Restricted narrows it further below.
  const podSeccomp = one(podSc.seccompProfile)?.type;
  if (podSeccomp === 'Unconfined') {
    emit('baseline', 'Seccomp', 'spec.securityContext.seccompProfile.type', podSeccomp, 'undefined/nil, RuntimeDefault, Localhost');
  }
  for (const ref of containers) {
    const t = one(scOf(ref).seccompProfile)?.type;
    if (t === 'Unconfined') {
      emit('baseline', 'Seccomp', `${ref.path}.securityContext.seccompProfile.type`, t, 'undefined/nil, RuntimeDefault, Localhost');
    }
  }

  // Baseline: Sysctls.
  list(podSc.sysctls).forEach((s, i) => {
    if (!(SAFE_SYSCTLS as readonly unknown[]).includes(s.name)) {
      emit('baseline', 'Sysctls', `spec.securityContext.sysctls[${i}].name`, s.name, `undefined/nil, ${SAFE_SYSCTLS.join(', ')}`);
    }
  });

  // Restricted: Volume Types.
  volumes.forEach((v, i) => {
    const sources = Object.keys(v).filter((k) => k !== 'name');
    for (const src of sources) {
      if (!(RESTRICTED_VOLUME_SOURCES as readonly string[]).includes(src)) {
        emit(
          'restricted',
          'Volume Types',
          `spec.volumes[${str(v.name) ?? i}].${src}`,
          v[src],
          `only ${RESTRICTED_VOLUME_SOURCES.join(', ')}`,
        );
      }
    }
  });

  // Restricted: Privilege Escalation (must be set to false explicitly).
  for (const ref of containers) {
    const v = scOf(ref).allowPrivilegeEscalation;
    if (bool(v) !== false) {
      emit('restricted', 'Privilege Escalation', `${ref.path}.securityContext.allowPrivilegeEscalation`, v, 'false');
    }
  }

  // Restricted: Running as Non-root. Containers may leave it unset when the pod sets true.
  const podNonRoot = bool(podSc.runAsNonRoot);
  if (podSc.runAsNonRoot !== undefined && podNonRoot !== true) {
    emit('restricted', 'Running as Non-root', 'spec.securityContext.runAsNonRoot', podSc.runAsNonRoot, 'true');
  }
  for (const ref of containers) {
    const raw = scOf(ref).runAsNonRoot;
    const v = bool(raw);
    if (raw !== undefined && v !== true) {
      emit('restricted', 'Running as Non-root', `${ref.path}.securityContext.runAsNonRoot`, raw, 'true');
    } else if (raw === undefined && podNonRoot !== true) {
      emit(
        'restricted',
        'Running as Non-root',
        `${ref.path}.securityContext.runAsNonRoot`,
        undefined,
        'true (may be undefined only when spec.securityContext.runAsNonRoot is true)',
      );
    }
  }

  // Restricted: Running as Non-root user.
  if (podSc.runAsUser !== undefined && num(podSc.runAsUser) === 0) {
    emit('restricted', 'Running as Non-root user', 'spec.securityContext.runAsUser', podSc.runAsUser, 'any non-zero value, undefined/nil');
  }
  for (const ref of containers) {
    const v = scOf(ref).runAsUser;
    if (v !== undefined && num(v) === 0) {
      emit('restricted', 'Running as Non-root user', `${ref.path}.securityContext.runAsUser`, v, 'any non-zero value, undefined/nil');
    }
  }

  // Restricted: Seccomp. Containers may leave it unset when the pod sets an allowed profile.
  const seccompAllowed = ['RuntimeDefault', 'Localhost'];
  const podSeccompOk = podSeccomp !== undefined && seccompAllowed.includes(String(podSeccomp));
  if (podSeccomp !== undefined && !podSeccompOk && podSeccomp !== 'Unconfined') {
    emit('restricted', 'Seccomp', 'spec.securityContext.seccompProfile.type', podSeccomp, 'RuntimeDefault, Localhost');
  }
  for (const ref of containers) {
    const t = one(scOf(ref).seccompProfile)?.type;
    if (t === undefined) {
      if (!podSeccompOk) {
        emit(
          'restricted',
          'Seccomp',
          `${ref.path}.securityContext.seccompProfile.type`,
          undefined,
          'RuntimeDefault, Localhost (may be undefined only when the pod sets one of them)',
        );
      }
    } else if (!seccompAllowed.includes(String(t)) && t !== 'Unconfined') {
      emit('restricted', 'Seccomp', `${ref.path}.securityContext.seccompProfile.type`, t, 'RuntimeDefault, Localhost');
    }
  }

  // Restricted: Capabilities (drop ALL; add only NET_BIND_SERVICE).
  for (const ref of containers) {
    const caps = one(scOf(ref).capabilities) ?? {};
    const drop = Array.isArray(caps.drop) ? caps.drop : [];
    if (!drop.includes('ALL')) {
      emit(
        'restricted',
        'Capabilities',
        `${ref.path}.securityContext.capabilities.drop`,
        caps.drop,
        'any list of capabilities that includes ALL',
      );
    }
    for (const cap of Array.isArray(caps.add) ? caps.add : []) {
      if (cap !== 'NET_BIND_SERVICE') {
        emit('restricted', 'Capabilities', `${ref.path}.securityContext.capabilities.add`, cap, 'undefined/nil, NET_BIND_SERVICE');
      }
    }
  }
}

/** The project's hardening beyond "restricted": read-only root filesystems and no API token. */
export function checkHardening(pod: PodSpecLike, emit: (check: HardeningFinding['check'], field: string, value: unknown) => void): void {
  const spec = pod.spec;
  if (bool(spec.automountServiceAccountToken) !== false) {
    emit('automountServiceAccountToken', 'spec.automountServiceAccountToken', spec.automountServiceAccountToken);
  }
  for (const ref of containersOf(spec)) {
    const v = (one(ref.c.securityContext) ?? {}).readOnlyRootFilesystem;
    if (bool(v) !== true) emit('readOnlyRootFilesystem', `${ref.path}.securityContext.readOnlyRootFilesystem`, v);
  }
}

// ---- Discovery --------------------------------------------------------------------------------

interface FoundPod {
  readonly podPath: string;
  readonly pod: PodSpecLike;
}

/** Every pod spec inside an API-shaped object: any object holding a `containers` list. */
function findPods(root: unknown, path: string, parent: Obj | undefined, out: FoundPod[]): void {
  if (Array.isArray(root)) {
    root.forEach((v, i) => findPods(v, `${path}[${i}]`, parent, out));
    return;
  }
  if (!isObj(root)) return;
  if (Array.isArray(root.containers) && root.containers.some(isObj)) {
    out.push({ podPath: path, pod: { spec: root, metadata: one(parent?.metadata) ?? {} } });
    return;
  }
  for (const [k, v] of Object.entries(root)) {
    if (k === 'metadata') continue;
    findPods(v, path ? `${path}.${k}` : k, root, out);
  }
}

function reportFor(
  address: string,
  apiShaped: unknown,
  pods: PodRef[],
  violations: PodSecurityViolation[],
  hardening: HardeningFinding[],
): void {
  const found: FoundPod[] = [];
  findPods(apiShaped, '', undefined, found);
  for (const { podPath, pod } of found) {
    pods.push({ address, podPath, containers: containersOf(pod.spec).map((c) => c.name) });
    checkPod(pod, (profile, control, field, value, allowed) =>
      violations.push({ address, podPath, profile, control, field, value, allowed }),
    );
    checkHardening(pod, (check, field, value) => hardening.push({ address, podPath, check, field, value }));
  }
}

/** Checks every pod spec in a synthesized Terraform JSON document (a string or the parsed object). */
export function checkTerraformJson(json: string | object): PodSecurityReport {
  const doc = (typeof json === 'string' ? JSON.parse(json) : json) as Obj;
  const pods: PodRef[] = [];
  const violations: PodSecurityViolation[] = [];
  const hardening: HardeningFinding[] = [];
  for (const [type, byName] of Object.entries(one(doc.resource) ?? {})) {
    for (const [name, body] of Object.entries(one(byName) ?? {})) {
      const address = `${type}.${name}`;
      // kubernetes_manifest holds an API-shaped object already; everything else is provider shape.
      const shaped = type === 'kubernetes_manifest' ? (body as Obj).manifest : fromTerraformShape(body);
      reportFor(address, shaped, pods, violations, hardening);
    }
  }
  return { pods, violations, hardening };
}

/** Checks Kubernetes manifests (parsed YAML documents, e.g. a Helm chart's templates). */
export function checkManifests(docs: readonly unknown[], source: string): PodSecurityReport {
  const pods: PodRef[] = [];
  const violations: PodSecurityViolation[] = [];
  const hardening: HardeningFinding[] = [];
  docs.forEach((d, i) => {
    if (!isObj(d)) return;
    const meta = one(d.metadata) ?? {};
    const address = `${source}:${str(d.kind) ?? 'object'}/${str(meta.name) ?? i}`;
    reportFor(address, d, pods, violations, hardening);
  });
  return { pods, violations, hardening };
}

/** One line per violation, for assertion messages. */
export function formatViolations(violations: readonly PodSecurityViolation[]): string {
  return violations
    .map((v) => `${v.address} ${v.podPath}: [${v.profile}/${v.control}] ${v.field} = ${JSON.stringify(v.value)} (allowed: ${v.allowed})`)
    .join('\n');
}

/** Checks a multi-document YAML text of Kubernetes manifests. */
export function checkYamlManifests(text: string, source: string): PodSecurityReport {
  const docs = parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`${source}: not parseable YAML: ${d.errors[0].message}`);
    return d.toJS() as unknown;
  });
  return checkManifests(
    docs.filter((d) => d !== null && d !== undefined),
    source,
  );
}

/** Placeholder for a Go template action, so a chart's templates parse as YAML. */
export const TEMPLATE_ACTION_PLACEHOLDER = 'helm-template-action';

/** Checks every manifest under a Helm chart's `templates/` (Go template actions replaced by a placeholder). */
export function checkChartDirectory(chartDir: string): PodSecurityReport {
  const pods: PodRef[] = [];
  const violations: PodSecurityViolation[] = [];
  const hardening: HardeningFinding[] = [];
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((name) => {
        const p = path.join(dir, name);
        return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(name) ? [p] : [];
      });
  for (const file of walk(path.join(chartDir, 'templates'))) {
    const text = readFileSync(file, 'utf8').replace(/\{\{-?[\s\S]*?-?\}\}/g, TEMPLATE_ACTION_PLACEHOLDER);
    const r = checkYamlManifests(text, path.relative(chartDir, file));
    pods.push(...r.pods);
    violations.push(...r.violations);
    hardening.push(...r.hardening);
  }
  return { pods, violations, hardening };
}
