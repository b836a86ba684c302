/*
 * store.h - the client's local store: one SQLite file per station or desk
 * holding the outbox, the cache of cases and their history, the feed
 * cursors, and copies of the catalogue, org tree and person list.
 *
 * The file is opened in WAL mode with synchronous=FULL: when a write
 * function returns 0 the row survives a crash of the process or the
 * machine (docs/ARCHITECTURE.md, G1).  On open the store is checked: a file that is not
 * an SQLite database or fails the quick check is SJ_ESTORE_CORRUPT; an
 * SQLite database without Sanji's marker, or made for another node or by a
 * newer program, is SJ_ESTORE_FOREIGN.  Neither is ever reset or
 * overwritten; the message says what to do.
 *
 * Outbox rows go SAVED -> STORED (the relay has it) -> APPLIED or REFUSED
 * (final).  A state never goes back.  Final rows are kept as a short
 * history for `sanji status` and pruned after SC_STORE_FINAL_KEEP_DAYS.
 *
 * Cases: each cached case has the county's snapshot (from the feed, acks
 * and queries) and, while the outbox still holds actions on it, a predicted
 * snapshot made locally with the state machine; readers get the predicted
 * one when it exists.
 *
 * Ownership: sc_store_open() allocates, sc_store_close() frees.  Every
 * Sanji__* object returned is unpacked with protobuf-c's default allocator
 * and owned by the caller (free with the matching __free_unpacked, or the
 * helpers below).  Byte buffers returned are malloc'd; free() them.
 * A store belongs to one thread.
 *
 * Entry points: sc_store_open(), sc_store_close(), sc_store_begin(),
 * sc_store_commit(), sc_store_rollback(), sc_store_outbox_add(),
 * sc_store_outbox_mark(), sc_store_outbox_list(), sc_store_outbox_get(),
 * sc_store_outbox_frame(),
 * sc_store_outbox_free(), sc_store_outbox_counts(),
 * sc_store_outbox_unfinished_for_case(), sc_store_case_put(),
 * sc_store_case_put_predicted(), sc_store_case_get(), sc_store_case_snapshot(),
 * sc_store_case_find(),
 * sc_store_case_list(), sc_store_case_search(), sc_store_cases_free(), sc_store_event_put(),
 * sc_store_events_get(), sc_store_events_free(), sc_store_cursor(), sc_store_feed_apply(),
 * sc_store_cursors(), sc_store_ref_put(), sc_store_ref_get(),
 * sc_store_meta_set(), sc_store_meta_get().
 */
#ifndef SC_STORE_H
#define SC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attach.h"
#include "case_search.h"
#include "err.h"
#include "sanji.pb-c.h"

#define SC_STORE_SCHEMA 4

/* The outbox action of a row that carries an AttachmentChunk (not a case
 * action: it never changes the predicted case). */
#define SC_OUTBOX_CHUNK 32
#define SC_OUTBOX_CHUNK_TEXT "32"
#define SC_STORE_FINAL_KEEP_DAYS 30

typedef struct sc_store sc_store;

typedef enum sc_out_state {
    SC_OUT_SAVED = 1,   /* 已保存: written here, not yet confirmed by the relay */
    SC_OUT_STORED = 2,  /* 已送达乡镇: the relay stored it */
    SC_OUT_APPLIED = 3, /* 县已记录: the county committed it (final) */
    SC_OUT_REFUSED = 4, /* 被拒绝: refused with code and reason (final) */
} sc_out_state;

/* One outbox row.  Strings and the payload are owned by the entry array. */
typedef struct sc_outbox_entry {
    int64_t seq;                /* outbox order */
    uint8_t message_id[16];
    uint8_t case_id[16];
    int action;                 /* sj_case_action (REGISTER for a CaseSubmit) */
    sc_out_state state;
    int code;                   /* REFUSED: the SJ_E* code */
    char *reason;               /* REFUSED: the reason ("" otherwise) */
    char *case_number;          /* once known ("" before) */
    uint64_t case_version;      /* APPLIED: version after applying */
    int64_t saved_at_ms, stored_at_ms, final_at_ms;
    uint8_t *payload;           /* the packed Envelope, exactly as sent */
    size_t payload_len;
} sc_outbox_entry;

typedef struct sc_outbox_counts {
    unsigned saved, stored, applied, refused;
    int64_t oldest_unfinished_ms; /* saved_at of the oldest SAVED/STORED row, 0 if none */
} sc_outbox_counts;

typedef struct sc_cursor {
    char village[13];
    uint64_t after_seq;
} sc_cursor;

typedef enum sc_feed_result {
    SC_FEED_STORED = 1,    /* seq was cursor + 1: stored, cursor advanced */
    SC_FEED_DUPLICATE = 2, /* seq <= cursor: ignored */
    SC_FEED_GAP = 3,       /* seq > cursor + 1: nothing stored; ask again */
} sc_feed_result;

