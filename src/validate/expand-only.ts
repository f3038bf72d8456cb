// Static expand-only checker: parses migration files with Postgres's own parser (libpg-query, loaded lazily)
// and reports every statement that would break, block or rewrite under the previous application version.
import { hasNoTransactionMarker } from '../../common/migration-files';
import { OWNER_ROLE } from '../../common/names';
import { parseSqlFile, ParsedStatement } from './parser';
import { Rule, RULES, RuleId } from './rules';

/** One migration file as the checker needs it (a runner `MigrationFile` fits). */
export interface ExpandOnlyInput {
  readonly filename: string;
  readonly version: bigint;
  /** Normalized content (line endings, BOM) as the runner runs it. */
  readonly sql: string;
  /** `-- caracal:no-transaction` file (statements run one by one outside a transaction). */
  readonly noTransaction?: boolean;
}

export interface Finding {
  readonly file: string;
  /** 1-based line of the offending statement (or clause, when the parser locates it). */
  readonly line: number;
  readonly rule: RuleId;
  /** What was found, e.g. `ALTER TABLE public.zones DROP COLUMN name`. */
  readonly what: string;
  /** Why it breaks the previous application version still serving traffic. */
  readonly why: string;
  /** How to expand instead. */
  readonly instead: string;
}

export interface ExpandOnlyReport {
  /** Findings that fail validation. */
  readonly violations: readonly Finding[];
  /** Findings in files tagged `-- caracal:phase contract`: reported, allowed. */
  readonly allowedInContract: readonly Finding[];
  /** Files checked (the baseline is parsed for context but exempt from expand rules). */
  readonly filesChecked: number;
}

/** Version 1 (`0001_baseline.up.sql`) creates the schema from nothing and is exempt from expand rules. */
export const BASELINE_VERSION = 1n;

/** `-- caracal:phase contract` on a line of its own marks a contract-phase file. */
export function hasContractMarker(sql: string): boolean {
  return /^[ \t]*--[ \t]*caracal:phase[ \t]+contract[ \t]*$/m.test(sql);
}

/**
 * Volatile functions that, as the default of a new column, make Postgres rewrite the whole table under
 * ACCESS EXCLUSIVE (every existing row needs its own value). STABLE ones such as now() are evaluated once
 * and stored as the column's "missing value" (Postgres 11+), with no rewrite: those are accepted, and
 * existing rows get the migration's timestamp.
 */
const VOLATILE_FUNCTIONS = new Set([
  'random',
  'random_normal',
  'gen_random_uuid',
  'gen_random_bytes',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'uuidv4',
  'uuidv7',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'setval',
  'txid_current',
  'pg_current_xact_id',
  'statement_timestamp_volatile',
]);
const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

type Node = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface RangeVar {
  schemaname?: string;
  relname: string;
  inh?: boolean;
  location?: number;
}

function relName(r: RangeVar | undefined): string {
  if (!r) return '?';
  return `${r.schemaname ?? 'public'}.${r.relname}`;
}

function lastName(list: Node[] | undefined): string {
  const names = (list ?? []).map((n) => n.String?.sval).filter((s): s is string => typeof s === 'string');
  return names[names.length - 1] ?? '?';
}

function dottedName(list: Node[] | undefined): string {
  return (list ?? [])
    .map((n) => n.String?.sval)
    .filter(Boolean)
    .join('.');
}

/** Every FuncCall name (lower case, last part) inside an expression tree. */
function functionNames(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const n of node) functionNames(n, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'FuncCall') out.push(lastName((v as Node).funcname).toLowerCase());
      functionNames(v, out);
    }
  }
  return out;
}

/** `col IS NOT NULL` as a CHECK expression: the column, else undefined. */
function notNullCheckColumn(expr: Node | undefined): string | undefined {
  const t = expr?.NullTest;
  if (!t || t.nulltesttype !== 'IS_NOT_NULL') return undefined;
  const fields: Node[] | undefined = t.arg?.ColumnRef?.fields;
  return fields && fields.length === 1 ? fields[0].String?.sval : undefined;
}

/** State carried across the files of one set, in version order. */
interface SetState {
  /** Tables known from earlier files (or earlier in this file), and whether each is partitioned. */
  readonly tables: Map<string, { partitioned: boolean }>;
  /** `table.column` pairs with a validated CHECK (column IS NOT NULL). */
  readonly validatedNotNull: Set<string>;
  /** NOT VALID `table.constraint` -> column, waiting for VALIDATE CONSTRAINT. */
  readonly pendingNotNull: Map<string, string>;
}

