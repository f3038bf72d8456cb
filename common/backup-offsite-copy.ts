// The backup's off-cluster copy: the newest finished backup (LATEST on the backup volume) copied to an
// S3-compatible bucket by rclone from its pinned image, then checked object by object. Runs after the backup in the
// same pod (the CronJob's last container), so a failed backup is never copied. Imports nothing.

/** The environment the copy reads (RCLONE_S3_* and the AWS_* credentials are rclone's own). */
export const OFFSITE_COPY_ENV = {
  BACKUP_ROOT: 'directory holding the backups (the protected volume, mounted read-only)',
  BACKUP_REMOTE: 'rclone remote of the bucket (`:s3:` with RCLONE_S3_PROVIDER, _ENDPOINT, _REGION, _ENV_AUTH)',
  BACKUP_BUCKET: 'the bucket',
  BACKUP_PREFIX: 'key prefix inside the bucket, "" or ending in "/"',
} as const;

/**
 * sh (the rclone image is Alpine): copy `<root>/<LATEST>` to `<remote><bucket>/<prefix><name>/` with checksums,
 * then `rclone check --one-way` (every local file is in the bucket with the same size and hash). Nothing is
 * deleted from the bucket: retention there is the bucket's lifecycle rule (docs/operations.md "Backup").
 */
export const OFFSITE_COPY_SCRIPT = `set -eu
: "\${BACKUP_ROOT:?}" "\${BACKUP_REMOTE:?}" "\${BACKUP_BUCKET:?}"
prefix="\${BACKUP_PREFIX:-}"
name="$(cat "$BACKUP_ROOT/LATEST")"
case "$name" in
  [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) ;;
  *) echo "caracal-backup: LATEST names no finished backup; nothing copied" >&2; exit 2;;
esac
[ -f "$BACKUP_ROOT/$name/manifest.json" ] || { echo "caracal-backup: $name has no manifest.json; nothing copied" >&2; exit 2; }
dest="$BACKUP_REMOTE$BACKUP_BUCKET/$prefix$name"
echo "caracal-backup: copying $name to $BACKUP_BUCKET/$prefix$name" >&2
rclone copy --checksum --no-traverse --s3-no-check-bucket "$BACKUP_ROOT/$name" "$dest"
rclone check --one-way --s3-no-check-bucket "$BACKUP_ROOT/$name" "$dest"
echo "caracal-backup: off-cluster copy of $name done and checked" >&2
`;
