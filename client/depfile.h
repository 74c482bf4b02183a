/* The make rule gcc and clang write with -MD (depend mode, compile.c):
 * the files the compile read, from the compiler itself, so a miss needs no
 * preprocessor run of its own. */
#ifndef CS_CLIENT_DEPFILE_H
#define CS_CLIENT_DEPFILE_H

#include <stddef.h>

#include "client/util.h"

/* The prerequisites of the first rule of text[0..len) ("target: a.c \\\n
 * inc/x.h ..."), in order, unescaped ("\\ " is a space, "\\#" a '#', "$$"
 * a '$'). CS_ERR_INVALID when the text is not such a rule or a name holds
 * an escape it cannot be sure of (any other backslash, a lone '$'): a
 * dependency misread would be a header the cache never checks. */
enum cs_status cs_depfile_parse(const char *text, size_t len, struct cs_strv *files);

#endif
