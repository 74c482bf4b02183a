# Storage tiers with real backends: redis-server (Debian) and s3rver
# (npm, checks SigV4 signatures). Two cstashd instances with their own data
# dirs share one redis and one bucket:
#   - PUT through A writes through to redis (small objects only) and s3;
#     GET through B (empty disk) is served from them and lands on B's disk;
#   - an object only in s3 fills redis on the way back;
#   - ccache through A, then through B with an empty local cache: remote hits;
#   - a wrong S3 secret is refused by s3rver: PUTs still succeed locally;
#   - vhost-style addressing, redis ttl, password, db and unix socket;
#   - http tiers in front of another cstashd (with a token) and nginx WebDAV.
source "$CS_SRCDIR/tests/lib.sh"

command -v redis-cli >/dev/null || fail "redis-cli is not installed (scripts/deps.sh test installs redis-server)"
command -v ccache >/dev/null || fail "ccache is not installed"
command -v nginx >/dev/null || fail "nginx is not installed (scripts/deps.sh test installs it)"

RPORT=$(free_port)
SPORT=$(free_port)
start_redis "$RPORT"
start_s3rver "$SPORT" "$TEST_TMP/s3" cache

# conf FILE DATA_DIR [EXTRA NAMESPACES]: namespace "default" with disk,
# redis (64K cap, 1 h ttl) and s3 (path style), all open to anyone.
conf() {
    cat >"$1" <<EOF
data_dir = "$2";
namespaces = (
  { name = "default"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; },
              { type = "redis"; url = "redis://127.0.0.1:$RPORT/0"; max_object_size = "64K";
                ttl = "1h"; timeout = "1s"; connect_timeout = "1s"; backoff = "1s"; },
              { type = "s3"; endpoint = "http://127.0.0.1:$SPORT"; bucket = "cache";
                region = "us-east-1"; prefix = "team-a/"; access_key = "S3RVER";
                secret_key = "S3RVER"; path_style = true; timeout = "2s"; backoff = "1s"; } ); }${3:-}
);
EOF
}

# tier URL NS INDEX FIELD: one figure of a remote tier from /_/stats.
tier() {
    curl -s "$1/_/stats" | python3 -c '
import json, sys
ns, idx, field = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for t in json.load(sys.stdin)["tiers"]:
    if t["namespace"] == ns and t["tier"] == idx:
        print(t[field])' "$2" "$3" "$4"
}

# wait_for CMD...: up to 10 s for CMD to succeed.
wait_for() {
    local i
    for i in $(seq 1 200); do
        "$@" && return 0
        sleep 0.05
    done
    return 1
}

redis_keys() { redis-cli -p "$RPORT" --scan --pattern "$1" | wc -l; }
# redis_keys_are PATTERN N: a command for wait_for, so that the count is
# taken again on each try (the fill behind a hit is asynchronous).
redis_keys_are() { [ "$(redis_keys "$1")" = "$2" ]; }
s3_objects() { find "$TEST_TMP/s3/cache" -name '*._S3rver_object' 2>/dev/null | wc -l; }

head -c 20000 /dev/urandom >"$TEST_TMP/small"
head -c 300000 /dev/urandom >"$TEST_TMP/large"

conf "$TEST_TMP/a.conf" "$TEST_TMP/a"
start_server "$TEST_TMP/a" -c "$TEST_TMP/a.conf"
A_URL=$URL A_PID=$SERVER_PID
EXTRA_PIDS+=("$A_PID")
SERVER_PID=""

