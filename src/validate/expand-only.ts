// Static expand-only checker: parses migration files with Postgres's own parser (libpg-query, loaded lazily)
// and reports every statement that would break, block or rewrite under the previous application version.
import { hasNoTransactionMarker } from '../../common/migration-files';
import { OWNER_ROLE } from '../../common/names';
import { checkLockSequence, SequenceStatement } from './lock-sequence';
import { addColumnWork, dottedName, functionNames, isBoundedWhere, lastName, Node, RangeVar, relName, statementEffect } from './locks';
import { parseSqlFile, ParsedStatement } from './parser';
import { Rule, RULES, RuleId } from './rules';
import { SchemaState } from './schema-state';

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

/** Settings a file must not change: they are the runner's protection of the running version (its flags set them). */
const RUNNER_TIMEOUTS = new Set(['lock_timeout', 'statement_timeout']);

/**
 * Check a set of migration files (sorted by version) for expand-only discipline. The baseline is parsed
 * so later files know which tables exist and which are partitioned, but its statements are exempt.
 */
export async function checkExpandOnly(files: readonly ExpandOnlyInput[]): Promise<ExpandOnlyReport> {
  const sorted = [...files].sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  const state = new SchemaState();
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

async function checkFile(file: ExpandOnlyInput, state: SchemaState): Promise<Finding[]> {
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
  const sequence: SequenceStatement[] = [];
  const constraintsAdded = new Set<string>(); // `table.constraint` added earlier in this file
  const transactionControl: Array<{ line: number; kind: string }> = [];

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
    checkTimeoutOverride(node, add);
    checkDuplicateAssignments(node, add);

    // The lock sequence of a transactional file: every lock is held until the file commits.
    if (kind === 'CreateStmt') created.add(relName(s.relation));
    if (kind === 'CreateTableAsStmt' && s.into?.rel) created.add(relName(s.into.rel));
    if (!noTransaction) {
      let validatesOwnConstraint: string | undefined;
      if (kind === 'AlterTableStmt') {
        for (const c of s.cmds ?? []) {
          const cmd: Node | undefined = c.AlterTableCmd;
          const key = `${relName(s.relation)}.${cmd?.name}`;
          if (cmd?.subtype === 'AT_ValidateConstraint' && constraintsAdded.has(key)) validatesOwnConstraint = key;
          if (cmd?.subtype === 'AT_AddConstraint' && cmd.def?.Constraint?.conname)
            constraintsAdded.add(`${relName(s.relation)}.${cmd.def.Constraint.conname}`);
        }
      }
      if (kind === 'AlterDomainStmt' && s.subtype === 'V' && constraintsAdded.has(`domain ${dottedName(s.typeName)}.${s.name}`))
        validatesOwnConstraint = `${s.name} of domain ${dottedName(s.typeName)}`;
      if (kind === 'AlterDomainStmt' && s.subtype === 'C' && s.def?.Constraint?.conname)
        constraintsAdded.add(`domain ${dottedName(s.typeName)}.${s.def.Constraint.conname}`);
      sequence.push({ line: st.line, effect: statementEffect(node, state), newTables: new Set(created), validatesOwnConstraint });
    }

    switch (kind) {
      case 'TransactionStmt':
        transactionControl.push({ line: st.line, kind: s.kind });
        if (!noTransaction)
          add(
            'transaction-control',
            `${TRANSACTION_WORDS[s.kind as string] ?? 'transaction control'} in a file the runner wraps in one transaction`,
          );
        break;
      case 'DropdbStmt':
        add('drop-database', `DROP DATABASE ${s.dbname}`);
        break;
      case 'AlterDomainStmt': {
        const domain = dottedName(s.typeName);
        if (s.subtype === 'C' && s.def?.Constraint && !s.def.Constraint.skip_validation)
          add(
            'alter-domain-constraint',
            `ALTER DOMAIN ${domain} ADD CONSTRAINT ${s.def.Constraint.conname ?? ''} without NOT VALID`.replace(/ +without/, ' without'),
          );
        if (s.subtype === 'V') add('alter-domain-constraint', `ALTER DOMAIN ${domain} VALIDATE CONSTRAINT ${s.name}`);
        if (s.subtype === 'O') add('alter-domain-constraint', `ALTER DOMAIN ${domain} SET NOT NULL`);
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
        const settingNotNull = new Set<string>(); // columns made NOT NULL earlier in this statement
        for (const cmdNode of s.cmds ?? []) {
          const cmd: Node = cmdNode.AlterTableCmd;
          if (!cmd) continue;
          checkAlterTableCmd(cmd, table, fresh, s.objtype as string, state, add, noTransaction, settingNotNull);
          if (cmd.subtype === 'AT_SetNotNull') settingNotNull.add(cmd.name);
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
        if (isNew(s.relation)) break;
        if (!s.whereClause) add('update-without-where', `UPDATE ${relName(s.relation)}`);
        else if (!isBoundedWhere(s.whereClause, state.primaryKey(relName(s.relation))))
          add('unbatched-backfill', `UPDATE ${relName(s.relation)} ... WHERE without a key range or LIMIT`);
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
    state.learn(node);
  });
  if (asOwner) {
    out.push(finding(file, ownerSetLine, 'owner-role', `SET ROLE ${OWNER_ROLE} without RESET ROLE at the end of the file`));
  }
  for (const f of checkLockSequence(sequence)) out.push(finding(file, f.line, f.rule, f.what));
  if (noTransaction) {
    // A no-transaction file may manage its own transactions, but one it never ends would hold its locks
    // (and the history row the runner writes next) until the session closes, which rolls them back.
    let open: { line: number } | undefined;
    for (const t of transactionControl) {
      if (t.kind === 'TRANS_STMT_BEGIN' || t.kind === 'TRANS_STMT_START') open = t;
      if (['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE'].includes(t.kind)) open = undefined;
    }
    if (open) out.push(finding(file, open.line, 'transaction-control', 'BEGIN without a COMMIT later in the file'));
  }
  return out.sort((a, b) => a.line - b.line);
}

const TRANSACTION_WORDS: Record<string, string> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO SAVEPOINT',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

/** SET / SET LOCAL / RESET of lock_timeout or statement_timeout, set_config() of them, or a DO block naming them. */
function checkTimeoutOverride(node: Node, add: (rule: RuleId, what: string) => void): void {
  const [kind] = Object.keys(node);
  const s: Node = node[kind];
  if (kind === 'VariableSetStmt' && RUNNER_TIMEOUTS.has(s.name)) {
    const verb = s.kind === 'VAR_RESET' ? 'RESET' : s.is_local ? 'SET LOCAL' : 'SET';
    add('timeout-override', `${verb} ${s.name}`);
    return;
  }
  if (kind === 'DoStmt') {
    const body = String((s.args ?? []).find((a: Node) => a.DefElem?.defname === 'as')?.DefElem?.arg?.String?.sval ?? '');
    const named = /\b(lock_timeout|statement_timeout)\b/i.exec(body);
    if (named) add('timeout-override', `DO block that sets ${named[1].toLowerCase()}`);
    return;
  }
  if (kind === 'CreateFunctionStmt') return; // a function's own SET clause applies inside the function only
  for (const call of setConfigCalls(node)) {
    const name = call.args?.[0]?.A_Const?.sval?.sval;
    if (typeof name === 'string' && RUNNER_TIMEOUTS.has(name.toLowerCase())) add('timeout-override', `set_config('${name}', ...)`);
    else if (typeof name !== 'string') add('timeout-override', 'set_config() of a setting named by an expression');
  }
}

function setConfigCalls(node: unknown, out: Node[] = []): Node[] {
  if (Array.isArray(node)) for (const n of node) setConfigCalls(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'FuncCall' && lastName((v as Node).funcname).toLowerCase() === 'set_config') out.push(v as Node);
      setConfigCalls(v, out);
    }
  }
  return out;
}

