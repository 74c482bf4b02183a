# Every method x {anonymous, wrong secret, other tenant, reader, writer,
# admin} x {own namespace, other namespace}: the exact status, the same
# answer whether or not the key exists, and no forbidden request changes a
# stored byte. A client with no right on a namespace gets the very answer
# a missing namespace gets (issue 15.12: OPTIONS told them apart).
# The S3 column: the same roles with S3 keys (SigV4, and anonymous on the
# s3:// listener) x GET/HEAD/PUT/DELETE x {a, b, pub} get S3's answer exactly
# where the HTTP rights allow or refuse (issue 17).
source "$CS_SRCDIR/tests/lib.sh"

tok() { printf '%s' "$1" | "$CSTASHD" hash-token; }
pwh() { printf '%s' "$1" | "$CSTASHD" hash-password; }
htpasswd -bcB "$TEST_TMP/htpasswd" dave dave-pw 2>/dev/null || fail "htpasswd failed"
# wrong passwords are this test's daily bread: no per-address limit here
# (tests/integration/auth_flood.sh covers it)
cat >"$TEST_TMP/cstashd.conf" <<CONF
limits = { auth_failures = 100000; };
htpasswd = "$TEST_TMP/htpasswd";
users = (
  { name = "alice"; token_sha256 = "$(tok alice-token)"; },
  { name = "bob"; password_hash = "$(pwh bob-pw)"; },
  { name = "carol"; tokens_sha256 = [ "$(tok carol-old)", "$(tok carol-token)" ]; },
  { name = "mallory"; token_sha256 = "$(tok mallory-token)"; password_hash = "$(pwh mallory-pw)"; }
);
s3 = { secrets = "$TEST_TMP/s3-secrets"; };
namespaces = (
  { name = "a"; read = [ "bob", "dave" ]; write = [ "alice" ]; admin = [ "carol" ]; },
  { name = "b"; read = [ "mallory" ]; write = [ "mallory" ]; admin = [ "mallory" ]; },
  { name = "pub"; read = [ "*" ]; write = [ "@authenticated" ]; }
);
CONF
(umask 077 && cat >"$TEST_TMP/s3-secrets" <<SECRETS
alice AKIAMATRIXALICE00001 alice-s3-secret
bob AKIAMATRIXBOB0000002 bob-s3-secret
carol AKIAMATRIXCAROL00003 carol-s3-secret
mallory AKIAMATRIXMALLORY004 mallory-s3-secret
SECRETS
)
data="$TEST_TMP/data"
S3PORT=$(free_port)
# the HTTP listener first: start_server takes the first one logged as URL
start_server "$data" --config "$TEST_TMP/cstashd.conf" --listen 127.0.0.1:0 --listen "s3://127.0.0.1:$S3PORT"
S3URL=http://127.0.0.1:$S3PORT

# credentials per role, as curl arguments (in CREDS)
creds() {
    case $1 in
        anonymous) CREDS=() ;;
        wrong) CREDS=(-H "Authorization: Bearer alice-token-wrong") ;;
        wrongpw) CREDS=(-u "bob:not-bobs") ;;
        other) CREDS=(-H "Authorization: Bearer mallory-token") ;;
        reader) CREDS=(-u "bob:bob-pw") ;;
        writer) CREDS=(-H "Authorization: Bearer alice-token") ;;
        admin) CREDS=(-H "Authorization: Bearer carol-token") ;;
        dave) CREDS=(-u "dave:dave-pw") ;;
    esac
}
as() { local role=$1 m=$2 p=$3; shift 3; creds "$role"; http "$m" "$p" "${CREDS[@]}" "$@"; }

printf 'seed-data' >"$TEST_TMP/seed"
for ns in a b; do
    role=writer; [ $ns = b ] && role=other
    for k in obj victim src dir/x; do
        got=$(as $role PUT "/$ns/$k" -H 'Content-Type:' --data-binary @"$TEST_TMP/seed")
        [ "$got" = 201 ] || fail "seeding /$ns/$k: $got"
    done
done
snapshot() { find "$data/objects" -type f -exec sha256sum {} + | sort; }
snapshot >"$TEST_TMP/before"

# the last answer without its Date (HEAD -I writes the headers as the body,
# and Date may tick between two requests)
answer() { grep -v '^Date:' "$TEST_TMP/body" || true; }

