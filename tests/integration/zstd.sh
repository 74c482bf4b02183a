# zstd at rest through HTTP: compressible and incompressible bodies round
# trip; clients that send Accept-Encoding: zstd get the stored frame; Bazel
# CAS digests are checked on the raw bytes; quotas count bytes on disk.
source "$CS_SRCDIR/tests/lib.sh"

command -v zstd >/dev/null || fail "zstd is not installed (scripts/deps.sh test installs it)"

cat >"$TEST_TMP/c.conf" <<EOF
data_dir = "$TEST_TMP/data";
namespaces = (
  { name = "z"; read = ["*"]; write = ["*"]; admin = ["*"]; compression = "zstd";
    compression_level = 5; },
  { name = "zq"; read = ["*"]; write = ["*"]; admin = ["*"]; compression = "zstd";
    max_size = "300K"; },
  { name = "plain"; read = ["*"]; write = ["*"]; admin = ["*"]; }
);
EOF
start_server "$TEST_TMP/data" -c "$TEST_TMP/c.conf"

seq 1 150000 >"$TEST_TMP/text"          # about 1 MB, compresses well
head -c 1000000 /dev/urandom >"$TEST_TMP/random"
seq 1 3000 >"$TEST_TMP/smalltext"        # under 32K: served from memory
stats_bytes() { curl -s "$URL/_/stats" >"$TEST_TMP/stats.json"; json_field "$1" bytes "$TEST_TMP/stats.json"; }
put() { curl -s -o /dev/null -w '%{http_code}' -T "$2" "$URL/$1"; }

[ "$(put z/text "$TEST_TMP/text")" = 201 ] || fail "PUT text"
[ "$(put z/random "$TEST_TMP/random")" = 201 ] || fail "PUT random"
[ "$(put z/small "$TEST_TMP/smalltext")" = 201 ] || fail "PUT small"
for f in text random small; do
    src=$TEST_TMP/$f; [ $f = small ] && src=$TEST_TMP/smalltext
    curl -sf -o "$TEST_TMP/got" -D "$TEST_TMP/headers" "$URL/z/$f" || fail "GET z/$f"
    cmp -s "$TEST_TMP/got" "$src" || fail "z/$f differs after the round trip"
    grep -qi '^Content-Encoding' "$TEST_TMP/headers" && fail "z/$f sent encoded to a client that did not ask"
    len=$(curl -sI "$URL/z/$f" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }')
    [ "$len" = "$(stat -c %s "$src")" ] || fail "HEAD z/$f: Content-Length $len"
done
ok "compressible, incompressible and small bodies round-trip; HEAD gives the raw length"

text_file=$(find "$TEST_TMP/data/objects" -type f -size -200k -size +10k | head -n 1)
[ -n "$text_file" ] || fail "no compressed object file on disk"
rand_size=$(find "$TEST_TMP/data/objects" -type f -size +900k -exec stat -c %s {} \; | head -n 1)
[ -n "$rand_size" ] && [ "$rand_size" -ge 1000000 ] || fail "the random body was not stored plain"
ok "the text is stored compressed ($(stat -c %s "$text_file") bytes for $(stat -c %s "$TEST_TMP/text")), random bytes plain ($rand_size)"

curl -sf -H 'Accept-Encoding: gzip, zstd' -o "$TEST_TMP/got.zst" -D "$TEST_TMP/headers" "$URL/z/text" || fail "GET with Accept-Encoding: zstd"
grep -qi '^Content-Encoding: zstd' "$TEST_TMP/headers" || fail "no Content-Encoding: zstd for a client that takes it"
grep -qi '^Vary: Accept-Encoding' "$TEST_TMP/headers" || fail "no Vary: Accept-Encoding"
zstd -qdc "$TEST_TMP/got.zst" | cmp -s - "$TEST_TMP/text" || fail "the zstd frame does not decode to the body"
[ "$(stat -c %s "$TEST_TMP/got.zst")" -lt 400000 ] || fail "the passed-through body is not the compressed one"
curl -sf -H 'Accept-Encoding: zstd;q=0' -o "$TEST_TMP/got" -D "$TEST_TMP/headers" "$URL/z/text" || fail "GET with zstd;q=0"
grep -qi '^Content-Encoding' "$TEST_TMP/headers" && fail "zstd;q=0 still got zstd"
cmp -s "$TEST_TMP/got" "$TEST_TMP/text" || fail "zstd;q=0 body differs"
curl -sf -H 'Accept-Encoding: zstd' -o "$TEST_TMP/got" -D "$TEST_TMP/headers" "$URL/z/random" || fail "GET random with zstd"
grep -qi '^Content-Encoding' "$TEST_TMP/headers" && fail "an object stored plain was sent with a Content-Encoding"
cmp -s "$TEST_TMP/got" "$TEST_TMP/random" || fail "random body differs"
ok "Accept-Encoding: zstd gets the stored frame (Vary set); q=0 and plain objects get raw bytes"

