# Shared helpers for integration and e2e tests: a real cstashd on a free
# loopback port in a temp dir, stopped by PID when the test ends.
# shellcheck shell=bash
set -euo pipefail

: "${CSTASHD:?CSTASHD must point to the cstashd binary (make check sets it)}"
: "${CS_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cstash-$TEST_NAME.XXXXXX")
SERVER_PID=""
SERVER_LOG=""
URL=""
CHECKS=0
EXTRA_PIDS=()   # other processes a test started (second servers, redis, s3rver)

_cleanup() {
    local rc=$? p
    for p in "${EXTRA_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        # TERM first: a server that exits normally lets LeakSanitizer report
        # (sanitizer builds); KILL if it has not exited within 2 s
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for p in $(seq 1 40); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    # a test's own cleanup (e.g. unmounting), after the server is gone
    if declare -F test_cleanup >/dev/null; then test_cleanup || true; fi
    if [ $rc -ne 0 ] && [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ]; then
        echo "--- last lines of the server log ($SERVER_LOG) ---"
        tail -n 20 "$SERVER_LOG"
    fi
    rm -rf "$TEST_TMP"
    exit $rc
}
trap _cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

ok() {
    CHECKS=$((CHECKS + 1))
    echo "ok $CHECKS - $*"
}

skip_test() {
    echo "SKIP: $*"
    exit 77
}

# start_server DATA_DIR [cstashd args...]: sets SERVER_PID, SERVER_LOG, URL
# (e.g. http://127.0.0.1:41234). Listens on a free loopback port unless
# the arguments say otherwise.
# start_fault_servers: three loopback ports for fault tests, in p500 (a
# server answering every request 500), phang (accepts, never answers) and
# pdead (nobody listens). Stopped with the test (EXTRA_PIDS).
start_fault_servers() {
    python3 - "$TEST_TMP" <<'PY' &
import socket, sys, threading, http.server
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get('Content-Length') or 0)
        if n: self.rfile.read(n)
        self.send_response(500); self.send_header('Content-Length', '0'); self.end_headers()
    do_GET = do_PUT = do_HEAD = do_POST = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer.request_queue_size = 128
s500 = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
hang = socket.socket(); hang.bind(('127.0.0.1', 0)); hang.listen(64)   # accepts, never answers
dead = socket.socket(); dead.bind(('127.0.0.1', 0)); dead_port = dead.getsockname()[1]; dead.close()
open(d + '/ports', 'w').write('%d %d %d\n' % (s500.server_address[1], hang.getsockname()[1], dead_port))
threading.Thread(target=s500.serve_forever, daemon=True).start()
conns = []
while True:
    c, _ = hang.accept(); conns.append(c)
PY
    EXTRA_PIDS+=($!)
    for _ in $(seq 50); do [ -s "$TEST_TMP/ports" ] && break; sleep 0.1; done
    read -r p500 phang pdead <"$TEST_TMP/ports"
}

start_server() {
    local data=$1
    shift
    local has_listen=no a
    for a in "$@"; do
        case $a in --listen|--listen=*|-l) has_listen=yes ;; esac
    done
    SERVER_LOG="$TEST_TMP/server.$RANDOM.log"
    # created here: the background shell may open it after the first read below
    : >"$SERVER_LOG"
    if [ $has_listen = yes ]; then
        "$CSTASHD" --data-dir "$data" "$@" >"$SERVER_LOG.out" 2>"$SERVER_LOG" &
    else
        "$CSTASHD" --listen 127.0.0.1:0 --data-dir "$data" "$@" >"$SERVER_LOG.out" 2>"$SERVER_LOG" &
    fi
    SERVER_PID=$!
    local i
    for i in $(seq 1 100); do
        URL=$(sed -n 's|.*listening on \(https\{0,1\}://[^ ]*\)/ .*|\1|p' "$SERVER_LOG" | head -n 1)
        [ -n "$URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG"; fail "cstashd exited at start-up"; }
        sleep 0.05
    done
    cat "$SERVER_LOG"
    fail "cstashd did not start listening within 5 s"
}

