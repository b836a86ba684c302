/*
 * envelope.c - Envelope stamping, packing into frames, and bounded,
 * validating unpacking.  See envelope.h for the contract.
 *
 * Entry points: sj_envelope_pack(), sj_envelope_pack_into(),
 * sj_envelope_packed_size(), sj_envelope_unpack(), sj_envelope_free(),
 * sj_envelope_unpack_budget().
 */
#include "envelope.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "utf8.h"
#include "uuid.h"

/* Stands for an unknown field numbered 0 in find_bad_field()'s answer. */
static const ProtobufCFieldDescriptor FIELD_NUMBER_ZERO = {.name = "(field number 0)"};

/* Walks every string of a message, nested messages included, through the
 * generated descriptors, so that a field added to sanji.proto later is
 * checked without touching this file; and every unknown field kept for
 * resending.  Returns the descriptor field that is bad (FIELD_NUMBER_ZERO
 * for an unknown field numbered 0), or NULL; *why says what is wrong.
 * Field number 0 is not valid protobuf, but protobuf-c 1.4 accepts it when
 * the tag is written in more than one byte ("80 00") and then writes it
 * back in one byte, which it refuses: a message holding one would be
 * accepted but could not be passed on. */
static const ProtobufCFieldDescriptor *find_bad_field(const ProtobufCMessage *msg,
                                                      const char **where, const char **why)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *)msg;
    for (unsigned u = 0; u < msg->n_unknown_fields; u++)
        if (msg->unknown_fields[u].tag == 0) {
            *where = d->name;
            *why = "is not valid protobuf";
            return &FIELD_NUMBER_ZERO;
        }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        size_t count = 1;
        const void *slot = base + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(const size_t *)(base + f->quantifier_offset);
            slot = *(void *const *)slot;
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
                continue;
        }
        for (size_t k = 0; k < count; k++) {
            const void *item = ((void *const *)slot)[k];
            if (item == NULL)
                continue;
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                const char *s = item;
                if (!sj_utf8_valid(s, strlen(s))) {
                    *where = d->name;
                    *why = "is not valid UTF-8";
                    return f;
                }
            } else {
                const ProtobufCFieldDescriptor *bad = find_bad_field(item, where, why);
                if (bad != NULL)
                    return bad;
            }
        }
    }
    return NULL;
}

/* ---- packing ------------------------------------------------------------- */

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Makes the stamped shallow copy that is actually serialised; id_store
 * backs the message id when a fresh one is made. */
static int stamp(const Sanji__Envelope *env, const char *sender_node, Sanji__Envelope *e,
                 uint8_t id_store[SJ_ENVELOPE_ID_SIZE], sj_error *err)
{
    if (env == NULL)
        return sj_error_set(err, SJ_EINVAL, "no Envelope given");
    *e = *env;
    if (e->body_case == SANJI__ENVELOPE__BODY__NOT_SET)
        return sj_error_set(err, SJ_EFRAME_NO_BODY, "Envelope to send has no body");
    e->version = SJ_ENVELOPE_VERSION;
    if (e->message_id.len == 0) {
        sj_uuid_v7(id_store);
        e->message_id.data = id_store;
        e->message_id.len = SJ_ENVELOPE_ID_SIZE;
    } else if (e->message_id.len != SJ_ENVELOPE_ID_SIZE || e->message_id.data == NULL) {
        return sj_error_set(err, SJ_EINVAL, "Envelope to send has a %zu-byte message id; need 0 (fresh) or 16",
                            e->message_id.len);
    }
    if ((e->sender_node == NULL || e->sender_node[0] == '\0') && sender_node != NULL)
        e->sender_node = (char *)(uintptr_t)sender_node; /* read only by pack */
    if (e->sent_at_ms == 0)
        e->sent_at_ms = real_ms();
    return 0;
}

