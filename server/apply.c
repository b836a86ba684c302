/*
 * apply.c - applies upward case messages in batched transactions (see
 * apply.h for the contract).
 *
 * Inside the apply functions a refusal is a positive outcome of the
 * message, not a failure of the batch: they return REFUSED (> 0) after
 * filling the result, and apply_one() records it.  A negative return is a
 * database failure of the batch.
 *
 * Cost per message (docs/PERFORMANCE.md, tuning items 4-9): persons and
 * items come from memory (refdata.h); the processed-message insert is the
 * dedup check; the writes of a message are few statements (data-modifying
 * CTEs).  Three modes, each the fallback of the one before (their writes:
 * apply_exec.c):
 *   pipelined  the batch's cases are read in one query and its writes are
 *              deferred (countyd_apply_defer()) and sent in one pipeline:
 *              set-based, one statement per table
 *              (countyd_apply_set_flush(), apply_set.h; the default), or
 *              one per row (countyd_apply_pipe_flush(),
 *              apply.set_based = false); a round trip per batch, not per
 *              statement;
 *   serial     the statements of one message after another, the last of
 *              them in one pipeline with the processed-message row;
 *   safe       serial with a savepoint per message (NEED_SAFE).
 *
 * This file is the rules side: each message decoded into what to do (the
 * acting person, its own fields, the state machine of common/domain/case.c, the
 * county's records) and the statements that record it; how they reach
 * PostgreSQL in each mode is apply_exec.c's (apply_int.h).
 *
 * Entry points: countyd_apply_open(), countyd_apply_close(),
 * countyd_apply_batch(), countyd_apply_system(); countyd_apply_set_kind()
 * for apply_exec.c.
 */
#include "apply_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apply_set.h"
#include "admin.h"
#include "arena.h"
#include "case_pb.h"
#include "caserow.h"
#include "clock.h"
#include "db.h"
#include "i18n.h"
#include "identity.h"
#include "log.h"
#include "orgunit.h"
#include "password.h"
#include "personal.h"
#include "refusal.h"
#include "uuid.h"

#define REFUSED 1
/* apply_one() in the fast mode met something only a savepoint could undo:
 * the batch is rolled back and applied again in the safe mode. */
#define NEED_SAFE 2

/* Bound on how far the client's clock may run ahead of the county's when
 * the registration time is taken as the start of the time limit. */
#define CLIENT_CLOCK_SLACK_MS (10 * 60 * 1000)

/* Refuses a time the sender cannot have saved its work at: later than the
 * county's clock allows for, or before the county's CA existed (no station
 * had a certificate then).  0 means "now" and passes.  Refused rather than
 * moved, so that a station whose clock is wrong learns it and no false date
 * enters the record or the statistics. */
static int refuse(countyd_apply_result *r, int code, const char *why);

static int check_client_time(const countyd_apply *a, int64_t t, int64_t now,
                             countyd_apply_result *r)
{
    if (t > now + CLIENT_CLOCK_SLACK_MS)
        return refuse(r, SJ_EBAD_TIME, N_("The time given is later than the county's clock; "
                                          "correct this computer's date and time."));
    if (t > 0 && a->time_floor_ms > 0 && t < a->time_floor_ms)
        return refuse(r, SJ_EBAD_TIME, N_("The time given is before this county's network "
                                          "existed; correct this computer's date and time."));
    return 0;
}

int countyd_apply_open(countyd_apply *a, PGconn *db, const char *county, sj_error *err)
{
    memset(a, 0, sizeof(*a));
    if (!county || strlen(county) != 6 || strspn(county, "0123456789") != 6)
        return sj_error_set(err, SJ_EINVAL, "county code must be 6 digits");
    a->db = db;
    memcpy(a->county, county, 7);
    countyd_refdata_cache_init(&a->refs);
    a->rectify_days = SJ_RECTIFY_DAYS_DEFAULT;
    a->pipe = calloc(1, sizeof(*a->pipe));
    if (!a->pipe) {
        countyd_apply_close(a);
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    }
    int rc = countyd_apply_reload_calendar(a, err);
    if (rc != 0)
        countyd_apply_close(a);
    return rc;
}

int countyd_apply_reload_calendar(countyd_apply *a, sj_error *err)
{
    sj_calendar *cal;
    int rc = countyd_calendar_read(a->db, &cal, err);
    if (rc != 0)
        return rc;
    sj_calendar_free(a->calendar);
    a->calendar = cal;
    return 0;
}

int countyd_calendar_read(PGconn *db, sj_calendar **out, sj_error *err)
{
    *out = NULL;
    sj_calendar *cal = sj_calendar_new();
    if (!cal)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    PGresult *res = NULL;
    int rc = countyd_db_query(db, "SELECT day::text, kind, name FROM holiday ORDER BY day", 0,
                              NULL, &res, err);
    if (rc != 0)
        res = NULL;
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        int32_t day;
        if ((rc = sj_clock_parse_date(PQgetvalue(res, i, 0), &day, err)) == 0)
            rc = sj_calendar_add(cal, day,
                                 strcmp(PQgetvalue(res, i, 1), "workday") == 0 ? SJ_CALENDAR_WORKDAY
                                                                              : SJ_CALENDAR_HOLIDAY,
                                 PQgetvalue(res, i, 2), err);
    }
    PQclear(res);
    if (rc != 0) {
        sj_calendar_free(cal);
        return rc;
    }
    *out = cal;
    return 0;
}

void countyd_apply_close(countyd_apply *a)
{
    sj_calendar_free(a->calendar);
    a->calendar = NULL;
    countyd_refdata_cache_free(&a->refs);
    if (a->pipe) {
        countyd_apply_pipe_reset(a->pipe);
        free(a->pipe->d);
        free(a->pipe->t);
        free(a->pipe->nf);
        free(a->pipe);
        a->pipe = NULL;
    }
}

/* --- small helpers ---------------------------------------------------------- */

/* Fills r as a refusal and returns REFUSED. */
static int refuse(countyd_apply_result *r, int code, const char *why)
{
    r->status = SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    r->code = code;
    /* The cadre's words for the refusal, in the county's language (gettext),
     * the same text the clients' own pre-check shows. */
    sj_refusal_format(code, why, r->reason, sizeof r->reason);
    r->feed_seq = 0;
    r->village[0] = '\0';
    r->notify_queued = false;
    return REFUSED;
}

static void fmt_i64(char *buf, size_t cap, int64_t v)
{
    snprintf(buf, cap, "%" PRId64, v);
}

static const char *b(bool v)
{
    return v ? "t" : "f";
}

static sj_person_role role_of_node(Sanji__NodeRole role)
{
    switch (role) {
    case SANJI__NODE_ROLE__NODE_ROLE_VILLAGE: return SJ_ROLE_VILLAGE_CADRE;
    case SANJI__NODE_ROLE__NODE_ROLE_TOWNSHIP_DESK: return SJ_ROLE_TOWNSHIP_STAFF;
    case SANJI__NODE_ROLE__NODE_ROLE_COUNTY_DESK: return SJ_ROLE_COUNTY_OPERATOR;
    case SANJI__NODE_ROLE__NODE_ROLE_DEPARTMENT_DESK: return SJ_ROLE_DEPARTMENT_STAFF;
    default: return SJ_ROLE_NONE;
    }
}

/* Is the SQLSTATE in err a data problem of this one message? */
static bool data_error(const sj_error *err)
{
    char st[6];
    countyd_db_sqlstate(err, st);
    return err->code == SJ_EDB && (strncmp(st, "22", 2) == 0 || strncmp(st, "23", 2) == 0);
}

/* Called before a message's first write.  The flag tells apply_one() that
 * a refusal or a redelivery found from here on has something to undo. */
static void before_write(countyd_apply *a)
{
    a->wrote = true;
}

/* --- the acting person ------------------------------------------------------ */

