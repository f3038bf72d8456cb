// A real pg.Pool built only from a service's synthesized ConfigMap (and its mounted password file),
// with the pools' role settings applied via ALTER ROLE ... SET: the server enforces the timeouts.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool, PoolConfig, DatabaseError } from 'pg';
import { DatabaseSecrets, DatabaseCredentials, RoleSettings, ServicePools } from '../../../constructs';
import { byName, synthScope } from '../../support/synth';
import { FreshDatabase, freshDatabase, withClient } from '../../support/postgres';

/** What a service does with its ConfigMap: libpq env contract plus DB_* pool settings. No client-side timeouts. */
function poolFromConfigMap(data: Record<string, string>): PoolConfig {
  return {
    host: data.PGHOST,
    port: Number(data.PGPORT),
    database: data.PGDATABASE,
    user: data.PGUSER,
    password: readFileSync(data.PGPASSWORD_FILE, 'utf8'),
    ssl: data.PGSSLMODE === 'disable' ? false : { rejectUnauthorized: data.PGSSLMODE === 'verify-full' },
    max: Number(data.DB_POOL_MAX),
    connectionTimeoutMillis: Number(data.DB_CONNECTION_TIMEOUT_MS),
    idleTimeoutMillis: Number(data.DB_IDLE_TIMEOUT_MS),
    application_name: data.PGAPPNAME,
  };
}

const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** What the migration Job does with roleSettings(): idempotent ALTER ROLE ... SET per role. */
async function applyRoleSettings(url: string, settings: RoleSettings[]): Promise<void> {
  await withClient(url, async (c) => {
    for (const r of settings) {
      for (const [name, value] of Object.entries(r.settings))
        await c.query(`ALTER ROLE ${quoteIdent(r.role)} SET ${name} = ${quoteLiteral(value)}`);
    }
  });
}

describe('service pool settings on a real Postgres', () => {
  let db: FreshDatabase;
  let mount: string;
  let pool: Pool;
  let role: string;
  let configMap: Record<string, string>;

  beforeAll(async () => {
    // GIVEN an environment's pools with short server-side timeouts for the api service
    db = await freshDatabase();
    mount = mkdtempSync(path.join(tmpdir(), 'caracal-db-secret-'));
    const environment = `it${randomBytes(3).toString('hex')}`;
    let pools!: ServicePools;
    const { json } = synthScope((s) => {
      const secrets = new DatabaseSecrets(s, 'secrets', {
        environment,
        namespace: 'caracal-it',
        credentials: DatabaseCredentials.fromExistingSecret('caracal-it-db'),
      });
      pools = new ServicePools(s, 'pools', {
        environment,
        namespace: 'caracal-it',
        endpoint: { host: db.host, port: db.port, database: db.name, sslMode: 'disable' },
        maxConnections: 300,
        secrets,
        secretMountPath: mount, // where the kubelet would mount the login Secret
        services: {
          api: { poolMax: 3, statementTimeout: '300ms', idleInTransactionTimeout: '400ms', connectionTimeout: '5s', idleTimeout: '10s' },
        },
      });
    });
    configMap = byName(json, 'kubernetes_config_map_v1', pools.configMapName('api')).data;
    role = configMap.PGUSER;
    // The Secret's password file, as mounted, and the login role the migration Job would create.
    const password = randomBytes(18).toString('base64url');
    writeFileSync(configMap.PGPASSWORD_FILE, password, { mode: 0o440 });
    await withClient(db.url, (c) => c.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(password)}`));
    await applyRoleSettings(
      db.url,
      pools.roleSettings().filter((r) => r.role === role),
    );
    // WHEN a pg.Pool is built from the ConfigMap alone
    pool = new Pool(poolFromConfigMap(configMap));
    pool.on('error', () => undefined);
  });

  afterAll(async () => {
    await pool?.end().catch(() => undefined);
    await db?.drop();
    if (role) await withClient(db.url.replace(`/${db.name}`, '/postgres'), (c) => c.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`));
    rmSync(mount, { recursive: true, force: true });
  });

  test("GIVEN a service login with the pool's role settings WHEN it connects THEN its role's settings are in effect", async () => {
    const r = await pool.query('SELECT current_user AS u, current_setting($1) AS st, current_setting($2) AS iit', [
      'statement_timeout',
      'idle_in_transaction_session_timeout',
    ]);
    expect(r.rows[0]).toEqual({ u: role, st: '300ms', iit: '400ms' });
  });

  test('GIVEN the service role settings WHEN a statement runs past statement_timeout THEN the server cancels it', async () => {
    const error = await pool.query('SELECT pg_sleep(5)').then(
      () => undefined,
      (e: DatabaseError) => e,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error!.code).toBe('57014');
    expect(error!.message).toMatch(/statement timeout/);
  });

  test('GIVEN the service role settings WHEN a session is left idle inside a transaction THEN the server ends it', async () => {
    const client = await pool.connect();
    const lost = new Promise<Error>((resolve) => client.on('error', resolve));
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1');
      // The client now idles in the transaction; the server terminates the session (SQLSTATE 25P03).
      const err = (await lost) as DatabaseError;
      expect(err.code).toBe('25P03');
      await expect(client.query('SELECT 1')).rejects.toThrow();
    } finally {
      client.release(true);
    }
  });
});
