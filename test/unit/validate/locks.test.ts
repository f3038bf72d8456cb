// What the lock analysis says a statement does to its tables' rows (the locks themselves are checked against
// pg_locks in test/integration/validate/locks.test.ts): scans, rewrites, rows, nothing.
import { durationClass, statementEffect } from '../../../src/validate/locks';
import { parseSqlFile } from '../../../src/validate/parser';
import { SchemaState } from '../../../src/validate/schema-state';

async function effectOf(sql: string, context = '') {
  const state = new SchemaState();
  const parsed = await parseSqlFile(`${context}\n${sql}`);
  if ('error' in parsed) throw new Error(parsed.error.message);
  const statements = parsed.statements;
  for (const st of statements.slice(0, -1)) state.learn(st.node);
  const effect = statementEffect(statements[statements.length - 1].node, state);
  return { works: Object.fromEntries(effect.tables.map((t) => [t.table, t.work])), duration: durationClass(effect), effect };
}

const CONTEXT = 'CREATE TABLE public.sessions (id uuid PRIMARY KEY, note text);';

describe('lock analysis', () => {
  test.each([
    ['ALTER TABLE public.sessions ADD COLUMN x text', { 'public.sessions': 'none' }, 'instant'],
    ['ALTER TABLE public.sessions ADD COLUMN x uuid DEFAULT gen_random_uuid()', { 'public.sessions': 'rewrite' }, 'table size'],
    ['ALTER TABLE public.sessions ADD COLUMN x int CHECK (x > 0)', { 'public.sessions': 'scan' }, 'table size'],
    ['CREATE INDEX i ON ONLY public.audit_events (zone_id)', { 'public.audit_events': 'none' }, 'instant'],
    ['CREATE INDEX CONCURRENTLY i ON public.sessions (note)', { 'public.sessions': 'scan' }, 'table size, waits for older transactions'],
    [
      "UPDATE public.sessions SET note = 'x' WHERE id = '00000000-0000-0000-0000-000000000001'",
      { 'public.sessions': 'rows' },
      'rows touched',
    ],
    ["UPDATE public.sessions SET note = 'x' WHERE note IS NULL", { 'public.sessions': 'scan' }, 'table size'],
    ['ALTER TABLE public.sessions ALTER COLUMN note TYPE varchar(10)', { 'public.sessions': 'rewrite' }, 'table size'],
    ['ALTER TABLE public.sessions VALIDATE CONSTRAINT c', { 'public.sessions': 'scan' }, 'table size'],
  ])('GIVEN %s WHEN analysed THEN its work per table is %j and it lasts %s', async (sql, works, duration) => {
    const r = await effectOf(sql, CONTEXT);
    expect(r.works).toEqual(works);
    expect(r.duration).toBe(duration);
  });

  test.each(['DO $$ BEGIN PERFORM 1; END $$', 'SELECT public.audit_partitions_ensure()'])(
    'GIVEN %s WHEN analysed THEN its effect is unknown',
    async (sql) => {
      expect((await effectOf(sql)).duration).toBe('unknown');
    },
  );

  test('GIVEN a SET NOT NULL after a validated CHECK (col IS NOT NULL) WHEN analysed THEN it scans nothing', async () => {
    const r = await effectOf(
      'ALTER TABLE public.sessions ALTER COLUMN note SET NOT NULL',
      `${CONTEXT}\nALTER TABLE public.sessions ADD CONSTRAINT nn CHECK (note IS NOT NULL) NOT VALID;\nALTER TABLE public.sessions VALIDATE CONSTRAINT nn;`,
    );
    expect(r.works).toEqual({ 'public.sessions': 'none' });
  });
});