code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/small" -H 'Content-Type: application/x-small' "$A_URL/default/obj/small")
[ "$code" = 201 ] || fail "PUT small through A: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/large" "$A_URL/default/obj/large")
[ "$code" = 201 ] || fail "PUT large through A: $code"
[ "$(redis_keys 'cstash:default:*')" = 1 ] || fail "redis holds $(redis_keys 'cstash:default:*') keys, expected 1 (the large object is over max_object_size)"
[ "$(s3_objects)" = 2 ] || fail "the bucket holds $(s3_objects) objects, expected 2"
[ "$(tier "$A_URL" default 1 too_large)" = 1 ] || fail "redis tier did not count the large object as too large"
key=$(redis-cli -p "$RPORT" --scan --pattern 'cstash:default:*')
ttl=$(redis-cli -p "$RPORT" ttl "$key")
[ "$ttl" -gt 3500 ] && [ "$ttl" -le 3600 ] || fail "redis key ttl is $ttl, expected about 3600"
find "$TEST_TMP/s3/cache/team-a" -name '*._S3rver_object' | grep -q . || fail "objects are not under the prefix team-a/"
ok "PUT through A: written through to redis (small only, with ttl) and to s3 under the prefix"

conf "$TEST_TMP/b.conf" "$TEST_TMP/b"
start_server "$TEST_TMP/b" -c "$TEST_TMP/b.conf"
B_URL=$URL
curl -sf -o "$TEST_TMP/got" -D "$TEST_TMP/headers" "$B_URL/default/obj/small" || fail "GET small through B failed"
cmp -s "$TEST_TMP/got" "$TEST_TMP/small" || fail "small object through B differs"
grep -qi "^Content-Type: application/x-small" "$TEST_TMP/headers" || fail "content type lost on the way through redis"
curl -sf -o "$TEST_TMP/got" "$B_URL/default/obj/large" || fail "GET large through B failed"
cmp -s "$TEST_TMP/got" "$TEST_TMP/large" || fail "large object through B differs"
[ "$(tier "$B_URL" default 1 hits)" = 1 ] || fail "B: redis hits = $(tier "$B_URL" default 1 hits), expected 1"
[ "$(tier "$B_URL" default 2 hits)" = 1 ] || fail "B: s3 hits = $(tier "$B_URL" default 2 hits), expected 1"
[ "$(count_files "$TEST_TMP/b/objects")" = 2 ] || fail "B's disk holds $(count_files "$TEST_TMP/b/objects") objects after the reads, expected 2"
curl -s "$B_URL/_/metrics" >"$TEST_TMP/metrics"
grep -q '^cstash_tier_hits_total{namespace="default",tier="1",type="redis"} 1$' "$TEST_TMP/metrics" || fail "redis tier hits missing from /_/metrics"
grep -q '^cstash_tier_out_of_path{namespace="default",tier="2",type="s3"} 0$' "$TEST_TMP/metrics" || fail "s3 tier state missing from /_/metrics"
ok "GET through B with an empty disk: served from redis and s3, both now on B's disk"

# An object only in s3 (redis flushed): served, and redis is filled behind it.
redis-cli -p "$RPORT" flushall >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/small" "$A_URL/default/obj/only-s3")
[ "$code" = 201 ] || fail "PUT only-s3: $code"
redis-cli -p "$RPORT" flushall >/dev/null
curl -sf -o "$TEST_TMP/got" "$B_URL/default/obj/only-s3" || fail "GET only-s3 through B failed"
cmp -s "$TEST_TMP/got" "$TEST_TMP/small" || fail "only-s3 object differs"
wait_for redis_keys_are 'cstash:default:*' 1 || fail "redis was not filled after an s3 hit"
[ "$(tier "$B_URL" default 1 fills)" = 1 ] || fail "B: redis fills = $(tier "$B_URL" default 1 fills)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$B_URL/default/obj/never-stored")
[ "$code" = 404 ] || fail "a key no tier has: $code"
ok "an object only in s3: served through B, then filled into redis in the background; a key nowhere is 404"

# HEAD and DELETE across tiers.
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$A_URL/default/obj/large")
[ "$code" = 204 ] || fail "DELETE through A: $code"
[ "$(s3_objects)" = 2 ] || fail "the bucket still holds $(s3_objects) objects after DELETE, expected 2"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$B_URL/default/obj/large")
[ "$code" = 204 ] || fail "DELETE through B (disk copy): $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$B_URL/default/obj/large")
[ "$code" = 404 ] || fail "HEAD after DELETE on every tier: $code"
ok "DELETE removes the object from disk, redis and s3"

