// Behavioural privilege probes: zero-row statements run as a role inside a rolled-back transaction.
// A statement that gets past the privilege check counts as held; "permission denied" as not held.
import { Client } from 'pg';
import { PRIVILEGES, Privilege, asRole, attempt, quoteIdent } from '../../support/schema';

interface Column {
  name: string;
  type: string;
  insert: boolean;
  update: boolean;
}

async function columnsFor(client: Client, role: string, table: string): Promise<Column[]> {
  const { rows } = await client.query<Column>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            has_column_privilege($1, a.attrelid, a.attname, 'INSERT') AS insert,
            has_column_privilege($1, a.attrelid, a.attname, 'UPDATE') AS update
     FROM pg_attribute a
     WHERE a.attrelid = $2::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = '' AND a.attgenerated = ''
     ORDER BY a.attnum`,
    [role, `public.${table}`],
  );
  return rows;
}

function statementFor(privilege: Privilege, table: string, columns: Column[]): string {
  const t = `public.${quoteIdent(table)}`;
  // Use a column the role may write, if any, so a column-level grant is found; else the first one.
  const pick = (k: 'insert' | 'update') => columns.find((c) => c[k]) ?? columns[0];
  switch (privilege) {
    case 'S':
      return `SELECT FROM ${t} WHERE false`;
    case 'I': {
      const c = pick('insert');
      return `INSERT INTO ${t} (${quoteIdent(c.name)}) SELECT NULL::${c.type} WHERE false`;
    }
    case 'U': {
      const c = pick('update');
      return `UPDATE ${t} SET ${quoteIdent(c.name)} = NULL::${c.type} WHERE false`;
    }
    case 'D':
      return `DELETE FROM ${t} WHERE false`;
  }
}

/** The matrix cell `role` demonstrably holds on `public.<table>`, found by trying each statement. */
export async function cellByBehaviour(client: Client, role: string, table: string): Promise<string> {
  const columns = await columnsFor(client, role, table);
  const held: Privilege[] = [];
  await asRole(
    client,
    role,
    async (c) => {
      for (const p of PRIVILEGES) {
        const failure = await attempt(c, statementFor(p, table, columns));
        if (failure === null) {
          held.push(p);
        } else if (!/^permission denied/.test(failure.message)) {
          throw new Error(`${role} ${p} on ${table}: unexpected ${failure.code} ${failure.message}`);
        }
      }
    },
    { zoneId: '00000000-0000-4000-8000-000000000000' },
  );
  return held.join('');
}
