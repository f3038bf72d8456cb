// The Caracal schema in tests: apply the migrations to a database, act as a group role with a zone
// context, seed one row per zone-scoped table, and read docs/access-matrix.md (parser reusable by verify).
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { FreshDatabase, freshDatabase, serverUrl, withClient } from './postgres';
import { resolveConnection } from '../../src/migrate/connection';
import { migrateUp } from '../../src/migrate/runner';
import { MATRIX_ROLES, PRIVILEGES, SERVICE_ROLES, type MatrixRole } from '../../src/verify/access-matrix';

const repoRoot = path.resolve(__dirname, '..', '..');

export const MIGRATIONS_DIR = path.join(repoRoot, 'migrations');
export const BASELINE_FILE = path.join(MIGRATIONS_DIR, '0001_baseline.up.sql');
export const ACCESS_MATRIX_FILE = path.join(repoRoot, 'docs', 'access-matrix.md');

/** The session setting that carries the zone context the RLS policies read. */
export const ZONE_GUC = 'caracal.zone_id';
// Role and privilege names are the verify command's (src/verify/access-matrix.ts): one definition.
export { MATRIX_ROLES, OWNER_ROLE, PRIVILEGE_NAMES, PRIVILEGES, SERVICE_ROLES } from '../../src/verify/access-matrix';
export type { MatrixRole, Privilege } from '../../src/verify/access-matrix';
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** `api` -> `caracal_api`. */
export function roleName(role: MatrixRole | 'owner'): string {
  return `caracal_${role}`;
}

// ------------------------------------------------------------------------------------------------
// Access matrix
// ------------------------------------------------------------------------------------------------

export interface AccessMatrixRow {
  readonly table: string;
  /** `zone`: RLS enabled + forced with the zone policy; `none`: a global table. */
  readonly rls: 'zone' | 'none';
  /** Privileges per role, as the letters of the cell in S, I, U, D order ('' for `-`). */
  readonly cells: Readonly<Record<MatrixRole, string>>;
  readonly why: string;
  /** 1-based line in the markdown file, for error messages. */
  readonly line: number;
}

export interface AccessMatrix {
  readonly rows: readonly AccessMatrixRow[];
  row(table: string): AccessMatrixRow;
  readonly zoneScopedTables: readonly string[];
}

export class AccessMatrixFormatError extends Error {}

/** Canonical form of a cell: the letters it grants in S, I, U, D order; '' for '-'. */
export function normalizeCell(cell: string): string {
  return PRIVILEGES.filter((p) => cell.includes(p)).join('');
}

/**
 * Parses the table between `<!-- access-matrix:begin -->` and `<!-- access-matrix:end -->`. Throws
 * AccessMatrixFormatError naming the line for an unknown role column, a malformed cell or rls value,
 * or a duplicated table.
 */
export function parseAccessMatrix(markdown: string): AccessMatrix {
  const lines = markdown.split('\n');
  const begin = lines.findIndex((l) => l.includes('<!-- access-matrix:begin -->'));
  const end = lines.findIndex((l) => l.includes('<!-- access-matrix:end -->'));
  if (begin < 0 || end < begin) {
    throw new AccessMatrixFormatError('access matrix: markers <!-- access-matrix:begin/end --> not found');
  }
  const splitRow = (l: string) =>
    l
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((c) => c.trim());
  const tableLines = lines
    .slice(begin + 1, end)
    .map((text, i) => ({ text, line: begin + 2 + i }))
    .filter((l) => l.text.trim().startsWith('|'));
  if (tableLines.length < 2) throw new AccessMatrixFormatError('access matrix: no table between the markers');
  const header = splitRow(tableLines[0].text);
  const expected = ['table', 'rls', ...MATRIX_ROLES, 'why'];
  if (header.join(',') !== expected.join(',')) {
    throw new AccessMatrixFormatError(
      `access matrix line ${tableLines[0].line}: header must be | ${expected.join(' | ')} |, got | ${header.join(' | ')} |`,
    );
  }
  const rows: AccessMatrixRow[] = [];
  for (const { text, line } of tableLines.slice(2)) {
    const cols = splitRow(text);
    if (cols.length !== expected.length) {
      throw new AccessMatrixFormatError(`access matrix line ${line}: ${cols.length} columns, expected ${expected.length}`);
    }
    const [table, rls] = cols;
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new AccessMatrixFormatError(`access matrix line ${line}: bad table name "${table}"`);
    if (rls !== 'zone' && rls !== 'none')
      throw new AccessMatrixFormatError(`access matrix line ${line}: rls must be zone or none, got "${rls}"`);
    if (rows.some((r) => r.table === table)) throw new AccessMatrixFormatError(`access matrix line ${line}: table ${table} listed twice`);
    const cells = {} as Record<MatrixRole, string>;
    MATRIX_ROLES.forEach((role, i) => {
      const cell = cols[2 + i];
      if (cell !== '-' && !/^S?I?U?D?$/.test(cell)) {
        throw new AccessMatrixFormatError(
          `access matrix line ${line}: ${table}/${role} cell "${cell}" must be "-" or letters of SIUD in that order`,
        );
      }
      cells[role] = cell === '-' ? '' : cell;
    });
    rows.push({ table, rls, cells, why: cols[cols.length - 1], line });
  }
  return {
    rows,
    row(table: string) {
      const found = rows.find((r) => r.table === table);
      if (!found) throw new AccessMatrixFormatError(`access matrix: no row for table ${table}`);
      return found;
    },
    zoneScopedTables: rows.filter((r) => r.rls === 'zone').map((r) => r.table),
  };
}

