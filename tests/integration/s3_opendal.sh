# npm opendal 0.47.11's s3 service (what sccache >= 0.4 uses) in sccache's
# order (tests/integration/s3_opendal.js): the .sccache_check probe (404,
# then a PUT that must answer 200), 20 GET misses and PUTs under
# prefix/h0/h1/h2/<64 hex>, then a second run where every GET hits and the
# re-PUT of the probe succeeds. Signed (alice, team-a) and anonymous (no
# credentials at all, bucket public) on the s3:// listener, and signed on
# the ordinary HTTP port.
source "$CS_SRCDIR/tests/lib.sh"

command -v node >/dev/null || fail "node is not installed (scripts/deps.sh test installs nodejs)"
mods=$(opendal_modules) || exit 1   # fails the test, with npm's log, when npm cannot install it
s3_start srv
s3_env anonymous   # no AWS_* credentials in the environment: the anonymous run must not find any
run() { NODE_PATH="$mods" node "$CS_SRCDIR/tests/integration/s3_opendal.js" "$@"; }

out=$(run "$S3URL" team-a /sccache/ first "$AK_ALICE" "$SK_ALICE") || fail "signed first run: $out"
[ "$out" = "probe miss hits 0 misses 20 writes 20" ] || fail "signed first run: $out"
out2=$(run "$S3URL" team-a /sccache/ second "$AK_ALICE" "$SK_ALICE") || fail "signed second run: $out2"
[ "$out2" = "probe hit hits 20 misses 0 writes 0" ] || fail "signed second run: $out2"
ok "OpenDAL s3, signed (alice, team-a): first run '$out', second run '$out2'"

# the probe is stored (OpenDAL's writes fail on a 204: they all got 200)
[ "$(http_get_as "$TOKEN_ALICE" team-a/sccache/.sccache_check "$TEST_TMP/got")" = 200 ] &&
    [ "$(cat "$TEST_TMP/got")" = 'Hello, World!' ] || fail "the probe over HTTP: $(cat "$TEST_TMP/got")"
ok "the probe is 'Hello, World!' over the HTTP API too"

out=$(run "$S3URL" public /anon/ first) || fail "anonymous first run: $out"
[ "$out" = "probe miss hits 0 misses 20 writes 20" ] || fail "anonymous first run: $out"
out2=$(run "$S3URL" public /anon/ second) || fail "anonymous second run: $out2"
[ "$out2" = "probe hit hits 20 misses 0 writes 0" ] || fail "anonymous second run: $out2"
ok "OpenDAL s3, anonymous (allow_anonymous, public): first run '$out', second run '$out2'"

# anonymous on a bucket that is not public: sccache must not be read-write
out=$(run "$S3URL" team-a /anon/ first 2>&1) && fail "anonymous run on team-a succeeded: $out"
echo "$out" | grep -q 'PermissionDenied\|403\|AccessDenied' || fail "anonymous run on team-a: $out"
ok "OpenDAL s3, anonymous on team-a: refused (403)"

# SigV4 on the ordinary HTTP port is served as S3 as well
out=$(run "$URL" team-a /http-port/ first "$AK_ALICE" "$SK_ALICE") || fail "signed run on the HTTP port: $out"
out2=$(run "$URL" team-a /http-port/ second "$AK_ALICE" "$SK_ALICE") || fail "signed second run on the HTTP port: $out2"
[ "$out2" = "probe hit hits 20 misses 0 writes 0" ] || fail "second run on the HTTP port: $out2"
ok "OpenDAL s3, signed, on the ordinary HTTP port: '$out', then '$out2'"
stop_server
