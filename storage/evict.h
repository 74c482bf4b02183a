/* LRU eviction of the disk backend (evict.c): all that the disk's own
 * files may call of it. evict.c works on the disk's internals
 * (disk_priv.h); the disk knows eviction only through these four. Not
 * for use outside storage/. */
#ifndef CS_EVICT_H
#define CS_EVICT_H

#include <stdint.h>

#include "common/status.h"

struct cs_disk;
struct cs_evictor;

/* The eviction thread: started when the disk opens with background work,
 * stopped before the index closes. kick asks for a round now (cheap: a
 * flag and a signal) and may be called from any thread. */
enum cs_status cs_evictor_start(struct cs_disk *d, struct cs_evictor **out);
void cs_evictor_kick(struct cs_evictor *ev);
void cs_evictor_stop(struct cs_evictor *ev);

/* One eviction round in the calling thread; returns objects evicted. */
uint64_t cs_evict_round(struct cs_disk *d);

#endif
