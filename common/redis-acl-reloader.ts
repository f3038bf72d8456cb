// The ACL reloader: a sidecar in the Redis pod that applies the passwords of the mounted ACL file to the running
// server, so a password rotation needs no restart. It runs `ACL SETUSER <user> resetpass #<sha256>...` per user,
// which replaces that user's passwords and keeps every open connection (ACL LOAD would disconnect every client of
// every user). Rules are not touched: a change of rules or users changes the pod's config-hash and restarts Redis.
// Imports nothing.

/** The ACL user the reloader authenticates as: `+acl|setuser` and nothing else, reachable from inside the pod only. */
export const RELOADER_USER = 'reloader';
export const RELOADER_RULES = 'resetchannels -@all +acl|setuser';

/**
 * POSIX sh for the Redis image (sha256sum, awk, redis-cli). Polls the ACL file every RELOAD_INTERVAL seconds;
 * when its content changed, sends one `ACL SETUSER` per user line (but `default` and the reloader itself, whose
 * password is applied by a restart) and marks the content applied only when every command answered OK, so a
 * failed round (server not up yet, password file not mounted yet) is retried. Logs counts, never hashes.
 */
export const REDIS_ACL_RELOADER_SCRIPT = `set -u
applied=""
while :; do
  sum="$(sha256sum "$ACL_FILE" 2>/dev/null | cut -d' ' -f1)"
  if [ -n "$sum" ] && [ "$sum" != "$applied" ] && [ -r "$RELOADER_PASSWORD_FILE" ]; then
    cmds="$(awk -v self="$RELOADER_USER" '$1 == "user" && $2 != "default" && $2 != self {
      line = "ACL SETUSER " $2 " resetpass"
      for (i = 3; i <= NF; i++) if ($i ~ /^#[0-9a-fA-F]+$/ && length($i) == 65) line = line " " $i
      print line
    }' "$ACL_FILE")"
    want="$(printf '%s\\n' "$cmds" | grep -c '^ACL SETUSER')"
    got="$(printf '%s\\n' "$cmds" | REDISCLI_AUTH="$(cat "$RELOADER_PASSWORD_FILE")" "\${REDIS_CLI:-redis-cli}" --no-auth-warning \\
      --user "$RELOADER_USER" -h 127.0.0.1 -p "\${REDIS_PORT:-6379}" 2>&1 | grep -c '^OK$')"
    if [ "$want" -gt 0 ] && [ "$got" = "$want" ]; then
      applied="$sum"
      echo "caracal-acl-reloader: applied the passwords of $want users"
    else
      echo "caracal-acl-reloader: $got of $want users applied; retrying" >&2
    fi
  fi
  sleep "\${RELOAD_INTERVAL:-5}"
done
`;
