// The seed's troubleshooting table as data, shared by `caracal-migrate doctor` (one verdict per row), the alert
// rules (one rule per row) and the dashboard (one row per row), with the runbook anchors in docs/operations.md
// they all link to. Imports nothing: the runner bundle and the constructs both import it.

/** The runbook, relative to the package root; alerts prefix it with `runbookBaseUrl`. */
export const RUNBOOK_FILE = 'docs/operations.md';

export type TroubleshootingRowId = 'migration-job-fails' | 'api-outbox-grows' | 'audit-queries-slow' | 'rls-errors' | 'streams';

export interface TroubleshootingRow {
  readonly id: TroubleshootingRowId;
  /** The seed's "Phase" column ("Next step" for its closing pointer to the Redis streams). */
  readonly phase: string;
  /** The seed's "Symptom" column. */
  readonly symptom: string;
  /** The seed's "First check" column, word for word. */
  readonly firstCheck: string;
  /** Anchor of the row's section under "Troubleshooting" in docs/operations.md. */
  readonly anchor: string;
}

export const TROUBLESHOOTING_ROWS: readonly TroubleshootingRow[] = [
  {
    id: 'migration-job-fails',
    phase: 'Bootstrap',
    symptom: 'Migration Job fails',
    firstCheck: 'Database secret, host, port, user, database, SSL mode, and advisory-lock connectivity.',
    anchor: 'migration-job-fails',
  },
  {
    id: 'api-outbox-grows',
    phase: 'Operations',
    symptom: 'API outbox grows',
    firstCheck: 'Redis reachability, outbox dispatcher logs, DB pool saturation, and event_outbox dead rows.',
    anchor: 'api-outbox-grows',
  },
  {
    id: 'audit-queries-slow',
    phase: 'Performance',
    symptom: 'Audit queries slow',
    firstCheck: 'Partition health, indexes, retention, and query time windows.',
    anchor: 'audit-queries-slow',
  },
  {
    id: 'rls-errors',
    phase: 'Access control',
    symptom: 'RLS errors',
    firstCheck: 'Confirm service role and zone context handling before widening permissions.',
    anchor: 'rls-errors',
  },
  {
    id: 'streams',
    phase: 'Next step',
    symptom: 'Streams: groups, pending entries, invalidation, revocation, audit delivery',
    firstCheck: 'Verify stream groups, pending entries, invalidation, revocation, and audit delivery.',
    anchor: 'streams-groups-pending-entries-invalidation-revocation-audit-delivery',
  },
];

export function troubleshootingRow(id: TroubleshootingRowId): TroubleshootingRow {
  return TROUBLESHOOTING_ROWS.find((r) => r.id === id)!;
}

/** `docs/operations.md#anchor`, or `<base>#anchor` for a runbook served elsewhere. */
export function runbookLink(anchor: string, base: string = RUNBOOK_FILE): string {
  return `${base}#${anchor}`;
}