# method PATH-of-existing PATH-of-missing extra-args...
run_method() { # run_method ROLE NS METHOD: prints the status (and checks existence blindness)
    local role=$1 ns=$2 m=$3 s1 s2 b1
    local args=()
    case $m in
        PUT) args=(-H 'Content-Type:' --data-binary @"$TEST_TMP/seed") ;;
        PROPFIND) args=(-H 'Depth: 1') ;;
        HEAD) args=(-I) ;;
        MOVE|COPY) args=(-H "Destination: /$ns/moved-$role-$m") ;;
    esac
    local existing="/$ns/victim" missing="/$ns/nope-$role-$m"
    case $m in
        MKCOL) existing="/$ns/dir/"; missing="/$ns/newdir-$role/" ;;
        PROPFIND) existing="/$ns/"; missing="/$ns/nodir-$role/" ;;
    esac
    s1=$(as "$role" "$m" "$missing" "${args[@]}")
    b1=$(answer)
    if [ "$s1" = 401 ] || [ "$s1" = 403 ] || [ "$s1" = 404 ] && ! allowed "$role" "$ns" "$m"; then
        [ "$s1" = 401 ] && { grep -qi '^WWW-Authenticate: Basic realm="cstash", Bearer' "$TEST_TMP/headers" || fail "$role $m $ns: 401 without WWW-Authenticate"; }
        s2=$(as "$role" "$m" "$existing" "${args[@]}")
        [ "$s1" = "$s2" ] && [ "$b1" = "$(answer)" ] ||
            fail "$role $m /$ns: existing key answered $s2, missing key $s1: existence leaks"
    fi
    echo "$s1"
}

methods="GET HEAD PUT DELETE PROPFIND MKCOL MOVE COPY"
# expected status for a denied request: 401 without valid credentials, 404
# (as for a missing namespace) without any right on it, else 403
forbidden_status() { # ROLE NS
    case $1 in anonymous|wrong|wrongpw) echo 401; return ;; esac
    if [ "$2" = b ] || [ "$1" = other ]; then echo 404; else echo 403; fi
}
# which roles may do what on a (b: only "other" = mallory, everything)
allowed() { # allowed ROLE NS METHOD
    local role=$1 ns=$2 m=$3
    if [ $ns = b ]; then [ $role = other ]; return; fi
    case $role in
        writer|admin) return 0 ;;
        reader|dave) case $m in GET|HEAD|PROPFIND) return 0 ;; esac; return 1 ;;
        *) return 1 ;;
    esac
}

# phase 1: every forbidden combination, then no stored byte changed
denied=0
for role in anonymous wrong wrongpw other reader writer admin dave; do
    for ns in a b; do
        for m in $methods; do
            allowed $role $ns $m && continue
            got=$(run_method $role $ns $m)
            want=$(forbidden_status $role $ns)
            [ "$got" = "$want" ] || fail "$role $m on /$ns: expected $want, got $got ($(head -c 200 "$TEST_TMP/body"))"
            denied=$((denied + 1))
        done
    done
done
snapshot >"$TEST_TMP/after"
cmp -s "$TEST_TMP/before" "$TEST_TMP/after" || fail "a forbidden request changed stored objects"
ok "$denied forbidden requests: 401 (with WWW-Authenticate), 404 or 403 as expected, same answer for existing and missing keys, no stored byte changed"

# a namespace the client may not use and one that does not exist ("z",
# a name of the same length) answer alike, to every method, OPTIONS too
margs() { # margs NS METHOD: the method's arguments, into MARGS
    MARGS=()
    case $2 in
        PUT) MARGS=(-H 'Content-Type:' --data-binary @"$TEST_TMP/seed") ;;
        PROPFIND) MARGS=(-H 'Depth: 1') ;;
        HEAD) MARGS=(-I) ;;
        MOVE|COPY) MARGS=(-H "Destination: /$1/elsewhere") ;;
    esac
}
hidden=0
for role in anonymous wrong other reader writer admin dave; do
    ns=b; [ $role = other ] || [ $role = anonymous ] || [ $role = wrong ] && ns=a
    for m in $methods OPTIONS; do
        for key in "" victim dir/; do
            margs $ns $m
            s1=$(as $role "$m" "/$ns/$key" "${MARGS[@]}")
            b1=$(answer | sed "s/'$ns'/'NS'/g")
            h1=$(grep -i '^WWW-Authenticate:' "$TEST_TMP/headers" || true)
            margs z $m
            s2=$(as $role "$m" "/z/$key" "${MARGS[@]}")
            b2=$(answer | sed "s/'z'/'NS'/g")
            h2=$(grep -i '^WWW-Authenticate:' "$TEST_TMP/headers" || true)
            [ "$s1" = "$s2" ] && [ "$b1" = "$b2" ] && [ "$h1" = "$h2" ] ||
                fail "$role $m /$ns/$key answers $s1 ($b1), a missing namespace $s2 ($b2): existence leaks"
            case $s1 in 401 | 404) ;; *) fail "$role $m /$ns/$key: $s1 on a namespace without rights" ;; esac
            hidden=$((hidden + 1))
        done
    done
