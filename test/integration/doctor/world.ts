// A healthy Caracal for doctor tests, on real servers: the run's Postgres (a database migrated once per file and
// copied per test with CREATE DATABASE ... TEMPLATE, plus an environment's logins provisioned by the runner's own
// provisioning), and a redis-server with the rendered config and ACL file, every stream with its readers' groups.
// Each test breaks one thing and reads the doctor's verdict.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { STREAM_ACCESS, STREAMS, type RedisUser, type StreamName } from '../../../common/redis-streams';
import { GROUP_ROLES, LOGINS, loginRoleName, SERVICES } from '../../../common/names';
import type { CheckId, CheckVerdict, DoctorOptions, DoctorReport } from '../../../src/doctor';
import { resolvePostgresTarget, runDoctor } from '../../../src/doctor';
import { provisionLogins } from '../../../src/provision';
import { FreshDatabase, serverUrl, urlForDatabase, withClient } from '../../support/postgres';
import { CaracalRedis, startCaracalRedis } from '../../support/redis';
import { applySet, MIGRATIONS_DIR, settingsFor } from '../../fixtures/validate/migration-sets';

export interface DoctorWorld {
  /** The environment whose logins exist (caracal_<env>_<login>). */
  readonly environment: string;
  readonly redis: CaracalRedis;
  /** A directory of files: passwords, ConfigMap mounts. */
  readonly files: string;
  /** A migrated database of its own for one test (a copy of the file's template). */
  database(): Promise<FreshDatabase>;
  /** The runner's environment contract for `db` as the superuser (password in PGPASSWORD_FILE). */
  pgEnv(db: FreshDatabase, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Doctor options for `db`: every Redis user, every service's pool, the migrations, the environment. */
  options(db: FreshDatabase, overrides?: Partial<DoctorOptions>): DoctorOptions;
  /** The password file of one of the environment's logins (caracal_<env>_<login>). */
  loginPasswordFile(login: (typeof LOGINS)[number]): string;
  /** A password file for a Redis user (the right password unless `content` is given). */
  redisPasswordFile(user: RedisUser, content?: string): string;
  /** Every stream back to healthy: emptied, with every reader's group. */
  resetStreams(): Promise<void>;
  destroy(): Promise<void>;
}

/** The pool size the world's services run with. */
export const POOL_MAX = 4;

export async function startDoctorWorld(): Promise<DoctorWorld> {
  const files = mkdtempSync(path.join(os.tmpdir(), 'caracal-doctor-'));
  const environment = `d${randomBytes(4).toString('hex')}`;
  const template = `caracal_doctor_tpl_${process.pid}_${randomBytes(3).toString('hex')}`;
  const base = serverUrl();
  await withClient(base, (c) => c.query(`CREATE DATABASE "${template}"`));
  await applySet(MIGRATIONS_DIR, urlForDatabase(base, template));
  // The environment's logins, as the migration Job provisions them (cluster-wide roles).
  const specs = LOGINS.map((login) => {
    const passwordFile = path.join(files, `pg-${login}`);
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    return { loginRole: loginRoleName(environment, login), groupRole: GROUP_ROLES[login], passwordFile };
  });
  await provisionLogins(specs, settingsFor(urlForDatabase(base, template)));
  await withClient(base, (c) => c.query(`ALTER DATABASE "${template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`));

  const redis = await startCaracalRedis();
  const made: FreshDatabase[] = [];
  let n = 0;
  const world: DoctorWorld = {
    environment,
    redis,
    files,
    async database() {
      const name = `${template.replace('_tpl_', '_')}_${++n}`;
      await withClient(base, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
      const url = urlForDatabase(base, name);
      const u = new URL(url);
      const db: FreshDatabase = {
        name,
        url,
        host: u.hostname,
        port: Number(u.port),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        drop: () => withClient(base, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
      };
      made.push(db);
      return db;
    },
    pgEnv(db, extra = {}) {
      const passwordFile = path.join(files, `superuser-${db.name}`);
      writeFileSync(passwordFile, `${db.password}\n`, { mode: 0o600 });
      return {
        HOME: files,
        PGHOST: db.host,
        PGPORT: String(db.port),
        PGUSER: db.user,
        PGDATABASE: db.name,
        PGPASSWORD_FILE: passwordFile,
        PGSSLMODE: 'disable',
        PGCONNECT_TIMEOUT: '5',
        ...extra,
      };
    },
    options(db, overrides = {}) {
      const users = (Object.keys(redis.passwords) as RedisUser[]).map((user) => ({
        user,
        passwordFile: world.redisPasswordFile(user),
        source: 'test',
      }));
      return {
        postgres: resolvePostgresTarget(world.pgEnv(db)),
        redis: { host: '127.0.0.1', port: redis.server.port, users },
        pools: SERVICES.map((s) => ({ applicationName: `caracal-${s}`, poolMax: POOL_MAX, source: 'test' })),
        dir: MIGRATIONS_DIR,
        environment,
        ...overrides,
      };
    },
    loginPasswordFile(login) {
      return specs.find((s) => s.loginRole === loginRoleName(environment, login))!.passwordFile;
    },
    redisPasswordFile(user, content) {
      const file = path.join(files, `redis-${user}${content === undefined ? '' : `-${randomBytes(3).toString('hex')}`}`);
      writeFileSync(file, content ?? `${redis.passwords[user]}\n`, { mode: 0o600 });
      return file;
    },
    async resetStreams() {
      const ops = await redis.as('ops');
      for (const stream of Object.keys(STREAMS) as StreamName[]) {
        await ops.command('DEL', STREAMS[stream]);
        for (const group of STREAM_ACCESS[stream].consumers) await ops.command('XGROUP', 'CREATE', STREAMS[stream], group, '$', 'MKSTREAM');
      }
      await redis.closeAll();
    },
    async destroy() {
      await redis.destroy();
      for (const db of made) await db.drop().catch(() => undefined);
      await withClient(base, async (c) => {
        await c.query(`ALTER DATABASE "${template}" WITH IS_TEMPLATE false`);
        await c.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
        for (const s of specs) await c.query(`DROP ROLE IF EXISTS "${s.loginRole}"`);
      });
      rmSync(files, { recursive: true, force: true });
    },
  };
  await world.resetStreams();
  return world;
}

/** One check's verdict from a report. */
export function verdict(report: DoctorReport, id: CheckId): CheckVerdict {
  const found = report.rows.flatMap((r) => r.checks).find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in the report`);
  return found;
}

/** Runs doctor and returns the report (the options' rows only). */
export function doctor(options: DoctorOptions): Promise<DoctorReport> {
  return runDoctor(options);
}

/** A client on `db` as the superuser, closed by the caller. */
export async function superuser(db: FreshDatabase, applicationName?: string): Promise<Client> {
  const c = new Client({ connectionString: db.url, application_name: applicationName });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

/** A zone to hang rows on. */
export async function zone(c: Client): Promise<string> {
  const r = await c.query<{ id: string }>(`INSERT INTO public.zones (slug, display_name) VALUES ($1, 'Doctor test') RETURNING id`, [
    `z-${randomBytes(4).toString('hex')}`,
  ]);
  return r.rows[0].id;
}
