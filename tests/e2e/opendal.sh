# The npm package opendal: the same storage library sccache (>= 0.5),
# rstash and cachepot use for WebDAV, driven the way sccache drives it.
source "$CS_SRCDIR/tests/lib.sh"

command -v node >/dev/null && command -v npm >/dev/null \
    || fail "node/npm are not installed (scripts/deps.sh test installs them)"
# Installed once per build tree, from the npm registry (tests/lib.sh: the
# S3 test installs the same package in the same place, under a lock).
mods=$(opendal_modules) || exit 1
mods=${mods%/node_modules}

start_server "$TEST_TMP/data" --log-level debug
run() { NODE_PATH="$mods/node_modules" node "$CS_SRCDIR/tests/e2e/opendal_sccache.js" "$@"; }

out=$(run "$URL/default" /sccache/) || fail "opendal run failed: $out"
echo "opendal: $out"
[ "$out" = "hits 20 misses 20 writes 20" ] || fail "unexpected counts: $out"
ok "OpenDAL webdav (sccache's sequence, key prefix /sccache/): $out"

# the same with no prefix, at the namespace root
out=$(run "$URL/default" /) || fail "opendal run at the root failed: $out"
ok "OpenDAL webdav at the namespace root: $out"

# OpenDAL's write path walks up with PROPFIND and creates collections with MKCOL
grep -q 'PROPFIND /default/sccache/[0-9a-f]/[0-9a-f]/[0-9a-f]/: 404' "$SERVER_LOG" || fail "no PROPFIND walk seen"
grep -q 'MKCOL /default/sccache/[0-9a-f]/: 201' "$SERVER_LOG" || fail "no MKCOL seen"
grep -q 'PUT /default/sccache/[0-9a-f]/[0-9a-f]/[0-9a-f]/[0-9a-f]\{64\}: 201' "$SERVER_LOG" || fail "no PUT seen"
ok "write path used PROPFIND (404 walk) and MKCOL"