/**
 * Check a set of migration files (sorted by version) for expand-only discipline. The baseline is parsed
 * so later files know which tables exist and which are partitioned, but its statements are exempt.
 */
export async function checkExpandOnly(files: readonly ExpandOnlyInput[]): Promise<ExpandOnlyReport> {
  const sorted = [...files].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  const state: SetState = { tables: new Map(), validatedNotNull: new Set(), pendingNotNull: new Map() };
  const violations: Finding[] = [];
  const allowedInContract: Finding[] = [];
  for (const file of sorted) {
    const findings = await checkFile(file, state);
    const exempt = file.version === BASELINE_VERSION;
    const contract = hasContractMarker(file.sql);
    for (const f of findings) {
      if ((RULES[f.rule] as Rule).always) violations.push(f);
      else if (exempt) continue;
      else if (contract) allowedInContract.push(f);
      else violations.push(f);
    }
  }
  return { violations, allowedInContract, filesChecked: sorted.length };
}

async function checkFile(file: ExpandOnlyInput, state: SetState): Promise<Finding[]> {
  const parsed = await parseSqlFile(file.sql);
  if ('error' in parsed) {
    return [finding(file, parsed.error.line, 'parse-error', parsed.error.message)];
  }
  const noTransaction = file.noTransaction ?? hasNoTransactionMarker(file.sql);
  const created = new Set<string>(); // tables created earlier in this file
  const laterCreations = collectCreations(parsed.statements);
  const out: Finding[] = [];
  // Objects must be created as caracal_owner (SET LOCAL ROLE caracal_owner ... RESET ROLE), so they are owned
  // by it like the baseline's: default privileges (backup SELECT) apply and the owner's maintenance can alter them.
  let asOwner = false;
  let ownerSetLine = 0;

  parsed.statements.forEach((st, index) => {
    const add = (rule: RuleId, what: string, line = st.line) => out.push(finding(file, line, rule, what));
    const isNew = (r: RangeVar | undefined) => r !== undefined && created.has(relName(r));
    const node = st.node;
    const [kind] = Object.keys(node);
    const s: Node = node[kind];

    if (kind === 'VariableSetStmt' && s.name === 'role') {
      const value = String(s.args?.[0]?.A_Const?.sval?.sval ?? '').toLowerCase();
      asOwner = s.kind === 'VAR_SET_VALUE' && value === OWNER_ROLE;
      if (asOwner) ownerSetLine = st.line;
    }
    const createsObject = CREATES_OWNED_OBJECT[kind]?.(s);
    if (createsObject && !asOwner) add('owner-role', `${createsObject} before SET LOCAL ROLE ${OWNER_ROLE}`);

    switch (kind) {
      case 'CreateStmt': {
        const name = relName(s.relation);
        created.add(name);
        state.tables.set(name, { partitioned: Boolean(s.partspec) });
        for (const elt of s.tableElts ?? []) {
          const cons: Node[] = elt.Constraint ? [elt.Constraint] : (elt.ColumnDef?.constraints ?? []).map((c: Node) => c.Constraint);
          for (const c of cons) {
            if (c?.contype === 'CONSTR_CHECK' && !c.skip_validation) {
              const col = notNullCheckColumn(c.raw_expr);
              if (col) state.validatedNotNull.add(`${name}.${col}`);
            }
          }
        }
        break;
      }
      case 'CreateTableAsStmt': {
        const rel = s.into?.rel as RangeVar | undefined;
        if (rel) {
          created.add(relName(rel));
          state.tables.set(relName(rel), { partitioned: false });
        }
        break;
      }
      case 'IndexStmt': {
        const rel = s.relation as RangeVar;
        const what = `CREATE ${s.unique ? 'UNIQUE ' : ''}INDEX ${s.concurrent ? 'CONCURRENTLY ' : ''}${s.idxname ?? ''} ON ${s.relation?.inh ? '' : 'ONLY '}${relName(rel)}`;
        if (s.concurrent && !noTransaction) add('concurrently-in-transaction', what);
        if (isNew(rel)) break;
        const partitioned = state.tables.get(relName(rel))?.partitioned ?? false;
        // ON ONLY a partitioned parent builds nothing (the index stays invalid until partitions are attached);
        // ON ONLY a plain table is an ordinary, blocking build.
        if (!rel.inh && partitioned) break;
        if (s.concurrent) {
          if (partitioned) add('concurrent-index-on-partitioned', what);
          break;
        }
        add('index-not-concurrent', what);
        break;
      }
      case 'AlterTableStmt': {
        const rel = s.relation as RangeVar;
        const table = relName(rel);
        const fresh = isNew(rel);
        for (const cmdNode of s.cmds ?? []) {
          const cmd: Node = cmdNode.AlterTableCmd;
          if (!cmd) continue;
          checkAlterTableCmd(cmd, table, fresh, s.objtype as string, state, add, noTransaction);
        }
        break;
      }
      case 'RenameStmt': {
        if (
          s.renameType === 'OBJECT_INDEX' ||
          s.renameType === 'OBJECT_TRIGGER' ||
          s.renameType === 'OBJECT_POLICY' ||
          s.renameType === 'OBJECT_ROLE' ||
          s.renameType === 'OBJECT_RULE'
        )
          break;
        if (isNew(s.relation)) break;
        const target = s.relation ? relName(s.relation) : describeObject(s.object);
        const sub = s.subname ? `.${s.subname}` : '';
        add('rename', `RENAME ${String(s.renameType).replace(/^OBJECT_/, '')} ${target}${sub} TO ${s.newname}`);
        break;
      }
      case 'AlterEnumStmt': {
        if (s.oldVal) add('rename', `ALTER TYPE ${dottedName(s.typeName)} RENAME VALUE '${s.oldVal}' TO '${s.newVal}'`);
        break;
      }
      case 'DropStmt': {
        const type = String(s.removeType).replace(/^OBJECT_/, '');
        const names: string[] = (s.objects ?? []).map((o: Node) => describeObject(o));
        if (type === 'INDEX' && s.concurrent && !noTransaction)
          add('concurrently-in-transaction', `DROP INDEX CONCURRENTLY ${names.join(', ')}`);
        if (type === 'TABLE') {
          const existing = names.filter((n) => !created.has(qualify(n)));
          if (existing.length) add('drop-table', `DROP TABLE ${existing.join(', ')}`);
          break;
        }
        if (type === 'INDEX') {
          if (!s.concurrent) add('drop-index', `DROP INDEX ${names.join(', ')}`);
          break;
        }
        const replaced = names.every((n) => laterCreations.some((c) => c.index > index && c.type === type && c.name === lastPart(n)));
        if (replaced) break; // drop-and-recreate of a trigger, policy, view or function in the same file
        add('drop-object', `DROP ${type} ${names.join(', ')}`);
        break;
      }
      case 'TruncateStmt': {
        const rels = (s.relations ?? []).map((r: Node) => r.RangeVar as RangeVar).filter((r: RangeVar) => !isNew(r));
        if (rels.length) add('truncate', `TRUNCATE ${rels.map(relName).join(', ')}`);
        break;
      }
      case 'DeleteStmt':
        if (!s.whereClause && !isNew(s.relation)) add('delete-without-where', `DELETE FROM ${relName(s.relation)}`);
        break;
      case 'UpdateStmt':
        if (!s.whereClause && !isNew(s.relation)) add('update-without-where', `UPDATE ${relName(s.relation)}`);
        break;
      case 'GrantStmt': {
        if (s.is_grant) break;
        const objects: string[] = (s.objects ?? []).map((o: Node) => (o.RangeVar ? relName(o.RangeVar) : describeObject(o)));
        const fresh = objects.every(
          (o) => created.has(qualify(o)) || laterCreations.some((c) => c.index < index && c.name === lastPart(o)),
        );
        if (fresh && objects.length) break; // revoking on an object this file created
        const privs = (s.privileges ?? []).map((p: Node) => String(p.AccessPriv?.priv_name ?? '').toUpperCase()).join(', ') || 'ALL';
        const grantees = (s.grantees ?? [])
          .map((g: Node) => g.RoleSpec?.rolename ?? (g.RoleSpec?.roletype === 'ROLESPEC_PUBLIC' ? 'PUBLIC' : '?'))
          .join(', ');
        add('revoke', `REVOKE ${privs} ON ${String(s.objtype).replace(/^OBJECT_/, '')} ${objects.join(', ')} FROM ${grantees}`);
        break;
      }
      case 'GrantRoleStmt':
        if (!s.is_grant) {
          const roles = (s.granted_roles ?? []).map((r: Node) => r.AccessPriv?.priv_name).join(', ');
          const grantees = (s.grantee_roles ?? []).map((g: Node) => g.RoleSpec?.rolename ?? 'PUBLIC').join(', ');
          add('revoke', `REVOKE ${roles} FROM ${grantees}`);
        }
        break;
      case 'AlterRoleStmt':
      case 'CreateRoleStmt': {
        const bypass = (s.options ?? []).some((o: Node) => o.DefElem?.defname === 'bypassrls' && o.DefElem?.arg?.Boolean?.boolval === true);
        const name = s.role?.rolename ?? s.role ?? '?';
        if (bypass) add('weaken-control', `${kind === 'CreateRoleStmt' ? 'CREATE' : 'ALTER'} ROLE ${name} BYPASSRLS`);
        break;
      }
      case 'VacuumStmt': {
        const full = (s.options ?? []).some((o: Node) => o.DefElem?.defname === 'full' && o.DefElem?.arg?.Boolean?.boolval !== false);
        if (full && s.is_vacuumcmd) add('table-rewrite', 'VACUUM FULL');
        break;
      }
      case 'ClusterStmt':
        add('table-rewrite', `CLUSTER ${s.relation ? relName(s.relation) : ''}`.trim());
        break;
      case 'ReindexStmt': {
        const concurrently = (s.params ?? []).some(
          (o: Node) => o.DefElem?.defname === 'concurrently' && o.DefElem?.arg?.Boolean?.boolval !== false,
        );
        if (concurrently && !noTransaction) add('concurrently-in-transaction', 'REINDEX CONCURRENTLY');
        if (!concurrently && !isNew(s.relation))
          add('reindex-not-concurrent', `REINDEX ${s.relation ? relName(s.relation) : (s.name ?? '')}`.trim());
        break;
      }
      default:
        break;
    }
  });
  if (asOwner) {
    out.push(finding(file, ownerSetLine, 'owner-role', `SET ROLE ${OWNER_ROLE} without RESET ROLE at the end of the file`));
  }
  return out;
}