size_t sj_envelope_packed_size(const Sanji__Envelope *env, const char *sender_node)
{
    Sanji__Envelope e;
    uint8_t id[SJ_ENVELOPE_ID_SIZE] = {0};
    if (stamp(env, sender_node, &e, id, NULL) != 0)
        return SJ_FRAME_HEADER_SIZE;
    if (e.sent_at_ms != 0 && env->sent_at_ms == 0)
        e.sent_at_ms = INT64_MAX; /* the widest varint the stamp can produce */
    return SJ_FRAME_HEADER_SIZE + sanji__envelope__get_packed_size(&e);
}

static long pack_stamped(const Sanji__Envelope *e, uint32_t max_len, uint8_t *buf, size_t cap,
                         sj_error *err)
{
    const char *where = NULL, *why = NULL;
    const ProtobufCFieldDescriptor *bad = find_bad_field(&e->base, &where, &why);
    if (bad != NULL)
        return sj_error_set(err, SJ_EFRAME_BAD_FIELD, "%s.%s to send %s", where, bad->name, why);
    size_t n = sanji__envelope__get_packed_size(e);
    int rc = sj_frame_check_len(n, max_len);
    if (rc != 0)
        return sj_error_set(err, rc, "Envelope of %zu bytes exceeds the link maximum of %u bytes", n,
                            max_len);
    if (cap < SJ_FRAME_HEADER_SIZE + n)
        return sj_error_set(err, SJ_ETOOBIG, "buffer of %zu bytes too small for a %zu-byte frame",
                            cap, SJ_FRAME_HEADER_SIZE + n);
    sj_frame_header_put(buf, (uint32_t)n);
    size_t w = sanji__envelope__pack(e, buf + SJ_FRAME_HEADER_SIZE);
    if (w != n)
        return sj_error_set(err, SJ_EINTERNAL, "protobuf-c packed %zu bytes, announced %zu", w, n);
    return (long)(SJ_FRAME_HEADER_SIZE + n);
}

long sj_envelope_pack_into(const Sanji__Envelope *env, const char *sender_node, uint32_t max_len,
                           uint8_t *buf, size_t cap, uint8_t id_out[SJ_ENVELOPE_ID_SIZE],
                           sj_error *err)
{
    Sanji__Envelope e;
    uint8_t id[SJ_ENVELOPE_ID_SIZE];
    int rc = stamp(env, sender_node, &e, id, err);
    if (rc != 0)
        return rc;
    long n = pack_stamped(&e, max_len, buf, cap, err);
    if (n > 0 && id_out != NULL)
        memcpy(id_out, e.message_id.data, SJ_ENVELOPE_ID_SIZE);
    return n;
}

int sj_envelope_pack(const Sanji__Envelope *env, const char *sender_node, uint32_t max_len,
                     uint8_t **frame, size_t *frame_len, uint8_t id_out[SJ_ENVELOPE_ID_SIZE],
                     sj_error *err)
{
    *frame = NULL;
    *frame_len = 0;
    Sanji__Envelope e;
    uint8_t id[SJ_ENVELOPE_ID_SIZE];
    int rc = stamp(env, sender_node, &e, id, err);
    if (rc != 0)
        return rc;
    size_t cap = SJ_FRAME_HEADER_SIZE + sanji__envelope__get_packed_size(&e);
    if (cap - SJ_FRAME_HEADER_SIZE > max_len)
        return sj_error_set(err, SJ_EFRAME_TOO_LARGE,
                            "Envelope of %zu bytes exceeds the link maximum of %u bytes",
                            cap - SJ_FRAME_HEADER_SIZE, max_len);
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return sj_error_set(err, SJ_ENOMEM, "no memory for a %zu-byte frame", cap);
    long n = pack_stamped(&e, max_len, buf, cap, err);
    if (n < 0) {
        free(buf);
        return (int)n;
    }
    if (id_out != NULL)
        memcpy(id_out, e.message_id.data, SJ_ENVELOPE_ID_SIZE);
    *frame = buf;
    *frame_len = (size_t)n;
    return 0;
}

/* ---- unpacking ----------------------------------------------------------- */

