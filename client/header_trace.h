/* What gcc's -H writes to stderr: every header an #include directive
 * opened, system headers and those they include too, one per line as
 * ". path" (a dot per level), then "Multiple include guards may be useful
 * for:" and a list of paths. Depend mode adds -H when the user asked for
 * -MMD (compile.c): that rule leaves out system headers and whatever a
 * system header, or a file after `#pragma GCC system_header`, includes,
 * even from the user's own tree, so it alone cannot key a direct hit. */
#ifndef CS_CLIENT_HEADER_TRACE_H
#define CS_CLIENT_HEADER_TRACE_H

#include <stddef.h>

#include "client/util.h"

/* Splits the compiler's stderr text[0..len) into the headers -H named
 * (appended to files, in order) and everything else, byte for byte
 * (appended to rest: what the user would have seen without -H). A
 * precompiled header gcc used or tried ("! x.h.gch", "x x.h.gch") is one
 * of the files. CS_ERR_INVALID when a line looks like -H output but names
 * no regular file: then the caller must not key anything by files, and
 * shows text as it is. */
enum cs_status cs_header_trace_split(const char *text, size_t len, struct cs_strv *files,
                                     struct cs_bytes *rest);

/* Appends to files each path of traced it does not hold yet, in order,
 * compared without a leading "./" (-H names "./include/x.h" where the
 * rule has "include/x.h"). */
enum cs_status cs_header_trace_merge(struct cs_strv *files, const struct cs_strv *traced);

#endif
