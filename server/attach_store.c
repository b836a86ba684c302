/*
 * attach_store.c - attachments at the county: chunks applied, files
 * assembled and checked, and read back by Query (attach_store.h).  The data is personal:
 * nothing here logs it, its name or its material.
 */
#include "attach_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "caserow.h"
#include "db.h"
#include "i18n.h"
#include "orgunit.h"
#include "refusal.h"
#include "uuid.h"

#define PIECE_DEFAULT (256 * 1024)
#define PIECE_MAX (512 * 1024)

/* One statement with text parameters, except those whose index is in
 * binary (bytea data given by pointer and length). */
static int exec_bin(PGconn *db, const char *sql, int n, const char *const *p, const int *len,
                    const int *fmt, int result_fmt, PGresult **out, const char *what, sj_error *err)
{
    PGresult *res = PQexecParams(db, sql, n, NULL, p, len, fmt, result_fmt);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = countyd_db_fail(db, res, what, err);
        PQclear(res);
        return rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return 0;
}

static void refused(countyd_apply_result *r, int code, const char *why)
{
    r->status = SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    r->code = code;
    snprintf(r->reason, sizeof r->reason, "%s", why);
}

/* Every chunk is there: the file is put together and its hash checked.
 * Returns 0 (stored, complete), SJ_EATTACH_HASH (r refused) or a database
 * error. */
static int assemble(PGconn *db, const char *aid, const Sanji__AttachmentChunk *c,
                    countyd_apply_result *r, sj_error *err)
{
    PGresult *res = NULL;
    const char *p[] = {aid};
    int rc = exec_bin(db, "SELECT data FROM attachment_part WHERE attachment_id = $1 ORDER BY chunk_no",
                      1, p, NULL, NULL, 1, &res, "attachment parts", err);
    if (rc != 0)
        return rc;
    uint8_t *buf = malloc(c->size ? c->size : 1);
    if (!buf) {
        PQclear(res);
        return sj_error_set(err, SJ_ENOMEM, "no memory for an attachment of %" PRIu64 " bytes",
                            (uint64_t)c->size);
    }
    uint64_t at = 0;
    bool fits = (uint32_t)PQntuples(res) == c->chunk_count;
    for (int i = 0; fits && i < PQntuples(res); i++) {
        size_t n = (size_t)PQgetlength(res, i, 0);
        if (at + n > c->size) {
            fits = false;
            break;
        }
        memcpy(buf + at, PQgetvalue(res, i, 0), n);
        at += n;
    }
    PQclear(res);
    uint8_t sha[SJ_ATTACH_SHA256_SIZE];
    if (fits && at == c->size)
        sj_attach_sha256(buf, (size_t)at, sha);
    if (!fits || at != c->size || memcmp(sha, c->sha256.data, sizeof sha) != 0) {
        free(buf);
        refused(r, SJ_EATTACH_HASH,
                _("The attachment arrived damaged (its content does not match its SHA-256); "
                  "attach the file again."));
        return SJ_EATTACH_HASH;
    }
    char size[24];
    snprintf(size, sizeof size, "%" PRIu64, (uint64_t)c->size);
    const char *bp[] = {(const char *)c->sha256.data, size, (const char *)buf};
    const int bl[] = {(int)c->sha256.len, 0, (int)c->size};
    const int bf[] = {1, 0, 1};
    rc = exec_bin(db,
                  "INSERT INTO attachment_blob (sha256, size, data) VALUES ($1, $2, $3)"
                  " ON CONFLICT (sha256) DO NOTHING",
                  3, bp, bl, bf, 0, NULL, "attachment store", err);
    free(buf);
    if (rc == 0)
        rc = countyd_db_exec(db,
                             "UPDATE attachment SET complete = true, received_at = now()"
                             " WHERE attachment_id = $1",
                             1, p, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "DELETE FROM attachment_part WHERE attachment_id = $1", 1, p, err);
    return rc;
}

/* The work of one fresh chunk, after the savepoint: 0 (applied), a refusal
 * code (r filled) or a database error (negative SJ_EDB*). */
/* May this sender attach to the chunk's case: a station or a desk, the
 * case known here and in the sender's scope.  Fills r's case fields. */