stop_server
# ccache through A, then through B with an empty local cache and an empty B disk.
rm -rf "$TEST_TMP/b"
start_server "$TEST_TMP/b" -c "$TEST_TMP/b.conf"
B_URL=$URL
mkdir -p "$TEST_TMP/src"
for i in $(seq 1 8); do
    printf '#include <stdio.h>\nint unit%d(int x) { printf("%%d\\n", x); return x * %d; }\n' "$i" "$i" >"$TEST_TMP/src/u$i.c"
done
ccbuild() { # ccbuild REMOTE CCACHE_DIR
    local i
    export CCACHE_DIR=$2 CCACHE_CONFIGPATH="$2.conf" CCACHE_REMOTE_STORAGE="$1/default"
    : >"$CCACHE_CONFIGPATH"
    ccache -z >/dev/null
    for i in $(seq 1 8); do
        (cd "$TEST_TMP/src" && ccache gcc -O2 -c "u$i.c" -o "u$i.o")
    done
}
ccstat() { ccache --print-stats | awk -v k="$1" '$1 == k { print $2 }'; }
ccbuild "$A_URL" "$TEST_TMP/cc-a"
[ "$(ccstat cache_miss)" = 8 ] || fail "ccache via A: $(ccstat cache_miss) misses, expected 8"
[ "$(ccstat remote_storage_write)" = 16 ] || fail "ccache via A: $(ccstat remote_storage_write) remote writes"
ccbuild "$B_URL" "$TEST_TMP/cc-b"
[ "$(ccstat remote_storage_hit)" = 8 ] || fail "ccache via B: $(ccstat remote_storage_hit) remote hits, expected 8"
[ "$(ccstat cache_miss)" = 0 ] || fail "ccache via B: $(ccstat cache_miss) misses"
ok "ccache through A, then through B (empty local cache, empty B disk): 8 remote hits"

# vhost-style addressing against the same bucket: cache.s3.localhost:port
# (curl resolves *.localhost to loopback; s3rver takes <bucket>.s3.<endpoint>).
stop_server
cat >"$TEST_TMP/v.conf" <<EOF
data_dir = "$TEST_TMP/v";
namespaces = ( { name = "default"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; },
              { type = "s3"; endpoint = "http://s3.localhost:$SPORT"; bucket = "cache";
                prefix = "team-a/"; access_key = "S3RVER"; secret_key = "S3RVER"; } ); } );
EOF
start_server "$TEST_TMP/v" -c "$TEST_TMP/v.conf"
curl -sf -o "$TEST_TMP/got" "$URL/default/obj/small" || fail "GET through a vhost-style s3 tier failed"
cmp -s "$TEST_TMP/got" "$TEST_TMP/small" || fail "vhost-style read differs"
[ "$(tier "$URL" default 1 hits)" = 1 ] || fail "vhost: s3 hits = $(tier "$URL" default 1 hits)"
ok "virtual-host-style addressing (cache.s3.localhost) reads what path style wrote"
stop_server

# Unknown credentials: s3rver refuses them (403); the PUT still succeeds
# locally. (s3rver checks the access key but not the V4 signature itself:
# sigv4_server.py and test_sigv4 check those.)
sed 's/access_key = "S3RVER"/access_key = "NOBODY"/' "$TEST_TMP/a.conf" >"$TEST_TMP/w.conf"
sed -i "s|data_dir = .*|data_dir = \"$TEST_TMP/w\";|" "$TEST_TMP/w.conf"
start_server "$TEST_TMP/w" -c "$TEST_TMP/w.conf"
before=$(s3_objects)
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/small" "$URL/default/obj/wrong-secret")
[ "$code" = 201 ] || fail "PUT with a failing s3 tier: $code"
[ "$(tier "$URL" default 2 write_errors)" = 1 ] || fail "refused credentials were not counted as a write error"
[ "$(s3_objects)" = "$before" ] || fail "s3rver stored an object sent with unknown credentials"
curl -sf -o /dev/null "$URL/default/obj/wrong-secret" || fail "the object is not on the local disk"
ok "unknown S3 credentials: s3rver refuses them, the PUT is kept locally and the error counted"
stop_server

