// The program of the backup CronJob: bash with the Postgres image's own psql, pg_dump and pg_dumpall (no other
// tool is in that image). The same text runs in the tests and the bench, with the matching Debian client on PATH.
import { BACKUP_ROLE } from './names';
import { CATALOG_STATS_SQL, DATA_STATS_SQL, STATS_SESSION_SQL } from './backup-snapshot-stats';

/** The manifest's format tag; the restore check refuses any other. */
export const MANIFEST_FORMAT = 'caracal-backup/1';
/** A finished backup's directory name: its start in UTC, `20261130T081500Z`. */
export const BACKUP_NAME = /^[0-9]{8}T[0-9]{6}Z$/;
/** Inside a backup: the pg_dump directory archive, the globals, and the manifest. */
export const BACKUP_LAYOUT = { dump: 'db', globals: 'globals.sql', manifest: 'manifest.json', redis: 'redis' } as const;

/** The environment the script reads, with its defaults (PG* are libpq's; PGPASSWORD_FILE is read into PGPASSWORD). */
export const BACKUP_ENV = {
  BACKUP_ROOT: 'directory holding the backups (the protected volume)',
  BACKUP_JOBS: 'pg_dump parallel jobs (default 2)',
  BACKUP_COMPRESS: 'pg_dump --compress value (default 6: gzip level 6; Postgres 16+ also takes zstd:3, lz4)',
  BACKUP_ROLE: 'the role pg_dump and the row counts run as (default caracal_backup: BYPASSRLS is not inherited)',
  BACKUP_KEEP_COUNT: 'finished backups kept, newest first (default 7)',
  BACKUP_KEEP_DAYS: 'finished backups older than this many days are removed, except the newest (default 14)',
  BACKUP_LOCK_WAIT: 'pg_dump --lock-wait-timeout (default 120s)',
  BACKUP_REDIS_DIR: 'where a Redis RDB copy of this run waits (optional; the Redis step writes dump.rdb and status there)',
} as const;

const sql = (text: string) => text.trim().replace(/\n\s*\n/g, '\n');

/**
 * One run: a REPEATABLE READ transaction as the backup role exports its snapshot, records the catalog and the
 * data statistics from it (row counts per table and partition, fingerprints, clock columns, sequences,
 * schema_migrations) and so holds a share lock on every table, then runs pg_dump --snapshot on that same
 * snapshot (one consistent picture while writes go on), and commits only after pg_dump is done. Then the globals
 * without passwords, the checksums, manifest.json, an atomic rename of the finished directory, LATEST, and
 * retention by count and age. A failed run leaves no directory that looks like a backup.
 */
