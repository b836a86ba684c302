/*
 * query.h - answering a station's or desk's Query from the relay's cache:
 * case list, case with history, catalogue, org tree and the relay's own
 * network status.  The cache is the county's record of the township's
 * villages as carried by the feed, so the relay answers every query itself;
 * while the county link is down the answer says so (from_cache) and how
 * old the data is (data_as_of_ms, the last county contact).  Statistics are
 * the county's to compute: SJ_EUNSUPPORTED.
 *
 * Applicant ID numbers and phones are masked for an asker whose level
 * neither holds the case nor is the case's own village.
 *
 * Ownership: *frame is a malloc'd complete frame (header + Envelope) that
 * the caller frees.
 *
 * Entry points: relay_query_answer().
 */
#ifndef RELAY_QUERY_H
#define RELAY_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "identity.h"
#include "relay.h"
#include "sanji.pb-c.h"

/* Answers query envelope q from peer (scope: its village, or the township).
 * Returns 0 with *frame set (a QueryResult, possibly with an error code for
 * the asker), or a local failure code (SJ_ENOMEM, SJ_EDB) with err. */
int relay_query_answer(relay *r, const sj_identity *peer, const char *scope,
                       const Sanji__Envelope *q, uint8_t **frame, size_t *len, sj_error *err);

#endif
