/*
 * attach_store.h - the county's side of attachments (docs/PROTOCOL.md
 * "Attachments", docs/DATA.md "Attachments"): one AttachmentChunk applied
 * in its own transaction (recorded in processed_message like every upward
 * message, so a redelivery is answered from the stored result, G2), the
 * file assembled and its SHA-256 checked when the last chunk arrives, and
 * the Query that lists a case's attachments or reads a piece of one,
 * within the asker's scope as a case is.
 *
 * Entry points: countyd_attach_apply(), countyd_attach_query().
 */
#ifndef COUNTYD_ATTACH_STORE_H
#define COUNTYD_ATTACH_STORE_H

#include <stdint.h>

#include <libpq-fe.h>

#include "apply.h"
#include "arena.h"
#include "err.h"
#include "asker.h"
#include "sanji.pb-c.h"

/* server_config.h attachment.max_file and attachment.max_case. */
typedef struct countyd_attach_limits {
    uint64_t max_file;
    uint64_t max_case;
} countyd_attach_limits;

/* Applies one chunk from peer with message id msg_id: BEGIN; a message id
 * already recorded is answered with its stored result; the chunk's fields,
 * the sender's role and the case's scope are checked (a refusal is
 * recorded); the chunk is stored unless already there; the last chunk
 * assembles the file, checks its hash (SJ_EATTACH_HASH refuses it) and
 * stores it once per content; COMMIT.  Fills *res (APPLIED or REFUSED).
 * Returns 0 after COMMIT, or SJ_EDB/SJ_EDB_CONN/SJ_ENOMEM with nothing
 * applied. */
int countyd_attach_apply(PGconn *db, const uint8_t msg_id[16], const countyd_peer *peer,
                         const Sanji__AttachmentChunk *c, const countyd_attach_limits *lim,
                         countyd_apply_result *res, sj_error *err);

/* Answers an AttachmentQuery for asker k into out (refusals in out->code):
 * the case must be one k may open (countyd_asker_sees_case(), asker.h); without an
 * attachment id the list of the case's attachments, with one its
 * description and up to max_bytes of its data from offset (complete
 * attachments only: SJ_EATTACH_INCOMPLETE otherwise).  Returns 0, or
 * SJ_EDB/SJ_EDB_CONN. */
int countyd_attach_query(PGconn *db, countyd_arena *a, const countyd_asker *k,
                         const Sanji__AttachmentQuery *q, Sanji__QueryResult *out, sj_error *err);

#endif