/** The same column assigned twice in one UPDATE / ON CONFLICT SET, or the same option twice in one SET (...). */
function checkDuplicateAssignments(node: Node, add: (rule: RuleId, what: string) => void): void {
  const [kind] = Object.keys(node);
  const s: Node = node[kind];
  const lists: Array<{ what: string; targets: Node[] }> = [];
  if (kind === 'UpdateStmt') lists.push({ what: `UPDATE ${relName(s.relation)} SET`, targets: s.targetList ?? [] });
  if (kind === 'InsertStmt' && s.onConflictClause?.targetList)
    lists.push({ what: `INSERT INTO ${relName(s.relation)} ... ON CONFLICT DO UPDATE SET`, targets: s.onConflictClause.targetList });
  for (const { what, targets } of lists) {
    const seen = new Map<string, boolean>(); // column -> assigned whole (no subscript or field)
    for (const t of targets) {
      const name: string | undefined = t.ResTarget?.name;
      if (!name) continue;
      const whole = !t.ResTarget.indirection;
      if (seen.has(name) && (whole || seen.get(name))) {
        add('duplicate-assignment', `${what} assigns ${name} twice`);
        break;
      }
      seen.set(name, (seen.get(name) ?? false) || whole);
    }
  }
  if (kind === 'AlterTableStmt') {
    for (const c of s.cmds ?? []) {
      const cmd: Node | undefined = c.AlterTableCmd;
      if (cmd?.subtype !== 'AT_SetRelOptions' && cmd?.subtype !== 'AT_SetOptions') continue;
      const names: string[] = (cmd.def?.List?.items ?? []).map((d: Node) => d.DefElem?.defname).filter(Boolean);
      const dup = names.find((n, i) => names.indexOf(n) !== i);
      if (dup) add('duplicate-assignment', `ALTER TABLE ${relName(s.relation)} SET (${dup} ... ${dup} ...)`);
    }
  }
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
  state: SchemaState,
  add: (rule: RuleId, what: string, line?: number) => void,
  noTransaction: boolean,
  settingNotNull: ReadonlySet<string>,
): void {
  const col = cmd.name as string | undefined;
  const prefix = `ALTER ${objtype === 'OBJECT_INDEX' ? 'INDEX' : 'TABLE'} ${table}`;
  switch (cmd.subtype) {
    case 'AT_AddConstraint': {
      const c: Node = cmd.def?.Constraint ?? {};
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
        if (!state.hasValidatedNotNull(table, column))
          add('set-not-null', `${prefix} ADD CONSTRAINT ${c.conname ?? ''} NOT NULL ${column}`);
      }
      return;
    }
    case 'AT_ValidateConstraint':
      return;
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
    case 'AT_DropConstraint': {
      // The last step of the documented SET NOT NULL sequence: the helper CHECK (col IS NOT NULL) is spent.
      const helperOf = state.notNullHelpers.get(`${table}.${col}`);
      if (state.isSpentNotNullHelper(table, col ?? '') || (helperOf !== undefined && settingNotNull.has(helperOf))) return;
      add('drop-constraint', `${prefix} DROP CONSTRAINT ${col}`);
      return;
    }
    case 'AT_AlterColumnType':
      add('alter-column-type', `${prefix} ALTER COLUMN ${col} TYPE ${dottedName(cmd.def?.ColumnDef?.typeName?.names)}`);
      return;
    case 'AT_SetNotNull':
      if (!state.hasValidatedNotNull(table, col ?? '')) add('set-not-null', `${prefix} ALTER COLUMN ${col} SET NOT NULL`);
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
      checkAddColumn(cmd.def?.ColumnDef ?? {}, prefix, add, state);
      return;
    default:
      return;
  }
}

