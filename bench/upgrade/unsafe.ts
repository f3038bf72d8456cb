// One migration per class that `validate` refuses, applied by the real runner in the same harness as the expand
// set, to show that each one does fail or block the previous version (or fails the upgrade itself). The integration
// test checks that validate --static refuses each with its rule, so the rules and this evidence cannot drift apart.
import type { RuleId } from '../../src/validate/rules';
import type { Service } from './load';

export type Harm =
  /** The old version's transactions fail (errors, pool timeouts, wrong answers). */
  | 'load fails'
  /** The old version's transactions wait on the runner (stall time, added p99). */
  | 'load blocked'
  /** The migration Job fails: the upgrade stops (nothing of the file is applied). */
  | 'job fails';

export interface UnsafeExample {
  readonly rule: RuleId;
  /** What the example does, in a few words. */
  readonly what: string;
  /** The harm the harness should observe. */
  readonly harm: Harm;
  /** Files after the project's migrations, in order: name suffix -> SQL. */
  readonly files: ReadonlyArray<readonly [string, string]>;
  /** Files applied before the load starts (set-up the example needs, not what it shows). */
  readonly prelude?: ReadonlyArray<readonly [string, string]>;
  /** The old version's long transaction while it applies (for classes that act through lock waits). */
  readonly longTransaction?: { readonly service: Service; readonly table: string; readonly seconds: number; readonly leadMs: number };
  /** The runner migrates another database of the same server (the load runs on the one it drops). */
  readonly fromSiblingDatabase?: boolean;
  /**
   * The runner logs in as the server's superuser, as the Job of an in-cluster instance does (its owner login is the
   * bootstrap superuser). As the owner login of a managed database, FORCE ROW LEVEL SECURITY filters a migration's
   * UPDATE/DELETE on zone-scoped tables to no rows at all (no zone context): the backfill silently changes nothing.
   */
  readonly asSuperuser?: boolean;
}

const owner = (sql: string) => `SET LOCAL ROLE caracal_owner;\n${sql}\nRESET ROLE;\n`;

