# A PUT larger than the room left below the hard limit (max_size + 5%)
# gets room made for it by eviction, even while the namespace (or the
# data dir) is still under max_size: it used to wait for an eviction that
# never came, since nothing was over max_size, and got 507 for good.
source "$CS_SRCDIR/tests/lib.sh"

# put_within PATH FILE: 201 within a few tries (a PUT that finds no room
# waits up to 2 s for eviction; one more try covers a slow machine)
put_within() {
    local code try
    for try in 1 2 3; do
        code=$(http PUT "$1" --data-binary @"$2")
        [ "$code" = 201 ] && return 0
        [ "$code" = 507 ] || fail "PUT $1: $code"
    done
    fail "PUT $1 of $(stat -c %s "$2") bytes into a namespace under its max_size: still 507 after 3 tries"
}

head -c 96000 /dev/urandom >"$TEST_TMP/fill"  # 96 KiB on disk with its header
head -c 200000 /dev/urandom >"$TEST_TMP/big"  # ~196 KiB: more than 5% of 1M

for scope in namespace data_dir; do
    if [ $scope = namespace ]; then
        cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = ( { name = "ns"; max_size = "1M"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; } );
CONF
    else
        cat >"$TEST_TMP/cstashd.conf" <<CONF
max_size = "1M";
namespaces = ( { name = "ns"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; } );
CONF
    fi
    rm -rf "$TEST_TMP/data"
    start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
    # 10 x 96 KiB = 960 KiB: under max_size (1024 KiB), so nothing is evicted
    for i in $(seq 1 10); do expect_status 201 PUT "/ns/fill$i" --data-binary @"$TEST_TMP/fill"; done
    # a PUT that only announces a large body, and closes: nothing is evicted
    # for bytes that never came (it used to empty the namespace)
    raw_request 'PUT /ns/announced HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\nExpect: 100-continue\r\n\r\n' ||
        fail "the announcing PUT's client failed"
    sleep 1.5 # an eviction round would have run
    for i in $(seq 1 10); do expect_status 200 GET "/ns/fill$i"; done
    ok "$scope: a PUT that announces a body it does not send evicts nothing"
    put_within /ns/big "$TEST_TMP/big"
    expect_status 200 GET /ns/big
    cmp -s "$TEST_TMP/body" "$TEST_TMP/big" || fail "the large object reads back wrong"
    expect_status 404 GET /ns/fill1 # the least recently used made the room
    ok "$scope under max_size: a PUT beyond the hard limit's room gets it by eviction"
    stop_server
done
