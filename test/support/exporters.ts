// Real Prometheus exporters in tests: what StoresMonitoring synthesizes for them (args, env, the query file), a
// binary started on a loopback port until it serves /metrics, scraped over HTTP, samples read by name and labels.
import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { StoresMonitoring, StoresMonitoringProps } from '../../constructs/stores-monitoring';
import { freePort } from './redis';
import { byName, Json, synthScope } from './synth';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface RunningExporter {
  readonly port: number;
  /** stdout + stderr so far. */
  log(): string;
  scrape(): Promise<{ samples: Sample[]; ms: number; text: string }>;
  stop(): Promise<void>;
}

/** GET http://127.0.0.1:<port><path> as text. */
export function httpGet(port: number, path = '/metrics'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET 127.0.0.1:${port}${path} timed out`)));
    req.on('error', reject);
  });
}

/** Parses the Prometheus text format (no timestamps are used by the exporters here). */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** The value of the one sample with this name whose labels include `labels` (undefined when there is none). */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Starts `binary` with `args(port)` (a free loopback port) and waits until /metrics answers 200. */
export async function startExporter(
  binary: string,
  args: (port: number) => string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunningExporter> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(binary, args(port), { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += String(d)));
  child.stderr!.on('data', (d) => (output += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${binary} exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await httpGet(port)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 100) throw new Error(`${binary} did not serve /metrics on ${port}:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    log: () => output,
    scrape: async () => {
      const started = process.hrtime.bigint();
      const r = await httpGet(port);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (r.status !== 200) throw new Error(`scrape of ${binary} answered ${r.status}: ${r.body.slice(0, 500)}`);
      return { samples: parseExposition(r.body), ms, text: r.body };
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** What StoresMonitoring synthesizes for the exporters, as the tests run it on this machine. */
export interface RenderedExporters {
  /** The query file's bytes, from the synthesized ConfigMap. */
  readonly queries: string;
  /** postgres_exporter's synthesized args and env. */
  readonly postgresArgs: readonly string[];
  readonly postgresEnv: Readonly<Record<string, string>>;
  /** redis_exporter's synthesized args, and the env var its password comes from. */
  readonly redisArgs: readonly string[];
  readonly redisPasswordEnv: string;
}

/** Synthesizes a StoresMonitoring for these endpoints and reads the exporters' containers and query file out of the JSON. */
export function renderedExporters(props: StoresMonitoringProps): RenderedExporters {
  const { json } = synthScope((s) => new StoresMonitoring(s, 'monitoring', props));
  const instance = `caracal-${props.environment}`;
  const container = (name: string) => byName(json, 'kubernetes_deployment_v1', `${instance}-${name}`).spec.template.spec.container[0];
  const pg = container('postgres-exporter');
  const redis = container('redis-exporter');
  return {
    queries: byName(json, 'kubernetes_config_map_v1', `${instance}-postgres-exporter-queries`).data['queries.yaml'],
    postgresArgs: pg.args,
    postgresEnv: Object.fromEntries(pg.env.map((e: Json) => [e.name, e.value])),
    redisArgs: redis.args,
    redisPasswordEnv: redis.env[0].name,
  };
}

/** Replaces the value of `--name=` in a synthesized argument list (paths and addresses of this machine). */
export function withArg(args: readonly string[], name: string, value: string): string[] {
  if (!args.some((a) => a.startsWith(`${name}=`))) throw new Error(`${name} is not among ${args.join(' ')}`);
  return args.map((a) => (a.startsWith(`${name}=`) ? `${name}=${value}` : a));
}
