/*
 * relayctl_print.c - the admin view of a relay read from its store.
 * See relayctl_print.h.
 *
 * Entry points: relayctl_print_status().
 */
#include "relayctl_print.h"

#include <stdlib.h>

#include "clock.h"
#include "status.h"
#include "store.h"

static unsigned long long meta_u64(relay_store *st, const char *key)
{
    char buf[32];
    if (relay_store_meta_get(st, key, buf, sizeof buf) != 0)
        return 0;
    return strtoull(buf, NULL, 10);
}

/* What the daemon holds in memory for its station and desk links, as it
 * last wrote it (one line, so that scripts can pick it up). */
static void print_buffers(FILE *out, relay_store *st)
{
    char whose[RELAY_NODE_MAX] = "";
    relay_store_meta_get(st, "links_buffered_max_node", whose, sizeof whose);
    fprintf(out,
            "下行缓冲 (buffered for stations and desks): total=%llu largest=%llu%s%s "
            "limit=%llu blocked=%llu\n",
            meta_u64(st, "links_buffered_bytes"), meta_u64(st, "links_buffered_max_bytes"),
            whose[0] ? " by=" : "", whose, meta_u64(st, "link_write_buffer_bytes"),
            meta_u64(st, "links_blocked"));
}

int relayctl_print_status(FILE *out, const char *store_path, sj_error *err)
{
    relay_store *st = NULL;
    int rc = relay_store_open_readonly(store_path, &st, err);
    if (rc != 0)
        return rc;
    Sanji__NodeStatus ns;
    rc = relay_status_collect(st, NULL, &ns, err);
    if (rc == 0) {
        relay_status_print(out, &ns, sj_clock_real_ms());
        print_buffers(out, st);
        relay_status_release(&ns);
    }
    relay_store_close(st);
    return rc;
}
