// The backup tests' world: a database set up the managed way (the owner login has CREATEROLE and CREATEDB but is
// not a superuser; it migrates and provisions the logins, a backup login among them), seeded through the services'
// logins with their zone context, and the backup CronJob's script run with the Debian client of the server's major.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { PostgresBackup, PostgresBackupProps } from '../../constructs/postgres-backup';
import { BACKUP_SCRIPT } from '../../src/backup';
import { resolveConnection, ConnectionSettings } from '../../src/migrate/connection';
import { migrateUp } from '../../src/migrate/runner';
import { provisionLogins } from '../../src/provision';
import { urlForDatabase, withClient } from './postgres';
import { only, synthScope } from './synth';
import { REVOKE_LARGE_OBJECTS_SQL } from '../../src/verify/function-checks';

/** Debian's Postgres 15 client: the major of the 15 test server. */
export const PG15_BIN = '/usr/lib/postgresql/15/bin';

/**
 * Debian's Postgres 18 client (unstable's postgresql-client-18, unpacked with its own glibc by
 * scripts/fetch-pg18-client.sh, which .ci/run calls; idempotent, so a lone test file fetches it on first use).
 */
export function pg18Bin(): string {
  const script = path.resolve(__dirname, '..', '..', 'scripts', 'fetch-pg18-client.sh');
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}
const MIGRATIONS = path.resolve(__dirname, '..', '..', 'migrations');
const LOGINS = ['api', 'coordinator', 'audit', 'sts', 'gateway', 'backup'] as const;
export type Login = (typeof LOGINS)[number] | 'owner';

export interface ManagedDatabase {
  readonly env: string;
  readonly database: string;
  readonly host: string;
  readonly port: number;
  /** Every generated password (owner and logins): scanned for in logs and files. */
  readonly passwords: ReadonlyMap<Login, string>;
  login(who: Login): string;
  /** A connection as a login (the caller ends it). */
  connect(who: Login, database?: string): Promise<Client>;
  /** Connection settings as a login, for the runner and the restore. */
  settings(who: Login, database?: string): ConnectionSettings;
}

