# The index writer gathers non-durable writes for a few ms before a commit
# (one transaction per group of PUTs, not per PUT), and cuts the wait short
# for a write someone waits for: a durable PUT, or a listing that must see
# the PUT before it.
source "$CS_SRCDIR/tests/lib.sh"

commits() {
    http GET /_/stats >/dev/null
    json_field data_dir index_commits "$TEST_TMP/body"
}

cat >"$TEST_TMP/cstashd.conf" <<CONF
namespaces = (
  { name = "fast"; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; },
  { name = "safe"; durable = true; read = [ "*" ]; write = [ "*" ]; admin = [ "*" ]; }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
head -c 1024 /dev/urandom >"$TEST_TMP/obj"

# 400 PUTs from 8 keep-alive connections: with one commit per PUT the
# writer keeps up and commits about 400 times
before=$(commits)
[ -n "$before" ] || fail "/_/stats has no data_dir.index_commits"
start_ns=$(date +%s%N)
pids=""
for c in 1 2 3 4 5 6 7 8; do
    curl -sSf --max-time 60 -o /dev/null -X PUT --data-binary @"$TEST_TMP/obj" \
        "$URL/fast/gc$c/[1-50]" &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a PUT of batch $p failed"; done
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
after=$(commits)
n=$((after - before))
for c in 1 4 8; do for i in 1 25 50; do expect_status 200 GET "/fast/gc$c/$i"; done; done
# nobody waits for these writes, so each group spans at least 5 ms: at
# most one commit per 5 ms of the run (plus the last). One commit per PUT
# (the writer keeping up) breaks this while the PUTs come faster than one
# per 5 ms, which they do here unless the machine is very slow.
limit=$((elapsed_ms / 5 + 3))
[ "$n" -le "$limit" ] || fail "400 PUTs in $elapsed_ms ms took $n index commits (at most $limit expected)"
ok "400 non-durable PUTs in $elapsed_ms ms: $n index commits (at most $limit)"

# a listing right after a PUT sees it, without waiting out the gathering
expect_status 201 PUT /fast/list/one --data-binary @"$TEST_TMP/obj"
got=$(http PROPFIND /fast/list/ -H 'Depth: 1')
[ "$got" = 207 ] || fail "PROPFIND: $got"
grep -q '/fast/list/one' "$TEST_TMP/body" || fail "the listing right after the PUT misses it"
ok "a listing right after a PUT shows it"

# a durable PUT is committed (and answered) at once, gathering or not
start_ns=$(date +%s%N)
for i in $(seq 1 20); do
    expect_status 201 PUT "/safe/d/$i" --data-binary @"$TEST_TMP/obj"
done
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))
stop_server KILL
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"
for i in $(seq 1 20); do expect_status 200 GET "/safe/d/$i"; done
ok "20 durable PUTs in $elapsed_ms ms all survive kill -9"
stop_server TERM
