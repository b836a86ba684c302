/*
 * fuzz_case_delta.c - libFuzzer target for the feed delta a station applies
 * to the case it stored (common/domain/case_delta.h): a relay's bytes
 * reach sj_case_delta_apply() straight from FeedUpdate.delta.
 *
 * Input layout (delta_input.h): a mode byte, then either a packed CaseDelta
 * applied to one of a few fixed, real-looking base cases, or a packed base
 * Case (length-prefixed) and a packed CaseDelta; a mode bit applies the
 * delta at a version other than the base's.
 *
 * Asserts, whatever the bytes:
 *   - a refusal is SJ_EDELTA_BAD or SJ_EDELTA_BASE with a message, and no
 *     case; a delta at a version other than the base's, a delta or a base
 *     holding unknown fields (in the case or its Applicant) is never taken;
 *   - an accepted delta gives a case that packs to bytes whose FNV-1a 64
 *     (computed here) is the delta's check, that unpack and pack again to
 *     the same bytes, with the base's case id, every field the delta clears
 *     at its default, every field it sets to the set value, every other
 *     field the base's;
 *   - sj_case_delta_make() from the base to that case names only fields the
 *     delta named, and its delta, through its wire form, applied to the
 *     base gives the same bytes again;
 *   - the delta's set, taken as a whole next case, made into a delta from
 *     the base and applied, gives exactly the bytes of that case; make
 *     refuses only two different cases or a case with unknown fields;
 *   - nothing leaks, nothing is read past the input (exact-size copies).
 *
 * Entry point: LLVMFuzzerTestOneInput().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "case_delta.h"
#include "delta_input.h"
#include "err.h"

#define CASE_ID_FIELD 1u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *copy_of(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (c == NULL)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

static uint8_t *pack_case(const Sanji__Case *c, size_t *len)
{
    *len = sanji__case__get_packed_size(c);
    uint8_t *b = malloc(*len ? *len : 1);
    if (b == NULL)
        abort();
    sanji__case__pack(c, b);
    return b;
}

/* Kept apart from case_delta.c: the property is "the check is FNV-1a 64 of
 * the packed case", as PROTOCOL.md says, not "what the module computes". */
static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t scalar_size(ProtobufCType t)
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
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    default:
        return 4;
    }
}

static const char *at(const void *msg, const ProtobufCFieldDescriptor *f)
{
    return (const char *)msg + f->offset;
}

static size_t count_of(const void *msg, const ProtobufCFieldDescriptor *f)
{
    return *(const size_t *)((const char *)msg + f->quantifier_offset);
}

/* Field f of msg holds its proto3 default (what the wire does not carry). */
static bool default_in(const ProtobufCFieldDescriptor *f, const void *msg)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return count_of(msg, f) == 0;
    const char *p = at(msg, f);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return *(char *const *)p == NULL || **(char *const *)p == '\0';
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)p == NULL;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)p == 0;
    default: {
        static const uint8_t zero[8];
        return memcmp(p, zero, scalar_size(f->type)) == 0;
    }
    }
}

static bool message_same(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    size_t la = protobuf_c_message_get_packed_size(a), lb = protobuf_c_message_get_packed_size(b);
    if (la != lb)
        return false;
    uint8_t *pa = malloc(la ? la : 1), *pb = malloc(lb ? lb : 1);
    if (pa == NULL || pb == NULL)
        abort();
    protobuf_c_message_pack(a, pa);
    protobuf_c_message_pack(b, pb);
    bool same = memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return same;
}

static bool value_same(ProtobufCType t, const char *a, const char *b)
{
    switch (t) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        return strcmp(x ? x : "", y ? y : "") == 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *x = (const void *)a, *y = (const void *)b;
        return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return message_same(*(ProtobufCMessage *const *)a, *(ProtobufCMessage *const *)b);
    case PROTOBUF_C_TYPE_BOOL:
        return (*(const protobuf_c_boolean *)a != 0) == (*(const protobuf_c_boolean *)b != 0);
    default:
        return memcmp(a, b, scalar_size(t)) == 0;
    }
}

