// A kubelet for one Job pod, without a cluster: renders the synthesized hook chart, lays out its
// ConfigMap and Secret volumes exactly as the kubelet's atomic writer does (`..<timestamp>` dir, `..data`
// symlink, each key a symlink into `..data`), and runs the container's command with its env, as its
// uid/gid, at its mount paths (a private mount namespace), with a read-only root filesystem.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  existsSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

type Obj = Record<string, any>;

export interface RenderedChart {
  readonly objects: readonly Obj[];
  readonly job: Obj;
  configMap(name: string): Obj;
}

/**
 * Renders `templates/*.yaml` as Helm would for this chart: the only template action the generator emits
 * is `{{ .Values.<name> | quote }}`; anything else is an error (the chart must not need a real Helm).
 */
export function renderChart(chartDir: string, values: Readonly<Record<string, string>>): RenderedChart {
  const dir = path.join(chartDir, 'templates');
  const objects: Obj[] = [];
  for (const file of readdirSync(dir).sort()) {
    const text = readFileSync(path.join(dir, file), 'utf8').replace(/\{\{ \.Values\.(\w+) \| quote \}\}/g, (_m, name: string) => {
      if (!(name in values)) throw new Error(`${file}: .Values.${name} is not set`);
      return JSON.stringify(values[name]);
    });
    if (text.includes('{{')) throw new Error(`${file}: a template action other than {{ .Values.x | quote }} remains`);
    objects.push(parse(text));
  }
  const job = objects.find((o) => o.kind === 'Job');
  if (!job) throw new Error(`${chartDir}: no Job in templates/`);
  return {
    objects,
    job,
    configMap(name) {
      const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
      if (!cm) throw new Error(`ConfigMap ${name} is not in the chart (the pod would stay in ContainerCreating)`);
      return cm;
    },
  };
}

export interface RunPodOptions {
  /** Secrets that exist in the namespace: name -> key -> value. */
  readonly secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Cluster DNS: host name -> IP (written to the pod's /etc/hosts). */
  readonly hosts?: Readonly<Record<string, string>>;
  /** What the container image holds beyond the base system: container path -> host file. */
  readonly imageFiles?: Readonly<Record<string, string>>;
  /** A program the container's command runs under (benchmarks: `/usr/bin/time -f ...`); not part of the pod. */
  readonly wrapper?: readonly string[];
}

export interface PodRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every line the container printed, stdout and stderr. */
  readonly log: string;
}

/** The kubelet's atomic-writer layout: `..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN/` holds the files, `..data` points at it, keys point into `..data`. */
export function layoutVolume(
  dir: string,
  files: ReadonlyMap<string, Buffer>,
  mode: number,
  gid: number | undefined,
  stamp = new Date(),
): void {
  mkdirSync(dir, { recursive: true });
  const p2 = (n: number) => String(n).padStart(2, '0');
  const ts = `..${stamp.getUTCFullYear()}_${p2(stamp.getUTCMonth() + 1)}_${p2(stamp.getUTCDate())}_${p2(stamp.getUTCHours())}_${p2(stamp.getUTCMinutes())}_${p2(stamp.getUTCSeconds())}.${String(stamp.getUTCMilliseconds() * 1_000_000 + 123456).padStart(9, '0')}`;
  const data = path.join(dir, ts);
  mkdirSync(data, { mode: 0o755 });
  const top = new Set<string>();
  for (const [rel, content] of files) {
    const file = path.join(data, rel);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    writeFileSync(file, content);
    chmodSync(file, mode);
    if (gid !== undefined) chownSync(file, 0, gid);
    top.add(rel.split('/')[0]);
  }
  symlinkSync(ts, path.join(dir, '..data'));
  for (const name of [...top].sort()) symlinkSync(path.join('..data', name), path.join(dir, name));
  chmodSync(dir, 0o755);
}