/* Checks the person against the sending node; fills actor and name. */
static int check_person(countyd_apply *a, const countyd_peer *peer, const char *person,
                        sj_actor *actor, char *name, size_t name_cap, countyd_apply_result *r)
{
    sj_person_role want = role_of_node(peer->role);
    if (want == SJ_ROLE_NONE)
        return refuse(r, SJ_EWRONG_ROLE, N_("This kind of computer may not act on cases."));
    if (!person || !*person || strlen(person) > 64)
        return refuse(r, SJ_EMISSING_FIELD, N_("Nobody is named as the person who did it; log in and "
                                               "save it again."));
    /* A department desk's identity names its department (identity.h); its
     * staff must be of that department. */
    sj_identity node;
    const char *department = "";
    if (want == SJ_ROLE_DEPARTMENT_STAFF) {
        if (!peer->node || sj_identity_parse_node_id(peer->node, &node, NULL) != 0)
            return refuse(r, SJ_EWRONG_ROLE, N_("This kind of computer may not act on cases."));
        department = node.name;
    }
    const countyd_ref_person *who = countyd_refdata_cache_person(&a->refs, person);
    if (!who || !who->active || strcmp(who->org_unit, peer->unit) != 0 || who->role != (int)want ||
        strcmp(who->department, department) != 0)
        return refuse(r, SJ_EUNKNOWN_PERSON, N_("The person who did it is not known at the county, "
                                                "is no longer active, or belongs to another station."));
    snprintf(name, name_cap, "%s", who->name);
    actor->role = want;
    snprintf(actor->unit, sizeof(actor->unit), "%s", peer->unit);
    snprintf(actor->department, sizeof(actor->department), "%s", department);
    snprintf(actor->person, sizeof(actor->person), "%s", person);
    return 0;
}

/* --- shared writes ---------------------------------------------------------- */

typedef struct event_row {
    const char *case_id;   /* text uuid */
    int seq;
    const sj_case_event *ev;
    const char *person, *person_name, *node;
    sj_level level;
    const char *unit;
    int64_t at_ms, recorded_ms;
    const char *note, *result, *department, *department_code;
    const char *const *materials;
    size_t n_materials;
    sj_satisfaction satisfaction;
    const char *message_id; /* text uuid */
    const char *named, *named_name; /* ASSIGN, TAKE_OVER, SET_CARRIER: the person named */
    bool figures_on_case; /* its share of the history figures goes with the case's update */
} event_row;

/* The processed-message row of a result: the parameters of RECORD_SQL. */
typedef struct record_row {
    char status[8], code[16], version[24], cid[SJ_UUID_TEXT_SIZE];
    const char *p[8];
} record_row;

/* The insert is also the dedup check (G2): it returns a row when the id
 * was new and none, writing nothing, when the id was already recorded, so
 * that a fresh message (nearly all of them) costs no separate lookup. */
static const char RECORD_SQL[] =
    "INSERT INTO processed_message (message_id, status, code, reason, case_id, case_number,"
    " case_version, sender_node) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (message_id) DO NOTHING RETURNING 1";

/* The pipelined mode's variants: a recorded id is a unique violation that
 * aborts the batch (which then runs serially and finds the redelivery),
 * and a new case's number, not known when the statement is deferred, is
 * read from the case row the pipeline inserted before it. */
static const char RECORD_STRICT_SQL[] =
    "INSERT INTO processed_message (message_id, status, code, reason, case_id, case_number,"
    " case_version, sender_node) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char RECORD_NEW_CASE_SQL[] =
    "INSERT INTO processed_message (message_id, status, code, reason, case_id, case_number,"
    " case_version, sender_node) VALUES ($1, $2, $3, $4, $5,"
    " coalesce((SELECT number FROM cases WHERE case_id = $5), $6), $7, $8)";

/* An event, the village's feed counter and the feed row in one statement
 * (one round trip instead of three).  The counter row stays locked until
 * COMMIT: no two transactions take the same number, and a rolled-back one
 * leaves no gap.  The feed row's foreign key to the event is checked at the
 * end of the statement, when the event is in.
 *
 * The same statement adds the event to the case's history figures that the
 * period statistics count (migration 0017; $31 - $36 from
 * event_figures_of()) when no update of the case row carries them: only a
 * new case's events (an action's go with CASE_UPDATE_SQL, so that the row
 * is written once); an event that counts for none of them (most, and
 * every action's) leaves the case row alone. */
static const char EVENT_SQL[] =
    "WITH e AS (INSERT INTO case_event (case_id, seq, action, actor_person, actor_name,"
    " actor_node, actor_level, actor_unit, at_ms, recorded_at_ms, from_status,"
    " to_status, note, result, materials, satisfaction, department, message_id,"
    " repeat_materials_request, department_code, clock_days, due_at_ms,"
    " due_provisional, notify_attempt, notify_retry_at_ms, person, person_name,"
    " rectify_due_at_ms, rectify_late) VALUES"
    " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,"
    " $19, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30) RETURNING case_id, seq),"
    " s AS (UPDATE cases SET finished_event_at_ms = greatest(finished_event_at_ms, $31::bigint),"
    " repeat_requests = repeat_requests + $32::integer,"
    " extensions_asked = extensions_asked + $33::integer,"
    " extensions_approved = extensions_approved + $34::integer,"
    " feedback_unsatisfied = feedback_unsatisfied OR $35::boolean,"
    " feedback_bad = feedback_bad OR $36::boolean"
    " WHERE case_id = $1::uuid AND ($31::bigint > 0 OR $32::integer > 0 OR $33::integer > 0"
    " OR $34::integer > 0 OR $35::boolean OR $36::boolean) RETURNING 1),"
    " c AS (INSERT INTO feed_counter (village, last_seq) VALUES ($20::text, 1)"
    " ON CONFLICT (village) DO UPDATE SET last_seq = feed_counter.last_seq + 1"
    " RETURNING last_seq)"
    " INSERT INTO feed (village, seq, case_id, event_seq)"
    " SELECT $20::text, c.last_seq, e.case_id, e.seq FROM e, c RETURNING seq";

/* Fills x for r (which must not move before x is used). */
static void record_params(record_row *x, const char *message_id, const countyd_peer *peer,
                          const countyd_apply_result *r)
{
    static const uint8_t zero[16];
    snprintf(x->status, sizeof(x->status), "%d", (int)r->status);
    snprintf(x->code, sizeof(x->code), "%d", r->code);
    snprintf(x->version, sizeof(x->version), "%" PRIu64, r->case_version);
    sj_uuid_format(r->case_id, x->cid);
    const char *p[8] = {message_id, x->status, x->code, r->reason,
                        memcmp(r->case_id, zero, 16) ? x->cid : NULL, r->case_number, x->version,
                        peer && peer->node ? peer->node : ""};
    memcpy(x->p, p, sizeof(p));
}

/* The event's share of its case's history figures (migration 0017): the
 * time of a finishing event (即办, 办结, 退办), one repeated request for
 * materials, one extension asked or approved, a 不满意 or 差评 feedback;
 * the same conditions as the migration's backfill.  Added to sum (the
 * shares of several events: the latest time, the counts added up). */
static void event_figures_of(const sj_case_event *ev, int64_t at_ms, sj_satisfaction satisfaction,
                             case_figures *sum)
{
    sj_case_action act = ev->action;
    bool finishing = act == SJ_ACTION_RESOLVE_AT_ONCE || act == SJ_ACTION_RESOLVE ||
                     act == SJ_ACTION_RETURN_UNDOABLE;
    bool feedback = act == SJ_ACTION_FEEDBACK;
    if (finishing && at_ms > sum->fin)
        sum->fin = at_ms;
    sum->rep += ev->repeat_materials_request ? 1 : 0;
    sum->ext_req += act == SJ_ACTION_EXTEND_REQUEST ? 1 : 0;
    sum->ext_ok += act == SJ_ACTION_EXTEND_APPROVE ? 1 : 0;
    sum->unsat = sum->unsat || (feedback && satisfaction == SJ_SATISFACTION_UNSATISFIED);
    sum->bad = sum->bad || (feedback && sj_satisfaction_is_bad(satisfaction));
}

/* Figures as statement parameters: $31 - $36 of EVENT_SQL, $45 - $50 of
 * CASE_UPDATE_SQL. */
typedef struct figures_text {
    char fin[24], rep[16], ext_req[16], ext_ok[16];
    const char *unsat, *bad;
} figures_text;

static void figures_format(const case_figures *f, figures_text *t)
{
    fmt_i64(t->fin, sizeof(t->fin), f->fin);
    snprintf(t->rep, sizeof(t->rep), "%d", f->rep);
    snprintf(t->ext_req, sizeof(t->ext_req), "%d", f->ext_req);
    snprintf(t->ext_ok, sizeof(t->ext_ok), "%d", f->ext_ok);
    t->unsat = b(f->unsat);
    t->bad = b(f->bad);
}

/* Writes one event and its feed row; r->village/feed_seq are updated.
 * With last set for a node's message (a->cur), r is final and the message's
 * processed row is inserted in the same round trip (pipeline); apply_one()
 * then finds the outcome in a->recorded / a->record_fresh. */
