# cstash sharing results through a real cstashd: two cache dirs, make -j8
# on a generated 200-file project (the second build is all remote hits);
# credentials; and a remote that is down, answers 500 or hangs never
# breaks or stalls a build.
source "$CS_SRCDIR/tests/lib.sh"

export CSTASH_CONFIG=$TEST_TMP/none.conf CSTASH_LOG=$TEST_TMP/cstash.log
unset CSTASH_BASEDIR CSTASH_DISABLE CSTASH_RECACHE CSTASH_PREFIX CSTASH_TOKEN CSTASH_READONLY
start_server "$TEST_TMP/data" --log-level debug

proj=$TEST_TMP/proj
mkdir -p "$proj/inc"
for i in $(seq 1 200); do
    printf '#include "common.h"\nint f%d(int x) { return COMMON(x) + %d; }\n' "$i" "$i" >"$proj/f$i.c"
done
printf '#define COMMON(x) ((x) * 3)\n' >"$proj/inc/common.h"
cat >"$proj/Makefile" <<'MK'
SRCS := $(wildcard f*.c)
OBJS := $(SRCS:.c=.o)
all: $(OBJS)
%.o: %.c
	$(CC) -O2 -Iinc -MD -c $< -o $@
clean:
	rm -f *.o *.d
MK
sleep 0.1
build() { # build CACHE_DIR [env...]: clean make -j8 through cstash
    local dir=$1; shift
    make -s -C "$proj" clean
    env CSTASH_DIR="$dir" "$@" make -s -j8 -C "$proj" CC="$CSTASH gcc" >"$TEST_TMP/make.out" 2>&1 \
        || { cat "$TEST_TMP/make.out"; fail "make failed"; }
    [ "$(ls "$proj"/*.o | wc -l)" = 200 ] || fail "make did not produce 200 objects"
}
at() { CSTASH_DIR=$1 cstat "$2"; }

export CSTASH_REMOTE=$URL/default
build "$TEST_TMP/a"
[ "$(at "$TEST_TMP/a" miss)" = 200 ] || fail "first build: $(at "$TEST_TMP/a" miss) misses, want 200"
puts=$(grep -c 'PUT /default/[0-9a-f]\{2\}/[0-9a-f]\{62\}: 201' "$SERVER_LOG" || true)
[ "$puts" -ge 400 ] || fail "first build stored $puts blobs remotely, want 400 (results + manifests)"
cp "$proj/f7.o" "$TEST_TMP/f7.first"
build "$TEST_TMP/b"
remote_hits=$(( $(at "$TEST_TMP/b" direct_hit_remote) + $(at "$TEST_TMP/b" preprocessed_hit_remote) ))
[ "$remote_hits" = 200 ] || fail "second build from an empty cache dir: $remote_hits remote hits, want 200"
[ "$(at "$TEST_TMP/b" miss)" = 0 ] && [ "$(at "$TEST_TMP/b" direct_hit_remote)" = 200 ] \
    || fail "second build: $(at "$TEST_TMP/b" miss) misses, $(at "$TEST_TMP/b" direct_hit_remote) direct remote hits"
cmp -s "$proj/f7.o" "$TEST_TMP/f7.first" || fail "an object from the remote differs"
build "$TEST_TMP/b"
[ "$(at "$TEST_TMP/b" direct_hit_local)" = 200 ] || fail "third build: $(at "$TEST_TMP/b" direct_hit_local) local hits, want 200 (remote hits fill the local cache)"
errors=$(( $(at "$TEST_TMP/a" remote_error) + $(at "$TEST_TMP/b" remote_error) + $(at "$TEST_TMP/a" local_error) + $(at "$TEST_TMP/b" local_error) ))
[ "$errors" = 0 ] || fail "$errors errors counted"
ok "make -j8, 200 files: cache A 200 misses; cache B 200 remote direct hits, then 200 local hits; no errors"

# A large result (a few MB, many socket writes and reads) round-trips.
mkdir -p "$TEST_TMP/big"
python3 -c "
import os
data = os.urandom(3 << 20)
print('const unsigned char blob[] = {' + ','.join(str(b) for b in data) + '};')
" >"$TEST_TMP/big/big.c"
sleep 0.1
(cd "$TEST_TMP/big" && CSTASH_DIR=$TEST_TMP/big1 "$CSTASH" gcc -c big.c -o one.o)
(cd "$TEST_TMP/big" && CSTASH_DIR=$TEST_TMP/big2 "$CSTASH" gcc -c big.c -o two.o)
[ "$(at "$TEST_TMP/big2" direct_hit_remote)" = 1 ] || fail "the large result was not a remote hit"
cmp -s "$TEST_TMP/big/one.o" "$TEST_TMP/big/two.o" || fail "the large object from the remote differs"
ok "a $(( $(stat -c %s "$TEST_TMP/big/one.o") >> 20 )) MB object round-trips through the remote"