# Redis with a password and a database number, and redis on a unix socket.
APORT=$(free_port)
start_redis "$APORT" --requirepass s3cret
redis-server --port 0 --unixsocket "$TEST_TMP/redis.sock" --unixsocketperm 700 --save '' \
    --appendonly no --dir "$TEST_TMP" >"$TEST_TMP/redis-sock.log" 2>&1 &
EXTRA_PIDS+=("$!")
wait_for test -S "$TEST_TMP/redis.sock" || fail "redis on a unix socket did not start"
cat >"$TEST_TMP/r.conf" <<EOF
data_dir = "$TEST_TMP/rdata";
namespaces = (
  { name = "auth"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; }, { type = "redis"; url = "redis://:s3cret@127.0.0.1:$APORT/3"; } ); },
  { name = "sock"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; }, { type = "redis"; url = "unix://$TEST_TMP/redis.sock"; prefix = "s:"; } ); },
  { name = "nopass"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; }, { type = "redis"; url = "redis://127.0.0.1:$APORT/3"; } ); }
);
EOF
start_server "$TEST_TMP/rdata" -c "$TEST_TMP/r.conf"
for ns in auth sock nopass; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/small" "$URL/$ns/x")
    [ "$code" = 201 ] || fail "PUT $ns/x: $code"
done
[ "$(redis-cli -p "$APORT" -a s3cret --no-auth-warning -n 3 --scan --pattern 'cstash:auth:*' | wc -l)" = 1 ] || fail "the password-protected redis (db 3) did not get the object"
[ "$(redis-cli -s "$TEST_TMP/redis.sock" --scan --pattern 's:*' | wc -l)" = 1 ] || fail "redis on the unix socket did not get the object (prefix s:)"
curl -s "$URL/_/stats" | python3 -c '
import json, sys
t = {x["namespace"]: x for x in json.load(sys.stdin)["tiers"]}
assert t["auth"]["writes"] == 1 and t["sock"]["writes"] == 1, t
assert t["nopass"]["writes"] == 0 and t["nopass"]["write_errors"] == 1, t["nopass"]' \
    || fail "tier counters: a redis without the password must fail, the others succeed"
ok "redis: password and database number in the url, unix socket, key prefix; a missing password is a counted error"
stop_server

# An http tier: B reads and writes through A's namespace "team", which
# needs a token.
TOKEN=tiers-test-token
H=$(printf %s "$TOKEN" | "$CSTASHD" hash-token)
cat >"$TEST_TMP/up.conf" <<EOF
data_dir = "$TEST_TMP/up";
users = ( { name = "ci"; token_sha256 = "$H"; } );
namespaces = ( { name = "team"; read = ["ci"]; write = ["ci"]; } );
EOF
start_server "$TEST_TMP/up" -c "$TEST_TMP/up.conf"
UP_URL=$URL UP_PID=$SERVER_PID
EXTRA_PIDS+=("$UP_PID")
SERVER_PID=""
cat >"$TEST_TMP/h.conf" <<EOF
data_dir = "$TEST_TMP/hdata";
namespaces = ( { name = "default"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; }, { type = "http"; url = "$UP_URL/team"; token = "$TOKEN"; } ); } );
EOF
start_server "$TEST_TMP/hdata" -c "$TEST_TMP/h.conf"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/small" "$URL/default/ac/abc")
[ "$code" = 201 ] || fail "PUT through the http tier: $code"
curl -sf -H "Authorization: Bearer $TOKEN" -o "$TEST_TMP/got" "$UP_URL/team/ac/abc" || fail "the upstream does not have the object under its key"
cmp -s "$TEST_TMP/got" "$TEST_TMP/small" || fail "upstream copy differs"
curl -sf -H "Authorization: Bearer $TOKEN" -T "$TEST_TMP/large" "$UP_URL/team/cas/only-upstream" -o /dev/null || fail "PUT to the upstream"
curl -sf -o "$TEST_TMP/got" "$URL/default/cas/only-upstream" || fail "GET through the http tier failed"
cmp -s "$TEST_TMP/got" "$TEST_TMP/large" || fail "object read through the http tier differs"
[ "$(tier "$URL" default 1 hits)" = 1 ] || fail "http tier hits = $(tier "$URL" default 1 hits)"
ok "http tier: writes through to another cstashd with a token, and reads back what only it has"
stop_server

