/* Config parsing: defaults, every key, and errors with file:line. */
#include "autoconfig.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
#include "server/hints.h"
#include "tests/unit/check_main.h"

static struct cs_config_errors errs;

static void teardown(void)
{
    cs_config_errors_clear(&errs);
}

static bool errors_contain(const char *needle)
{
    size_t i;

    for (i = 0; i < errs.count; i++)
        if (strstr(errs.lines[i], needle))
            return true;
    return false;
}

START_TEST(embedded_default)
{
    struct cs_config *cfg = NULL;

    setenv("XDG_CACHE_HOME", "/tmp/xdg-test", 1);
    ck_assert_int_eq(cs_config_load(NULL, &cfg, &errs), CS_OK);
    ck_assert_uint_eq(cfg->n_listen, 1);
    ck_assert_str_eq(cfg->listen[0], "127.0.0.1:8080");
    ck_assert_str_eq(cfg->data_dir, "/tmp/xdg-test/cstashd");
    ck_assert_uint_ge(cfg->threads, 1);
    ck_assert_uint_eq(cfg->max_blob_size, 1ull << 30);
    ck_assert_uint_eq(cfg->n_namespaces, 1);
    ck_assert_str_eq(cfg->namespaces[0].name, "default");
    ck_assert_uint_eq(cfg->namespaces[0].rights_anyone, CS_RIGHT_ADMIN);
    ck_assert_uint_eq(cfg->n_users, 0);
    ck_assert_uint_eq(cfg->limits.connections_per_ip, 256);
    ck_assert_uint_eq(cfg->limits.header_timeout_s, 30);
    ck_assert_uint_eq(cfg->limits.workers, 16);
    ck_assert_uint_eq(cfg->limits.work_queue, 256);
    ck_assert(!cfg->namespaces[0].durable);
    ck_assert_uint_eq(cfg->max_size, 10ull << 30);
    ck_assert(cfg->track_access);
    ck_assert_uint_eq(cfg->stats_interval_s, 60);
    ck_assert_uint_eq(cfg->namespaces[0].max_size, 0);
    ck_assert_ptr_nonnull(cs_config_find_namespace(cfg, "default", 7));
    ck_assert_ptr_null(cs_config_find_namespace(cfg, "defaul", 6));
    cs_config_free(cfg);
    unsetenv("XDG_CACHE_HOME");
}
END_TEST

START_TEST(full_file)
{
    struct cs_config *cfg = NULL;
    const char *text = "listen = [ \"127.0.0.1:9000\", \"[::1]:9001\" ];\n"
                       "data_dir = \"/srv/cache\";\n"
                       "threads = 3;\n"
                       "max_blob_size = \"64M\";\n"
                       "max_size = \"2T\";\n"
                       "track_access = false;\n"
                       "namespaces = (\n"
                       "  { name = \"a\"; durable = true; max_size = \"5G\"; read = [ \"*\" ]; "
                       "write = [ \"*\" ]; },\n"
                       "  { name = \"b\"; max_blob_size = 1024; read = [ \"*\" ]; }\n"
                       ");\n";

    ck_assert_int_eq(cs_config_load_string(text, "t.conf", &cfg, &errs), CS_OK);
    ck_assert_uint_eq(cfg->n_listen, 2);
    ck_assert_str_eq(cfg->listen[1], "[::1]:9001");
    ck_assert_str_eq(cfg->data_dir, "/srv/cache");
    ck_assert_uint_eq(cfg->threads, 3);
    ck_assert_uint_eq(cfg->max_blob_size, 64ull << 20);
    ck_assert_uint_eq(cfg->namespaces[0].max_blob_size, 64ull << 20); /* inherited */
    ck_assert(cfg->namespaces[0].durable);
    ck_assert_uint_eq(cfg->max_size, 2ull << 40);
    ck_assert(!cfg->track_access);
    ck_assert_uint_eq(cfg->namespaces[0].max_size, 5ull << 30);
    ck_assert_uint_eq(cfg->namespaces[1].max_size, 0);
    ck_assert_uint_eq(cfg->namespaces[1].max_blob_size, 1024);
    ck_assert_uint_eq(cfg->namespaces[1].rights_anyone, CS_RIGHT_READ);
    ck_assert_uint_eq(cs_config_rights(&cfg->namespaces[1], -1), CS_RIGHT_READ); /* no write */
    cs_config_free(cfg);
}
END_TEST

