/*
 * config.h - Sanji configuration files, driven by a table of documented keys.
 *
 * File format (docs/CONFIG.md has the full description):
 *
 *     # comment
 *     [listen]
 *     address = 0.0.0.0:7443        # comment after a value
 *     [queue]
 *     quota = 512MiB
 *     retry = 30s
 *     name = "鲁山县 张官营镇"      # quotes keep spaces and '#'
 *
 * A daemon declares every key it reads in a table of sj_config_key (name
 * "section.key", type, default, range, one-line description).  Loading a file
 * refuses, with "file:line: what was wrong; what is expected": syntax
 * errors, keys not in the table, values that do not parse or are out of
 * range, keys given twice, and required keys (default NULL) left out.
 * sj_config_print_doc() prints the table as a commented example file
 * (`--print-config-doc`, and docs/).
 *
 * Ownership: sj_config_new() allocates; sj_config_free() frees.  The key
 * table is borrowed and must outlive the sj_config (it is normally a static
 * const array).  Strings returned by the getters belong to the sj_config
 * and stay valid until sj_config_free() or the next successful load.
 * A failed load leaves the values as they were before it.
 * Not thread-safe for loading; getters may be called from any thread once
 * loading is done.
 *
 * Getters take a key name from the table; a name not in the table, or of
 * another type, is a caller's bug and aborts with a message.
 *
 * Entry points: sj_config_new(), sj_config_free(), sj_config_load_file(),
 * sj_config_load_string(), sj_config_set(), the sj_config_get_* getters,
 * sj_config_is_set(), sj_config_print_doc(), sj_config_type_name().
 */
#ifndef SJ_CONFIG_H
#define SJ_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

typedef enum sj_config_type {
    SJ_CONFIG_STRING = 1,   /* any text (UTF-8), may be empty */
    SJ_CONFIG_INT,          /* decimal integer in [min, max] */
    SJ_CONFIG_BOOL,         /* true/false, yes/no, on/off, 1/0 */
    SJ_CONFIG_DURATION,     /* "250ms", "30s", "5m", "2h", "1d", "1h30m"; read in ms */
    SJ_CONFIG_SIZE,         /* "4096", "64KiB", "512MiB", "2GiB", "1TiB", also KB/MB/GB/TB
                               (powers of 1000) and B; read in bytes */
    SJ_CONFIG_PATH,         /* non-empty file name; a relative one is taken relative
                               to the directory of the configuration file */
    SJ_CONFIG_HOSTPORT_LIST /* "host:port, host:port" ([v6addr]:port for IPv6);
                               may be empty */
} sj_config_type;

typedef struct sj_config_key {
    const char *name;        /* "section.key": [a-z0-9_] words joined by one '.' */
    sj_config_type type;
    const char *def;         /* default, written as in a file; NULL = required */
    int64_t min, max;        /* INT: the range (both inclusive).  DURATION (ms) and
                                SIZE (bytes): at least min, and at most max unless
                                max is 0 (no upper bound); 0,0 = any. */
    const char *description; /* one line, English, for the documentation */
} sj_config_key;

typedef struct sj_config_hostport {
    const char *host; /* without brackets for IPv6 */
    uint16_t port;
} sj_config_hostport;

typedef struct sj_config sj_config;

/* Checks the table (well-formed, unique names, defaults that parse) and
 * fills every key with its default.  Returns 0, SJ_EINVAL for a bad table
 * (err says which key), or SJ_ENOMEM. */
int sj_config_new(const sj_config_key *keys, size_t nkeys, sj_config **out, sj_error *err);
void sj_config_free(sj_config *cfg);

/* Reads a file.  Returns 0, SJ_EIO (cannot read), SJ_ECONFIG_SYNTAX,
 * SJ_ECONFIG_UNKNOWN_KEY, SJ_ECONFIG_BAD_VALUE (also for duplicates) or
 * SJ_ECONFIG_MISSING, with err "file:line: ..." .  Values given in the file
 * replace earlier ones; keys it does not mention keep their previous value. */
int sj_config_load_file(sj_config *cfg, const char *path, sj_error *err);
/* The same for text in memory; `name` stands in for the file name in errors,
 * and relative paths are taken relative to base_dir (NULL: the current
 * directory). */
int sj_config_load_string(sj_config *cfg, const char *name, const char *base_dir,
                          const char *text, size_t len, sj_error *err);

/* Sets one key from text, as a command-line override would ("queue.quota",
 * "1GiB").  Returns 0, SJ_ECONFIG_UNKNOWN_KEY or SJ_ECONFIG_BAD_VALUE. */
int sj_config_set(sj_config *cfg, const char *name, const char *value, sj_error *err);

const char *sj_config_get_string(const sj_config *cfg, const char *name);
int64_t sj_config_get_int(const sj_config *cfg, const char *name);
bool sj_config_get_bool(const sj_config *cfg, const char *name);
int64_t sj_config_get_duration_ms(const sj_config *cfg, const char *name);
uint64_t sj_config_get_size(const sj_config *cfg, const char *name);
const char *sj_config_get_path(const sj_config *cfg, const char *name);
/* The list and its length (*n); NULL when empty. */
const sj_config_hostport *sj_config_get_hostports(const sj_config *cfg, const char *name,
                                                  size_t *n);
/* True if a file or sj_config_set() gave the key a value. */
bool sj_config_is_set(const sj_config *cfg, const char *name);
/* The line of the file that gave the key its value; 0 when it has its
 * default or came from sj_config_set().  For checks a program makes after
 * loading, so its message can say file:line like the parser's. */
size_t sj_config_line(const sj_config *cfg, const char *name);

/* Prints the table as a commented configuration file: per section, each key
 * with its description, type, range and default ("# required" when it has
 * none).  Returns 0 or SJ_EIO. */
int sj_config_print_doc(const sj_config_key *keys, size_t nkeys, FILE *out);

const char *sj_config_type_name(sj_config_type type);

#endif