/* Opens (creating if missing) the store at path for node_id (e.g.
 * "village:410423101201").  Returns 0 and *out, or SJ_ESTORE_CORRUPT,
 * SJ_ESTORE_FOREIGN, SJ_EDB, SJ_EIO, SJ_ENOMEM with err saying what to do. */
int sc_store_open(const char *path, const char *node_id, sc_store **out, sj_error *err);

/* Closes the store; NULL is ignored. */
void sc_store_close(sc_store *st);

/* Groups several writes into one transaction (one fsync). */
int sc_store_begin(sc_store *st, sj_error *err);
int sc_store_commit(sc_store *st, sj_error *err);
void sc_store_rollback(sc_store *st);

/* Appends a SAVED row.  payload (the packed Envelope) is copied.
 * SJ_EEXISTS if the message id is already there. */
int sc_store_outbox_add(sc_store *st, const uint8_t message_id[16], const uint8_t case_id[16],
                        int action, const uint8_t *payload, size_t len, int64_t now_ms,
                        sj_error *err);

/* Moves a row forward to state (a row never goes back; marking it with its
 * own or an earlier state changes nothing and returns 0 with *changed
 * false).  reason/case_number may be NULL.  SJ_ENOTFOUND for an unknown id. */
int sc_store_outbox_mark(sc_store *st, const uint8_t message_id[16], sc_out_state state, int code,
                         const char *reason, const char *case_number, uint64_t case_version,
                         int64_t now_ms, bool *changed, sj_error *err);

/* Rows in outbox order: only SAVED/STORED when unfinished_only, else all.
 * *out is an array of *n entries (NULL when none); free with
 * sc_store_outbox_free(). */
int sc_store_outbox_list(sc_store *st, bool unfinished_only, sc_outbox_entry **out, size_t *n,
                         sj_error *err);
/* The SAVED/STORED rows in outbox order without their payloads (payload
 * empty): what the sender looks at on every ack, without reading a large
 * upload's chunks each time; it reads a row's payload when it sends it
 * (sc_store_outbox_get()). */
int sc_store_outbox_pending(sc_store *st, sc_outbox_entry **out, size_t *n, sj_error *err);
/* One row by message id (an array of one entry).  SJ_ENOTFOUND if none. */
int sc_store_outbox_get(sc_store *st, const uint8_t message_id[16], sc_outbox_entry **out,
                        sj_error *err);
void sc_store_outbox_free(sc_outbox_entry *entries, size_t n);
int sc_store_outbox_counts(sc_store *st, sc_outbox_counts *out, sj_error *err);
/* Number of SAVED/STORED rows on one case (0 on error). */
unsigned sc_store_outbox_unfinished_for_case(sc_store *st, const uint8_t case_id[16]);

/* Number of outbox rows on one case that the cached county snapshot does
 * not yet show: SAVED/STORED rows, and APPLIED rows whose case version is
 * above the snapshot's (0 on error).  The predicted snapshot is kept while
 * this is not 0. */
unsigned sc_store_case_prediction_needed(sc_store *st, const uint8_t case_id[16]);

/* Stores the county's snapshot of a case, replacing an older one (a
 * snapshot whose version is lower than the cached one is ignored; equal
 * versions replace, as urges change a case without a new version).  Drops
 * the predicted snapshot when sc_store_case_prediction_needed() is 0. */
int sc_store_case_put(sc_store *st, const Sanji__Case *c, sj_error *err);
/* Stores (or with c NULL, drops) the locally predicted snapshot of case_id. */
int sc_store_case_put_predicted(sc_store *st, const uint8_t case_id[16], const Sanji__Case *c,
                                sj_error *err);
/* The case as readers should see it (predicted if any, else the county's).
 * *predicted (may be NULL) says which.  SJ_ENOTFOUND if not cached. */
int sc_store_case_get(sc_store *st, const uint8_t case_id[16], Sanji__Case **out,
                      bool *predicted, sj_error *err);
/* The county's snapshot of case_id as stored (never the prediction): the
 * base of a feed delta.  SJ_ENOTFOUND when there is none. */
int sc_store_case_snapshot(sc_store *st, const uint8_t case_id[16], Sanji__Case **out,
                           sj_error *err);
/* Finds a case by its number ("410423-20261123-0001") or its id text.
 * SJ_ENOTFOUND if neither matches a cached case. */
int sc_store_case_find(sc_store *st, const char *ref, uint8_t case_id[16], sj_error *err);
/* Every cached case, newest registration first, as readers should see it. */
int sc_store_case_list(sc_store *st, Sanji__Case ***out, size_t *n, sj_error *err);
/* One page of the cached cases matching q (PROTOCOL.md "Case search"), as
 * readers should see them, in q's order, through the search columns and
 * their indexes (common/domain/case_search.h); *total counts the matches (up to
 * q->count_limit when set, *capped then true).  Free with
 * sc_store_cases_free(). */