START_TEST(errors_have_lines)
{
    struct cs_config *cfg = NULL;
    const char *text = "listen = [ \"nope\" ];\n"                               /* 1 */
                       "threads = -2;\n"                                        /* 2 */
                       "max_blob_size = \"lots\";\n"                            /* 3 */
                       "colour = \"blue\"; max_size = -1;\n"                    /* 4 */
                       "namespaces = (\n"                                       /* 5 */
                       "  { name = \"ok\"; read = [ \"ci\" ]; },\n"             /* 6 */
                       "  { name = \"_bad\"; },\n"                              /* 7 */
                       "  { name = \"ok\"; durable = \"yes\"; flavour = 1; }\n" /* 8 */
                       ");\n";

    ck_assert_int_eq(cs_config_load_string(text, "bad.conf", &cfg, &errs), CS_ERR_INVALID);
    ck_assert_ptr_null(cfg);
    ck_assert(errors_contain("bad.conf:1: listen address"));
    ck_assert(errors_contain("bad.conf:2: threads"));
    ck_assert(errors_contain("bad.conf:3: max_blob_size"));
    ck_assert(errors_contain("bad.conf:4: unknown setting 'colour'"));
    ck_assert(errors_contain("bad.conf:4: max_size must not be negative"));
    ck_assert(errors_contain("bad.conf:6: unknown principal \"ci\""));
    ck_assert(errors_contain("bad.conf:7: namespace name"));
    ck_assert(errors_contain("bad.conf:8: durable must be true or false"));
    ck_assert(errors_contain("bad.conf:8: unknown namespace setting 'flavour'"));
    ck_assert(errors_contain("bad.conf:8: namespace \"ok\" is defined twice"));
}
END_TEST

START_TEST(syntax_error)
{
    struct cs_config *cfg = NULL;

    ck_assert_int_eq(cs_config_load_string("a = ;\n\n", "syn.conf", &cfg, &errs), CS_ERR_INVALID);
    ck_assert_uint_eq(errs.count, 1);
    ck_assert_msg(strncmp(errs.lines[0], "syn.conf:1: ", 12) == 0, "%s", errs.lines[0]);
}
END_TEST

START_TEST(missing_file)
{
    struct cs_config *cfg = NULL;

    ck_assert_int_eq(cs_config_load("/nonexistent/cstashd.conf", &cfg, &errs), CS_ERR_INVALID);
    ck_assert(errors_contain("/nonexistent/cstashd.conf: cannot read: No such file"));
}
END_TEST

