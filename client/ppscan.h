/* Reading the preprocessor's output: its hash (with paths under basedir
 * made relative, so two checkouts hash alike) and the files it included
 * (from the line markers), for the direct-mode manifest. */
#ifndef CS_CLIENT_PPSCAN_H
#define CS_CLIENT_PPSCAN_H

#include "client/util.h"
#include "common/hash.h"

/* Feeds text[0..len) to h with line-marker paths rewritten, and appends
 * each distinct included path (as the compiler named it) to includes.
 * cwd/basedir as in cs_args_parse. */
enum cs_status cs_ppscan(const char *text, size_t len, const char *cwd, const char *basedir,
                         struct cs_sha256 *h, struct cs_strv *includes);

/* Whether text asks the assembler to read a file itself (.incbin or
 * .include, in a .S file or an asm() string, in any case): no line marker
 * names it, so no key holds it. */
bool cs_ppscan_assembler_reads_file(const char *text, size_t len);

#endif
