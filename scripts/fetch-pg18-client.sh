#!/usr/bin/env bash
# The Postgres 18 client tools (pg_dump, pg_restore, pg_dumpall, psql) for the backup tests against the Postgres 18
# test server, on a Debian 12 machine whose own packages stop at client 15. Debian's unstable suite builds
# postgresql-client-18, linked against a newer glibc (>= 2.38) than Debian 12's 2.36, so this script:
#   1. asks apt (with a private state directory: the system's sources and lists are untouched) for the pinned .debs
#      of postgresql-client-18 and every library its programs load, from the mirror the system's apt already uses;
#   2. checks each against the SHA-256 pinned below (and apt checks them against the signed index);
#   3. unpacks them with `dpkg-deb -x` into a private root, never installing anything;
#   4. writes one wrapper per program that runs it through that root's own dynamic loader and libraries.
# Idempotent: a second run finds the wrappers working and does nothing. Prints the wrappers' directory (the
# `--pg-bin` of restore-check). Cache: $CARACAL_PG18_CLIENT_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/caracal-stores/pg18-client.
#
# Unstable moves on: when a pinned version has left the mirror, the script takes the version the index offers now
# (apt still verifies it against the signed index), says so on stderr, and the tests check the major is 18.
set -euo pipefail

DIR="${CARACAL_PG18_CLIENT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/caracal-stores/pg18-client}"
ROOT="$DIR/root"
BIN="$DIR/bin"
LIBS="$ROOT/usr/lib/x86_64-linux-gnu"
PROGRAMS=(pg_dump pg_restore pg_dumpall psql)

# package version sha256 (amd64), as the unstable suite had them on 2026-11-30.
PINNED="
postgresql-client-18 18.6-3 5341f80ad72db4a9330d5413409c23d33a89595a02c208c300256ced5e40a7f2
libpq5 18.6-3 b8d633b4dba8d527f2076dd2ec3f0d25ff00a5228dc36cf897b2d06ba6ceb3aa
libc6 2.43-7 5c71715c51103beb4fbba9fe9f8dff604af6610dfa71c70bff342f54a7860803
libssl3t64 3.6.5-1 0a0ec84fe860c5c93c74d53cbb071aea0793327a3761b483080e9d7b73c21b37
libzstd1 1.5.7+dfsg-4 93e7930e4c25b918f1dd980cc1c6d4487654a248f5fa71eacb976ed7bbe954bd
liblz4-1 1.10.0-10 069d0349906af0335de6cb6a4132f0ac45c1e1db0dffffdcb5b1d291f8f6a66f
zlib1g 1:1.3.dfsg+really1.3.2-4 8506ce550a81ac14b047608e0df121037d9cbb10c3cc28446f68cf8c1d9d31ce
libgssapi-krb5-2 1.22.1-3 8849ff8bdfabbc1e8d1664eb209852023b1eaba1889ffd821459b7c57604c777
libkrb5-3 1.22.1-3 945966e0aeae286e8d79ab85e425340348024970587027acad3d3582471f1eef
libk5crypto3 1.22.1-3 6567c39be649ff018ccb356174886c7358e1a6888e6d13e8a7e001c76c78a20c
libkrb5support0 1.22.1-3 e7e2d65fa4f016fdf7d982ddd5b9c2e5ecdf2c33f41f1e4ab20de7e59aaaaacf
libcom-err2 1.47.4-1+b2 e75c8f6b8953ea4d2f452353120f22a3918aa824c3d05a7efe1e7b7a9057706c
libkeyutils1 1.6.3-6+b2 0a71e3b62a39df17508fad4f6150459fd0f0dc4a0189b9eafbda2a74dcea1853
libldap2 2.6.14+dfsg-2 fa3426dfd34e6672e4fd9800114c588f157e5c4a5cf9b8a7fc118adcb23e022f
libsasl2-2 2.1.28+dfsg1-12 ae3aabeb7b739da38ff8c7f5c7c60b8d77ac25a485aa65cda211958c3329d1e9
libxxhash0 0.8.3-2+b2 3dc2a55daf655f3c07df99b2be4cb7eea6b79089e66407f6739fe40c267907c4
libreadline8t64 8.3-4 1b65e285f312f9073dc4f0dafe44143d986bd8914e4a03af3ca59d68f238d02c
libtinfo6 6.6+20260608-2 14682d1f6e35df22df0fe1eb2c09418aff0e29e2ea5a7bc0aa1bcd37192ba5a7
"

log() { printf '[pg18-client] %s\n' "$*" >&2; }

works() {
  local p
  for p in "${PROGRAMS[@]}"; do
    "$BIN/$p" --version 2>/dev/null | grep -q "^$p (PostgreSQL) 18\." || return 1
  done
}

if works; then
  echo "$BIN"
  exit 0
fi

[ "$(uname -m)" = x86_64 ] || { log "only x86_64 is pinned here, not $(uname -m)"; exit 1; }
for tool in apt-get dpkg-deb sha256sum; do
  command -v "$tool" >/dev/null || { log "needs $tool (a Debian machine)"; exit 1; }
done

# The mirror the system's apt already uses (deb822 or one-line sources), so no host is named here.
mirror="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)"
[ -n "$mirror" ] || { log "no Debian mirror in the system's apt sources"; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { log "needs $keyring (package debian-archive-keyring)"; exit 1; }

APT="$DIR/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$DIR/debs"
echo "deb [signed-by=$keyring] $mirror sid main" >"$APT/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o APT::Architecture=amd64
  -o APT::Sandbox::User=root -q
)
log "reading the unstable suite's index (private apt state in $APT)"
apt-get "${apt_opts[@]}" update >/dev/null

rm -rf "$ROOT" "$BIN"
mkdir -p "$ROOT" "$BIN"
while read -r pkg version sha; do
  [ -n "$pkg" ] || continue
  (
    cd "$DIR/debs"
    rm -f "${pkg}"_*.deb
    if apt-get "${apt_opts[@]}" download "$pkg=$version" >/dev/null 2>&1; then
      got="$(sha256sum "${pkg}"_*.deb | cut -d' ' -f1)"
      [ "$got" = "$sha" ] || { log "$pkg $version: sha256 $got, pinned $sha"; exit 1; }
    else
      apt-get "${apt_opts[@]}" download "$pkg" >/dev/null
      log "$pkg $version is no longer in the index: took $(dpkg-deb -f "${pkg}"_*.deb Version) (verified by apt against the signed index)"
    fi
    dpkg-deb -x "${pkg}"_*.deb "$ROOT"
  )
done <<<"$PINNED"

# Each program runs through the unpacked loader with only the unpacked libraries; --argv0 keeps the wrapper's path
# as the program's own, so pg_dumpall finds (and version-checks) the pg_dump wrapper beside it.
for p in "${PROGRAMS[@]}"; do
  cat >"$BIN/$p" <<EOF
#!/bin/sh
exec "$LIBS/ld-linux-x86-64.so.2" --library-path "$LIBS" --argv0 "\$0" "$ROOT/usr/lib/postgresql/18/bin/$p" "\$@"
EOF
  chmod 0755 "$BIN/$p"
done

works || { log "the unpacked programs do not run: $("$BIN/pg_dump" --version 2>&1 | head -n 3)"; exit 1; }
log "$("$BIN/pg_dump" --version) in $BIN"
echo "$BIN"
