/*
 * case_delta.h - a case snapshot sent as what changed since the version the
 * receiver holds (PROTOCOL.md "The downward feed", FeedUpdate.delta): made by
 * a relay from the previous row of the case in its store, applied by a
 * station to the case it stored.  One module for both ends, so that the two
 * can never disagree on what a delta means.
 *
 * A CaseDelta names the Case fields that changed: `set` carries those whose
 * new value is not their default (a repeated field, such as the materials,
 * whole; the Applicant whole), `cleared` the numbers of those that became
 * their default ("", 0, false, an empty list, no applicant) — proto3 does not
 * send a default, so without `cleared` a cleared field could not be told from
 * an unchanged one.  `check` is FNV-1a 64 of the new case as protobuf-c packs
 * it: the receiver rebuilds the case, packs it, and takes it only if the
 * check matches, so a base other than the sender's (the Case version does
 * not change with every update: urges, notices) is found, never stored.
 *
 * Generic over the fields of Case through the protobuf-c descriptor: a field
 * added to Case is carried without a change here.
 *
 * Pure functions; no I/O.
 *
 * Entry points: sj_case_delta_make(), sj_case_delta_apply(),
 * sj_case_delta_check().
 */
#ifndef SJ_CASE_DELTA_H
#define SJ_CASE_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sanji.pb-c.h"

/* The delta that turns base into next, owned by the caller (free with
 * sanji__case_delta__free_unpacked(*out, NULL)).  SJ_EINVAL when the two are
 * not the same case or either holds fields this program does not know (the
 * sender then sends the whole snapshot), in the case or in its Applicant;
 * SJ_ENOMEM. */
int sj_case_delta_make(const Sanji__Case *base, const Sanji__Case *next, Sanji__CaseDelta **out,
                       sj_error *err);

/* The case d makes of base, which must be at base_version; owned by the
 * caller (free with sanji__case__free_unpacked(*out, NULL)).  Nothing is
 * made unless it is exactly the sender's case:
 *   SJ_EDELTA_BAD   d names a field Case does not have, clears the case id,
 *                   both sets and clears a field, carries unknown fields
 *                   (in the case or in its Applicant), or sets a case id
 *                   other than base's (or none);
 *   SJ_EDELTA_BASE  base is NULL, not at base_version, holds unknown
 *                   fields (no delta is made from such a case), or the
 *                   rebuilt case fails the check (base is not the sender's
 *                   base): the receiver must get the whole snapshot;
 *   SJ_ENOMEM. */
int sj_case_delta_apply(const Sanji__Case *base, uint64_t base_version, const Sanji__CaseDelta *d,
                        Sanji__Case **out, sj_error *err);

/* FNV-1a 64 of the packed case c (the delta's check); 0 when out of memory. */
uint64_t sj_case_delta_check(const Sanji__Case *c);

#endif
