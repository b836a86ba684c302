/*
 * apply_submit.c - a CaseSubmit (a village registers a case): its rules
 * (the acting person, the village, the registration's own fields, a new
 * case id, the 全程代办员, the catalogue item, the time, then
 * sj_case_register() and the due time on the county's calendar) and its
 * writes (the case row with its number from the per-day counter, its
 * events and feed rows).
 *
 * Entry point (apply_int.h): countyd_apply_submit().
 */
#include "apply_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "i18n.h"
#include "orgunit.h"
#include "personal.h"
#include "uuid.h"

/* The case row, its number taken from the locked per-day counter in the
 * same statement. */
const char countyd_apply_case_insert_sql[] =
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
        return countyd_apply_refuse(r, SJ_ESCOPE,
                                    N_("The village is not a village of this county."));
    const Sanji__Applicant *ap = s->applicant;
    const sj_submit sub = {.applicant_name = ap ? ap->name : NULL,
                           .id_number = ap ? ap->id_number : NULL,
                           .phone = ap ? ap->phone : NULL,
                           .request_text = s->request_text};
    sj_error why;
    if ((rc = sj_case_check_submit(&sub, &why)) != 0)
        return countyd_apply_refuse(r, rc, why.message);
    if (sj_personal_check_id(ap->id_number, pl->id_number, &why) != 0)
        return countyd_apply_refuse(r, SJ_EBAD_ID_NUMBER, why.message);
    if (sj_personal_check_phone(ap->phone, &why) != 0)
        return countyd_apply_refuse(r, SJ_EBAD_PHONE, why.message);

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
            return countyd_apply_refuse(r, SJ_ECASE_EXISTS,
                                        N_("A case with this id exists already."));
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
        return countyd_apply_refuse(r, SJ_EBAD_FIELD, N_("The case id is not 16 bytes long."));
    memcpy(r->case_id, s->case_id.data, 16);
    int rc = countyd_apply_check_person(a, m->peer, s->actor_person, &pl->actor, pl->person_name,
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
        if ((rc = countyd_apply_check_named(cp, SJ_LEVEL_VILLAGE, s->village, NULL, r)) != 0)
            return rc;
        pl->carrier = cp->id;
        pl->carrier_name = cp->name;
    }
    const countyd_ref_item *item = countyd_refdata_cache_item(&a->refs, s->item_code);
    if (!item)
        return countyd_apply_refuse(r, SJ_EUNKNOWN_ITEM,
                                    N_("The service catalogue has no such item in use."));
    /* Retired (sanji-countyd item retire): cases registered before keep it. */
    if (!item->active)
        return countyd_apply_refuse(
            r, SJ_EUNKNOWN_ITEM,
            N_("This catalogue item has been retired by the county; new cases cannot be "
               "registered for it. Choose another item."));
    pl->item = item;
    int limit = item->limit_days, urgent_limit = item->urgent_limit_days;

    int64_t now = pl->now = sj_clock_real_ms();
    /* The time limit runs from registration as the cadre saved it (the
     * station may have been offline); a time the station cannot have saved
     * it at is refused, not moved, so that no false date is recorded. */
    if ((rc = countyd_apply_check_time(a, s->registered_at_ms, now, r)) != 0)
        return rc;
    int64_t start = pl->start =
        s->registered_at_ms > 0 && s->registered_at_ms <= now ? s->registered_at_ms : now;
    sj_case_outcome *out = &pl->out;
    sj_error why;
    if ((rc = sj_case_register(s->village, (sj_level)item->min_level, start, &pl->actor, out,
                               &why)) != 0)
        return countyd_apply_refuse(r, rc, why.message);
    int days = s->urgent && urgent_limit > 0 ? urgent_limit : limit;
    /* The clock starts: due `days` working days after registration,
     * provisional if that falls in a year the calendar does not cover. */
    out->next.limit_days = (uint32_t)days;
    if (sj_case_due(a->calendar, start, out->next.limit_days, &out->next.due_at_ms,
                    &out->next.due_provisional) != 0)
        return countyd_apply_refuse(r, SJ_EBAD_FIELD, N_("The registration time is out of range."));
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
    countyd_apply_before_write(a);
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
    countyd_apply_i64(reg, sizeof(reg), pl->start);
    countyd_apply_i64(due_s, sizeof(due_s), c->due_at_ms);
    countyd_apply_i64(upd, sizeof(upd), c->updated_at_ms);
    countyd_apply_i64(appt, sizeof(appt), s->appointment_at_ms > 0 ? s->appointment_at_ms : 0);
    const char *p[] = {pl->cid, prefix, s->village, pl->item->code, pl->item->name, minl, ap->name,
                       pl->id_number, ap->phone, s->request_text, s->actor_person,
                       pl->person_name, hl, c->holder_unit, st, ver, reg, due_s, upd,
                       countyd_apply_tf(s->urgent), appt, a->county, day, lim,
                       countyd_apply_tf(c->due_provisional), ns, pl->carrier, pl->carrier_name};
    if ((rc = countyd_apply_run_write(a, countyd_apply_case_insert_sql, 28, p, SINK_NUMBER, r,
                                      err)) != 0)
        return rc;
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED; /* final before the last event's write */
    r->case_version = c->version;
    const sj_case_outcome *out = &pl->out;
    for (size_t i = 0; i < out->n_events; i++) {
        event_row e = {.case_id = pl->cid, .seq = (int)i + 1, .ev = &out->events[i],
                       .person = s->actor_person, .person_name = pl->person_name,
                       .node = m->peer->node ? m->peer->node : "", .level = SJ_LEVEL_VILLAGE,
                       .unit = pl->actor.unit, .at_ms = pl->start, .recorded_ms = pl->now,
                       .note = s->request_text, .message_id = mid};
        if ((rc = countyd_apply_write_event(a, s->village, &e, i + 1 == out->n_events, r,
                                            err)) != 0)
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

int countyd_apply_submit(countyd_apply *a, const countyd_apply_msg *m, const char *mid,
                         countyd_apply_result *r, sj_error *err)
{
    submit_plan pl;
    memset(&pl, 0, sizeof(pl));
    int rc = judge_submit(a, m, &pl, r, err);
    return rc != 0 ? rc : write_submit(a, m, mid, &pl, r, err);
}
