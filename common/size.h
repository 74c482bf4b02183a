/* Human sizes in configuration and on the command line: "512", "64K",
 * "1M", "20G", "1T", with optional "B"/"iB" ("1GiB", "1GB" and "1G" are all
 * 2^30: build caches are sized in binary units). */
#ifndef CS_SIZE_H
#define CS_SIZE_H

#include <stdint.h>

#include "common/status.h"

enum cs_status cs_parse_size(const char *text, uint64_t *out);

/* Durations: "500ms", "30" or "30s", "10m", "2h", "7d"; in milliseconds. */
enum cs_status cs_parse_duration(const char *text, uint64_t *ms);

/* Formats with the largest exact binary unit ("1G", "1536M", "100"). */
void cs_format_size(uint64_t size, char *buf, unsigned buflen);

#endif
