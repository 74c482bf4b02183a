# WebDAV over virtual collections: every status path of OPTIONS, PROPFIND,
# MKCOL, DELETE, MOVE and COPY, hostile Destination headers, and keys that
# must round-trip byte for byte. The regressions of issue 15 (at the end)
# include a namespace tiered onto a second cstashd, whose copy must survive
# a refused COPY or MOVE onto itself.
source "$CS_SRCDIR/tests/lib.sh"

command -v python3 >/dev/null || fail "python3 is not installed (scripts/deps.sh test installs it)"

# The upstream of namespace "tiered": a second cstashd, reached as an http tier.
cat >"$TEST_TMP/up.conf" <<CONF
namespaces = ( { name = "up"; read = [ "*" ]; write = [ "*" ]; } );
CONF
start_server "$TEST_TMP/up" --config "$TEST_TMP/up.conf"
UP_URL=$URL UP_PID=$SERVER_PID
EXTRA_PIDS+=("$UP_PID")
SERVER_PID=""

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = (
  { name = "default"; read = [ "*" ]; write = [ "*" ]; },
  { name = "other"; read = [ "*" ]; write = [ "*" ]; },
  { name = "tiered"; read = [ "*" ]; write = [ "*" ];
    tiers = ( { type = "disk"; }, { type = "http"; url = "$UP_URL/up"; } ); }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
HOSTPORT=${URL#http://}

# propfind PATH DEPTH [curl args...]: status; the multistatus in $TEST_TMP/body
propfind() {
    local path=$1 depth=$2
    shift 2
    http PROPFIND "$path" -H "Depth: $depth" "$@"
}
hrefs() { grep -o '<D:href>[^<]*</D:href>' "$TEST_TMP/body" | sed 's/<[^>]*>//g'; }

expect_status 200 OPTIONS /default/
[ "$(header DAV)" = 1 ] || fail "OPTIONS: DAV header is '$(header DAV)'"
header Allow | grep -q PROPFIND || fail "OPTIONS: Allow lacks PROPFIND"
expect_status 200 OPTIONS / --request-target '*'
ok "OPTIONS: DAV: 1 and Allow, on a path and on *"

# --- PROPFIND ---------------------------------------------------------------
[ "$(propfind /default/ 0)" = 207 ] || fail "root Depth 0"
grep -q '<D:collection/>' "$TEST_TMP/body" || fail "root is not a collection"
grep -q '<D:getlastmodified>[A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]* GMT<' \
    "$TEST_TMP/body" || fail "getlastmodified is not an RFC 1123 date"
[ "$(propfind /default/ infinity)" = 403 ] || fail "Depth infinity not refused"
grep -q 'propfind-finite-depth' "$TEST_TMP/body" || fail "403 lacks propfind-finite-depth"
[ "$(http PROPFIND /default/)" = 403 ] || fail "PROPFIND without Depth (= infinity) not refused"
[ "$(propfind /default/nothing/ 1)" = 404 ] || fail "missing collection not 404"
[ "$(propfind /default/ 1 -d '<propfind')" = 400 ] || fail "malformed XML not 400"
grep -q 'not well-formed' "$TEST_TMP/body" || fail "malformed XML reason"
[ "$(propfind /default/ 1 -d '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>')" = 400 ] \
    || fail "DOCTYPE not refused"
[ "$(propfind /default/ 1 -d '<x xmlns="urn:y"/>')" = 400 ] || fail "wrong root not refused"
ok "PROPFIND: 207 for the root, Depth infinity 403, missing 404, bad XML 400"

printf 'one' >"$TEST_TMP/one"
expect_status 201 PUT /default/dir/sub/one.txt --data-binary @"$TEST_TMP/one" -H 'Content-Type: text/plain'
expect_status 201 PUT /default/dir/two --data-binary @"$TEST_TMP/one"
[ "$(propfind /default/dir/ 1)" = 207 ] || fail "listing dir"
[ "$(hrefs | sort | tr '\n' ' ')" = "/default/dir/ /default/dir/sub/ /default/dir/two " ] \
    || fail "Depth 1 listing: $(hrefs | tr '\n' ' ')"
grep -q '<D:getcontentlength>3</D:getcontentlength>' "$TEST_TMP/body" || fail "getcontentlength"
grep -q '<D:getetag>"[0-9a-f]\{64\}"</D:getetag>' "$TEST_TMP/body" || fail "getetag"
[ "$(propfind /default/dir/sub/one.txt 0)" = 207 ] || fail "object Depth 0"
grep -q '<D:getcontenttype>text/plain</D:getcontenttype>' "$TEST_TMP/body" || fail "object content type"
grep -q '<D:resourcetype/>' "$TEST_TMP/body" || fail "object resourcetype"
[ "$(propfind /default/dir 0)" = 207 ] || fail "collection without trailing slash"
grep -q '<D:collection/>' "$TEST_TMP/body" || fail "dir (no slash) is not a collection"
[ "$(propfind /default/dir/ 1 -d '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getcontentlength/><z:q xmlns:z="urn:z"/></d:prop></d:propfind>')" = 207 ] \
    || fail "prop request"
grep -q 'HTTP/1.1 404 Not Found' "$TEST_TMP/body" || fail "unknown property not in a 404 propstat"
grep -q '<D:getlastmodified>' "$TEST_TMP/body" && fail "prop request returned unrequested properties"
ok "PROPFIND Depth 1 lists children once each; object props; prop requests; 404 propstat"

# --- MKCOL ------------------------------------------------------------------
expect_status 409 MKCOL /default/a/b/
expect_status 201 MKCOL /default/a/
expect_status 201 MKCOL /default/a/b/
expect_status 405 MKCOL /default/a/b/
expect_status 405 MKCOL /default/dir/two
expect_status 405 MKCOL /default/
expect_status 415 MKCOL /default/c/ -d '<x/>'
[ "$(propfind /default/a/b/ 0)" = 207 ] || fail "MKCOL'd collection missing"
[ "$(propfind /default/a/ 1)" = 207 ] || fail "listing a/"
[ "$(hrefs | tr '\n' ' ')" = "/default/a/ /default/a/b/ " ] || fail "empty collection listing: $(hrefs | tr '\n' ' ')"
ok "MKCOL: 201, 405 when it exists, 409 without parent, 415 with a body; empty collections persist"

# --- COPY / MOVE --------------------------------------------------------------
expect_status 201 COPY /default/dir/two -H "Destination: $URL/default/a/b/copy"
expect_status 412 COPY /default/dir/two -H "Destination: $URL/default/a/b/copy" -H 'Overwrite: F'
expect_status 204 COPY /default/dir/two -H "Destination: /default/a/b/copy"
expect_status 200 GET /default/a/b/copy
[ "$(cat "$TEST_TMP/body")" = one ] || fail "copy body"
expect_status 201 MOVE /default/a/b/copy -H "Destination: $URL/default/moved"
expect_status 404 GET /default/a/b/copy
expect_status 200 GET /default/moved
expect_status 201 COPY /default/dir -H "Destination: $URL/default/dircopy/"
expect_status 200 GET /default/dircopy/sub/one.txt
[ "$(header Content-Type)" = text/plain ] || fail "copy kept no content type"
expect_status 201 MOVE /default/dircopy/ -H "Destination: $URL/default/dirmoved"
expect_status 404 GET /default/dircopy/sub/one.txt
expect_status 200 GET /default/dirmoved/sub/one.txt
[ "$(propfind /default/dircopy/ 0)" = 404 ] || fail "moved collection still there"
expect_status 403 MOVE /default/dirmoved -H "Destination: $URL/default/dirmoved/inside"
expect_status 404 MOVE /default/nothing -H "Destination: $URL/default/x"
expect_status 400 MOVE /default/dirmoved -H "Destination: $URL/default/x" -H 'Overwrite: maybe'
expect_status 400 MOVE /default/dirmoved -H "Destination: $URL/default/x" -H 'Depth: 0'
ok "COPY and MOVE of objects and collections: 201/204, 412 with Overwrite F, 403 into itself, 404"

# hostile Destination headers never touch anything outside the namespace
expect_status 403 COPY /default/moved -H "Destination: $URL/other/stolen"
expect_status 404 GET /other/stolen
expect_status 502 COPY /default/moved -H "Destination: http://example.com:1/default/x"
expect_status 400 COPY /default/moved -H "Destination: $URL/default/a/../../other/x"
expect_status 400 COPY /default/moved -H "Destination: $URL/default/%2e%2e/other/x"
expect_status 400 COPY /default/moved -H "Destination: $URL/default/a%00b"
expect_status 403 COPY /default/moved -H "Destination: $URL/_/health"
expect_status 403 COPY /default/moved -H "Destination: $URL/default/"
expect_status 400 COPY /default/moved -H "Destination: ftp://$HOSTPORT/default/x"
expect_status 400 COPY /default/moved
expect_status 400 COPY /default/moved -H "Destination: http://user:pw@$HOSTPORT/default/x"
expect_status 404 GET /other/x
ok "hostile Destination: other namespace 403, other server 502, traversal/NUL/scheme 400"

# --- DELETE of collections ----------------------------------------------------
expect_status 204 DELETE /default/dirmoved/
expect_status 404 GET /default/dirmoved/sub/one.txt
expect_status 404 DELETE /default/dirmoved/
expect_status 403 DELETE /default/
expect_status 204 DELETE /default/a
[ "$(propfind /default/a/ 0)" = 404 ] || fail "deleted MKCOL'd collection still there"
expect_status 200 GET /default/dir/two
ok "DELETE of a collection is recursive; the root cannot be deleted; siblings stay"

# --- keys that must round-trip --------------------------------------------------
printf 'round trip' >"$TEST_TMP/rt"
for raw in 'sp%20ace/a%20b' 'utf8/%C3%A9t%C3%A9%E2%82%AC' 'plus/a+b' 'pct/100%25' 'mix/%20+%25%2B'; do
    expect_status 201 PUT "/default/$raw" --data-binary @"$TEST_TMP/rt"
    expect_status 200 GET "/default/$raw"
    [ "$(cat "$TEST_TMP/body")" = "round trip" ] || fail "$raw: body"
    dir=${raw%%/*}
    [ "$(propfind "/default/$dir/" 1)" = 207 ] || fail "$dir listing"
    # the href must decode to the same key (curl --path-as-is sends it back as is)
    href=$(hrefs | grep -v "/$dir/\$")
    expect_status 200 GET "$href"
done
# '+' is a plus, never a space
expect_status 404 GET '/default/plus/a%20b'
ok "keys with spaces, UTF-8, '+' and '%' round-trip through PUT, GET and PROPFIND hrefs"

# --- ETag, Content-Type, conditional GET ------------------------------------------
expect_status 200 GET /default/dir/two
etag=$(header ETag)
[ "$etag" = "\"$(printf one | sha256sum | cut -d' ' -f1)\"" ] || fail "ETag is not the body's sha256: $etag"
expect_status 201 PUT /default/untyped --data-binary @"$TEST_TMP/one" -H 'Content-Type:'
expect_status 200 GET /default/untyped
[ "$(header Content-Type)" = application/octet-stream ] || fail "default content type"
expect_status 200 HEAD /default/dir/two -I
[ "$(header ETag)" = "$etag" ] || fail "HEAD ETag differs"
[ "$(header Content-Length)" = 3 ] || fail "HEAD Content-Length"
expect_status 304 GET /default/dir/two -H "If-None-Match: $etag"
expect_status 201 PUT /default/dir/three --data-binary @"$TEST_TMP/one"
expect_status 200 GET /default/dir/three
[ "$(header ETag)" = "$etag" ] || fail "same content, different ETag"
expect_status 201 PUT /default/gradle/entry --data-binary @"$TEST_TMP/one" \
    -H 'Content-Type: application/vnd.gradle.build-cache-artifact.v1'
expect_status 200 GET /default/gradle/entry
[ "$(header Content-Type)" = application/vnd.gradle.build-cache-artifact.v1 ] || fail "stored content type"
ok "ETag = sha256 of the body on GET and HEAD, 304 on If-None-Match; stored Content-Type served"

# --- regressions of issue 15 ------------------------------------------------------
# Each runs in a subshell, so that one failing does not hide the others; the
# test fails at the end if any did. Their checks call fail (set -e does not
# apply inside them).
FAILED=()
regression() {
    local name=$1
    shift
    if ("$@"); then ok "$name"; else FAILED+=("$name"); echo "not ok - $name"; fi
}

# body_is PATH TEXT: GET PATH answers 200 with TEXT.
body_is() {
    expect_status 200 GET "$1"
    [ "$(cat "$TEST_TMP/body")" = "$2" ] || fail "GET $1: body '$(cat "$TEST_TMP/body")', not '$2'"
}

# issue 15 point 1: COPY or MOVE onto itself is refused, and nothing is lost,
# however the Destination spells the key; in a tiered namespace the remote
# copy stays too.
self_copy_move() {
    printf 'self' >"$TEST_TMP/self"
    expect_status 201 PUT /default/s/obj --data-binary @"$TEST_TMP/self"
    expect_status 201 PUT /default/s/obj2 --data-binary @"$TEST_TMP/self"
    expect_status 403 COPY /default/s/obj -H "Destination: $URL/default/s/obj"
    body_is /default/s/obj self
    expect_status 403 MOVE /default/s/obj2 -H "Destination: $URL/default/s/%6fbj2"
    body_is /default/s/obj2 self
    expect_status 403 MOVE /default/s/obj -H "Destination: /default/s/obj/"
    body_is /default/s/obj self
    expect_status 403 COPY /default/s/obj -H "Destination: $URL/default/s/obj" -H 'Overwrite: F'
    body_is /default/s/obj self
    # a collection onto itself, with and without the slash, and spelled otherwise
    expect_status 403 COPY /default/s/ -H "Destination: $URL/default/s/"
    expect_status 403 MOVE /default/s -H "Destination: $URL/default/s"
    expect_status 403 MOVE /default/s/ -H "Destination: $URL/default/%73"
    body_is /default/s/obj self
    body_is /default/s/obj2 self
}
regression "issue 15.1: COPY/MOVE onto itself is 403; the object and the collection stay" self_copy_move

# The same in a tiered namespace: the self-COPY once removed the object from
# every remote tier as well.
self_copy_move_tiered() {
    printf 'self' >"$TEST_TMP/self"
    # the object is on the upstream; a refused self-COPY/MOVE keeps it there
    expect_status 201 PUT /tiered/t/obj --data-binary @"$TEST_TMP/self"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$UP_URL/up/t/obj")" = 200 ] \
        || fail "the PUT did not reach the upstream tier"
    on_upstream() {
        [ "$(curl -s -o "$TEST_TMP/up.body" -w '%{http_code}' "$UP_URL/up/t/obj")" = 200 ] \
            || fail "a refused self-$1 removed the object from the upstream tier"
        [ "$(cat "$TEST_TMP/up.body")" = self ] || fail "upstream body changed by a self-$1"
    }
    expect_status 403 COPY /tiered/t/obj -H "Destination: $URL/tiered/t/obj"
    on_upstream COPY
    body_is /tiered/t/obj self
    expect_status 403 MOVE /tiered/t/obj -H "Destination: $URL/tiered/t/%6Fbj"
    on_upstream MOVE
    body_is /tiered/t/obj self
}
regression "issue 15.1: in a tiered namespace, COPY/MOVE onto itself keeps the object on the upstream" \
    self_copy_move_tiered

# issue 15 point 15: a Destination with a trailing slash that names an
# existing collection: with Overwrite T the collection is replaced by the
# object (named without the slash), with F it is 412 and nothing changes.
onto_collection_slash() {
    printf 'src' >"$TEST_TMP/src"
    expect_status 201 PUT /default/oc/src --data-binary @"$TEST_TMP/src"
    expect_status 201 PUT /default/oc/src2 --data-binary @"$TEST_TMP/src"
    expect_status 201 PUT /default/oc/coll/inner --data-binary @"$TEST_TMP/src"
    expect_status 201 MKCOL /default/oc/mk/
    expect_status 412 COPY /default/oc/src -H "Destination: $URL/default/oc/coll/" -H 'Overwrite: F'
    body_is /default/oc/coll/inner src
    expect_status 204 COPY /default/oc/src -H "Destination: $URL/default/oc/coll/"
    body_is /default/oc/coll src
    body_is /default/oc/src src
    expect_status 404 GET /default/oc/coll/inner
    [ "$(propfind /default/oc/coll/ 0)" = 404 ] || fail "the replaced collection is still there"
    expect_status 204 MOVE /default/oc/src2 -H "Destination: $URL/default/oc/mk/"
    body_is /default/oc/mk src
    expect_status 404 GET /default/oc/src2
    [ "$(propfind /default/oc/mk/ 0)" = 404 ] || fail "the replaced MKCOL collection is still there"
    # no collection by that name: an object cannot become one
    expect_status 409 COPY /default/oc/src -H "Destination: $URL/default/oc/none/"
    expect_status 404 GET /default/oc/none
    # a collection holding the source would delete it
    expect_status 201 PUT /default/oc/holder/x --data-binary @"$TEST_TMP/src"
    expect_status 403 COPY /default/oc/holder/x -H "Destination: $URL/default/oc/holder/"
    expect_status 403 MOVE /default/oc/holder/x -H "Destination: $URL/default/oc/holder"
    body_is /default/oc/holder/x src
}
regression "issue 15.15: COPY/MOVE onto an existing collection named with '/' replaces it (204), 412 with Overwrite F" \
    onto_collection_slash

# issue 15 point 16: COPY and MOVE need the destination's parent collection
# (409 otherwise, nothing created, the source kept); PUT still creates parents.
missing_parent() {
    printf 'p' >"$TEST_TMP/p"
    expect_status 201 PUT /default/mp/src --data-binary @"$TEST_TMP/p"
    expect_status 201 PUT /default/mp/tree/leaf --data-binary @"$TEST_TMP/p"
    expect_status 409 COPY /default/mp/src -H "Destination: $URL/default/mp/nonesuch/foo"
    expect_status 409 MOVE /default/mp/src -H "Destination: $URL/default/mp/nonesuch/foo"
    expect_status 409 COPY /default/mp/tree/ -H "Destination: $URL/default/mp/nonesuch/tree/"
    expect_status 409 COPY /default/mp/src -H "Destination: $URL/default/mp/src/under"
    expect_status 404 GET /default/mp/nonesuch/foo
    [ "$(propfind /default/mp/nonesuch/ 0)" = 404 ] || fail "a refused COPY created the parent"
    body_is /default/mp/src p
    # parents that exist: the root, a key under it, a MKCOL marker
    expect_status 201 COPY /default/mp/src -H "Destination: $URL/default/mp-at-root"
    expect_status 201 COPY /default/mp/src -H "Destination: $URL/default/mp/tree/copy"
    expect_status 201 MKCOL /default/mp/made/
    expect_status 201 MOVE /default/mp/tree/ -H "Destination: $URL/default/mp/made/tree/"
    body_is /default/mp/made/tree/leaf p
    expect_status 201 PUT /default/mp/deep/new/parents/obj --data-binary @"$TEST_TMP/p"
}
regression "issue 15.16: COPY/MOVE into a missing parent is 409; PUT still creates parents" missing_parent

# issue 15 point 17: keys and content types that are not UTF-8 (or not XML
# characters) still give well-formed multistatus XML, and the hrefs decode to
# the exact keys.
xml_safe() {
    printf 'x' >"$TEST_TMP/x"
    local k
    for k in '%ff%fe' 'nonchar%EF%BF%BE' 'surrogate%ED%A0%80' 'overlong%C0%AF' 'ok%C3%A9' \
             'lt%3C%26amp' 'badcoll%ff/inner'; do
        expect_status 201 PUT "/default/x8/$k" --data-binary @"$TEST_TMP/x"
    done
    expect_status 201 PUT /default/x8/typed --data-binary @"$TEST_TMP/x" -H $'Content-Type: text/\xff\xfe'
    # wellformed FILE [EXPECTED HREF BYTES...]: parses FILE with a real XML
    # parser; with hrefs given, they must be exactly the decoded hrefs
    wellformed() {
        python3 - "$@" <<'PY' || fail "PROPFIND answer is not well-formed XML or has the wrong hrefs"
import sys, urllib.parse, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
got = sorted(urllib.parse.unquote_to_bytes(n.firstChild.data)
             for n in doc.getElementsByTagNameNS("DAV:", "href"))
want = sorted(urllib.parse.unquote_to_bytes(h) for h in sys.argv[2:])
if want and got != want:
    sys.exit("hrefs %r, expected %r" % (got, want))
PY
    }
    [ "$(propfind /default/x8/ 1)" = 207 ] || fail "listing x8/"
    cp "$TEST_TMP/body" "$TEST_TMP/x8.xml"
    wellformed "$TEST_TMP/x8.xml" /default/x8/ /default/x8/%ff%fe /default/x8/nonchar%EF%BF%BE \
        /default/x8/surrogate%ED%A0%80 /default/x8/overlong%C0%AF /default/x8/ok%C3%A9 \
        /default/x8/lt%3C%26amp /default/x8/badcoll%ff/ /default/x8/typed
    grep -q $'<D:displayname>ok\xc3\xa9</D:displayname>' "$TEST_TMP/x8.xml" \
        || fail "valid UTF-8 in a display name was not kept"
    for k in '%ff%fe' 'typed' 'badcoll%ff/'; do
        [ "$(propfind "/default/x8/$k" 0)" = 207 ] || fail "PROPFIND x8/$k"
        wellformed "$TEST_TMP/body"
    done
    [ "$(propfind /default/x8/badcoll%ff/ 1)" = 207 ] || fail "listing badcoll"
    wellformed "$TEST_TMP/body" /default/x8/badcoll%ff/ /default/x8/badcoll%ff/inner
    # the hrefs of the listing lead back to the objects
    for k in $(grep -o '<D:href>[^<]*[^/]</D:href>' "$TEST_TMP/x8.xml" | sed 's/<[^>]*>//g'); do
        expect_status 200 GET "$k"
    done
}
regression "issue 15.17: keys and content types that are not UTF-8 give well-formed PROPFIND XML, exact hrefs" \
    xml_safe

# PROPFIND prop requests: no empty 200 propstat when nothing asked for is
# there; a property name too long to echo is refused, not cut.
prop_requests() {
    printf 'q' >"$TEST_TMP/q"
    expect_status 201 PUT /default/pq/obj --data-binary @"$TEST_TMP/q"
    [ "$(propfind /default/pq/obj 0 -d '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><z:nope xmlns:z="urn:z"/></D:prop></D:propfind>')" = 207 ] \
        || fail "prop request for an unknown property"
    grep -q '200 OK' "$TEST_TMP/body" && fail "empty 200 propstat for an unknown property: $(cat "$TEST_TMP/body")"
    grep -q '<x:nope xmlns:x="urn:z"/>.*404 Not Found' "$TEST_TMP/body" || fail "unknown property not in a 404 propstat"
    long=$(printf 'n%.0s' $(seq 1 100))
    [ "$(propfind /default/pq/obj 0 -d "<D:propfind xmlns:D=\"DAV:\"><D:prop><z:$long xmlns:z=\"urn:z\"/></D:prop></D:propfind>")" = 400 ] \
        || fail "an over-long property name was not refused: $(cat "$TEST_TMP/body")"
    grep -q 'too long' "$TEST_TMP/body" || fail "over-long property name: reason '$(cat "$TEST_TMP/body")'"
}
regression "PROPFIND prop requests: a 404 propstat only for missing properties (no empty 200); over-long names 400" \
    prop_requests

# What litmus's propextended and propwformed send (and pass whatever the answer).
propfind_extended_depth() {
    printf 'q' >"$TEST_TMP/q"
    expect_status 201 PUT /default/pe/obj --data-binary @"$TEST_TMP/q"
    # elements we do not know are ignored (RFC 4918 17; litmus propextended)
    [ "$(propfind /default/pe/obj 0 -d '<?xml version="1.0"?><propfind xmlns="DAV:"><foobar/><allprop/></propfind>')" = 207 ] \
        || fail "extended propfind body: $(cat "$TEST_TMP/body")"
    grep -q '<D:getcontentlength>1</D:getcontentlength>' "$TEST_TMP/body" || fail "extended propfind is not allprop"
    # an object has no members: Depth infinity (or none) is Depth 0 for it;
    # only a collection refuses it
    [ "$(http PROPFIND /default/pe/obj)" = 207 ] || fail "PROPFIND of an object without Depth: $(cat "$TEST_TMP/body")"
    [ "$(hrefs)" = /default/pe/obj ] || fail "PROPFIND of an object without Depth: $(hrefs)"
    [ "$(propfind /default/pe/obj infinity)" = 207 ] || fail "PROPFIND of an object with Depth infinity"
    [ "$(propfind /default/pe/ infinity)" = 403 ] || fail "Depth infinity on a collection not refused"
    [ "$(propfind /default/pe/obj 2)" = 400 ] || fail "Depth: 2 not refused with 400"
}
regression "PROPFIND: unknown elements in the body ignored; Depth infinity on an object is Depth 0; bad Depth 400" \
    propfind_extended_depth

[ ${#FAILED[@]} -eq 0 ] || fail "regressions failed: $(printf '[%s] ' "${FAILED[@]}")"
stop_server
echo "all $CHECKS checks passed"
