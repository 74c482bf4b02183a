/* The status page at /_/: one HTML page, its style sheet and its script,
 * embedded in the binary (server/status/, made into status_page.inc by
 * scripts/embed.sh), so it works offline. The script reads /_/stats.json
 * and draws the figures and charts itself. */
#include "autoconfig.h"

#include <string.h>

#include "server/admin_priv.h"
#include "server/status_page.inc"

static void embedded(struct cs_reply *out, const char *text, size_t len, const char *type)
{
    cs_buf_init(&out->body, len + 1);
    if (cs_buf_add(&out->body, text, len) != CS_OK) {
        cs_reply_error(out, 500, "out of memory");
        return;
    }
    out->status = 200;
    out->content_type = type;
    out->page = true;
}

void admin_page(const struct cs_admin *a, struct cs_reply *out)
{
    (void)a; /* the page holds no figures: its script asks for those it may see */
    embedded(out, embed_page_html, sizeof embed_page_html - 1, "text/html; charset=utf-8");
}

bool admin_page_asset(const char *endpoint, struct cs_reply *out)
{
    if (strcmp(endpoint, "status.js") == 0)
        embedded(out, embed_status_js, sizeof embed_status_js - 1,
                 "text/javascript; charset=utf-8");
    else if (strcmp(endpoint, "status.css") == 0)
        embedded(out, embed_status_css, sizeof embed_status_css - 1, "text/css; charset=utf-8");
    else
        return false;
    return true;
}
