/*
 * refusal.h - the words a cadre reads when the case state machine refuses
 * an action: what kind of refusal it is (by its error code) and the
 * machine's own reason, both through gettext, so Chinese by default.
 *
 * The state machine (case.c) returns English msgids marked with N_(); the
 * county, which applies it, and the clients, which pre-check with it, turn
 * them into text here, once, the same way.  A reason made of two sentences
 * (a field an action does not take: what the field is for, what the action
 * takes) is two msgids joined by SJ_REFUSAL_JOIN, each translated on its
 * own, since a translation cannot be looked up for text put together at
 * run time.  A detail known only at run time (a village code, a node id) is
 * a part of its own after its msgid ("...outside this station's scope:"
 * SJ_REFUSAL_JOIN "410423101202"): it is kept as it is.
 *
 * The one rule for text sent to a peer.  Whatever sanji-countyd and
 * sanji-relayd put in Ack.reason, QueryResult.reason or Goodbye.reason
 * (a cadre reads it in the client) is written in the code as English
 * msgids marked _() or N_(), never as a bare literal, and made into words
 * by gettext: a refusal of an action by sj_refusal_format() (its lead and
 * its why), any other reason by _() or sj_reason_format().  The daemons
 * translate into their own language, Chinese unless their locale asks for
 * English (i18n.h).  test_po checks it: a string literal given as the
 * reason at a call site that sends one (sj_conn_close(), the daemons' own
 * refuse(), ack_refuse(), goodbye(), queue_refusal(), queue_ack(),
 * reason_set(), and these functions) or assigned to a `reason` field, not
 * wrapped in _() or N_(), fails it; so does a msgid of server/ or relay/
 * that is not plain English (a "中文 (English)" pair inside _()).
 *
 * Entry points: sj_refusal_lead(), sj_refusal_format(), sj_refusal_set(),
 * sj_reason_format().
 */
#ifndef SJ_REFUSAL_H
#define SJ_REFUSAL_H

#include <stddef.h>

#include "err.h"

/* Joins the msgids of a reason made of several; never inside one. */
#define SJ_REFUSAL_JOIN "\n"

/* The translated sentence for a refusal code ("该事项当前状态下不能进行此
 * 操作。"); a general one for codes that are not refusals. */
const char *sj_refusal_lead(int code);

/* "<lead> <translated why>" into out (cut to cap, always terminated); why
 * may be NULL or "" (then the lead alone).  A why that is not a msgid (a
 * detail written at run time) is kept as it is.  The parts of a why joined
 * by SJ_REFUSAL_JOIN are translated one by one and joined by a space. */
void sj_refusal_format(int code, const char *why, char *out, size_t cap);

/* sj_refusal_format() into err, with the code; returns code. */
int sj_refusal_set(sj_error *err, int code, const char *why);

/* The translated why alone, without a lead, into out (cut to cap, always
 * terminated): for reasons that are not refusals of an action (a Goodbye,
 * a query that cannot be answered).  Its parts joined by SJ_REFUSAL_JOIN
 * are translated one by one (a part that is not a msgid is kept) and
 * joined by a space. */
void sj_reason_format(const char *why, char *out, size_t cap);

#endif
