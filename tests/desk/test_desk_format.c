/*
 * test_desk_format.c - the desktop's display rules (client/desk/desk-format.c):
 * home-page buckets, delivery state from outbox rows, times, percentages,
 * label prefixes and the statistics CSV.  Table-driven where it fits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "desk-format.h"

#define VILLAGE "410423101201"
#define TOWNSHIP "410423101000"
#define DAY (24 * 3600 * 1000LL)
#define NOW (1795000000000LL)

static uint8_t ID_A[16] = {1}, ID_B[16] = {2};

static void make_case(Sanji__Case *c, int status, const char *holder, int64_t due, bool overdue)
{
    sanji__case__init(c);
    c->case_id.data = ID_A;
    c->case_id.len = 16;
    c->status = status;
    c->holder_unit = (char *)holder;
    c->due_at_ms = due;
    c->overdue = overdue;
}

static void test_buckets(void **state)
{
    static const struct {
        const char *what;
        int status;
        const char *holder;
        int64_t due;
        bool overdue;
        unsigned want;
    } cases[] = {
        {"registered here, due later", 1, VILLAGE, NOW + 10 * DAY, false, DESK_BUCKET_TODO},
        {"escalated, with the township", 2, TOWNSHIP, NOW + 10 * DAY, false, DESK_BUCKET_IN_PROGRESS},
        {"with the township, due tomorrow", 3, TOWNSHIP, NOW + DAY, false,
         DESK_BUCKET_IN_PROGRESS | DESK_BUCKET_DUE_SOON},
        {"flagged overdue by the county", 5, "410423000000", NOW + DAY, true,
         DESK_BUCKET_IN_PROGRESS | DESK_BUCKET_OVERDUE},
        {"due time passed, not yet flagged", 1, VILLAGE, NOW - 1, false,
         DESK_BUCKET_TODO | DESK_BUCKET_OVERDUE},
        {"waiting for materials here", 6, VILLAGE, 0, false, DESK_BUCKET_TODO},
        /* The clock stands while the villager gathers materials. */
        {"waiting for materials past the old due time", 6, VILLAGE, NOW - DAY, false,
         DESK_BUCKET_TODO},
        {"waiting for materials, due tomorrow", 6, VILLAGE, NOW + DAY, false, DESK_BUCKET_TODO},
        {"resolved: record satisfaction", 7, VILLAGE, NOW - DAY, true, DESK_BUCKET_FEEDBACK},
        {"returned: record satisfaction", 8, VILLAGE, 0, false, DESK_BUCKET_FEEDBACK},
        {"unsatisfied, with the resolver", 9, TOWNSHIP, 0, false, DESK_BUCKET_IN_PROGRESS},
        {"closed", 10, VILLAGE, NOW - DAY, false, DESK_BUCKET_DONE},
        {"withdrawn", 11, VILLAGE, 0, false, DESK_BUCKET_DONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        Sanji__Case c;
        make_case(&c, cases[i].status, cases[i].holder, cases[i].due, cases[i].overdue);
        unsigned got = desk_format_buckets(&c, VILLAGE, NOW);
        if (got != cases[i].want)
            fail_msg("%s: got buckets 0x%x, want 0x%x", cases[i].what, got, cases[i].want);
    }
}

static sc_outbox_entry row(int64_t seq, const uint8_t *case_id, sc_out_state st)
{
    sc_outbox_entry e;
    memset(&e, 0, sizeof(e));
    e.seq = seq;
    memcpy(e.case_id, case_id, 16);
    e.state = st;
    return e;
}

