# rclone's WebDAV backend (vendor "other"), a general WebDAV client: copy a
# tree up, list it, copy it back, compare, delete a file, purge the tree.
source "$CS_SRCDIR/tests/lib.sh"

command -v rclone >/dev/null || fail "rclone is not installed (scripts/deps.sh test installs it)"
start_server "$TEST_TMP/data"

export RCLONE_CONFIG="$TEST_TMP/rclone.conf"
: >"$RCLONE_CONFIG"
export RCLONE_CONFIG_CS_TYPE=webdav RCLONE_CONFIG_CS_URL="$URL/default" RCLONE_CONFIG_CS_VENDOR=other
rc() { rclone --retries 1 --low-level-retries 1 "$@"; }

src=$TEST_TMP/src
mkdir -p "$src/a/b/c" "$src/with space" "$src/été" "$src/empty"
head -c 100000 /dev/urandom >"$src/a/b/c/blob.bin"
head -c 3000000 /dev/urandom >"$src/a/big.bin"
printf 'plus' >"$src/a/b/x+y.txt"
printf 'percent' >"$src/with space/100% done.txt"
printf 'utf8' >"$src/été/ünïcødé €.txt"
: >"$src/a/zero-length"

rc copy --create-empty-src-dirs "$src" cs:up || fail "rclone copy up"
ok "copied a tree up (spaces, UTF-8, '+', '%', an empty file, an empty directory)"

rc lsf -R cs:up | sort >"$TEST_TMP/listing"
(cd "$src" && find . -mindepth 1 | sed 's|^\./||' | while read -r p; do
    if [ -d "$p" ]; then echo "$p/"; else echo "$p"; fi
done | sort) >"$TEST_TMP/expected"
diff -u "$TEST_TMP/expected" "$TEST_TMP/listing" || fail "rclone lsf -R differs from the source tree"
# grep reads all of it: with -q it may exit first, and pipefail takes rclone's SIGPIPE
rc size cs:up | grep 'Total objects: 6 ' >/dev/null || { rc size cs:up; fail "rclone size"; }
ok "rclone lsf -R lists exactly the tree (collections are virtual, MKCOL'd ones persist)"

rc copy --create-empty-src-dirs cs:up "$TEST_TMP/back" || fail "rclone copy back"
diff -r "$src" "$TEST_TMP/back" || fail "tree copied back differs"
(cd "$src" && find . -type f -exec sha256sum {} + | sort -k2) >"$TEST_TMP/sums.src"
(cd "$TEST_TMP/back" && find . -type f -exec sha256sum {} + | sort -k2) >"$TEST_TMP/sums.back"
diff -u "$TEST_TMP/sums.src" "$TEST_TMP/sums.back" || fail "checksums differ"
rc check "$src" cs:up || fail "rclone check"
ok "copied back: identical bytes (sha256 of every file)"

rc moveto "cs:up/a/b/x+y.txt" "cs:up/a/moved x+y.txt" || fail "rclone moveto (MOVE)"
rc cat "cs:up/a/moved x+y.txt" | grep plus >/dev/null || fail "moved file"
rc copyto "cs:up/a/big.bin" "cs:up/copy/big.bin" || fail "rclone copyto"
rc cat cs:up/copy/big.bin | cmp -s - "$src/a/big.bin" || fail "copied file differs"
ok "rclone moveto and copyto"

rc deletefile "cs:up/été/ünïcødé €.txt" || fail "rclone deletefile"
rc lsf cs:up/été/ | grep . >/dev/null && fail "deleted file still listed"
rc purge cs:up/a || fail "rclone purge"
rc lsf cs:up | grep '^a/$' >/dev/null && fail "purged directory still listed"
rc purge cs:up || fail "rclone purge of the rest"
[ -z "$(rc lsf cs: 2>/dev/null)" ] || fail "namespace not empty after purge: $(rc lsf cs:)"
[ "$(count_files "$TEST_TMP/data/objects")" = 0 ] || fail "purge left objects on disk"
ok "rclone deletefile and purge (recursive DELETE): nothing left on disk"
stop_server

# basic auth (rclone's user/pass): works with the right password, fails
# (clearly, non-zero exit) with a wrong one
team_conf "$TEST_TMP/auth.conf" rc "" rc-pass
start_server "$TEST_TMP/data-auth" --config "$TEST_TMP/auth.conf"
export RCLONE_CONFIG_CS_URL="$URL/team" RCLONE_CONFIG_CS_USER=rc
export RCLONE_CONFIG_CS_PASS="$(rclone obscure rc-pass)"
rc copy "$src" cs:up || fail "rclone copy with basic auth"
rc check "$src" cs:up || fail "rclone check with basic auth"
export RCLONE_CONFIG_CS_PASS="$(rclone obscure wrong)"
rc lsf cs:up >/dev/null 2>"$TEST_TMP/rc.err" && fail "a wrong password listed the namespace"
grep -qi '401\|unauthorized' "$TEST_TMP/rc.err" || fail "rclone did not report 401: $(cat "$TEST_TMP/rc.err")"
ok "rclone WebDAV with basic auth: copy and check; a wrong password gets 401"
stop_server
