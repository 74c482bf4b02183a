# Command line: help, version, --check-config, exit codes and messages for
# bad config, port in use, unusable data dir; IPv4/IPv6 and several listeners.
source "$CS_SRCDIR/tests/lib.sh"

run() { # run EXPECTED_RC CMD...: output in $TEST_TMP/out
    local want=$1 rc=0
    shift
    "$@" >"$TEST_TMP/out" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || { cat "$TEST_TMP/out"; fail "'$*' exited $rc, expected $want"; }
}

run 0 "$CSTASHD" --version
grep -q '^cstashd [0-9]' "$TEST_TMP/out" || fail "--version output"
run 0 "$CSTASHD" --help
grep -q -- '--check-config' "$TEST_TMP/out" || fail "--help output"
run 1 "$CSTASHD" --no-such-option
run 1 "$CSTASHD" --threads 0
run 1 "$CSTASHD" --listen nonsense
grep -q 'invalid --listen' "$TEST_TMP/out" || fail "--listen message"
run 1 "$CSTASHD" extra-argument
run 1 "$CSTASHD" --log-level loud
grep -q -- '--log-level must be' "$TEST_TMP/out" || fail "--log-level message"
ok "--version, --help; bad options exit 1"

# Each bad --listen gets its own reason, naming the value; an unknown
# option one line, not the whole help (issue 20's rough edges).
listen_reason() { # listen_reason VALUE TEXT: the message names VALUE and says TEXT
    run 1 "$CSTASHD" --listen "$1"
    grep -qF "invalid --listen '$1': $2" "$TEST_TMP/out" \
        || fail "--listen $1: $(cat "$TEST_TMP/out"), want \"$2\""
}
listen_reason 127.0.0.1 "no port"
listen_reason 127.0.0.1:99999 "port 99999 is out of range"
listen_reason :19503 "no host before the port"
listen_reason 127.0.0.1:19503x "port '19503x' is not a number"
listen_reason ::1:80 "an IPv6 address needs brackets"
listen_reason https://127.0.0.1 "no port"
run 1 "$CSTASHD" --no-such-option
[ "$(wc -l <"$TEST_TMP/out")" = 1 ] && grep -qF "unknown option '--no-such-option' (see cstashd --help)" "$TEST_TMP/out" \
    || fail "unknown option: $(cat "$TEST_TMP/out")"
run 1 "$CSTASHD" -l
grep -qF "option '-l' needs a value" "$TEST_TMP/out" || fail "-l without a value: $(cat "$TEST_TMP/out")"
man -l "$CS_SRCDIR/docs/cstashd.8" 2>/dev/null | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | grep -q 'hash-token' \
    && man -l "$CS_SRCDIR/docs/cstashd.8" 2>/dev/null | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | grep -q 'hash-password' \
    || { command -v man >/dev/null && fail "cstashd(8) SYNOPSIS lacks hash-token/hash-password"; }
ok "--listen: 127.0.0.1, :99999, :19503, 19503x, ::1:80 each get their own reason; an unknown option is one line"

run 0 "$CSTASHD" --check-config
grep -q 'embedded default' "$TEST_TMP/out" || fail "embedded default check"
cat >"$TEST_TMP/good.conf" <<'CONF'
# a complete, valid file
listen = [ "127.0.0.1:8080", "[::1]:8080" ];
data_dir = "/var/lib/cstash";
threads = 2;
max_blob_size = "512M";
namespaces = ( { name = "default"; durable = true; read = [ "*" ]; write = [ "*" ]; } );
CONF
run 0 "$CSTASHD" --check-config --config "$TEST_TMP/good.conf"
grep -q 'configuration is valid' "$TEST_TMP/out" || fail "valid message"
run 0 "$CSTASHD" --check-config --config "$CS_SRCDIR/conf/cstashd.conf"
ok "--check-config accepts the embedded default, a full file and conf/cstashd.conf"

