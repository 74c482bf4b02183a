/* Host names to addresses within a time limit: getaddrinfo(3) waits as
 * long as the resolver's timeouts and retries add up to (10 s and more
 * for a DNS server that does not answer), and a compile must not. */
#ifndef CS_CLIENT_RESOLVE_H
#define CS_CLIENT_RESOLVE_H

#include <netdb.h>
#include <stdint.h>

#include "common/status.h"

/* The addresses of host:port for a TCP connection into *res (the caller
 * frees them with freeaddrinfo). A numeric host is converted at once; a
 * name is looked up for at most timeout_ms. CS_ERR_BUSY when the lookup
 * did not end in time, CS_ERR_IO when it failed; *why (static) says why.
 * A lookup given up on may go on in glibc's resolver thread until the
 * process ends; its memory stays reachable until then. Not thread-safe
 * (that list of lookups given up on). */
enum cs_status cs_resolve(const char *host, const char *port, uint32_t timeout_ms,
                          struct addrinfo **res, const char **why);

#endif
