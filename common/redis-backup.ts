// Redis in the backup: the RDB copied on the backup's schedule (redis-cli --rdb from the Redis image, as an ACL user
// that may only replicate), and how a copy becomes the data of a fresh redis-server with Caracal's AOF config.

/** The Redis ACL user of the backup job. */
export const REDIS_BACKUP_USER = 'backup';

/**
 * Its rules: `redis-cli --rdb` sends REPLCONF (rdb-only) and SYNC, and nothing else. SYNC hands over the whole
 * dataset, which is the point; no key command, no pub/sub channel, no CONFIG. PING lets `doctor` (and an operator)
 * check the password without any data command.
 */
export const REDIS_BACKUP_RULES = 'resetchannels -@all +ping +replconf +sync';

/**
 * Runs first in the backup pod (the Redis image's redis-cli): a point-in-time RDB of the live server (its fork,
 * the same file BGSAVE writes), streams, consumer groups and pending entries included. Always exits 0 and leaves
 * `status` (ok or failed) beside the file: a Redis failure must not cost the Postgres backup, which then records
 * it in its manifest and fails the run after publishing.
 */
export const REDIS_COPY_SCRIPT = `set -u
out="\${BACKUP_REDIS_DIR:?}"
mkdir -p "$out" && rm -f "$out/dump.rdb" "$out/dump.rdb.partial" "$out/status"
REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")"
export REDISCLI_AUTH
if redis-cli --no-auth-warning -h "$REDIS_HOST" -p "\${REDIS_PORT:-6379}" --user "\${REDIS_USER:-${REDIS_BACKUP_USER}}" --rdb "$out/dump.rdb.partial" >&2 \\
   && [ -s "$out/dump.rdb.partial" ]; then
  mv "$out/dump.rdb.partial" "$out/dump.rdb" && echo ok > "$out/status"
  echo "caracal-backup: redis RDB copied ($(wc -c < "$out/dump.rdb") bytes)" >&2
else
  rm -f "$out/dump.rdb.partial"; echo failed > "$out/status"
  echo "caracal-backup: the redis RDB copy failed (see above); the Postgres backup goes on" >&2
fi
exit 0
`;

/**
 * Makes a copied RDB the data of a Redis with Caracal's config (appendonly yes, appenddirname appendonlydir):
 * the RDB becomes the AOF's base file. A dump.rdb beside an AOF config is NOT loaded: Redis 7 then starts empty
 * and writes a new, empty AOF. Run on the (empty) data volume before Redis starts; RDB and DATA_DIR are paths.
 */
export const REDIS_RESTORE_SCRIPT = `set -eu
test -s "$RDB" && test ! -e "$DATA_DIR/appendonlydir"
mkdir -p "$DATA_DIR/appendonlydir"
cp "$RDB" "$DATA_DIR/appendonlydir/appendonly.aof.1.base.rdb"
printf 'file appendonly.aof.1.base.rdb seq 1 type b\\n' > "$DATA_DIR/appendonlydir/appendonly.aof.manifest"
`;