function checkAddColumn(def: Node, prefix: string, add: (rule: RuleId, what: string) => void, state: SchemaState): void {
  const cons: Node[] = (def.constraints ?? []).map((c: Node) => c.Constraint).filter(Boolean);
  const what = `${prefix} ADD COLUMN ${def.colname}`;
  const typeName = lastName(def.typeName?.names).toLowerCase();
  const dflt = cons.find((c) => c.contype === 'CONSTR_DEFAULT');
  const identity = cons.find((c) => c.contype === 'CONSTR_IDENTITY');
  const generated = cons.find((c) => c.contype === 'CONSTR_GENERATED');
  const { work, reason } = addColumnWork(def, state);
  if (work === 'rewrite') {
    const unknown = dflt ? functionNames(dflt.raw_expr).find((f) => !state.isNonVolatile(f)) : undefined;
    add(
      'volatile-default',
      unknown ? `${what} DEFAULT ${unknown}() (not known to be IMMUTABLE or STABLE: a rewrite)` : `${what} (${reason})`,
    );
  }
  for (const c of cons) {
    if (c.contype === 'CONSTR_CHECK')
      add('add-column-constraint', `${what} ... CHECK (...) (validated by a full scan under ACCESS EXCLUSIVE)`);
    if (c.contype === 'CONSTR_FOREIGN')
      add('add-column-constraint', `${what} ... REFERENCES ${relName(c.pktable)} (validated by a full scan under ACCESS EXCLUSIVE)`);
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

const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

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
