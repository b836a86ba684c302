/*
 * linkctl.h - a daemon's live links, listed on request over a local socket:
 * for each established link its kind, the peer's node id, the serial and
 * notAfter of the peer's certificate, and the peer's address.
 *
 * Why a socket: the list changes with every station that connects or
 * drops, and only the running daemon knows it (a file written now and
 * then would be stale, and the county has no writable directory of its
 * own).  The daemon (sanji-countyd, sanji-relayd) serves a Linux abstract
 * Unix socket, named after what makes the daemon unique on the machine
 * (sj_linkctl_name(): the county's listen.address, the relay's store
 * path), so that no file, directory or permission is needed; each
 * connection gets one listing and is closed.  The daemon answers only
 * root and the user it runs as (SO_PEERCRED): anyone else gets a one-line
 * refusal.  `sanji-countyd links` and `sanji-relayctl links` read and
 * print it (sj_linkctl_print()).
 *
 * Wire form (text, one record a line, fields separated by tabs):
 *     sanji-links 1 <TAB> <daemon's node id> <TAB> <daemon's Unix time>
 *     link <TAB> <kind> <TAB> <peer node id> <TAB> <serial hex> <TAB> <notAfter, Unix s> <TAB> <address>
 *   or, to a user who may not ask:
 *     refused <TAB> <message>
 *
 * Ownership: sj_linkctl_start() returns a server owned by the caller until
 * sj_linkctl_close(), after which it frees itself once its handles are
 * closed (the loop must run on).  The collect callback writes into a
 * listing (sj_linkctl_list) owned by the server.  Threads: the loop's.
 *
 * Entry points: sj_linkctl_name(), sj_linkctl_start(), sj_linkctl_close(),
 * sj_linkctl_add_conn(), sj_linkctl_print().
 */
#ifndef SJ_LINKCTL_H
#define SJ_LINKCTL_H

#include <stddef.h>
#include <stdio.h>

#include <uv.h>

#include "conn.h"
#include "err.h"

/* An abstract socket name holds at most 107 bytes. */
#define SJ_LINKCTL_NAME_MAX 108

typedef struct sj_linkctl sj_linkctl;
typedef struct sj_linkctl_list sj_linkctl_list;

/* The socket name of `daemon` ("sanji-countyd", "sanji-relayd") keyed by
 * key into out: "sanji/<daemon>/<key>", or, when that is too long,
 * "sanji/<daemon>/#<hash of key>".  The daemon and its listing command
 * must give the same key. */
void sj_linkctl_name(const char *daemon, const char *key, char out[SJ_LINKCTL_NAME_MAX]);

/* Serves the listing on loop under name.  self is the daemon's node id
 * (copied).  collect(arg, list) is called for each request and adds one
 * line per link with sj_linkctl_add_conn().  Returns the server, or NULL
 * with err set (SJ_EIO: the name is taken, e.g. by the same daemon running
 * twice; SJ_ENOMEM). */
sj_linkctl *sj_linkctl_start(uv_loop_t *loop, const char *name, const char *self,
                             void (*collect)(void *arg, sj_linkctl_list *list), void *arg,
                             sj_error *err);

/* Stops serving; requests being answered are dropped.  NULL is ignored. */
void sj_linkctl_close(sj_linkctl *lc);

/* Adds conn to the listing if it is established (sj_conn_established()),
 * as a link of kind (a word: "station", "relay", "desk", "county"). */
void sj_linkctl_add_conn(sj_linkctl_list *list, const char *kind, const sj_conn *conn);

/* Asks the daemon serving name and prints its links to out, one per line
 * with the peer, kind, serial, notAfter (China time) and how long it has
 * left, and the address.  Waits at most timeout_ms for the answer.
 * Returns 0, or SJ_ECONNECT (no daemon answers: it is not running, or runs
 * with another configuration; or it refused this user), SJ_ETIMEOUT,
 * SJ_EPROTOCOL (an answer that is no listing), SJ_EIO, with err saying
 * what to do. */
int sj_linkctl_print(FILE *out, const char *name, int timeout_ms, sj_error *err);

#endif
