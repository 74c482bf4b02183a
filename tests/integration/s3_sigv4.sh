# The s3 tier against an endpoint that checks every request's Signature V4
# (sigv4_server.py: written separately from cstashd's signer, in Python).
# PUT, GET, HEAD, DELETE and the copy-in-place age refresh are all signed
# correctly, in path and virtual-host style, with a prefix that needs
# URI encoding; a wrong secret is refused and the PUT still succeeds.
source "$CS_SRCDIR/tests/lib.sh"

# start_endpoint URL LOG [CERT KEY]: sigv4_server.py on URL's port, ready
start_endpoint() {
    local url=$1 log=$2 port=${1##*:}
    shift 2
    python3 "$CS_SRCDIR/tests/integration/sigv4_server.py" "$port" AKIDTEST secretTEST eu-west-3 \
        "$@" 2>"$log" &
    EXTRA_PIDS+=("$!")
    for _ in $(seq 1 100); do
        curl -s --cacert "$TEST_TMP/ca/ca.pem" -o /dev/null "$url/_counts" && return 0
        sleep 0.05
    done
    cat "$log"
    fail "sigv4_server.py did not start on $url"
}
# counts_of URL NAME: one of the endpoint's counters
counts_of() { curl -s --cacert "$TEST_TMP/ca/ca.pem" "$1/_counts" | awk -v k="$2" '$1 == k { print $2 }'; }
# put KEY: PUTs the test body through the current server, prints the status
put() { curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/body" "$URL/default/$1"; }

SPORT=$(free_port)
S3=http://127.0.0.1:$SPORT
SIGV4_GET_DELAY=0.3 start_endpoint "$S3" "$TEST_TMP/sigv4.log"
count() { counts_of "$S3" "$1"; }

# conf NAME ENDPOINT PATH_STYLE SECRET
conf() {
    cat >"$TEST_TMP/$1.conf" <<EOF
data_dir = "$TEST_TMP/$1";
namespaces = ( { name = "default"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; },
              { type = "s3"; endpoint = "$2"; bucket = "cache"; region = "eu-west-3";
                prefix = "team a+b/"; access_key = "AKIDTEST"; secret_key = "$4";
                path_style = $3; refresh_age = "1s"; backoff = "1s"; } ); } );
EOF
}
tier() {
    curl -s "$URL/_/stats" | python3 -c '
import json, sys
print(json.load(sys.stdin)["tiers"][0][sys.argv[1]])' "$1"
}

head -c 50000 /dev/urandom >"$TEST_TMP/body"
conf a "$S3" true secretTEST
start_server "$TEST_TMP/a" -c "$TEST_TMP/a.conf"
for k in one two three; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/body" -H 'Content-Type: text/x-test' "$URL/default/k/$k")
    [ "$code" = 201 ] || fail "PUT $k: $code"
done
[ "$(count puts)" = 3 ] || { cat "$TEST_TMP/sigv4.log"; fail "the endpoint stored $(count puts) objects, expected 3"; }
[ "$(count bad_signature)" = 0 ] && [ "$(count bad_payload)" = 0 ] || { cat "$TEST_TMP/sigv4.log"; fail "requests with bad signatures"; }
ok "path style: 3 PUTs, each signed correctly, with the body's sha256 as the payload hash"

# connections are reused: 40 more PUTs (two client connections, two
# server threads) open at most a few connections to the endpoint
before=$(count connections)
for i in $(seq 1 20); do
    curl -s -o /dev/null -T "$TEST_TMP/body" "$URL/default/reuse/$i" &
    curl -s -o /dev/null -T "$TEST_TMP/body" "$URL/default/reuse/b$i"
    wait $!
done
[ "$(count puts)" = 43 ] || fail "the endpoint got $(count puts) PUTs, expected 43"
opened=$(( $(count connections) - before ))
[ "$opened" -le 4 ] || fail "40 PUTs opened $opened connections to the endpoint: not reused"
ok "40 write-throughs opened $opened connection(s) to the endpoint: connections are reused"

# an age refresh: a disk hit on an object older than refresh_age copies it in place, once
sleep 2.1
curl -sf -o /dev/null "$URL/default/k/one" || fail "GET one"
for i in $(seq 1 100); do [ "$(count copies)" = 1 ] && break; sleep 0.05; done
[ "$(count copies)" = 1 ] || { cat "$TEST_TMP/sigv4.log"; fail "no copy-in-place refresh after a hit on an old object"; }
curl -sf -o /dev/null "$URL/default/k/one" || fail "GET one again"
sleep 0.3
[ "$(count copies)" = 1 ] || fail "a second hit right after refreshed again"
[ "$(tier refreshes)" = 1 ] || fail "refreshes counted: $(tier refreshes)"
ok "a disk hit on an object older than refresh_age refreshes it in S3 once (signed CopyObject)"
stop_server

# a new instance reads them back: GET, HEAD, then DELETE
conf b "$S3" true secretTEST
start_server "$TEST_TMP/b" -c "$TEST_TMP/b.conf"
curl -sf -o "$TEST_TMP/got" -D "$TEST_TMP/headers" "$URL/default/k/one" || fail "GET one through B"
cmp -s "$TEST_TMP/got" "$TEST_TMP/body" || fail "body differs"
grep -qi '^Content-Type: text/x-test' "$TEST_TMP/headers" || fail "content type lost"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$URL/default/k/two")
[ "$code" = 200 ] || fail "HEAD two through B: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/default/k/three")
[ "$code" = 404 ] || fail "DELETE three (not on B's disk): $code"
stop_server
conf c "$S3" true secretTEST
start_server "$TEST_TMP/c" -c "$TEST_TMP/c.conf"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/default/k/three")
[ "$code" = 404 ] || fail "k/three is still in S3 after DELETE: $code"
[ "$(count bad_signature)" = 0 ] || { cat "$TEST_TMP/sigv4.log"; fail "requests with bad signatures"; }
ok "GET, HEAD and DELETE from another instance, all signed correctly; the content type is kept"