static bool field_same(const ProtobufCFieldDescriptor *f, const void *a, const void *b)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return value_same(f->type, at(a, f), at(b, f));
    size_t n = count_of(a, f);
    if (n != count_of(b, f))
        return false;
    const char *xa = *(char *const *)at(a, f), *xb = *(char *const *)at(b, f);
    for (size_t i = 0; i < n; i++)
        if (!value_same(f->type, xa + i * scalar_size(f->type), xb + i * scalar_size(f->type)))
            return false;
    return true;
}

/* m or a message inside it holds fields this program does not know (the
 * target's own model, apart from case_delta.c's, as the check is). */
static bool holds_unknown(const ProtobufCMessage *m)
{
    if (m->n_unknown_fields > 0)
        return true;
    for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        bool rep = f->label == PROTOBUF_C_LABEL_REPEATED;
        size_t n = rep ? count_of(m, f) : 1;
        ProtobufCMessage *const *v = rep ? *(ProtobufCMessage *const *const *)at(m, f)
                                         : (ProtobufCMessage *const *)at(m, f);
        for (size_t k = 0; k < n; k++)
            if (v[k] != NULL && holds_unknown(v[k]))
                return true;
    }
    return false;
}

static bool clears(const Sanji__CaseDelta *d, uint32_t id)
{
    for (size_t i = 0; i < d->n_cleared; i++)
        if (d->cleared[i] == id)
            return true;
    return false;
}

/* d names field f: sets it to a value other than its default, or clears it. */
static bool names(const Sanji__CaseDelta *d, const ProtobufCFieldDescriptor *f)
{
    return clears(d, f->id) || !default_in(f, d->set);
}

static void check_refusal(int rc, const sj_error *err, const Sanji__Case *out)
{
    if ((rc != SJ_EDELTA_BAD && rc != SJ_EDELTA_BASE) || err->code != rc ||
        err->message[0] == '\0' || out != NULL)
        abort();
}

/* Packs d, reads it back as a station would, applies it to base at its own
 * version; the result must pack to exactly want[0..wlen). */
static void apply_wire(const Sanji__Case *base, const Sanji__CaseDelta *d, const uint8_t *want,
                       size_t wlen)
{
    size_t len = sanji__case_delta__get_packed_size(d);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        abort();
    sanji__case_delta__pack(d, buf);
    Sanji__CaseDelta *w = sanji__case_delta__unpack(NULL, len, buf);
    free(buf);
    if (w == NULL)
        abort(); /* a made delta must cross the wire */
    Sanji__Case *got = NULL;
    sj_error err;
    if (sj_case_delta_apply(base, base->version, w, &got, &err) != 0)
        abort(); /* a made delta must apply to its own base */
    size_t glen;
    uint8_t *g = pack_case(got, &glen);
    if (glen != wlen || memcmp(g, want, wlen) != 0)
        abort();
    free(g);
    sanji__case__free_unpacked(got, NULL);
    sanji__case_delta__free_unpacked(w, NULL);
}

/* make(base, next): refused only for two different cases or unknown fields
 * (in the case or its Applicant);
 * otherwise its delta names only what changed (within `allowed` when given)
 * and rebuilds next to the byte. */
static void make_round_trip(const Sanji__Case *base, const Sanji__Case *next,
                            const Sanji__CaseDelta *allowed)
{
    Sanji__CaseDelta *d = NULL;
    sj_error err;
    int rc = sj_case_delta_make(base, next, &d, &err);
    if (rc != 0) {
        bool other = base->case_id.len != 16 || next->case_id.len != 16 ||
                     memcmp(base->case_id.data, next->case_id.data, 16) != 0;
        bool unknown = holds_unknown(&base->base) || holds_unknown(&next->base);
        if (rc != SJ_EINVAL || err.code != rc || err.message[0] == '\0' || d != NULL ||
            !(other || unknown))
            abort();
        return;
    }
    const ProtobufCMessageDescriptor *desc = &sanji__case__descriptor;
    if (d->set == NULL || d->set->case_id.len != 16 ||
        memcmp(d->set->case_id.data, next->case_id.data, 16) != 0 || d->base.n_unknown_fields)
        abort();
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->id == CASE_ID_FIELD)
            continue;
        bool set = !default_in(f, d->set), cleared = clears(d, f->id);
        /* Named exactly when changed, set or cleared by what next holds. */
        if (set && cleared)
            abort();
        if ((set || cleared) == field_same(f, base, next))
            abort();
        if (cleared != (!field_same(f, base, next) && default_in(f, next)))
            abort();
        if (allowed != NULL && (set || cleared) && !names(allowed, f))
            abort();
    }
    size_t nlen;
    uint8_t *np = pack_case(next, &nlen);
    if (d->check != fnv1a64(np, nlen))
        abort();
    apply_wire(base, d, np, nlen);
    free(np);
    sanji__case_delta__free_unpacked(d, NULL);
}

