# litmus (the WebDAV test suite of neon) against a real cstashd, once in a
# namespace open to anonymous writers and once as a Basic user: the suites
# basic, copymove, props and http pass, except the tests listed below,
# which need PROPPATCH (cstashd stores no dead properties) or LOCK (it
# claims DAV class 1 only). A new failure, a new warning, or a listed one
# that no longer happens fails the test: update the lists with the code.
source "$CS_SRCDIR/tests/lib.sh"

command -v litmus >/dev/null || fail "litmus is not installed (scripts/deps.sh test installs it)"
command -v python3 >/dev/null || fail "python3 is not installed (scripts/deps.sh test installs it)"
# The names and numbers below are litmus 0.13's (Debian bookworm and later).
version=$(litmus --version 2>&1 | head -n 1)
[ "$version" = "litmus 0.13" ] || fail "litmus is '$version'; the expected results below are litmus 0.13's: check them and update this test"

PASSWORD=litmus-password
cat >"$TEST_TMP/cstashd.conf" <<CONF
users = ( { name = "dav"; password_hash = "$(printf %s "$PASSWORD" | "$CSTASHD" hash-password)"; } );
namespaces = (
  { name = "open"; read = [ "*" ]; write = [ "*" ]; },
  { name = "team"; read = [ "dav" ]; write = [ "dav" ]; }
);
CONF
start_server "$TEST_TMP/data" --config "$TEST_TMP/cstashd.conf"

# run_litmus NAME URL [USER PASSWORD]: runs the four suites; the output in
# $TEST_TMP/NAME/out (litmus writes debug.log and child.log in its working
# directory, kept there for a failing run).
run_litmus() {
    local name=$1 dir=$TEST_TMP/$1
    shift
    mkdir -p "$dir"
    (cd "$dir" && TESTS="basic copymove props http" timeout 120 litmus -k "$@" >out 2>&1) || true
}

# check_litmus NAME: compares the results with the expected ones, prints the
# counts of each suite.
check_litmus() {
    python3 - "$TEST_TMP/$1/out" <<'PY' || fail "litmus ($1): unexpected results (the log is in $TEST_TMP/$1/debug.log)"
import re, sys

# test (suite/number.name) -> why it is expected to fail
EXPECTED_FAIL = {
    "props/6.propset": "PROPPATCH (405: cstashd stores no dead properties)",
    "props/26.propmanyns": "PROPPATCH (405)",
    "props/27.propget": "reads back the properties propmanyns would have set with PROPPATCH",
}
EXPECTED_WARN = {
    "basic/2.options: server does not claim Class 2 compliance": "no LOCK: DAV class 1 only",
}
SUITES = ["basic", "copymove", "props", "http"]
# litmus passes these whatever the status (it parses only a 207 body): the
# debug log must show they got one
MUST_207 = ["props: 8 (propextended)", "props: 24 (propwformed)"]

suite = cur = None
results, reasons, warnings, summary = {}, {}, [], {}
for raw in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = raw.rstrip("\n").split("\r")[-1]   # litmus redraws each line after a \r
    m = re.match(r"-> running `(\w+)':", line)
    if m:
        suite = m.group(1)
        continue
    m = re.match(r"<- summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed", line)
    if m:
        summary[m.group(1)] = (int(m.group(3)), int(m.group(2)))
        continue
    m = re.match(r"\s*(\d+)\.\s+(\w+)\.*\s*(.*)$", line)
    if m:
        cur, rest = "%s/%s.%s" % (suite, m.group(1), m.group(2)), m.group(3)
    else:
        m = re.match(r"\s+\.+\s*(.*)$", line)   # the result after a warning
        if not (m and cur):
            continue
        rest = m.group(1)
    if rest.startswith("WARNING:"):
        warnings.append("%s: %s" % (cur, rest[len("WARNING:"):].strip()))
    elif rest.startswith(("pass", "FAIL", "SKIPPED")):
        results[cur] = rest.split()[0]
        reasons[cur] = rest

bad = []
for s in SUITES:
    if s not in summary:
        bad.append("suite %s did not run to its summary" % s)
    else:
        print("litmus %-8s %d/%d passed" % (s, *summary[s]))
failed = {t for t, r in results.items() if r == "FAIL"}
for t in sorted(failed - EXPECTED_FAIL.keys()):
    bad.append("new failure: %s %s" % (t, reasons[t]))
for t in sorted(EXPECTED_FAIL.keys() - failed):
    bad.append("%s no longer fails (%s): update EXPECTED_FAIL" % (t, results.get(t, "not run")))
for w in sorted(set(warnings) - EXPECTED_WARN.keys()):
    bad.append("new warning: %s" % w)
for w in sorted(EXPECTED_WARN.keys() - set(warnings)):
    bad.append("warning gone: %s: update EXPECTED_WARN" % w)
log = open(sys.argv[1].replace("/out", "/debug.log"), encoding="utf-8", errors="replace").read()
for t in MUST_207:
    i = log.find("X-Litmus: " + t)
    m = re.search(r"\[status-line\] < HTTP/1\.1 (\d+)", log[i:]) if i >= 0 else None
    if not m or m.group(1) != "207":
        bad.append("%s: the PROPFIND got %s, not 207" % (t, m.group(1) if m else "no answer"))
for t in sorted(failed & EXPECTED_FAIL.keys()):
    print("expected failure %s: %s" % (t, EXPECTED_FAIL[t]))
for b in bad:
    print("litmus: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

run_litmus open "$URL/open/"
check_litmus open
ok "litmus, anonymous writer: basic, copymove, props and http pass but for PROPPATCH and LOCK"

run_litmus user "$URL/team/" dav "$PASSWORD"
check_litmus user
grep -q ' 401 ' "$TEST_TMP/user/debug.log" || fail "litmus as a user never met a 401: were credentials needed?"
ok "litmus, Basic user: the same results"

# litmus cleans up after itself; what it leaves must still be a valid listing
[ "$(http PROPFIND /open/ -H 'Depth: 1')" = 207 ] || fail "PROPFIND after litmus"
python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$TEST_TMP/body" \
    || fail "PROPFIND after litmus is not well-formed XML"
ok "the namespace lists as well-formed XML after litmus"

stop_server
echo "all $CHECKS checks passed"