# stop_server [SIGNAL]: signals the server and waits (bounded) for it to exit;
# sets SERVER_RC.
stop_server() {
    local sig=${1:-TERM} i
    [ -n "$SERVER_PID" ] || return 0
    kill -"$sig" "$SERVER_PID" 2>/dev/null || true
    for i in $(seq 1 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$SERVER_PID" 2>/dev/null && { kill -KILL "$SERVER_PID"; fail "cstashd ignored SIG$sig for 15 s"; }
    SERVER_RC=0
    wait "$SERVER_PID" || SERVER_RC=$?
    SERVER_PID=""
}

# http METHOD PATH [curl args...]: prints the status code; body in $TEST_TMP/body,
# headers in $TEST_TMP/headers.
http() {
    local method=$1 path=$2
    shift 2
    # A refusal before the body closes the connection under curl's upload:
    # curl then exits non-zero but still prints the status it received.
    curl -sS --max-time 60 --path-as-is -X "$method" -o "$TEST_TMP/body" -D "$TEST_TMP/headers" \
        -w '%{http_code}' "$@" "$URL$path" 2>"$TEST_TMP/curl.err" || true
}

# expect_status WANT METHOD PATH [curl args...]
expect_status() {
    local want=$1 got
    shift
    got=$(http "$@")
    [ "$got" = "$want" ] || fail "$1 $2: expected $want, got $got ($(head -c 200 "$TEST_TMP/body" 2>/dev/null))"
}

header() { # header NAME: value of that header in the last response
    tr -d '\r' <"$TEST_TMP/headers" | sed -n "s/^$1: //Ip" | tail -n 1
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# count of files under a directory (0 when it does not exist)
count_files() { { find "$1" -type f 2>/dev/null || true; } | wc -l; }

# bytes the object files take on disk (blocks, as du counts them; not the
# directories). Files evicted while find walks make it exit 1: not an error
# here (under pipefail it killed quota_lru.sh's monitor, and the test, silently).
object_bytes() {
    { find "$1/objects" -type f -printf '%b\n' 2>/dev/null || true; } | awk '{s += $1 * 512} END {print s + 0}'
}

# json_field NAME FIELD FILE: a number from /_/stats JSON saved in FILE
json_field() {
    sed -n "s/.*\"$1\":{\([^}]*\)}.*/\1/p" "$3" | tr ',' '\n' | sed -n "s/^\"$2\"://p"
}

# kind_count NS KIND hits|misses FILE: a counter of cstash_kind_*_total in
# /_/metrics text saved in FILE (0 when absent)
kind_count() {
    local v
    v=$(sed -n "s/^cstash_kind_$3_total{namespace=\"$1\",kind=\"$2\"} //p" "$4")
    echo "${v:-0}"
}

# make_test_ca DIR: a CA (ca.pem), a server certificate for 127.0.0.1 and
# localhost (server.pem, server.key), a client certificate with CN=alice
# signed by the CA (alice.pem, alice.key), and one from another CA
# (rogue.pem, rogue.key).
make_test_ca() {
    local d=$1
    mkdir -p "$d"
    (
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
            -subj "/CN=cstash test CA" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
            -subj "/CN=127.0.0.1" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out server.pem -days 2 -extfile san.ext 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout alice.key -out alice.csr \
            -subj "/CN=alice" 2>/dev/null
        openssl x509 -req -in alice.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out alice.pem -days 2 2>/dev/null
        openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 \
            -subj "/CN=alice" 2>/dev/null
    ) || fail "openssl could not make the test CA"
}

# team_conf FILE USER TOKEN PASSWORD: a config with one user (token and/or
# password, hashed with cstashd itself; "" for none) who may read and write
# namespace "team", the only one.
team_conf() {
    local file=$1 user=$2 token=$3 password=$4 secrets=""
    [ -n "$token" ] && secrets="token_sha256 = \"$(printf '%s' "$token" | "$CSTASHD" hash-token)\"; "
    [ -n "$password" ] && secrets="$secrets password_hash = \"$(printf '%s' "$password" | "$CSTASHD" hash-password)\";"
    cat >"$file" <<CONF
users = ( { name = "$user"; $secrets } );
namespaces = ( { name = "team"; read = [ "$user" ]; write = [ "$user" ]; } );
CONF
}

# --- the cstash client --------------------------------------------------------
CSTASH=${CSTASH:-${CS_BUILDDIR:-$CS_SRCDIR}/client/cstash}

# cstat NAME: one counter of `cstash --print-stats` (for the current CSTASH_DIR).
cstat() { "$CSTASH" --print-stats | awk -F'\t' -v n="$1" '$1 == n { print $2 }'; }

# chits: all hits; cmisses: misses (current CSTASH_DIR).
chits() {
    "$CSTASH" --print-stats | awk -F'\t' '$1 ~ /_hit_/ { s += $2 } END { print s + 0 }'
}

# raw_request TEXT: sends TEXT (printf escapes: \r\n) to the server as is,
# reads the first bytes of the answer, and closes: framing a client library
# would not send, or a body announced and never sent.
raw_request() {
    "$S3_PY" -c '
import socket, sys
host, port = sys.argv[1].split(":")
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.recv(4096)
s.close()
' "${URL#http://}" "$1"
}

# free_port: a TCP port free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis PORT [redis-server args...]: a throw-away redis-server on
# 127.0.0.1:PORT, no persistence; sets REDIS_PID (also killed at exit).
start_redis() {
    local port=$1 i
    shift
    command -v redis-server >/dev/null || fail "redis-server is not installed (scripts/deps.sh test installs it)"
    mkdir -p "$TEST_TMP/redis-$port"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
        --dir "$TEST_TMP/redis-$port" "$@" >"$TEST_TMP/redis-$port.log" 2>&1 &
    REDIS_PID=$!
    EXTRA_PIDS+=("$REDIS_PID")
    for i in $(seq 1 100); do
        redis-cli -p "$port" ping 2>/dev/null | grep -qE "PONG|NOAUTH" && return 0
        sleep 0.05
    done
    cat "$TEST_TMP/redis-$port.log"
    fail "redis-server did not start on port $port"
}

# s3rver (npm), installed once per build tree next to the other npm tools.
S3RVER_VERSION=3.7.1
s3rver_bin() {
    # its own folder: an npm install elsewhere there could prune it
    local mods=${CS_BUILDDIR:-$CS_SRCDIR}/tests/e2e/node-s3rver
    mkdir -p "$mods"
    (
        flock 9 # tests running in parallel install it once
        if [ ! -x "$mods/node_modules/.bin/s3rver" ]; then
            command -v npm >/dev/null || fail "npm is not installed (scripts/deps.sh test installs it)"
            (cd "$mods" && npm install --no-audit --no-fund --no-save "s3rver@$S3RVER_VERSION") \
                >"$TEST_TMP/npm-s3rver.log" 2>&1 || { cat "$TEST_TMP/npm-s3rver.log" >&2; fail "npm install s3rver failed"; }
        fi
    ) 9>"$mods/.lock" || exit 1
    echo "$mods/node_modules/.bin/s3rver"
}

# start_s3rver PORT DIR BUCKET: an S3-compatible server on 127.0.0.1:PORT
# (credentials S3RVER/S3RVER; it checks signatures); sets S3_PID.
start_s3rver() {
    local port=$1 dir=$2 bucket=$3 bin i
    bin=$(s3rver_bin)
    mkdir -p "$dir"
    "$bin" -d "$dir" -a 127.0.0.1 -p "$port" --service-endpoint localhost \
        --configure-bucket "$bucket" >"$TEST_TMP/s3rver-$port.log" 2>&1 &
    S3_PID=$!
    EXTRA_PIDS+=("$S3_PID")
    for i in $(seq 1 200); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
        kill -0 "$S3_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$TEST_TMP/s3rver-$port.log"
    fail "s3rver did not start on port $port"
}

# hold_index_lock DATA_DIR: another process takes sqlite's write lock on the
# data dir's index and keeps it (fault injection: the index writer's
# commits then fail as busy); sets LOCK_PID. release_index_lock lets go.
hold_index_lock() {
    local db=$1/index.sqlite i
    rm -f "$TEST_TMP/index-lock.go" "$TEST_TMP/index-lock.held"
    python3 - "$db" "$TEST_TMP/index-lock.held" "$TEST_TMP/index-lock.go" <<'PY' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.02)
c.execute("ROLLBACK")
PY
    LOCK_PID=$!
    EXTRA_PIDS+=("$LOCK_PID")
    for i in $(seq 1 250); do
        [ -e "$TEST_TMP/index-lock.held" ] && return 0
        kill -0 "$LOCK_PID" 2>/dev/null || fail "could not take the index's write lock"
        sleep 0.02
    done
    fail "the index's write lock was not taken within 5 s"
}
release_index_lock() {
    touch "$TEST_TMP/index-lock.go"
    wait "$LOCK_PID" 2>/dev/null || true
}

# mount_small_tmpfs DIR SIZE: a tmpfs of SIZE (e.g. 6m) on DIR, unmounted
# at exit (it sets test_cleanup). Mounting needs root: without it, or
# where mounting is not allowed, the test is skipped with the reason (CI
# runs as root).
mount_small_tmpfs() {
    mkdir -p "$1"
    [ "$(id -u)" = 0 ] || skip_test "mounting a small tmpfs needs root"
    mount -t tmpfs -o "size=$2,mode=0700" cstash-test "$1" 2>"$TEST_TMP/mount.err" ||
        skip_test "cannot mount a tmpfs here: $(cat "$TEST_TMP/mount.err")"
    SMALL_TMPFS=$1
    test_cleanup() { umount "$SMALL_TMPFS"; }
}

# --- the S3 front end ---------------------------------------------------------
# Real S3 clients from Debian, by absolute path: a python without boto3
# (pyenv) and another awscli may come first on PATH.
S3_AWS=/usr/bin/aws
S3_PY=/usr/bin/python3
S3_REGION=us-east-1
S3_DOMAIN=s3.localhost
# access keys and secrets of alice and bob (secrets with '/' and '+', as AWS's)
AK_ALICE=AKIAALICE0000000000A
SK_ALICE='alice/Secret+0123456789abcdefghijKLMNOPQRST'
AK_BOB=AKIABOB000000000000B
SK_BOB='bob/Secret+9876543210zyxwvutsrqPONMLKJIHGFE'
TOKEN_ALICE=alice-token
TOKEN_BOB=bob-token
# namespaces of the S3 tests: team-a (alice), team-b (bob), public (anyone)
S3_NAMESPACES='
  { name = "team-a"; read = [ "alice" ]; write = [ "alice" ]; },
  { name = "team-b"; read = [ "bob" ]; write = [ "bob" ]; },
  { name = "public"; read = [ "*" ]; write = [ "*" ]; }'

# s3_secrets FILE: alice's and bob's keys in the secrets file format (0600)
s3_secrets() {
    (umask 077 && cat >"$1" <<SECRETS
# user access-key-id secret
alice $AK_ALICE $SK_ALICE
bob $AK_BOB $SK_BOB
SECRETS
    )
}

# s3_conf FILE DATA_DIR HTTP_PORT S3_PORT [EXTRA TOP-LEVEL CONFIG]: users
# alice and bob (a bearer token each, S3 keys in $TEST_TMP/s3-secrets),
# an HTTP and an s3:// listener, the namespaces in $S3_NAMESPACES.
s3_conf() {
    [ -f "$TEST_TMP/s3-secrets" ] || s3_secrets "$TEST_TMP/s3-secrets"
    cat >"$1" <<CONF
listen = [ "127.0.0.1:$3", "s3://127.0.0.1:$4" ];
data_dir = "$2";
limits = { auth_failures = 100000; };
users = (
  { name = "alice"; tokens_sha256 = [ "$(printf '%s' "$TOKEN_ALICE" | "$CSTASHD" hash-token)" ]; },
  { name = "bob"; tokens_sha256 = [ "$(printf '%s' "$TOKEN_BOB" | "$CSTASHD" hash-token)" ]; }
);
s3 = { secrets = "$TEST_TMP/s3-secrets"; region = "$S3_REGION"; domain = "$S3_DOMAIN"; };
namespaces = ( $S3_NAMESPACES
);
${5:-}
CONF
}

# s3_start NAME [cstashd args...]: a cstashd with the config above (its
# listeners from the config file itself; $S3_EXTRA_CONF appended to it),
# data dir $TEST_TMP/NAME; waits for both listeners. Sets SERVER_PID,
# SERVER_LOG, DATA, HPORT, SPORT, URL (the HTTP listener) and S3URL (the
# s3:// one).
s3_start() {
    local name=$1 i
    shift
    DATA=$TEST_TMP/$name
    HPORT=$(free_port)
    SPORT=$(free_port)
    while [ "$SPORT" = "$HPORT" ]; do SPORT=$(free_port); done
    s3_conf "$TEST_TMP/$name.conf" "$DATA" "$HPORT" "$SPORT" "${S3_EXTRA_CONF:-}"
    SERVER_LOG="$TEST_TMP/server-$name.$RANDOM.log"
    : >"$SERVER_LOG"
    "$CSTASHD" -c "$TEST_TMP/$name.conf" "$@" >"$SERVER_LOG.out" 2>"$SERVER_LOG" &
    SERVER_PID=$!
    URL=http://127.0.0.1:$HPORT
    S3URL=http://127.0.0.1:$SPORT
    for i in $(seq 1 200); do
        if curl -s -o /dev/null "$URL/_/health" && curl -s -o /dev/null "$S3URL/"; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG"; fail "cstashd exited at start-up"; }
        sleep 0.05
    done
    cat "$SERVER_LOG"
    fail "cstashd did not listen on $URL and $S3URL within 10 s"
}

# s3_env USER: the AWS SDKs' environment for USER (alice, bob or anonymous),
# everything in the test's temp dir: no ~/.aws, no instance metadata, no
# CA bundle (rclone 1.60 refuses to start with AWS_CA_BUNDLE set).
s3_env() {
    export HOME=$TEST_TMP/home
    mkdir -p "$HOME/.aws"
    export AWS_CONFIG_FILE=$HOME/.aws/config AWS_SHARED_CREDENTIALS_FILE=$HOME/.aws/credentials
    export AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=$S3_REGION AWS_REGION=$S3_REGION
    export AWS_PAGER="" AWS_RETRY_MODE=standard AWS_MAX_ATTEMPTS=1
    unset AWS_CA_BUNDLE AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL
    case $1 in
        alice) export AWS_ACCESS_KEY_ID=$AK_ALICE AWS_SECRET_ACCESS_KEY=$SK_ALICE ;;
        bob) export AWS_ACCESS_KEY_ID=$AK_BOB AWS_SECRET_ACCESS_KEY=$SK_BOB ;;
        anonymous) unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY ;;
        *) fail "s3_env: unknown user $1" ;;
    esac
    : >"$AWS_SHARED_CREDENTIALS_FILE"
    printf '[default]\nregion = %s\n' "$S3_REGION" >"$AWS_CONFIG_FILE"
    "$S3_AWS" configure set default.s3.addressing_style path
}

