// What one parsed statement does to tables while it runs: the lock it takes on each (Postgres's table-level lock
// modes, as documented under "Explicit Locking" and in ALTER TABLE's notes, checked against pg_locks by
// test/integration/validate/locks.test.ts), and whether it reads every row, rewrites the table or touches rows.
// `validate`'s lock rules and `caracal-migrate plan` both read it, so they cannot disagree.

export const LOCK_MODES = [
  'ACCESS SHARE',
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
] as const;
export type LockMode = (typeof LOCK_MODES)[number];

export function lockStrength(mode: LockMode): number {
  return LOCK_MODES.indexOf(mode);
}

/** SHARE and stronger conflict with ROW EXCLUSIVE: the running version's INSERT/UPDATE/DELETE wait (ACCESS EXCLUSIVE: its reads too). */
export function blocksWrites(mode: LockMode): boolean {
  return lockStrength(mode) >= lockStrength('SHARE');
}

/** What the statement does to a table's rows, lightest first. */
export type Work = 'none' | 'rows' | 'scan' | 'rewrite';
const WORK_ORDER: readonly Work[] = ['none', 'rows', 'scan', 'rewrite'];

export interface TableEffect {
  /** `schema.name`; `(tables using domain x)` when the tables are not known statically. */
  readonly table: string;
  readonly lock: LockMode;
  /** none: catalog only; rows: the rows it names (row locks); scan: reads every row; rewrite: copies the table. */
  readonly work: Work;
  /** Why the work happens, e.g. "validates the CHECK", "builds the index". */
  readonly reason?: string;
  /** Locked only as the referenced side of a foreign key (its triggers), not itself changed. */
  readonly referenced?: boolean;
}

export interface StatementEffect {
  /** Strongest lock and heaviest work per table. */
  readonly tables: readonly TableEffect[];
  /** CONCURRENTLY: no blocking lock, but it waits for every older transaction (and can run long). */
  readonly concurrent: boolean;
  /** A DO block or a function call: what it locks is not known from the statement. */
  readonly opaque: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Node = Record<string, any>;

/** What the analysis needs to know about the schema so far (from earlier statements and files). */
export interface SchemaContext {
  /** Whether `table.column` has a validated CHECK (column IS NOT NULL), so SET NOT NULL skips its scan. */
  hasValidatedNotNull(table: string, column: string): boolean;
  /** Primary-key columns of a table, when known. */
  primaryKey(table: string): readonly string[] | undefined;
  /** Tables with a column of this domain type, when known. */
  domainUsers(domain: string): readonly string[] | undefined;
  /** Whether a function (last name part, lower case) is known not to be volatile (built-in list or declared IMMUTABLE/STABLE). */
  isNonVolatile(fn: string): boolean;
}

export interface RangeVar {
  schemaname?: string;
  relname: string;
  inh?: boolean;
}

export function relName(r: RangeVar | undefined): string {
  if (!r) return '?';
  return `${r.schemaname ?? 'public'}.${r.relname}`;
}

/** `a.b.c` from a list of String nodes. */
export function dottedName(list: Node[] | undefined): string {
  return (list ?? [])
    .map((n) => n.String?.sval)
    .filter(Boolean)
    .join('.');
}

export function lastName(list: Node[] | undefined): string {
  const names = (list ?? []).map((n) => n.String?.sval).filter((s): s is string => typeof s === 'string');
  return names[names.length - 1] ?? '?';
}

function qualify(parts: string[]): string {
  return parts.length >= 2 ? `${parts[parts.length - 2]}.${parts[parts.length - 1]}` : `public.${parts[0]}`;
}

/** Every FuncCall name (lower case, last part) inside an expression tree. */
export function functionNames(node: unknown, out: string[] = []): string[] {
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

/** Every table a query reads (RangeVar nodes anywhere in it). */
export function readTables(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const n of node) readTables(n, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'RangeVar') out.push(relName(v as RangeVar));
      else readTables(v, out);
    }
  }
  return out;
}

