/*
 * test_case_delta.c - feed deltas (common/domain/case_delta.h): for every
 * field of Case, changed and cleared, apply(base, make(base, next)) packs to
 * exactly the bytes of next; strings cleared, materials changed and emptied,
 * the nested Applicant changed, added and removed; a base at another version
 * or with other content is refused, never rebuilt wrongly; hostile deltas
 * (unknown field numbers, the case id cleared, a field both set and cleared,
 * unknown fields, mangled bytes) give a clear error and no case; unknown
 * fields inside the Applicant are refused like those of the case itself,
 * even ones protobuf-c reads but cannot read back once packed (a tag 0
 * spelled in two bytes), never reported as out of memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_delta.h"
#include "delta_input.h"

static uint8_t OTHER_ID[16] = {0x02};
static char *materials2[] = {"户口簿", "残疾证", "照片"};

/* A case in the middle of its life: most fields other than their zero (the
 * fuzz target's first fixed base case, tests/fuzz/delta_input.h). */
static void rich_case(Sanji__Case *c, Sanji__Applicant *a)
{
    fuzz_delta_base(0, c, a);
}

static uint8_t *pack_case(const Sanji__Case *c, size_t *len)
{
    *len = sanji__case__get_packed_size(c);
    uint8_t *b = malloc(*len ? *len : 1);
    assert_non_null(b);
    sanji__case__pack(c, b);
    return b;
}

static void assert_same_case(const Sanji__Case *a, const Sanji__Case *b)
{
    size_t la, lb;
    uint8_t *pa = pack_case(a, &la), *pb = pack_case(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(pa, pb, la);
    free(pa);
    free(pb);
}

/* Makes the delta from base to next, sends it through its wire form, applies
 * it to base, and checks the result is next to the byte; returns the delta's
 * packed size. */
static size_t round_trip(const Sanji__Case *base, const Sanji__Case *next)
{
    Sanji__CaseDelta *d = NULL;
    sj_error err;
    assert_int_equal(sj_case_delta_make(base, next, &d, &err), 0);
    size_t len = sanji__case_delta__get_packed_size(d);
    uint8_t *buf = malloc(len ? len : 1);
    sanji__case_delta__pack(d, buf);
    Sanji__CaseDelta *wire = sanji__case_delta__unpack(NULL, len, buf);
    assert_non_null(wire);
    Sanji__Case *got = NULL;
    int rc = sj_case_delta_apply(base, base->version, wire, &got, &err);
    if (rc != 0)
        print_message("apply: %s\n", err.message);
    assert_int_equal(rc, 0);
    assert_same_case(got, next);
    sanji__case__free_unpacked(got, NULL);
    sanji__case_delta__free_unpacked(wire, NULL);
    sanji__case_delta__free_unpacked(d, NULL);
    free(buf);
    return len;
}

static bool in_cleared(const Sanji__CaseDelta *d, uint32_t id)
{
    for (size_t i = 0; i < d->n_cleared; i++)
        if (d->cleared[i] == id)
            return true;
    return false;
}

/* Field g of msg holds its proto3 default (what the wire does not carry). */
static bool default_in(const ProtobufCFieldDescriptor *g, const void *msg)
{
    const char *p = (const char *)msg + g->offset;
    if (g->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)((const char *)msg + g->quantifier_offset) == 0;
    switch (g->type) {
    case PROTOBUF_C_TYPE_STRING:
        return *(char *const *)p == NULL || **(char *const *)p == '\0';
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(void *const *)p == NULL;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)p == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_UINT64:
        return *(const int64_t *)p == 0;
    default:
        return *(const int32_t *)p == 0;
    }
}

/* Every field of Case, through the descriptor (so that a field added later
 * is covered too): set to another value, and cleared, one at a time. */
