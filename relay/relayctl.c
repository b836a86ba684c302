/*
 * relayctl.c - sanji-relayctl, the township relay's admin tool.
 *
 *   sanji-relayctl --config FILE [status]   status of the relay of FILE
 *   sanji-relayctl --store PATH [status]    status read from a store file
 *
 * It reads the relay's store read-only (see relayctl_print.h): no socket,
 * no permissions beyond reading the store, and it works while the daemon
 * is stopped, which is when an operator most needs it.  The daemon writes
 * its link state and stations' last-seen to the store at every heartbeat
 * tick (link.heartbeat), so "status written" says how fresh the view is.
 *
 * Exit status: 0 printed; 1 the store cannot be read (message on stderr);
 * 2 usage error.
 *
 * Entry point: main().
 */
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "relay_config.h"
#include "relayctl_print.h"

static void usage(FILE *out)
{
    fprintf(out, "用法 (usage):\n"
                 "  sanji-relayctl --config FILE [status]\n"
                 "  sanji-relayctl --store PATH [status]\n");
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *store_path = NULL;
    sj_i18n_init(NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
            store_path = argv[++i];
        } else if (strcmp(argv[i], "status") == 0) {
            continue;
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
    int rc = relayctl_print_status(stdout, store_path, &err);
    if (rc != 0)
        fprintf(stderr, "sanji-relayctl: %s: %s\n", sj_err_name(rc), err.message);
    relay_config_free(&cfg);
    return rc == 0 ? 0 : 1;
}