cat >"$TEST_TMP/bad.conf" <<'CONF'
listen = [ "127.0.0.1:8080" ];
threads = "many";
namespaces = (
  { name = "a"; write = [ "ci" ]; },
  { name = "a"; mystery = 1; }
);
CONF
run 1 "$CSTASHD" --check-config --config "$TEST_TMP/bad.conf"
grep -q "^$TEST_TMP/bad.conf:2: threads" "$TEST_TMP/out" || fail "line 2 error missing"
grep -q "^$TEST_TMP/bad.conf:4: unknown principal \"ci\"" "$TEST_TMP/out" || fail "line 4 error missing"
grep -q "^$TEST_TMP/bad.conf:5: unknown namespace setting 'mystery'" "$TEST_TMP/out" || fail "line 5 error"
grep -q "^$TEST_TMP/bad.conf:5: namespace \"a\" is defined twice" "$TEST_TMP/out" || fail "duplicate"
printf 'listen = [ "127.0.0.1:8080" \n' >"$TEST_TMP/syntax.conf"
run 1 "$CSTASHD" --check-config --config "$TEST_TMP/syntax.conf"
grep -q "^$TEST_TMP/syntax.conf:[0-9]*: syntax error" "$TEST_TMP/out" || fail "syntax error line"
run 1 "$CSTASHD" --check-config --config "$TEST_TMP/missing.conf"
grep -q "missing.conf: cannot read: No such file" "$TEST_TMP/out" || fail "missing file"
grep -q "^cstashd: .*missing.conf: cannot read" "$TEST_TMP/out" || fail "missing file: no cstashd: prefix: $(cat "$TEST_TMP/out")"
# an unterminated string on line 2 is named on line 2, not where libconfig gave up
printf 'listen = [ "127.0.0.1:8080" ];\ndata_dir = "/tmp/x;\nthreads = 2;\n' >"$TEST_TMP/unterm.conf"
run 1 "$CSTASHD" --check-config --config "$TEST_TMP/unterm.conf"
grep -qF "$TEST_TMP/unterm.conf:2: unterminated string" "$TEST_TMP/out" || fail "unterminated string: $(cat "$TEST_TMP/out")"
mkdir -p "$TEST_TMP/confdir"
run 1 "$CSTASHD" --check-config --config "$TEST_TMP/confdir"
grep -qF "cstashd: $TEST_TMP/confdir: is a directory, not a config file" "$TEST_TMP/out" || fail "a dir as config: $(cat "$TEST_TMP/out")"
# the server itself refuses a bad config the same way, before listening
run 1 "$CSTASHD" --config "$TEST_TMP/bad.conf" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/x"
[ ! -e "$TEST_TMP/x" ] || fail "bad config created the data dir"
ok "--check-config reports every error as file:line: reason and exits 1"

