// `verify --behavioural`: exercises the controls as the roles themselves, inside one transaction that is
// always rolled back. Probes use `WHERE false` (privileges are checked, no row is touched) and savepoints;
// lock_timeout and statement_timeout are set locally so a busy table makes a probe fail, not wait.
import type { Client } from 'pg';
import { MatrixRow, MATRIX_ROLES, OWNER_ROLE, PRIVILEGE_NAMES, PRIVILEGES, Privilege, roleName } from './access-matrix';
import { APPEND_ONLY_TABLES, CheckResult, FIRST_CHECK, IMMUTABLE_TABLES } from './checks';

export interface BehaviouralOptions {
  readonly matrix: readonly MatrixRow[];
  /** lock_timeout of every probe (default 500 ms). */
  readonly lockTimeoutMs?: number;
  /** statement_timeout of every probe (default 5 s). */
  readonly statementTimeoutMs?: number;
}

interface Outcome {
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string literal (standard_conforming_strings is on since Postgres 9.1). */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Run one statement as `role` (optionally with a zone context) in a savepoint; report how it ended. Two round
 * trips: savepoint, role, context and statement go as one simple-protocol batch, the rollback as another.
 */
async function probe(client: Client, role: string, sql: string, zone: string | null = null): Promise<Outcome> {
  try {
    await client.query(
      `SAVEPOINT caracal_probe; SET LOCAL ROLE ${ident(role)}; ` +
        `SELECT set_config('caracal.zone_id', ${literal(zone ?? '')}, true); ${sql}`,
    );
    return { ok: true };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, code: err.code, message: err.message };
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT caracal_probe; RELEASE SAVEPOINT caracal_probe');
  }
}

const isPermissionDenied = (o: Outcome) => !o.ok && o.code === '42501' && /permission denied/.test(o.message ?? '');
const isRlsViolation = (o: Outcome) => !o.ok && o.code === '42501' && /row-level security/.test(o.message ?? '');
/** The reject_mutation trigger raises insufficient_privilege with "... is append-only|immutable ...". */
const isTriggerRejection = (o: Outcome) =>
  !o.ok && !isPermissionDenied(o) && !isRlsViolation(o) && !['57014', '55P03', '25006'].includes(o.code ?? '');

function describe(o: Outcome): string {
  return o.ok ? 'succeeded' : `failed with ${o.code}: ${o.message}`;
}

interface Columns {
  first: string;
  byPrivilege: (role: string, priv: 'INSERT' | 'UPDATE') => string;
}

async function columnsOf(client: Client, table: string): Promise<Columns> {
  const r = await client.query<{ attname: string; roles: Record<string, string[]> }>(
    `SELECT a.attname FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attidentity = '' AND a.attgenerated = '' ORDER BY a.attnum`,
    [`public.${table}`],
  );
  const names = r.rows.map((x) => x.attname);
  const priv = await client.query<{ attname: string; role: string; ins: boolean; upd: boolean }>(
    `SELECT a.attname, r.rolname AS role, has_column_privilege(r.oid, a.attrelid, a.attnum, 'INSERT') AS ins,
            has_column_privilege(r.oid, a.attrelid, a.attnum, 'UPDATE') AS upd
       FROM pg_attribute a CROSS JOIN pg_roles r
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''
        AND r.rolname LIKE 'caracal\\_%'`,
    [`public.${table}`],
  );
  // Identity and generated columns are skipped: writing NULL to them fails before the privilege check.
  return {
    first: names[0],
    byPrivilege: (role, p) => priv.rows.find((x) => x.role === role && (p === 'INSERT' ? x.ins : x.upd))?.attname ?? names[0],
  };
}

function statementFor(p: Privilege, table: string, column: string): string {
  const t = `public.${ident(table)}`;
  switch (p) {
    case 'S':
      return `SELECT 1 FROM ${t} WHERE false`;
    case 'I':
      return `INSERT INTO ${t} (${ident(column)}) SELECT NULL WHERE false`;
    case 'U':
      return `UPDATE ${t} SET ${ident(column)} = NULL WHERE false`;
    case 'D':
      return `DELETE FROM ${t} WHERE false`;
  }
}

