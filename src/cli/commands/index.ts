// The commands of caracal-migrate. Each is an adapter in this folder: it reads its flags through ../flags.ts,
// calls a core (src/migrate, src/validate, src/verify, src/provision, ...), prints through ../output.ts and
// returns an exit code. Cores never import src/cli (eslint.config.mjs enforces it).
//
// To add a command `foo`:
//   1. write src/cli/commands/foo.ts exporting `run(flags: Flags, out: Output): Promise<number>`;
//   2. add any new flag to FLAGS in src/cli/flags.ts (one help line; parse its value there or with its helpers);
//   3. add `foo` below: a one-line summary, every flag it reads (others are refused), and a lazy `load`,
//      so its dependencies never weigh on `up`, which the migration Job runs.
import type { Flags } from '../flags';
import { RUNNER_FLAGS } from '../flags';
import type { Output } from '../output';

export interface CommandModule {
  run(flags: Flags, out: Output): Promise<number>;
}

export interface CommandSpec {
  readonly summary: string;
  /** The flags the command reads: any other is refused rather than silently ignored (and so never validated). */
  readonly flags: readonly string[];
  readonly load: () => CommandModule;
}

export const COMMANDS: Record<string, CommandSpec> = {
  up: {
    summary: 'apply every pending migration (the migration Job runs this)',
    flags: [...RUNNER_FLAGS, 'provision'],
    load: () => require('./up'),
  },
  status: {
    summary: 'show applied, pending, drifted, missing and ahead versions (exit 4 on drift, gap or order problems)',
    flags: [...RUNNER_FLAGS, 'json'],
    load: () => require('./status'),
  },
  repair: {
    summary: 'accept a reviewed edit of applied files: record the new checksum, who and when (--version N)',
    flags: [...RUNNER_FLAGS, 'version', 'rename', 'reason'],
    load: () => require('./repair'),
  },
  validate: {
    summary: 'check the migration files (grammar, expand-only) and apply them to scratch databases (exit 4 on a failed check)',
    flags: [...RUNNER_FLAGS, 'static', 'access-matrix', 'concurrency', 'json'],
    load: () => require('./validate'),
  },
  verify: {
    summary: 'read-only checks of a live database against the seed (exit 4 on a failed check)',
    flags: [
      'dir',
      'database-url',
      'connect-timeout',
      'lock-timeout',
      'statement-timeout',
      'access-matrix',
      'behavioural',
      'partition-days-ahead',
      'retention-days',
      'environment',
      'json',
    ],
    load: () => require('./verify'),
  },
  restore: {
    summary: 'restore a backup into a new database as its owner, then check every domain against its manifest (exit 4 on a difference)',
    flags: ['backup', 'target-database', 'pg-bin', 'jobs', 'dir', 'database-url', 'connect-timeout', 'access-matrix', 'json'],
    load: () => require('./restore'),
  },
  'restore-check': {
    summary: 'restore a backup into a scratch database, check every domain against its manifest and verify, then drop it',
    flags: ['backup', 'target-database', 'pg-bin', 'jobs', 'keep', 'dir', 'database-url', 'connect-timeout', 'access-matrix', 'json'],
    load: () => require('./restore-check'),
  },
  'key-references': {
    summary: 'count the rows that reference HMAC/encryption key ids before they leave a key ring (exit 4 while any row does)',
    flags: ['hmac-key-id', 'encryption-key-id', 'database-url', 'connect-timeout', 'json'],
    load: () => require('./key-references'),
  },
  doctor: {
    summary:
      'one verdict per troubleshooting row from a live Postgres and Redis (read-only; exit 4 on a finding, 2 when something could not be checked)',
    flags: [
      'dir',
      'database-url',
      'connect-timeout',
      'access-matrix',
      'environment',
      'pool-config',
      'pool-max',
      'redis-config',
      'redis-password-file',
      'stale-after',
      'partition-days-ahead',
      'retention-days',
      'row',
      'json',
      'verbose',
    ],
    load: () => require('./doctor'),
  },
  plan: {
    summary: 'print the table locks, scans, rewrites and duration class of each statement of the pending files (exit 0)',
    flags: ['dir', 'database-url', 'connect-timeout', 'offline', 'from', 'json'],
    load: () => require('./plan'),
  },
  wait: {
    summary: "an init container's gate: wait until the schema has --version N (or every file of --at-least-files DIR); exit 3 at --timeout",
    flags: ['database-url', 'connect-timeout', 'version', 'at-least-files', 'timeout'],
    load: () => require('./wait'),
  },
  provision: {
    summary: 'create/update the per-environment login roles from --config FILE (the schema must be migrated)',
    flags: ['config', 'database-url', 'connect-timeout'],
    load: () => require('./provision'),
  },
};
