/*
 * case_pb.h - the wire's case messages (proto/sanji.proto: Case,
 * CaseAction) and the state machine's view of them (case.h: sj_case,
 * sj_action), converted in one place for every tier: the county reads its
 * rows into a Case and judges it, relays pre-check against their cached
 * Case, clients show buttons and predict the next Case from theirs.
 *
 * The numbering of the enums (level, role, status, action, handling,
 * satisfaction) is the same on both sides, checked at compile time in
 * case_pb.c, so values are copied as they are.
 *
 * Ownership: nothing is allocated.  The views borrow: an sj_case or
 * sj_action made here points into the message's text, and a Case filled
 * from an sj_case points into that sj_case (its unit codes too); keep the
 * source alive as long as the result is used.
 *
 * Entry points: sj_case_pb_to_case(), sj_case_pb_from_case(),
 * sj_case_pb_action().
 */
#ifndef SJ_CASE_PB_H
#define SJ_CASE_PB_H

#include "case.h"
#include "sanji.pb-c.h"

/* The lifecycle part of a Case.  A Case does not carry its catalogue item's
 * lowest level; the caller gives it (the county from its row, a client from
 * its catalogue, a relay the level that never refuses). */
void sj_case_pb_to_case(const Sanji__Case *p, sj_level item_min_level, sj_case *out);

/* Writes the lifecycle fields of c into out, a Case being built or a
 * shallow copy of one about to be packed; the other fields (number,
 * applicant, request ...) are left as they are.  Empty text is "", never
 * NULL, as protobuf-c packs it. */
void sj_case_pb_from_case(const sj_case *c, Sanji__Case *out);

/* The action a CaseAction asks for, at its acted_at_ms.  warn_percent is
 * not on the wire (the county's sweep sets it) and comes out 0. */
void sj_case_pb_action(const Sanji__CaseAction *a, sj_action *out);

#endif