/** Lays out the Job pod's volumes and runs its one container to completion. Needs root (mount namespace). */
export async function runJobPod(chart: RenderedChart, opts: RunPodOptions): Promise<PodRun> {
  if (process.getuid?.() !== 0) {
    throw new Error('the kubelet harness needs root: it runs the pod in a private mount namespace (unshare, mount, setpriv), as CI does');
  }
  const podSpec = chart.job.spec.template.spec as Obj;
  if (podSpec.containers.length !== 1) throw new Error('the harness runs pods with one container');
  if (podSpec.initContainers?.length) throw new Error('the harness does not run init containers');
  const container = podSpec.containers[0] as Obj;
  const podSc = (podSpec.securityContext ?? {}) as Obj;
  const sc = { ...podSc, ...(container.securityContext ?? {}) } as Obj;
  const uid = Number(sc.runAsUser ?? 0);
  const gid = Number(sc.runAsGroup ?? uid);
  const fsGroup = podSc.fsGroup === undefined ? undefined : Number(podSc.fsGroup);
  if (sc.runAsNonRoot && uid === 0) throw new Error('CreateContainerConfigError: runAsNonRoot with uid 0');

  const root = mkdtempSync(path.join(tmpdir(), 'caracal-kubelet-'));
  chmodSync(root, 0o755);
  try {
    const volumes = new Map<string, { kind: 'bind'; hostDir: string } | { kind: 'emptyDir' }>();
    for (const v of podSpec.volumes ?? []) {
      const hostDir = path.join(root, 'volumes', v.name);
      if (v.configMap) {
        const cm = chart.configMap(v.configMap.name);
        const all = new Map<string, Buffer>();
        for (const [k, val] of Object.entries(cm.data ?? {})) all.set(k, Buffer.from(String(val)));
        for (const [k, val] of Object.entries(cm.binaryData ?? {})) all.set(k, Buffer.from(String(val), 'base64'));
        layoutVolume(hostDir, project(all, v.configMap.items, `ConfigMap ${v.configMap.name}`), v.configMap.defaultMode ?? 0o644, fsGroup);
        volumes.set(v.name, { kind: 'bind', hostDir });
      } else if (v.secret) {
        const secret = opts.secrets[v.secret.secretName];
        if (!secret) throw new Error(`CreateContainerConfigError: secret "${v.secret.secretName}" not found`);
        const all = new Map(Object.entries(secret).map(([k, val]) => [k, Buffer.from(val)]));
        layoutVolume(hostDir, project(all, v.secret.items, `Secret ${v.secret.secretName}`), v.secret.defaultMode ?? 0o644, fsGroup);
        volumes.set(v.name, { kind: 'bind', hostDir });
      } else if (v.emptyDir) {
        volumes.set(v.name, { kind: 'emptyDir' });
      } else {
        throw new Error(`volume ${v.name}: the harness lays out configMap, secret and emptyDir volumes only`);
      }
    }

    const env: Record<string, string> = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
    for (const e of container.env ?? []) {
      if (e.value !== undefined) env[e.name] = String(e.value);
      else if (e.valueFrom?.secretKeyRef) {
        const s = opts.secrets[e.valueFrom.secretKeyRef.name]?.[e.valueFrom.secretKeyRef.key];
        if (s === undefined)
          throw new Error(
            `CreateContainerConfigError: secret key ${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key} not found`,
          );
        env[e.name] = s;
      } else throw new Error(`env ${e.name}: the harness resolves value and secretKeyRef only`);
    }

    const hosts = path.join(root, 'hosts');
    writeFileSync(hosts, ['127.0.0.1 localhost', ...Object.entries(opts.hosts ?? {}).map(([h, ip]) => `${ip} ${h}`), ''].join('\n'));
    chmodSync(hosts, 0o644);

    // Mount points that do not exist on this machine get a tmpfs at their deepest existing ancestor
    // (only inside the pod's mount namespace; nothing is created on the machine).
    const targets: string[] = [
      ...(container.volumeMounts ?? []).map((m: Obj) => m.mountPath as string),
      ...Object.keys(opts.imageFiles ?? {}),
    ];
    const tmpfsRoots = new Set<string>();
    for (const t of targets) {
      if (existsSync(t)) continue;
      let anc = path.dirname(t);
      while (!existsSync(anc)) anc = path.dirname(anc);
      const real = realpathSync(anc);
      if (real === '/') throw new Error(`mount path ${t}: its top directory does not exist on this machine`);
      tmpfsRoots.add(real);
    }
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const lines = ['set -e'];
    for (const r of [...tmpfsRoots].sort()) lines.push(`mount -t tmpfs -o mode=0755 tmpfs ${q(r)}`);
    const emptyDirs: string[] = [];
    for (const m of container.volumeMounts ?? []) {
      if (m.subPath) throw new Error(`volumeMount ${m.name}: subPath (the project mounts Secrets whole so rotation reaches pods)`);
      const v = volumes.get(m.name);
      if (!v) throw new Error(`volumeMount ${m.name}: no such volume`);
      if (v.kind === 'emptyDir') {
        emptyDirs.push(m.mountPath);
        continue;
      }
      lines.push(`mkdir -p ${q(m.mountPath)}`, `mount --bind ${q(v.hostDir)} ${q(m.mountPath)}`);
      if (m.readOnly) lines.push(`mount -o remount,bind,ro ${q(m.mountPath)}`);
    }
    for (const [target, file] of Object.entries(opts.imageFiles ?? {})) {
      lines.push(
        `mkdir -p ${q(path.dirname(target))}`,
        `touch ${q(target)}`,
        `mount --bind ${q(path.resolve(file))} ${q(target)}`,
        `mount -o remount,bind,ro ${q(target)}`,
      );
    }
    lines.push(`mount --bind ${q(hosts)} /etc/hosts`);
    for (const d of emptyDirs) lines.push(`mkdir -p ${q(d)}`, `mount -t tmpfs -o mode=1777 tmpfs ${q(d)}`);
    if (sc.readOnlyRootFilesystem) lines.push('mount -o remount,bind,ro /');
    const groups = [gid, ...(fsGroup === undefined ? [] : [fsGroup])].join(',');
    const argv = [...(opts.wrapper ?? []), ...(container.command ?? []), ...(container.args ?? [])].map(q).join(' ');
    const envArgs = Object.entries(env)
      .map(([k, v]) => q(`${k}=${v}`))
      .join(' ');
    lines.push(`cd ${q(container.workingDir ?? '/')}`);
    lines.push(
      `exec setpriv --reuid=${uid} --regid=${gid} --groups=${groups} --inh-caps=-all --bounding-set=-all --no-new-privs env -i ${envArgs} ${argv}`,
    );

    return await new Promise<PodRun>((resolve, reject) => {
      const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', lines.join('\n')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let log = '';
      child.stdout.on('data', (d) => {
        stdout += String(d);
        log += String(d);
      });
      child.stderr.on('data', (d) => {
        stderr += String(d);
        log += String(d);
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ exitCode: code ?? 128, stdout, stderr, log }));
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** `items` of a configMap/secret volume: only the listed keys, at their paths; all keys otherwise. */
function project(all: Map<string, Buffer>, items: Obj[] | undefined, what: string): Map<string, Buffer> {
  if (!items) return all;
  const out = new Map<string, Buffer>();
  for (const it of items) {
    const v = all.get(it.key);
    if (v === undefined) throw new Error(`${what} has no key ${it.key} (the kubelet would fail the mount)`);
    out.set(it.path, v);
  }
  return out;
}