static int chunk_case(PGconn *db, const countyd_peer *peer, const Sanji__AttachmentChunk *c,
                      const char *cid, countyd_apply_result *r, sj_error *err)
{
    if (peer->role != SANJI__NODE_ROLE__NODE_ROLE_VILLAGE &&
        peer->role != SANJI__NODE_ROLE__NODE_ROLE_TOWNSHIP_DESK &&
        peer->role != SANJI__NODE_ROLE__NODE_ROLE_COUNTY_DESK) {
        refused(r, SJ_EWRONG_ROLE, _("Only a station or a township or county desk may attach files."));
        return SJ_EWRONG_ROLE;
    }
    memcpy(r->case_id, c->case_id.data, 16);
    PGresult *res = NULL;
    int rc;
    const char *pc[] = {cid};
    if ((rc = countyd_db_query(db, "SELECT village, coalesce(number, ''), version FROM cases"
                                   " WHERE case_id = $1 FOR SHARE",
                               1, pc, &res, err)) != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        refused(r, SJ_EUNKNOWN_CASE, _("The county has no such case; the file was not attached."));
        return SJ_EUNKNOWN_CASE;
    }
    bool in_scope = sj_orgunit_contains(peer->unit, PQgetvalue(res, 0, 0));
    snprintf(r->case_number, sizeof r->case_number, "%s", PQgetvalue(res, 0, 1));
    r->case_version = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    if (!in_scope) {
        refused(r, SJ_ESCOPE, _("The case belongs to a village outside the sender's scope."));
        return SJ_ESCOPE;
    }
    return 0;
}

/* The attachment the chunk belongs to: known, then the chunk must agree
 * with it (*complete_out when the file is already whole); new, then it is
 * recorded if the case's limit allows. */