const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

/** `col IS NOT NULL` as a CHECK expression: the column, else undefined. */
export function notNullCheckColumn(expr: Node | undefined): string | undefined {
  const t = expr?.NullTest;
  if (!t || t.nulltesttype !== 'IS_NOT_NULL') return undefined;
  const fields: Node[] | undefined = t.arg?.ColumnRef?.fields;
  return fields && fields.length === 1 ? fields[0].String?.sval : undefined;
}

/** What ADD COLUMN costs: a rewrite (every row gets its own value), a scan (an inline constraint is validated), or nothing. */
export function addColumnWork(def: Node, ctx: SchemaContext): { work: Work; reason?: string } {
  const cons: Node[] = (def.constraints ?? []).map((c: Node) => c.Constraint).filter(Boolean);
  const typeName = lastName(def.typeName?.names).toLowerCase();
  const dflt = cons.find((c) => c.contype === 'CONSTR_DEFAULT');
  if (SERIAL_TYPES.has(typeName)) return { work: 'rewrite', reason: `${typeName}: nextval() for every row` };
  if (cons.some((c) => c.contype === 'CONSTR_IDENTITY')) return { work: 'rewrite', reason: 'identity: nextval() for every row' };
  if (cons.some((c) => c.contype === 'CONSTR_GENERATED' && c.generated_kind === 's'))
    return { work: 'rewrite', reason: 'stored generated column: computed for every row' };
  const unknown = dflt ? functionNames(dflt.raw_expr).filter((f) => !ctx.isNonVolatile(f)) : [];
  if (unknown.length)
    return { work: 'rewrite', reason: `default ${unknown[0]}() is not known to be non-volatile: evaluated for every row` };
  if (cons.some((c) => c.contype === 'CONSTR_PRIMARY' || c.contype === 'CONSTR_UNIQUE'))
    return { work: 'scan', reason: 'builds a unique index' };
  if (cons.some((c) => c.contype === 'CONSTR_CHECK')) return { work: 'scan', reason: 'validates the inline CHECK on every row' };
  if (cons.some((c) => c.contype === 'CONSTR_FOREIGN')) return { work: 'scan', reason: 'validates the inline REFERENCES on every row' };
  if (cons.some((c) => c.contype === 'CONSTR_NOTNULL') && !dflt) return { work: 'scan', reason: 'checks NOT NULL on every row' };
  return { work: 'none' };
}

/** Collects effects, keeping the strongest lock and heaviest work per table. */
class Effects {
  private readonly byTable = new Map<string, TableEffect>();
  concurrent = false;
  opaque = false;

  add(table: string, lock: LockMode, work: Work = 'none', reason?: string, referenced = false): void {
    const prev = this.byTable.get(table);
    if (!prev) {
      this.byTable.set(table, { table, lock, work, reason, ...(referenced ? { referenced } : {}) });
      return;
    }
    const heavier = WORK_ORDER.indexOf(work) > WORK_ORDER.indexOf(prev.work);
    const both = Boolean(prev.referenced) && referenced;
    this.byTable.set(table, {
      table,
      lock: lockStrength(lock) > lockStrength(prev.lock) ? lock : prev.lock,
      work: heavier ? work : prev.work,
      reason: heavier ? reason : prev.reason,
      ...(both ? { referenced: true } : {}),
    });
  }

  references(table: string): void {
    this.add(table, 'SHARE ROW EXCLUSIVE', 'none', 'a foreign key to it adds triggers on it', true);
  }

  reads(node: unknown, work: Work = 'scan', reason = 'reads it'): void {
    for (const t of readTables(node)) this.add(t, 'ACCESS SHARE', work, reason);
  }

  result(): StatementEffect {
    return { tables: [...this.byTable.values()], concurrent: this.concurrent, opaque: this.opaque };
  }
}