START_TEST(file_with_line)
{
    char path[] = "/tmp/cstash-test-conf-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "\n\nnamespaces = ( { name = \"x\"; write = [ \"bob\" ]; } );\n";
    struct cs_config *cfg = NULL;
    char want[128];

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    ck_assert_int_eq(cs_config_load(path, &cfg, &errs), CS_ERR_INVALID);
    snprintf(want, sizeof want, "%s:3: unknown principal \"bob\"", path);
    ck_assert_msg(errors_contain(want), "%s", errs.count ? errs.lines[0] : "(none)");
    unlink(path);
}
END_TEST

START_TEST(no_namespaces)
{
    struct cs_config *cfg = NULL;

    ck_assert_int_eq(cs_config_load_string("threads = 2;\n", "n.conf", &cfg, &errs),
                     CS_ERR_INVALID);
    ck_assert(errors_contain("no namespaces defined"));
}
END_TEST

START_TEST(client_url_for_wildcards)
{
    char out[128];
    ck_assert(cs_client_url("http://0.0.0.0:19503", "build-box", out, sizeof out));
    ck_assert_str_eq(out, "http://build-box:19503");
    ck_assert(cs_client_url("http://[::]:8080", "build-box", out, sizeof out));
    ck_assert_str_eq(out, "http://build-box:8080");
    ck_assert(cs_client_url("https://0.0.0.0:443", "h", out, sizeof out));
    ck_assert_str_eq(out, "https://h:443");
    ck_assert(!cs_client_url("http://127.0.0.1:8080", "h", out, sizeof out));
    ck_assert_str_eq(out, "http://127.0.0.1:8080");
}
END_TEST

START_TEST(listen_addresses)
{
    char host[256];
    uint16_t port;

    ck_assert_int_eq(cs_parse_listen_addr("127.0.0.1:8080", host, sizeof host, &port), CS_OK);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_eq(port, 8080);
    ck_assert_int_eq(cs_parse_listen_addr("[::1]:0", host, sizeof host, &port), CS_OK);
    ck_assert_str_eq(host, "::1");
    ck_assert_uint_eq(port, 0);
    ck_assert_int_eq(cs_parse_listen_addr("localhost:65535", host, sizeof host, &port), CS_OK);
    ck_assert_int_eq(cs_parse_listen_addr("::1:80", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("host:65536", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("host:", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr(":80", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("host", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("[::1]80", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("h:-1", host, sizeof host, &port), CS_ERR_INVALID);
}
END_TEST

/* sha256("secret-token") and a yescrypt hash of "pw" (cstashd hash-password). */
#define TOKEN_HASH "930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d94"
#define PW_HASH "$y$j9T$JuaUKqFYXYiXhiBr2NHMF0$8AC1ZICWWcXlyDZcZnw0G/HrT3xmLfNAiGhSTDKjIt4"

START_TEST(users_and_acls)
{
    struct cs_config *cfg = NULL;
    const char *text =
        "users = (\n"
        "  { name = \"ci\"; token_sha256 = \"" TOKEN_HASH "\"; },\n"
        "  { name = \"dev@example.com\"; password_hash = \"" PW_HASH "\";\n"
        "    tokens_sha256 = [ \"" TOKEN_HASH "\" ]; },\n"
        "  { name = \"ops\"; password_hash = \"" PW_HASH "\"; }\n"
        ");\n"
        "limits = { connections = 10; connections_per_ip = 2; header_size = \"8K\";\n"
        "           url_length = 512; idle_timeout = \"5s\"; header_timeout = 3;\n"
        "           request_timeout = \"2m\"; propfind_results = 50; };\n"
        "auth_cache_ttl = \"1m\";\n"
        "namespaces = (\n"
        "  { name = \"a\"; read = [ \"@authenticated\" ]; write = [ \"ci\" ];\n"
        "    admin = [ \"ops\" ]; },\n"
        "  { name = \"pub\"; read = [ \"*\" ]; write = [ \"dev@example.com\" ]; }\n"
        ");\n";
    const struct cs_namespace_config *a, *pub;

    ck_assert_int_eq(cs_config_load_string(text, "u.conf", &cfg, &errs), CS_OK);
    ck_assert_uint_eq(cfg->n_users, 3);
    ck_assert_int_eq(cs_config_find_user(cfg, "ops"), 2);
    ck_assert_int_eq(cs_config_find_user(cfg, "nobody"), -1);
    ck_assert_uint_eq(cfg->users[1].n_tokens, 1);
    ck_assert_str_eq(cfg->users[1].password_hash, PW_HASH);
    ck_assert_uint_eq(cfg->users[0].tokens[0][0], 0x93);
    a = &cfg->namespaces[0];
    pub = &cfg->namespaces[1];
    ck_assert_uint_eq(cs_config_rights(a, -1), 0);
    ck_assert_uint_eq(cs_config_rights(a, 0), CS_RIGHT_WRITE); /* write implies read */
    ck_assert_uint_eq(cs_config_rights(a, 1), CS_RIGHT_READ);  /* @authenticated */
    ck_assert_uint_eq(cs_config_rights(a, 2), CS_RIGHT_ADMIN); /* admin implies write */
    ck_assert_uint_eq(cs_config_rights(pub, -1), CS_RIGHT_READ);
    ck_assert_uint_eq(cs_config_rights(pub, 1), CS_RIGHT_WRITE);
    ck_assert_uint_eq(cfg->limits.connections, 10);
    ck_assert_uint_eq(cfg->limits.connections_per_ip, 2);
    ck_assert_uint_eq(cfg->limits.header_size, 8192);
    ck_assert_uint_eq(cfg->limits.url_length, 512);
    ck_assert_uint_eq(cfg->limits.idle_timeout_s, 5);
    ck_assert_uint_eq(cfg->limits.header_timeout_s, 3);
    ck_assert_uint_eq(cfg->limits.request_timeout_s, 120);
    ck_assert_uint_eq(cfg->limits.propfind_results, 50);
    ck_assert_uint_eq(cfg->auth_cache_ttl_s, 60);
    cs_config_free(cfg);
}
END_TEST

#define ONE_NS "namespaces = ( { name = \"n\"; } );\n"

START_TEST(worker_limits)
{
    struct cs_config *low = NULL, *high = NULL, *cfg = NULL;
    char why[128];

    ck_assert_int_eq(cs_config_load_string("limits = { workers = 1; work_queue = 1; };\n" ONE_NS,
                                           "w.conf", &low, &errs),
                     CS_OK);
    ck_assert_uint_eq(low->limits.workers, 1);
    ck_assert_uint_eq(low->limits.work_queue, 1);
    ck_assert_int_eq(
        cs_config_load_string("limits = { workers = 256; work_queue = \"64K\"; };\n" ONE_NS,
                              "w.conf", &high, &errs),
        CS_OK);
    ck_assert_uint_eq(high->limits.workers, 256);
    ck_assert_uint_eq(high->limits.work_queue, 65536);
    /* the pool is made at start: a reload cannot resize it */
    ck_assert(!cs_config_reloadable(low, high, why, sizeof why));
    ck_assert_str_eq(why, "limits or track_access changed");
    cs_config_free(low);
    cs_config_free(high);

    ck_assert_int_eq(cs_config_load_string("limits = {\n"
                                           "  workers = 0;\n"    /* 2 */
                                           "  work_queue = 0;\n" /* 3 */
                                           "};\n" ONE_NS,
                                           "bad.conf", &cfg, &errs),
                     CS_ERR_INVALID);
    ck_assert_ptr_null(cfg);
    ck_assert(errors_contain("bad.conf:2: workers must be from 1 to 256"));
    ck_assert(errors_contain("bad.conf:3: work_queue must be from 1 to 65536"));
    cs_config_errors_clear(&errs);
    ck_assert_int_eq(cs_config_load_string("limits = { workers = 257;\n"
                                           "  work_queue = 65537; };\n" ONE_NS,
                                           "bad.conf", &cfg, &errs),
                     CS_ERR_INVALID);
    ck_assert(errors_contain("bad.conf:1: workers must be from 1 to 256"));
    ck_assert(errors_contain("bad.conf:2: work_queue must be from 1 to 65536"));
    cs_config_errors_clear(&errs);
    ck_assert_int_eq(
        cs_config_load_string("limits = { workers = -1; work_queue = \"lots\"; };\n" ONE_NS,
                              "bad.conf", &cfg, &errs),
        CS_ERR_INVALID);
    ck_assert(errors_contain("bad.conf:1: workers must not be negative"));
    ck_assert(errors_contain("bad.conf:1: work_queue must be a size"));
}
END_TEST

START_TEST(stats_interval)
{
    struct cs_config *a = NULL, *b = NULL, *cfg = NULL;
    char why[128];

    ck_assert_int_eq(cs_config_load_string("stats_interval = 1;\n" ONE_NS, "s.conf", &a, &errs),
                     CS_OK);
    ck_assert_uint_eq(a->stats_interval_s, 1);
    ck_assert_int_eq(
        cs_config_load_string("stats_interval = \"1h\";\n" ONE_NS, "s.conf", &b, &errs), CS_OK);
    ck_assert_uint_eq(b->stats_interval_s, 3600);
    /* the history's rings are made at start: a reload cannot change them */
    ck_assert(!cs_config_reloadable(a, b, why, sizeof why));
    ck_assert_str_eq(why, "stats_interval changed");
    cs_config_free(a);
    cs_config_free(b);
    ck_assert_int_eq(
        cs_config_load_string("stats_interval = \"61m\";\n" ONE_NS, "bad.conf", &cfg, &errs),
        CS_ERR_INVALID);
    ck_assert(errors_contain("bad.conf:1: stats_interval must be from 1s to 1h"));
    cs_config_errors_clear(&errs);
    ck_assert_int_eq(cs_config_load_string("stats_interval = 0;\n" ONE_NS, "bad.conf", &cfg, &errs),
                     CS_ERR_INVALID);
    ck_assert(errors_contain("bad.conf:1: stats_interval must be a duration"));
}
END_TEST

START_TEST(secrets_are_never_plaintext)
{
    struct cs_config *cfg = NULL;
    const char *text = "users = ( { name = \"a\"; password = \"hunter2\"; },\n"
                       "          { name = \"b\"; token = \"abc\"; },\n"
                       "          { name = \"c\"; token_sha256 = \"abc\"; },\n"
                       "          { name = \"d\"; password_hash = \"hunter2\"; },\n"
                       "          { name = \"e\"; password_hash = \"$apr1$x$y\"; },\n"
                       "          { name = \"a:b\"; },\n"
                       "          { name = \"c\"; } );\n"
                       "namespaces = ( { name = \"n\"; } );\n";

    ck_assert_int_eq(cs_config_load_string(text, "s.conf", &cfg, &errs), CS_ERR_INVALID);
    ck_assert(errors_contain("s.conf:1: user \"a\": plaintext passwords are not accepted"));
    ck_assert(errors_contain("s.conf:2: user \"b\": plaintext tokens are not accepted"));
    ck_assert(errors_contain("s.conf:3: user \"c\": a token hash is 64 hex digits"));
    ck_assert(errors_contain("s.conf:4: user \"d\": password hash is not a crypt(3) hash"));
    ck_assert(errors_contain("s.conf:5: user \"e\": $apr1$ (Apache MD5) hashes are not"));
    ck_assert(errors_contain("s.conf:6: user name \"a:b\""));
    ck_assert(errors_contain("s.conf:7: user \"c\" is defined twice"));
}
END_TEST

START_TEST(htpasswd_file)
{
    char path[] = "/tmp/cstash-test-htpasswd-XXXXXX";
    int fd = mkstemp(path);
    char text[1024];
    const char *lines = "# team\nalice:" PW_HASH "\n\nbob:$2y$05$uz7RQ6aAeZSA22FLRZ9LKu9ovdxU2."
                        "pM3yZYGThSXmgPxjotTVkBa\ncarol:$apr1$abc$def\n";
    struct cs_config *cfg = NULL;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, lines, strlen(lines)), (ssize_t)strlen(lines));
    close(fd);
    snprintf(text, sizeof text,
             "htpasswd = \"%s\";\nnamespaces = ( { name = \"n\"; read = [ \"alice\" ]; } );\n",
             path);
    ck_assert_int_eq(cs_config_load_string(text, "h.conf", &cfg, &errs), CS_ERR_INVALID);
    ck_assert(errors_contain("user \"carol\": $apr1$"));
    ck_assert_uint_eq(errs.count, 1);
    cs_config_errors_clear(&errs);
    /* without carol it loads, alice and bob are users */
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_eq(write(fd, lines, strlen(lines) - strlen("carol:$apr1$abc$def\n")),
                     (ssize_t)(strlen(lines) - strlen("carol:$apr1$abc$def\n")));
    close(fd);
    ck_assert_int_eq(cs_config_load_string(text, "h.conf", &cfg, &errs), CS_OK);
    ck_assert_uint_eq(cfg->n_users, 2);
    ck_assert_int_eq(cs_config_find_user(cfg, "bob"), 1);
    ck_assert_uint_eq(cs_config_rights(&cfg->namespaces[0], 0), CS_RIGHT_READ);
    ck_assert_uint_eq(cs_config_rights(&cfg->namespaces[0], 1), 0);
    cs_config_free(cfg);
    unlink(path);
}
END_TEST

START_TEST(tls_needs_cert_and_key)
{
    struct cs_config *cfg = NULL;

    ck_assert_int_eq(cs_config_load_string("listen = [ \"https://127.0.0.1:8443\" ];\n"
                                           "namespaces = ( { name = \"n\"; } );\n",
                                           "t.conf", &cfg, &errs),
                     CS_ERR_INVALID);
    ck_assert(errors_contain("an https:// listener needs tls_cert and tls_key"));
    cs_config_errors_clear(&errs);
    ck_assert_int_eq(
        cs_config_load_string("listen = [ \"127.0.0.1:80\", \"https://[::1]:8443\" ];\n"
                              "tls_cert = \"/c.pem\"; tls_key = \"/k.pem\";\n"
                              "namespaces = ( { name = \"n\"; } );\n",
                              "t.conf", &cfg, &errs),
        CS_OK);
    ck_assert_str_eq(cfg->listen[1], "[::1]:8443");
    ck_assert(!cfg->listen_tls[0]);
    ck_assert(cfg->listen_tls[1]);
    cs_config_free(cfg);
}
END_TEST

START_TEST(reload_needs_same_namespaces)
{
    struct cs_config *a = NULL, *b = NULL, *c = NULL;
    char why[128];

    ck_assert_int_eq(cs_config_load_string("namespaces = ( { name = \"n\"; } );\n", "a", &a, &errs),
                     CS_OK);
    ck_assert_int_eq(cs_config_load_string("namespaces = ( { name = \"n\"; max_size = 5; "
                                           "read = [ \"*\" ]; } );\n",
                                           "b", &b, &errs),
                     CS_OK);
    ck_assert_int_eq(cs_config_load_string("namespaces = ( { name = \"n\"; }, { name = \"m\"; "
                                           "} );\n",
                                           "c", &c, &errs),
                     CS_OK);
    ck_assert(cs_config_reloadable(a, b, why, sizeof why));
    ck_assert(!cs_config_reloadable(a, c, why, sizeof why));
    ck_assert_str_eq(why, "namespaces were added or removed");
    cs_config_free(a);
    cs_config_free(b);
    cs_config_free(c);
}
END_TEST

START_TEST(tiers_and_compression)
{
    struct cs_config *cfg = NULL, *other = NULL;
    const struct cs_tier_config *t;
    char why[128];
    const char *good =
        "namespaces = ( { name = \"n\"; compression = \"zstd\"; compression_level = 7;\n"
        "  tiers = ( { type = \"disk\"; },\n"
        "    { type = \"redis\"; url = \"redis://u:p@127.0.0.1:6379/2\"; max_object_size = "
        "\"1M\";\n"
        "      ttl = \"7d\"; },\n"
        "    { type = \"s3\"; endpoint = \"http://127.0.0.1:9000\"; bucket = \"cache\";\n"
        "      region = \"us-east-1\"; prefix = \"team-a/\"; access_key = \"k\"; secret_key = "
        "\"s\";\n"
        "      path_style = true; write = \"async\"; refresh_age = \"1d\"; },\n"
        "    { type = \"http\"; url = \"http://other:8080/ns\"; token = \"t\"; } ); },\n"
        "  { name = \"plain\"; } );\n";
    /* One config line per literal, numbered for the errors checked below (the
     * formatter would split the literals and wrap the numbers). */
    /* clang-format off */
    const char *bad =
        "namespaces = ( { name = \"a\"; tiers = ( { type = \"s3\"; bucket = \"b\"; } ); },\n" /* 1 */
        "  { name = \"b\"; tiers = ( { type = \"disk\"; }, { type = \"disk\"; } ); },\n"      /* 2 */
        "  { name = \"c\"; tiers = ( { type = \"disk\"; }, { type = \"ftp\"; } ); },\n"       /* 3 */
        "  { name = \"d\"; tiers = ( { type = \"disk\"; }, { type = \"s3\"; } ); },\n"        /* 4 */
        "  { name = \"e\"; tiers = ( { type = \"disk\"; }, { type = \"redis\"; url = \"x\"; } ); },\n" /* 5 */
        "  { name = \"f\"; tiers = ( { type = \"disk\"; }, { type = \"http\"; write = \"later\";\n" /* 6 */
        "      url = \"http://x/ns\"; colour = 1; } ); },\n"                               /* 7 */
        "  { name = \"g\"; compression = \"lz4\"; },\n"                                       /* 8 */
        "  { name = \"h\"; compression_level = 3; },\n"                                         /* 9 */
        "  { name = \"i\"; tiers = ( { type = \"disk\"; }, { type = \"s3\"; bucket = \"b\";\n"  /* 10 */
        "      access_key = \"k\"; } ); } );\n";                                                 /* 11 */
    /* clang-format on */

    ck_assert_int_eq(cs_config_load_string(good, "good.conf", &cfg, &errs), CS_OK);
    ck_assert_int_eq(cfg->namespaces[0].compress_level, 7);
    ck_assert_uint_eq(cfg->namespaces[0].n_tiers, 3);
    t = cfg->namespaces[0].tiers;
    ck_assert_int_eq(t[0].type, CS_TIER_REDIS);
    ck_assert_uint_eq(t[0].max_object_size, 1 << 20);
    ck_assert_uint_eq(t[0].ttl_s, 7 * 86400);
    ck_assert(!t[0].write_async);
    ck_assert_int_eq(t[1].type, CS_TIER_S3);
    ck_assert(t[1].write_async && t[1].path_style && t[1].tls_verify);
    ck_assert_str_eq(t[1].prefix, "team-a/");
    ck_assert_uint_eq(t[1].refresh_age_s, 86400);
    ck_assert_uint_eq(t[1].backoff_s, 30);
    ck_assert_int_eq(t[2].type, CS_TIER_HTTP);
    ck_assert_str_eq(t[2].token, "t");
    ck_assert_uint_eq(cfg->namespaces[1].n_tiers, 0);
    ck_assert_int_eq(cfg->namespaces[1].compress_level, 0);

    /* tiers cannot change on a reload: they hold connections and queues */
    ck_assert_int_eq(cs_config_load_string("namespaces = ( { name = \"n\"; }, "
                                           "{ name = \"plain\"; } );\n",
                                           "o", &other, &errs),
                     CS_OK);
    ck_assert(!cs_config_reloadable(cfg, other, why, sizeof why));
    ck_assert_str_eq(why, "the tiers of namespace 'n' changed");
    ck_assert(cs_config_reloadable(cfg, cfg, why, sizeof why));
    cs_config_free(other);
    cs_config_free(cfg);
    cfg = NULL;

    ck_assert_int_eq(cs_config_load_string(bad, "bad.conf", &cfg, &errs), CS_ERR_INVALID);
    ck_assert(errors_contain("bad.conf:1: the first tier must be { type = \"disk\"; }"));
    ck_assert(errors_contain("bad.conf:2: only the first tier can be the disk"));
    ck_assert(errors_contain("bad.conf:3: tier type must be"));
    ck_assert(errors_contain("bad.conf:4: s3 tier needs bucket"));
    ck_assert(errors_contain("bad.conf:5: redis tier needs url"));
    ck_assert(errors_contain("bad.conf:6: write must be \"sync\" or \"async\""));
    ck_assert(errors_contain("bad.conf:7: unknown tier setting 'colour'"));
    ck_assert(errors_contain("bad.conf:8: compression must be \"zstd\" or \"none\""));
    ck_assert(errors_contain("bad.conf:9: compression_level without compression"));
    ck_assert(errors_contain("bad.conf:10: s3 tier needs both access_key and secret_key"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, embedded_default);
    tcase_add_test(tc, client_url_for_wildcards);
    tcase_add_test(tc, full_file);
    tcase_add_test(tc, errors_have_lines);
    tcase_add_test(tc, syntax_error);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, file_with_line);
    tcase_add_test(tc, no_namespaces);
    tcase_add_test(tc, listen_addresses);
    tcase_add_test(tc, users_and_acls);
    tcase_add_test(tc, worker_limits);
    tcase_add_test(tc, stats_interval);
    tcase_add_test(tc, tiers_and_compression);
    tcase_add_test(tc, secrets_are_never_plaintext);
    tcase_add_test(tc, htpasswd_file);
    tcase_add_test(tc, tls_needs_cert_and_key);
    tcase_add_test(tc, reload_needs_same_namespaces);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
