/* An opened object (struct cs_object, backend.h) owns an fd, a body in
 * memory, or both for a moment, and its metadata when it has some:
 * cs_object_release gives back whatever it holds, so no caller has to
 * know which. */
#include "autoconfig.h"

#include <stdlib.h>
#include <unistd.h>

#include "storage/backend.h"

void cs_object_release(struct cs_object *obj)
{
    free(obj->body);
    obj->body = NULL;
    free(obj->meta);
    obj->meta = NULL;
    obj->meta_len = 0;
    if (obj->fd >= 0)
        close(obj->fd);
    obj->fd = -1;
}