export const BACKUP_SCRIPT = `#!/usr/bin/env bash
# caracal backup (generated from common/backup-script.ts; one run of the backup CronJob)
set -euo pipefail
umask 077
: "\${BACKUP_ROOT:?BACKUP_ROOT must name the backup directory}" "\${PGDATABASE:?}" "\${PGUSER:?}"
jobs="\${BACKUP_JOBS:-2}"; compress="\${BACKUP_COMPRESS:-6}"; role="\${BACKUP_ROLE:-${BACKUP_ROLE}}"
keep_count="\${BACKUP_KEEP_COUNT:-7}"; keep_days="\${BACKUP_KEEP_DAYS:-14}"; lock_wait="\${BACKUP_LOCK_WAIT:-120s}"
for v in "$jobs" "$keep_count" "$keep_days"; do
  case "$v" in ''|*[!0-9]*) echo "caracal-backup: BACKUP_JOBS, BACKUP_KEEP_COUNT and BACKUP_KEEP_DAYS must be whole numbers" >&2; exit 2;; esac
done
[ "$keep_count" -ge 1 ] || { echo "caracal-backup: BACKUP_KEEP_COUNT must be at least 1" >&2; exit 2; }
if [ -n "\${PGPASSWORD_FILE:-}" ]; then PGPASSWORD="$(cat "$PGPASSWORD_FILE")"; export PGPASSWORD; fi
export PGAPPNAME="\${PGAPPNAME:-caracal-backup}"
log() { printf '%s caracal-backup: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
now() { date -u +%s%N | cut -b1-13; }

name="$(date -u +%Y%m%dT%H%M%SZ)"; started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"; t0="$(now)"
work="$BACKUP_ROOT/.partial-$name"; final="$BACKUP_ROOT/$name"
mkdir -p "$BACKUP_ROOT"
# Leftovers of a killed run (runs never overlap: the CronJob's concurrencyPolicy is Forbid).
rm -rf "$BACKUP_ROOT"/.partial-*
mkdir "$work"
trap 'rm -rf "$work"' EXIT
export CARACAL_BACKUP_WORK="$work" CARACAL_BACKUP_JOBS="$jobs" CARACAL_BACKUP_COMPRESS="$compress"
export CARACAL_BACKUP_ROLE="$role" CARACAL_BACKUP_LOCK_WAIT="$lock_wait"

log "backing up $PGDATABASE on \${PGHOST:-localhost}:\${PGPORT:-5432} as $PGUSER (role $role) into $final"
psql --no-psqlrc --quiet --no-align --tuples-only -v ON_ERROR_STOP=1 -v role="$role" \\
  -v catalog_file="$work/.catalog.json" -v data_file="$work/.data.json" <<'SQL'
SET lock_timeout = '60s';
SET ROLE :"role";
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SELECT pg_catalog.pg_export_snapshot() AS snapshot \\gset
\\setenv CARACAL_SNAPSHOT :snapshot
${STATS_SESSION_SQL.map((s) => `${s};`).join('\n')}
\\o :catalog_file
${sql(CATALOG_STATS_SQL)};
\\o :data_file
${sql(DATA_STATS_SQL)};
\\o
\\! pg_dump --snapshot="$CARACAL_SNAPSHOT" --role="$CARACAL_BACKUP_ROLE" --format=directory --jobs="$CARACAL_BACKUP_JOBS" --compress="$CARACAL_BACKUP_COMPRESS" --create --lock-wait-timeout="$CARACAL_BACKUP_LOCK_WAIT" --no-sync --file="$CARACAL_BACKUP_WORK/${BACKUP_LAYOUT.dump}" && touch "$CARACAL_BACKUP_WORK/.dumped"
COMMIT;
SQL
[ -f "$work/.dumped" ] || { log "pg_dump failed (its error is above); no backup was kept"; exit 1; }
t_dump="$(now)"
log "snapshot statistics and pg_dump: $((t_dump - t0)) ms"
pg_dumpall --globals-only --no-role-passwords --database="$PGDATABASE" --file="$work/${BACKUP_LAYOUT.globals}"

redis='null'; redis_failed=0
if [ -n "\${BACKUP_REDIS_DIR:-}" ]; then
  if [ -s "$BACKUP_REDIS_DIR/dump.rdb" ] && [ "$(cat "$BACKUP_REDIS_DIR/status" 2>/dev/null)" = ok ]; then
    mkdir "$work/${BACKUP_LAYOUT.redis}" && mv "$BACKUP_REDIS_DIR/dump.rdb" "$work/${BACKUP_LAYOUT.redis}/dump.rdb"
    redis='{"copied":true,"file":"${BACKUP_LAYOUT.redis}/dump.rdb"}'
  else
    redis='{"copied":false}'; redis_failed=1; log "the Redis copy of this run is missing or failed: see the redis container's log"
  fi
fi

# One sha256sum and one stat for every file (not one process per file: a dump has one file per table).
files="$(cd "$work" && find . -type f ! -name '.*' | sed 's|^\\./||' | LC_ALL=C sort > .files && xargs -d '\\n' -a .files sha256sum > .sums \
  && xargs -d '\\n' -a .files stat -c '%s' > .sizes && paste -d' ' .sums .sizes \
  | awk '{ printf "%s{\\"path\\":\\"%s\\",\\"bytes\\":%s,\\"sha256\\":\\"%s\\"}", (NR > 1 ? "," : ""), $2, $3, $1 }')"
bytes="$(awk '{s+=$1} END {print s+0}' "$work/.sizes")"
pg_dump_version="$(pg_dump --version | tr -d '"\\\\')"
{
  printf '{"format":"${MANIFEST_FORMAT}","name":"%s","startedAt":"%s","finishedAt":"%s",\\n' "$name" "$started" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '"database":"%s","role":"%s","pgDump":"%s","jobs":%s,"compress":"%s","dumpMs":%s,"bytes":%s,"redis":%s,\\n' \\
    "$PGDATABASE" "$role" "$pg_dump_version" "$jobs" "$compress" "$((t_dump - t0))" "$bytes" "$redis"
  printf '"catalog":'; cat "$work/.catalog.json"; printf ',\\n"data":'; cat "$work/.data.json"
  printf ',\\n"files":[%s]}\\n' "$files"
} > "$work/${BACKUP_LAYOUT.manifest}"
rm -f "$work"/.catalog.json "$work"/.data.json "$work"/.dumped "$work"/.files "$work"/.sums "$work"/.sizes
mv "$work" "$final"
trap - EXIT
printf '%s\\n' "$name" > "$BACKUP_ROOT/.LATEST" && mv "$BACKUP_ROOT/.LATEST" "$BACKUP_ROOT/LATEST"
log "backup $name done: $bytes bytes in $(( ($(now) - t0) )) ms"

# Retention: keep the newest $keep_count, and of those drop any older than $keep_days days, never the newest.
cutoff="$(( $(date -u +%s) - keep_days * 86400 ))"
i=0
for dir in $(cd "$BACKUP_ROOT" && ls -1d [0-9]*T*Z 2>/dev/null | LC_ALL=C sort -r); do
  case "$dir" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) ;; *) continue;; esac
  [ -f "$BACKUP_ROOT/$dir/${BACKUP_LAYOUT.manifest}" ] || continue
  at="$(date -u -d "\${dir:0:4}-\${dir:4:2}-\${dir:6:2} \${dir:9:2}:\${dir:11:2}:\${dir:13:2}" +%s)"
  if [ "$i" -ge "$keep_count" ] || { [ "$i" -gt 0 ] && [ "$at" -lt "$cutoff" ]; }; then
    rm -rf "\${BACKUP_ROOT:?}/$dir" && log "retention: removed $dir"
  fi
  i=$((i + 1))
done
# The Postgres backup is kept, but a run without its Redis copy fails, so it is seen.
[ "$redis_failed" -eq 0 ] || { log "failing the run: no Redis copy"; exit 3; }
`;