static void test_every_field(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *desc = &sanji__case__descriptor;
    static char *one_more[] = {"户口簿", "收入证明", "房产证明"};
    Sanji__Applicant other = SANJI__APPLICANT__INIT;
    other.name = "赵六";
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->id == 1)
            continue;
        print_message("Case.%s\n", f->name);
        for (int mode = 0; mode < 2; mode++) { /* 0: another value, 1: cleared */
            Sanji__Case base, next;
            Sanji__Applicant a1, a2;
            rich_case(&base, &a1);
            rich_case(&next, &a2);
            char *p = (char *)&next + f->offset;
            if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                assert_int_equal(f->type, PROTOBUF_C_TYPE_STRING); /* extend when Case grows one */
                *(size_t *)((char *)&next + f->quantifier_offset) = mode ? 0 : 3;
                *(char ***)p = mode ? NULL : one_more;
            } else if (mode == 1) {
                memset(p, 0, f->type == PROTOBUF_C_TYPE_STRING    ? sizeof(char *)
                             : f->type == PROTOBUF_C_TYPE_MESSAGE ? sizeof(void *)
                             : f->type == PROTOBUF_C_TYPE_BOOL    ? sizeof(protobuf_c_boolean)
                             : (f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_UINT64 ||
                                f->type == PROTOBUF_C_TYPE_SINT64)
                                 ? 8
                                 : 4);
            } else {
                switch (f->type) {
                case PROTOBUF_C_TYPE_STRING:
                    *(char **)p = "另一个值";
                    break;
                case PROTOBUF_C_TYPE_MESSAGE:
                    *(Sanji__Applicant **)p = &other;
                    break;
                case PROTOBUF_C_TYPE_BOOL:
                    *(protobuf_c_boolean *)p = !*(protobuf_c_boolean *)p;
                    break;
                case PROTOBUF_C_TYPE_INT64:
                case PROTOBUF_C_TYPE_SINT64:
                case PROTOBUF_C_TYPE_UINT64:
                    *(int64_t *)p += 86400000;
                    break;
                case PROTOBUF_C_TYPE_INT32:
                case PROTOBUF_C_TYPE_UINT32:
                case PROTOBUF_C_TYPE_ENUM:
                    *(int32_t *)p += 3;
                    break;
                default:
                    fail_msg("Case.%s is of a type this test does not change", f->name);
                }
            }
            Sanji__CaseDelta *d = NULL;
            sj_error err;
            assert_int_equal(sj_case_delta_make(&base, &next, &d, &err), 0);
            /* Exactly this field named: set when changed to a value, cleared
             * when changed to its default (a bool turned off too); a field
             * that was default already and is cleared again is not named. */
            bool changes = mode == 0 || !default_in(f, &base);
            for (unsigned j = 0; j < desc->n_fields; j++) {
                const ProtobufCFieldDescriptor *g = &desc->fields[j];
                if (g->id == 1)
                    continue;
                bool set = !default_in(g, d->set), cleared = in_cleared(d, g->id);
                assert_false(set && cleared);
                assert_int_equal(set, g == f && changes && !default_in(f, &next));
                assert_int_equal(cleared, g == f && changes && default_in(f, &next));
            }
            sanji__case_delta__free_unpacked(d, NULL);
            round_trip(&base, &next);
        }
    }
}

static void test_named_changes(void **state)
{
    (void)state;
    Sanji__Case base, next;
    Sanji__Applicant a1, a2, a3;
    rich_case(&base, &a1);

    /* A string cleared: 退回 reason taken back, request text emptied. */
    rich_case(&next, &a2);
    next.request_text = "";
    round_trip(&base, &next);

    /* Materials changed, then emptied. */
    rich_case(&next, &a2);
    next.materials = materials2;
    next.n_materials = 3;
    round_trip(&base, &next);
    next.materials = NULL;
    next.n_materials = 0;
    round_trip(&base, &next);
    /* Same length, one element different. */
    static char *swapped[] = {"户口簿", "残疾证"};
    next.materials = swapped;
    next.n_materials = 2;
    round_trip(&base, &next);

    /* The nested Applicant: a phone changed, the applicant removed, added. */
    rich_case(&next, &a2);
    a2.phone = "13900000000";
    round_trip(&base, &next);
    next.applicant = NULL;
    round_trip(&base, &next);
    round_trip(&next, &base);
    /* An applicant with nothing set is not no applicant. */
    sanji__applicant__init(&a3);
    next.applicant = &a3;
    round_trip(&base, &next);

    /* A typical step: 签收 then 办结 — status, holder, version, times. */
    rich_case(&next, &a2);
    next.status = SANJI__CASE_STATUS__CASE_STATUS_RESOLVED;
    next.version = 5;
    next.result = "已办结";
    next.resolved_level = SANJI__LEVEL__LEVEL_TOWNSHIP;
    next.resolved_unit = "410423101000";
    next.closed_at_ms = 1700000900000;
    next.materials = NULL;
    next.n_materials = 0;
    next.assignee = "";
    next.assignee_name = "";
    size_t dlen = round_trip(&base, &next);
    size_t full = sanji__case__get_packed_size(&next);
    print_message("delta %zu bytes, snapshot %zu bytes\n", dlen, full);
    assert_true(dlen < full / 2);

    /* Nothing changed (an urge reread): an empty delta still rebuilds. */
    round_trip(&base, &base);
}

