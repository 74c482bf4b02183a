/* The s3 group and its secrets file: permissions, format, users, and that
 * no diagnostic ever carries a secret. Also the S3 metadata blob codec. */
#include "autoconfig.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config.h"
#include "server/s3_priv.h"
#include "tests/unit/check_main.h"

#define TOKEN_HASH "930bbdc51b6aed5c2a5678fd6e28dee7a05e8a4b643cfc0b4427c3efb86c0d94"
#define USERS                                                                                      \
    "users = ( { name = \"alice\"; token_sha256 = \"" TOKEN_HASH "\"; },\n"                        \
    "          { name = \"bob\"; token_sha256 = \"" TOKEN_HASH "\"; } );\n"
#define ONE_NS "namespaces = ( { name = \"n\"; read = [\"alice\"]; } );\n"

static struct cs_config_errors errs;
static char dir[64], secrets[128];

static void setup(void)
{
    strcpy(dir, "/tmp/cs-test-s3-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(secrets, sizeof secrets, "%s/secrets", dir);
}

static void teardown(void)
{
    cs_config_errors_clear(&errs);
    unlink(secrets);
    rmdir(dir);
}

static bool errors_contain(const char *needle)
{
    for (size_t i = 0; i < errs.count; i++)
        if (strstr(errs.lines[i], needle))
            return true;
    return false;
}

static void write_secrets(const char *text, mode_t mode)
{
    FILE *f = fopen(secrets, "w");

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(secrets, mode), 0);
}

static enum cs_status load(struct cs_config **cfg)
{
    char text[1024];

    snprintf(text, sizeof text, USERS "s3 = { secrets = \"%s\"; region = \"eu-1\"; };\n" ONE_NS,
             secrets);
    return cs_config_load_string(text, "s.conf", cfg, &errs);
}

START_TEST(secrets_loaded)
{
    struct cs_config *cfg = NULL;
    const struct cs_s3_key *k;

    write_secrets("# keys\nalice AKALICE s3cr3t-a\n\n  bob\tAKBOB  s3cr3t-b  \r\n", 0600);
    ck_assert_int_eq(load(&cfg), CS_OK);
    ck_assert_uint_eq(cfg->s3.n_keys, 2);
    k = cs_config_find_s3_key(cfg, "AKBOB");
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(k->secret, "s3cr3t-b");
    ck_assert_int_eq(k->uid, cs_config_find_user(cfg, "bob"));
    ck_assert_ptr_null(cs_config_find_s3_key(cfg, "AKNONE"));
    ck_assert_str_eq(cfg->s3.region, "eu-1");
    cs_config_free(cfg);
}
END_TEST

START_TEST(secrets_readable_by_others_refused)
{
    struct cs_config *cfg = NULL;

    write_secrets("alice AKALICE s3cr3t-a\n", 0644);
    ck_assert_int_eq(load(&cfg), CS_ERR_INVALID);
    ck_assert(errors_contain("readable or writable by group or others (mode 0644)"));
    write_secrets("alice AKALICE s3cr3t-a\n", 0620);
    ck_assert_int_eq(load(&cfg), CS_ERR_INVALID);
    ck_assert(errors_contain("mode 0620"));
}
END_TEST

START_TEST(secrets_errors_name_line_not_secret)
{
    struct cs_config *cfg = NULL;

    write_secrets("carol AKC hunter2-carol\n"
                  "alice AKA hunter2-a extra\n"
                  "alice AKA hunter2-ok\n"
                  "bob AKA hunter2-dup\n"
                  "bob AK/B hunter2-slash\n",
                  0600);
    ck_assert_int_eq(load(&cfg), CS_ERR_INVALID);
    ck_assert(errors_contain(":1: unknown user \"carol\""));
    ck_assert(errors_contain(":2: expected \"user access-key-id secret\""));
    ck_assert(errors_contain(":4: access key 'AKA' is given twice"));
    ck_assert(errors_contain(":5: the access key id must be"));
    ck_assert(!errors_contain("hunter2"));
}
END_TEST

START_TEST(missing_secrets_file)
{
    struct cs_config *cfg = NULL;

    ck_assert_int_eq(load(&cfg), CS_ERR_INVALID);
    ck_assert(errors_contain("s3.secrets: cannot open"));
}
END_TEST

START_TEST(s3_listeners_and_domain)
{
    struct cs_config *cfg = NULL;

    ck_assert_int_eq(cs_config_load_string(USERS
                                           "listen = [ \"127.0.0.1:1\", \"s3://127.0.0.1:2\" ];\n"
                                           "s3 = { domain = \"s3.example.com\"; };\n" ONE_NS,
                                           "l.conf", &cfg, &errs),
                     CS_OK);
    ck_assert(!cfg->listen_s3[0]);
    ck_assert(cfg->listen_s3[1]);
    ck_assert_str_eq(cfg->listen[1], "127.0.0.1:2");
    ck_assert_str_eq(cfg->s3.domain, "s3.example.com");
    ck_assert_uint_eq(cfg->s3.multipart_max_age_s, 7u * 24 * 3600);
    cs_config_free(cfg);
    ck_assert_int_eq(cs_config_load_string(USERS "s3 = { domain = \".x\"; nope = 1; };\n" ONE_NS,
                                           "d.conf", &cfg, &errs),
                     CS_ERR_INVALID);
    ck_assert(errors_contain("s3.domain must be a host name"));
    ck_assert(errors_contain("unknown s3 setting 'nope'"));
}
END_TEST

START_TEST(meta_round_trip)
{
    uint8_t meta[64];
    size_t len = 0, pos = 0, n;
    struct s3_meta_field f;

    ck_assert(s3_meta_add(meta, &len, sizeof meta, "etag", "0123", 4));
    ck_assert(s3_meta_add(meta, &len, sizeof meta, "x-amz-meta-a", "", 0));
    ck_assert(!s3_meta_add(meta, &len, sizeof meta, "x-amz-meta-too-long", "0123456789abcdef0123",
                           20)); /* does not fit: nothing written */
    ck_assert_uint_eq(len, 3 + 4 + 4 + 3 + 12);
    ck_assert(s3_meta_next(meta, len, &pos, &f));
    ck_assert_uint_eq(f.value_len, 4);
    ck_assert(s3_meta_next(meta, len, &pos, &f));
    ck_assert_uint_eq(f.name_len, 12);
    ck_assert(!s3_meta_next(meta, len, &pos, &f));
    ck_assert_ptr_nonnull(s3_meta_get(meta, len, "etag", &n));
    ck_assert_uint_eq(n, 4);
    ck_assert_ptr_null(s3_meta_get(meta, len, "x-amz-meta-b", &n));
    /* a damaged length ends the walk instead of reading past the blob */
    meta[0] = 200;
    pos = 0;
    ck_assert(!s3_meta_next(meta, len, &pos, &f));
    meta[0] = 4;
    meta[5] = 0xff; /* value length 0xff04 */
    pos = 0;
    ck_assert(!s3_meta_next(meta, len, &pos, &f));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config_s3");
    TCase *tc = tcase_create("config_s3");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, secrets_loaded);
    tcase_add_test(tc, secrets_readable_by_others_refused);
    tcase_add_test(tc, secrets_errors_name_line_not_secret);
    tcase_add_test(tc, missing_secrets_file);
    tcase_add_test(tc, s3_listeners_and_domain);
    tcase_add_test(tc, meta_round_trip);
    suite_add_tcase(s, tc);
    return cs_run_suite(s);
}
