// What `validate` and `plan` learn about the schema while reading a migration set in version order: tables
// (partitioned or not, primary keys), domains and the tables using them, NOT NULL helpers, and which functions are
// known not to be volatile. It answers the lock analysis' questions (src/validate/locks.ts SchemaContext).
import { lastName, Node, notNullCheckColumn, relName, SchemaContext } from './locks';

/**
 * Built-in functions known not to be volatile (IMMUTABLE or STABLE), so a column default calling them is
 * evaluated once and stored as the column's "missing value" without a rewrite. Anything else (a user-defined
 * function not declared IMMUTABLE/STABLE in the migrations, random(), gen_random_uuid(), clock_timestamp(),
 * nextval(), ...) counts as volatile.
 */
export const NON_VOLATILE_BUILT_INS: ReadonlySet<string> = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'current_setting',
  'current_schema',
  'current_database',
  'date_trunc',
  'date_part',
  'extract',
  'timezone',
  'make_interval',
  'make_date',
  'make_time',
  'make_timestamp',
  'make_timestamptz',
  'to_timestamp',
  'to_char',
  'to_date',
  'lower',
  'upper',
  'btrim',
  'ltrim',
  'rtrim',
  'length',
  'char_length',
  'substr',
  'substring',
  'left',
  'right',
  'replace',
  'concat',
  'concat_ws',
  'format',
  'md5',
  'sha256',
  'encode',
  'decode',
  'abs',
  'round',
  'jsonb_build_object',
  'jsonb_build_array',
  'json_build_object',
  'json_build_array',
  'to_jsonb',
  'to_json',
  'array_length',
  'cardinality',
  'int4',
  'int8',
  'numeric',
  'text',
]);

export class SchemaState implements SchemaContext {
  /** Tables known from earlier files (or earlier in this file), and whether each is partitioned. */
  readonly tables = new Map<string, { partitioned: boolean; primaryKey?: string[] }>();
  /** `table.column` pairs with a validated CHECK (column IS NOT NULL). */
  readonly validatedNotNull = new Set<string>();
  /** `table.constraint` -> column: CHECK (column IS NOT NULL) helpers (validated or not). */
  readonly notNullHelpers = new Map<string, string>();
  /** `table.column` pairs made NOT NULL by a migration (SET NOT NULL). */
  readonly notNullColumns = new Set<string>();
  /** Domain (last name) -> tables with a column of that type. */
  readonly domains = new Map<string, Set<string>>();
  /** User-defined functions (last name) declared IMMUTABLE or STABLE. */
  readonly nonVolatileFunctions = new Set<string>();

  hasValidatedNotNull(table: string, column: string): boolean {
    return this.validatedNotNull.has(`${table}.${column}`);
  }

  primaryKey(table: string): readonly string[] | undefined {
    return this.tables.get(table)?.primaryKey;
  }

  domainUsers(domain: string): readonly string[] | undefined {
    const users = this.domains.get(domain);
    return users ? [...users] : undefined;
  }

  isNonVolatile(fn: string): boolean {
    return NON_VOLATILE_BUILT_INS.has(fn) || this.nonVolatileFunctions.has(fn);
  }

  /** Learn from one statement (after the rules have looked at it). */
  learn(node: Node): void {
    const [kind] = Object.keys(node);
    const s: Node = node[kind];
    switch (kind) {
      case 'CreateStmt': {
        const name = relName(s.relation);
        let primaryKey: string[] | undefined;
        for (const elt of s.tableElts ?? []) {
          if (elt.ColumnDef) {
            this.noteColumnType(name, elt.ColumnDef);
            for (const c of elt.ColumnDef.constraints ?? [])
              if (c.Constraint?.contype === 'CONSTR_PRIMARY') primaryKey = [elt.ColumnDef.colname];
          }
          const cons: Node[] = elt.Constraint ? [elt.Constraint] : (elt.ColumnDef?.constraints ?? []).map((c: Node) => c.Constraint);
          for (const c of cons) {
            if (c?.contype === 'CONSTR_PRIMARY' && c.keys) primaryKey = (c.keys as Node[]).map((k) => k.String?.sval);
            if (c?.contype === 'CONSTR_CHECK' && !c.skip_validation) {
              const col = notNullCheckColumn(c.raw_expr);
              if (col) this.validatedNotNull.add(`${name}.${col}`);
            }
          }
        }
        this.tables.set(name, { partitioned: Boolean(s.partspec), primaryKey });
        break;
      }
      case 'CreateTableAsStmt':
        if (s.into?.rel) this.tables.set(relName(s.into.rel), { partitioned: false });
        break;
      case 'CreateDomainStmt':
        this.domains.set(lastName(s.domainname), new Set());
        break;
      case 'CreateFunctionStmt': {
        const volatility = (s.options ?? []).find((o: Node) => o.DefElem?.defname === 'volatility')?.DefElem?.arg?.String?.sval;
        const fn = lastName(s.funcname).toLowerCase();
        if (volatility === 'immutable' || volatility === 'stable') this.nonVolatileFunctions.add(fn);
        else this.nonVolatileFunctions.delete(fn);
        break;
      }
      case 'AlterTableStmt': {
        const table = relName(s.relation);
        for (const cmdNode of s.cmds ?? []) {
          const cmd: Node | undefined = cmdNode.AlterTableCmd;
          if (!cmd) continue;
          if (cmd.subtype === 'AT_AddColumn' && cmd.def?.ColumnDef) this.noteColumnType(table, cmd.def.ColumnDef);
          if (cmd.subtype === 'AT_AddConstraint' && cmd.def?.Constraint?.contype === 'CONSTR_CHECK') {
            const c: Node = cmd.def.Constraint;
            const col = notNullCheckColumn(c.raw_expr);
            if (col && !c.skip_validation) this.validatedNotNull.add(`${table}.${col}`);
            if (col && c.conname) this.notNullHelpers.set(`${table}.${c.conname}`, col);
          }
          if (cmd.subtype === 'AT_ValidateConstraint') {
            const col = this.notNullHelpers.get(`${table}.${cmd.name}`);
            if (col) this.validatedNotNull.add(`${table}.${col}`);
          }
          if (cmd.subtype === 'AT_SetNotNull') this.notNullColumns.add(`${table}.${cmd.name}`);
        }
        break;
      }
      default:
        break;
    }
  }

  /** The helper CHECK (column IS NOT NULL) whose column is NOT NULL by now: dropping it is the documented last step. */
  isSpentNotNullHelper(table: string, constraint: string): boolean {
    const col = this.notNullHelpers.get(`${table}.${constraint}`);
    return col !== undefined && this.notNullColumns.has(`${table}.${col}`);
  }

  private noteColumnType(table: string, def: Node): void {
    const type = lastName(def.typeName?.names);
    this.domains.get(type)?.add(table);
  }
}
