# The Debian packages: dpkg-buildpackage builds cstashd and cstash .debs from
# a copy of the distributed tree (make distdir: the build tree stays clean),
# lintian has no errors, and the cstashd of the packages, unpacked into a
# throw-away root, started by hand with the installed unit's ExecStart,
# serves a real ccache build (no systemd needed).
source "$CS_SRCDIR/tests/lib.sh"

command -v dpkg-buildpackage >/dev/null ||
    skip_test "dpkg-buildpackage is not installed (apt-get install dpkg-dev; scripts/deps.sh test does)"
for tool in dh lintian ccache gcc curl; do
    command -v $tool >/dev/null || fail "$tool is not installed (scripts/deps.sh test installs it)"
done
: "${CS_BUILDDIR:?CS_BUILDDIR must point to the configured build tree (make check sets it)}"
# nested makes: not the outer make check's job server or flags
quiet_env=(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS)

# --- build ----------------------------------------------------------------
src=$TEST_TMP/pkg/cstash
mkdir -p "$TEST_TMP/pkg"
"${quiet_env[@]}" make -s -C "$CS_BUILDDIR" distdir distdir="$src" >"$TEST_TMP/distdir.log" 2>&1 ||
    { cat "$TEST_TMP/distdir.log"; fail "make distdir failed"; }
[ -x "$src/debian/rules" ] || fail "debian/ is not in the distributed tree (EXTRA_DIST)"
chmod -R u+w "$src" # distcheck's source tree is read-only, and so is a copy of it
start=$SECONDS
(cd "$src" && "${quiet_env[@]}" DEB_BUILD_OPTIONS="nocheck parallel=${CS_DEB_PARALLEL:-2}" \
    dpkg-buildpackage -us -uc -b) >"$TEST_TMP/build.log" 2>&1 ||
    { tail -n 40 "$TEST_TMP/build.log"; fail "dpkg-buildpackage -us -uc -b failed"; }
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
changes=$TEST_TMP/pkg/cstash_${version}_$arch.changes
deb_d=$TEST_TMP/pkg/cstashd_${version}_$arch.deb
deb_c=$TEST_TMP/pkg/cstash_${version}_$arch.deb
for f in "$changes" "$deb_d" "$deb_c"; do [ -f "$f" ] || fail "dpkg-buildpackage made no $(basename "$f")"; done
ok "dpkg-buildpackage -us -uc -b: cstashd and cstash $version in $((SECONDS - start)) s"

# --- lintian: errors fail, everything else is listed -----------------------
lintian_rc=0
lintian -I --show-overrides "$changes" >"$TEST_TMP/lintian.out" 2>&1 || lintian_rc=$?
sed 's/^/lintian: /' "$TEST_TMP/lintian.out"
[ $lintian_rc = 0 ] ||
    fail "lintian exited with $lintian_rc ($(grep -c '^E: ' "$TEST_TMP/lintian.out" || true) errors, above)"
ok "lintian: no errors ($(grep -c '^W: ' "$TEST_TMP/lintian.out" || true) warnings, listed above)"

# --- contents: each file in its package, the conffile, the unit enabled ------
dpkg-deb -c "$deb_d" | awk '{ print $6 }' >"$TEST_TMP/cstashd.list"
dpkg-deb -c "$deb_c" | awk '{ print $6 }' >"$TEST_TMP/cstash.list"
for f in usr/sbin/cstashd etc/cstash/cstashd.conf lib/systemd/system/cstashd.service \
    usr/share/man/man8/cstashd.8.gz usr/share/man/man5/cstashd.conf.5.gz \
    usr/share/doc/cstashd/copyright usr/share/doc/cstashd/examples/cstashd.conf; do
    grep -qx "./$f" "$TEST_TMP/cstashd.list" || fail "cstashd.deb lacks /$f"
done
for f in usr/bin/cstash usr/share/man/man1/cstash.1.gz usr/share/doc/cstash/copyright; do
    grep -qx "./$f" "$TEST_TMP/cstash.list" || fail "cstash.deb lacks /$f"
done
grep -qE 'bin/cstash$|man1/' "$TEST_TMP/cstashd.list" && fail "cstashd.deb holds cstash's files"
grep -qE 'sbin/cstashd$|man[58]/|systemd' "$TEST_TMP/cstash.list" && fail "cstash.deb holds cstashd's files"
dpkg-deb -e "$deb_d" "$TEST_TMP/ctl"
grep -qx /etc/cstash/cstashd.conf "$TEST_TMP/ctl/conffiles" || fail "/etc/cstash/cstashd.conf is not a conffile"
grep -q "deb-systemd-helper enable 'cstashd.service'" "$TEST_TMP/ctl/postinst" ||
    fail "postinst does not enable cstashd.service (dh_installsystemd)"
grep -q "deb-systemd-invoke \$_dh_action 'cstashd.service'" "$TEST_TMP/ctl/postinst" ||
    fail "postinst does not start cstashd.service"
ok "cstashd.deb: daemon, unit (enabled and started by postinst), conffile, cstashd.8, cstashd.conf.5; cstash.deb: cstash, cstash.1"

