/*
 * netview.h - the warnings of the network view (鲁山's "one glance"), drawn
 * from the county's answer to Query.network_status, for the desktop's
 * network page and `sanji network` alike.
 *
 * The county sends every township and village of the asker's scope with
 * the figures (never connected, working days silent, certificate expiry)
 * and its two thresholds (network.offline_warn_days, network.cert_warn_days);
 * which of them deserve a warning, in which order, and how each is said is
 * decided here once.
 *
 * Rules, most serious first:
 *   0. from 1 November, next year's holiday arrangement not yet imported
 *      at the county (due times in that year are provisional);
 *   1. a certificate (relay or station) already expired;
 *   2. a township relay that never reported; the village stations of a
 *      township that never connected, as one warning for the township
 *      (when a county goes live, hundreds do: one line each would bury
 *      everything else);
 *   3. a relay or a village station silent for at least the threshold in
 *      working days (desks are not stations: a desk switched off over a
 *      holiday is no fault);
 *   4. a village station staffed (linked, someone logged in) for less
 *      than presence.staffed_warn_percent of the last working day's duty
 *      hours, as the county counted it (docs/SERVER.md "Station presence");
 *   5. a certificate expiring within the threshold in days.
 * Within a rule, the order of the answer (township by township).
 *
 * Pure functions; no I/O.  The warnings point into the NetworkStatus they
 * came from and live as long as it does.
 *
 * Entry points: sc_netview_warnings(), sc_netview_warning_text(),
 * sc_netview_presence(), sc_netview_staffed_text(), sc_netview_understaffed(),
 * sc_netview_unit_name().
 */
#ifndef SC_NETVIEW_H
#define SC_NETVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sanji.pb-c.h"

typedef enum sc_netview_kind {
    SC_NETVIEW_CALENDAR_MISSING = 5, /* days: the year */
    SC_NETVIEW_CERT_EXPIRED = 1,
    SC_NETVIEW_NEVER_CONNECTED = 2,
    SC_NETVIEW_SILENT = 3,
    SC_NETVIEW_CERT_EXPIRING = 4,
    SC_NETVIEW_UNSTAFFED = 6,        /* days: percent staffed */
} sc_netview_kind;

typedef struct sc_netview_warning {
    sc_netview_kind kind;
    const char *node; /* "relay:410423101000"; "" for one never connected */
    const char *unit; /* the village's code; the township's for a relay, and
                         for its stations that never connected */
    int is_relay;     /* a township's relay, else a station or desk */
    uint32_t days;    /* SILENT: working days; CERT_EXPIRING: whole days left */
    /* NEVER_CONNECTED stations: the township's node and how many of its
     * stations never connected (those with never_connected set) */
    const Sanji__NodeStatus *township;
    size_t count;
    const Sanji__PresenceDay *presence; /* UNSTAFFED: the day */
} sc_netview_warning;

/* A place's name from its code (the org tree), or NULL when not known. */
typedef const char *(*sc_netview_name_fn)(void *ctx, const char *code);

/* The warnings of ns at now_ms, in the order above, into *out (malloc'd,
 * free() it; NULL when there are none).  Returns 0, or SJ_ENOMEM. */
int sc_netview_warnings(const Sanji__NetworkStatus *ns, int64_t now_ms, sc_netview_warning **out,
                        size_t *n, sj_error *err);

/* One warning as a sentence for the person at the desk (gettext; Chinese
 * first), naming the places (by name_of, else by code; the first ten
 * villages of a township's group, then "…") and saying what to do.
 * Writes at most cap bytes into buf. */
void sc_netview_warning_text(const sc_netview_warning *w, sc_netview_name_fn name_of, void *ctx,
                             char *buf, size_t cap);

/* A station's presence records in the county's answer: *today the one of
 * now_ms's China day, *last the last working day's before it (each NULL
 * when the answer has none). */
void sc_netview_presence(const Sanji__StationStatus *s, int64_t now_ms,
                         const Sanji__PresenceDay **today, const Sanji__PresenceDay **last);

/* "6.5/9" (hours staffed / duty hours, one decimal at most) or "-"
 * without a record; the CLI's and the desktop's staffed columns. */
void sc_netview_staffed_text(const Sanji__PresenceDay *p, char *buf, size_t cap);

/* True when p is a working day staffed for less than warn_percent of its
 * duty hours (rule 4). */
int sc_netview_understaffed(const Sanji__PresenceDay *p, uint32_t warn_percent);

/* A sc_netview_name_fn over a client's org tree (ctx: the sc_client). */
const char *sc_netview_unit_name(void *client, const char *code);

#endif