# s3req ARGS...: one raw S3 request signed by tests/integration/s3_request.py
# (a SigV4 signer of its own, not botocore's); prints the status, the body
# in $TEST_TMP/body, the headers in $TEST_TMP/headers.
s3req() {
    "$S3_PY" "$CS_SRCDIR/tests/integration/s3_request.py" --out "$TEST_TMP/body" \
        --headers-out "$TEST_TMP/headers" "$@"
}

# s3_code: the <Code> of the last S3 error body
s3_code() { sed -n 's:.*<Code>\([^<]*\)</Code>.*:\1:p' "$TEST_TMP/body" | head -n 1; }

# http_get_as TOKEN NS/KEY OUT: the bytes over the ordinary HTTP API with a
# bearer token ("" for none); prints the status
http_get_as() {
    local auth=()
    [ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
    curl -sS --max-time 60 -o "$3" -w '%{http_code}' "${auth[@]}" "$URL/$2" 2>"$TEST_TMP/curl.err" || true
}

# npm opendal 0.47.11 (0.49+ needs a newer glibc than bookworm's), installed
# once per build tree (the e2e test's folder), as s3rver is.
OPENDAL_VERSION=0.47.11
opendal_modules() {
    local mods=${CS_BUILDDIR:-$CS_SRCDIR}/tests/e2e/node
    mkdir -p "$mods"
    (
        flock 9
        if [ ! -f "$mods/node_modules/opendal/package.json" ]; then
            command -v npm >/dev/null || fail "npm is not installed (scripts/deps.sh test installs it)"
            (cd "$mods" && npm install --no-audit --no-fund --no-save "opendal@$OPENDAL_VERSION") \
                >"$TEST_TMP/npm-opendal.log" 2>&1 ||
                { cat "$TEST_TMP/npm-opendal.log" >&2; fail "npm install opendal@$OPENDAL_VERSION failed (the S3 test cannot run without it)"; }
        fi
    ) 9>"$mods/.lock" || exit 1
    echo "$mods/node_modules"
}

# jfield FILE PYEXPR: a value from a JSON file (the clients' output), e.g.
# jfield out.json 'd["ETag"]'; prints nothing when the expression fails
jfield() {
    "$S3_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
try:
    v = eval(sys.argv[2])
except (KeyError, IndexError, TypeError):
    sys.exit(0)
print(v if not isinstance(v, (list, dict)) else json.dumps(v, sort_keys=True))' "$1" "$2"
}

# md5_etag FILE: "\"<md5 hex>\"", the ETag S3 gives a single PUT
md5_etag() { printf '"%s"' "$(md5sum "$1" | cut -d' ' -f1)"; }

# multipart_etag FILE PART_SIZE: the ETag of a multipart upload of FILE in
# parts of PART_SIZE bytes: "<md5 of the parts' binary md5s>-N"
multipart_etag() {
    "$S3_PY" -c 'import hashlib, sys
size = int(sys.argv[2]); md5s = b""; n = 0
with open(sys.argv[1], "rb") as f:
    while True:
        p = f.read(size)
        if not p:
            break
        md5s += hashlib.md5(p).digest(); n += 1
print("\"%s-%d\"" % (hashlib.md5(md5s).hexdigest(), n))' "$1" "$2"
}

# urlenc TEXT: TEXT percent-encoded for a URL path ('/' kept)
urlenc() { "$S3_PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/"))' "$1"; }
