# Hardening limits: connections per client address, slow headers
# (slowloris), slow bodies, stalled connections, URL length, header size,
# PROPFIND results. Each is cut at its limit while other clients are served.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
limits = { connections_per_ip = 50; header_timeout = 2; request_timeout = 4;
           url_length = 300; header_size = "2K"; propfind_results = 3; };
namespaces = ( { name = "n"; read = [ "*" ]; write = [ "*" ]; } );
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
port=${URL##*:}

# 200 idle connections from 127.0.0.1: 50 stay, the rest are closed at once;
# 127.0.0.2 is served meanwhile
python3 - "$port" "$URL" >"$TEST_TMP/conns.out" <<'PY' &
import socket, sys, time, subprocess
port = int(sys.argv[1])
socks = []
for i in range(200):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.connect(("127.0.0.1", port))
    socks.append(s)
time.sleep(0.5)
open_ = 0
for s in socks:
    s.setblocking(False)
    try:
        open_ += 0 if s.recv(1) == b"" else 1
    except BlockingIOError:
        open_ += 1
    except ConnectionResetError:
        pass
other = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface",
                        "127.0.0.2", sys.argv[2] + "/_/health"], capture_output=True, text=True).stdout
same = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface",
                       "127.0.0.1", sys.argv[2] + "/_/health"], capture_output=True, text=True).stdout
print(open_, other, same)
PY
wait $!
read -r open_conns other same <"$TEST_TMP/conns.out"
[ "$open_conns" = 50 ] || fail "idle connections kept from one address: $open_conns, limit 50"
[ "$other" = 200 ] || fail "another address was not served while one was at its limit: $other"
[ "$same" = 000 ] || fail "the address at its limit got one more connection: $same"
ok "200 idle connections from one address: 50 kept, 150 closed; another address served"
sleep 2.5 # the idle ones are cut by header_timeout; the address is free again
[ "$(http GET /_/health)" = 200 ] || fail "address not free after its idle connections were cut"

# trickle PORT HEAD CHUNK: sends HEAD, then CHUNK every 0.3 s until the
# server closes the connection; prints the seconds it stayed open
cat >"$TEST_TMP/trickle.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
start = time.time()
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode())
try:
    for i in range(100):
        s.sendall(sys.argv[3].encode())
        time.sleep(0.3)
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                break
        except BlockingIOError:
            pass
        s.setblocking(True)
except (BrokenPipeError, ConnectionResetError):
    pass
print("%.1f" % (time.time() - start))
PY

# slowloris: headers one byte every 0.3 s are cut after header_timeout (2 s)
t=$(python3 "$TEST_TMP/trickle.py" "$port" 'GET /n/x HTTP/1.1\r\nHost: x\r\nX-Slow: ' a)
awk -v t="$t" 'BEGIN { exit !(t >= 1.9 && t < 4) }' || fail "slow headers cut after $t s, expected about 2"
ok "headers trickled byte by byte: connection cut after $t s (header_timeout 2 s)"

# a body trickled in: cut after request_timeout (4 s)
t=$(python3 "$TEST_TMP/trickle.py" "$port" 'PUT /n/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n' \
    "$(head -c 100 /dev/zero | tr '\0' b)")
awk -v t="$t" 'BEGIN { exit !(t >= 3.9 && t < 6) }' || fail "slow body cut after $t s, expected about 4"
[ "$(http GET /n/slow)" = 404 ] || fail "the cut upload left an object"
ok "a body trickled in: cut after $t s (request_timeout 4 s), nothing stored"

long=$(head -c 400 /dev/zero | tr '\0' k)
[ "$(http GET "/n/$long")" = 414 ] || fail "long URL not 414"
grep -q 'limits.url_length 300' "$TEST_TMP/body" || fail "414 without reason"
[ "$(http GET /n/x -H "X-Big: $(head -c 3000 /dev/zero | tr '\0' h)")" = 431 ] || fail "big headers not 431"
grep -q 'limits.header_size 2048' "$TEST_TMP/body" || fail "431 without reason"
[ "$(http GET /n/x -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' h)")" = 431 ] || fail "headers over the connection memory not refused"
ok "URL over url_length: 414; headers over header_size (or over the connection memory): 431"

for i in 1 2 3 4; do expect_status 201 PUT "/n/d/k$i" -H 'Content-Type:' --data-binary @"$TEST_TMP/trickle.py"; done
[ "$(http PROPFIND /n/d/ -H 'Depth: 1')" = 507 ] || fail "PROPFIND over propfind_results not 507"
grep -q 'propfind_results' "$TEST_TMP/body" || fail "507 without reason"
ok "PROPFIND listing over propfind_results: 507 with a reason"
stop_server

# a stalled body is cut by idle_timeout
cat >"$TEST_TMP/idle.conf" <<CONF
limits = { idle_timeout = 1; };
namespaces = ( { name = "n"; read = [ "*" ]; write = [ "*" ]; } );
CONF
start_server "$TEST_TMP/data2" --config "$TEST_TMP/idle.conf"
t=$(python3 - "${URL##*:}" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
start = time.time()
s.sendall(b"PUT /n/stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
s.settimeout(10)
try:
    while s.recv(4096):
        pass
except (ConnectionResetError, socket.timeout):
    pass
print("%.1f" % (time.time() - start))
PY
)
awk -v t="$t" 'BEGIN { exit !(t < 4) }' || fail "stalled upload kept $t s, idle_timeout 1 s"
ok "a stalled upload: cut after $t s (idle_timeout 1 s)"
stop_server