int sc_store_case_search(sc_store *st, const Sanji__CaseListQuery *q,
                         const sj_case_search_viewer *viewer, Sanji__Case ***out, size_t *n,
                         uint32_t *total, bool *capped, sj_error *err);
void sc_store_cases_free(Sanji__Case **cases, size_t n);

/* History entries (by case id and seq; a repeated one replaces). */
int sc_store_event_put(sc_store *st, const Sanji__CaseEvent *ev, sj_error *err);
int sc_store_events_get(sc_store *st, const uint8_t case_id[16], Sanji__CaseEvent ***out,
                        size_t *n, sj_error *err);
void sc_store_events_free(Sanji__CaseEvent **events, size_t n);

/* The village's feed cursor: the last row applied (0: none). */
uint64_t sc_store_cursor(sc_store *st, const char *village);
/* Applies one FeedUpdate (not caught_up) in one transaction: stores its
 * snapshot and event and advances the village's cursor, if and only if seq
 * is cursor + 1.  *result says what happened.  SJ_EFRAME_BAD_FIELD for an
 * update without village, seq or snapshot. */
int sc_store_feed_apply(sc_store *st, const Sanji__FeedUpdate *u, sc_feed_result *result,
                        sj_error *err);
/* All cursors held (malloc'd array; free()). */
int sc_store_cursors(sc_store *st, sc_cursor **out, size_t *n, sj_error *err);

/* Reference data ("catalogue", "org_tree", "persons"): the packed sync
 * message and its version.  get: SJ_ENOTFOUND when none was stored
 * (*version 0); *data malloc'd. */
int sc_store_ref_put(sc_store *st, const char *kind, uint64_t version, const uint8_t *data,
                     size_t len, sj_error *err);
int sc_store_ref_get(sc_store *st, const char *kind, uint64_t *version, uint8_t **data,
                     size_t *len, sj_error *err);

/* Small settings (the logged-in person).  value NULL deletes.  get copies
 * into buf (cap bytes); SJ_ENOTFOUND when unset. */
int sc_store_meta_set(sc_store *st, const char *key, const char *value, sj_error *err);
int sc_store_meta_get(sc_store *st, const char *key, char *buf, size_t cap, sj_error *err);

/* One attachment of a case as this store knows it (attachments table). */
typedef struct sc_attach_row {
    uint8_t attachment_id[16];
    uint8_t case_id[16];
    char name[SJ_ATTACH_NAME_MAX + 1];
    char mime[32];
    uint64_t size;
    uint8_t sha256[SJ_ATTACH_SHA256_SIZE];
    char material[SJ_ATTACH_MATERIAL_MAX + 1];
    char actor_person[64];
    int64_t attached_at_ms;
    uint32_t chunk_count;
    uint32_t chunks_applied;  /* attached here: chunks the county has recorded */
    int code;                 /* a chunk was refused: its code (0: none) */
    char reason[SJ_ERROR_MESSAGE_MAX];
    bool local;               /* attached at this node */
    bool have_data;           /* the file is held here */
} sc_attach_row;

/* Records an attachment (data may be NULL); an id already there only gets
 * its data when it had none (a fetched copy). */
int sc_store_attach_add(sc_store *st, const sc_attach_row *a, const uint8_t *data, size_t len,
                        sj_error *err);
/* The attachments of a case, oldest first (*out malloc'd; free()). */
int sc_store_attach_list(sc_store *st, const uint8_t case_id[16], sc_attach_row **out, size_t *n,
                         sj_error *err);
/* The file of an attachment held here (*data malloc'd); SJ_ENOTFOUND. */
int sc_store_attach_data(sc_store *st, const uint8_t attachment_id[16], uint8_t **data, size_t *len,
                         sj_error *err);
/* Bytes of the attachments of a case known here (0 on error). */
uint64_t sc_store_attach_case_bytes(sc_store *st, const uint8_t case_id[16]);
/* One more chunk recorded by the county (applied), or a chunk refused
 * with code and reason. */
int sc_store_attach_progress(sc_store *st, const uint8_t attachment_id[16], bool applied, int code,
                             const char *reason, sj_error *err);

/* The payload of an outbox row behind SJ_FRAME_HEADER_SIZE spare bytes
 * (*frame malloc'd; *len: the payload's length), for sj_conn_send_frame():
 * the row goes on the link without another buffer or copy.  SJ_ENOTFOUND
 * when there is no such row. */
int sc_store_outbox_frame(sc_store *st, const uint8_t message_id[16], uint8_t **frame,
                          size_t *len, sj_error *err);

#endif
