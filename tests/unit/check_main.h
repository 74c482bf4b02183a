/* The one main() of every unit test program: run a suite, exit non-zero on
 * any failure. */
#ifndef CS_CHECK_MAIN_H
#define CS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int cs_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
