// The lock analysis behind validate's lock rules and `plan`, checked against what Postgres really takes:
// each statement runs in a transaction on the migrated baseline (rolled back) and pg_locks is read before ROLLBACK.
import { Client } from 'pg';
import { parseSqlFile } from '../../../src/validate/parser';
import { LockMode, statementEffect } from '../../../src/validate/locks';
import { SchemaState } from '../../../src/validate/schema-state';
import { FreshDatabase } from '../../support/postgres';
import { baselineDatabase, readBaseline } from '../../support/schema';

let db: FreshDatabase;
let client: Client;
const state = new SchemaState();

const PG_MODES: Record<string, LockMode> = {
  AccessShareLock: 'ACCESS SHARE',
  RowShareLock: 'ROW SHARE',
  RowExclusiveLock: 'ROW EXCLUSIVE',
  ShareUpdateExclusiveLock: 'SHARE UPDATE EXCLUSIVE',
  ShareLock: 'SHARE',
  ShareRowExclusiveLock: 'SHARE ROW EXCLUSIVE',
  ExclusiveLock: 'EXCLUSIVE',
  AccessExclusiveLock: 'ACCESS EXCLUSIVE',
};
const ORDER = Object.values(PG_MODES);

beforeAll(async () => {
  db = await baselineDatabase();
  client = new Client({ connectionString: db.url });
  await client.connect();
  const parsed = await parseSqlFile(readBaseline());
  if ('error' in parsed) throw new Error(parsed.error.message);
  for (const st of parsed.statements) state.learn(st.node);
  await client.query(`CREATE TABLE public.lock_probe_partition (LIKE public.audit_events INCLUDING CONSTRAINTS)`);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

/** The strongest lock this statement's transaction holds on each table (not index, not the probe itself) of public. */
async function actualLocks(sql: string, tables: readonly string[]): Promise<Record<string, LockMode>> {
  await client.query('BEGIN');
  try {
    await client.query(sql);
    const r = await client.query<{ rel: string; mode: string }>(
      `SELECT n.nspname || '.' || c.relname AS rel, l.mode FROM pg_locks l
         JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE l.pid = pg_backend_pid() AND l.granted AND n.nspname || '.' || c.relname = ANY($1)`,
      [tables],
    );
    const out: Record<string, LockMode> = {};
    for (const { rel, mode } of r.rows) {
      const m = PG_MODES[mode];
      if (!out[rel] || ORDER.indexOf(m) > ORDER.indexOf(out[rel])) out[rel] = m;
    }
    return out;
  } finally {
    await client.query('ROLLBACK');
  }
}

describe('lock analysis', () => {
  test.each([
    ['ALTER TABLE public.sessions ADD COLUMN note text'],
    ["ALTER TABLE public.sessions ADD COLUMN kind text NOT NULL DEFAULT 'user'"],
    ['ALTER TABLE public.sessions ADD CONSTRAINT s_fk FOREIGN KEY (zone_id) REFERENCES public.zones (id) NOT VALID'],
    ["ALTER TABLE public.sessions ADD CONSTRAINT s_ck CHECK (subject <> '') NOT VALID"],
    ['ALTER TABLE public.sessions VALIDATE CONSTRAINT sessions_check'],
    ['ALTER TABLE public.sessions ALTER COLUMN last_seen_at SET DEFAULT now()'],
    ['ALTER TABLE public.sessions SET (fillfactor = 90)'],
    ['ALTER TABLE public.sessions ALTER COLUMN subject SET STATISTICS 200'],
    ['ALTER TABLE public.sessions DISABLE TRIGGER ALL'],
    ['CREATE INDEX sessions_probe_idx ON public.sessions (last_seen_at)'],
    [
      'CREATE TABLE public.probe_child (id uuid PRIMARY KEY, zone_id uuid REFERENCES public.zones (id), session_id uuid REFERENCES public.sessions (id))',
    ],
    ["CREATE TABLE public.audit_events_p20990101 PARTITION OF public.audit_events FOR VALUES FROM ('2099-01-01') TO ('2099-01-02')"],
    ["ALTER TABLE public.audit_events ATTACH PARTITION public.lock_probe_partition FOR VALUES FROM ('2098-01-01') TO ('2098-01-02')"],
    ['CREATE POLICY probe ON public.sessions USING (true)'],
    ['DROP POLICY zone_isolation ON public.sessions'],
    ['CREATE TRIGGER probe BEFORE UPDATE ON public.sessions FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()'],
    ["COMMENT ON TABLE public.sessions IS 'probe'"],
    ["COMMENT ON COLUMN public.sessions.subject IS 'probe'"],
    ["UPDATE public.sessions SET revoked_reason = 'x' WHERE id = '00000000-0000-0000-0000-000000000001'"],
    ['INSERT INTO public.lock_probe_partition SELECT * FROM public.audit_events'],
    ['LOCK TABLE public.zones IN SHARE MODE'],
    ['CREATE OR REPLACE VIEW public.probe_view AS SELECT id FROM public.zones'],
  ])('GIVEN %s WHEN run on the baseline THEN the analysis names the locks Postgres takes', async (sql) => {
    const parsed = await parseSqlFile(sql);
    if ('error' in parsed) throw new Error(parsed.error.message);
    const predicted = statementEffect(parsed.statements[0].node, state).tables.filter((t) => !t.table.startsWith('('));
    const expected = Object.fromEntries(predicted.map((t) => [t.table, t.lock]));
    expect(await actualLocks(sql, Object.keys(expected))).toEqual(expected);
  });
});
