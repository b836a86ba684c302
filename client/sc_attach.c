/*
 * sc_attach.c - attachments (附件): a file attached here, saved whole with
 * its chunks queued in the outbox; attachments read from the store; one
 * fetched from the county piece after piece and kept.
 *
 * Entry points: sc_attach_check(), sc_attach(), sc_attachments(), sc_attachment_data(),
 * sc_attachment_keep(), sc_attachment_fetch().
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "clock.h"
#include "i18n.h"
#include "orgunit.h"
#include "utf8.h"
#include "uuid.h"

/* ---- attachments ------------------------------------------------------- */

/* Every chunk of the attachment row describes (data, row->size bytes) to
 * the outbox, inside the caller's transaction. */
static int queue_chunks(sc_client *c, sc_attach_row *row, const uint8_t *data, sj_error *err)
{
    size_t len = (size_t)row->size;
    Sanji__AttachmentChunk ch = SANJI__ATTACHMENT_CHUNK__INIT;
    ch.attachment_id = (ProtobufCBinaryData){16, row->attachment_id};
    ch.case_id = (ProtobufCBinaryData){16, row->case_id};
    ch.chunk_count = row->chunk_count;
    ch.size = len;
    ch.sha256 = (ProtobufCBinaryData){SJ_ATTACH_SHA256_SIZE, row->sha256};
    ch.name = row->name;
    ch.mime = row->mime;
    ch.material = row->material;
    ch.actor_person = row->actor_person;
    ch.attached_at_ms = row->attached_at_ms;
    int rc = 0;
    for (uint32_t k = 0; rc == 0 && k < row->chunk_count; k++) {
        uint8_t msg_id[16];
        sj_uuid_v7(msg_id);
        ch.chunk_no = k;
        ch.data = (ProtobufCBinaryData){sj_attach_chunk_len(len, k),
                                        (uint8_t *)data + (size_t)k * SJ_ATTACH_CHUNK_SIZE};
        Sanji__Envelope env = SANJI__ENVELOPE__INIT;
        env.message_id = (ProtobufCBinaryData){16, msg_id};
        env.body_case = SANJI__ENVELOPE__BODY_ATTACHMENT_CHUNK;
        env.attachment_chunk = &ch;
        uint8_t *frame = NULL;
        size_t plen = 0;
        rc = sc_send_pack(c, &env, &frame, &plen, err);
        if (rc == 0)
            rc = sc_store_outbox_add(c->st, msg_id, row->case_id, SC_OUTBOX_CHUNK,
                                     frame + SJ_FRAME_HEADER_SIZE, plen,
                                     row->attached_at_ms, err);
        free(frame);
    }
    return rc;
}

int sc_attach_check(sc_client *c, const char *name, const uint8_t *data, size_t len,
                    const char *material, uint64_t case_used, const char **mime, sj_error *err)
{
    name = sj_attach_base_name(nz(name));
    if (!*name || strlen(name) > SJ_ATTACH_NAME_MAX || !sj_utf8_valid(name, strlen(name)))
        return sj_error_set(err, SJ_EBAD_FIELD, "%s",
                            _("The file name is empty, too long or not valid text; rename the file."));
    material = nz(material);
    if (strlen(material) > SJ_ATTACH_MATERIAL_MAX || !sj_utf8_valid(material, strlen(material)))
        return sj_error_set(err, SJ_EBAD_FIELD, "%s",
                            _("The material's name is too long or not valid text."));
    const char *kind = NULL;
    int rc = sj_attach_check_file(data, len, c->attach_max_file, case_used, c->attach_max_case,
                                  &kind, err);
    if (rc == 0 && mime)
        *mime = kind;
    return rc;
}