# A changed header reaches everyone: 200 misses, then 200 remote hits.
printf '#define COMMON(x) ((x) * 5)\n' >"$proj/inc/common.h"
sleep 0.1
build "$TEST_TMP/a"
[ "$(at "$TEST_TMP/a" miss)" = 400 ] || fail "after a header change: $(at "$TEST_TMP/a" miss) misses in total, want 400"
build "$TEST_TMP/c"
[ "$(at "$TEST_TMP/c" direct_hit_remote)" = 200 ] || fail "header change: $(at "$TEST_TMP/c" direct_hit_remote) remote hits"
ok "a header change: 200 new misses in A, 200 remote hits in a fresh C"
stop_server

# Credentials: a token, user:pass in the URL; a wrong token gets no hits
# and the build still succeeds.
team_conf "$TEST_TMP/team.conf" dev dev-token dev-pass
start_server "$TEST_TMP/data-team" --config "$TEST_TMP/team.conf" --log-level debug
hostport=${URL#http://}
CSTASH_REMOTE=$URL/team CSTASH_TOKEN=dev-token build "$TEST_TMP/t1"
CSTASH_REMOTE=http://dev:dev-pass@$hostport/team build "$TEST_TMP/t2"
[ "$(at "$TEST_TMP/t2" direct_hit_remote)" = 200 ] || fail "user:pass in the URL: $(at "$TEST_TMP/t2" direct_hit_remote) remote hits"
CSTASH_REMOTE=$URL/team CSTASH_TOKEN=wrong build "$TEST_TMP/t3"
[ "$(at "$TEST_TMP/t3" miss)" = 200 ] || fail "a wrong token got hits"
[ "$(at "$TEST_TMP/t3" remote_error)" -ge 1 ] || fail "a wrong token is not counted as a remote error"
grep -q 'GET /team/[0-9a-f]\{2\}/[0-9a-f]\{62\}: 401' "$SERVER_LOG" || fail "no 401 for the wrong token"
# Read-only: hits, but nothing is written remotely.
before=$(grep -c 'PUT /team/' "$SERVER_LOG" || true)
printf 'int extra(void) { return 1; }\n' >"$proj/extra.c"
(cd "$proj" && CSTASH_DIR=$TEST_TMP/t1 CSTASH_REMOTE=$URL/team CSTASH_TOKEN=dev-token CSTASH_REMOTE_READONLY=1 \
    "$CSTASH" gcc -c extra.c -o extra.o)
rm -f "$proj/extra.c" "$proj/extra.o"
[ "$(grep -c 'PUT /team/' "$SERVER_LOG" || true)" = "$before" ] || fail "CSTASH_REMOTE_READONLY still wrote"
ok "bearer token and user:pass share hits; a wrong token: 401, no hits, build fine; read-only writes nothing"

# A bearer token of 6 KiB (a JWT runs to a few KiB): more request headers
# than the 2 KiB the client had room for (it gave up before sending), and
# longer than the 512 bytes cstashd took. End to end through a cstashd that
# knows it: a compile stores, one from another cache dir hits, with the
# token from CSTASH_TOKEN and from the config file (a line of over 4 KiB
# there was split in two); a token one byte longer gets 401.
long=$(head -c 4608 /dev/urandom | base64 -w0 | tr '+/' '-_')
[ ${#long} = 6144 ] || fail "the long token is ${#long} characters"
stop_server
team_conf "$TEST_TMP/long.conf" longuser "$long" ""
start_server "$TEST_TMP/data-long" --config "$TEST_TMP/long.conf" --log-level debug
printf 'int longtok(void) { return 6; }\n' >"$proj/longtok.c"
sleep 2.1 # older than the client's 2 s margin, so direct mode records it
printf 'token = %s\n' "$long" >"$TEST_TMP/long-token.conf"
long_compile() { # long_compile CACHE [env...]
    local dir=$1
    shift
    (cd "$proj" && env CSTASH_DIR="$dir" CSTASH_REMOTE="$URL/team" "$@" "$CSTASH" gcc -c longtok.c -o longtok.o) \
        || fail "a compile with a 6 KiB token failed"
}
long_compile "$TEST_TMP/l1" CSTASH_TOKEN="$long"
[ "$(at "$TEST_TMP/l1" miss)" = 1 ] && [ "$(at "$TEST_TMP/l1" remote_error)" = 0 ] \
    || fail "6 KiB token, first compile: $(at "$TEST_TMP/l1" remote_error) remote errors ($(tail -n 1 "$CSTASH_LOG"); $(tail -n 1 "$SERVER_LOG"))"
long_compile "$TEST_TMP/l2" CSTASH_TOKEN="$long"
[ "$(at "$TEST_TMP/l2" direct_hit_remote)" = 1 ] || fail "6 KiB token from CSTASH_TOKEN: no remote hit ($(tail -n 1 "$CSTASH_LOG"))"
long_compile "$TEST_TMP/l3" CSTASH_CONFIG="$TEST_TMP/long-token.conf"
[ "$(at "$TEST_TMP/l3" direct_hit_remote)" = 1 ] || fail "6 KiB token from the config file: no remote hit ($(tail -n 1 "$CSTASH_LOG"))"
long_compile "$TEST_TMP/l4" CSTASH_TOKEN="${long}x"
[ "$(at "$TEST_TMP/l4" miss)" = 1 ] && [ "$(at "$TEST_TMP/l4" remote_error)" = 1 ] \
    || fail "cstashd took a token that is not its own"
grep -q 'GET /team/[0-9a-f]\{2\}/[0-9a-f]\{62\}: 401 wrong credentials' "$SERVER_LOG" \
    || fail "no 401 for the token one byte longer"
stop_server
rm -f "$proj/longtok.c" "$proj/longtok.o"
ok "a 6 KiB bearer token from CSTASH_TOKEN or the config file: stored and hit through cstashd; one byte more: 401"

# HTTPS (through libcurl) with a CA made here: verified with CSTASH_CACERT,
# refused without it (an error counted, the build fine).
make_test_ca "$TEST_TMP/ca"
{ cat "$TEST_TMP/team.conf"; printf 'tls_cert = "%s";\ntls_key = "%s";\n' "$TEST_TMP/ca/server.pem" "$TEST_TMP/ca/server.key"; } >"$TEST_TMP/tls.conf"
start_server "$TEST_TMP/data-tls" --config "$TEST_TMP/tls.conf" --listen https://127.0.0.1:0 --log-level debug
CSTASH_REMOTE=$URL/team CSTASH_TOKEN=dev-token CSTASH_CACERT=$TEST_TMP/ca/ca.pem build "$TEST_TMP/s1"
CSTASH_REMOTE=$URL/team CSTASH_TOKEN=dev-token CSTASH_CACERT=$TEST_TMP/ca/ca.pem build "$TEST_TMP/s2"
[ "$(at "$TEST_TMP/s2" direct_hit_remote)" = 200 ] || fail "https: $(at "$TEST_TMP/s2" direct_hit_remote) remote hits, want 200"
CSTASH_REMOTE=$URL/team CSTASH_TOKEN=dev-token build "$TEST_TMP/s3"
[ "$(at "$TEST_TMP/s3" miss)" = 200 ] && [ "$(at "$TEST_TMP/s3" remote_error)" -ge 1 ] \
    || fail "https with an unknown CA: $(at "$TEST_TMP/s3" miss) misses, $(at "$TEST_TMP/s3" remote_error) errors"
ok "https: 200 remote hits with CSTASH_CACERT; an unverified certificate is refused, the build compiles"
stop_server

# Faults: nobody listening, a server answering 500, one that never answers.
start_fault_servers # sets p500, phang, pdead (tests/lib.sh)

fault() { # fault NAME URL: a 200-file build against a broken remote
    local name=$1 url=$2 t0 t1
    t0=$(date +%s)
    CSTASH_REMOTE=$url CSTASH_TIMEOUT=1s CSTASH_CONNECT_TIMEOUT=1s build "$TEST_TMP/f-$name"
    t1=$(date +%s)
    echo "$name: $((t1 - t0)) s, $(at "$TEST_TMP/f-$name" remote_error) errors, $(at "$TEST_TMP/f-$name" remote_timeout) timeouts, $(at "$TEST_TMP/f-$name" remote_skipped) skipped"
    [ "$(at "$TEST_TMP/f-$name" miss)" = 200 ] || fail "$name: the build did not compile everything"
    [ $((t1 - t0)) -le 90 ] || fail "$name: the build took $((t1 - t0)) s"
}
fault down "http://127.0.0.1:$pdead/ns"
[ "$(at "$TEST_TMP/f-down" remote_skipped)" -ge 150 ] || fail "down: the remote was not skipped after the first failures"
fault 500 "http://127.0.0.1:$p500/ns"
# Each compile counts its 500 (a slow accept may count as a timeout instead).
[ $(( $(at "$TEST_TMP/f-500" remote_error) + $(at "$TEST_TMP/f-500" remote_timeout) + $(at "$TEST_TMP/f-500" remote_skipped) )) -ge 200 ] \
    && [ "$(at "$TEST_TMP/f-500" remote_error)" -ge 1 ] || fail "500: errors not counted"
fault hang "http://127.0.0.1:$phang/ns"
[ "$(at "$TEST_TMP/f-hang" remote_timeout)" -ge 1 ] || fail "hang: no timeout counted"
[ "$(at "$TEST_TMP/f-hang" remote_skipped)" -ge 150 ] || fail "hang: the remote was not skipped after timing out"
ok "remote down, answering 500, or hanging: every build compiles all 200 files in bounded time, errors counted"

# A name whose lookup never ends costs a compile no more than the connect
# timeout (getaddrinfo waited out the resolver's timeouts and retries: 10 s
# here). The DNS server reads and never answers; it and a resolv.conf that
# names it live in a network and mount namespace of the test's own, so the
# machine's resolver is untouched (needs root: unshare, mount, ip).
if [ "$(id -u)" != 0 ]; then
    echo "# not root: the bound on name lookups is not tested (unshare -m -n needs root)"
else
    command -v unshare >/dev/null && command -v ip >/dev/null || fail "unshare and ip (util-linux, iproute2) are needed as root"
    mkdir -p "$TEST_TMP/dns"
    printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:2\n' >"$TEST_TMP/dns/resolv.conf"
    printf 'int dns(void) { return 1; }\n' >"$TEST_TMP/dns/dns.c"
    sleep 0.1
    cat >"$TEST_TMP/dns/run.sh" <<'NS'
set -euo pipefail
d=$1
ip link set lo up
mount --bind "$d/resolv.conf" /etc/resolv.conf
# reads queries and never answers; gone after 60 s whatever happens
python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53)); s.settimeout(60)
open(sys.argv[1], "w").write("ready\n")
try:
    while True: s.recvfrom(4096)
except socket.timeout:
    pass
' "$d/ready" &
dns=$!
trap 'kill $dns 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$d/ready" ] && break; sleep 0.1; done
[ -s "$d/ready" ] || { echo "the silent DNS server did not start"; exit 1; }
cd "$d"
compile() { # compile CACHE REMOTE: one compile, its milliseconds on stdout
    local t0 t1
    t0=$(date +%s%N)
    CSTASH_DIR=$d/$1 CSTASH_REMOTE=$2 CSTASH_CONNECT_TIMEOUT=1s CSTASH_TIMEOUT=1s \
        "$CSTASH" gcc -c dns.c -o "$1.o" >&2
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000000 ))
}
echo "name $(compile name http://cstash-dns-test.example:8080/ns)"
echo "again $(compile name http://cstash-dns-test.example:8080/ns)"
# a numeric host never asks the DNS server: refused at once
echo "numeric $(compile numeric "http://127.0.0.1:$2/ns")"
NS
    timeout 60 unshare -m -n env CSTASH="$CSTASH" bash "$TEST_TMP/dns/run.sh" "$TEST_TMP/dns" "$pdead" \
        >"$TEST_TMP/dns/times" 2>"$TEST_TMP/dns/err" || { cat "$TEST_TMP/dns/err"; fail "the compiles in the DNS namespace failed"; }
    read -r _ t_name <<<"$(grep '^name ' "$TEST_TMP/dns/times")"
    read -r _ t_again <<<"$(grep '^again ' "$TEST_TMP/dns/times")"
    read -r _ t_numeric <<<"$(grep '^numeric ' "$TEST_TMP/dns/times")"
    echo "# a name that never resolves: ${t_name} ms, then ${t_again} ms (backoff); a numeric host: ${t_numeric} ms"
    [ -s "$TEST_TMP/dns/name.o" ] && [ -s "$TEST_TMP/dns/numeric.o" ] || fail "a compile with an unresolvable remote made no object"
    [ "$t_name" -le 3000 ] || fail "a name that never resolves held the compile ${t_name} ms (connect timeout 1 s)"
    [ "$(at "$TEST_TMP/dns/name" remote_timeout)" = 1 ] || fail "the lookup's timeout was not counted as a remote timeout"
    [ "$(at "$TEST_TMP/dns/name" remote_skipped)" = 1 ] && [ "$t_again" -le 1000 ] \
        || fail "after a lookup timed out the next compile did not skip the remote (${t_again} ms)"
    [ "$t_numeric" -le 1000 ] && [ "$(at "$TEST_TMP/dns/numeric" remote_error)" = 1 ] \
        || fail "a numeric host: ${t_numeric} ms, $(at "$TEST_TMP/dns/numeric" remote_error) errors"
    grep -q 'cannot resolve cstash-dns-test.example: the name lookup took longer' "$CSTASH_LOG" \
        || fail "the log does not say the lookup timed out"
    ok "a remote name whose DNS server never answers: the compile waits ${t_name} ms (connect timeout 1 s), then the remote is skipped; a numeric host asks no DNS server"
fi
