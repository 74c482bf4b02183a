/* Reconciling the index with the files, and purging a namespace (fsck.c):
 * all that the disk's own files may call of it. fsck.c works on the
 * disk's internals (disk_priv.h); the disk knows it only through these.
 * Not for use outside storage/. */
#ifndef CS_FSCK_H
#define CS_FSCK_H

#include <stdbool.h>

#include "common/status.h"

struct cs_disk;
struct cs_fsck_report;
struct cs_purge_report;
struct cs_fsck_task;

/* Reconcile the index with the files in the calling thread (see
 * cs_disk_fsck in disk.h). */
enum cs_status cs_disk_fsck_run(struct cs_disk *d, bool throttle, struct cs_fsck_report *out);
/* Empty one namespace in the calling thread (see cs_disk_purge). */
enum cs_status cs_disk_purge_run(struct cs_disk *d, const char *ns, struct cs_purge_report *out);

/* The throttled fsck after start, in a thread of its own: it waits for an
 * index that can commit and logs what it did. stop joins the thread and
 * frees the task (NULL: nothing to do); the disk sets its stopping flag
 * first, which the run watches. */
enum cs_status cs_fsck_start(struct cs_disk *d, struct cs_fsck_task **out);
void cs_fsck_stop(struct cs_fsck_task *task);

#endif
