/*
 * relayctl_print.c - the admin view of a relay read from its store.
 * See relayctl_print.h.
 *
 * Entry points: relayctl_print_status().
 */
#include "relayctl_print.h"

#include "clock.h"
#include "status.h"
#include "store.h"

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
        relay_status_release(&ns);
    }
    relay_store_close(st);
    return rc;
}
