# Issue 15.14: five addresses with 256 idle connections each (each under
# connections_per_ip) filled the global cap of 1024, and a new client then
# waited in the backlog until it timed out: libmicrohttpd stops accepting
# at its limit. Near the cap the oldest idle connections are closed, so a
# new client is answered within a second. And during the SIGTERM drain a
# new connection is refused at once, not left hanging in the backlog.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = ( { name = "n"; read = [ "*" ]; write = [ "*" ]; } );
CONF
# a soft open-files limit of 1024, the common default: cstashd raises it to
# the hard limit, or 1280 connections would run out of descriptors
ulimit -Sn 1024
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
port=${URL##*:}
read -r soft hard < <(awk '/^Max open files/ { print $4, $5 }' "/proc/$SERVER_PID/limits")
[ "$soft" = "$hard" ] || fail "the open-files limit was not raised: soft $soft, hard $hard"

python3 - "$port" >"$TEST_TMP/flood.out" <<'PY' || fail "$(cat "$TEST_TMP/flood.out")"
import resource, socket, sys, time
port = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

idle = []
for a in range(2, 7):              # 127.0.0.2 .. 127.0.0.6
    for i in range(256):
        s = socket.socket()
        s.bind(("127.0.0.%d" % a, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        idle.append(s)
time.sleep(0.5)

def served(src):
    """Seconds until a GET from src is answered (None: not within 3 s)."""
    t = time.time()
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(3)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /_/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = s.recv(100)
    except OSError:
        return None
    finally:
        s.close()
    return time.time() - t if data.startswith(b"HTTP/1.1 200") else None

waits = [served("127.0.0.7") for _ in range(20)]
still = 0
for s in idle:
    s.setblocking(False)
    try:
        still += 0 if s.recv(1) == b"" else 1
    except BlockingIOError:
        still += 1
    except OSError:
        pass
print("%d idle connections still open of %d; new clients answered in %s s"
      % (still, len(idle), "/".join("-" if w is None else "%.3f" % w for w in waits[:5])))
ok = True
if any(w is None or w > 1.0 for w in waits):
    print("FAIL: a new client was not answered within 1 s: %s" % waits); ok = False
if still > 1024:
    print("FAIL: %d idle connections kept, cap 1024" % still); ok = False
sys.exit(0 if ok else 1)
PY
cat "$TEST_TMP/flood.out"
ok "5 x 256 idle connections: $(head -n 1 "$TEST_TMP/flood.out")"
grep -q 'at limits.connections' "$SERVER_LOG" || fail "closing idle connections at the cap is not logged"

# the drain: a request in flight keeps the server draining; a new client
# is refused at once (connection refused), not parked in the backlog
python3 - "$port" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"PUT /n/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
time.sleep(4)
PY
slow=$!
sleep 0.5
kill -TERM "$SERVER_PID"
sleep 0.3
start=$(date +%s%N)
code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$URL/_/health" || true)
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$code" = 000 ] && [ "$took" -lt 1000 ] || fail "a new connection during the drain: $code after $took ms"
kill -0 "$SERVER_PID" || fail "the server did not wait for the request in flight"
ok "during the drain a new connection is refused in $took ms"
wait "$slow" || true
stop_server TERM