# An http tier in front of nginx's WebDAV module (create_full_put_path).
NPORT=$(free_port)
mkdir -p "$TEST_TMP/ngx/data" "$TEST_TMP/ngx/tmp"
cat >"$TEST_TMP/ngx/nginx.conf" <<EOF
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
master_process off; # one process: stopping it by PID stops nginx
pid $TEST_TMP/ngx/nginx.pid;
error_log $TEST_TMP/ngx/error.log warn;
daemon off;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $TEST_TMP/ngx/tmp/body;
    proxy_temp_path $TEST_TMP/ngx/tmp/proxy;
    fastcgi_temp_path $TEST_TMP/ngx/tmp/fcgi;
    uwsgi_temp_path $TEST_TMP/ngx/tmp/uwsgi;
    scgi_temp_path $TEST_TMP/ngx/tmp/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        root $TEST_TMP/ngx/data;
        location / {
            dav_methods PUT DELETE;
            create_full_put_path on;
            client_max_body_size 0;
        }
    }
}
EOF
nginx -p "$TEST_TMP/ngx" -c "$TEST_TMP/ngx/nginx.conf" 2>"$TEST_TMP/ngx/start.log" &
EXTRA_PIDS+=("$!")
wait_for curl -s -o /dev/null "http://127.0.0.1:$NPORT/" || { cat "$TEST_TMP/ngx/start.log"; fail "nginx did not start"; }
cat >"$TEST_TMP/n.conf" <<EOF
data_dir = "$TEST_TMP/ndata";
namespaces = ( { name = "default"; read = ["*"]; write = ["*"]; admin = ["*"];
    tiers = ( { type = "disk"; }, { type = "http"; url = "http://127.0.0.1:$NPORT/cache/"; } ); } );
EOF
start_server "$TEST_TMP/ndata" -c "$TEST_TMP/n.conf"
code=$(curl -s -o /dev/null -w '%{http_code}' -T "$TEST_TMP/large" "$URL/default/ab/cdef0123")
[ "$code" = 201 ] || fail "PUT through an nginx http tier: $code"
cmp -s "$TEST_TMP/ngx/data/cache/ab/cdef0123" "$TEST_TMP/large" || fail "nginx does not hold the object at cache/ab/cdef0123"
stop_server
rm -rf "$TEST_TMP/ndata"
start_server "$TEST_TMP/ndata" -c "$TEST_TMP/n.conf"
curl -sf -o "$TEST_TMP/got" "$URL/default/ab/cdef0123" || fail "GET through the nginx http tier"
cmp -s "$TEST_TMP/got" "$TEST_TMP/large" || fail "object read back from nginx differs"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/default/ab/cdef0123")
[ "$code" = 204 ] || fail "DELETE through the nginx http tier: $code"
[ ! -e "$TEST_TMP/ngx/data/cache/ab/cdef0123" ] || fail "DELETE did not reach nginx"
ok "http tier in front of nginx WebDAV: written through under its key, read back with an empty disk, deleted"
stop_server

echo "all $CHECKS checks passed"
