# Bazel (Debian's bazel-bootstrap) with --remote_cache pointing at cstashd:
# genrules and a cc_binary; build, `bazel clean --expunge`, rebuild: every
# action is a remote cache hit.
source "$CS_SRCDIR/tests/lib.sh"

command -v bazel >/dev/null || fail "bazel is not installed (scripts/deps.sh test installs bazel-bootstrap)"
start_server "$TEST_TMP/data" --log-level debug

ws=$TEST_TMP/ws
mkdir -p "$ws"
cp -r "$CS_SRCDIR/tests/e2e/bazel/standin" "$ws/"
cat >"$ws/WORKSPACE" <<'BZL'
local_repository(name = "rules_cc", path = "standin/rules_cc")
local_repository(name = "rules_java", path = "standin/rules_java")
BZL
cat >"$ws/BUILD" <<'BZL'
genrule(name = "a", outs = ["a.txt"], cmd = "echo alpha > $@")
genrule(name = "b", srcs = [":a"], outs = ["b.txt"], cmd = "cat $(location :a) > $@; echo beta >> $@")
genrule(name = "big", outs = ["big.bin"], cmd = "head -c 3000000 /dev/zero | tr '\\0' x > $@")
cc_library(name = "greet", srcs = ["greet.c"], hdrs = ["greet.h"])
cc_binary(name = "hello", srcs = ["hello.c"], deps = [":greet"])
BZL
printf 'const char *greeting(void);\n' >"$ws/greet.h"
printf '#include "greet.h"\nconst char *greeting(void) { return "hello from bazel"; }\n' >"$ws/greet.c"
printf '#include <stdio.h>\n#include "greet.h"\nint main(void) { puts(greeting()); return 0; }\n' >"$ws/hello.c"

