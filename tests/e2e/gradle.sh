# Gradle's HttpBuildCache against cstashd: push on, local cache off; after
# `gradle clean` every cacheable task comes FROM-CACHE.
source "$CS_SRCDIR/tests/lib.sh"

command -v gradle >/dev/null || fail "gradle is not installed (scripts/deps.sh test installs it)"
start_server "$TEST_TMP/data"

proj=$TEST_TMP/proj
mkdir -p "$proj/src/main/java/demo" "$proj/src/extra/java/extra"
cat >"$proj/settings.gradle" <<'GRADLE'
rootProject.name = 'demo'
buildCache {
    local { enabled = false }
    remote(HttpBuildCache) {
        url = System.getenv('CS_GRADLE_URL')
        push = true
        if (System.getenv('CS_GRADLE_USER')) {
            credentials {
                username = System.getenv('CS_GRADLE_USER')
                password = System.getenv('CS_GRADLE_PASS')
            }
        }
    }
}
GRADLE
cat >"$proj/build.gradle" <<'GRADLE'
apply plugin: 'java'
sourceSets { extra }
jar.dependsOn extraClasses
GRADLE
cat >"$proj/src/main/java/demo/Hello.java" <<'JAVA'
package demo;
public class Hello { public static void main(String[] a) { System.out.println("hello"); } }
JAVA
cat >"$proj/src/extra/java/extra/Util.java" <<'JAVA'
package extra;
public class Util { public static int twice(int x) { return 2 * x; } }
JAVA

export CS_GRADLE_URL="$URL/default/gradle/"
run_gradle() {
    (cd "$proj" && timeout 600 gradle --no-daemon --build-cache --console=plain \
        -g "$TEST_TMP/gradle-home" "$@") >"$TEST_TMP/gradle.out" 2>&1 \
        || { cat "$TEST_TMP/gradle.out"; fail "gradle $* failed"; }
}

run_gradle jar
grep -q ':compileJava$' "$TEST_TMP/gradle.out" || { cat "$TEST_TMP/gradle.out"; fail "cold build did not compile"; }
stored=$(find "$TEST_TMP/data/objects" -type f | wc -l)
[ "$stored" -ge 2 ] || fail "cold build stored $stored entries, want 2 (compileJava, compileExtraJava)"
ok "cold build pushed $stored entries"

run_gradle clean
run_gradle jar
cat "$TEST_TMP/gradle.out"
hits=$(grep -c 'FROM-CACHE' "$TEST_TMP/gradle.out" || true)
grep -q ':compileJava FROM-CACHE' "$TEST_TMP/gradle.out" || fail "compileJava not from the cache"
grep -q ':compileExtraJava FROM-CACHE' "$TEST_TMP/gradle.out" || fail "compileExtraJava not from the cache"
echo "gradle: $hits tasks FROM-CACHE"
ok "after clean: $hits cacheable tasks FROM-CACHE"
curl -sS --max-time 10 -o "$TEST_TMP/metrics" "$URL/_/metrics" || fail "GET /_/metrics"
[ "$(kind_count default gradle hits "$TEST_TMP/metrics")" -ge "$hits" ] &&
    [ "$(kind_count default other hits "$TEST_TMP/metrics")" = 0 ] ||
    fail "kinds: $(grep '^cstash_kind_' "$TEST_TMP/metrics" | grep -v ' 0$' | tr '\n' ' ')"
ok "metrics: Gradle's hits counted as kind gradle"
stop_server

# A namespace that needs credentials: Gradle's credentials {} (Basic) push
# and hit; a wrong password gets no hit and the build still succeeds.
team_conf "$TEST_TMP/auth.conf" gr "" gr-pass
start_server "$TEST_TMP/data-auth" --config "$TEST_TMP/auth.conf"
export CS_GRADLE_URL="$URL/team/gradle/" CS_GRADLE_USER=gr CS_GRADLE_PASS=gr-pass
run_gradle clean
run_gradle jar
[ "$(find "$TEST_TMP/data-auth/objects" -type f | wc -l)" -ge 2 ] || fail "nothing pushed with credentials"
run_gradle clean
run_gradle jar
grep -q ':compileJava FROM-CACHE' "$TEST_TMP/gradle.out" || fail "no hit with credentials"
export CS_GRADLE_PASS=wrong
run_gradle clean
run_gradle jar
grep -q 'FROM-CACHE' "$TEST_TMP/gradle.out" && fail "a wrong password got hits"
grep -qi '401' "$TEST_TMP/gradle.out" || { cat "$TEST_TMP/gradle.out"; fail "Gradle did not report the 401"; }
ok "Gradle credentials {}: push and FROM-CACHE hits; a wrong password gets none, the build succeeds"
stop_server

# read_only_puts = "drop": a developer who may only read builds with push
# on; its PUTs get 202 and store nothing, so Gradle keeps reading the cache
# (a 403 on one PUT turns it off for the whole build, reads too).
tok_ci=$(printf '%s' ci-pass | "$CSTASHD" hash-password)
tok_dev=$(printf '%s' dev-pass | "$CSTASHD" hash-password)
cat >"$TEST_TMP/ro.conf" <<CONF
users = ( { name = "ci"; password_hash = "$tok_ci"; }, { name = "dev"; password_hash = "$tok_dev"; } );
namespaces = ( { name = "team"; read = [ "ci", "dev" ]; write = [ "ci" ]; admin = [ "ci" ];
                 read_only_puts = "drop"; } );
CONF
start_server "$TEST_TMP/data-ro" --config "$TEST_TMP/ro.conf"
export CS_GRADLE_URL="$URL/team/gradle/" CS_GRADLE_USER=ci CS_GRADLE_PASS=ci-pass
run_gradle clean
run_gradle jar
stored=$(find "$TEST_TMP/data-ro/objects" -type f | wc -l)
[ "$stored" -ge 2 ] || fail "ci pushed $stored entries"
# the developer changes one source: that task misses and Gradle PUTs it
sed -i 's/2 \* x/3 * x/' "$proj/src/extra/java/extra/Util.java"
export CS_GRADLE_USER=dev CS_GRADLE_PASS=dev-pass
run_gradle clean
run_gradle jar
cat "$TEST_TMP/gradle.out"
grep -q ':compileJava FROM-CACHE' "$TEST_TMP/gradle.out" || fail "the read-only developer got no hit"
grep -q ':compileExtraJava$' "$TEST_TMP/gradle.out" || fail "the changed task did not run"
grep -qi 'disabl' "$TEST_TMP/gradle.out" && fail "Gradle disabled the remote cache for the read-only developer"
[ "$(find "$TEST_TMP/data-ro/objects" -type f | wc -l)" = "$stored" ] || fail "a read-only developer's PUT was stored"
curl -sS --max-time 10 -u ci:ci-pass "$URL/_/stats" -o "$TEST_TMP/stats.json"
dropped=$(json_field team dropped_writes "$TEST_TMP/stats.json")
[ "${dropped:-0}" -ge 1 ] || fail "no dropped write counted: $(cat "$TEST_TMP/stats.json")"
ok "read_only_puts = \"drop\": a read-only developer gets FROM-CACHE, its $dropped PUT(s) dropped, the build green"
stop_server