done
# a COPY's Destination in another namespace: refused alike whether that
# namespace exists and whatever its key looks like
for dkey in x "x/../y" "%00"; do
    s1=$(as writer COPY /a/obj -H "Destination: /b/$dkey")
    b1=$(answer)
    s2=$(as writer COPY /a/obj -H "Destination: /z/$dkey")
    [ "$s1" = "$s2" ] && [ "$b1" = "$(answer)" ] ||
        fail "COPY into an existing other namespace answers $s1 ($b1), into a missing one $s2 ($(answer))"
    hidden=$((hidden + 1))
done
snapshot >"$TEST_TMP/after"
cmp -s "$TEST_TMP/before" "$TEST_TMP/after" || fail "a request to a hidden namespace changed stored objects"
ok "$hidden requests to a namespace without rights answered as to a missing one (OPTIONS too)"

# phase 2: every allowed combination does its job
allowed_status() { # ROLE NS METHOD: the status the request gets when allowed
    case $3 in
        GET|HEAD) echo 404 ;;        # run_method asks for a missing key first
        PUT) echo 201 ;;
        DELETE) echo 404 ;;
        PROPFIND) echo 404 ;;
        MKCOL) echo 201 ;;
        MOVE|COPY) echo 404 ;;       # missing source
    esac
}
n=0
for role in other reader writer admin dave; do
    for ns in a b; do
        for m in $methods; do
            allowed $role $ns $m || continue
            got=$(run_method $role $ns $m)
            want=$(allowed_status $role $ns $m)
            [ "$got" = "$want" ] || fail "$role $m on /$ns: expected $want, got $got ($(head -c 200 "$TEST_TMP/body"))"
            n=$((n + 1))
        done
    done
done
# and on existing keys: reads see the data, writes change it
[ "$(as reader GET /a/obj)" = 200 ] && [ "$(cat "$TEST_TMP/body")" = seed-data ] || fail "reader cannot read"
[ "$(as dave HEAD /a/obj -I)" = 200 ] || fail "htpasswd user cannot read"
[ "$(as reader PROPFIND /a/ -H 'Depth: 1')" = 207 ] || fail "reader cannot list"
[ "$(as writer COPY /a/src -H 'Destination: /a/copied')" = 201 ] || fail "writer cannot COPY"
[ "$(as admin MOVE /a/copied -H 'Destination: /a/moved')" = 201 ] || fail "admin cannot MOVE"
[ "$(as writer DELETE /a/moved)" = 204 ] || fail "writer cannot DELETE"
[ "$(as other GET /b/obj)" = 200 ] || fail "mallory cannot read her namespace"
ok "$n allowed requests on missing keys, and reads/writes on existing ones, as expected"

