/*
 * relayctl.c - sanji-relayctl, the township relay's admin tool.
 *
 *   sanji-relayctl --config FILE [status]   status of the relay of FILE
 *   sanji-relayctl --store PATH [status]    status read from a store file
 *   sanji-relayctl --config FILE links      live links of the running relay
 *   sanji-relayctl --store PATH links       the same, naming its store
 *   sanji-relayctl setup BUNDLE [--dir D] [--listen HOST:PORT] [--force]
 *                  [--passphrase-stdin]
 *                                           sets the relay up from its
 *                                           enrolment bundle (setup.h)
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
 * `setup` opens the bundle with the passphrase on its slip (asked for on
 * the terminal, or read from standard input) and writes the relay's
 * certificate, key, CA, CRL and relayd.conf (/etc/sanji unless --dir).
 *
 * Exit status: 0 printed (or set up); 1 the store cannot be read, (links)
 * no relay of that store answers, or (setup) the bundle cannot be opened or
 * written (message on stderr); 2 usage error.
 *
 * Entry point: main().
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "i18n.h"
#include "linkctl.h"
#include "relay_config.h"
#include "relayctl_print.h"
#include "setup.h"

static void usage(FILE *out)
{
    fprintf(out, "用法 (usage):\n"
                 "  sanji-relayctl --config FILE [status|links]\n"
                 "  sanji-relayctl --store PATH [status|links]\n"
                 "  sanji-relayctl setup BUNDLE [--dir DIR] [--listen HOST:PORT] [--force]\n"
                 "                 [--passphrase-stdin]\n");
}

/* `sanji-relayctl setup BUNDLE ...` (argv[0] is "setup"). */
static int setup_relay(int argc, char **argv)
{
    const char *bundle = NULL, *dir = NULL, *listen = NULL;
    bool force = false, from_stdin = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--force") == 0)
            force = true;
        else if (strcmp(argv[i], "--passphrase-stdin") == 0)
            from_stdin = true;
        else if (argv[i][0] != '-' && !bundle)
            bundle = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!bundle) {
        usage(stderr);
        return 2;
    }
    char pass[256];
    if (from_stdin || !isatty(STDIN_FILENO)) {
        if (!fgets(pass, (int)sizeof pass, stdin))
            pass[0] = '\0';
    } else {
        char *p = getpass(_("Passphrase (on the slip): "));
        snprintf(pass, sizeof pass, "%s", p ? p : "");
        if (p)
            explicit_bzero(p, strlen(p));
    }
    sj_error err;
    sj_error_clear(&err);
    relay_setup_result res;
    int rc = relay_setup_import(bundle, pass, dir, listen, force, &res, &err);
    explicit_bzero(pass, sizeof pass);
    if (rc != 0) {
        fprintf(stderr, "sanji-relayctl: %s: %s\n", sj_err_name(rc), err.message);
        return 1;
    }
    printf(res.unchanged ? _("This relay was already set up as %s %s; nothing changed.\n")
                         : _("This relay is now set up as %s %s.\n"),
           res.id.node_id, res.unit_name);
    printf(_("Configuration: %s\n"), res.config);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL, *store_path = NULL;
    bool links = false;
    sj_i18n_init(NULL);
    if (argc > 1 && strcmp(argv[1], "setup") == 0)
        return setup_relay(argc - 1, argv + 1);
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
