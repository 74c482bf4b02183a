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
 * clang's pragma, also in _Pragma), or a GNU line marker with a file name
 * (`# 1 "x.h" 3`: its flags may say so). */
bool cs_depscan_declares_system_header(const uint8_t *text, size_t len);

/* The names of the #include, #include_next and #import directives before
 * the source's first token, appended to names: the only ones gcc may
 * answer from a precompiled header (x.h.gch), and then the rule does not
 * name the header. Directives inside #if are listed too, and so are the
 * includes after one whose header has a token (cs_depscan_has_token),
 * which gcc can no longer answer so. CS_ERR_INVALID for an include it
 * cannot name (a macro). */
enum cs_status cs_depscan_leading_includes(const char *text, size_t len, struct cs_strv *names);

/* Whether text holds anything but blanks, comments and directives: a
 * header that does ends gcc's leading includes. */
bool cs_depscan_has_token(const char *text, size_t len);

#endif