/** docs/access-matrix.md, parsed. */
export function readAccessMatrix(file: string = ACCESS_MATRIX_FILE): AccessMatrix {
  return parseAccessMatrix(readFileSync(file, 'utf8'));
}

/**
 * What the catalog grants `role` on `public.<table>`, as a matrix cell ('' for none). A letter counts
 * when the role holds the privilege on the table or on at least one column (column-level grants).
 */
export async function grantedCell(client: Client, role: string, table: string): Promise<string> {
  const { rows } = await client.query<{ s: boolean; i: boolean; u: boolean; d: boolean }>(
    `SELECT has_any_column_privilege($1, $2, 'SELECT') AS s, has_any_column_privilege($1, $2, 'INSERT') AS i,
            has_any_column_privilege($1, $2, 'UPDATE') AS u, has_table_privilege($1, $2, 'DELETE') AS d`,
    [role, `public.${table}`],
  );
  const r = rows[0];
  return `${r.s ? 'S' : ''}${r.i ? 'I' : ''}${r.u ? 'U' : ''}${r.d ? 'D' : ''}`;
}

// ------------------------------------------------------------------------------------------------
// Applying the baseline
// ------------------------------------------------------------------------------------------------

export function readBaseline(): string {
  return readFileSync(BASELINE_FILE, 'utf8');
}

/**
 * Applies migrations/0001_baseline.up.sql (or `sql`) the way the runner does (one transaction), without
 * recording it in public.schema_migrations (the runner's table).
 */
export async function applyBaseline(url: string, sql: string = readBaseline()): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('BEGIN');
    try {
      await c.query(sql);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  });
}