# --- the installed cstashd, started as the unit says ------------------------
root=$TEST_TMP/root
dpkg -x "$deb_d" "$root"
dpkg -x "$deb_c" "$root"
unit=$root/lib/systemd/system/cstashd.service
unit_key() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
exec_start=$(unit_key ExecStart)
[ -n "$exec_start" ] || fail "no ExecStart in the installed unit"
state_dir=$(unit_key StateDirectory)
[ -n "$state_dir" ] || fail "no StateDirectory in the installed unit"
# the absolute paths of ExecStart that the packages ship, taken from the root
read -r -a cmd <<<"$exec_start"
for i in "${!cmd[@]}"; do
    case ${cmd[$i]} in /*) [ -e "$root${cmd[$i]}" ] && cmd[i]=$root${cmd[$i]} ;; esac
done
[ "${cmd[0]}" = "$root/usr/sbin/cstashd" ] || fail "ExecStart runs ${cmd[0]}, not the packaged /usr/sbin/cstashd"
# the data dir systemd would make (/var/lib/$state_dir), in the root; a free port
data=$root/var/lib/$state_dir
mkdir -p "$data"
"${cmd[@]}" --check-config >"$TEST_TMP/check.out" 2>&1 ||
    { cat "$TEST_TMP/check.out"; fail "the packaged config does not pass --check-config"; }
SERVER_LOG=$TEST_TMP/server.log
for attempt in 1 2 3; do
    port=$(free_port)
    URL=http://127.0.0.1:$port
    (cd "$data" && exec "${cmd[@]}" --listen "127.0.0.1:$port" --data-dir "$data") >/dev/null 2>"$SERVER_LOG" &
    SERVER_PID=$!
    for i in $(seq 1 100); do
        [ "$(curl -s --max-time 2 "$URL/_/health" || true)" = ok ] && break 2
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$SERVER_PID" 2>/dev/null && fail "cstashd did not answer /_/health on $URL within 5 s"
    rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=""
    # 3: cannot listen (the free port was taken meanwhile); try another one
    if [ $rc != 3 ] || [ $attempt = 3 ]; then
        cat "$SERVER_LOG"
        fail "cstashd exited with $rc at start-up"
    fi
done
ok "installed cstashd runs with the unit's ExecStart ($exec_start), on $URL"

# --- ccache against it: a second build from an empty local cache is all remote hits
N=4
mkdir -p "$TEST_TMP/proj"
printf '#define SCALE 3\n' >"$TEST_TMP/proj/common.h"
for i in $(seq 1 $N); do
    printf '#include "common.h"\nint unit%d(int x) { return x * SCALE + %d; }\n' "$i" "$i" >"$TEST_TMP/proj/unit$i.c"
done
export CCACHE_DIR=$TEST_TMP/ccache CCACHE_CONFIGPATH=$TEST_TMP/ccache.conf
export CCACHE_REMOTE_STORAGE="$URL/default|layout=subdirs"
unset CCACHE_REMOTE_ONLY CCACHE_DISABLE CCACHE_RECACHE CCACHE_READONLY
: >"$CCACHE_CONFIGPATH"
stat_of() { ccache --print-stats | awk -v k="$1" '$1 == k { print $2 }'; }
expect_stat() { # expect_stat NAME VALUE WHAT
    [ "$(stat_of "$1")" = "$2" ] ||
        { ccache --print-stats | grep -E 'remote|cache_miss' >&2; fail "$3: $1 = $(stat_of "$1"), expected $2"; }
}
build() { # build OUTDIR
    mkdir -p "$1"
    for i in $(seq 1 $N); do
        (cd "$TEST_TMP/proj" && ccache gcc -O2 -c "unit$i.c" -o "$1/unit$i.o") || fail "ccache gcc failed"
    done
}
ccache -z >/dev/null
build "$TEST_TMP/cold"
expect_stat cache_miss $N "cold build"
expect_stat remote_storage_write $((2 * N)) "cold build (manifest + result per unit)"
expect_stat remote_storage_error 0 "cold build"
[ "$(count_files "$data/objects")" = $((2 * N)) ] || fail "the data dir holds $(count_files "$data/objects") objects, want $((2 * N))"
ccache -C >/dev/null # every hit below must come from cstashd
ccache -z >/dev/null
build "$TEST_TMP/warm"
expect_stat remote_storage_hit $N "warm build"
expect_stat cache_miss 0 "warm build"
expect_stat remote_storage_error 0 "warm build"
for i in $(seq 1 $N); do
    cmp -s "$TEST_TMP/cold/unit$i.o" "$TEST_TMP/warm/unit$i.o" || fail "unit$i.o differs"
done
ok "ccache through the packaged cstashd: $N remote hits from an empty local cache, objects identical"

# --- the packaged cstash against it ----------------------------------------
CSTASH=$root/usr/bin/cstash
"$CSTASH" --version >/dev/null || fail "the packaged cstash does not run"
export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_LOG=$TEST_TMP/cstash.log CSTASH_REMOTE=$URL/default
unset CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_TOKEN CSTASH_READONLY
for d in a b; do
    (cd "$TEST_TMP/proj" && CSTASH_DIR=$TEST_TMP/cstash-$d "$CSTASH" gcc -O2 -c unit1.c -o "$TEST_TMP/cs-$d.o") ||
        fail "cstash gcc failed"
done
hits=$(CSTASH_DIR=$TEST_TMP/cstash-b cstat direct_hit_remote)
[ "$hits" = 1 ] || fail "packaged cstash: $hits remote hits from an empty cache dir, want 1"
cmp -s "$TEST_TMP/cs-a.o" "$TEST_TMP/cs-b.o" || fail "cstash's remote object differs"
ok "the packaged cstash gets a remote hit from the packaged cstashd"

stop_server TERM
[ "$SERVER_RC" = 0 ] || fail "cstashd exited with $SERVER_RC on SIGTERM"
ok "cstashd stops with 0 on SIGTERM (the unit's KillSignal)"