static int write_event(countyd_apply *a, const char *village, const event_row *e, bool last,
                       countyd_apply_result *r, sj_error *err)
{
    char seq[16], action[8], level[8], at[24], rec[24], from[8], to[8], sat[8], cd[16], due[24],
        na[16], nrt[24], rdue[24], *mats = NULL;
    fmt_i64(rdue, sizeof(rdue), e->ev->rectify_due_at_ms);
    snprintf(na, sizeof(na), "%u", e->ev->notify_attempt);
    fmt_i64(nrt, sizeof(nrt), e->ev->notify_retry_at_ms);
    snprintf(seq, sizeof(seq), "%d", e->seq);
    snprintf(action, sizeof(action), "%d", (int)e->ev->action);
    snprintf(level, sizeof(level), "%d", (int)e->level);
    fmt_i64(at, sizeof(at), e->at_ms);
    fmt_i64(rec, sizeof(rec), e->recorded_ms);
    snprintf(from, sizeof(from), "%d", (int)e->ev->from_status);
    snprintf(to, sizeof(to), "%d", (int)e->ev->to_status);
    snprintf(sat, sizeof(sat), "%d", (int)e->satisfaction);
    snprintf(cd, sizeof(cd), "%u", e->ev->clock_days);
    fmt_i64(due, sizeof(due), e->ev->due_at_ms);
    case_figures share = {0};
    if (!e->figures_on_case)
        event_figures_of(e->ev, e->at_ms, e->satisfaction, &share);
    figures_text fig;
    figures_format(&share, &fig);
    if (countyd_db_text_array(e->materials, e->n_materials, &mats) != 0)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    const char *p[] = {e->case_id, seq, action, e->person, e->person_name, e->node, level, e->unit,
                       at, rec, from, to, e->note ? e->note : "", e->result ? e->result : "",
                       mats, sat, e->department ? e->department : "", e->message_id,
                       b(e->ev->repeat_materials_request), village,
                       e->department_code ? e->department_code : "", cd, due,
                       b(e->ev->due_provisional), na, nrt, e->named ? e->named : "",
                       e->named_name ? e->named_name : "", rdue, b(e->ev->rectify_late),
                       fig.fin, fig.rep, fig.ext_req, fig.ext_ok, fig.unsat, fig.bad};
    countyd_db_stmt st[2] = {
        {.sql = EVENT_SQL,
         .n = 36, .params = p},
        {.sql = RECORD_SQL, .n = 8}};
    record_row row;
    bool with_record = last && a->cur && e->message_id;
    if (with_record) {
        record_params(&row, e->message_id, a->cur->peer, r);
        st[1].params = row.p;
    }
    snprintf(r->village, sizeof(r->village), "%s", village);
    if (a->pipelined) {
        int rc = countyd_apply_defer(a, st[0].sql, st[0].n, st[0].params, SINK_FEED_SEQ, r, err);
        if (rc == 0 && with_record) {
            /* A new case's number is read from its row (not known yet). */
            bool new_case = a->cur->submit || a->number_later;
            rc = countyd_apply_defer(a, new_case ? RECORD_NEW_CASE_SQL : RECORD_STRICT_SQL, 8, row.p, SINK_NONE,
                       NULL, err);
            a->recorded = a->record_fresh = true; /* else the pipeline fails */
        }
        free(mats);
        return rc;
    }
    int rc = countyd_db_pipeline(a->db, st, with_record ? 2 : 1, err);
    free(mats);
    if (rc != 0)
        return rc;
    PGresult *res = st[0].res;
    if (with_record) {
        a->recorded = true;
        a->record_fresh = PQntuples(st[1].res) == 1;
        PQclear(st[1].res);
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return sj_error_set(err, SJ_EINTERNAL, "feed row of case %s event %s not written",
                            e->case_id, seq);
    }
    r->feed_seq = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* Records the message id with its result: returns 1 when the id was new,
 * 0 when it was already recorded (nothing written), or a negative code. */
static int record_result(countyd_apply *a, const char *message_id, const countyd_peer *peer,
                         const countyd_apply_result *r, sj_error *err)
{
    record_row x;
    record_params(&x, message_id, peer, r);
    if (a->pipelined) {
        int rc = countyd_apply_defer(a, a->number_later ? RECORD_NEW_CASE_SQL : RECORD_STRICT_SQL, 8, x.p,
                       SINK_NONE, NULL, err);
        return rc != 0 ? rc : 1; /* a recorded id fails the pipeline */
    }
    PGresult *res;
    int rc = countyd_db_query(a->db, RECORD_SQL, 8, x.p, &res, err);
    if (rc != 0)
        return rc;
    int fresh = PQntuples(res) == 1;
    PQclear(res);
    return fresh;
}

/* The stored result of a message id recorded earlier (a redelivery),
 * into r. */
static int lookup_processed(countyd_apply *a, const char *message_id, countyd_apply_result *r,
                            sj_error *err)
{
    PGresult *res;
    const char *p[] = {message_id};
    int rc = countyd_db_query(a->db,
                              "SELECT status, code, reason, coalesce(case_id::text, ''),"
                              " case_number, case_version FROM processed_message"
                              " WHERE message_id = $1",
                              1, p, &res, err);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        /* record_result() just found the row in this transaction. */
        return sj_error_set(err, SJ_EINTERNAL, "processed message %s vanished", message_id);
    }
    memset(r, 0, sizeof(*r));
    r->status = (Sanji__AckStatus)atoi(PQgetvalue(res, 0, 0));
    r->code = atoi(PQgetvalue(res, 0, 1));
    snprintf(r->reason, sizeof(r->reason), "%s", PQgetvalue(res, 0, 2));
    if (PQgetvalue(res, 0, 3)[0])
        (void)sj_uuid_parse(PQgetvalue(res, 0, 3), r->case_id, NULL);
    snprintf(r->case_number, sizeof(r->case_number), "%s", PQgetvalue(res, 0, 4));
    r->case_version = strtoull(PQgetvalue(res, 0, 5), NULL, 10);
    r->redelivered = true;
    PQclear(res);
    return 0;
}

static const char NOTIFY_SQL[] =
    "INSERT INTO notification (case_id, event_seq, kind, phone, next_attempt_at_ms)"
    " SELECT case_id, $2, $3, applicant_phone, $4 FROM cases WHERE case_id = $1 RETURNING 1";

/* Queues the message to the villager an event calls for (ev->notify; the
 * state machine leaves it NONE for a case the cadre marked "do not
 * notify").  Only the phone is copied; the text is rendered by the
 * notifier (notify.h), never with the ID number. */
static int queue_notification(countyd_apply *a, const char *cid, int seq, const sj_case_event *ev,
                              int64_t at, countyd_apply_result *r, sj_error *err)
{
    if (ev->notify == SJ_NOTIFY_KIND_NONE)
        return 0;
    char sq[16], kind[8], when[24];
    snprintf(sq, sizeof(sq), "%d", seq);
    snprintf(kind, sizeof(kind), "%d", (int)ev->notify);
    fmt_i64(when, sizeof(when), at);
    const char *p[] = {cid, sq, kind, when};
    r->notify_queued = true;
    return countyd_apply_run_write(a, NOTIFY_SQL, 4, p, SINK_ONE_ROW, r, err);
}

/* --- persons an action names ------------------------------------------------ */

/* The role of the persons who hold a case at `level` (no department). */
static sj_person_role role_at(sj_level level)
{
    switch (level) {
    case SJ_LEVEL_VILLAGE: return SJ_ROLE_VILLAGE_CADRE;
    case SJ_LEVEL_TOWNSHIP: return SJ_ROLE_TOWNSHIP_STAFF;
    case SJ_LEVEL_COUNTY: return SJ_ROLE_COUNTY_OPERATOR;
    default: return SJ_ROLE_NONE;
    }
}

/* A person an action names (the assignee, the carrier): known, active, of
 * `unit` at `level` and, with a department, of that department's staff.
 * The machine checked the id's form; the county's records say the rest. */
static int check_named(const countyd_ref_person *p, sj_level level, const char *unit,
                       const char *department, countyd_apply_result *r)
{
    if (!p)
        return refuse(r, SJ_EUNKNOWN_PERSON,
                      N_("The county has no person with that id; choose the person from the "
                         "station's list."));
    if (!p->active)
        return refuse(r, SJ_EUNKNOWN_PERSON,
                      N_("That person is no longer active; choose someone who works there "
                         "now."));
    bool fits = strcmp(p->org_unit, unit) == 0 &&
                (department ? p->role == SJ_ROLE_DEPARTMENT_STAFF &&
                                  strcmp(p->department, department) == 0
                            : p->role == (int)role_at(level));
    if (!fits)
        return refuse(r, SJ_EBAD_FIELD,
                      N_("That person does not work in the unit that holds the case; choose one "
                         "of its people."));
    return 0;
}