int sc_attach(sc_client *c, const uint8_t case_id[16], const char *name, const uint8_t *data,
              size_t len, const char *material, uint8_t attachment_id_out[16], sj_error *err)
{
    sj_actor actor;
    const Sanji__Person *p = NULL;
    int rc = sc_login_actor(c, &actor, &p, err);
    if (rc != 0)
        return rc;
    Sanji__Case *cur = NULL;
    if (sc_store_case_get(c->st, case_id, &cur, NULL, err) != 0) {
        if (err && err->code == SJ_ENOTFOUND)
            return sj_error_set(err, SJ_EUNKNOWN_CASE, "%s", _("There is no such case at this station."));
        return err ? err->code : SJ_EDB;
    }
    bool mine = sj_orgunit_contains(c->node.unit, nz(cur->village));
    sanji__case__free_unpacked(cur, NULL);
    if (!mine)
        return sj_error_set(err, SJ_ESCOPE, "%s",
                            _("The case belongs to a village outside this station's scope."));
    name = sj_attach_base_name(nz(name));
    material = nz(material);
    const char *mime = NULL;
    if ((rc = sc_attach_check(c, name, data, len, material,
                              sc_store_attach_case_bytes(c->st, case_id), &mime, err)) != 0)
        return rc;
    sc_attach_row row;
    memset(&row, 0, sizeof row);
    sj_uuid_v7(row.attachment_id);
    memcpy(row.case_id, case_id, 16);
    snprintf(row.name, sizeof row.name, "%s", name);
    snprintf(row.mime, sizeof row.mime, "%s", mime);
    row.size = len;
    sj_attach_sha256(data, len, row.sha256);
    snprintf(row.material, sizeof row.material, "%s", material);
    snprintf(row.actor_person, sizeof row.actor_person, "%s", nz(p->id));
    row.attached_at_ms = sj_clock_real_ms();
    row.chunk_count = sj_attach_chunk_count(len);
    row.local = true;
    /* The file and every chunk in one transaction: the attachment is
     * saved whole or not at all. */
    if ((rc = sc_store_begin(c->st, err)) != 0)
        return rc;
    rc = sc_store_attach_add(c->st, &row, data, len, err);
    if (rc == 0)
        rc = queue_chunks(c, &row, data, err);
    if (rc == 0)
        rc = sc_store_commit(c->st, err);
    if (rc != 0) {
        sc_store_rollback(c->st);
        return rc;
    }
    if (attachment_id_out)
        memcpy(attachment_id_out, row.attachment_id, 16);
    sc_send_flush(c);
    return 0;
}

int sc_attachments(sc_client *c, const uint8_t case_id[16], sc_attach_row **out, size_t *n,
                   sj_error *err)
{
    return sc_store_attach_list(c->st, case_id, out, n, err);
}

int sc_attachment_data(sc_client *c, const uint8_t attachment_id[16], uint8_t **data, size_t *len,
                       sj_error *err)
{
    return sc_store_attach_data(c->st, attachment_id, data, len, err);
}

int sc_attachment_keep(sc_client *c, const Sanji__AttachmentInfo *in, const uint8_t *data,
                       size_t len, sj_error *err)
{
    uint8_t sha[SJ_ATTACH_SHA256_SIZE];
    if (in->attachment_id.len != 16 || in->case_id.len != 16 ||
        in->sha256.len != SJ_ATTACH_SHA256_SIZE || len != in->size)
        return sj_error_set(err, SJ_EBAD_FIELD, "%s", _("The attachment received is incomplete."));
    sj_attach_sha256(data, len, sha);
    if (memcmp(sha, in->sha256.data, sizeof sha) != 0)
        return sj_error_set(err, SJ_EATTACH_HASH, "%s",
                            _("The attachment received does not match its SHA-256; fetch it again."));
    sc_attach_row row;
    memset(&row, 0, sizeof row);
    memcpy(row.attachment_id, in->attachment_id.data, 16);
    memcpy(row.case_id, in->case_id.data, 16);
    snprintf(row.name, sizeof row.name, "%s", nz(in->name));
    snprintf(row.mime, sizeof row.mime, "%s", nz(in->mime));
    row.size = in->size;
    memcpy(row.sha256, sha, sizeof sha);
    snprintf(row.material, sizeof row.material, "%s", nz(in->material));
    snprintf(row.actor_person, sizeof row.actor_person, "%s", nz(in->actor_person));
    row.attached_at_ms = in->attached_at_ms;
    row.chunk_count = in->chunk_count;
    row.chunks_applied = in->chunk_count;
    return sc_store_attach_add(c->st, &row, data, len, err);
}

