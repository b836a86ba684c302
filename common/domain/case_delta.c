/*
 * case_delta.c - a case as what changed since a version the receiver holds
 * (case_delta.h): made at the relay, applied at the station, one meaning.
 *
 * Walks the fields of Case through its protobuf-c descriptor, so that every
 * field kind is handled by one rule: scalars and strings compared by value,
 * bytes by content, a submessage (the Applicant) by its packed bytes, a
 * repeated field (the materials) as a whole list.  The result of an apply is
 * built as a shallow copy of the base with the changed fields put in, packed
 * once (which gives the check) and unpacked into a case the caller owns.
 */
#include "case_delta.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CASE_ID_FIELD 1u

static const ProtobufCMessageDescriptor *case_desc(void)
{
    return &sanji__case__descriptor;
}

static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Bytes one value of a field's type takes in the message struct. */
static size_t value_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4; /* int32, sint32, sfixed32, uint32, fixed32, float, enum */
    }
}

/* The kinds of field a delta carries: proto3 singular fields (no has_
 * flag: the default means "not set"), submessages, repeated fields.  A
 * oneof or a proto3 `optional` scalar would need its presence carried too;
 * Case has none (test_case_delta checks every field). */
static bool field_supported(const ProtobufCFieldDescriptor *f)
{
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return false;
    if (f->label == PROTOBUF_C_LABEL_REPEATED || f->label == PROTOBUF_C_LABEL_NONE)
        return true;
    return f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type == PROTOBUF_C_TYPE_MESSAGE;
}

static const void *member(const void *msg, const ProtobufCFieldDescriptor *f)
{
    return (const char *)msg + f->offset;
}

static size_t count_of(const void *msg, const ProtobufCFieldDescriptor *f)
{
    return *(const size_t *)((const char *)msg + f->quantifier_offset);
}

/* m, or a message inside it (the Applicant), holds fields this program does
 * not know.  A delta never carries them: a case holding one is sent whole.
 * Not only because such a field cannot be named in `cleared`: protobuf-c
 * reads some it cannot read back once packed (a tag 0 spelled in two
 * bytes), so a case rebuilt with one may not even unpack. */
static bool holds_unknown(const ProtobufCMessage *m)
{
    if (m->n_unknown_fields > 0)
        return true;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        size_t n = f->label == PROTOBUF_C_LABEL_REPEATED ? count_of(m, f) : 1;
        ProtobufCMessage *const *v = f->label == PROTOBUF_C_LABEL_REPEATED
                                         ? *(ProtobufCMessage *const *const *)member(m, f)
                                         : (ProtobufCMessage *const *)member(m, f);
        for (size_t k = 0; k < n; k++)
            if (v[k] != NULL && holds_unknown(v[k]))
                return true;
    }
    return false;
}

/* Packs m into a fresh buffer; NULL when out of memory. */
static uint8_t *pack_message(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf != NULL)
        protobuf_c_message_pack(m, buf);
    return buf;
}

/* Two submessages are equal when they pack to the same bytes; when out of
 * memory they count as different (the delta then carries the field, which
 * is never wrong). */
static bool message_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    size_t la, lb;
    uint8_t *pa = pack_message(a, &la), *pb = pack_message(b, &lb);
    bool eq = pa && pb && la == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return eq;
}

/* One value of field f's type at a and at b. */
static bool value_equal(const ProtobufCFieldDescriptor *f, const void *a, const void *b)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        return strcmp(x ? x : "", y ? y : "") == 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *x = a, *y = b;
        return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_equal(*(ProtobufCMessage *const *)a, *(ProtobufCMessage *const *)b);
    case PROTOBUF_C_TYPE_BOOL:
        return (*(const protobuf_c_boolean *)a != 0) == (*(const protobuf_c_boolean *)b != 0);
    default:
        return memcmp(a, b, value_size(f->type)) == 0;
    }
}

/* Field f holds what proto3 does not send: what the receiver reads as "not
 * set" in `set`, and what `cleared` stands for. */
static bool field_default(const ProtobufCFieldDescriptor *f, const void *msg)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return count_of(msg, f) == 0;
    const void *v = member(msg, f);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)v;
        return s == NULL || *s == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)v)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)v == NULL;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)v == 0;
    default: {
        static const uint8_t zero[8];
        return memcmp(v, zero, value_size(f->type)) == 0;
    }
    }
}

static bool field_equal(const ProtobufCFieldDescriptor *f, const void *a, const void *b)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return value_equal(f, member(a, f), member(b, f));
    size_t n = count_of(a, f);
    if (n != count_of(b, f))
        return false;
    const char *xa = *(char *const *)member(a, f), *xb = *(char *const *)member(b, f);
    size_t sz = value_size(f->type);
    for (size_t i = 0; i < n; i++)
        if (!value_equal(f, xa + i * sz, xb + i * sz))
            return false;
    return true;
}

/* Points dst's field f at src's value (a shallow copy: dst is only packed,
 * never freed as a message). */
static void field_copy(const ProtobufCFieldDescriptor *f, void *dst, const void *src)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        memcpy((char *)dst + f->quantifier_offset, (const char *)src + f->quantifier_offset,
               sizeof(size_t));
        memcpy((char *)dst + f->offset, member(src, f), sizeof(void *));
        return;
    }
    memcpy((char *)dst + f->offset, member(src, f), value_size(f->type));
}

static void field_clear(const ProtobufCFieldDescriptor *f, void *dst)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        memset((char *)dst + f->quantifier_offset, 0, sizeof(size_t));
        memset((char *)dst + f->offset, 0, sizeof(void *));
        return;
    }
    memset((char *)dst + f->offset, 0, value_size(f->type));
}

