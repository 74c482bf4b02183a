/* Depend mode (compile.c) keys a compile by the compiler's own rule. Two
 * things can make that rule leave out a file the compile read; these scan
 * the text of a source or header for them. */
#ifndef CS_CLIENT_DEPSCAN_H
#define CS_CLIENT_DEPSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/util.h"

/* Whether text may make itself, and so what it includes, a system header,
 * which -MMD leaves out of its rule: "system_header" anywhere (gcc's and
 * clang's pragma, also in _Pragma), or a GNU line marker (`# 1 "x.h" 3`:
 * its flags may say so), read after splices, with digraphs and trigraphs
 * for '#'. */
bool cs_depscan_declares_system_header(const uint8_t *text, size_t len);

/* The names of the #include, #include_next and #import directives that
 * may be the first file the source opens, appended to names: gcc answers
 * only that one from a precompiled header (x.h.gch; seen with gcc 12: not
 * a later one, even after a header with no token), and its rule then
 * names neither. Those are the ones inside #if up to the first outside
 * any #if, and none after a token. CS_ERR_INVALID when it cannot be sure
 * of them: an include it cannot name (a macro), or a token inside #if
 * (gcc may skip it and go on to an include). */
enum cs_status cs_depscan_leading_includes(const char *text, size_t len, struct cs_strv *names);

#endif