/* One attachment being fetched from the county, piece after piece. */
typedef struct attach_fetch {
    sc_client *c;
    uint8_t case_id[16], attachment_id[16];
    Sanji__AttachmentInfo *info; /* a copy of the first answer's description */
    uint8_t *buf;
    uint64_t size, have;
    sc_attach_fetch_cb cb;
    void *data;
} attach_fetch;

static void fetch_answered(sc_client *c, int status, const Sanji__QueryResult *res, void *data);

static int fetch_next(attach_fetch *f, sj_error *err)
{
    Sanji__AttachmentQuery aq = SANJI__ATTACHMENT_QUERY__INIT;
    aq.case_id = (ProtobufCBinaryData){16, f->case_id};
    aq.attachment_id = (ProtobufCBinaryData){16, f->attachment_id};
    aq.offset = f->have;
    Sanji__Query q = SANJI__QUERY__INIT;
    q.kind_case = SANJI__QUERY__KIND_ATTACHMENT;
    q.attachment = &aq;
    return sc_query(f->c, &q, fetch_answered, f, err);
}

static void fetch_end(attach_fetch *f, int status, const char *reason)
{
    f->cb(f->c, status, reason, status == 0 ? f->buf : NULL, status == 0 ? (size_t)f->size : 0,
          f->data);
    if (f->info)
        sanji__attachment_info__free_unpacked(f->info, NULL);
    free(f->buf);
    free(f);
}

static void fetch_answered(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    attach_fetch *f = data;
    sj_error err;
    if (status != 0 || !res || res->code != 0) {
        int code = res && res->code ? res->code : status ? status : SJ_ECLOSED;
        fetch_end(f, code, res && res->reason && *res->reason ? _(res->reason) : _(sj_err_text(code)));
        return;
    }
    const Sanji__AttachmentResult *ar =
        res->result_case == SANJI__QUERY_RESULT__RESULT_ATTACHMENT ? res->attachment : NULL;
    if (!ar || ar->n_attachments != 1 || ar->offset != f->have || ar->data.len == 0 ||
        (f->info && ar->attachments[0]->size != f->size) ||
        (f->info && f->have + ar->data.len > f->size)) {
        fetch_end(f, SJ_EPROTOCOL, _("The county's answer does not fit the question."));
        return;
    }
    if (!f->info) {
        size_t n = sanji__attachment_info__get_packed_size(ar->attachments[0]);
        uint8_t *pb = malloc(n ? n : 1);
        if (pb) {
            sanji__attachment_info__pack(ar->attachments[0], pb);
            f->info = sanji__attachment_info__unpack(NULL, n, pb);
            free(pb);
        }
        f->size = f->info ? f->info->size : 0;
        f->buf = f->info && f->size <= c->attach_max_file ? malloc(f->size ? f->size : 1) : NULL;
        if (!f->buf || ar->data.len > f->size) {
            fetch_end(f, f->buf ? SJ_EPROTOCOL : SJ_ENOMEM,
                      f->buf ? _("The county's answer does not fit the question.")
                             : _(sj_err_text(SJ_ENOMEM)));
            return;
        }
    }
    memcpy(f->buf + f->have, ar->data.data, ar->data.len);
    f->have += ar->data.len;
    if (f->have < f->size) {
        if (fetch_next(f, &err) != 0)
            fetch_end(f, err.code, err.message);
        return;
    }
    if (sc_attachment_keep(c, f->info, f->buf, (size_t)f->size, &err) != 0) {
        fetch_end(f, err.code, err.message);
        return;
    }
    fetch_end(f, 0, "");
}

int sc_attachment_fetch(sc_client *c, const uint8_t case_id[16], const uint8_t attachment_id[16],
                        sc_attach_fetch_cb cb, void *data, sj_error *err)
{
    attach_fetch *f = calloc(1, sizeof *f);
    if (!f)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    f->c = c;
    memcpy(f->case_id, case_id, 16);
    memcpy(f->attachment_id, attachment_id, 16);
    f->cb = cb;
    f->data = data;
    int rc = fetch_next(f, err);
    if (rc != 0)
        free(f);
    return rc;
}