# issue 15 point 18: the raw body and the zstd frame are two representations
# with two strong ETags (RFC 9110 8.8.3), and If-None-Match is compared with
# the one the response would carry.
# get NAME [curl args]: status of GET /z/NAME; headers in $TEST_TMP/headers
get() { local n=$1; shift; curl -s -o "$TEST_TMP/got" -D "$TEST_TMP/headers" -w '%{http_code}' "$@" "$URL/z/$n"; }
etag() { tr -d '\r' <"$TEST_TMP/headers" | sed -n 's/^etag: //Ip'; }
encoding() { tr -d '\r' <"$TEST_TMP/headers" | sed -n 's/^content-encoding: //Ip'; }
raw=\"$(sha "$TEST_TMP/text")\"
[ "$(get text)" = 200 ] && [ "$(etag)" = "$raw" ] || fail "identity ETag of z/text: $(etag), want $raw"
[ "$(get text -H 'Accept-Encoding: zstd')" = 200 ] && [ "$(encoding)" = zstd ] || fail "z/text with zstd"
framed=$(etag)
[ "$framed" != "$raw" ] || fail "the zstd body has the identity body's ETag $raw"
[ "$(get text -H "If-None-Match: $framed")" = 200 ] || fail "304 for the zstd ETag to a client getting identity"
cmp -s "$TEST_TMP/got" "$TEST_TMP/text" || fail "identity body after a non-matching If-None-Match"
[ "$(get text -H 'Accept-Encoding: zstd' -H "If-None-Match: $raw")" = 200 ] \
    || fail "304 for the identity ETag to a client getting zstd"
[ "$(get text -H 'Accept-Encoding: zstd' -H "If-None-Match: \"x\", $framed")" = 304 ] \
    || fail "no 304 for the zstd ETag to a client getting zstd"
[ "$(etag)" = "$framed" ] || fail "304 carries ETag $(etag), not $framed"
[ "$(get text -H "If-None-Match: W/$raw")" = 304 ] || fail "no 304 for a weak match of the identity ETag"
[ "$(get text -H 'If-None-Match: *')" = 304 ] || fail "no 304 for If-None-Match: *"
# an object stored plain has one representation whatever the client takes
[ "$(get random -H 'Accept-Encoding: zstd')" = 200 ] && [ "$(etag)" = "\"$(sha "$TEST_TMP/random")\"" ] \
    || fail "z/random with Accept-Encoding: zstd: ETag $(etag)"
# HEAD chooses what GET would: a small body is sent raw, so its HEAD says so
for n in small text; do
    get "$n" -H 'Accept-Encoding: zstd' >/dev/null
    g="$(etag) $(encoding)"
    curl -s -o /dev/null -D "$TEST_TMP/headers" -I -H 'Accept-Encoding: zstd' "$URL/z/$n"
    [ "$(etag) $(encoding)" = "$g" ] || fail "HEAD z/$n says '$(etag) $(encoding)', GET '$g'"
done
ok "zstd body ETag $framed, identity $raw; If-None-Match matches only the representation sent; HEAD agrees with GET"

# Bazel CAS keys name the sha256 of the raw body.
digest=$(sha "$TEST_TMP/text")
code=$(put "z/cas/$digest" "$TEST_TMP/text")
[ "$code" = 201 ] || fail "CAS PUT with the right digest: $code"
code=$(put "z/cas/$(sha "$TEST_TMP/random")" "$TEST_TMP/text")
[ "$code" = 400 ] || fail "CAS PUT with a body not matching its digest: $code"
curl -sf -o "$TEST_TMP/got" -D "$TEST_TMP/headers" "$URL/z/cas/$digest" || fail "GET CAS"
cmp -s "$TEST_TMP/got" "$TEST_TMP/text" || fail "CAS body differs"
grep -qi "^ETag: \"$digest\"" "$TEST_TMP/headers" || fail "ETag is not the raw body's sha256"
ok "CAS verification on the raw bytes with compression on; the ETag is the raw digest"

# Quotas count bytes on disk: 12 MB of text fit a 300K namespace compressed.
file_of() { # the object file of NS KEY: objects/ab/sha256(NS NUL KEY)
    local h
    h=$(printf '%s\0%s' "$1" "$2" | sha256sum | cut -d' ' -f1)
    echo "$TEST_TMP/data/objects/${h:0:2}/$h"
}
files=0
for i in $(seq 1 12); do
    awk -v i="$i" 'BEGIN { for (n = 0; n < 20000; n++) print "object " i ": a line repeated, as in generated code" }' >"$TEST_TMP/t$i"
    [ "$(put "zq/many/$i" "$TEST_TMP/t$i")" = 201 ] || fail "PUT many/$i"
    files=$((files + $(stat -c %s "$(file_of zq "many/$i")")))
done
curl -s "$URL/_/stats" >"$TEST_TMP/stats.json"
[ "$(json_field zq evictions "$TEST_TMP/stats.json")" = 0 ] || fail "evictions in zq: $(json_field zq evictions "$TEST_TMP/stats.json")"
bytes=$(json_field zq bytes "$TEST_TMP/stats.json")
[ "$bytes" -lt 300000 ] || fail "namespace zq is charged $bytes bytes"
[ "$bytes" -ge "$files" ] || fail "namespace zq is charged $bytes bytes, less than the $files bytes of its files"
for i in 1 12; do
    curl -sf -o "$TEST_TMP/got" "$URL/zq/many/$i" && cmp -s "$TEST_TMP/got" "$TEST_TMP/t$i" || fail "many/$i"
done
ok "quota counts bytes on disk: 12 MB of text in a 300K namespace ($bytes bytes charged for $files bytes of files), no eviction"

# The same body in a namespace without compression is charged its size.
[ "$(put plain/text "$TEST_TMP/text")" = 201 ] || fail "PUT plain"
[ "$(stats_bytes plain)" -ge "$(stat -c %s "$TEST_TMP/text")" ] || fail "plain namespace charged less than the body"
ok "a namespace without compression stores and charges the raw size"

stop_server
echo "all $CHECKS checks passed"