const BUILT_IN_CALLS = new Set(['set_config', 'current_setting', 'pg_advisory_xact_lock', 'pg_sleep']);

/**
 * Whether an UPDATE/DELETE's WHERE bounds the rows it touches to a batch: a comparison of a primary-key column
 * (any column when the key is not known) with a value, or a sub-select with LIMIT. `status IS NULL` alone is not.
 */
export function isBoundedWhere(where: Node | undefined, key: readonly string[] | undefined): boolean {
  if (!where) return false;
  const bool = where.BoolExpr;
  if (bool?.boolop === 'AND_EXPR') return (bool.args as Node[]).some((a) => isBoundedWhere(a, key));
  if (bool?.boolop === 'OR_EXPR') return (bool.args as Node[]).every((a) => isBoundedWhere(a, key));
  const column = (n: Node | undefined): string | undefined => {
    const fields: Node[] | undefined = n?.ColumnRef?.fields ?? n?.TypeCast?.arg?.ColumnRef?.fields;
    return fields?.[fields.length - 1]?.String?.sval;
  };
  const keyColumn = (n: Node | undefined) => {
    const c = column(n);
    return c !== undefined && (c === 'ctid' || key === undefined || key.includes(c));
  };
  const e = where.A_Expr;
  if (e && ['AEXPR_OP', 'AEXPR_IN', 'AEXPR_BETWEEN', 'AEXPR_OP_ANY'].includes(e.kind)) {
    if (e.kind === 'AEXPR_OP' && !['<', '<=', '>', '>=', '='].includes(lastName(e.name))) return false;
    return (keyColumn(e.lexpr) && column(e.rexpr) === undefined) || (keyColumn(e.rexpr) && column(e.lexpr) === undefined);
  }
  return where.SubLink !== undefined && hasLimit(where.SubLink.subselect);
}

function hasLimit(n: unknown): boolean {
  if (Array.isArray(n)) return n.some(hasLimit);
  if (!n || typeof n !== 'object') return false;
  return (n as Node).limitCount !== undefined || Object.values(n as Node).some(hasLimit);
}