/** Statements that create an object with an owner (indexes belong to their table's owner, so they are not here). */
const CREATES_OWNED_OBJECT: Record<string, (s: Node) => string | undefined> = {
  CreateStmt: (s) => `CREATE TABLE ${relName(s.relation)}`,
  CreateTableAsStmt: (s) => `CREATE ${s.objtype === 'OBJECT_MATVIEW' ? 'MATERIALIZED VIEW' : 'TABLE'} ${relName(s.into?.rel)}`,
  ViewStmt: (s) => `CREATE VIEW ${relName(s.view)}`,
  CreateFunctionStmt: (s) => `CREATE ${s.is_procedure ? 'PROCEDURE' : 'FUNCTION'} ${dottedName(s.funcname)}`,
  CreateSeqStmt: (s) => `CREATE SEQUENCE ${relName(s.sequence)}`,
  CompositeTypeStmt: (s) => `CREATE TYPE ${relName(s.typevar)}`,
  CreateEnumStmt: (s) => `CREATE TYPE ${dottedName(s.typeName)}`,
  CreateDomainStmt: (s) => `CREATE DOMAIN ${dottedName(s.domainname)}`,
};

function checkAlterTableCmd(
  cmd: Node,
  table: string,
  fresh: boolean,
  objtype: string,
  state: SetState,
  add: (rule: RuleId, what: string, line?: number) => void,
  noTransaction: boolean,
): void {
  const col = cmd.name as string | undefined;
  const prefix = `ALTER ${objtype === 'OBJECT_INDEX' ? 'INDEX' : 'TABLE'} ${table}`;
  switch (cmd.subtype) {
    case 'AT_AddConstraint': {
      const c: Node = cmd.def?.Constraint ?? {};
      if (c.contype === 'CONSTR_CHECK') {
        const nn = notNullCheckColumn(c.raw_expr);
        if (nn && !c.skip_validation) state.validatedNotNull.add(`${table}.${nn}`);
        if (nn && c.skip_validation && c.conname) state.pendingNotNull.set(`${table}.${c.conname}`, nn);
      }
      if (fresh) return;
      if ((c.contype === 'CONSTR_CHECK' || c.contype === 'CONSTR_FOREIGN') && !c.skip_validation) {
        add(
          'constraint-not-valid',
          `${prefix} ADD ${c.contype === 'CONSTR_CHECK' ? 'CHECK' : 'FOREIGN KEY'} constraint ${c.conname ?? ''} without NOT VALID`.replace(
            /  +/g,
            ' ',
          ),
        );
      }
      if ((c.contype === 'CONSTR_PRIMARY' || c.contype === 'CONSTR_UNIQUE' || c.contype === 'CONSTR_EXCLUSION') && !c.indexname) {
        const what = { CONSTR_PRIMARY: 'PRIMARY KEY', CONSTR_UNIQUE: 'UNIQUE', CONSTR_EXCLUSION: 'EXCLUDE' }[c.contype as string];
        add('add-unique-without-index', `${prefix} ADD ${what} ${c.conname ?? ''} without USING INDEX`.replace(/  +/g, ' '));
      }
      if (c.contype === 'CONSTR_NOTNULL') {
        const column = lastName(c.keys);
        if (!state.validatedNotNull.has(`${table}.${column}`))
          add('set-not-null', `${prefix} ADD CONSTRAINT ${c.conname ?? ''} NOT NULL ${column}`);
      }
      return;
    }
    case 'AT_ValidateConstraint': {
      const key = `${table}.${col}`;
      const nn = state.pendingNotNull.get(key);
      if (nn) state.validatedNotNull.add(`${table}.${nn}`);
      return;
    }
    case 'AT_AttachPartition':
      return; // ATTACH of a partition or of a partition's index: the ON ONLY pattern
    default:
      break;
  }
  if (fresh) return;
  switch (cmd.subtype) {
    case 'AT_DropColumn':
      add('drop-column', `${prefix} DROP COLUMN ${col}`);
      return;
    case 'AT_DropConstraint':
      add('drop-constraint', `${prefix} DROP CONSTRAINT ${col}`);
      return;
    case 'AT_AlterColumnType':
      add('alter-column-type', `${prefix} ALTER COLUMN ${col} TYPE ${dottedName(cmd.def?.ColumnDef?.typeName?.names)}`);
      return;
    case 'AT_SetNotNull':
      if (!state.validatedNotNull.has(`${table}.${col}`)) add('set-not-null', `${prefix} ALTER COLUMN ${col} SET NOT NULL`);
      return;
    case 'AT_ColumnDefault':
      if (!cmd.def) add('drop-default', `${prefix} ALTER COLUMN ${col} DROP DEFAULT`);
      return;
    case 'AT_SetLogged':
    case 'AT_SetUnLogged':
      add('set-logged', `${prefix} SET ${cmd.subtype === 'AT_SetLogged' ? 'LOGGED' : 'UNLOGGED'}`);
      return;
    case 'AT_SetTableSpace':
      add('table-rewrite', `${prefix} SET TABLESPACE ${cmd.name}`);
      return;
    case 'AT_DetachPartition':
    case 'AT_DetachPartitionFinalize': {
      const part = relName(cmd.def?.PartitionCmd?.name);
      const concurrent = Boolean(cmd.def?.PartitionCmd?.concurrent);
      if (concurrent && !noTransaction) add('concurrently-in-transaction', `${prefix} DETACH PARTITION ${part} CONCURRENTLY`);
      add('detach-partition', `${prefix} DETACH PARTITION ${part}`);
      return;
    }
    case 'AT_DisableTrig':
    case 'AT_DisableTrigAll':
    case 'AT_DisableTrigUser':
      add('weaken-control', `${prefix} DISABLE TRIGGER ${cmd.name ?? (cmd.subtype === 'AT_DisableTrigAll' ? 'ALL' : 'USER')}`);
      return;
    case 'AT_EnableReplicaTrig':
      add('weaken-control', `${prefix} ENABLE REPLICA TRIGGER ${cmd.name}`);
      return;
    case 'AT_DisableRowSecurity':
      add('weaken-control', `${prefix} DISABLE ROW LEVEL SECURITY`);
      return;
    case 'AT_NoForceRowSecurity':
      add('weaken-control', `${prefix} NO FORCE ROW LEVEL SECURITY`);
      return;
    case 'AT_AddColumn':
      checkAddColumn(cmd.def?.ColumnDef ?? {}, prefix, add);
      return;
    default:
      return;
  }
}