# Concurrent misses of one object (each S3 GET takes 0.3 s here): one fetch.
gets=$(count gets)
pids=()
for i in 1 2 3 4 5 6; do
    curl -sf -o "$TEST_TMP/got$i" "$URL/default/reuse/7" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent GET failed"; done
for i in 1 2 3 4 5 6; do cmp -s "$TEST_TMP/got$i" "$TEST_TMP/body" || fail "concurrent GET $i differs"; done
[ $(( $(count gets) - gets )) = 1 ] || fail "6 concurrent misses of one object made $(( $(count gets) - gets )) S3 GETs"
ok "6 concurrent misses of one object: one S3 GET, all 6 served"
stop_server

# virtual-host style: cache.s3.localhost (curl resolves *.localhost to loopback)
conf v "http://s3.localhost:$SPORT" false secretTEST
# keys in the config: a session token in the environment is not mixed in
AWS_SESSION_TOKEN=stray start_server "$TEST_TMP/v" -c "$TEST_TMP/v.conf"
curl -sf -o "$TEST_TMP/got" "$URL/default/k/two" || fail "GET two, vhost style"
cmp -s "$TEST_TMP/got" "$TEST_TMP/body" || fail "vhost body differs"
code=$(put k/vhost)
[ "$code" = 201 ] || fail "PUT vhost: $code"
[ "$(tier write_errors)" = 0 ] && [ "$(count bad_signature)" = 0 ] || { cat "$TEST_TMP/sigv4.log"; fail "vhost-style requests failed"; }
[ "$(count session_tokens)" = 0 ] || fail "a session token from the environment was sent with the config's keys"
ok "virtual-host style: GET and PUT signed with the bucket in the Host header"
stop_server

# credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when the
# config has none
conf e "$S3" true unused
sed -i '/access_key = /s/access_key = "AKIDTEST"; secret_key = "unused";//' "$TEST_TMP/e.conf"
grep -q access_key "$TEST_TMP/e.conf" && fail "test set-up: the config still names credentials"
AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secretTEST AWS_SESSION_TOKEN=token-from-sts \
    start_server "$TEST_TMP/e" -c "$TEST_TMP/e.conf"
code=$(put k/env)
[ "$code" = 201 ] || fail "PUT with credentials from the environment: $code"
[ "$(tier writes)" = 1 ] && [ "$(count bad_signature)" = 0 ] || fail "credentials from the environment were not used"
[ "$(count session_tokens)" = 1 ] || fail "AWS_SESSION_TOKEN was not sent (signed) as x-amz-security-token"
ok "credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN when the config names none"
stop_server

# a wrong secret: refused; the PUT succeeds on the disk all the same
conf w "$S3" true wrongSECRET
start_server "$TEST_TMP/w" -c "$TEST_TMP/w.conf"
code=$(put k/wrong)
[ "$code" = 201 ] || fail "PUT with a wrong secret: $code"
[ "$(count bad_signature)" = 1 ] || fail "the endpoint saw $(count bad_signature) bad signatures, expected 1"
[ "$(tier write_errors)" = 1 ] || fail "the refused write was not counted"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/default/k/two")
[ "$code" = 404 ] || fail "GET with a wrong secret: $code (a refused read is a miss)"
ok "a wrong secret is refused by the endpoint: the PUT is kept on the disk, a read is a miss, errors counted"
stop_server
# HTTPS: verified against the configured CA; without it the certificate is
# refused (verification is on by default) and the tier only fails.
make_test_ca "$TEST_TMP/ca"
TLS=https://127.0.0.1:$(free_port)
start_endpoint "$TLS" "$TEST_TMP/sigv4-tls.log" "$TEST_TMP/ca/server.pem" "$TEST_TMP/ca/server.key"
tcount() { counts_of "$TLS" "$1"; }
conf t "$TLS" true secretTEST
sed -i "s|refresh_age = \"1s\";|refresh_age = \"1s\"; ca_file = \"$TEST_TMP/ca/ca.pem\";|" "$TEST_TMP/t.conf"
start_server "$TEST_TMP/t" -c "$TEST_TMP/t.conf"
code=$(put k/tls)
[ "$code" = 201 ] || fail "PUT through an https s3 tier: $code"
[ "$(tcount puts)" = 1 ] && [ "$(tier write_errors)" = 0 ] || fail "the https endpoint did not get the object"
stop_server
conf u "$TLS" true secretTEST
start_server "$TEST_TMP/u" -c "$TEST_TMP/u.conf"
code=$(put k/untrusted)
[ "$code" = 201 ] || fail "PUT with an untrusted s3 certificate: $code"
[ "$(tcount puts)" = 1 ] || fail "an object was sent to an endpoint whose certificate is not trusted"
[ "$(tier write_errors)" = 1 ] || fail "the refused certificate was not counted"
ok "https: the endpoint's certificate is verified (ca_file trusts the test CA; without it, refused)"
stop_server
echo "all $CHECKS checks passed"