function parts(serverUrl: string) {
  const u = new URL(serverUrl);
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * As the server's superuser, only what a managed provider's admin does: the owner login (CREATEROLE, CREATEDB, not
 * a superuser) and its database, and caracal_backup WITH BYPASSRLS (on Postgres 15 only a superuser may grant it;
 * the baseline warns otherwise; on 16+ the owner also gets ADMIN on it). Then, as the owner, everything else: `up`
 * and the logins' provisioning.
 */
export async function managedDatabase(serverUrl: string, env = `b${randomBytes(3).toString('hex')}`): Promise<ManagedDatabase> {
  const { host, port } = parts(serverUrl);
  const passwords = new Map<Login, string>();
  for (const who of ['owner', ...LOGINS] as const) passwords.set(who, randomBytes(18).toString('base64url'));
  const login = (who: Login) => `caracal_${env}_${who}`;
  const database = `caracal_${env}`;
  await withClient(serverUrl, async (c) => {
    await c.query(`CREATE ROLE ${login('owner')} LOGIN CREATEROLE CREATEDB PASSWORD '${passwords.get('owner')}'`);
    await c.query(`CREATE DATABASE ${database} OWNER ${login('owner')}`);
    await c.query(
      `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'caracal_backup') THEN CREATE ROLE caracal_backup NOLOGIN BYPASSRLS; END IF; END$$`,
    );
    // Postgres 16+: a CREATEROLE login administers only the roles it created (or was given ADMIN on), so the admin
    // that created caracal_backup hands the owner ADMIN on it (no INHERIT, no SET), as the provisioning error says.
    if (Number((await c.query('SHOW server_version_num')).rows[0].server_version_num) >= 160000)
      await c.query(`GRANT caracal_backup TO ${login('owner')} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE`);
  });
  const settings = (who: Login, db = database) =>
    resolveConnection({
      PGHOST: host,
      PGPORT: String(port),
      PGUSER: login(who),
      PGPASSWORD: passwords.get(who),
      PGDATABASE: db,
      PGSSLMODE: 'disable',
    });
  await migrateUp({ dir: MIGRATIONS, connection: settings('owner') });
  // 0002 could not close the large-object functions as the owner (a WARNING): the provider's admin does it.
  await withClient(urlForDatabase(serverUrl, database), (c) => c.query(REVOKE_LARGE_OBJECTS_SQL));
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-backup-logins-'));
  const specs = LOGINS.map((who) => {
    const passwordFile = path.join(dir, who);
    writeFileSync(passwordFile, `${passwords.get(who)}\n`, { mode: 0o600 });
    return { loginRole: login(who), groupRole: `caracal_${who}`, passwordFile };
  });
  await provisionLogins(specs, settings('owner'));
  return {
    env,
    database,
    host,
    port,
    passwords,
    login,
    settings,
    async connect(who, db = database) {
      const c = new Client({ host, port, user: login(who), password: passwords.get(who), database: db });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
  };
}

/** Runs fn in a transaction with the zone context set, as that connection's login. */
async function inZone<T>(c: Client, zoneId: string | null, fn: () => Promise<T>): Promise<T> {
  await c.query('BEGIN');
  try {
    if (zoneId) await c.query(`SELECT set_config('caracal.zone_id', $1, true)`, [zoneId]);
    const r = await fn();
    await c.query('COMMIT');
    return r;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

export interface Seeded {
  readonly zones: readonly string[];
  /** Rows written per table (what the seed put in). */
  readonly rows: Readonly<Record<string, number>>;
}

/**
 * Every table of the seed's domains, written by the login the access matrix gives it, in its zone's context.
 * The audit login cannot choose ingested_at (the server clock picks today's partition), so earlier days'
 * partitions get their events from the owner login, as a replay backfill would (a migration-like write).
 */
export async function seedThroughServices(db: ManagedDatabase, scale = 40): Promise<Seeded> {
  const api = await db.connect('api');
  const coordinator = await db.connect('coordinator');
  const audit = await db.connect('audit');
  const sts = await db.connect('sts');
  const owner = await db.connect('owner');
  const zones: string[] = [];
  try {
    for (let z = 0; z < 2; z++) {
      const zoneId = randomUUID();
      zones.push(zoneId);
      await api.query(
        `INSERT INTO public.zones (id, slug, display_name, signing_key_ref, encryption_key_ref) VALUES ($1, $2, $2, 'kms:alias/caracal-signing', 'kms:alias/caracal-encryption')`,
        [zoneId, `zone-${z}-${randomBytes(2).toString('hex')}`],
      );
      const providerId = randomUUID();
      const apps = Array.from({ length: scale }, () => randomUUID());
      const resources = Array.from({ length: scale }, () => randomUUID());
      const sessions = Array.from({ length: scale }, () => randomUUID());
      const policyId = randomUUID();
      const policySetId = randomUUID();
      await inZone(api, zoneId, async () => {
        const q = (sql: string, params: unknown[]) => api.query(sql, params);
        await q(
          `INSERT INTO public.providers (id, zone_id, name, kind, client_secret_ref) VALUES ($1, $2, 'idp', 'oidc', 'vault:kv/caracal/idp')`,
          [providerId, zoneId],
        );
        await q(
          `INSERT INTO public.applications (id, zone_id, name) SELECT a, $2, 'app-' || n FROM unnest($1::uuid[]) WITH ORDINALITY u(a, n)`,
          [apps, zoneId],
        );
        await q(
          `INSERT INTO public.resources (id, zone_id, provider_id, name, uri) SELECT r, $2, $3, 'res-' || n, 'https://api.example/' || n FROM unnest($1::uuid[]) WITH ORDINALITY u(r, n)`,
          [resources, zoneId, providerId],
        );
        await q(
          `INSERT INTO public.application_dependencies (zone_id, application_id, resource_id, scopes) SELECT $3, a, r, '{read}' FROM unnest($1::uuid[], $2::uuid[]) u(a, r)`,
          [apps, resources, zoneId],
        );
        await q(
          `INSERT INTO public.sessions (id, zone_id, subject, application_id, token_hash, expires_at)
           SELECT s, $3, 'user-' || n, a, pg_catalog.sha256(s::text::bytea), now() + interval '1 hour' FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY u(s, a, n)`,
          [sessions, apps, zoneId],
        );
        await q(
          `INSERT INTO public.delegated_grants (zone_id, subject, application_id, resource_id, session_id, scopes)
           SELECT $4, 'user-' || n, a, r, s, '{read}' FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) WITH ORDINALITY u(a, r, s, n)`,
          [apps, resources, sessions, zoneId],
        );
        await q(
          `INSERT INTO public.provider_grants (zone_id, provider_id, subject, access_token_ciphertext, encryption_key_id)
           SELECT $1, $2, 'user-' || n, pg_catalog.sha256(n::text::bytea), 'enc-2026-01' FROM generate_series(1, $3::int) n`,
          [zoneId, providerId, scale],
        );
        await q(`INSERT INTO public.policies (id, zone_id, name) VALUES ($1, $2, 'pol')`, [policyId, zoneId]);
        await q(
          `INSERT INTO public.policy_versions (zone_id, policy_id, version, document, document_sha256, created_by) VALUES ($1, $2, 1, '{"allow": true}', $3, 'admin')`,
          [zoneId, policyId, randomBytes(32)],
        );
        await q(`INSERT INTO public.policy_sets (id, zone_id, name) VALUES ($1, $2, 'set')`, [policySetId, zoneId]);
        await q(
          `INSERT INTO public.policy_set_versions (zone_id, policy_set_id, version, members, document_sha256, created_by) VALUES ($1, $2, 1, $3, $4, 'admin')`,
          [zoneId, policySetId, JSON.stringify([{ policy_id: policyId, version: 1 }]), randomBytes(32)],
        );
        await q(
          `INSERT INTO public.policy_set_bindings (zone_id, policy_set_id, policy_set_version, application_id) SELECT $1, $2, 1, a FROM unnest($3::uuid[]) a`,
          [zoneId, policySetId, apps],
        );
        await q(`INSERT INTO public.gateway_binding_revision (zone_id, revision) VALUES ($1, 1)`, [zoneId]);
        await q(
          `INSERT INTO public.gateway_resource_bindings (zone_id, resource_id, route, upstream_uri, revision)
           SELECT $2, r, '/r/' || n, 'https://upstream.example/' || n, 1 FROM unnest($1::uuid[]) WITH ORDINALITY u(r, n)`,
          [resources, zoneId],
        );
        await q(
          `INSERT INTO public.resource_rate_limits (zone_id, resource_id, requests, window_seconds) SELECT $2, r, 100, 60 FROM unnest($1::uuid[]) r`,
          [resources, zoneId],
        );
        await q(
          `INSERT INTO public.event_outbox (zone_id, topic, aggregate_type, aggregate_id, payload) SELECT $2, 'application.created', 'application', a, '{}' FROM unnest($1::uuid[]) a`,
          [apps, zoneId],
        );
        await q(
          `INSERT INTO public.caracal_outbox (zone_id, stream, message_key, payload) SELECT $2, 'revocation', s::text, '{}' FROM unnest($1::uuid[]) s`,
          [sessions, zoneId],
        );
      });
      await api.query(
        `INSERT INTO public.admin_tokens (name, token_prefix, token_hash, hmac_key_id, zone_id, scopes, created_by, expires_at)
         VALUES ('ops', 'ctk_' || substr(md5($2), 1, 6), pg_catalog.sha256($2::bytea), 'hmac-2026-01', $1, '{zones:write}', 'admin', now() + interval '30 days')`,
        [zoneId, randomUUID()],
      );
      await api.query(
        `INSERT INTO public.admin_audit_events (admin_token_id, actor, action, zone_id, target_type, target_id)
         SELECT (SELECT id FROM public.admin_tokens WHERE zone_id = $1), 'admin', 'zone.update', $1, 'zone', $1::text FROM generate_series(1, $2::int)`,
        [zoneId, scale],
      );
      await inZone(sts, zoneId, () =>
        sts.query(
          `INSERT INTO public.step_up_challenges (zone_id, session_id, method, challenge_hash, expires_at)
           SELECT $2, s, 'totp', pg_catalog.sha256(s::text::bytea), now() + interval '5 minutes' FROM unnest($1::uuid[]) s`,
          [sessions, zoneId],
        ),
      );
      const agents = Array.from({ length: scale }, () => randomUUID());
      const services = Array.from({ length: scale }, () => randomUUID());
      await inZone(coordinator, zoneId, async () => {
        const q = (sql: string, params: unknown[]) => coordinator.query(sql, params);
        await q(
          `INSERT INTO public.agent_sessions (id, zone_id, application_id, agent_name, principal_subject, expires_at)
           SELECT g, $2, $3, 'agent-' || n, 'user-1', now() + interval '1 hour' FROM unnest($1::uuid[]) WITH ORDINALITY u(g, n)`,
          [agents, zoneId, apps[0]],
        );
        await q(
          `INSERT INTO public.agent_topology (zone_id, parent_agent_session_id, child_agent_session_id) SELECT $3, p, c FROM unnest($1::uuid[], $2::uuid[]) u(p, c)`,
          [agents.slice(0, -1), agents.slice(1), zoneId],
        );
        await q(
          `INSERT INTO public.agent_services (id, zone_id, agent_session_id, name, protocol, endpoint_uri)
           SELECT s, $3, g, 'tools', 'mcp', 'http://agent/' || n FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY u(s, g, n)`,
          [services, agents, zoneId],
        );
        await q(
          `INSERT INTO public.agent_invocations (zone_id, caller_agent_session_id, agent_service_id) SELECT $3, g, s FROM unnest($1::uuid[], $2::uuid[]) u(g, s)`,
          [agents, services, zoneId],
        );
        await q(`INSERT INTO public.delegation_graph_epochs (zone_id, epoch, reason) VALUES ($1, 1, 'seed')`, [zoneId]);
        await q(
          `INSERT INTO public.delegation_edges (zone_id, delegate_agent_session_id, principal_subject, scopes, epoch, expires_at)
           SELECT $2, g, 'user-1', '{read}', 1, now() + interval '1 hour' FROM unnest($1::uuid[]) g`,
          [agents, zoneId],
        );
        await q(
          `INSERT INTO public.caracal_outbox (zone_id, stream, message_key, payload) SELECT $2, 'invalidation', g::text, '{}' FROM unnest($1::uuid[]) g`,
          [agents, zoneId],
        );
      });
      await inZone(audit, zoneId, () =>
        audit.query(
          `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type, hmac_key_id, payload_hmac)
           SELECT $1, gen_random_uuid(), now() - n * interval '1 second', 'sts', 'token.issued', 'hmac-2026-01', pg_catalog.sha256(n::text::bytea) FROM generate_series(1, $2::int) n`,
          [zoneId, scale * 25],
        ),
      );
      // Earlier days: a replay backfill, as the owner (the audit login may not set ingested_at).
      await owner.query('SET ROLE caracal_owner');
      await inZone(owner, zoneId, () =>
        owner.query(
          `INSERT INTO public.audit_events (zone_id, event_id, ingested_at, occurred_at, source, event_type)
           SELECT $1, gen_random_uuid(), date_trunc('day', now()) - d * interval '1 day' + n * interval '1 minute', now() - d * interval '1 day', 'gateway', 'request.allowed'
             FROM generate_series(1, 3) d, generate_series(1, $2::int) n`,
          [zoneId, scale],
        ),
      );
      await owner.query('RESET ROLE');
    }
    await inZone(audit, null, async () => {
      await audit.query(`INSERT INTO public.audit_export_watermark (sink, exported_through) VALUES ('siem', now() - interval '1 day')`);
      await audit.query(`INSERT INTO public.audit_ingest_alerts (source, kind, detail) VALUES ('gateway', 'replay_gap', 'seeded')`);
    });
  } finally {
    await Promise.all([api, coordinator, audit, sts, owner].map((c) => c.end().catch(() => undefined)));
  }
  return { zones, rows: {} };
}

export interface ScriptRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The backup CronJob's script, run by bash with `pgBin` first on PATH, as the backup login. */
export async function runBackupScript(
  db: ManagedDatabase,
  root: string,
  pgBin: string,
  extraEnv: Record<string, string> = {},
): Promise<ScriptRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-backup-script-'));
  const script = path.join(dir, 'backup.sh');
  const passwordFile = path.join(dir, 'password');
  writeFileSync(script, BACKUP_SCRIPT, { mode: 0o700 });
  writeFileSync(passwordFile, db.passwords.get('backup')!, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    PATH: `${pgBin}:${process.env.PATH}`,
    HOME: dir,
    PGHOST: db.host,
    PGPORT: String(db.port),
    PGDATABASE: db.database,
    PGUSER: db.login('backup'),
    PGPASSWORD_FILE: passwordFile,
    PGSSLMODE: 'disable',
    BACKUP_ROOT: root,
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A container as the synthesized CronJob has it. */
export interface SynthesizedContainer {
  readonly command: string[];
  readonly env: Array<{ name: string; value: string }>;
}

/** The backup CronJob's container as the composite builds it for `db`'s environment (its login is caracal_<env>_backup). */
export function backupCronJobContainer(db: ManagedDatabase, extra: Partial<PostgresBackupProps> = {}): SynthesizedContainer {
  const { json } = synthScope(
    (s) =>
      new PostgresBackup(s, 'backup', {
        environment: db.env,
        namespace: 'caracal',
        endpoint: { host: 'postgres.caracal.svc.cluster.local', port: 5432, database: 'caracal', sslMode: 'disable' },
        login: {
          login: 'backup',
          username: db.login('backup'),
          groupRole: 'caracal_backup',
          secretName: 'caracal-db-backup',
          usernameKey: 'username',
          passwordKey: 'password',
          version: 'test',
        },
        ...extra,
      }),
  );
  return only(json, 'kubernetes_cron_job_v1').spec.job_template.spec.template.spec.container[0];
}

/**
 * Runs a synthesized backup container's exact command with its env and `pgBin` first on PATH: only the connection
 * target, the mounted password file and the volume's path are this machine's.
 */
export async function runCronJobContainer(
  container: SynthesizedContainer,
  db: ManagedDatabase,
  backupRoot: string,
  pgBin: string,
): Promise<{ code: number | null; out: string }> {
  const home = mkdtempSync(path.join(tmpdir(), 'caracal-backup-job-'));
  const passwordFile = path.join(home, 'password');
  writeFileSync(passwordFile, db.passwords.get('backup')!, { mode: 0o400 });
  const env: Record<string, string> = { PATH: `${pgBin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home };
  for (const e of container.env) env[e.name] = e.value;
  Object.assign(env, {
    PGHOST: db.host,
    PGPORT: String(db.port),
    PGDATABASE: db.database,
    PGPASSWORD_FILE: passwordFile,
    BACKUP_ROOT: backupRoot,
  });
  try {
    return await new Promise((resolve) => {
      const child = spawn(container.command[0], container.command.slice(1), { env });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      child.on('close', (code) => resolve({ code, out }));
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** The owner login of `db`'s environment on another server (its URL): what a provider's admin creates before a restore. */
export async function ownerLoginOn(db: ManagedDatabase, cluster: { readonly url: string }): Promise<string> {
  const login = db.login('owner');
  await withClient(cluster.url, (c) =>
    c.query(`DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${login}') THEN
               CREATE ROLE ${login} LOGIN CREATEROLE CREATEDB PASSWORD '${db.passwords.get('owner')}'; END IF; END$$`),
  );
  const u = new URL(cluster.url);
  return `postgres://${login}:${encodeURIComponent(db.passwords.get('owner')!)}@${u.host}/postgres?sslmode=disable`;
}

/** A server's superuser URL without TLS (the test servers have none). */
export function superuserUrl(cluster: { readonly url: string }): string {
  const u = new URL(cluster.url);
  u.searchParams.set('sslmode', 'disable');
  return u.toString();
}
