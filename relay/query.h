/*
 * query.h - answering a station's or desk's Query from the relay's cache:
 * case list, case with history, catalogue, org tree and the relay's own
 * network status.  The cache is the county's record of the township's
 * villages as carried by the feed, so the relay answers every query itself;
 * while the county link is down the answer says so (from_cache) and how
 * old the data is (data_as_of_ms, the last county contact).  Statistics are
 * the county's to compute: SJ_EUNSUPPORTED.
 *
 * Applicant ID numbers and phones are masked by sj_personal_visible()'s
 * rule (common/domain/personal.h) for the asker; the feed the relay serves is
 * masked the same way (relay_query_mask_case()).
 *
 * Ownership: the answer is packed, header and Envelope, straight into a
 * buffer the caller provides (relay_query_buf_fn) and keeps: the station's
 * output queue sends it as it is, without another copy.
 *
 * Entry points: relay_query_answer(), relay_query_mask_case().
 */
#ifndef RELAY_QUERY_H
#define RELAY_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "identity.h"
#include "relay_core.h"
#include "sanji.pb-c.h"

/* Gives relay_query_answer() a buffer of cap bytes for the answer's frame,
 * owned by the caller (arg says where it keeps it), or NULL when there is
 * no memory.  It may be asked twice: when the answer is too large for one
 * frame, the short answer that says so is packed into a second buffer, and
 * the first is the caller's to drop. */
typedef uint8_t *(*relay_query_buf_fn)(void *arg, size_t cap);

/* Answers query envelope q from peer (scope: its village, or the township).
 * Returns 0 with the frame (a QueryResult, possibly with an error code for
 * the asker) in the last buffer buf gave, *len bytes, or a local failure
 * code (SJ_ENOMEM, SJ_EDB) with err. */
int relay_query_answer(relay *r, const sj_identity *peer, const char *scope,
                       const Sanji__Envelope *q, relay_query_buf_fn buf, void *buf_arg,
                       size_t *len, sj_error *err);

/* Masks c's applicant in place when viewer may not see it whole (c was
 * unpacked with protobuf-c's default allocator: the strings are replaced).
 * Returns 0, or SJ_ENOMEM (c is then masked as far as it got: the ID
 * number is never left whole while the phone is masked). */
int relay_query_mask_case(Sanji__Case *c, const sj_identity *viewer);

#endif