export const UNSAFE_EXAMPLES: readonly UnsafeExample[] = [
  {
    rule: 'parse-error',
    what: 'a typo (ADD COLUM)',
    harm: 'job fails',
    files: [['typo', 'ALTER TABLE public.sessions ADD COLUM hint text;']],
  },
  {
    rule: 'concurrently-in-transaction',
    what: 'CREATE INDEX CONCURRENTLY in a wrapped file',
    harm: 'job fails',
    files: [['cic_in_tx', 'CREATE INDEX CONCURRENTLY sessions_last_seen_idx ON public.sessions (last_seen_at);']],
  },
  {
    rule: 'owner-role',
    what: 'a table created as the migrator login, then altered as caracal_owner by the next file',
    harm: 'job fails',
    files: [
      ['flags_as_login', 'CREATE TABLE public.api_flags (id int PRIMARY KEY, name text);'],
      ['flags_comment', owner(`ALTER TABLE public.api_flags ADD COLUMN note text;`)],
    ],
  },
  {
    rule: 'drop-table',
    what: 'DROP TABLE resource_rate_limits (the gateway reads it)',
    harm: 'load fails',
    files: [['drop_rate_limits', 'DROP TABLE public.resource_rate_limits;']],
  },
  {
    rule: 'drop-column',
    what: 'DROP COLUMN upstream_uri (the gateway reads it)',
    harm: 'load fails',
    files: [['drop_upstream', 'ALTER TABLE public.gateway_resource_bindings DROP COLUMN upstream_uri;']],
  },
  {
    rule: 'drop-constraint',
    what: "drop policy_versions' primary key (the api's ON CONFLICT target)",
    harm: 'load fails',
    files: [['drop_pv_pkey', owner('ALTER TABLE public.policy_versions DROP CONSTRAINT policy_versions_pkey;')]],
  },
  {
    rule: 'drop-index',
    what: 'DROP INDEX without CONCURRENTLY on sessions while an old transaction reads it',
    harm: 'load blocked',
    files: [['drop_subject_idx', owner('DROP INDEX public.sessions_subject_idx;')]],
    longTransaction: { service: 'api', table: 'public.sessions', seconds: 4, leadMs: 500 },
  },
  {
    rule: 'drop-object',
    what: "DROP FUNCTION audit_partition_health (the audit service's health check)",
    harm: 'load fails',
    files: [['drop_health', owner('DROP FUNCTION public.audit_partition_health(integer);')]],
  },
  {
    rule: 'rename',
    what: 'RENAME COLUMN route (the gateway reads it)',
    harm: 'load fails',
    files: [['rename_route', 'ALTER TABLE public.gateway_resource_bindings RENAME COLUMN route TO path;']],
  },
  {
    rule: 'alter-column-type',
    what: 'audit_events.payload jsonb -> json (a rewrite of every partition)',
    harm: 'load blocked',
    files: [['payload_json', owner('ALTER TABLE public.audit_events ALTER COLUMN payload TYPE json;')]],
  },
  {
    rule: 'set-not-null',
    what: 'SET NOT NULL on audit_events.actor without a validated CHECK (a scan under ACCESS EXCLUSIVE)',
    harm: 'load blocked',
    files: [['actor_not_null', owner('ALTER TABLE public.audit_events ALTER COLUMN actor SET NOT NULL;')]],
  },
  {
    rule: 'volatile-default',
    // PL/pgSQL: a VOLATILE `LANGUAGE sql` function returning a constant is inlined, and the default is then a constant
    // (no rewrite). The grant keeps the audit service's inserts working, so what is left is the rewrite itself.
    what: 'ADD COLUMN region DEFAULT public.default_region() on audit_events (a VOLATILE PL/pgSQL function: a rewrite)',
    harm: 'load blocked',
    files: [
      [
        'default_region',
        owner(
          `CREATE FUNCTION public.default_region() RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN 'eu-west'; END $$;\n` +
            `GRANT EXECUTE ON FUNCTION public.default_region() TO caracal_audit;\n` +
            `ALTER TABLE public.audit_events ADD COLUMN region text DEFAULT public.default_region();`,
        ),
      ],
    ],
  },
  {
    rule: 'add-column-not-null',
    what: 'ADD COLUMN tier NOT NULL without a default on zones',
    harm: 'job fails',
    files: [['zones_tier', 'ALTER TABLE public.zones ADD COLUMN tier text NOT NULL;']],
  },
  {
    rule: 'add-column-constraint',
    what: 'ADD COLUMN severity ... CHECK on audit_events (validated by a scan under ACCESS EXCLUSIVE)',
    harm: 'load blocked',
    files: [['severity_check', owner('ALTER TABLE public.audit_events ADD COLUMN severity int CHECK (severity >= 0);')]],
  },
  {
    rule: 'index-not-concurrent',
    what: 'CREATE INDEX without CONCURRENTLY on audit_events (SHARE for the whole build)',
    harm: 'load blocked',
    files: [['actor_idx', owner('CREATE INDEX audit_events_subject_idx ON public.audit_events (subject);')]],
  },
  {
    rule: 'concurrent-index-on-partitioned',
    what: 'CREATE INDEX CONCURRENTLY on the partitioned audit_events',
    harm: 'job fails',
    files: [
      [
        'cic_partitioned',
        '-- caracal:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS audit_events_subject_idx ON public.audit_events (subject);',
      ],
    ],
  },
  {
    rule: 'constraint-not-valid',
    what: 'ADD CHECK bounding the payload size without NOT VALID on audit_events (every row validated under ACCESS EXCLUSIVE)',
    harm: 'load blocked',
    files: [
      [
        'payload_bounded',
        owner('ALTER TABLE public.audit_events ADD CONSTRAINT audit_events_payload_bounded CHECK (length(payload::text) < 65536);'),
      ],
    ],
  },
  {
    rule: 'validate-in-same-file',
    what: 'ADD CHECK NOT VALID and VALIDATE in one file on audit_events',
    harm: 'load blocked',
    files: [
      [
        'check_and_validate',
        owner(
          "ALTER TABLE public.audit_events ADD CONSTRAINT audit_events_source_known CHECK (source <> '') NOT VALID;\n" +
            'ALTER TABLE public.audit_events VALIDATE CONSTRAINT audit_events_source_known;',
        ),
      ],
    ],
  },
  {
    rule: 'add-unique-without-index',
    what: 'ADD UNIQUE (event_id, ingested_at) on audit_events (builds the index under ACCESS EXCLUSIVE)',
    harm: 'load blocked',
    files: [
      ['event_unique', owner('ALTER TABLE public.audit_events ADD CONSTRAINT audit_events_event_key UNIQUE (event_id, ingested_at);')],
    ],
  },
  {
    rule: 'several-tables-locked',
    // pg_sleep stands for any work between the two statements (a backfill, an index on a third table): it widens the
    // window in which the api's transactions, holding sessions, queue behind the lock on zones.
    what: 'ADD COLUMN on zones, other work, ADD COLUMN on sessions in one file (the api writes sessions, then zones)',
    harm: 'load fails',
    files: [
      [
        'zones_and_sessions',
        'ALTER TABLE public.zones ADD COLUMN tier text;\nSELECT pg_sleep(0.3);\nALTER TABLE public.sessions ADD COLUMN device text;',
      ],
    ],
  },
  {
    rule: 'scan-under-lock',
    // As the superuser: as caracal_owner, FORCE ROW LEVEL SECURITY hides every audit row (no zone context), and the
    // report scans nothing (126 ms of stall in the run that showed it).
    what: 'ADD COLUMN on sessions, then a daily report table built from audit_events in the same transaction (sessions stays locked for the scan)',
    harm: 'load blocked',
    files: [
      [
        'sessions_then_report',
        'ALTER TABLE public.sessions ADD COLUMN note text;\n' +
          'CREATE TABLE public.audit_daily AS\n' +
          "  SELECT zone_id, date_trunc('day', ingested_at) AS day, event_type, count(*) AS events, count(DISTINCT actor) AS actors\n" +
          '    FROM public.audit_events GROUP BY 1, 2, 3;',
      ],
    ],
    asSuperuser: true,
  },
  {
    rule: 'unbatched-backfill',
    what: 'UPDATE sessions ... WHERE client_id IS NULL (every row in one transaction)',
    harm: 'load blocked',
    prelude: [['sessions_client_id', 'ALTER TABLE public.sessions ADD COLUMN client_id text;']],
    files: [['sessions_backfill', "UPDATE public.sessions SET client_id = 'web' WHERE client_id IS NULL;"]],
    asSuperuser: true,
  },
  {
    rule: 'update-without-where',
    what: 'UPDATE sessions SET last_seen_at = created_at (every row)',
    harm: 'load blocked',
    files: [['sessions_update_all', 'UPDATE public.sessions SET last_seen_at = created_at;']],
    asSuperuser: true,
  },
  {
    rule: 'delete-without-where',
    what: 'DELETE FROM gateway_resource_bindings (the gateway loses its routes)',
    harm: 'load fails',
    files: [['delete_routes', 'DELETE FROM public.gateway_resource_bindings;']],
    asSuperuser: true,
  },
  {
    rule: 'truncate',
    what: 'TRUNCATE gateway_binding_revision (the gateway loses its revisions)',
    harm: 'load fails',
    files: [['truncate_revisions', 'TRUNCATE public.gateway_binding_revision;']],
  },
  {
    rule: 'timeout-override',
    what: 'SET LOCAL lock_timeout = 0, then ADD COLUMN on sessions while an old transaction reads it',
    harm: 'load blocked',
    files: [['no_lock_timeout', 'SET LOCAL lock_timeout = 0;\nALTER TABLE public.sessions ADD COLUMN device_hint text;']],
    longTransaction: { service: 'api', table: 'public.sessions', seconds: 6, leadMs: 500 },
  },
  {
    rule: 'alter-domain-constraint',
    what: 'ALTER DOMAIN ... ADD CONSTRAINT bounding the size of audit_events.payload (SHARE on the table for the scan)',
    harm: 'load blocked',
    prelude: [
      ['payload_domain', owner('CREATE DOMAIN public.audit_payload AS jsonb;')],
      ['payload_domain_use', owner('ALTER TABLE public.audit_events ALTER COLUMN payload TYPE public.audit_payload;')],
    ],
    files: [
      [
        'payload_domain_check',
        owner('ALTER DOMAIN public.audit_payload ADD CONSTRAINT audit_payload_bounded CHECK (length(VALUE::text) < 65536);'),
      ],
    ],
  },
  {
    rule: 'set-logged',
    // Every zone-scoped table references zones, and an unlogged table may not reference a logged one: Postgres refuses
    // (42P16) and the upgrade stops. On a table without foreign keys it is a rewrite under ACCESS EXCLUSIVE instead.
    what: 'SET UNLOGGED on sessions (refused by Postgres: sessions references logged tables)',
    harm: 'job fails',
    files: [['sessions_unlogged', owner('ALTER TABLE public.sessions SET UNLOGGED;')]],
  },
  {
    rule: 'table-rewrite',
    what: 'CLUSTER sessions (a rewrite under ACCESS EXCLUSIVE)',
    harm: 'load blocked',
    files: [['sessions_cluster', owner('CLUSTER public.sessions USING sessions_pkey;')]],
  },
  {
    rule: 'reindex-not-concurrent',
    what: 'REINDEX TABLE sessions (writes wait for the rebuild)',
    harm: 'load blocked',
    files: [['sessions_reindex', owner('REINDEX TABLE public.sessions;')]],
  },
  {
    rule: 'detach-partition',
    what: "DETACH PARTITION of yesterday's audit partition (the audit service's day query loses it)",
    harm: 'load fails',
    files: [['detach_yesterday', owner('ALTER TABLE public.audit_events DETACH PARTITION public.__YESTERDAY__;')]],
  },
  {
    rule: 'revoke',
    what: 'REVOKE SELECT on gateway_binding_revision FROM caracal_gateway',
    harm: 'load fails',
    files: [['revoke_gateway', owner('REVOKE SELECT ON public.gateway_binding_revision FROM caracal_gateway;')]],
  },
  {
    rule: 'drop-default',
    what: "DROP DEFAULT of event_outbox.status (the api's inserts leave it out)",
    harm: 'load fails',
    files: [['outbox_status_default', owner('ALTER TABLE public.event_outbox ALTER COLUMN status DROP DEFAULT;')]],
  },
  {
    rule: 'weaken-control',
    what: 'DISABLE ROW LEVEL SECURITY on sessions (the gateway sees every zone)',
    harm: 'load fails',
    files: [['sessions_no_rls', owner('ALTER TABLE public.sessions DISABLE ROW LEVEL SECURITY;')]],
  },
  {
    rule: 'transaction-control',
    what: 'a COMMIT in a wrapped file',
    harm: 'job fails',
    files: [['own_commit', 'ALTER TABLE public.zones ADD COLUMN tier text;\nCOMMIT;']],
  },
  {
    rule: 'duplicate-assignment',
    what: 'UPDATE ... SET status = ..., status = ...',
    harm: 'job fails',
    files: [
      [
        'double_set',
        "UPDATE public.step_up_challenges SET status = 'expired', status = 'failed' WHERE id = '00000000-0000-0000-0000-000000000001';",
      ],
    ],
  },
  {
    rule: 'drop-database',
    what: "DROP DATABASE ... WITH (FORCE) of the load's database, from a sibling database on the same server",
    harm: 'load fails',
    files: [['drop_sibling', '-- caracal:no-transaction\nDROP DATABASE IF EXISTS __LOAD_DATABASE__ WITH (FORCE);']],
    fromSiblingDatabase: true,
    asSuperuser: true,
  },
];
