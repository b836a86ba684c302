/*
 * client_config.h - the client configuration file (client.conf) shared by
 * the `sanji` command-line tool and the `sanji-desk` desktop program: its
 * documented key table and its loading into an sc_config.
 *
 * Where the file is looked for (docs/CLI.md): the path given (--config),
 * else $SANJI_CONFIG, else ~/.config/sanji/client.conf when readable, else
 * /etc/sanji/client.conf.  A relative path in the file (certificates, CRL,
 * store) is taken relative to the file's own directory.
 *
 * Ownership: sc_config_load() fills a caller-supplied sc_loaded_config
 * (usually on the stack); sc_config_release() frees what it holds and may be
 * called on one whose load failed, or that was zeroed.  The sc_config inside
 * and every string reached from it borrow from the sc_loaded_config: keep it
 * until sc_client_new() has returned (which copies them).  It may be reused
 * for another load after sc_config_release().
 *
 * Entry points: sc_config_keys(), sc_config_print_doc(), sc_config_path(),
 * sc_config_load(), sc_config_release().
 */
#ifndef SANJI_CLIENT_CONFIG_H
#define SANJI_CLIENT_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "err.h"
#include "sanji_client.h"

#define SC_CONFIG_MAX_ADDRESSES 8
#define SC_CONFIG_PATH_MAX 4096

typedef struct sc_loaded_config {
    sj_config *cfg;                      /* the file's values (sj_config getters) */
    char path[SC_CONFIG_PATH_MAX];       /* the file read */
    sc_config client;                    /* ready for sc_client_new(); backoff left 0 */
    const char *person_default;          /* person.default; "" when unset */
    const char *station_phone;           /* station.phone; "" when unset */
    /* storage the fields above point into */
    char crl[SC_CONFIG_PATH_MAX];
    char addr_buf[SC_CONFIG_MAX_ADDRESSES][80];
    const char *addrs[SC_CONFIG_MAX_ADDRESSES];
} sc_loaded_config;

/* The documented keys of client.conf (a static table) and their count. */
const sj_config_key *sc_config_keys(size_t *n);

/* Prints the key table as a commented example file (`sanji
 * --print-config-doc`).  Returns 0 or SJ_EIO. */
int sc_config_print_doc(FILE *out);

/* The file the search order picks for path_or_NULL (see the top of this
 * header).  Returns path_or_NULL itself when given; otherwise a pointer to
 * the environment or to a static buffer (not thread-safe), valid until the
 * next call. */
const char *sc_config_path(const char *path_or_NULL);

/* Reads the file sc_config_path(path_or_NULL) picks into *out.  Returns 0,
 * or the sj_config_load_file() code (SJ_EIO, SJ_ECONFIG_*) with err naming
 * the file, what was wrong and how to choose another file.  Call
 * sc_config_release(out) afterwards in both cases. */
int sc_config_load(const char *path_or_NULL, sc_loaded_config *out, sj_error *err);

/* Frees what sc_config_load() allocated and zeroes *c. */
void sc_config_release(sc_loaded_config *c);

#endif