/** Every cell of the matrix, as its role: a privilege it should hold works, one it should not is denied. */
export async function probePrivileges(client: Client, matrix: readonly MatrixRow[]): Promise<CheckResult> {
  const problems: string[] = [];
  let probes = 0;
  for (const row of matrix) {
    const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [`public.${row.table}`]);
    if (!exists.rows[0].e) {
      problems.push(`public.${row.table} does not exist`);
      continue;
    }
    const cols = await columnsOf(client, row.table);
    for (const role of MATRIX_ROLES) {
      const pg = roleName(role);
      for (const p of PRIVILEGES) {
        const column = p === 'I' ? cols.byPrivilege(pg, 'INSERT') : p === 'U' ? cols.byPrivilege(pg, 'UPDATE') : cols.first;
        const o = await probe(client, pg, statementFor(p, row.table, column));
        probes++;
        const expected = row.cells[role].includes(p);
        // An UPDATE/DELETE on an append-only or immutable table is stopped by its statement trigger even
        // when no row matches: for those, "allowed" means "not denied by privileges".
        if (expected && !(o.ok || isTriggerRejection(o)))
          problems.push(`public.${row.table} ${PRIVILEGE_NAMES[p]} as ${pg}: expected allowed, ${describe(o)}`);
        if (!expected && !isPermissionDenied(o))
          problems.push(`public.${row.table} ${PRIVILEGE_NAMES[p]} as ${pg}: expected permission denied, ${describe(o)}`);
      }
    }
  }
  return problems.length
    ? {
        id: 'behaviour-privileges',
        ok: false,
        summary: `${problems.length} of ${probes} privilege probes disagree with docs/access-matrix.md`,
        details: problems,
        firstCheck: FIRST_CHECK.grants,
      }
    : {
        id: 'behaviour-privileges',
        ok: true,
        summary: `${probes} privilege probes as each role match docs/access-matrix.md`,
        details: [],
        firstCheck: FIRST_CHECK.grants,
      };
}

