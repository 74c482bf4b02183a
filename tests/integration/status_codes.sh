# Every status code of the object API, byte-exact bodies, and the headers
# clients rely on.
source "$CS_SRCDIR/tests/lib.sh"

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = (
  { name = "default"; read = [ "*" ]; write = [ "*" ]; },
  { name = "small"; max_blob_size = "1K"; read = [ "*" ]; write = [ "*" ]; },
  { name = "readonly"; read = [ "*" ]; },
  { name = "durable"; durable = true; read = [ "*" ]; write = [ "*" ]; }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"

expect_status 200 GET /_/health
[ "$(cat "$TEST_TMP/body")" = ok ] || fail "health body"
expect_status 404 GET /_/nothing
expect_status 405 PUT /_/health --data x
ok "admin space: /_/health 200, unknown endpoint 404, PUT 405"

expect_status 404 GET /default/ab/cdef
[ "$(cat "$TEST_TMP/body")" = "not found" ] || fail "miss body"
expect_status 404 HEAD /default/ab/cdef -I
ok "miss: GET and HEAD 404"

head -c 1000 /dev/urandom >"$TEST_TMP/small.bin"
head -c 300000 /dev/urandom >"$TEST_TMP/large.bin"
expect_status 201 PUT /default/ab/cdef --data-binary @"$TEST_TMP/small.bin"
expect_status 204 PUT /default/ab/cdef --data-binary @"$TEST_TMP/large.bin" -H 'Content-Type:'
expect_status 200 GET /default/ab/cdef
cmp -s "$TEST_TMP/body" "$TEST_TMP/large.bin" || fail "large body differs"
[ "$(header Content-Length)" = 300000 ] || fail "Content-Length $(header Content-Length)"
[ "$(header Content-Type)" = application/octet-stream ] || fail "Content-Type"
expect_status 201 PUT /default/small/obj --data-binary @"$TEST_TMP/small.bin"
expect_status 200 GET /default/small/obj
cmp -s "$TEST_TMP/body" "$TEST_TMP/small.bin" || fail "small body differs"
ok "PUT 201 new, 204 overwrite; GET 200 byte-exact (small and sendfile paths)"

expect_status 200 HEAD /default/ab/cdef -I
[ "$(header Content-Length)" = 300000 ] || fail "HEAD Content-Length"
# with -I curl writes the headers as its output: anything more would be a body
cmp -s "$TEST_TMP/body" "$TEST_TMP/headers" || fail "HEAD sent a body"
ok "HEAD: same headers, no body"

expect_status 201 PUT /default/empty --data-binary ''
expect_status 200 GET /default/empty
[ ! -s "$TEST_TMP/body" ] && [ "$(header Content-Length)" = 0 ] || fail "empty object"
ok "empty object round-trips"

expect_status 204 DELETE /default/ab/cdef
expect_status 404 DELETE /default/ab/cdef
expect_status 404 GET /default/ab/cdef
ok "DELETE 204, then 404"

expect_status 404 GET /nosuchns/key
grep -q "unknown namespace 'nosuchns'" "$TEST_TMP/body" || fail "unknown namespace reason"
expect_status 404 GET /
expect_status 400 GET /default/
ok "unknown namespace 404 with a reason; no key 400"

expect_status 405 POST /default/key --data x
[ "$(header Allow)" = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, MKCOL, COPY, MOVE" ] || fail "Allow: $(header Allow)"
expect_status 405 PATCH /default/key
ok "unsupported method 405 with Allow"

# PUT with no Content-Length and no chunked encoding
code=$(printf 'PUT /default/nolen HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
       curl -s --max-time 5 telnet://127.0.0.1:"${URL##*:}" | head -n 1 | cut -d' ' -f2) || true
[ "$code" = 411 ] || fail "PUT without length: $code"
ok "PUT without Content-Length 411"

head -c 2048 /dev/urandom >"$TEST_TMP/2k.bin"
expect_status 413 PUT /small/k --data-binary @"$TEST_TMP/2k.bin"
grep -q "max_blob_size" "$TEST_TMP/body" || fail "413 reason"
expect_status 413 PUT /small/k --data-binary @"$TEST_TMP/2k.bin" -H 'Expect: 100-continue'
grep -q "100 Continue" "$TEST_TMP/headers" && fail "sent 100 Continue before refusing"
expect_status 413 PUT /small/k --data-binary @"$TEST_TMP/2k.bin" -H 'Transfer-Encoding: chunked'
expect_status 404 GET /small/k
expect_status 201 PUT /small/k --data-binary @"$TEST_TMP/small.bin" -H 'Expect: 100-continue'
grep -q "100 Continue" "$TEST_TMP/headers" || fail "no 100 Continue for an accepted body"
ok "over max_blob_size: 413 before the body (Expect: 100-continue), also chunked; nothing stored"

# a 2 GiB Content-Length on the 1 GiB default: refused at once, not after 2 GiB
code=$(printf 'PUT /default/huge HTTP/1.1\r\nHost: x\r\nContent-Length: 2147483648\r\nExpect: 100-continue\r\n\r\n' |
       curl -s --max-time 5 telnet://127.0.0.1:"${URL##*:}" | head -n 1 | cut -d' ' -f2) || true
[ "$code" = 413 ] || fail "2 GiB Content-Length: $code"
ok "default max_blob_size 1 GiB"

expect_status 404 GET /readonly/x
expect_status 401 PUT /readonly/x --data-binary y
[ -n "$(header WWW-Authenticate)" ] || fail "401 without WWW-Authenticate"
expect_status 401 DELETE /readonly/x
ok "namespace without write access: 401 with WWW-Authenticate"

expect_status 201 PUT /durable/a/b --data-binary @"$TEST_TMP/small.bin"
expect_status 200 GET /durable/a/b
cmp -s "$TEST_TMP/body" "$TEST_TMP/small.bin" || fail "durable body"
ok "durable namespace stores and serves"

# keep-alive: several requests reuse one connection
curl -sv -o /dev/null -o /dev/null -o /dev/null "$URL/default/small/obj" "$URL/default/missing" \
    "$URL/_/health" 2>"$TEST_TMP/kv" || true
[ "$(grep -c 'Re-using existing connection' "$TEST_TMP/kv")" = 2 ] || fail "keep-alive not kept"
ok "keep-alive across hit, miss and health"

# the same key in two namespaces is two objects
expect_status 201 PUT /durable/same --data-binary one
expect_status 201 PUT /default/same --data-binary two
expect_status 200 GET /durable/same
[ "$(cat "$TEST_TMP/body")" = one ] || fail "namespaces share objects"
ok "namespaces are separate key spaces"