static Sanji__CaseDelta *make_delta(const Sanji__Case *base, const Sanji__Case *next)
{
    Sanji__CaseDelta *d = NULL;
    sj_error err;
    assert_int_equal(sj_case_delta_make(base, next, &d, &err), 0);
    return d;
}

static void test_wrong_base(void **state)
{
    (void)state;
    Sanji__Case base, next, other;
    Sanji__Applicant a1, a2, a3;
    rich_case(&base, &a1);
    rich_case(&next, &a2);
    next.status = SANJI__CASE_STATUS__CASE_STATUS_RESOLVED;
    next.version = 5;
    Sanji__CaseDelta *d = make_delta(&base, &next);
    Sanji__Case *got = (Sanji__Case *)&got; /* must come back NULL */
    sj_error err;

    /* No stored case. */
    assert_int_equal(sj_case_delta_apply(NULL, 4, d, &got, &err), SJ_EDELTA_BASE);
    assert_null(got);
    /* The stored case at another version. */
    assert_int_equal(sj_case_delta_apply(&base, 3, d, &got, &err), SJ_EDELTA_BASE);
    assert_null(got);
    assert_int_equal(sj_case_delta_apply(&next, 4, d, &got, &err), SJ_EDELTA_BASE);
    /* The same version but other content (an urge does not raise the
     * version): the check finds it. */
    rich_case(&other, &a3);
    other.urge_count = 2;
    assert_int_equal(sj_case_delta_apply(&other, 4, d, &got, &err), SJ_EDELTA_BASE);
    assert_null(got);
    assert_non_null(strstr(err.message, "not the one"));
    /* Another case altogether. */
    other.urge_count = 1;
    other.case_id.data = OTHER_ID;
    assert_int_equal(sj_case_delta_apply(&other, 4, d, &got, &err), SJ_EDELTA_BAD);
    assert_null(got);
    sanji__case_delta__free_unpacked(d, NULL);

    /* make refuses two different cases. */
    assert_int_equal(sj_case_delta_make(&base, &other, &d, &err), SJ_EINVAL);
    assert_null(d);
}

/* The bytes of a delta whose set is the given Case bytes. */
static size_t wrap_set(const uint8_t *set, size_t n, uint8_t *out)
{
    out[0] = 0x0a; /* field 1, length-delimited */
    out[1] = (uint8_t)n;
    memcpy(out + 2, set, n);
    return n + 2;
}