/* --- CaseSubmit ------------------------------------------------------------- */

/* The case row, its number taken from the locked per-day counter in the
 * same statement. */
static const char CASE_INSERT_SQL[] =
    "WITH n AS (INSERT INTO case_number_seq (county, day, last_seq)"
    " VALUES ($22::text, $23::date, 1) ON CONFLICT (county, day) DO UPDATE"
    " SET last_seq = case_number_seq.last_seq + 1 RETURNING last_seq)"
    " INSERT INTO cases (case_id, number, village, item_code, item_name, item_min_level,"
    " applicant_name, applicant_id_number, applicant_phone, request_text, first_receiver,"
    " first_receiver_name, holder_level, holder_unit, status, version, registered_at_ms,"
    " due_at_ms, updated_at_ms, urgent, appointment_at_ms, limit_days, due_provisional,"
    " notify_state, carrier, carrier_name)"
    " VALUES ($1, (SELECT $2::text || '-' || lpad(last_seq::text,"
    " greatest(5, length(last_seq::text)), '0') FROM n), $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $24, $25, $26, $27, $28) RETURNING number";

/* What a CaseSubmit decides, for the writes. */
typedef struct submit_plan {
    sj_actor actor;
    char person_name[256];
    char id_number[SJ_PERSONAL_ID_SIZE];
    char cid[SJ_UUID_TEXT_SIZE];
    const char *carrier, *carrier_name; /* 全程代办员 */
    const countyd_ref_item *item;
    int64_t now, start;                 /* the county's clock; the limit's start */
    sj_case_outcome out;                /* sj_case_register()'s, with the due time */
} submit_plan;

/* A CaseSubmit's own fields: a village of this county, the registration's
 * fields (sj_case_check_submit()), the ID number (normalised into pl) and
 * phone, and a case id not yet used.  Returns 0, REFUSED or an error. */
static int judge_fields(countyd_apply *a, const Sanji__CaseSubmit *s, submit_plan *pl,
                        countyd_apply_result *r, sj_error *err)
{
    int rc;
    if (!s->village || !sj_orgunit_valid(s->village) ||
        sj_orgunit_level(s->village) != SJ_LEVEL_VILLAGE || strncmp(s->village, a->county, 6) != 0)
        return refuse(r, SJ_ESCOPE, N_("The village is not a village of this county."));
    const Sanji__Applicant *ap = s->applicant;
    const sj_submit sub = {.applicant_name = ap ? ap->name : NULL,
                           .id_number = ap ? ap->id_number : NULL,
                           .phone = ap ? ap->phone : NULL,
                           .request_text = s->request_text};
    sj_error why;
    if ((rc = sj_case_check_submit(&sub, &why)) != 0)
        return refuse(r, rc, why.message);
    if (sj_personal_check_id(ap->id_number, pl->id_number, &why) != 0)
        return refuse(r, SJ_EBAD_ID_NUMBER, why.message);
    if (sj_personal_check_phone(ap->phone, &why) != 0)
        return refuse(r, SJ_EBAD_PHONE, why.message);

    sj_uuid_format(r->case_id, pl->cid);
    PGresult *res;
    const char *pc[] = {pl->cid};
    /* Pipelined, an existing id makes the case insert fail (primary key)
     * and the serial run refuses it here. */
    if (!a->pipelined) {
        if ((rc = countyd_db_query(a->db, "SELECT 1 FROM cases WHERE case_id = $1", 1, pc, &res,
                                   err)) != 0)
            return rc;
        int exists = PQntuples(res);
        PQclear(res);
        if (exists)
            return refuse(r, SJ_ECASE_EXISTS, N_("A case with this id exists already."));
    }
    return 0;
}

/* The rules of a CaseSubmit: the acting person, the village, the
 * registration's own fields (sj_case_check_submit()), a new case id, the
 * carrier, the item, the time, then sj_case_register() and the due time.
 * Returns 0 with pl filled, REFUSED, or an error. */
static int judge_submit(countyd_apply *a, const countyd_apply_msg *m, submit_plan *pl,
                        countyd_apply_result *r, sj_error *err)
{
    const Sanji__CaseSubmit *s = m->submit;
    if (s->case_id.len != 16)
        return refuse(r, SJ_EBAD_FIELD, N_("The case id is not 16 bytes long."));
    memcpy(r->case_id, s->case_id.data, 16);
    int rc = check_person(a, m->peer, s->actor_person, &pl->actor, pl->person_name,
                          sizeof(pl->person_name), r);
    if (rc != 0)
        return rc;
    if ((rc = judge_fields(a, s, pl, r, err)) != 0)
        return rc;
    /* 全程代办员: the first receiver unless the village names another of
     * its active cadres. */
    pl->carrier = s->actor_person;
    pl->carrier_name = pl->person_name;
    if (s->carrier && s->carrier[0]) {
        const countyd_ref_person *cp = countyd_refdata_cache_person(&a->refs, s->carrier);
        if ((rc = check_named(cp, SJ_LEVEL_VILLAGE, s->village, NULL, r)) != 0)
            return rc;
        pl->carrier = cp->id;
        pl->carrier_name = cp->name;
    }
    const countyd_ref_item *item = countyd_refdata_cache_item(&a->refs, s->item_code);
    if (!item)
        return refuse(r, SJ_EUNKNOWN_ITEM, N_("The service catalogue has no such item in use."));
    /* Retired (sanji-countyd item retire): cases registered before keep it. */
    if (!item->active)
        return refuse(r, SJ_EUNKNOWN_ITEM,
                      N_("This catalogue item has been retired by the county; new cases cannot be "
                         "registered for it. Choose another item."));
    pl->item = item;
    int limit = item->limit_days, urgent_limit = item->urgent_limit_days;

    int64_t now = pl->now = sj_clock_real_ms();
    /* The time limit runs from registration as the cadre saved it (the
     * station may have been offline); a time the station cannot have saved
     * it at is refused, not moved, so that no false date is recorded. */
    if ((rc = check_client_time(a, s->registered_at_ms, now, r)) != 0)
        return rc;
    int64_t start = pl->start =
        s->registered_at_ms > 0 && s->registered_at_ms <= now ? s->registered_at_ms : now;
    sj_case_outcome *out = &pl->out;
    sj_error why;
    if ((rc = sj_case_register(s->village, (sj_level)item->min_level, start, &pl->actor, out,
                               &why)) != 0)
        return refuse(r, rc, why.message);
    int days = s->urgent && urgent_limit > 0 ? urgent_limit : limit;
    /* The clock starts: due `days` working days after registration,
     * provisional if that falls in a year the calendar does not cover. */
    out->next.limit_days = (uint32_t)days;
    if (sj_case_due(a->calendar, start, out->next.limit_days, &out->next.due_at_ms,
                    &out->next.due_provisional) != 0)
        return refuse(r, SJ_EBAD_FIELD, N_("The registration time is out of range."));
    /* The cadre's "do not notify" (不通知) holds for the case's life. */
    out->next.notify = s->no_notify ? SJ_NOTIFY_OFF : SJ_NOTIFY_NONE;
    out->events[0].due_at_ms = out->next.due_at_ms;
    out->events[0].due_provisional = out->next.due_provisional;
    return 0;
}

/* The writes of an accepted CaseSubmit: the case row with its number,
 * its events and feed rows, and in the set-based mode the case as this
 * batch left it. */
