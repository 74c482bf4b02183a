/* Config parsing: defaults, every key, and errors with file:line. */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
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
    ck_assert(cfg->namespaces[0].read_anyone);
    ck_assert(cfg->namespaces[0].write_anyone);
    ck_assert(!cfg->namespaces[0].durable);
    ck_assert_uint_eq(cfg->max_size, 10ull << 30);
    ck_assert(cfg->track_access);
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
    const char *text =
        "listen = [ \"127.0.0.1:9000\", \"[::1]:9001\" ];\n"
        "data_dir = \"/srv/cache\";\n"
        "threads = 3;\n"
        "max_blob_size = \"64M\";\n"
        "max_size = \"2T\";\n"
        "track_access = false;\n"
        "namespaces = (\n"
        "  { name = \"a\"; durable = true; max_size = \"5G\"; read = [ \"*\" ]; write = [ \"*\" ]; },\n"
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
    ck_assert(cfg->namespaces[1].read_anyone);
    ck_assert(!cfg->namespaces[1].write_anyone); /* no write list: nobody */
    cs_config_free(cfg);
}
END_TEST

START_TEST(errors_have_lines)
{
    struct cs_config *cfg = NULL;
    const char *text =
        "listen = [ \"nope\" ];\n"                                   /* 1 */
        "threads = -2;\n"                                            /* 2 */
        "max_blob_size = \"lots\";\n"                                /* 3 */
        "colour = \"blue\"; max_size = -1;\n"                        /* 4 */
        "namespaces = (\n"                                           /* 5 */
        "  { name = \"ok\"; read = [ \"ci\" ]; },\n"                 /* 6 */
        "  { name = \"_bad\"; },\n"                                  /* 7 */
        "  { name = \"ok\"; durable = \"yes\"; flavour = 1; }\n"     /* 8 */
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

    ck_assert_int_eq(cs_config_load_string("a = ;\n\n", "syn.conf", &cfg, &errs),
                     CS_ERR_INVALID);
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
    ck_assert_int_eq(cs_parse_listen_addr("host:65536", host, sizeof host, &port),
                     CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("host:", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr(":80", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("host", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("[::1]80", host, sizeof host, &port), CS_ERR_INVALID);
    ck_assert_int_eq(cs_parse_listen_addr("h:-1", host, sizeof host, &port), CS_ERR_INVALID);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, embedded_default);
    tcase_add_test(tc, full_file);
    tcase_add_test(tc, errors_have_lines);
    tcase_add_test(tc, syntax_error);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, file_with_line);
    tcase_add_test(tc, no_namespaces);
    tcase_add_test(tc, listen_addresses);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