static void test_hostile(void **state)
{
    (void)state;
    Sanji__Case base, next;
    Sanji__Applicant a1, a2;
    rich_case(&base, &a1);
    rich_case(&next, &a2);
    next.version = 5;
    Sanji__CaseDelta *good = make_delta(&base, &next);
    Sanji__Case *got = NULL;
    sj_error err;

    /* A field number Case does not have. */
    uint32_t bad_ids[] = {999};
    Sanji__CaseDelta h = *good;
    h.cleared = bad_ids;
    h.n_cleared = 1;
    assert_int_equal(sj_case_delta_apply(&base, 4, &h, &got, &err), SJ_EDELTA_BAD);
    assert_null(got);
    assert_non_null(strstr(err.message, "999"));
    /* The case id cleared. */
    uint32_t id_field[] = {1};
    h.cleared = id_field;
    assert_int_equal(sj_case_delta_apply(&base, 4, &h, &got, &err), SJ_EDELTA_BAD);
    /* A field both set and cleared (version: 14). */
    uint32_t version_field[] = {14};
    h.cleared = version_field;
    assert_int_equal(sj_case_delta_apply(&base, 4, &h, &got, &err), SJ_EDELTA_BAD);
    assert_non_null(strstr(err.message, "version"));
    /* No set at all, and a set without a case id. */
    h = *good;
    h.set = NULL;
    assert_int_equal(sj_case_delta_apply(&base, 4, &h, &got, &err), SJ_EDELTA_BAD);
    assert_int_equal(sj_case_delta_apply(&base, 4, NULL, &got, &err), SJ_EDELTA_BAD);
    Sanji__Case noid = *good->set;
    noid.case_id.len = 0;
    h.set = &noid;
    assert_int_equal(sj_case_delta_apply(&base, 4, &h, &got, &err), SJ_EDELTA_BAD);
    assert_null(got);
    sanji__case_delta__free_unpacked(good, NULL);

    /* A set carrying a field this program does not know (field 900,
     * varint 7), read from the wire: refused, not half-applied. */
    uint8_t set_bytes[] = {0x0a, 16, 0x01, 0x8c, 0x3f, 0x20, 0x11, 0x22, 0x73, 0x44, 0x95, 0x66,
                           0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xa0, 0x38, 0x07};
    uint8_t buf[64];
    size_t n = wrap_set(set_bytes, sizeof set_bytes, buf);
    Sanji__CaseDelta *w = sanji__case_delta__unpack(NULL, n, buf);
    assert_non_null(w);
    assert_int_equal(sj_case_delta_apply(&base, 4, w, &got, &err), SJ_EDELTA_BAD);
    assert_null(got);
    sanji__case_delta__free_unpacked(w, NULL);
    /* A known field of the wrong wire type (number, 2, as a varint): the
     * message does not decode at all. */
    uint8_t wrong_type[] = {0x0a, 16, 0x01, 0x8c, 0x3f, 0x20, 0x11, 0x22, 0x73, 0x44, 0x95, 0x66,
                            0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0x10, 0x05};
    n = wrap_set(wrong_type, sizeof wrong_type, buf);
    assert_null(sanji__case_delta__unpack(NULL, n, buf));
}

/* Mangled deltas, read from the wire and applied: whatever decodes is
 * either refused with a delta error or rebuilds exactly the case its check
 * names; nothing else, and nothing read out of bounds (ASan build). */
static void test_mangled(void **state)
{
    (void)state;
    Sanji__Case base, next;
    Sanji__Applicant a1, a2;
    rich_case(&base, &a1);
    rich_case(&next, &a2);
    next.status = SANJI__CASE_STATUS__CASE_STATUS_RETURNED;
    next.version = 5;
    next.request_text = "";
    next.materials = materials2;
    next.n_materials = 3;
    a2.phone = "";
    Sanji__CaseDelta *d = make_delta(&base, &next);
    size_t len = sanji__case_delta__get_packed_size(d);
    uint8_t *orig = malloc(len), *buf = malloc(len);
    sanji__case_delta__pack(d, orig);
    sanji__case_delta__free_unpacked(d, NULL);
    uint32_t seed = 12345;
    int decoded = 0, rebuilt = 0;
    for (int i = 0; i < 5000; i++) {
        memcpy(buf, orig, len);
        int flips = 1 + i % 3;
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[(seed >> 8) % len] ^= (uint8_t)(1u << ((seed >> 4) % 8));
        }
        seed = seed * 1103515245u + 12345u;
        size_t n = i % 7 == 0 ? (seed >> 8) % len : len; /* cut short too */
        Sanji__CaseDelta *w = sanji__case_delta__unpack(NULL, n, buf);
        if (w == NULL)
            continue;
        decoded++;
        Sanji__Case *got = NULL;
        sj_error err;
        int rc = sj_case_delta_apply(&base, 4, w, &got, &err);
        if (rc == 0) {
            assert_int_equal(sj_case_delta_check(got), w->check);
            rebuilt++;
            sanji__case__free_unpacked(got, NULL);
        } else {
            assert_true(rc == SJ_EDELTA_BAD || rc == SJ_EDELTA_BASE);
            assert_null(got);
        }
        sanji__case_delta__free_unpacked(w, NULL);
    }
    print_message("%d of 5000 mangled deltas decoded, %d rebuilt a case\n", decoded, rebuilt);
    assert_true(decoded > 0);
    free(orig);
    free(buf);
}