# --- the S3 column -------------------------------------------------------------
# s3as ROLE METHOD PATH [s3req args]: the S3 status for ROLE (SigV4 keys of
# the same users; anonymous: no signature, on the s3:// listener)
s3as() {
    local role=$1 m=$2 p=$3 cred=()
    shift 3
    case $role in
        anonymous) ;;
        wrong) cred=(--ak AKIAMATRIXALICE00001 --sk not-alice-s3-secret) ;;
        other) cred=(--ak AKIAMATRIXMALLORY004 --sk mallory-s3-secret) ;;
        reader) cred=(--ak AKIAMATRIXBOB0000002 --sk bob-s3-secret) ;;
        writer) cred=(--ak AKIAMATRIXALICE00001 --sk alice-s3-secret) ;;
        admin) cred=(--ak AKIAMATRIXCAROL00003 --sk carol-s3-secret) ;;
    esac
    [ "$m" = PUT ] && cred+=(--body "$TEST_TMP/seed")
    /usr/bin/python3 "$CS_SRCDIR/tests/integration/s3_request.py" --out "$TEST_TMP/body" \
        --headers-out "$TEST_TMP/headers" "${cred[@]}" "$@" "$m" "$S3URL$p"
}
s3code() { sed -n 's:.*<Code>\([^<]*\)</Code>.*:\1:p' "$TEST_TMP/body" | head -n 1; }
# the HTTP rights, with pub: anyone reads, any valid user writes
s3_allowed() { # ROLE NS METHOD
    if [ "$2" = pub ]; then
        case $1 in wrong) return 1 ;; anonymous) case $3 in GET|HEAD) return 0 ;; esac; return 1 ;; esac
        return 0
    fi
    [ "$1" = wrong ] || [ "$1" = anonymous ] && return 1
    allowed "$1" "$2" "$3"
}
[ "$(as reader PUT /pub/victim -H 'Content-Type:' --data-binary @"$TEST_TMP/seed")" = 201 ] || fail "seeding /pub/victim"
snapshot >"$TEST_TMP/before"
s3denied=0 s3hidden=0 s3leaks=""
for role in anonymous wrong other reader writer admin; do
    for ns in a b pub; do
        for m in GET HEAD PUT DELETE; do
            s3_allowed $role $ns $m && continue
            want=AccessDenied
            [ $role = wrong ] && want=SignatureDoesNotMatch
            s1=$(s3as $role $m "/$ns/victim")
            c1=$(s3code)
            grep -qi '^x-amz-request-id: .' "$TEST_TMP/headers" || fail "S3 $role $m /$ns: no x-amz-request-id"
            s2=$(s3as $role $m "/$ns/nope-s3-$role")
            c2=$(s3code)
            [ "$s1" = 403 ] && [ "$s2" = 403 ] || fail "S3 $role $m /$ns: $s1 (existing key) and $s2 (missing), want 403 $want"
            # HEAD has no body: its code cannot be checked
            [ $m = HEAD ] || { [ "$c1" = "$want" ] && [ "$c2" = "$want" ]; } ||
                fail "S3 $role $m /$ns: <Code> $c1 / $c2, want $want"
            # a bucket without rights answers as a missing bucket does
            if [ $ns = b ] && [ $role != anonymous ] && [ $role != wrong ]; then
                s3=$(s3as $role $m "/z/victim")
                [ "$s3" = "$s1" ] && { [ $m = HEAD ] || [ "$(s3code)" = "$c1" ]; } ||
                    s3leaks="$s3leaks; $role $m: b $s1 $c1, z $s3 $(s3code)"
                s3hidden=$((s3hidden + 1))
            fi
            s3denied=$((s3denied + 1))
        done
    done
done
snapshot >"$TEST_TMP/after"
cmp -s "$TEST_TMP/before" "$TEST_TMP/after" || fail "a refused S3 request changed stored objects"
s3allowed=0
for role in anonymous other reader writer admin; do
    for ns in a b pub; do
        for m in GET HEAD PUT DELETE; do
            s3_allowed $role $ns $m || continue
            case $m in
                GET) got=$(s3as $role GET "/$ns/victim"); want=200
                     [ "$got" = 200 ] && [ "$(cat "$TEST_TMP/body")" = seed-data ] || fail "S3 $role GET /$ns/victim: $got" ;;
                HEAD) got=$(s3as $role HEAD "/$ns/victim"); want=200 ;;
                PUT) got=$(s3as $role PUT "/$ns/s3-put-$role"); want=200
                     owner=writer; [ $ns = b ] && owner=other
                     [ "$(as $owner GET "/$ns/s3-put-$role")" = 200 ] && [ "$(cat "$TEST_TMP/body")" = seed-data ] ||
                         fail "S3 PUT by $role into /$ns: not served over HTTP" ;;
                DELETE) # seeded over HTTP by one who may write there, gone after
                        owner=writer; [ $ns = b ] && owner=other; [ $ns = pub ] && owner=reader
                        [ "$(as $owner PUT "/$ns/s3-del-$role" -H 'Content-Type:' --data-binary @"$TEST_TMP/seed")" = 201 ] ||
                            fail "seeding /$ns/s3-del-$role"
                        got=$(s3as $role DELETE "/$ns/s3-del-$role"); want=204
                        [ "$(as $owner GET "/$ns/s3-del-$role")" = 404 ] || fail "S3 DELETE by $role left /$ns/s3-del-$role" ;;
            esac
            [ "$got" = "$want" ] || fail "S3 $role $m /$ns: $got, want $want ($(head -c 200 "$TEST_TMP/body"))"
            s3allowed=$((s3allowed + 1))
        done
    done
