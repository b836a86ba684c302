/*
 * relayctl.c - sanji-relayctl, the township relay's admin tool.
 *
 *   sanji-relayctl --config FILE [status]   status of the relay of FILE
 *   sanji-relayctl --store PATH [status]    status read from a store file
 *   sanji-relayctl --config FILE links      live links of the running relay
 *   sanji-relayctl --store PATH links       the same, naming its store
 *
 * `status` reads the relay's store read-only (see relayctl_print.h): no
 * socket, no permissions beyond reading the store, and it works while the
 * daemon is stopped, which is when an operator most needs it.  The daemon
 * writes its link state and stations' last-seen to the store at every
 * heartbeat tick (link.heartbeat), so "status written" says how fresh the
 * view is.
 *
 * `links` asks the running daemon instead (a local socket named after the
 * store, linkctl.h; as root or the relay's user), since only it knows its
 * links: each station, desk and the county link with the serial and
 * notAfter of the peer's certificate.
 *
 * Exit status: 0 printed; 1 the store cannot be read, or (links) no relay
 * of that store answers (message on stderr); 2 usage error.
 *
 * Entry point: main().
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "linkctl.h"
#include "relay_config.h"
#include "relayctl_print.h"

static void usage(FILE *out)
{
    fprintf(out, "用法 (usage):\n"
                 "  sanji-relayctl --config FILE [status|links]\n"
                 "  sanji-relayctl --store PATH [status|links]\n");
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *store_path = NULL;
    bool links = false;
    sj_i18n_init(NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
            store_path = argv[++i];
        } else if (strcmp(argv[i], "status") == 0) {
            links = false;
        } else if (strcmp(argv[i], "links") == 0) {
            links = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if ((config_path == NULL) == (store_path == NULL)) {
        usage(stderr);
        return 2;
    }
    sj_error err;
    sj_error_clear(&err);
    relay_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (config_path) {
        if (relay_config_load(config_path, &cfg, &err) != 0) {
            fprintf(stderr, "sanji-relayctl: %s: %s\n", sj_err_name(err.code), err.message);
            return 1;
        }
        store_path = cfg.store_path;
    }
    int rc;
    if (links) {
        char name[SJ_LINKCTL_NAME_MAX];
        relay_config_links_socket(store_path, name);
        /* A relay that does not answer in this time is stuck, not slow. */
        rc = sj_linkctl_print(stdout, name, 30000, &err);
    } else {
        rc = relayctl_print_status(stdout, store_path, &err);
    }
    if (rc != 0)
        fprintf(stderr, "sanji-relayctl: %s: %s\n", sj_err_name(rc), err.message);
    relay_config_free(&cfg);
    return rc == 0 ? 0 : 1;
}
