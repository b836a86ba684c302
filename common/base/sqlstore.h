/*
 * sqlstore.h - opening a Sanji SQLite store (the relay's queue and cache,
 * a client's outbox and cache) the one careful way: check it, never reset
 * it, create it only when the file holds nothing.
 *
 * A store names its owner in a `meta` table (key TEXT PRIMARY KEY, value
 * TEXT NOT NULL): the program marker, the format version and the node id,
 * under the key names the spec gives (they differ between the relay and the
 * client for files already in the field).  sj_sqlstore_open():
 *
 *   - a file that is not an SQLite database, or fails PRAGMA quick_check
 *     (integrity_check with spec->full_check), is SJ_ESTORE_CORRUPT;
 *   - a database without the spec's marker (another program), made for
 *     another node, or of a newer format (or an older one unless
 *     spec->accept_older) is SJ_ESTORE_FOREIGN;
 *   - a file holding no table at all (new or empty) gets the meta table,
 *     spec->schema and the three meta rows in one transaction;
 *   - opened for writing, the store is put in WAL mode with
 *     synchronous=FULL (docs/ARCHITECTURE.md, G1).
 * Every message names the store kind and the file, says what was wrong and
 * what to do, in Chinese first.  Nothing is written to a refused file.
 *
 * Ownership: on success *db is an open connection owned by the caller
 * (sqlite3_close() it); on failure *db is NULL and nothing stays open.  The
 * spec is borrowed for the call only (normally a static const).  The
 * connection belongs to one thread (SQLITE_OPEN_NOMUTEX); extended result
 * codes are left off.
 *
 * Entry points: sj_sqlstore_open(), sj_sqlstore_meta_get().
 */
#ifndef SJ_SQLSTORE_H
#define SJ_SQLSTORE_H

#include <stdbool.h>

#include <sqlite3.h>

#include "err.h"

typedef struct sj_sqlstore_spec {
    const char *kind_zh;         /* the store kind for messages: "乡镇中继存储" */
    const char *kind_en;         /* "relay store" */
    const char *program;         /* who reads it, for "run the matching ...": "sanji-relayd" */
    const char *marker;          /* value of the marker key: "sanji-relay-store" */
    int format_version;          /* the format this program writes */
    bool accept_older;           /* open older formats (the caller upgrades them) */
    bool full_check;             /* integrity_check instead of quick_check */
    const char *key_marker;      /* meta key names: "format" */
    const char *key_version;     /* "format_version" */
    const char *key_node;        /* "node_id" */
    const char *schema;          /* SQL creating every table except meta */
    const char *damaged_zh;      /* what to do with a damaged file, Chinese */
    const char *damaged_en;      /* the same in English */
} sj_sqlstore_spec;

/* What the opened store says about itself. */
typedef struct sj_sqlstore_info {
    bool created;                /* the file was new and has been initialised */
    int format_version;          /* the format found (spec's when created) */
    char node_id[128];           /* the node the store belongs to */
} sj_sqlstore_info;

/* Opens the store at path for node_id (NULL: any node, for read-only tools;
 * required when writing).  read_only never writes and never creates: a file
 * without tables is SJ_ENOTFOUND.  info may be NULL.  Returns 0, or
 * SJ_EINVAL, SJ_ENOMEM, SJ_EIO (cannot open or read the file),
 * SJ_ESTORE_CORRUPT, SJ_ESTORE_FOREIGN, SJ_ENOTFOUND or SJ_EDB (SQLite
 * failed while creating) with err. */
int sj_sqlstore_open(const char *path, const sj_sqlstore_spec *spec, const char *node_id,
                     bool read_only, sqlite3 **db, sj_sqlstore_info *info, sj_error *err);

/* Reads one value of the meta table into buf (cap bytes, cut short if
 * longer).  Returns 0, SJ_ENOTFOUND (no such key) or SJ_EDB (no meta
 * table, or SQLite failed). */
int sj_sqlstore_meta_get(sqlite3 *db, const char *key, char *buf, size_t cap);

#endif
