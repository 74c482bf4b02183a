# Hostile request paths get 400 and never touch a file outside the data
# dir; unusual but valid keys round-trip exactly.
source "$CS_SRCDIR/tests/lib.sh"

start_server "$TEST_TMP/data"
mkdir -p "$TEST_TMP/outside"
echo secret >"$TEST_TMP/outside/victim"

for path in \
    /default/../outside/victim /default/a/../../x /default/./x /default/a/./b \
    /default/%2e%2e/x /default/%2E%2E/%2e%2e/outside/victim /default/a%2F..%2F..%2Fx \
    /default/a//b /default/a%00b /default/a%0Ab /default/a%0d%0aX-Evil:%201 \
    /default/a%7Fb /default/a%zz /default/a%4 /default/%; do
    for m in GET PUT DELETE; do
        code=$(http $m "$path" --data-binary pwned -H 'Content-Type:')
        [ "$code" = 400 ] || fail "$m $path: expected 400, got $code"
        [ -s "$TEST_TMP/body" ] || fail "$m $path: 400 without a reason"
    done
done
# a trailing slash names a collection: GET and PUT of it are refused, a
# DELETE of one that does not exist is a plain 404
for m in GET PUT; do
    code=$(http $m /default/a/ --data-binary pwned -H 'Content-Type:')
    [ "$code" = 400 ] || fail "$m /default/a/: expected 400, got $code"
done
expect_status 404 DELETE /default/a/
long=$(printf 'k%.0s' $(seq 1 1100))
expect_status 400 PUT "/default/$long" --data-binary x
grep -q 'longer than 1024' "$TEST_TMP/body" || fail "long key reason"
expect_status 400 PUT "/default/$(printf 's%.0s' $(seq 1 300))" --data-binary x
[ "$(cat "$TEST_TMP/outside/victim")" = secret ] || fail "file outside the data dir changed"
[ "$(count_files "$TEST_TMP/data/objects")" = 0 ] || fail "a hostile key stored something"
ok "dot segments, encoded slashes, empty segments, NUL and control characters, bad escapes, over-long keys: 400"

# valid keys that look odd round-trip, each as its own object
i=0
for path in '/default/a%20b' '/default/a+b' '/default/a%2Bb%2B' '/default/%C3%A9t%C3%A9/%E2%82%AC' \
    '/default/100%25' '/default/...' '/default/.hidden' '/default/a..b'; do
    i=$((i + 1))
    expect_status 201 PUT "$path" --data-binary "body-$i"
done
i=0
for path in '/default/a%20b' '/default/a+b' '/default/a%2Bb%2B' '/default/%C3%A9t%C3%A9/%E2%82%AC' \
    '/default/100%25' '/default/...' '/default/.hidden' '/default/a..b'; do
    i=$((i + 1))
    expect_status 200 GET "$path"
    [ "$(cat "$TEST_TMP/body")" = "body-$i" ] || fail "$path returned $(cat "$TEST_TMP/body")"
done
# %2B decodes to '+': the same key as a literal '+'
expect_status 200 GET '/default/a%2Bb'
[ "$(cat "$TEST_TMP/body")" = body-2 ] || fail "'+' and %2B differ"
ok "spaces, '+', '%', UTF-8 and dotted names round-trip exactly"

# files are named by hash: no key appears as a path on disk
if find "$TEST_TMP/data" -name 'a+b' -o -name '*hidden*' | grep -q .; then
    fail "a raw key became a file name"
fi
ok "files on disk are named by hash, not by key"