/** Every file of migrations/, in version order: the schema a fresh `caracal-migrate up` leaves. */
export function readMigrations(): Array<{ file: string; sql: string }> {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.up.sql'))
    .sort()
    .map((file) => ({ file, sql: readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8') }));
}

/**
 * Applies every migration file with the runner core, as `caracal-migrate up` does (its history table first:
 * 0003 grants on it), as the URL's login.
 */
export async function applySchema(url: string): Promise<void> {
  const u = new URL(url);
  u.searchParams.set('sslmode', 'disable');
  await migrateUp({ dir: MIGRATIONS_DIR, connection: resolveConnection({}, { databaseUrl: u.toString() }), lockWaitMs: 60_000 });
}

/** A fresh database on the run's server with every migration applied (the baseline and the files after it). */
export async function baselineDatabase(base: string = serverUrl(), prefix = 'caracal_schema'): Promise<FreshDatabase> {
  const db = await freshDatabase(base, prefix);
  try {
    await applySchema(db.url);
  } catch (e) {
    await db.drop().catch(() => undefined);
    throw e;
  }
  return db;
}

// ------------------------------------------------------------------------------------------------
// Acting as a role
// ------------------------------------------------------------------------------------------------

export interface RoleOptions {
  /** Zone context (`caracal.zone_id`) for the transaction; omitted or null = no context. */
  readonly zoneId?: string | null;
  /** Commit instead of rolling back (default: roll back, so nothing the role does persists). */
  readonly commit?: boolean;
}

/**
 * Runs `fn` in a transaction as `role` (SET LOCAL ROLE, so the connection must be a superuser or a
 * member) with the zone context set locally; rolls back unless `commit`.
 */
export async function asRole<T>(client: Client, role: string, fn: (c: Client) => Promise<T>, options: RoleOptions = {}): Promise<T> {
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL ROLE ${quoteIdent(role)}`);
    if (options.zoneId) await client.query(`SELECT set_config($1, $2, true)`, [ZONE_GUC, options.zoneId]);
    const result = await fn(client);
    await client.query(options.commit ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

export interface SqlFailure {
  readonly code: string;
  readonly message: string;
}

/**
 * Runs one statement inside a savepoint of the current transaction and reports how it failed (null
 * when it succeeded); the transaction stays usable either way.
 */
export async function attempt(client: Client, sql: string, params: unknown[] = []): Promise<SqlFailure | null> {
  await client.query('SAVEPOINT caracal_attempt');
  try {
    await client.query(sql, params);
    await client.query('RELEASE SAVEPOINT caracal_attempt');
    return null;
  } catch (e) {
    await client.query('ROLLBACK TO SAVEPOINT caracal_attempt');
    const err = e as { code?: string; message?: string };
    return { code: String(err.code ?? ''), message: String(err.message ?? e) };
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

// ------------------------------------------------------------------------------------------------
// Fixtures
// ------------------------------------------------------------------------------------------------

export interface SeededZone {
  readonly zoneId: string;
  readonly applicationId: string;
  readonly resourceId: string;
  readonly sessionId: string;
  readonly policyId: string;
  readonly agentSessionIds: readonly [string, string];
  readonly auditEventId: string;
}

const hash32 = () => randomBytes(32);

/**
 * Creates a zone and one row in every zone-scoped table for it (plus rows of the global tables that
 * carry a zone_id). Run as a superuser: superusers bypass RLS. Used by RLS tests, backups and verify.
 */
export async function seedZone(client: Client, slug = `zone-${randomBytes(4).toString('hex')}`): Promise<SeededZone> {
  const zoneId = randomUUID();
  const providerId = randomUUID();
  const applicationId = randomUUID();
  const resourceId = randomUUID();
  const sessionId = randomUUID();
  const policyId = randomUUID();
  const policySetId = randomUUID();
  const agentA = randomUUID();
  const agentB = randomUUID();
  const agentServiceId = randomUUID();
  const auditEventId = randomUUID();
  const q = (sql: string, params: unknown[]) => client.query(sql, params);
  await q(`INSERT INTO public.zones (id, slug, display_name, signing_key_ref) VALUES ($1, $2, $2, 'kms:alias/caracal-signing')`, [
    zoneId,
    slug,
  ]);
  await q(
    `INSERT INTO public.providers (id, zone_id, name, kind, client_secret_ref) VALUES ($1, $2, 'idp', 'oidc', 'vault:kv/caracal/idp')`,
    [providerId, zoneId],
  );
  await q(`INSERT INTO public.applications (id, zone_id, name) VALUES ($1, $2, 'app')`, [applicationId, zoneId]);
  await q(`INSERT INTO public.resources (id, zone_id, provider_id, name, uri) VALUES ($1, $2, $3, 'res', 'https://api.example/res')`, [
    resourceId,
    zoneId,
    providerId,
  ]);
  await q(`INSERT INTO public.application_dependencies (zone_id, application_id, resource_id, scopes) VALUES ($1, $2, $3, '{read}')`, [
    zoneId,
    applicationId,
    resourceId,
  ]);
  await q(
    `INSERT INTO public.sessions (id, zone_id, subject, application_id, token_hash, expires_at) VALUES ($1, $2, 'user-1', $3, $4, now() + interval '1 hour')`,
    [sessionId, zoneId, applicationId, hash32()],
  );
  await q(
    `INSERT INTO public.delegated_grants (zone_id, subject, application_id, resource_id, session_id, scopes) VALUES ($1, 'user-1', $2, $3, $4, '{read}')`,
    [zoneId, applicationId, resourceId, sessionId],
  );
  await q(
    `INSERT INTO public.provider_grants (zone_id, provider_id, subject, access_token_ciphertext, encryption_key_id) VALUES ($1, $2, 'user-1', $3, 'kms-key-1')`,
    [zoneId, providerId, randomBytes(64)],
  );
  await q(
    `INSERT INTO public.step_up_challenges (zone_id, session_id, method, challenge_hash, expires_at) VALUES ($1, $2, 'totp', $3, now() + interval '5 minutes')`,
    [zoneId, sessionId, hash32()],
  );
  await q(`INSERT INTO public.policies (id, zone_id, name) VALUES ($1, $2, 'pol')`, [policyId, zoneId]);
  await q(
    `INSERT INTO public.policy_versions (zone_id, policy_id, version, document, document_sha256, created_by) VALUES ($1, $2, 1, '{"allow": true}', $3, 'admin')`,
    [zoneId, policyId, hash32()],
  );
  await q(`INSERT INTO public.policy_sets (id, zone_id, name) VALUES ($1, $2, 'set')`, [policySetId, zoneId]);
  await q(
    `INSERT INTO public.policy_set_versions (zone_id, policy_set_id, version, members, document_sha256, created_by) VALUES ($1, $2, 1, $3, $4, 'admin')`,
    [zoneId, policySetId, JSON.stringify([{ policy_id: policyId, version: 1 }]), hash32()],
  );
  await q(`INSERT INTO public.policy_set_bindings (zone_id, policy_set_id, policy_set_version, application_id) VALUES ($1, $2, 1, $3)`, [
    zoneId,
    policySetId,
    applicationId,
  ]);
  await q(
    `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type) VALUES ($1, $2, now(), 'sts', 'token.issued')`,
    [zoneId, auditEventId],
  );
  for (const id of [agentA, agentB]) {
    await q(
      `INSERT INTO public.agent_sessions (id, zone_id, application_id, agent_name, principal_subject, expires_at) VALUES ($1, $2, $3, 'agent', 'user-1', now() + interval '1 hour')`,
      [id, zoneId, applicationId],
    );
  }
  await q(`INSERT INTO public.agent_topology (zone_id, parent_agent_session_id, child_agent_session_id) VALUES ($1, $2, $3)`, [
    zoneId,
    agentA,
    agentB,
  ]);
  await q(
    `INSERT INTO public.agent_services (id, zone_id, agent_session_id, name, protocol, endpoint_uri) VALUES ($1, $2, $3, 'tools', 'mcp', 'http://agent-b/mcp')`,
    [agentServiceId, zoneId, agentB],
  );
  await q(`INSERT INTO public.agent_invocations (zone_id, caller_agent_session_id, agent_service_id) VALUES ($1, $2, $3)`, [
    zoneId,
    agentA,
    agentServiceId,
  ]);
  await q(`INSERT INTO public.delegation_graph_epochs (zone_id, epoch, reason) VALUES ($1, 1, 'seed')`, [zoneId]);
  await q(
    `INSERT INTO public.delegation_edges (zone_id, delegate_agent_session_id, principal_subject, scopes, epoch, expires_at) VALUES ($1, $2, 'user-1', '{read}', 1, now() + interval '1 hour')`,
    [zoneId, agentA],
  );
  await q(`INSERT INTO public.gateway_binding_revision (zone_id, revision) VALUES ($1, 1)`, [zoneId]);
  await q(
    `INSERT INTO public.gateway_resource_bindings (zone_id, resource_id, route, upstream_uri, revision) VALUES ($1, $2, '/res', 'https://upstream.example', 1)`,
    [zoneId, resourceId],
  );
  await q(`INSERT INTO public.resource_rate_limits (zone_id, resource_id, requests, window_seconds) VALUES ($1, $2, 100, 60)`, [
    zoneId,
    resourceId,
  ]);
  await q(
    `INSERT INTO public.event_outbox (zone_id, topic, aggregate_type, aggregate_id, payload) VALUES ($1, 'application.created', 'application', $2, '{}')`,
    [zoneId, applicationId],
  );
  await q(`INSERT INTO public.caracal_outbox (zone_id, stream, message_key, payload) VALUES ($1, 'revocation', $2, '{}')`, [
    zoneId,
    sessionId,
  ]);
  return { zoneId, applicationId, resourceId, sessionId, policyId, agentSessionIds: [agentA, agentB], auditEventId };
}