static int write_submit(countyd_apply *a, const countyd_apply_msg *m, const char *mid,
                        const submit_plan *pl, countyd_apply_result *r, sj_error *err)
{
    const Sanji__CaseSubmit *s = m->submit;
    const Sanji__Applicant *ap = s->applicant;
    int rc;
    /* Case number: per county per China day of the county's clock,
     * <county>-<yyyymmdd>-<seq, 5 digits or more>, taken from the locked
     * per-day counter in the same statement as the case row. */
    before_write(a);
    char day[SJ_CLOCK_DATE_SIZE], prefix[32];
    sj_clock_format_date(sj_clock_china_day(pl->now), day);
    snprintf(prefix, sizeof(prefix), "%s-%.4s%.2s%.2s", a->county, day, day + 5, day + 8);

    const sj_case *c = &pl->out.next;
    char minl[8], hl[8], st[8], ver[24], reg[24], due_s[24], upd[24], appt[24], lim[16], ns[8];
    snprintf(ns, sizeof(ns), "%d", (int)c->notify);
    snprintf(lim, sizeof(lim), "%u", c->limit_days);
    snprintf(minl, sizeof(minl), "%d", (int)pl->item->min_level);
    snprintf(hl, sizeof(hl), "%d", (int)c->holder_level);
    snprintf(st, sizeof(st), "%d", (int)c->status);
    snprintf(ver, sizeof(ver), "%" PRIu64, c->version);
    fmt_i64(reg, sizeof(reg), pl->start);
    fmt_i64(due_s, sizeof(due_s), c->due_at_ms);
    fmt_i64(upd, sizeof(upd), c->updated_at_ms);
    fmt_i64(appt, sizeof(appt), s->appointment_at_ms > 0 ? s->appointment_at_ms : 0);
    const char *p[] = {pl->cid, prefix, s->village, pl->item->code, pl->item->name, minl, ap->name,
                       pl->id_number, ap->phone, s->request_text, s->actor_person,
                       pl->person_name, hl,
                       c->holder_unit, st, ver, reg, due_s, upd, b(s->urgent), appt, a->county,
                       day, lim, b(c->due_provisional), ns, pl->carrier, pl->carrier_name};
    if ((rc = countyd_apply_run_write(a, CASE_INSERT_SQL, 28, p, SINK_NUMBER, r, err)) != 0)
        return rc;
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED; /* final before the last write_event() */
    r->case_version = c->version;
    const sj_case_outcome *out = &pl->out;
    for (size_t i = 0; i < out->n_events; i++) {
        event_row e = {.case_id = pl->cid, .seq = (int)i + 1, .ev = &out->events[i],
                       .person = s->actor_person, .person_name = pl->person_name,
                       .node = m->peer->node ? m->peer->node : "", .level = SJ_LEVEL_VILLAGE,
                       .unit = pl->actor.unit, .at_ms = pl->start, .recorded_ms = pl->now,
                       .note = s->request_text, .message_id = mid};
        if ((rc = write_event(a, s->village, &e, i + 1 == out->n_events, r, err)) != 0)
            return rc;
    }
    if (countyd_apply_set_mode(a)) {
        /* The row as inserted: the carrier is a column of the insert. */
        sj_case kept = out->next;
        kept.carrier = pl->carrier;
        kept.carrier_name = pl->carrier_name;
        if ((rc = countyd_apply_touched_keep(a, r->case_id, &kept, (int)out->n_events, "", r, -1,
                                             NULL, err)) != 0)
            return rc;
    }
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED;
    r->case_version = c->version;
    return 0;
}

static int apply_submit(countyd_apply *a, const countyd_apply_msg *m, const char *mid,
                        countyd_apply_result *r, sj_error *err)
{
    submit_plan pl;
    memset(&pl, 0, sizeof(pl));
    int rc = judge_submit(a, m, &pl, r, err);
    return rc != 0 ? rc : write_submit(a, m, mid, &pl, r, err);
}

/* --- CaseAction ------------------------------------------------------------- */

/* The columns of CASES_READ_SQL: a case as caserow.h reads it for the feed
 * and the queries, then what judging and recording an action needs
 * besides.  C_CASE_ID is the first column of COUNTYD_CASE_COLUMNS. */
enum { C_CASE_ID = 0, C_MIN_LEVEL = COUNTYD_CASE_NCOLS, C_LAST_SEQ };

/* The cases named by an array of ids, locked, one row each, with the
 * number of each case's last event (the row stays locked, so no other
 * transaction adds one).  The pipelined mode reads all the cases of a
 * batch's actions at once, the serial mode one case at a time; the order
 * by id keeps concurrent transactions locking in the same order. */
static const char CASES_READ_SQL[] =
    "SELECT " COUNTYD_CASE_COLUMNS ", c.item_min_level,"
    " (SELECT coalesce(max(seq), 0) FROM case_event e WHERE e.case_id = c.case_id)"
    " FROM cases c WHERE c.case_id = ANY($1::uuid[]) ORDER BY c.case_id FOR UPDATE OF c";

/* Runs CASES_READ_SQL for n text ids into *out. */
static int read_cases(countyd_apply *a, const char *const *ids, size_t n, PGresult **out,
                      sj_error *err)
{
    char *array = NULL;
    if (countyd_db_text_array(ids, n, &array) != 0)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    const char *p[] = {array};
    int rc = countyd_db_query(a->db, CASES_READ_SQL, 1, p, out, err);
    free(array);
    return rc;
}

/* The id a message names (16 bytes), or NULL when it names none. */
static const uint8_t *message_case(const countyd_apply_msg *m)
{
    const ProtobufCBinaryData *id = m->submit   ? &m->submit->case_id
                                    : m->action ? &m->action->case_id
                                                : NULL;
    return id && id->len == 16 ? id->data : NULL;
}

/* The pipelined mode applies every message to the cases as they were
 * before the batch: two messages on one case need the serial run, where
 * the second sees what the first wrote.  A password change (rare) is
 * applied by the serial run only. */
static bool cases_distinct(const countyd_apply_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (msgs[i].password)
            return false;
        const uint8_t *ci = message_case(&msgs[i]);
        for (size_t k = 0; ci && k < i; k++) {
            const uint8_t *ck = message_case(&msgs[k]);
            if (ck && memcmp(ci, ck, 16) == 0)
                return false;
        }
    }
    return true;
}

/* The set-based mode takes several messages on one case, but a message
 * sent twice in one batch (a resend that caught up with the first) runs
 * serially from the start, where the second finds the first's result. */
static bool ids_distinct(const countyd_apply_msg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            if (memcmp(msgs[i].message_id, msgs[k].message_id, 16) == 0)
                return false;
    return true;
}

