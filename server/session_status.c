/*
 * session_status.c - a relay's status on a county session (session.h):
 * Heartbeat.status and NodeStatus kept at most every
 * STATUS_STORE_MIN_MS, under the certificate's identity, and stored on
 * the apply worker (the network table, the wrong passwords its stations
 * report, the stations' presence: presence.h); wrong passwords are logged
 * once per station and person, never the password.
 *
 * Entry points (session_int.h): countyd_session_on_status().
 */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "login_report.h"
#include "orgunit.h"
#include "presence.h"

#define STATUS_STORE_MIN_MS 5000
/* A status that passes on wrong passwords is kept even within
 * STATUS_STORE_MIN_MS (the relay sends them once), but not more often than
 * this: an honest relay sends its status every second heartbeat, and a
 * relay that floods cannot make the county log and store without end. */
#define FAILURES_STORE_MIN_MS 500

/* ---- the status job (apply worker) ---------------------------------------- */

typedef struct status_data {
    char node[SJ_IDENTITY_NODE_ID_MAX];
    char unit[SJ_UNIT_CODE_SIZE];
    uint8_t *packed;
    size_t len;
    countyd_duty duty;  /* presence.* */
    int64_t at_ms;      /* when the county got it */
} status_data;

static void status_run(countyd_job *j, PGconn *db, countyd_apply *apply)
{
    status_data *s = j->data;
    Sanji__NodeStatus *st = sanji__node_status__unpack(NULL, s->len, s->packed);
    if (!st) {
        j->status = sj_error_set(&j->err, SJ_EINTERNAL, "cannot unpack a node status");
        return;
    }
    j->status = countyd_netstat_store(db, s->node, s->unit, st, &j->err);
    if (j->status == 0)
        j->status = countyd_login_failures_store(db, s->node, s->unit, st, &j->err);
    if (j->status == 0)
        j->status = countyd_presence_note(db, apply->calendar, &s->duty, s->unit, st, s->at_ms,
                                          &j->err);
    sanji__node_status__free_unpacked(st, NULL);
}

static void status_done(countyd_job *j)
{
    status_data *s = j->data;
    if (j->status != 0 && j->status != SJ_ECANCELLED)
        SJ_LOG_WARN(MOD, "node status not stored", "node", s->node, "why", j->err.message);
    free(s->packed);
    free(s);
    countyd_job_free(j);
}

/* Queues the relay's status (copied) for the table.  Out of memory drops
 * it: the relay sends its next one with a later heartbeat. */
static void store_status(countyd_session *ss, const Sanji__NodeStatus *st)
{
    status_data *s = calloc(1, sizeof(*s));
    if (!s)
        return;
    snprintf(s->node, sizeof(s->node), "%s", ss->peer.node_id);
    snprintf(s->unit, sizeof(s->unit), "%s", ss->peer.unit);
    s->duty = ss->cfg->duty;
    s->at_ms = sj_clock_real_ms();
    s->len = sanji__node_status__get_packed_size(st);
    s->packed = malloc(s->len ? s->len : 1);
    countyd_job *j = s->packed ? countyd_job_new() : NULL;
    if (!j) {
        free(s->packed);
        free(s);
        return;
    }
    sanji__node_status__pack(st, s->packed);
    j->run = status_run;
    j->done = status_done;
    j->data = s;
    countyd_worker_push(ss->ctx->apply, j);
}

/* ---- the status received ---------------------------------------------------- */

static bool carries_login_failures(const Sanji__NodeStatus *st)
{
    for (size_t i = 0; i < st->n_stations; i++)
        if (st->stations[i]->n_login_failures)
            return true;
    return false;
}

/* Wrong passwords a relay passes on from its stations (PKI.md "Password
 * guessing"): one log line per station and person, a warning when
 * repeated (SJ_LOGIN_REPEATED), never the password.  Reports of stations
 * outside the relay's township are not believed. */
static void log_login_failures(countyd_session *s, const Sanji__NodeStatus *st)
{
    for (size_t i = 0; i < st->n_stations; i++) {
        const Sanji__StationStatus *ss = st->stations[i];
        char unit[SJ_UNIT_CODE_SIZE];
        if (ss->n_login_failures == 0)
            continue;
        if (!countyd_login_failure_station(s->peer.unit, ss, unit)) {
            SJ_LOG_WARN(MOD, "wrong passwords reported for a station not of the relay's township",
                        "relay", s->peer.node_id, "station", ss->node ? ss->node : "");
            continue;
        }
        /* As many persons as a relay's report holds (login_report.h). */
        for (size_t j = 0; j < ss->n_login_failures && j < SJ_LOGIN_REPORT_PERSONS; j++) {
            const Sanji__LoginFailures *lf = ss->login_failures[j];
            char count[16], row[16];
            snprintf(count, sizeof count, "%u", (unsigned)lf->count);
            snprintf(row, sizeof row, "%u", (unsigned)lf->in_a_row);
            const char *person = lf->person && *lf->person ? lf->person : "?";
            if (lf->count >= SJ_LOGIN_REPEATED || lf->in_a_row >= SJ_LOGIN_REPEATED)
                SJ_LOG_WARN(MOD, "repeated wrong passwords at a station", "station", ss->node,
                            "person", person, "count", count, "in_a_row", row, "relay",
                            s->peer.node_id);
            else
                SJ_LOG_INFO(MOD, "wrong password at a station", "station", ss->node, "person",
                            person, "count", count, "in_a_row", row, "relay", s->peer.node_id);
        }
    }
}

void countyd_session_on_status(countyd_session *s, const Sanji__NodeStatus *st)
{
    if (s->peer.role != SJ_NODE_ROLE_RELAY || !st)
        return;
    int64_t now = sj_clock_mono_ms();
    bool failures = carries_login_failures(st);
    if (failures && s->last_failures_ms && now - s->last_failures_ms < FAILURES_STORE_MIN_MS) {
        if (!s->failures_dropped) /* once per flood, not per message */
            SJ_LOG_WARN(MOD, "statuses with wrong passwords dropped: the relay sends too often",
                        "relay", s->peer.node_id);
        s->failures_dropped = true;
        return;
    }
    if (failures) {
        s->last_failures_ms = now;
        s->failures_dropped = false;
        log_login_failures(s, st);
    } else if (s->last_status_ms && now - s->last_status_ms < STATUS_STORE_MIN_MS) {
        return;
    }
    s->last_status_ms = now;
    /* Who it is comes from the certificate, not from the message. */
    Sanji__NodeStatus copy = *st;
    copy.node = s->peer.node_id;
    copy.role = SANJI__NODE_ROLE__NODE_ROLE_RELAY;
    copy.org_unit = s->peer.unit;
    if (copy.reported_at_ms == 0)
        copy.reported_at_ms = sj_clock_real_ms();
    store_status(s, &copy);
}