static int chunk_attachment(PGconn *db, const countyd_peer *peer, const Sanji__AttachmentChunk *c,
                            const countyd_attach_limits *lim, const char *aid, const char *cid,
                            countyd_apply_result *r, bool *complete_out, sj_error *err)
{
    const char *pa[] = {aid};
    const char *pc[] = {cid};
    PGresult *res = NULL;
    int rc;
    if ((rc = exec_bin(db,
                       "SELECT case_id::text, sha256, size, mime, chunk_count, complete"
                       " FROM attachment WHERE attachment_id = $1 FOR UPDATE",
                       1, pa, NULL, NULL, 0, &res, "attachment read", err)) != 0)
        return rc;
    int known = PQntuples(res);
    if (known) {
        size_t hl = 0;
        unsigned char *h = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 1), &hl);
        bool same = strcmp(PQgetvalue(res, 0, 0), cid) == 0 && h && hl == c->sha256.len &&
                    memcmp(h, c->sha256.data, hl) == 0 &&
                    strtoull(PQgetvalue(res, 0, 2), NULL, 10) == c->size &&
                    strcmp(PQgetvalue(res, 0, 3), c->mime) == 0 &&
                    (uint32_t)atoi(PQgetvalue(res, 0, 4)) == c->chunk_count;
        bool complete = PQgetvalue(res, 0, 5)[0] == 't';
        PQfreemem(h);
        PQclear(res);
        if (!same) {
            refused(r, SJ_EBAD_FIELD,
                    _("This piece does not belong to the attachment with its id."));
            return SJ_EBAD_FIELD;
        }
        *complete_out = complete;
    } else {
        PQclear(res);
        if ((rc = countyd_db_query(db, "SELECT coalesce(sum(size), 0) FROM attachment WHERE case_id = $1",
                                   1, pc, &res, err)) != 0)
            return rc;
        uint64_t used = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (used + c->size > lim->max_case) {
            char why[SJ_ERROR_MESSAGE_MAX];
            snprintf(why, sizeof why,
                     _("The case already has %llu bytes of attachments; with this file it would "
                       "pass the limit of %llu bytes per case."),
                     (unsigned long long)used, (unsigned long long)lim->max_case);
            refused(r, SJ_EATTACH_CASE_FULL, why);
            return SJ_EATTACH_CASE_FULL;
        }
        char size[24], count[16], at[24];
        snprintf(size, sizeof size, "%" PRIu64, (uint64_t)c->size);
        snprintf(count, sizeof count, "%u", (unsigned)c->chunk_count);
        snprintf(at, sizeof at, "%" PRId64, (int64_t)c->attached_at_ms);
        const char *ip[] = {aid, cid, c->name, c->mime, size, (const char *)c->sha256.data,
                            c->material, c->actor_person ? c->actor_person : "",
                            peer->node ? peer->node : "", at, count};
        const int il[] = {0, 0, 0, 0, 0, (int)c->sha256.len, 0, 0, 0, 0, 0};
        const int iff[] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0};
        if ((rc = exec_bin(db,
                           "INSERT INTO attachment (attachment_id, case_id, name, mime, size, sha256,"
                           " material, actor_person, actor_node, attached_at_ms, chunk_count)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                           11, ip, il, iff, 0, NULL, "attachment insert", err)) != 0)
            return rc;
    }
    return 0;
}

/* The chunk's bytes, stored once; the file put together after its last. */
static int chunk_store(PGconn *db, const Sanji__AttachmentChunk *c, const char *aid,
                       countyd_apply_result *r, sj_error *err)
{
    const char *pa[] = {aid};
    PGresult *res = NULL;
    int rc;
    char no[16];
    snprintf(no, sizeof no, "%u", (unsigned)c->chunk_no);
    const char *pp[] = {aid, no, (const char *)c->data.data};
    const int pl[] = {0, 0, (int)c->data.len};
    const int pf[] = {0, 0, 1};
    if ((rc = exec_bin(db,
                       "INSERT INTO attachment_part (attachment_id, chunk_no, data)"
                       " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                       3, pp, pl, pf, 0, &res, "attachment part", err)) != 0)
        return rc;
    bool fresh = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!fresh)
        return 0; /* the same piece in another message: stored once */
    if ((rc = countyd_db_query(db,
                               "UPDATE attachment SET chunks_received = chunks_received + 1"
                               " WHERE attachment_id = $1 RETURNING chunks_received, chunk_count",
                               1, pa, &res, err)) != 0)
        return rc;
    bool last = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) == 0;
    PQclear(res);
    return last ? assemble(db, aid, c, r, err) : 0;
}

static int apply_chunk(PGconn *db, const countyd_peer *peer, const Sanji__AttachmentChunk *c,
                       const countyd_attach_limits *lim, countyd_apply_result *r, sj_error *err)
{
    sj_error e;
    int rc = sj_attach_check_chunk(c, lim->max_file, &e);
    if (rc != 0) {
        refused(r, rc, e.message);
        return rc;
    }
    char cid[SJ_UUID_TEXT_SIZE], aid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(c->case_id.data, cid);
    sj_uuid_format(c->attachment_id.data, aid);
    if ((rc = chunk_case(db, peer, c, cid, r, err)) != 0)
        return rc;
    bool complete = false;
    if ((rc = chunk_attachment(db, peer, c, lim, aid, cid, r, &complete, err)) != 0)
        return rc;
    if (complete)
        return 0; /* a piece resent after the file was put together */
    return chunk_store(db, c, aid, r, err);
}

int countyd_attach_apply(PGconn *db, const uint8_t msg_id[16], const countyd_peer *peer,
                         const Sanji__AttachmentChunk *c, const countyd_attach_limits *lim,
                         countyd_apply_result *r, sj_error *err)
{
    memset(r, 0, sizeof *r);
    char mid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(msg_id, mid);
    int rc = countyd_db_exec(db, "BEGIN", 0, NULL, err);
    if (rc != 0)
        return rc;
    rc = countyd_apply_stored_result(db, mid, r, err);
    if (rc == 1)
        return countyd_db_exec(db, "COMMIT", 0, NULL, err);
    if (rc == 0)
        rc = countyd_db_exec(db, "SAVEPOINT chunk", 0, NULL, err);
    if (rc == 0) {
        rc = apply_chunk(db, peer, c, lim, r, err);
        char state[6];
        if (rc == SJ_EDB && (countyd_db_sqlstate(err, state)[0] == '2') &&
            (state[1] == '2' || state[1] == '3')) {
            /* A data error of this chunk (SQLSTATE class 22/23, e.g. a NUL
             * in its name): refused, so that it never blocks the queue. */
            refused(r, SJ_EBAD_FIELD, _("The attachment's name or material is missing or too long."));
            rc = SJ_EBAD_FIELD;
        }
        if (rc > 0 || (rc < 0 && rc != SJ_EDB && rc != SJ_EDB_CONN && rc != SJ_ENOMEM)) {
            /* A refusal: nothing of this chunk stays, the refusal is kept. */
            rc = countyd_db_exec(db, "ROLLBACK TO SAVEPOINT chunk", 0, NULL, err);
        } else if (rc == 0) {
            r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED;
        }
    }
    if (rc == 0) {
        char cid[SJ_UUID_TEXT_SIZE] = "", status[4], code[16], version[24];
        static const uint8_t zero[16];
        if (memcmp(r->case_id, zero, 16) != 0)
            sj_uuid_format(r->case_id, cid);
        snprintf(status, sizeof status, "%d", (int)r->status);
        snprintf(code, sizeof code, "%d", r->code);
        snprintf(version, sizeof version, "%" PRIu64, r->case_version);
        const char *p[] = {mid, status, code, r->reason, cid[0] ? cid : NULL, r->case_number,
                           version, peer->node ? peer->node : ""};
        rc = countyd_db_exec(db,
                             "INSERT INTO processed_message (message_id, status, code, reason,"
                             " case_id, case_number, case_version, sender_node)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                             8, p, err);
    }
    if (rc == 0)
        rc = countyd_db_exec(db, "COMMIT", 0, NULL, err);
    if (rc != 0) {
        sj_error ignored;
        (void)countyd_db_exec(db, "ROLLBACK", 0, NULL, &ignored);
        memset(r, 0, sizeof *r);
    }
    return rc;
}

/* ---- reading back ---------------------------------------------------------- */

#define INFO_COLUMNS                                                                          \
    "attachment_id::text, case_id::text, name, mime, size, encode(sha256, 'hex'), material,"  \
    " actor_person, attached_at_ms, chunk_count, chunks_received, complete"

static int hex_nibble(char ch)
{
    return ch >= 'a' ? ch - 'a' + 10 : ch - '0';
}

static Sanji__AttachmentInfo *info_row(countyd_arena *a, const PGresult *res, int i)
{
    Sanji__AttachmentInfo *in = countyd_arena_alloc(a, sizeof *in);
    sanji__attachment_info__init(in);
    uint8_t *aid = countyd_arena_alloc(a, 16), *cid = countyd_arena_alloc(a, 16);
    uint8_t *sha = countyd_arena_alloc(a, SJ_ATTACH_SHA256_SIZE);
    (void)sj_uuid_parse(PQgetvalue(res, i, 0), aid, NULL);
    (void)sj_uuid_parse(PQgetvalue(res, i, 1), cid, NULL);
    const char *hex = PQgetvalue(res, i, 5);
    for (size_t k = 0; k < SJ_ATTACH_SHA256_SIZE && hex[2 * k] && hex[2 * k + 1]; k++)
        sha[k] = (uint8_t)(hex_nibble(hex[2 * k]) << 4 | hex_nibble(hex[2 * k + 1]));
    in->attachment_id = (ProtobufCBinaryData){16, aid};
    in->case_id = (ProtobufCBinaryData){16, cid};
    in->name = countyd_arena_strdup(a, PQgetvalue(res, i, 2));
    in->mime = countyd_arena_strdup(a, PQgetvalue(res, i, 3));
    in->size = strtoull(PQgetvalue(res, i, 4), NULL, 10);
    in->sha256 = (ProtobufCBinaryData){SJ_ATTACH_SHA256_SIZE, sha};
    in->material = countyd_arena_strdup(a, PQgetvalue(res, i, 6));
    in->actor_person = countyd_arena_strdup(a, PQgetvalue(res, i, 7));
    in->attached_at_ms = strtoll(PQgetvalue(res, i, 8), NULL, 10);
    in->chunk_count = (uint32_t)atoi(PQgetvalue(res, i, 9));
    in->chunks_received = (uint32_t)atoi(PQgetvalue(res, i, 10));
    in->complete = PQgetvalue(res, i, 11)[0] == 't';
    return in;
}

/* The piece of a complete attachment (text id aid, size bytes) the query
 * asks for, at most PIECE_MAX bytes, into ar->data and ar->offset. */
static int read_piece(PGconn *db, countyd_arena *a, const Sanji__AttachmentQuery *q,
                      const char *aid, uint64_t size, Sanji__AttachmentResult *ar, sj_error *err)
{
    int rc;
    PGresult *res = NULL;
    uint32_t want = q->max_bytes ? q->max_bytes : PIECE_DEFAULT;
    if (want > PIECE_MAX)
        want = PIECE_MAX;
    uint64_t off = q->offset < size ? q->offset : size;
    char from[24], len[16];
    snprintf(from, sizeof from, "%" PRIu64, off + 1);
    snprintf(len, sizeof len, "%u", (unsigned)want);
    const char *p[] = {aid, from, len};
    if ((rc = exec_bin(db,
                       "SELECT substring(b.data FROM $2::int FOR $3::int) FROM attachment_blob b"
                       " JOIN attachment t ON t.sha256 = b.sha256 WHERE t.attachment_id = $1",
                       3, p, NULL, NULL, 1, &res, "attachment data", err)) != 0)
        return rc;
    if (PQntuples(res) == 1) {
        size_t dl = (size_t)PQgetlength(res, 0, 0);
        uint8_t *d = countyd_arena_alloc(a, dl ? dl : 1);
        memcpy(d, PQgetvalue(res, 0, 0), dl);
        ar->data = (ProtobufCBinaryData){dl, d};
        ar->offset = off;
    }
    PQclear(res);
    return 0;
}

int countyd_attach_query(PGconn *db, countyd_arena *a, const countyd_asker *k,
                         const Sanji__AttachmentQuery *q, Sanji__QueryResult *out, sj_error *err)
{
    if (q->case_id.len != 16 || (q->attachment_id.len != 0 && q->attachment_id.len != 16)) {
        out->code = SJ_EBAD_FIELD;
        out->reason = (char *)_("The attachment or case id is not 16 bytes long.");
        return 0;
    }
    Sanji__Case *c;
    int rc = countyd_caserow_load(db, a, q->case_id.data, NULL, &c, err);
    if (rc == SJ_EUNKNOWN_CASE) {
        out->code = SJ_EUNKNOWN_CASE;
        out->reason = (char *)_("There is no such case within your scope.");
        return 0;
    }
    if (rc == 0 && !countyd_asker_sees_case(k, c)) {
        /* The asker names the case by its id (not guessable), so the
         * refusal may say what it is. */
        out->code = SJ_ESCOPE;
        out->reason = (char *)_("The case belongs to a village outside your scope; its "
                                "attachments cannot be opened here.");
        return 0;
    }
    if (rc != 0)
        return rc;
    char cid[SJ_UUID_TEXT_SIZE], aid[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(q->case_id.data, cid);
    PGresult *res = NULL;
    if (q->attachment_id.len == 0) {
        const char *p[] = {cid};
        rc = countyd_db_query(db, "SELECT " INFO_COLUMNS " FROM attachment WHERE case_id = $1"
                                  " ORDER BY attached_at_ms, attachment_id",
                              1, p, &res, err);
    } else {
        sj_uuid_format(q->attachment_id.data, aid);
        const char *p[] = {aid, cid};
        rc = countyd_db_query(db, "SELECT " INFO_COLUMNS " FROM attachment"
                                  " WHERE attachment_id = $1 AND case_id = $2",
                              2, p, &res, err);
    }
    if (rc != 0)
        return rc;
    Sanji__AttachmentResult *ar = countyd_arena_alloc(a, sizeof *ar);
    sanji__attachment_result__init(ar);
    int n = PQntuples(res);
    ar->attachments = countyd_arena_alloc(a, (size_t)(n ? n : 1) * sizeof *ar->attachments);
    for (int i = 0; i < n; i++)
        ar->attachments[ar->n_attachments++] = info_row(a, res, i);
    PQclear(res);
    out->result_case = SANJI__QUERY_RESULT__RESULT_ATTACHMENT;
    out->attachment = ar;
    if (q->attachment_id.len == 0)
        return 0;
    if (n != 1) {
        out->code = SJ_ENOTFOUND;
        out->reason = (char *)_("The case has no attachment with this id.");
        return 0;
    }
    const Sanji__AttachmentInfo *in = ar->attachments[0];
    if (!in->complete) {
        out->code = SJ_EATTACH_INCOMPLETE;
        out->reason = (char *)_("The attachment has not fully reached the county yet; try again "
                                "once the station's upload is done.");
        return 0;
    }
    return read_piece(db, a, q, aid, in->size, ar, err);
}
