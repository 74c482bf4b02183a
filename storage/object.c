/* An opened object (struct cs_object, backend.h) owns an fd, a body in
 * memory, or both for a moment: cs_object_release gives back either, so
 * no caller has to know which it holds. */
#include "autoconfig.h"

#include <stdlib.h>
#include <unistd.h>

#include "storage/backend.h"

void cs_object_release(struct cs_object *obj)
{
    free(obj->body);
    obj->body = NULL;
    if (obj->fd >= 0)
        close(obj->fd);
    obj->fd = -1;
}