# --batch: no Bazel server is left running; its output base stays in the temp
# dir. The system rc stays on: Debian sets the install base there.
# startup=(…) adds startup options (a JVM trust store for HTTPS).
startup=()
bz() {
    (cd "$ws" && timeout 900 bazel --batch --nohome_rc \
        --output_user_root="$TEST_TMP/bazel-root" "${startup[@]}" "$@") >"$TEST_TMP/bazel.out" 2>&1 \
        || { tail -n 40 "$TEST_TMP/bazel.out"; fail "bazel $1 failed"; }
}
targets=(//:b //:big //:hello)
flags=(--remote_cache="$URL/default" --spawn_strategy=local --color=no --curses=no)

bz build "${flags[@]}" "${targets[@]}"
cold=$(grep -o 'INFO: [0-9]* processes: .*' "$TEST_TMP/bazel.out" | tail -n 1)
echo "cold: $cold"
run=$(echo "$cold" | grep -o '[0-9]* local' | cut -d' ' -f1)
[ "${run:-0}" -ge 5 ] || fail "cold build ran ${run:-0} actions, expected at least 5"
"$ws/bazel-bin/hello" | grep 'hello from bazel' >/dev/null || fail "built binary does not run"
grep -q 'PUT /default/cas/[0-9a-f]\{64\}: 201' "$SERVER_LOG" || fail "no CAS upload seen"
grep -q 'PUT /default/ac/[0-9a-f]\{64\}: 201' "$SERVER_LOG" || fail "no AC upload seen"
ok "cold build: $run actions ran and were uploaded (CAS verified, AC stored)"

bz clean --expunge
bz build "${flags[@]}" "${targets[@]}"
warm=$(grep -o 'INFO: [0-9]* processes: .*' "$TEST_TMP/bazel.out" | tail -n 1)
echo "warm: $warm"
hits=$(echo "$warm" | grep -o '[0-9]* remote cache hit' | cut -d' ' -f1)
[ "${hits:-0}" = "$run" ] || fail "warm build: ${hits:-0} remote cache hits, want $run ($warm)"
echo "$warm" | grep -q ' local' && fail "warm build still ran actions locally: $warm"
"$ws/bazel-bin/hello" | grep 'hello from bazel' >/dev/null || fail "binary from the cache does not run"
cmp -s "$ws/bazel-bin/big.bin" <(head -c 3000000 /dev/zero | tr '\0' x) || fail "big.bin from the cache differs"
grep -q 'GET /default/ac/[0-9a-f]\{64\}: 200' "$SERVER_LOG" || fail "no AC hit seen"
ok "after clean --expunge: $hits of $run actions were remote cache hits"
# the metrics tell the action cache from the CAS (bazel-remote#478)
curl -sS --max-time 10 -o "$TEST_TMP/metrics" "$URL/_/metrics" || fail "GET /_/metrics"
[ "$(kind_count default ac hits "$TEST_TMP/metrics")" = "$hits" ] &&
    [ "$(kind_count default ac misses "$TEST_TMP/metrics")" -ge 1 ] &&
    [ "$(kind_count default cas hits "$TEST_TMP/metrics")" -ge 1 ] &&
    [ "$(kind_count default other hits "$TEST_TMP/metrics")" = 0 ] &&
    [ "$(kind_count default other misses "$TEST_TMP/metrics")" = 0 ] ||
    fail "kinds: $(grep '^cstash_kind_' "$TEST_TMP/metrics" | grep -v ' 0$' | tr '\n' ' ')"
ok "metrics: $hits AC hits (one per action) apart from CAS hits, nothing else"
stop_server

# In a namespace that needs credentials: Basic in the URL (Bazel encodes
# it with the URL-safe base64 alphabet) fills the cache, a bearer
# --remote_header gets every action as a hit, a wrong secret gets none and
# the build still succeeds.
team_conf "$TEST_TMP/auth.conf" bz bz-token bz-pass
start_server "$TEST_TMP/data-auth" --config "$TEST_TMP/auth.conf" --log-level debug
hostport=${URL#http://}
auth_flags=(--spawn_strategy=local --color=no --curses=no)

# credential_builds SCHEME FLAGS...: Basic in the URL uploads, then a
# bearer header gets every action as a hit; sets hits.
credential_builds() {
    local scheme=$1 warm
    shift
    bz clean --expunge
    bz build --remote_cache="$scheme://bz:bz-pass@$hostport/team" "$@" "${targets[@]}"
    grep -q 'PUT /team/ac/[0-9a-f]\{64\}: 201' "$SERVER_LOG" || fail "$scheme: no upload with Basic in the URL"
    bz clean --expunge
    bz build --remote_cache="$scheme://$hostport/team" --remote_header="Authorization=Bearer bz-token" \
        "$@" "${targets[@]}"
    warm=$(grep -o 'INFO: [0-9]* processes: .*' "$TEST_TMP/bazel.out" | tail -n 1)
    hits=$(echo "$warm" | grep -o '[0-9]* remote cache hit' | cut -d' ' -f1)
    [ "${hits:-0}" = "$run" ] || fail "$scheme + bearer: ${hits:-0} remote cache hits, want $run ($warm)"
}
credential_builds http "${auth_flags[@]}"
ok "Basic in the URL uploads, a bearer --remote_header gets $hits of $run hits"
bz clean --expunge
bz build --remote_cache="http://$hostport/team" --remote_header="Authorization=Bearer wrong" \
    "${auth_flags[@]}" "${targets[@]}"
wrong=$(grep -o 'INFO: [0-9]* processes: .*' "$TEST_TMP/bazel.out" | tail -n 1)
echo "$wrong" | grep -q 'remote cache hit' && fail "a wrong token got hits: $wrong"
"$ws/bazel-bin/hello" | grep 'hello from bazel' >/dev/null || fail "build with a wrong token broken"
grep -q 'GET /team/ac/[0-9a-f]\{64\}: 401' "$SERVER_LOG" || fail "no 401 for the wrong token"
ok "a wrong token: no hits (401), the build still succeeds"
stop_server

# Over HTTPS, with a CA made here. Bazel's HTTP cache client (Netty) builds
# its TLS context from the JVM's trust store and ignores --tls_certificate
# (that flag only reaches the gRPC client), so the CA goes into a PKCS#12
# trust store given to Bazel's JVM; --tls_certificate is passed as well, as a
# user would. Without the trust store the handshake fails and the build
# still succeeds with no remote cache.
ca=$TEST_TMP/ca
make_test_ca "$ca"
keytool -importcert -noprompt -alias cstash-test-ca -file "$ca/ca.pem" -storetype PKCS12 \
    -keystore "$ca/trust.p12" -storepass cstash-test >/dev/null 2>&1 || fail "keytool could not import the test CA"
{ cat "$TEST_TMP/auth.conf"; printf 'tls_cert = "%s";\ntls_key = "%s";\n' "$ca/server.pem" "$ca/server.key"; } >"$TEST_TMP/tls.conf"
start_server "$TEST_TMP/data-tls" --config "$TEST_TMP/tls.conf" --listen https://127.0.0.1:0 --log-level debug
hostport=${URL#https://}
tls_flags=(--tls_certificate="$ca/ca.pem" "${auth_flags[@]}")

bz clean --expunge
bz build --remote_cache="https://bz:bz-pass@$hostport/team" "${tls_flags[@]}" "${targets[@]}"
grep -q 'PUT /team/ac/' "$SERVER_LOG" && fail "an upload succeeded although Bazel's JVM does not trust the CA"
"$ws/bazel-bin/hello" | grep 'hello from bazel' >/dev/null || fail "build against an untrusted HTTPS cache broken"
grep -q 'TLS handshake failed.*does not trust the certificate' "$SERVER_LOG" || fail "the failed handshake is not explained in the log"
ok "an untrusted certificate: no upload, the build still succeeds"

startup=(--host_jvm_args=-Djavax.net.ssl.trustStore="$ca/trust.p12"
         --host_jvm_args=-Djavax.net.ssl.trustStorePassword=cstash-test)
credential_builds https "${tls_flags[@]}"
ok "HTTPS: Basic in the URL uploads, a bearer header gets $hits of $run hits"
stop_server
