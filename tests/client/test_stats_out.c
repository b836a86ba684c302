/*
 * test_stats_out.c - client/stats_out.c: the one column list of the
 * period statistics (table, CSV, workbook): every row's cells in column
 * order with rates as percentages and counts whole, CSV with its
 * byte-order mark, a heading line, quoting of a label holding a comma or a
 * quote, the total last; the workbook a zip holding its three sheets; a
 * workbook that cannot be written refused with a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stats_out.h"

static Sanji__PeriodStatRow rows[2], total;
static Sanji__PeriodStatRow *row_ptrs[2];
static Sanji__PeriodStatistics stats;

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        sanji__period_stat_row__init(&rows[i]);
        row_ptrs[i] = &rows[i];
    }
    sanji__period_stat_row__init(&total);
    rows[0].key = "410423101000";
    rows[0].label = "张官营镇";
    rows[0].registered = 7;
    rows[0].withdrawn = 1;
    rows[0].finished = 6;
    rows[0].finish_rate = 1.0;
    rows[0].avg_working_days = 2.25;
    rows[0].p90_working_days = 5;
    rows[1].key = "x";
    rows[1].label = "a, \"b\"";
    rows[1].registered = 3;
    rows[1].finished = 2;
    rows[1].finish_rate = 2.0 / 3;
    total.key = "";
    total.label = "ALL";
    total.registered = 10;
    total.supervised = 4;
    sanji__period_statistics__init(&stats);
    stats.rows = row_ptrs;
    stats.n_rows = 2;
    stats.total = &total;
    stats.scope = "410423000000";
    stats.department = "";
    stats.group_by = SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP;
    stats.from_ms = 1793462400000; /* 2026-11-01 00:00 China time */
    stats.to_ms = 1796054400000;   /* 2026-12-01 00:00 */
    return 0;
}

static void test_cells(void **state)
{
    (void)state;
    size_t n = sc_stats_columns();
    assert_true(n >= 27);
    char cell[64];
    sc_stats_cell(&rows[0], 0, cell, sizeof cell);
    assert_string_equal(cell, "张官营镇");
    sc_stats_cell(&rows[0], 1, cell, sizeof cell);
    assert_string_equal(cell, "410423101000");
    /* Find the columns by their values: every figure has its own. */
    bool seen_rate = false, seen_days = false, seen_p90 = false, seen_registered = false;
    for (size_t c = 2; c < n; c++) {
        sc_stats_cell(&rows[0], c, cell, sizeof cell);
        seen_rate |= strcmp(cell, "100.0%") == 0;
        seen_days |= strcmp(cell, "2.2") == 0 || strcmp(cell, "2.3") == 0;
        seen_p90 |= strcmp(cell, "5") == 0;
        seen_registered |= strcmp(cell, "7") == 0;
        assert_true(sc_stats_heading(c)[0] != '\0');
    }
    assert_true(seen_rate && seen_days && seen_p90 && seen_registered);
    sc_stats_cell(&rows[1], 8, cell, sizeof cell);
    assert_string_equal(cell, "66.7%");
    sc_stats_cell(&rows[0], n, cell, sizeof cell); /* past the last column */
    assert_string_equal(cell, "");
    char period[64];
    sc_stats_period_text(&stats, period, sizeof period);
    assert_string_equal(period, "2026-11-01 – 2026-11-30");
}

static void test_csv(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(sc_stats_write_csv(f, &stats, NULL), 0);
    fclose(f);
    assert_memory_equal(buf, "\xEF\xBB\xBF", 3);
    /* A heading line, two rows, the total: four lines. */
    int lines = 0;
    for (const char *p = buf; (p = strstr(p, "\r\n")); p += 2)
        lines++;
    assert_int_equal(lines, 4);
    /* The heading has one field per column. */
    size_t commas = 0;
    for (const char *p = buf; *p && *p != '\r'; p++)
        commas += *p == ',';
    assert_int_equal(commas + 1, sc_stats_columns());
    assert_non_null(strstr(buf, "\r\n\"a, \"\"b\"\"\",x,3,"));
    assert_non_null(strstr(buf, "\r\nALL,,10,"));
    free(buf);
}

static void test_xlsx(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_stats_out.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/s.xlsx", dir);
    sj_error err;
    assert_int_equal(sc_stats_write_xlsx(path, &stats, &err), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char zip[1 << 18];
    size_t n = fread(zip, 1, sizeof zip, f);
    fclose(f);
    assert_memory_equal(zip, "PK\x03\x04", 4);
    const char *parts[] = {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
                           "xl/worksheets/sheet3.xml"};
    for (size_t i = 0; i < 3; i++)
        assert_non_null(memmem(zip, n, parts[i], strlen(parts[i])));
    unlink(path);
    /* A folder that does not exist: refused, with a reason. */
    snprintf(path, sizeof path, "%s/no/such/s.xlsx", dir);
    assert_int_equal(sc_stats_write_xlsx(path, &stats, &err), SJ_EIO);
    assert_true(err.message[0] != '\0');
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_xlsx),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