async function partitionsOf(client: Client, table: string): Promise<string[]> {
  const r = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_partition_tree(to_regclass($1)) t JOIN pg_class c ON c.oid = t.relid WHERE t.level > 0 ORDER BY 1`,
    [`public.${table}`],
  );
  return r.rows.map((x) => x.relname);
}

/** As the owner (who holds every privilege), UPDATE, DELETE and TRUNCATE must be rejected by the triggers. */
async function probeRejections(client: Client, id: string, tables: readonly string[], what: string): Promise<CheckResult> {
  const problems: string[] = [];
  let probes = 0;
  for (const table of tables) {
    const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [`public.${table}`]);
    if (!exists.rows[0].e) {
      problems.push(`public.${table} does not exist`);
      continue;
    }
    for (const rel of [table, ...(await partitionsOf(client, table))]) {
      const cols = await columnsOf(client, rel);
      const t = `public.${ident(rel)}`;
      for (const [op, sql] of [
        ['UPDATE', `UPDATE ${t} SET ${ident(cols.first)} = ${ident(cols.first)} WHERE false`],
        ['DELETE', `DELETE FROM ${t} WHERE false`],
        // CASCADE: a referencing table must not turn the probe into a foreign-key error.
        ['TRUNCATE', `TRUNCATE ${t} CASCADE`],
      ] as const) {
        const o = await probe(client, OWNER_ROLE, sql);
        probes++;
        if (!isTriggerRejection(o))
          problems.push(
            `public.${rel}: ${op} as ${OWNER_ROLE} ${o.ok ? 'was NOT rejected' : `failed for another reason (${o.code}: ${o.message})`}`,
          );
      }
    }
  }
  return problems.length
    ? {
        id,
        ok: false,
        summary: `${problems.length} ${what} probe(s) not rejected by a trigger`,
        details: problems,
        firstCheck: FIRST_CHECK.integrity,
      }
    : {
        id,
        ok: true,
        summary: `${probes} UPDATE/DELETE/TRUNCATE probes as ${OWNER_ROLE} rejected by the ${what} triggers on ${tables.join(', ')} and their partitions`,
        details: [],
        firstCheck: FIRST_CHECK.integrity,
      };
}

export function probeAppendOnly(client: Client): Promise<CheckResult> {
  return probeRejections(client, 'behaviour-append-only', APPEND_ONLY_TABLES, 'append-only');
}

export function probeImmutability(client: Client): Promise<CheckResult> {
  return probeRejections(client, 'behaviour-immutability', IMMUTABLE_TABLES, 'immutability');
}

/**
 * Fail-closed RLS, as the role that may write each zone-scoped table: without a zone context no row is
 * visible and an insert is refused by the policy; another zone's row is refused too; its own zone's row
 * passes the policy (and fails later on the other NOT NULL columns, which is fine). Partitions refuse
 * every service role outright.
 */
export async function probeRls(client: Client, matrix: readonly MatrixRow[]): Promise<CheckResult> {
  const problems: string[] = [];
  let probes = 0;
  const zoneA = '00000000-0000-4000-8000-00000000000a';
  const zoneB = '00000000-0000-4000-8000-00000000000b';
  for (const row of matrix.filter((r) => r.rls === 'zone')) {
    const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [`public.${row.table}`]);
    if (!exists.rows[0].e) {
      problems.push(`public.${row.table} does not exist`);
      continue;
    }
    const t = `public.${ident(row.table)}`;
    for (const role of MATRIX_ROLES.filter((r) => r !== 'backup' && row.cells[r].includes('S'))) {
      const o = await probe(client, roleName(role), `SELECT 1 / (CASE WHEN EXISTS (SELECT 1 FROM ${t}) THEN 0 ELSE 1 END)`);
      probes++;
      if (!o.ok)
        problems.push(
          `public.${row.table}: as ${roleName(role)} without zone context, ${o.code === '22012' ? 'rows are visible' : describe(o)}`,
        );
    }
    const writer = MATRIX_ROLES.find((r) => r !== 'backup' && row.cells[r].includes('I'));
    const role = writer ? roleName(writer) : OWNER_ROLE;
    const insert = (zone: string) => `INSERT INTO ${t} (zone_id) VALUES ('${zone}')`;
    const none = await probe(client, role, insert(zoneA));
    const cross = await probe(client, role, insert(zoneB), zoneA);
    const own = await probe(client, role, insert(zoneA), zoneA);
    probes += 3;
    if (!isRlsViolation(none))
      problems.push(
        `public.${row.table}: INSERT as ${role} without zone context was not refused by row-level security (${describe(none)})`,
      );
    if (!isRlsViolation(cross))
      problems.push(`public.${row.table}: INSERT as ${role} into another zone was not refused by row-level security (${describe(cross)})`);
    if (isRlsViolation(own) || isPermissionDenied(own))
      problems.push(`public.${row.table}: INSERT as ${role} into its own zone was refused (${describe(own)})`);
    for (const part of await partitionsOf(client, row.table)) {
      for (const r of MATRIX_ROLES.filter((x) => x !== 'backup')) {
        const o = await probe(client, roleName(r), `SELECT 1 FROM public.${ident(part)} WHERE false`, zoneA);
        probes++;
        if (!isPermissionDenied(o))
          problems.push(`public.${part} (partition of ${row.table}): SELECT as ${roleName(r)} was not denied (${describe(o)})`);
      }
    }
  }
  return problems.length
    ? {
        id: 'behaviour-rls',
        ok: false,
        summary: `${problems.length} row-level security probe(s) failed open`,
        details: problems,
        firstCheck: FIRST_CHECK.rls,
      }
    : {
        id: 'behaviour-rls',
        ok: true,
        summary: `${probes} probes: no context sees nothing and writes nothing, cross-zone writes refused, partitions denied`,
        details: [],
        firstCheck: FIRST_CHECK.rls,
      };
}

/** Every behavioural check in one transaction that is always rolled back. */
export async function runBehaviouralChecks(client: Client, o: BehaviouralOptions): Promise<CheckResult[]> {
  const recovery = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
  if (recovery.rows[0].r) {
    return [
      {
        id: 'behavioural',
        ok: false,
        summary: 'not run: the server is a read replica (the probes need a primary; nothing is ever committed)',
        details: [],
        firstCheck: 'connect --behavioural to the primary',
      },
    ];
  }
  await client.query('BEGIN');
  try {
    await client.query(`SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`, [
      `${o.lockTimeoutMs ?? 500}ms`,
      `${o.statementTimeoutMs ?? 5000}ms`,
    ]);
    const out: CheckResult[] = [];
    for (const run of [
      () => probePrivileges(client, o.matrix),
      () => probeAppendOnly(client),
      () => probeImmutability(client),
      () => probeRls(client, o.matrix),
    ]) {
      out.push(await run());
    }
    return out;
  } finally {
    await client.query('ROLLBACK');
  }
}