static void test_delivery(void **state)
{
    Sanji__Case c;
    make_case(&c, 1, VILLAGE, 0, false);
    sc_outbox_entry rows[4];
    /* No rows and no number: nothing to say. */
    assert_int_equal(desk_format_delivery(&c, NULL, 0), DESK_DELIVERY_NONE);
    /* Saved, not yet at the relay. */
    rows[0] = row(1, ID_A, SC_OUT_SAVED);
    assert_int_equal(desk_format_delivery(&c, rows, 1), DESK_DELIVERY_SAVED);
    /* Another case's rows do not count. */
    rows[0] = row(1, ID_B, SC_OUT_SAVED);
    assert_int_equal(desk_format_delivery(&c, rows, 1), DESK_DELIVERY_NONE);
    /* Register applied, a later action only stored: the least advanced wins. */
    rows[0] = row(1, ID_A, SC_OUT_APPLIED);
    rows[1] = row(2, ID_A, SC_OUT_STORED);
    assert_int_equal(desk_format_delivery(&c, rows, 2), DESK_DELIVERY_STORED);
    /* Everything applied. */
    rows[1] = row(2, ID_A, SC_OUT_APPLIED);
    assert_int_equal(desk_format_delivery(&c, rows, 2), DESK_DELIVERY_APPLIED);
    /* The last action was refused. */
    rows[2] = row(3, ID_A, SC_OUT_REFUSED);
    assert_int_equal(desk_format_delivery(&c, rows, 3), DESK_DELIVERY_REFUSED);
    /* A case from the feed with a number: recorded by the county. */
    c.number = (char *)"410423-20261123-0001";
    assert_int_equal(desk_format_delivery(&c, NULL, 0), DESK_DELIVERY_APPLIED);
}

static void test_time_is_china_time(void **state)
{
    g_autofree char *t = desk_format_time(1795000000000LL); /* 2026-11-18T11:06:40Z */
    assert_string_equal(t, "2026-11-18 19:06");
    g_autofree char *z = desk_format_time(0);
    assert_string_equal(z, "—");
}

static void test_percent(void **state)
{
    static const struct {
        unsigned num, den;
        const char *want;
    } cases[] = {{0, 0, "—"}, {1, 1, "100.0%"}, {985, 1000, "98.5%"}, {1, 3, "33.3%"}};
    for (size_t i = 0; i < 4; i++) {
        g_autofree char *got = desk_format_percent(cases[i].num, cases[i].den);
        assert_string_equal(got, cases[i].want);
    }
}

static void test_label_prefix(void **state)
{
    assert_string_equal(desk_format_label("case status: registered"), "registered");
    assert_string_equal(desk_format_label("已登记"), "已登记");
    assert_string_equal(desk_format_label("县: 已签收"), "县: 已签收");
    assert_string_equal(desk_format_label(NULL), "");
}

static void test_stats_csv(void **state)
{
    Sanji__StatRow all = SANJI__STAT_ROW__INIT, t1 = SANJI__STAT_ROW__INIT;
    all.key = (char *)"410423000000";
    all.label = (char *)"鲁山县";
    all.total = 200;
    all.resolved = 197;
    all.satisfied = 150;
    all.basically_satisfied = 40;
    all.unsatisfied = 10;
    t1.key = (char *)"410423101000";
    t1.label = (char *)"张官营镇, \"东\"片";
    t1.total = 10;
    t1.resolved = 9;
    Sanji__StatRow *towns[] = {&t1};
    Sanji__Statistics s = SANJI__STATISTICS__INIT;
    s.all = &all;
    s.by_township = towns;
    s.n_by_township = 1;
    g_autofree char *csv = desk_format_stats_csv(&s);
    assert_true(g_str_has_prefix(csv, "\xEF\xBB\xBF"));
    g_auto(GStrv) lines = g_strsplit(csv, "\r\n", -1);
    assert_int_equal(g_strv_length(lines), 4); /* header, all, one township, "" */
    assert_non_null(strstr(lines[1], ",410423000000,鲁山县,200,197,0,0,0,150,40,10,0,98.5%,95.0%"));
    /* A comma and quotes in a name are quoted, not split. */
    assert_non_null(strstr(lines[2], ",\"张官营镇, \"\"东\"\"片\",10,9,"));
    assert_string_equal(lines[3], "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),       cmocka_unit_test(test_delivery),
        cmocka_unit_test(test_time_is_china_time), cmocka_unit_test(test_percent),
        cmocka_unit_test(test_label_prefix),  cmocka_unit_test(test_stats_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