/* Reads, locked, every case the batch's actions name (one round trip). */
static int prefetch_cases(countyd_apply *a, const countyd_apply_msg *msgs, size_t n, sj_error *err)
{
    const char **ids = calloc(n + 1, sizeof(*ids));
    char(*text)[SJ_UUID_TEXT_SIZE] = calloc(n + 1, sizeof(*text));
    size_t k = 0;
    int rc = 0;
    if (!ids || !text) {
        rc = sj_error_set(err, SJ_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (msgs[i].action && message_case(&msgs[i])) {
            sj_uuid_format(message_case(&msgs[i]), text[k]);
            ids[k] = text[k];
            k++;
        }
    if (k > 0)
        rc = read_cases(a, ids, k, &a->pipe->cases, err);
out:
    free(ids);
    free(text);
    return rc;
}

/* Where a case's row is: the prefetched rows (pipelined mode) or its own
 * locked read.  *owned says whether the caller PQclear()s *res.  *row is
 * -1 when there is no such case. */
static int load_case(countyd_apply *a, const char *cid, PGresult **res, bool *owned, int *row,
                     sj_error *err)
{
    *row = -1;
    *owned = !a->pipelined;
    if (*owned) {
        const char *id[] = {cid};
        int rc = read_cases(a, id, 1, res, err);
        if (rc != 0)
            return rc;
    } else {
        *res = a->pipe->cases;
    }
    int rows = *res ? PQntuples(*res) : 0;
    for (int i = 0; i < rows && *row < 0; i++)
        if (strcasecmp(PQgetvalue(*res, i, C_CASE_ID), cid) == 0)
            *row = i;
    return 0;
}

/* Who acted, for the history. */
typedef struct actor_info {
    sj_actor actor;
    const char *person, *person_name, *node;
    uint32_t warn_percent; /* WARN only */
} actor_info;

static int act_on_case(countyd_apply *a, const Sanji__CaseAction *act, const actor_info *who,
                       const char *mid, countyd_apply_result *r, sj_error *err);

static int apply_action(countyd_apply *a, const countyd_apply_msg *m, const char *mid,
                        countyd_apply_result *r, sj_error *err)
{
    const Sanji__CaseAction *act = m->action;
    if (act->case_id.len != 16)
        return refuse(r, SJ_EBAD_FIELD, N_("The case id is not 16 bytes long."));
    memcpy(r->case_id, act->case_id.data, 16);
    if (act->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER ||
        act->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_OVERDUE ||
        act->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_WARN ||
        act->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_RECTIFY_OVERDUE || act->action <= 0 ||
        act->action >= SJ_ACTION_COUNT)
        return refuse(r, SJ_EWRONG_ROLE, N_("This action cannot be sent from a computer."));
    if (act->n_materials > SJ_CASE_MATERIALS_MAX)
        return refuse(r, SJ_EBAD_FIELD, N_("Too many materials are listed."));
    actor_info who = {.person = act->actor_person,
                      .node = m->peer->node ? m->peer->node : ""};
    char person_name[256];
    int rc = check_person(a, m->peer, act->actor_person, &who.actor, person_name,
                          sizeof(person_name), r);
    if (rc != 0)
        return rc;
    who.person_name = person_name;
    return act_on_case(a, act, &who, mid, r, err);
}

/* A case's row after an action (every column an action may change), and
 * ($45 - $50) what the action's events add to its history figures
 * (migration 0017): the row is written once per action. */
static const char CASE_UPDATE_SQL[] =
    "UPDATE cases SET status = $2, resume_status = $3, holder_level = $4, holder_unit = $5,"
    " version = $6, handling = $7, overdue = $8, supervised = $9, escalated = $10,"
    " reached_county = $11, warn_level = $12, urge_count = $13, materials_rounds = $14,"
    " satisfaction = $15, resolved_level = $16, resolved_unit = $17, updated_at_ms = $18,"
    " closed_at_ms = $19, department = $20, result = $21, return_reason = $22,"
    " materials = $23, department_code = $24, department_refusals = $25, due_at_ms = $26,"
    " due_provisional = $27, paused_at_ms = $28, paused_days = $29, extended_days = $30,"
    " extension_days = $31, return_count = $32, notify_state = $33, notify_attempts = $34,"
    " notify_at_ms = $35, notify_retry_at_ms = $36, assignee = $37, assignee_name = $38,"
    " carrier = $39, carrier_name = $40, rectify_due_at_ms = $41, rectified_at_ms = $42,"
    " called_back_at_ms = $43, rectify_late = $44,"
    " finished_event_at_ms = greatest(finished_event_at_ms, $45::bigint),"
    " repeat_requests = repeat_requests + $46::integer,"
    " extensions_asked = extensions_asked + $47::integer,"
    " extensions_approved = extensions_approved + $48::integer,"
    " feedback_unsatisfied = feedback_unsatisfied OR $49::boolean,"
    " feedback_bad = feedback_bad OR $50::boolean WHERE case_id = $1 RETURNING 1";

/* The case an action is judged against: as an earlier message of this
 * batch left it (set-based mode, *t set), else its row loaded FOR UPDATE
 * (*res, to be cleared by the caller when *owned) and converted as the
 * feed shows it, through the same conversion as the relays' and the
 * clients' copies.  Fills r's case number.  Returns 0, REFUSED (no such
 * case) or an error. */
static int case_now(countyd_apply *a, const char *cid, countyd_arena *arena, PGresult **res,
                    bool *owned, sj_case *cur, int *last_seq, const touched **t,
                    countyd_apply_result *r, sj_error *err)
{
    int rc, row = -1;
    *t = countyd_apply_set_mode(a) ? countyd_apply_touched_find(a->pipe, r->case_id) : NULL;
    if (*t) {
        *cur = (*t)->c;
        *last_seq = (*t)->last_seq;
        snprintf(r->case_number, sizeof(r->case_number), "%s", (*t)->number);
        return (*t)->number[0] ? 0 : countyd_apply_number_later(a, r, (*t)->submit, err);
    }
    if ((rc = load_case(a, cid, res, owned, &row, err)) != 0)
        return rc;
    if (row < 0)
        return refuse(r, SJ_EUNKNOWN_CASE, N_("The county has no such case."));
    const Sanji__Case *row_case = countyd_caserow_case(arena, *res, row, 0);
    sj_case_pb_to_case(row_case, (sj_level)atoi(PQgetvalue(*res, row, C_MIN_LEVEL)), cur);
    snprintf(r->case_number, sizeof(r->case_number), "%s", row_case->number);
    *last_seq = atoi(PQgetvalue(*res, row, C_LAST_SEQ));
    return 0;
}

/* What the machine cannot know and the county's records say, after
 * sj_case_apply() accepted the action: 派单 names a department that takes
 * cases (its name into out); 指派 and 全程代办员 name a person who works
 * where the case is held (the village, for the carrier); 接手 makes the
 * actor the assignee.  Returns 0 or REFUSED. */
static int judge_records(countyd_apply *a, const sj_action *action, const sj_case *cur,
                         const actor_info *who, sj_case_outcome *out, const char **department_name,
                         const char **named, const char **named_name, countyd_apply_result *r)
{
    if (action->type == SJ_ACTION_DISPATCH) {
        const countyd_ref_department *d =
            countyd_refdata_cache_department(&a->refs, action->department);
        if (!d || !d->active)
            return refuse(r, SJ_EBAD_FIELD,
                          d ? N_("That department no longer takes cases (it is inactive); "
                                 "dispatch the case to another department from the list.")
                            : N_("The county has no department with that code; choose the "
                                 "department from the county's list (sanji departments)."));
        *department_name = d->name;
        out->next.department = d->name;
    }
    if (action->type == SJ_ACTION_ASSIGN || action->type == SJ_ACTION_SET_CARRIER) {
        const countyd_ref_person *np = countyd_refdata_cache_person(&a->refs, action->person);
        bool carrier = action->type == SJ_ACTION_SET_CARRIER;
        int rc = carrier ? check_named(np, SJ_LEVEL_VILLAGE, cur->village, NULL, r)
                         : check_named(np, cur->holder_level, cur->holder_unit,
                                       sj_case_department_holds(cur) ? cur->department_code : NULL,
                                       r);
        if (rc != 0)
            return rc;
        *named = np->id;
        *named_name = np->name;
        if (carrier)
            out->next.carrier_name = np->name;
        else
            out->next.assignee_name = np->name;
    } else if (action->type == SJ_ACTION_TAKE_OVER) {
        *named = who->person;
        *named_name = who->person_name;
        out->next.assignee_name = who->person_name;
    }
    return 0;
}

/* The case row as the action left it: every column an action may change
 * and what fig adds to its history figures (CASE_UPDATE_SQL), run now or
 * deferred (apply_exec.c). */
static int write_case_row(countyd_apply *a, const char *cid, const sj_case *c,
                          const case_figures *fig, countyd_apply_result *r, sj_error *err)
{
    char *mats = NULL;
    if (countyd_db_text_array(c->materials, c->n_materials, &mats) != 0)
        return sj_error_set(err, SJ_ENOMEM, "out of memory");
    char st[8], rs[8], hl[8], ver[24], hd[8], wl[16], uc[16], mr[16], sat[8], rl[8], upd[24], cl[24],
        due[24], pa[24], pd[16], xd[16], xp[16], rcn[16], dr[16], ns[8], na[16], nat[24],
        nrt[24], rdue[24], rat[24], cbat[24];
    fmt_i64(rdue, sizeof(rdue), c->rectify_due_at_ms);
    fmt_i64(rat, sizeof(rat), c->rectified_at_ms);
    fmt_i64(cbat, sizeof(cbat), c->called_back_at_ms);
    figures_text ft;
    figures_format(fig, &ft);
    snprintf(ns, sizeof(ns), "%d", (int)c->notify);
    snprintf(na, sizeof(na), "%u", c->notify_attempts);
    fmt_i64(nat, sizeof(nat), c->notify_at_ms);
    fmt_i64(nrt, sizeof(nrt), c->notify_retry_at_ms);
#define SJ__T(x) ((x) ? (x) : "")
    snprintf(st, sizeof(st), "%d", (int)c->status);
    snprintf(rs, sizeof(rs), "%d", (int)c->resume_status);
    snprintf(hl, sizeof(hl), "%d", (int)c->holder_level);
    snprintf(ver, sizeof(ver), "%" PRIu64, c->version);
    snprintf(hd, sizeof(hd), "%d", (int)c->handling);
    snprintf(wl, sizeof(wl), "%u", c->warn_level);
    snprintf(uc, sizeof(uc), "%u", c->urge_count);
    snprintf(mr, sizeof(mr), "%u", c->materials_rounds);
    snprintf(sat, sizeof(sat), "%d", (int)c->satisfaction);
    snprintf(rl, sizeof(rl), "%d", (int)c->resolved_level);
    fmt_i64(upd, sizeof(upd), c->updated_at_ms);
    fmt_i64(cl, sizeof(cl), c->closed_at_ms);
    fmt_i64(due, sizeof(due), c->due_at_ms);
    fmt_i64(pa, sizeof(pa), c->paused_at_ms);
    snprintf(pd, sizeof(pd), "%u", c->paused_days);
    snprintf(xd, sizeof(xd), "%u", c->extended_days);
    snprintf(xp, sizeof(xp), "%u", c->extension_days);
    snprintf(rcn, sizeof(rcn), "%u", c->return_count);
    snprintf(dr, sizeof(dr), "%u", c->department_refusals);
    const char *p[] = {cid, st, rs, hl, c->holder_unit, ver, hd, b(c->overdue), b(c->supervised),
                       b(c->escalated), b(c->reached_county), wl, uc, mr, sat, rl,
                       c->resolved_unit, upd, cl, c->department ? c->department : "",
                       c->result ? c->result : "", c->return_reason ? c->return_reason : "", mats,
                       c->department_code ? c->department_code : "", dr, due,
                       b(c->due_provisional), pa, pd, xd, xp, rcn, ns, na, nat, nrt,
                       SJ__T(c->assignee), SJ__T(c->assignee_name), SJ__T(c->carrier),
                       SJ__T(c->carrier_name), rdue, rat, cbat, b(c->rectify_late), ft.fin,
                       ft.rep, ft.ext_req, ft.ext_ok, ft.unsat, ft.bad};
#undef SJ__T
    int rc = countyd_apply_run_write(a, CASE_UPDATE_SQL, 50, p, SINK_ONE_ROW, r, err);
    free(mats);
    return rc;
}

/* The wire's action as the state machine takes it, with what the county
 * adds: the time, the county's calendar and 整改时限, and for 接手 whether
 * the case's assignee is still active. */
static void machine_action(const countyd_apply *a, const Sanji__CaseAction *act,
                           const actor_info *who, const sj_case *cur, int64_t at,
                           sj_action *action)
{
    sj_case_pb_action(act, action);
    action->at_ms = at;
    action->warn_percent = who->warn_percent;
    action->calendar = a->calendar; /* the county's clock moves (case.h "The clock") */
    action->rectify_days = a->rectify_days; /* a 差评's 整改时限 */
    /* 接手: a deactivated assignee's case is taken without a reason. */
    if (action->type == SJ_ACTION_TAKE_OVER && cur->assignee && cur->assignee[0]) {
        const countyd_ref_person *was = countyd_refdata_cache_person(&a->refs, cur->assignee);
        action->assignee_inactive = !was || !was->active;
    }
}

/* Loads the case FOR UPDATE (or takes it as an earlier message of the
 * batch left it), runs the state machine, writes the case, its event and
 * the feed row.  Shared by nodes' actions and the sweep. */
static int act_on_case(countyd_apply *a, const Sanji__CaseAction *act, const actor_info *who,
                       const char *mid, countyd_apply_result *r, sj_error *err)
{
    int rc;
    const sj_actor actor = who->actor;
    char cid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(r->case_id, cid);
    PGresult *res = NULL;
    bool owned = false;
    countyd_arena arena;
    countyd_arena_init(&arena);
    sj_case cur;
    int last_seq;
    const touched *t = NULL;
    if ((rc = case_now(a, cid, &arena, &res, &owned, &cur, &last_seq, &t, r, err)) != 0)
        goto out;
    int64_t now = sj_clock_real_ms();
    if ((rc = check_client_time(a, act->acted_at_ms, now, r)) != 0)
        goto out;
    /* The client's time is kept in the history, but never later than the
     * county's clock: "updated" must not lie in the future. */
    int64_t at = act->acted_at_ms > 0 && act->acted_at_ms <= now ? act->acted_at_ms : now;
    sj_action action;
    machine_action(a, act, who, &cur, at, &action);
    sj_case_outcome out;
    sj_error why;
    sj_error_clear(&why);
    if ((rc = sj_case_apply(&cur, &action, &actor, &out, &why)) != 0) {
        r->case_version = cur.version;
        rc = refuse(r, rc, why.message);
        goto out;
    }
    const char *department_name = NULL, *named = NULL, *named_name = NULL;
    if ((rc = judge_records(a, &action, &cur, who, &out, &department_name, &named, &named_name,
                            r)) != 0) {
        r->case_version = cur.version;
        goto out;
    }
    const sj_case *c = &out.next;
    /* The events' shares of the history figures go with the case's update;
     * in the set-based mode that update replaces the one an earlier message
     * of the batch made of the case, so it carries that one's too. */
    case_figures fig = t && t->update >= 0 ? t->fig : (case_figures){0};
    for (size_t i = 0; i < out.n_events; i++)
        event_figures_of(&out.events[i], at, (sj_satisfaction)act->satisfaction, &fig);
    before_write(a);
    long update_at = a->pipelined ? (long)a->pipe->n : -1;
    if ((rc = write_case_row(a, cid, c, &fig, r, err)) != 0)
        goto out;
    int next = last_seq + 1;
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED; /* final before the last write_event() */
    r->case_version = c->version;
    for (size_t i = 0; i < out.n_events; i++) {
        event_row e = {.case_id = cid, .seq = next + (int)i, .ev = &out.events[i],
                       .person = who->person, .person_name = who->person_name,
                       .node = who->node, .level = sj_role_level(actor.role), .unit = actor.unit, .at_ms = at,
                       .recorded_ms = now, .note = act->note, .result = act->result,
                       .department = department_name ? department_name : act->department,
                       .department_code = department_name ? action.department : NULL,
                       .materials = (const char *const *)act->materials,
                       .n_materials = act->n_materials,
                       .satisfaction = (sj_satisfaction)act->satisfaction, .message_id = mid,
                       .named = named, .named_name = named_name, .figures_on_case = true};
        /* The villager's message is queued with the event that calls for
         * it, in this transaction: exactly once per event. */
        if ((rc = queue_notification(a, cid, e.seq, &out.events[i], at, r, err)) != 0)
            goto out;
        if ((rc = write_event(a, cur.village, &e, i + 1 == out.n_events, r, err)) != 0)
            goto out;
    }
    if (countyd_apply_set_mode(a) &&
        (rc = countyd_apply_touched_keep(a, r->case_id, c, next + (int)out.n_events - 1,
                                         r->case_number, t ? t->submit : NULL, update_at,
                                         &fig, err)) != 0)
        goto out;
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED;
    r->case_version = c->version;
    rc = 0;
out:
    countyd_arena_free(&arena);
    if (owned)
        PQclear(res);
    return rc;
}

/* --- the set-based writes' tables ------------------------------------------- */

int countyd_apply_set_kind(const char *sql, bool *new_case)
{
    *new_case = sql == RECORD_NEW_CASE_SQL;
    if (sql == CASE_INSERT_SQL)
        return COUNTYD_SET_CASE_INSERT;
    if (sql == CASE_UPDATE_SQL)
        return COUNTYD_SET_CASE_UPDATE;
    if (sql == EVENT_SQL)
        return COUNTYD_SET_EVENT;
    if (sql == NOTIFY_SQL)
        return COUNTYD_SET_NOTIFY;
    if (sql == RECORD_STRICT_SQL || sql == RECORD_NEW_CASE_SQL)
        return COUNTYD_SET_RECORD;
    return -1;
}

/* --- the batch -------------------------------------------------------------- */

/* Applies one message.  In the fast mode (a->safe false) no savepoint is
 * taken: a message refused before its first write (most refusals) has
 * nothing to undo, and one that writes nearly always succeeds.  When
 * something does need undoing (the database refused the message's data,
 * or the message turns out to be a redelivery after it wrote), the fast
 * mode returns NEED_SAFE and the batch runs again in the safe mode, where
 * every message has its savepoint as before; one bad message never
 * aborts the batch, it only costs the batch a second run. */
/* A person's own password change (apply.h); runs in the serial modes
 * only (cases_distinct()). */
static int apply_password(countyd_apply *a, const countyd_apply_msg *m, countyd_apply_result *r,
                          sj_error *err)
{
    const Sanji__PasswordChange *pc = m->password;
    sj_actor actor;
    char name[SJ_CASE_NAME_MAX + 1];
    int rc = check_person(a, m->peer, pc->person, &actor, name, sizeof name, r);
    if (rc != 0)
        return rc;
    sj_password_verifier v;
    sj_error e;
    if (!pc->new_verifier || sj_password_parse(pc->new_verifier, &v, &e) != 0)
        return refuse(r, SJ_EBAD_FIELD, N_("The new password's verifier is malformed."));
    if ((rc = check_client_time(a, pc->changed_at_ms, sj_clock_real_ms(), r)) != 0)
        return rc;
    char at[24];
    fmt_i64(at, sizeof at, pc->changed_at_ms);
    const char *p[] = {pc->person, pc->new_verifier, at};
    PGresult *res;
    /* Only over a password set before the change: a reset at the county
     * after it wins, and the station is told to ask for the new one. */
    if ((rc = countyd_db_query(a->db, "UPDATE person SET verifier = $2,"
                                      " must_change_password = false, password_set_at_ms = $3,"
                                      " updated_at = now()"
                                      " WHERE id = $1 AND active AND password_set_at_ms <= $3"
                                      " RETURNING 1", 3, p, &res, err)) != 0)
        return rc;
    bool done = PQntuples(res) == 1;
    PQclear(res);
    if (!done)
        return refuse(r, SJ_ESTALE_VERSION,
                      N_("The county set a new password for this person after this change was "
                         "made; log in with the password the county gave."));
    before_write(a);
    static const char *const refs[] = {"person", NULL};
    const countyd_admin_by by = {pc->person, m->peer->node};
    if ((rc = countyd_admin_audit_write(a->db, &by, "person change-password", pc->person, "",
                                        "password changed by the person", refs, err)) != 0)
        return rc;
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED;
    return 0;
}

static int apply_one(countyd_apply *a, const countyd_apply_msg *m, countyd_apply_result *r,
                     sj_error *err)
{
    char mid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(m->message_id, mid);
    a->wrote = a->recorded = a->number_later = false;
    a->cur = m;
    int rc;
    if (a->safe && (rc = countyd_db_exec(a->db, "SAVEPOINT msg", 0, NULL, err)) != 0)
        return rc;
    if (!m->peer || (!!m->submit + !!m->action + !!m->password) != 1)
        rc = refuse(r, SJ_EPROTOCOL, N_("The message carries neither a registration nor an action."));
    else if (m->password)
        rc = apply_password(a, m, r, err);
    else if (m->submit)
        rc = apply_submit(a, m, mid, r, err);
    else
        rc = apply_action(a, m, mid, r, err);
    if (rc < 0 && data_error(err)) {
        if (!a->safe)
            return NEED_SAFE; /* the transaction is aborted */
        /* The database refused this message's data (e.g. text it cannot
         * store): a refusal of the message, not a failure of the batch.
         * The database's own words are for the operator's log. */
        SJ_LOG_WARN("countyd", "message data refused by the database", "message", mid,
                    "why", err->message);
        rc = refuse(r, SJ_EBAD_FIELD, N_("The county database cannot store what was sent; check "
                                         "the text for unusual characters."));
        r->case_version = 0;
        if (m->submit) /* the number taken was rolled back with the savepoint */
            r->case_number[0] = '\0';
    }
    if (rc < 0)
        return rc;
    bool recorded = rc == 0 && a->recorded; /* with the last event, by write_event() */
    if (rc == REFUSED && a->safe) {
        if ((rc = countyd_db_exec(a->db, "ROLLBACK TO SAVEPOINT msg", 0, NULL, err)) != 0)
            return rc;
    } else if (rc == REFUSED && a->wrote) {
        return NEED_SAFE;
    }
    /* A redelivered message was applied (or refused) again above and is
     * found out here, when its id is already recorded: its effect is
     * undone and the original result returned (G2).  A redelivered
     * submission is refused (the case exists) and a redelivered action
     * mostly too (stale version) before they write anything. */
    if (recorded)
        rc = a->record_fresh;
    else if ((rc = record_result(a, mid, m->peer, r, err)) < 0)
        return !a->safe && data_error(err) ? NEED_SAFE : rc;
    if (rc == 0) {
        if (a->wrote && !a->safe)
            return NEED_SAFE;
        if (a->safe && (rc = countyd_db_exec(a->db, "ROLLBACK TO SAVEPOINT msg", 0, NULL, err)) != 0)
            return rc;
        if ((rc = lookup_processed(a, mid, r, err)) != 0)
            return rc;
    }
    return a->safe ? countyd_db_exec(a->db, "RELEASE SAVEPOINT msg", 0, NULL, err) : 0;
}

int countyd_apply_batch(countyd_apply *a, const countyd_apply_msg *msgs, size_t n,
                        countyd_apply_result *results, sj_error *err)
{
    a->safe = false;
    a->pipelined = !a->serial_only &&
                   (a->row_writes ? cases_distinct(msgs, n) : ids_distinct(msgs, n));
    int rc;
again:
    countyd_apply_pipe_reset(a->pipe);
    if ((rc = countyd_db_exec(a->db, "BEGIN", 0, NULL, err)) != 0)
        goto fail;
    /* Once per batch: a batch that starts after an import committed sees it. */
    if ((rc = countyd_refdata_cache_refresh(&a->refs, a->db, err)) != 0)
        goto fail;
    if (a->pipelined && (rc = prefetch_cases(a, msgs, n, err)) != 0)
        goto serial;
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof(results[i]));
        rc = apply_one(a, &msgs[i], &results[i], err);
        if (rc == NEED_SAFE) {
            /* Nothing of this run is kept: the numbers and feed rows it
             * took are rolled back with it, so the second run is gapless. */
            if ((rc = countyd_db_exec(a->db, "ROLLBACK", 0, NULL, err)) != 0)
                goto fail;
            a->pipelined = false;
            a->safe = true;
            a->safe_runs++;
            sj_error_clear(err);
            goto again;
        }
        if (rc != 0)
            goto fail;
    }
    a->cur = NULL;
    if (a->pipelined && (rc = a->row_writes ? countyd_apply_pipe_flush(a, err)
                                            : countyd_apply_set_flush(a, err)) != 0)
        goto serial;
    if ((rc = countyd_db_exec(a->db, "COMMIT", 0, NULL, err)) != 0)
        goto fail;
    countyd_apply_pipe_reset(a->pipe);
    return 0;
serial:
    /* The pipeline met something only the serial run can sort out (a
     * redelivery, an existing case id, data the database refuses); its
     * transaction is aborted and nothing of it is kept. */
    if (rc != SJ_EDB_CONN && countyd_db_exec(a->db, "ROLLBACK", 0, NULL, err) == 0) {
        a->pipelined = false;
        a->serial_runs++;
        sj_error_clear(err);
        goto again;
    }
fail:
    countyd_apply_pipe_reset(a->pipe);
    a->cur = NULL;
    {
        sj_error ignored;
        (void)countyd_db_exec(a->db, "ROLLBACK", 0, NULL, &ignored);
    }
    for (size_t i = 0; i < n; i++)
        memset(&results[i], 0, sizeof(results[i]));
    return rc;
}