function checkAddColumn(def: Node, prefix: string, add: (rule: RuleId, what: string) => void): void {
  const cons: Node[] = (def.constraints ?? []).map((c: Node) => c.Constraint).filter(Boolean);
  const what = `${prefix} ADD COLUMN ${def.colname}`;
  const typeName = lastName(def.typeName?.names).toLowerCase();
  const dflt = cons.find((c) => c.contype === 'CONSTR_DEFAULT');
  const identity = cons.find((c) => c.contype === 'CONSTR_IDENTITY');
  const generated = cons.find((c) => c.contype === 'CONSTR_GENERATED');
  if (SERIAL_TYPES.has(typeName)) add('volatile-default', `${what} ${typeName} (nextval() for every existing row)`);
  if (identity) add('volatile-default', `${what} GENERATED AS IDENTITY (nextval() for every existing row)`);
  if (generated && generated.generated_kind === 's')
    add('volatile-default', `${what} GENERATED ALWAYS AS (...) STORED (computed for every existing row)`);
  if (dflt) {
    const volatile = functionNames(dflt.raw_expr).filter((f) => VOLATILE_FUNCTIONS.has(f));
    if (volatile.length) add('volatile-default', `${what} DEFAULT ${volatile[0]}()`);
  }
  const notNull = cons.some((c) => c.contype === 'CONSTR_NOTNULL' || c.contype === 'CONSTR_PRIMARY');
  if (notNull && !dflt && !identity && !generated && !SERIAL_TYPES.has(typeName))
    add('add-column-not-null', `${what} NOT NULL without a DEFAULT`);
  for (const c of cons) {
    if (c.contype === 'CONSTR_PRIMARY' || c.contype === 'CONSTR_UNIQUE') {
      add(
        'add-unique-without-index',
        `${what} ${c.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'} (builds its index under ACCESS EXCLUSIVE)`,
      );
    }
  }
}