static void test_unknown_fields_not_made(void **state)
{
    (void)state;
    /* A case read with a field this program does not know cannot be sent as
     * a delta: the sender sends it whole. */
    Sanji__Case base;
    Sanji__Applicant a1;
    rich_case(&base, &a1);
    size_t len;
    uint8_t *p = pack_case(&base, &len);
    uint8_t *q = malloc(len + 3);
    memcpy(q, p, len);
    q[len] = 0xa0;
    q[len + 1] = 0x38;
    q[len + 2] = 0x07;
    Sanji__Case *with = sanji__case__unpack(NULL, len + 3, q);
    assert_non_null(with);
    Sanji__CaseDelta *d = NULL;
    sj_error err;
    assert_int_equal(sj_case_delta_make(&base, with, &d, &err), SJ_EINVAL);
    assert_null(d);
    sanji__case__free_unpacked(with, NULL);
    free(p);
    free(q);
}

/* An Applicant read from the wire with a field this program does not know:
 * field 4 (varint 7), or field 0 spelled in two bytes (0x80 0x00, varint
 * 0x27), which protobuf-c reads but packs as 0x00, which it then refuses. */
static Sanji__Applicant *applicant_with_unknown(bool tag_zero)
{
    uint8_t b[] = {0x0a, 0x06, 0xe5, 0xbc, 0xa0, 0xe4, 0xb8, 0x89, /* name 张三 */
                   0x80, 0x00, 0x27};
    size_t n = sizeof b;
    if (!tag_zero) {
        b[8] = 0x20; /* field 4, varint */
        b[9] = 0x07;
        n = sizeof b - 1;
    }
    Sanji__Applicant *a = sanji__applicant__unpack(NULL, n, b);
    assert_non_null(a);
    assert_int_equal(a->base.n_unknown_fields, 1);
    return a;
}

static void test_unknown_applicant_fields(void **state)
{
    (void)state;
    for (int tag_zero = 1; tag_zero >= 0; tag_zero--) {
        print_message("applicant with %s\n", tag_zero ? "field 0" : "field 4");
        Sanji__Applicant *odd = applicant_with_unknown(tag_zero);
        Sanji__Case base, next, odd_base;
        Sanji__Applicant a1, a2, a3;
        rich_case(&base, &a1);
        rich_case(&next, &a2);
        next.version = 5;
        next.status = SANJI__CASE_STATUS__CASE_STATUS_RESOLVED;
        Sanji__CaseDelta *d = NULL;
        sj_error err;

        /* make: the new applicant, or the old, holds a field this program
         * does not know: the sender sends the case whole. */
        next.applicant = odd;
        assert_int_equal(sj_case_delta_make(&base, &next, &d, &err), SJ_EINVAL);
        assert_null(d);
        assert_non_null(strstr(err.message, "does not know"));
        rich_case(&odd_base, &a3);
        odd_base.applicant = odd;
        next.applicant = &a2;
        assert_int_equal(sj_case_delta_make(&odd_base, &next, &d, &err), SJ_EINVAL);
        assert_null(d);

        /* apply: a delta whose applicant carries such a field, with the
         * check of exactly the case it would make, is refused as bad. */
        Sanji__CaseDelta *good = make_delta(&base, &next);
        Sanji__Case set = *good->set;
        set.applicant = odd;
        next.applicant = odd;
        Sanji__CaseDelta h = *good;
        h.set = &set;
        h.check = sj_case_delta_check(&next);
        Sanji__Case *got = NULL;
        assert_int_equal(sj_case_delta_apply(&base, 4, &h, &got, &err), SJ_EDELTA_BAD);
        assert_null(got);
        assert_non_null(strstr(err.message, "does not know"));

        /* apply on a stored case whose applicant holds such a field: no
         * honest delta is made from it (make refuses it above), so the
         * receiver needs the whole case, whatever the check says. */
        h = *good;
        h.check = sj_case_delta_check(&next); /* next carries odd too */
        assert_int_equal(sj_case_delta_apply(&odd_base, 4, &h, &got, &err), SJ_EDELTA_BASE);
        assert_null(got);
        sanji__case_delta__free_unpacked(good, NULL);
        sanji__applicant__free_unpacked(odd, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_named_changes),
        cmocka_unit_test(test_wrong_base),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_mangled),
        cmocka_unit_test(test_unknown_fields_not_made),
        cmocka_unit_test(test_unknown_applicant_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
