// What the Job's end-to-end tests need before their first run: the runner bundle built as `npm run build` builds it,
// and a server of the file's own that takes SCRAM passwords only and TLS for the in-cluster host name.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OwnCluster, startOwnCluster, withClient } from '../../support/postgres';
import { enableTls } from './tls';

const REPO = path.resolve(__dirname, '..', '..', '..');

/** Builds dist/caracal-migrate.cjs's twin into `dir` (readable by the pod's user) and returns its path. */
export function buildRunnerBundle(dir: string): string {
  const bundle = path.join(dir, 'caracal-migrate.cjs');
  const built = spawnSync(process.execPath, [path.join(REPO, 'scripts', 'build.mjs'), '--outfile', bundle, '--quiet'], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`npm run build failed: ${built.stderr}`);
  chmodSync(dir, 0o755);
  return bundle;
}

/** A server with `postgresFlags` that authenticates with SCRAM only and serves TLS for `host` (the CA's PEM returned). */
export async function startJobServer(host: string, postgresFlags: string[]): Promise<{ cluster: OwnCluster; caPem: string }> {
  const cluster = await startOwnCluster({ postgresFlags, logsToStderr: true });
  const hba = path.join(cluster.dataDir, 'pg_hba.conf');
  writeFileSync(hba, readFileSync(hba, 'utf8').replace(/\bpassword\s*$/gm, 'scram-sha-256'));
  await withClient(cluster.url, (c) => c.query('SELECT pg_reload_conf()'));
  // A managed database takes TLS only; the Job verifies the server against the CA in its Secret.
  return { cluster, caPem: (await enableTls(cluster, host)).caPem };
}
