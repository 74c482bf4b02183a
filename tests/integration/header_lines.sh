# The connection memory (32 KiB at the default limits.header_size) holds
# the header block and a record of libmicrohttpd's per header line and
# query argument. Pins what fits with the embedded default config: 200
# header lines and 300 query arguments are served (clients send a few
# dozen); more lines than the memory holds get 431.
# shellcheck source=../lib.sh
. "$CS_SRCDIR/tests/lib.sh"

start_server "$TEST_TMP/data"
[ "$(http PUT /default/ab/x -d hello)" = 201 ] || fail "PUT"

hdrs=()
for i in $(seq 1 200); do hdrs+=(-H "X-Header-$i: $(printf '%040d' "$i")"); done
[ "$(http GET /default/ab/x "${hdrs[@]}")" = 200 ] || fail "GET with 200 header lines (11 KB): $(cat "$TEST_TMP/body")"
[ "$(cat "$TEST_TMP/body")" = hello ] || fail "GET with 200 header lines: wrong body"
ok "200 header lines of 11 KB are served"

q=$(for i in $(seq 1 300); do printf 'a%d=1&' "$i"; done)
[ "$(http GET "/default/ab/x?${q%&}")" = 200 ] || fail "GET with 300 query arguments"
ok "300 query arguments are served"

# 1,500 header lines of about 10 bytes: 14 KB, under header_size by bytes,
# over the connection memory by records: libmicrohttpd answers 431 (not a
# hang until header_timeout), and the server goes on.
hdrs=()
for i in $(seq 1 1500); do hdrs+=(-H "H$i: v"); done
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${hdrs[@]}" "$URL/default/ab/x") || true
[ "$code" = 431 ] || fail "1,500 header lines: $code, want 431"
[ "$(http GET /default/ab/x)" = 200 ] || fail "the server does not answer after the refused request"
ok "1,500 header lines (over the connection memory): 431, and the server goes on"