interface Creation {
  readonly index: number;
  readonly type: string;
  readonly name: string;
}

/** Named objects each statement creates, for drop-and-recreate and revoke-on-new-object exemptions. */
function collectCreations(statements: readonly ParsedStatement[]): Creation[] {
  const out: Creation[] = [];
  statements.forEach((st, index) => {
    const [kind] = Object.keys(st.node);
    const s: Node = st.node[kind];
    if (kind === 'CreateTrigStmt') out.push({ index, type: 'TRIGGER', name: s.trigname });
    if (kind === 'CreatePolicyStmt') out.push({ index, type: 'POLICY', name: s.policy_name });
    if (kind === 'ViewStmt') out.push({ index, type: 'VIEW', name: s.view?.relname });
    if (kind === 'CreateTableAsStmt' && s.objtype === 'OBJECT_MATVIEW') out.push({ index, type: 'MATVIEW', name: s.into?.rel?.relname });
    if (kind === 'CreateFunctionStmt') out.push({ index, type: s.is_procedure ? 'PROCEDURE' : 'FUNCTION', name: lastName(s.funcname) });
    if (kind === 'CreateSeqStmt') out.push({ index, type: 'SEQUENCE', name: s.sequence?.relname });
    if (kind === 'CompositeTypeStmt') out.push({ index, type: 'TYPE', name: s.typevar?.relname });
    if (kind === 'CreateEnumStmt') out.push({ index, type: 'TYPE', name: lastName(s.typeName) });
  });
  return out;
}

/** A readable name for a DropStmt / GrantStmt object node. */
function describeObject(o: Node | undefined): string {
  if (!o) return '?';
  if (o.List) return dottedName(o.List.items);
  if (o.String) return o.String.sval;
  if (o.ObjectWithArgs) return dottedName(o.ObjectWithArgs.objname);
  if (o.TypeName) return dottedName(o.TypeName.names);
  if (o.RangeVar) return relName(o.RangeVar);
  return '?';
}

function qualify(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

function lastPart(name: string): string {
  const parts = name.split('.');
  return parts[parts.length - 1];
}

function finding(file: ExpandOnlyInput, line: number, rule: RuleId, what: string): Finding {
  return { file: file.filename, line, rule, what, why: RULES[rule].why, instead: RULES[rule].instead };
}

/** `file:line: rule: what` then why and instead, indented: the text the CLI prints per finding. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}: ${f.rule}: ${f.what}\n    why: ${f.why}\n    instead: ${f.instead}`;
}