/* The properties of an accepted delta (see the top of the file). */
static void check_accepted(const Sanji__Case *base, const Sanji__CaseDelta *dl,
                           const Sanji__Case *out)
{
    if (out == NULL || out->base.descriptor != &sanji__case__descriptor)
        abort();
    size_t len;
    uint8_t *p = pack_case(out, &len);
    if (fnv1a64(p, len) != dl->check || sj_case_delta_check(out) != dl->check)
        abort(); /* taken although the check does not match */
    Sanji__Case *again = sanji__case__unpack(NULL, len, p);
    if (again == NULL)
        abort();
    size_t alen;
    uint8_t *ap = pack_case(again, &alen);
    if (alen != len || memcmp(ap, p, len) != 0)
        abort();
    free(ap);
    sanji__case__free_unpacked(again, NULL);

    if (out->case_id.len != 16 || base->case_id.len != 16 ||
        memcmp(out->case_id.data, base->case_id.data, 16) != 0)
        abort();
    const ProtobufCMessageDescriptor *desc = &sanji__case__descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->id == CASE_ID_FIELD)
            continue;
        if (clears(dl, f->id)) {
            if (!default_in(f, out))
                abort();
        } else if (!default_in(f, dl->set)) {
            if (!field_same(f, out, dl->set))
                abort();
        } else if (!field_same(f, out, base)) {
            abort();
        }
    }
    /* The compute side: from the base to what was rebuilt, and back. */
    make_round_trip(base, out, dl);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;

    Sanji__Case fixed;
    Sanji__Applicant fixed_applicant;
    Sanji__Case *base = &fixed, *unpacked_base = NULL;
    if (mode & FUZZ_DELTA_SPLIT) {
        if (size < 2)
            return 0;
        size_t bl = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2;
        size -= 2;
        if (bl > size)
            bl = size;
        uint8_t *b = copy_of(data, bl);
        unpacked_base = sanji__case__unpack(NULL, bl, b);
        free(b);
        if (unpacked_base == NULL)
            return 0;
        base = unpacked_base;
        data += bl;
        size -= bl;
    } else {
        fuzz_delta_base(mode >> 2, &fixed, &fixed_applicant);
    }
    uint64_t version = base->version + ((mode & FUZZ_DELTA_WRONG_VERSION) ? 1 : 0);

    uint8_t *d = copy_of(data, size);
    Sanji__CaseDelta *dl = sanji__case_delta__unpack(NULL, size, d);
    free(d);
    if (dl != NULL) {
        Sanji__Case *out = (Sanji__Case *)&out; /* must come back NULL on a refusal */
        sj_error err;
        int rc = sj_case_delta_apply(base, version, dl, &out, &err);
        if (rc != 0) {
            check_refusal(rc, &err, out);
        } else {
            if (version != base->version || holds_unknown(&base->base) ||
                holds_unknown(&dl->set->base) || dl->base.n_unknown_fields > 0)
                abort();
            check_accepted(base, dl, out);
            sanji__case__free_unpacked(out, NULL);
        }
        /* No stored case: nothing is rebuilt. */
        out = (Sanji__Case *)&out;
        rc = sj_case_delta_apply(NULL, version, dl, &out, &err);
        check_refusal(rc, &err, out);
        /* The delta's set as a whole next case of the same base. */
        if (dl->set != NULL)
            make_round_trip(base, dl->set, NULL);
        sanji__case_delta__free_unpacked(dl, NULL);
    }
    if (unpacked_base != NULL)
        sanji__case__free_unpacked(unpacked_base, NULL);
    return 0;
}