uint64_t sj_case_delta_check(const Sanji__Case *c)
{
    size_t len;
    uint8_t *buf = pack_message(&c->base, &len);
    if (buf == NULL)
        return 0;
    uint64_t h = fnv1a64(buf, len);
    free(buf);
    return h;
}

int sj_case_delta_make(const Sanji__Case *base, const Sanji__Case *next, Sanji__CaseDelta **out,
                       sj_error *err)
{
    *out = NULL;
    if (base == NULL || next == NULL || base->case_id.len != 16 || next->case_id.len != 16 ||
        memcmp(base->case_id.data, next->case_id.data, 16) != 0)
        return sj_error_set(err, SJ_EINVAL, "a delta joins two versions of one case");
    if (holds_unknown(&base->base) || holds_unknown(&next->base))
        return sj_error_set(err, SJ_EINVAL,
                            "the case has fields this program does not know: send it whole");
    const ProtobufCMessageDescriptor *d = case_desc();
    uint32_t *cleared = calloc(d->n_fields + 1, sizeof *cleared);
    if (cleared == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    Sanji__Case set = SANJI__CASE__INIT;
    set.case_id = next->case_id;
    size_t n_cleared = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!field_supported(f)) {
            free(cleared);
            return sj_error_set(err, SJ_EINVAL, "Case.%s is of a kind a delta does not carry",
                                f->name);
        }
        if (f->id == CASE_ID_FIELD || field_equal(f, base, next))
            continue;
        if (field_default(f, next))
            cleared[n_cleared++] = f->id;
        else
            field_copy(f, &set, next);
    }
    Sanji__CaseDelta dl = SANJI__CASE_DELTA__INIT;
    dl.set = &set;
    dl.cleared = cleared;
    dl.n_cleared = n_cleared;
    dl.check = sj_case_delta_check(next);
    size_t len;
    uint8_t *buf = dl.check ? pack_message(&dl.base, &len) : NULL;
    free(cleared);
    if (buf == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    /* Packed and read back, so that the caller owns one ordinary message. */
    *out = sanji__case_delta__unpack(NULL, len, buf);
    free(buf);
    return *out ? 0 : sj_error_set(err, SJ_ENOMEM, NULL);
}

/* The checks that need no base: what a hostile or broken sender could put
 * in a delta.  Marks in clear[] (one per descriptor field) the fields to
 * clear. */
static int delta_valid(const Sanji__CaseDelta *dl, bool *clear, sj_error *err)
{
    const ProtobufCMessageDescriptor *d = case_desc();
    if (dl == NULL || dl->set == NULL)
        return sj_error_set(err, SJ_EDELTA_BAD, "a feed delta without its case");
    if (dl->base.n_unknown_fields > 0 || holds_unknown(&dl->set->base))
        return sj_error_set(err, SJ_EDELTA_BAD,
                            "a feed delta with fields this program does not know");
    if (dl->set->case_id.len != 16)
        return sj_error_set(err, SJ_EDELTA_BAD, "a feed delta without a 16-byte case id");
    for (size_t i = 0; i < dl->n_cleared; i++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(d, dl->cleared[i]);
        if (f == NULL)
            return sj_error_set(err, SJ_EDELTA_BAD, "a feed delta clears field %u, which a case "
                                "does not have", (unsigned)dl->cleared[i]);
        if (f->id == CASE_ID_FIELD)
            return sj_error_set(err, SJ_EDELTA_BAD, "a feed delta clears the case id");
        if (!field_supported(f))
            return sj_error_set(err, SJ_EDELTA_BAD, "a feed delta clears Case.%s, which it "
                                "cannot carry", f->name);
        if (!field_default(f, dl->set))
            return sj_error_set(err, SJ_EDELTA_BAD, "a feed delta both sets and clears Case.%s",
                                f->name);
        clear[f - d->fields] = true;
    }
    return 0;
}

int sj_case_delta_apply(const Sanji__Case *base, uint64_t base_version, const Sanji__CaseDelta *dl,
                        Sanji__Case **out, sj_error *err)
{
    *out = NULL;
    const ProtobufCMessageDescriptor *d = case_desc();
    bool *clear = calloc(d->n_fields + 1, sizeof *clear);
    if (clear == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    int rc = delta_valid(dl, clear, err);
    if (rc == 0 && base != NULL &&
        (base->case_id.len != 16 || memcmp(base->case_id.data, dl->set->case_id.data, 16) != 0))
        rc = sj_error_set(err, SJ_EDELTA_BAD, "a feed delta of another case");
    if (rc == 0 && (base == NULL || base->version != base_version))
        rc = sj_error_set(err, SJ_EDELTA_BASE,
                          "the stored case is at version %llu, the feed delta needs %llu",
                          base ? (unsigned long long)base->version : 0ull,
                          (unsigned long long)base_version);
    if (rc == 0 && holds_unknown(&base->base))
        rc = sj_error_set(err, SJ_EDELTA_BASE, "the stored case has fields this program does not "
                          "know, so no feed delta is made from it");
    if (rc != 0) {
        free(clear);
        return rc;
    }
    /* A shallow copy of the base with the delta's fields in place. */
    Sanji__Case r = *base;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (clear[i])
            field_clear(f, &r);
        else if (f->id != CASE_ID_FIELD && field_supported(f) && !field_default(f, dl->set))
            field_copy(f, &r, dl->set);
    }
    free(clear);
    size_t len;
    uint8_t *buf = pack_message(&r.base, &len);
    if (buf == NULL)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    if (fnv1a64(buf, len) != dl->check) {
        free(buf);
        return sj_error_set(err, SJ_EDELTA_BASE,
                            "the stored case is not the one the feed delta was made from");
    }
    *out = sanji__case__unpack(NULL, len, buf);
    free(buf);
    return *out ? 0 : sj_error_set(err, SJ_ENOMEM, NULL);
}