done
ok "S3 column: $s3denied refused requests (403 AccessDenied or SignatureDoesNotMatch, existing and missing keys alike, nothing changed) and $s3allowed allowed ones, as the HTTP rights say"
# a bucket without rights answers as a missing bucket does (as over HTTP)
[ -z "$s3leaks" ] || fail "S3: a bucket without rights and a missing one answer differently, existence leaks: ${s3leaks#; }"
ok "S3 column: $s3hidden requests to a bucket without rights answered as to a missing one"
grep -q 'alice-s3-secret\|bob-s3-secret\|carol-s3-secret\|mallory-s3-secret' "$SERVER_LOG" && fail "an S3 secret reached the log"

# credentials in every form the clients send
[ "$(http GET /a/obj -u alice:alice-token)" = 200 ] || fail "token as Basic password (ccache/Bazel URL userinfo)"
b64url=$(printf 'bob:bob-pw' | base64 | tr '+/' '-_')
[ "$(http GET /a/obj -H "Authorization: Basic $b64url")" = 200 ] || fail "URL-safe base64 Basic"
[ "$(http GET /a/obj -H 'Authorization: Bearer carol-old')" = 200 ] || fail "second token of a user"
[ "$(http GET /a/obj -H 'Authorization: Digest x')" = 401 ] || fail "unknown scheme not 401"
grep -q "unsupported Authorization scheme" "$TEST_TMP/body" || fail "unknown scheme: no reason"
[ "$(http GET /a/obj -u nobody:bob-pw)" = 401 ] || fail "unknown user not 401"
ok "Basic with a token, URL-safe base64, several tokens per user; bad schemes and unknown users get 401"

# public namespace: anyone reads, any valid user writes, a wrong secret is still refused
[ "$(http PUT /pub/k -H 'Content-Type:' --data-binary @"$TEST_TMP/seed")" = 401 ] || fail "anonymous PUT on pub"
[ "$(as reader PUT /pub/k -H 'Content-Type:' --data-binary @"$TEST_TMP/seed")" = 201 ] || fail "@authenticated PUT on pub"
[ "$(http GET /pub/k)" = 200 ] || fail "anonymous GET on pub"
[ "$(as wrong GET /pub/k)" = 401 ] || fail "wrong secret on a public namespace must be 401"
[ "$(http GET /nosuchns/k)" = 401 ] || fail "anonymous probing of namespace names"
[ "$(as reader GET /nosuchns/k)" = 404 ] || fail "unknown namespace for a user"
ok "\"*\" and \"@authenticated\"; unknown namespaces: 401 anonymous, 404 for users"

# admin endpoints: stats and purge for the namespace's admins only
[ "$(http GET /_/stats)" = 401 ] || fail "anonymous stats"
[ "$(as writer GET /_/stats)" = 403 ] || fail "non-admin stats"
[ "$(as admin GET /_/stats)" = 200 ] || fail "admin stats"
grep -q '"a":' "$TEST_TMP/body" && ! grep -q '"b":' "$TEST_TMP/body" || fail "carol sees other namespaces' stats: $(cat "$TEST_TMP/body")"
[ "$(as admin GET /_/metrics)" = 200 ] && ! grep -q 'namespace="b"' "$TEST_TMP/body" || fail "metrics leak"
[ "$(as writer DELETE /_/ns/a)" = 403 ] || fail "writer purge"
[ "$(as admin DELETE /_/ns/b)" = 404 ] || fail "purge of another tenant: not answered as a missing namespace"
b1=$(answer | sed "s/'b'/'NS'/")
[ "$(as admin DELETE /_/ns/z)" = 404 ] && [ "$(answer | sed "s/'z'/'NS'/")" = "$b1" ] ||
    fail "purge of another tenant's namespace tells it from a missing one"
[ "$(as reader DELETE /_/ns/a)" = 403 ] || fail "purge by a reader"
[ "$(http DELETE /_/ns/a)" = 401 ] || fail "anonymous purge"
[ "$(as other GET /b/obj)" = 200 ] || fail "b changed"
[ "$(as admin DELETE /_/ns/a)" = 200 ] || fail "admin purge"
[ "$(as reader GET /a/obj)" = 404 ] || fail "purge did not empty a"
[ "$(http GET /_/health)" = 200 ] || fail "health needs no credentials"
ok "stats and metrics show only the caller's namespaces; purge needs the admin right"
grep -q 'alice-token\|bob-pw\|carol-token' "$SERVER_LOG" && fail "a secret reached the log"
ok "no secret in the server log"
stop_server
