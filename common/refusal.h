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
 * run time.
 *
 * Entry points: sj_refusal_lead(), sj_refusal_format(), sj_refusal_set().
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

#endif