/** The effect of one top-level statement. */
export function statementEffect(node: Node, ctx: SchemaContext): StatementEffect {
  const [kind] = Object.keys(node);
  const s: Node = node[kind];
  const fx = new Effects();
  switch (kind) {
    case 'CreateStmt': {
      const self = relName(s.relation);
      fx.add(self, 'ACCESS EXCLUSIVE');
      const parent = s.partbound ? s.inhRelations?.[0]?.RangeVar : undefined;
      if (parent) fx.add(relName(parent), 'ACCESS EXCLUSIVE', 'none', 'CREATE TABLE ... PARTITION OF locks the parent');
      for (const elt of s.tableElts ?? []) {
        const cons: Node[] = elt.Constraint ? [elt.Constraint] : (elt.ColumnDef?.constraints ?? []).map((c: Node) => c.Constraint);
        for (const c of cons) {
          if (c?.contype === 'CONSTR_FOREIGN' && c.pktable) fx.references(relName(c.pktable));
        }
        if (elt.TableLikeClause) fx.add(relName(elt.TableLikeClause.relation), 'ACCESS SHARE');
      }
      break;
    }
    case 'CreateTableAsStmt':
      fx.add(relName(s.into?.rel), 'ACCESS EXCLUSIVE');
      fx.reads(s.query, 'scan', 'copies its rows');
      break;
    case 'IndexStmt': {
      const table = relName(s.relation);
      if (s.concurrent) {
        fx.concurrent = true;
        fx.add(table, 'SHARE UPDATE EXCLUSIVE', 'scan', 'builds the index (two passes)');
      } else {
        // ON ONLY (inh false, which the parser leaves out) a partitioned parent builds nothing.
        const only = !s.relation?.inh;
        fx.add(
          table,
          'SHARE',
          only ? 'none' : 'scan',
          only ? 'ON ONLY: nothing is built until partitions are attached' : 'builds the index',
        );
      }
      break;
    }
    case 'AlterTableStmt':
      alterTableEffect(s, ctx, fx);
      break;
    case 'RenameStmt':
      if (s.relation) fx.add(relName(s.relation), s.renameType === 'OBJECT_INDEX' ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
      break;
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      fx.add(relName(s.table), 'ACCESS EXCLUSIVE');
      break;
    case 'CreateTrigStmt':
      fx.add(relName(s.relation), 'SHARE ROW EXCLUSIVE');
      break;
    case 'RuleStmt':
      fx.add(relName(s.relation), 'ACCESS EXCLUSIVE');
      break;
    case 'DropStmt':
      dropEffect(s, fx);
      break;
    case 'TruncateStmt':
      for (const r of s.relations ?? []) fx.add(relName(r.RangeVar), 'ACCESS EXCLUSIVE', 'rewrite', 'empties the table');
      break;
    case 'CommentStmt':
      if (s.objtype === 'OBJECT_TABLE' || s.objtype === 'OBJECT_COLUMN') {
        const parts: string[] = (s.object?.List?.items ?? []).map((n: Node) => n.String?.sval);
        fx.add(qualify(s.objtype === 'OBJECT_COLUMN' ? parts.slice(0, -1) : parts), 'SHARE UPDATE EXCLUSIVE');
      }
      break;
    case 'UpdateStmt':
    case 'DeleteStmt': {
      const table = relName(s.relation);
      const bounded = isBoundedWhere(s.whereClause, ctx.primaryKey(table));
      fx.add(
        table,
        'ROW EXCLUSIVE',
        bounded ? 'rows' : 'scan',
        bounded ? 'locks the rows it changes' : 'reads and locks every matching row',
      );
      fx.reads([s.fromClause, s.usingClause, s.whereClause], 'scan', 'reads it');
      if (functionNames([s.targetList, s.whereClause]).some((f) => !ctx.isNonVolatile(f) && !BUILT_IN_CALLS.has(f))) fx.opaque = true;
      break;
    }
    case 'InsertStmt':
      // New rows conflict with nobody's row locks: the cost is in what an INSERT ... SELECT reads.
      fx.add(relName(s.relation), 'ROW EXCLUSIVE');
      if (s.selectStmt?.SelectStmt?.fromClause) fx.reads(s.selectStmt, 'scan', 'copies its rows');
      break;
    case 'SelectStmt': {
      if (s.fromClause) fx.reads(s.fromClause, 'scan', 'reads it');
      if (s.lockingClause) for (const t of readTables(s.fromClause)) fx.add(t, 'ROW SHARE', 'rows', 'locks rows (FOR UPDATE/SHARE)');
      if (functionNames(s.targetList).some((f) => !BUILT_IN_CALLS.has(f) && !ctx.isNonVolatile(f))) fx.opaque = true;
      break;
    }
    case 'LockStmt':
      for (const r of s.relations ?? []) fx.add(relName(r.RangeVar), LOCK_MODES[Math.min(Math.max(Number(s.mode) - 1, 0), 7)]);
      break;
    case 'VacuumStmt': {
      const full = (s.options ?? []).some((o: Node) => o.DefElem?.defname === 'full' && o.DefElem?.arg?.Boolean?.boolval !== false);
      for (const r of s.rels ?? []) {
        const rel = r.VacuumRelation?.relation;
        if (rel) fx.add(relName(rel), full ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE', full ? 'rewrite' : 'scan');
      }
      break;
    }
    case 'ClusterStmt':
      if (s.relation) fx.add(relName(s.relation), 'ACCESS EXCLUSIVE', 'rewrite', 'CLUSTER copies the table in index order');
      break;
    case 'ReindexStmt': {
      const concurrently = (s.params ?? []).some(
        (o: Node) => o.DefElem?.defname === 'concurrently' && o.DefElem?.arg?.Boolean?.boolval !== false,
      );
      fx.concurrent = concurrently;
      if (s.relation) fx.add(relName(s.relation), concurrently ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE', 'scan', 'rebuilds the index');
      break;
    }
    case 'RefreshMatViewStmt':
      fx.add(relName(s.relation), s.concurrent ? 'EXCLUSIVE' : 'ACCESS EXCLUSIVE', 'rewrite', 'recomputes the view');
      break;
    case 'AlterDomainStmt': {
      const domain = dottedName(s.typeName);
      const users = ctx.domainUsers(lastName(s.typeName)) ?? [`(tables using domain ${domain})`];
      const scans = (s.subtype === 'C' && s.def?.Constraint && !s.def.Constraint.skip_validation) || s.subtype === 'V' || s.subtype === 'O';
      if (scans) for (const t of users) fx.add(t, 'SHARE', 'scan', `checks every value of domain ${domain}`);
      break;
    }
    case 'ViewStmt':
      if (s.replace) fx.add(relName(s.view), 'ACCESS EXCLUSIVE');
      fx.reads(s.query, 'none', 'reads its definition');
      break;
    case 'DoStmt':
    case 'CallStmt':
      fx.opaque = true;
      break;
    default:
      break;
  }
  return fx.result();
}

function dropEffect(s: Node, fx: Effects): void {
  const type = s.removeType as string;
  for (const o of s.objects ?? []) {
    const parts: string[] = (o.List?.items ?? []).map((n: Node) => n.String?.sval);
    if (type === 'OBJECT_TABLE' || type === 'OBJECT_VIEW' || type === 'OBJECT_MATVIEW') fx.add(qualify(parts), 'ACCESS EXCLUSIVE');
    else if (type === 'OBJECT_POLICY' || type === 'OBJECT_TRIGGER' || type === 'OBJECT_RULE')
      fx.add(qualify(parts.slice(0, -1)), 'ACCESS EXCLUSIVE');
    else if (type === 'OBJECT_INDEX') {
      // The index's table is not named: the lock is reported on the index (its table gets the same mode).
      if (s.concurrent) fx.concurrent = true;
      fx.add(qualify(parts), s.concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
    }
  }
}

function alterTableEffect(s: Node, ctx: SchemaContext, fx: Effects): void {
  const table = relName(s.relation);
  if (s.objtype === 'OBJECT_INDEX') {
    fx.add(table, 'SHARE UPDATE EXCLUSIVE');
    return;
  }
  for (const cmdNode of s.cmds ?? []) {
    const cmd: Node | undefined = cmdNode.AlterTableCmd;
    if (!cmd) continue;
    switch (cmd.subtype) {
      case 'AT_AddColumn': {
        const def: Node = cmd.def?.ColumnDef ?? {};
        const { work, reason } = addColumnWork(def, ctx);
        fx.add(table, 'ACCESS EXCLUSIVE', work, reason);
        for (const c of def.constraints ?? []) {
          if (c.Constraint?.contype === 'CONSTR_FOREIGN' && c.Constraint.pktable) fx.references(relName(c.Constraint.pktable));
        }
        break;
      }
      case 'AT_AddConstraint': {
        const c: Node = cmd.def?.Constraint ?? {};
        const validated = !c.skip_validation;
        if (c.contype === 'CONSTR_FOREIGN') {
          fx.add(
            table,
            'SHARE ROW EXCLUSIVE',
            validated ? 'scan' : 'none',
            validated ? 'validates the foreign key on every row' : undefined,
          );
          if (c.pktable) fx.references(relName(c.pktable));
        } else if (c.contype === 'CONSTR_CHECK') {
          fx.add(table, 'ACCESS EXCLUSIVE', validated ? 'scan' : 'none', validated ? 'validates the CHECK on every row' : undefined);
        } else if (['CONSTR_PRIMARY', 'CONSTR_UNIQUE', 'CONSTR_EXCLUSION'].includes(c.contype) && !c.indexname) {
          fx.add(table, 'ACCESS EXCLUSIVE', 'scan', 'builds the index');
        } else if (c.contype === 'CONSTR_NOTNULL') {
          const column = lastName(c.keys);
          fx.add(table, 'ACCESS EXCLUSIVE', ctx.hasValidatedNotNull(table, column) ? 'none' : 'scan', 'checks NOT NULL on every row');
        } else {
          fx.add(table, 'ACCESS EXCLUSIVE');
        }
        break;
      }
      case 'AT_ValidateConstraint':
        fx.add(table, 'SHARE UPDATE EXCLUSIVE', 'scan', `validates ${cmd.name} on every row`);
        break;
      case 'AT_SetNotNull':
        fx.add(table, 'ACCESS EXCLUSIVE', ctx.hasValidatedNotNull(table, cmd.name) ? 'none' : 'scan', 'checks NOT NULL on every row');
        break;
      case 'AT_AlterColumnType':
        fx.add(table, 'ACCESS EXCLUSIVE', 'rewrite', 'a new type: every row and index is rewritten');
        break;
      case 'AT_SetLogged':
      case 'AT_SetUnLogged':
        fx.add(table, 'ACCESS EXCLUSIVE', 'rewrite', 'persistence changes: the table is copied');
        break;
      case 'AT_SetTableSpace':
        fx.add(table, 'ACCESS EXCLUSIVE', 'rewrite', 'the table is copied to the tablespace');
        break;
      case 'AT_SetStatistics':
      case 'AT_SetOptions':
      case 'AT_ResetOptions':
      case 'AT_SetRelOptions':
      case 'AT_ResetRelOptions':
      case 'AT_ClusterOn':
      case 'AT_DropCluster':
        fx.add(table, 'SHARE UPDATE EXCLUSIVE');
        break;
      case 'AT_EnableTrig':
      case 'AT_EnableAlwaysTrig':
      case 'AT_EnableReplicaTrig':
      case 'AT_DisableTrig':
      case 'AT_EnableTrigAll':
      case 'AT_DisableTrigAll':
      case 'AT_EnableTrigUser':
      case 'AT_DisableTrigUser':
        fx.add(table, 'SHARE ROW EXCLUSIVE');
        break;
      case 'AT_AttachPartition': {
        fx.add(table, 'SHARE UPDATE EXCLUSIVE');
        const part = cmd.def?.PartitionCmd?.name;
        if (part) fx.add(relName(part), 'ACCESS EXCLUSIVE', 'scan', 'checks the partition bound unless a matching CHECK exists');
        break;
      }
      case 'AT_DetachPartition':
      case 'AT_DetachPartitionFinalize': {
        const concurrent = Boolean(cmd.def?.PartitionCmd?.concurrent);
        fx.concurrent = fx.concurrent || concurrent;
        fx.add(table, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
        const part = cmd.def?.PartitionCmd?.name;
        if (part) fx.add(relName(part), 'ACCESS EXCLUSIVE');
        break;
      }
      case 'AT_DropConstraint':
      default:
        fx.add(table, 'ACCESS EXCLUSIVE');
        break;
    }
  }
}

/** How long the statement holds what it takes, from its work (plan's duration class). */
export type DurationClass = 'instant' | 'rows touched' | 'table size' | 'table size, waits for older transactions' | 'unknown';

export function durationClass(effect: StatementEffect): DurationClass {
  if (effect.opaque) return 'unknown';
  const works = effect.tables.map((t) => t.work);
  if (effect.concurrent && works.some((w) => w === 'scan' || w === 'rewrite')) return 'table size, waits for older transactions';
  if (works.includes('rewrite') || works.includes('scan')) return 'table size';
  if (works.includes('rows')) return 'rows touched';
  return 'instant';
}
