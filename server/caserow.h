/*
 * caserow.h - cases and their history read from PostgreSQL into protobuf
 * messages (Case, CaseEvent), and the masking of applicants' personal data
 * for viewers who may not see it.
 *
 * COUNTYD_CASE_COLUMNS and COUNTYD_EVENT_COLUMNS are the select lists
 * (tables aliased c and e) that countyd_caserow_case() and
 * countyd_caserow_event() convert, starting at a given column, so that the
 * feed, the Ack of a stale action and the queries share one conversion.
 *
 * Masking (docs/PROTOCOL.md "Queries", common/domain/personal.h): the applicant's ID number and
 * phone are shown only to a viewer of the case's own village, or of the
 * level that holds the case now (and whose unit contains the holder).
 *
 * Ownership: every string and sub-message is allocated from the caller's
 * arena and lives until countyd_arena_free().  The PGresult is borrowed.
 *
 * Entry points: countyd_caserow_case(), countyd_caserow_event(),
 * countyd_caserow_load(), countyd_caserow_events(), countyd_caserow_visible(),
 * countyd_caserow_mask(), countyd_caserow_text_array().
 */
#ifndef COUNTYD_CASEROW_H
#define COUNTYD_CASEROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "arena.h"
#include "case.h"
#include "err.h"
#include "personal.h"
#include "sanji.pb-c.h"

#define COUNTYD_CASE_COLUMNS                                                                      \
    "c.case_id::text, coalesce(c.number, ''), c.village, c.item_code, c.item_name,"              \
    " c.applicant_name, c.applicant_id_number, c.applicant_phone, c.request_text,"               \
    " c.first_receiver, c.first_receiver_name, c.holder_level, c.holder_unit, c.status,"         \
    " c.resume_status, c.version, c.registered_at_ms, c.due_at_ms, c.department, c.handling,"    \
    " c.overdue, c.warn_level, c.urge_count, c.supervised, c.materials_rounds, c.materials,"     \
    " c.result, c.return_reason, c.satisfaction, c.resolved_level, c.resolved_unit,"             \
    " c.updated_at_ms, c.closed_at_ms, c.urgent, c.appointment_at_ms, c.escalated,"              \
    " c.reached_county, c.department_code, c.department_refusals, c.limit_days,"                \
    " c.due_provisional, c.paused_at_ms, c.paused_days, c.extended_days, c.extension_days,"     \
    " c.return_count, c.notify_state, c.notify_attempts, c.notify_at_ms, c.notify_retry_at_ms,"  \
    " c.assignee, c.assignee_name, c.carrier, c.carrier_name, c.rectify_due_at_ms,"            \
    " c.rectified_at_ms, c.called_back_at_ms, c.rectify_late"
#define COUNTYD_CASE_NCOLS 58

#define COUNTYD_EVENT_COLUMNS                                                                     \
    "e.case_id::text, e.seq, e.action, e.actor_person, e.actor_name, e.actor_node,"              \
    " e.actor_level, e.actor_unit, e.at_ms, e.recorded_at_ms, e.from_status, e.to_status,"       \
    " e.note, e.result, e.materials, e.satisfaction, e.department,"                              \
    " coalesce(e.message_id::text, ''), e.repeat_materials_request, e.department_code,"         \
    " e.clock_days, e.due_at_ms, e.due_provisional, e.notify_attempt, e.notify_retry_at_ms,"    \
    " e.person, e.person_name, e.rectify_due_at_ms, e.rectify_late"
#define COUNTYD_EVENT_NCOLS 29

/* Converts row `row` of res, columns col .. col + COUNTYD_CASE_NCOLS - 1. */
Sanji__Case *countyd_caserow_case(countyd_arena *a, const PGresult *res, int row, int col);

/* The same for COUNTYD_EVENT_COLUMNS. */
Sanji__CaseEvent *countyd_caserow_event(countyd_arena *a, const PGresult *res, int row, int col);

/* Loads one case by id (16 bytes) or, when id is NULL, by number.  Returns
 * 0 and *out, SJ_EUNKNOWN_CASE, or SJ_EDB/SJ_EDB_CONN. */
int countyd_caserow_load(PGconn *db, countyd_arena *a, const uint8_t *id, const char *number,
                         Sanji__Case **out, sj_error *err);

/* Loads the whole history of a case in order. */
int countyd_caserow_events(PGconn *db, countyd_arena *a, const uint8_t id[16],
                           Sanji__CaseEvent ***out, size_t *n, sj_error *err);

/* May a viewer of this role and unit see the applicant unmasked?  The rule
 * is sj_personal_visible()'s (common/domain/personal.h), applied to the case. */
bool countyd_caserow_visible(const Sanji__Case *c, sj_node_role viewer_role,
                             const char *viewer_unit);

/* Fills out with a masked copy of in; the strings live in the buffers. */
void countyd_caserow_mask(const Sanji__Applicant *in, Sanji__Applicant *out,
                          char id_buf[SJ_PERSONAL_MASK_SIZE], char phone_buf[SJ_PERSONAL_MASK_SIZE]);

/* Parses a PostgreSQL text[] literal ({a,"b c"}) into an arena array. */
char **countyd_caserow_text_array(countyd_arena *a, const char *literal, size_t *n);

#endif