# port in use
start_server "$TEST_TMP/data1"
port=${URL##*:}
run 3 "$CSTASHD" --listen "127.0.0.1:$port" --data-dir "$TEST_TMP/data2"
grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$TEST_TMP/out" || fail "in-use message"
ok "port in use: exit 3 with a clear message"

# the same data dir twice
run 2 "$CSTASHD" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data1"
grep -q "is in use by another cstashd" "$TEST_TMP/out" || fail "data dir lock message"
stop_server
[ "$SERVER_RC" = 0 ] || fail "SIGTERM exit code $SERVER_RC"
ok "one server per data dir: exit 2"

# unusable data dirs
: >"$TEST_TMP/plainfile"
run 2 "$CSTASHD" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/plainfile/data"
grep -q "cannot create data dir $TEST_TMP/plainfile/data: Not a directory" "$TEST_TMP/out" || fail "not a dir message"
mkdir -p "$TEST_TMP/ro"
if mount -t tmpfs -o size=1m,ro tmpfs "$TEST_TMP/ro" 2>/dev/null; then
    rc=0
    "$CSTASHD" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/ro/data" >"$TEST_TMP/out" 2>&1 || rc=$?
    umount "$TEST_TMP/ro" # before any check can fail, so no mount outlives the test
    [ $rc = 2 ] || fail "read-only data dir: exit $rc, expected 2"
    grep -q "Read-only file system" "$TEST_TMP/out" || fail "read-only message"
elif [ "$(id -u)" != 0 ]; then
    chmod 500 "$TEST_TMP/ro"
    run 2 "$CSTASHD" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/ro/data"
    grep -q "Permission denied" "$TEST_TMP/out" || fail "permission message"
fi
ok "unwritable data dir: exit 2 with the reason"

# several listeners, IPv6 when the machine has it, thread count
if [ -e /proc/net/if_inet6 ] && grep -q ' lo$' /proc/net/if_inet6; then
    start_server "$TEST_TMP/data3" --listen 127.0.0.1:0 --listen '[::1]:0' --threads 3
    v6=$(sed -n 's|.*listening on \(http://\[::1\]:[0-9]*\)/ .*|\1|p' "$SERVER_LOG")
    [ -n "$v6" ] || fail "no IPv6 listener in the log"
    curl -sf "$v6/_/health" >/dev/null || fail "IPv6 listener does not answer"
    curl -sf "$URL/_/health" >/dev/null || fail "IPv4 listener does not answer"
    curl -sf -X PUT --data-binary v6 "$v6/default/k" >/dev/null || fail "PUT over IPv6"
    [ "$(curl -sf "$URL/default/k")" = v6 ] || fail "both listeners share the store"
    grep -q '3 threads' "$SERVER_LOG" || fail "--threads not applied"
    stop_server
    ok "IPv4 and IPv6 listeners on one store; --threads"
else
    echo "# IPv6 listener not checked: this machine has no IPv6 loopback"
fi

# --log-level: debug shows refused requests with their namespace; error hides info lines
start_server "$TEST_TMP/data5" --log-level debug
curl -s -o /dev/null "$URL/nosuchns/key"
for i in $(seq 1 50); do grep -q "GET /nosuchns/key: 404 unknown namespace" "$SERVER_LOG" && break; sleep 0.05; done
grep -q "ns=- GET /nosuchns/key: 404 unknown namespace 'nosuchns'" "$SERVER_LOG" || fail "debug line missing"
stop_server
# (no "listening on" line to wait for at this level: wait for the socket)
"$CSTASHD" --log-level error --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data6" 2>"$TEST_TMP/quiet.log" &
SERVER_PID=$!
for i in $(seq 1 100); do ss -ltnp 2>/dev/null | grep -q "pid=$SERVER_PID," && break; sleep 0.05; done
ss -ltnp | grep -q "pid=$SERVER_PID," || fail "quiet server did not start listening"
stop_server
[ "$SERVER_RC" = 0 ] || fail "quiet server exit code $SERVER_RC"
[ ! -s "$TEST_TMP/quiet.log" ] || { cat "$TEST_TMP/quiet.log"; fail "--log-level error still logs info lines"; }
ok "--log-level debug logs refused requests; error keeps info quiet"

# ready-to-paste client settings name the real address
start_server "$TEST_TMP/data4" --print-client-config
for i in $(seq 1 50); do grep -q 'remote_cache' "$SERVER_LOG.out" && break; sleep 0.1; done
grep -q "remote_storage = $URL/default|layout=subdirs" "$SERVER_LOG.out" || fail "ccache line"
grep -q "build --remote_cache=$URL/default" "$SERVER_LOG.out" || fail "bazel line"
grep -q "url = '$URL/default/'" "$SERVER_LOG.out" || fail "gradle line"
grep -q "SCCACHE_WEBDAV_ENDPOINT=$URL/default" "$SERVER_LOG.out" || fail "sccache line"
stop_server
ok "--print-client-config prints ccache, Bazel, Gradle and sccache settings"

# hash-token hashes the whole token (8 KiB at most, what the server takes)
# and refuses a longer one: it once hashed its first 1023 bytes in silence,
# which no client's token then matched.
tok=$(head -c 6000 /dev/zero | tr '\0' t)
[ "$(printf %s "$tok" | "$CSTASHD" hash-token)" = "$(printf %s "$tok" | sha256sum | cut -d' ' -f1)" ] ||
    fail "hash-token of a 6000-byte token is not its sha256"
if head -c 9000 /dev/zero | tr '\0' t | "$CSTASHD" hash-token >"$TEST_TMP/out" 2>"$TEST_TMP/err"; then
    fail "hash-token took a token of 9000 bytes: $(cat "$TEST_TMP/out")"
fi
grep -q 'longer than 8192 bytes' "$TEST_TMP/err" || fail "hash-token's refusal: $(cat "$TEST_TMP/err")"
[ ! -s "$TEST_TMP/out" ] || fail "hash-token printed a hash for a token it refused"
ok "hash-token: a 6000-byte token hashed whole; 9000 bytes refused, naming the limit"
tok=$(head -c 8192 /dev/zero | tr '\0' t)
[ "$(printf '%s\r\n' "$tok" | "$CSTASHD" hash-token)" = "$(printf %s "$tok" | sha256sum | cut -d' ' -f1)" ] ||
    fail "hash-token of an 8192-byte token ending in CRLF is not its sha256"
if head -c 600 /dev/zero | tr '\0' p | "$CSTASHD" hash-password >"$TEST_TMP/out" 2>"$TEST_TMP/err"; then
    fail "hash-password took a 600-byte password, which crypt(3) cannot check"
fi
grep -q 'longer than 511 bytes' "$TEST_TMP/err" || fail "hash-password's refusal: $(cat "$TEST_TMP/err")"
ok "hash-token: 8192 bytes with CRLF hashed whole; hash-password refuses what crypt(3) cannot take (> 511 bytes)"
