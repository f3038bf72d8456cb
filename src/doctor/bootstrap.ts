// The "Migration Job fails" checks that need SQL: the migration advisory lock (free, or its holder named with
// since when) and the migration history against the files (pending, drifted, gaps).
import type { Client } from 'pg';
import { ADVISORY_LOCK_KEY, lockHolder } from '../migrate/history';
import { checkMigrations } from '../verify/checks';
import { finding, ok, type Outcome, unchecked } from './report';
import { fromVerify } from './sql';

/**
 * The lock the Job's runner takes: held by someone (named), or free and takeable by this login (taken with
 * pg_try_advisory_lock and released at once, so a runner starting now waits a few ms at most).
 */
export async function checkLock(client: Client): Promise<Outcome> {
  const holder = await lockHolder(client);
  if (holder) {
    const when = holder.since ? ` since ${holder.since.toISOString()}` : '';
    const state = holder.state ? `, ${holder.state}${holder.stateSince ? ` since ${holder.stateSince.toISOString()}` : ''}` : '';
    return finding(
      `the migration advisory lock is held by pid ${holder.pid} (application_name ${JSON.stringify(holder.applicationName)}` +
        `${holder.user ? `, user ${holder.user}` : ''})${when}${state}`,
      holder.applicationName === 'caracal-migrate'
        ? 'another caracal-migrate is running (or stuck): wait for its Job to finish, or once you are sure it is dead, SELECT pg_terminate_backend(' +
            `${holder.pid}) as its login or a superuser`
        : `a session that is not caracal-migrate holds the runner's lock key: find who runs pid ${holder.pid} and end it (pg_terminate_backend(${holder.pid}))`,
    );
  }
  const r = await client.query<{ took: boolean }>(`SELECT pg_try_advisory_lock(${ADVISORY_LOCK_KEY}) AS took`);
  if (!r.rows[0].took) return unchecked('the lock was taken between two statements; rerun doctor', 'rerun doctor');
  await client.query(`SELECT pg_advisory_unlock(${ADVISORY_LOCK_KEY})`);
  return ok('free: this login took and released it (pg_try_advisory_lock)');
}

/** Pending, drifted, gap and out-of-order versions, from verify's check against the migrations directory. */
export async function checkHistory(client: Client, dir: string | undefined): Promise<Outcome> {
  if (dir === undefined)
    return unchecked(
      'no migrations directory to compare with',
      'give --dir: the migration files of the release being deployed (the Job mounts them from its ConfigMap)',
    );
  return fromVerify(
    await checkMigrations(client, dir),
    'pending: the Job has not applied this release (its logs: kubectl logs job/<release>-migrate); drifted or gap: the files differ from what was applied, see `caracal-migrate status`',
  );
}