typedef struct budget {
    size_t used;
    size_t limit;
    bool exceeded;
} budget;

static void *budget_alloc(void *data, size_t size)
{
    budget *b = data;
    if (size > b->limit - b->used) {
        b->exceeded = true;
        return NULL;
    }
    b->used += size;
    return malloc(size);
}

static void budget_free(void *data, void *ptr)
{
    free(ptr);
}

size_t sj_envelope_unpack_budget(size_t len)
{
    /* Legitimate messages decode to a few times their wire size; 16x plus a
     * floor leaves ample room while capping a 1 MiB frame near 16 MiB. */
    return 16 * len + 64 * 1024;
}

int sj_envelope_unpack(const uint8_t *payload, size_t len, Sanji__Envelope **out, sj_error *err)
{
    *out = NULL;
    if (len == 0)
        return sj_error_set(err, SJ_EFRAME_EMPTY, "empty frame payload");
    budget b = {.used = 0, .limit = sj_envelope_unpack_budget(len), .exceeded = false};
    ProtobufCAllocator alloc = {.alloc = budget_alloc, .free = budget_free, .allocator_data = &b};
    Sanji__Envelope *e = sanji__envelope__unpack(&alloc, len, payload);
    if (e == NULL) {
        if (b.exceeded)
            return sj_error_set(err, SJ_EFRAME_DECODE,
                                "frame of %zu bytes needs more than %zu bytes to decode; refused",
                                len, b.limit);
        return sj_error_set(err, SJ_EFRAME_DECODE,
                            "frame of %zu bytes is not a valid protobuf Envelope", len);
    }
    int rc;
    const char *where = NULL, *why = NULL;
    const ProtobufCFieldDescriptor *bad;
    if (e->version != SJ_ENVELOPE_VERSION) {
        rc = sj_error_set(err, SJ_EFRAME_BAD_VERSION,
                          "Envelope version %u; this program speaks version %u", e->version,
                          SJ_ENVELOPE_VERSION);
    } else if (e->message_id.len != SJ_ENVELOPE_ID_SIZE) {
        rc = sj_error_set(err, SJ_EFRAME_BAD_ID, "message id of %zu bytes; need 16",
                          e->message_id.len);
    } else if (e->body_case == SANJI__ENVELOPE__BODY__NOT_SET) {
        rc = sj_error_set(err, SJ_EFRAME_NO_BODY, "Envelope has no body (or one this version does not know)");
    } else if ((bad = find_bad_field(&e->base, &where, &why)) != NULL) {
        rc = sj_error_set(err, SJ_EFRAME_BAD_FIELD, "%s.%s %s", where, bad->name, why);
    } else {
        *out = e;
        return 0;
    }
    sanji__envelope__free_unpacked(e, &alloc);
    return rc;
}

void sj_envelope_free(Sanji__Envelope *env)
{
    if (env == NULL)
        return;
    /* budget_free ignores its data, so no budget is needed to free. */
    ProtobufCAllocator alloc = {.alloc = budget_alloc, .free = budget_free, .allocator_data = NULL};
    sanji__envelope__free_unpacked(env, &alloc);
}

uint32_t sj_envelope_body_level(Sanji__Envelope__BodyCase body)
{
    /* Level 1 is the closed list of the first release's bodies; anything
     * else is newer, so a body added later needs level 2 at least without
     * anyone remembering to say so here. */
    return body >= SANJI__ENVELOPE__BODY_HELLO && body <= SANJI__ENVELOPE__BODY_CRL_UPDATE
               ? 1u
               : SJ_PROTOCOL_LEVEL;
}

uint32_t sj_protocol_level_agree(uint32_t peer_max)
{
    if (peer_max < SJ_PROTOCOL_LEVEL_MIN)
        return SJ_PROTOCOL_LEVEL_MIN;
    return peer_max < SJ_PROTOCOL_LEVEL ? peer_max : SJ_PROTOCOL_LEVEL;
}