/* --- the supervision sweep's actions ----------------------------------------- */

int countyd_apply_system(countyd_apply *a, const countyd_system_action *acts, size_t n,
                         countyd_apply_result *results, sj_error *err)
{
    char node[SJ_UNIT_CODE_SIZE + 8];
    actor_info who = {.actor = {.role = SJ_ROLE_SYSTEM}, .person = "", .person_name = "系统",
                      .node = node};
    snprintf(who.actor.unit, sizeof(who.actor.unit), "%s000000", a->county);
    snprintf(node, sizeof(node), "county:%s", who.actor.unit);
    a->cur = NULL; /* no processed-message rows for the sweep */
    a->pipelined = false;
    int rc = countyd_db_exec(a->db, "BEGIN", 0, NULL, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        countyd_apply_result *r = &results[i];
        memset(r, 0, sizeof(*r));
        Sanji__CaseAction act = SANJI__CASE_ACTION__INIT;
        act.case_id.data = (uint8_t *)acts[i].case_id;
        act.case_id.len = 16;
        memcpy(r->case_id, acts[i].case_id, 16);
        act.action = (Sanji__CaseActionType)acts[i].type;
        act.acted_at_ms = sj_clock_real_ms();
        act.notify_attempt = acts[i].notify_attempt;
        act.notify_retry_at_ms = acts[i].notify_retry_at_ms;
        act.note = (char *)(acts[i].note ? acts[i].note : "");
        who.warn_percent = acts[i].warn_percent;
        if ((rc = countyd_db_exec(a->db, "SAVEPOINT sys", 0, NULL, err)) != 0)
            goto fail;
        rc = act_on_case(a, &act, &who, NULL, r, err);
        if (rc < 0)
            goto fail;
        if (rc == REFUSED &&
            (rc = countyd_db_exec(a->db, "ROLLBACK TO SAVEPOINT sys", 0, NULL, err)) != 0)
            goto fail;
        if ((rc = countyd_db_exec(a->db, "RELEASE SAVEPOINT sys", 0, NULL, err)) != 0)
            goto fail;
        if (acts[i].then_sql && (rc = countyd_db_exec(a->db, acts[i].then_sql, acts[i].then_n,
                                                      acts[i].then_params, err)) != 0)
            goto fail;
    }
    if ((rc = countyd_db_exec(a->db, "COMMIT", 0, NULL, err)) != 0)
        goto fail;
    return 0;
fail:
    {
        sj_error ignored;
        (void)countyd_db_exec(a->db, "ROLLBACK", 0, NULL, &ignored);
    }
    for (size_t i = 0; i < n; i++)
        memset(&results[i], 0, sizeof(results[i]));
    return rc;
}

