/*
 * test_bulletin.c - the 通报 and the 台账 as files (client/bulletin.h,
 * client/ledger.h, client/doc.c, client/chart.c) from answers of known
 * figures, read back the way an office reads them:
 *   - the 通报's PDF: pdftotext finds the title (scope, period, 代办工作通报),
 *     the period's dates, the summary's figures, every table's rows, the
 *     chart titles and a page number on every page; pdftoppm renders every
 *     page with ink on it;
 *   - the 通报's workbook: one sheet per table (概况, 按乡镇, 按村, 按部门,
 *     按类别, 按办理类型, 满意度, 月度趋势, 说明), the figures in the sheets;
 *   - the trend is the twelve months up to the period's end, a quarter's
 *     included; an unanswered bulletin and a bad period are refused;
 *   - the 台账's PDF and workbook: every row with its masked name, result,
 *     satisfaction and dates, page numbers on every page of a long month,
 *     and no ID number or phone.
 * The real tiers' 通报 and 台账 (scope per asker) are in
 * tests/e2e/test_stats_e2e.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bulletin.h"
#include "i18n.h"
#include "ledger.h"

static char dir[] = "/tmp/test_bulletin.XXXXXX";

static char *output_of(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, n = 0, got;
    char *buf = calloc(1, cap);
    while (n + 1 < cap && (got = fread(buf + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    int st = pclose(p);
    if (st != 0)
        fail_msg("%s: exit status %d", cmd, st);
    return buf;
}

static void expect_in(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("\"%s\" not found in:\n%.2000s", want, text);
}

/* Whether page pg's number and the count of pages ("第pg页 共pages页") are
 * in text, however pdftotext spaced them. */
static bool has_page_number(const char *text, int pg, int pages)
{
    char *flat = calloc(1, strlen(text) + 1), *o = flat;
    for (const char *p = text; *p; p++)
        if (*p != ' ')
            *o++ = *p;
    char num[32];
    snprintf(num, sizeof num, "第%d页共%d页", pg, pages);
    bool found = strstr(flat, num) != NULL;
    free(flat);
    return found;
}

static void expect_not_in(const char *text, const char *unwanted)
{
    if (strstr(text, unwanted))
        fail_msg("\"%s\" should not be in:\n%s", unwanted, text);
}

/* The last page of the PDF at path, on its own, says "第M页 共M页" with M
 * its count of pages from pdfinfo. */
static void expect_last_page_count(const char *path, int pages)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 -f %d -l %d '%s' -", pages, pages, path);
    char *text = output_of(cmd);
    if (!has_page_number(text, pages, pages))
        fail_msg("the last page does not say page %d of %d:\n%.2000s", pages, pages, text);
    free(text);
}

/* A heap copy of a result holding s, as the link delivers answers. */
static Sanji__QueryResult *answer(Sanji__PeriodStatistics *s)
{
    Sanji__QueryResult r = SANJI__QUERY_RESULT__INIT;
    r.result_case = SANJI__QUERY_RESULT__RESULT_PERIOD_STATISTICS;
    r.period_statistics = s;
    size_t n = sanji__query_result__get_packed_size(&r);
    uint8_t *buf = malloc(n);
    sanji__query_result__pack(&r, buf);
    Sanji__QueryResult *out = sanji__query_result__unpack(NULL, n, buf);
    free(buf);
    return out;
}

typedef struct rowspec {
    const char *key, *label;
    unsigned registered, finished, satisfied, unsatisfied;
} rowspec;

/* Statistics of the rows given, their total added up. */
static Sanji__QueryResult *stats_of(Sanji__StatGroup g, const rowspec *spec, size_t n,
                                    int64_t from, int64_t to)
{
    Sanji__PeriodStatRow rows[16], total = SANJI__PERIOD_STAT_ROW__INIT;
    Sanji__PeriodStatRow *ptrs[16];
    total.key = "";
    total.label = "";
    for (size_t i = 0; i < n; i++) {
        sanji__period_stat_row__init(&rows[i]);
        ptrs[i] = &rows[i];
        rows[i].key = (char *)spec[i].key;
        rows[i].label = (char *)spec[i].label;
        rows[i].registered = spec[i].registered;
        rows[i].finished = spec[i].finished;
        rows[i].open = spec[i].registered - spec[i].finished;
        rows[i].finish_rate = spec[i].registered ? (double)spec[i].finished / spec[i].registered : 0;
        rows[i].satisfied = spec[i].satisfied;
        rows[i].unsatisfied = spec[i].unsatisfied;
        total.registered += spec[i].registered;
        total.finished += spec[i].finished;
        total.open += spec[i].registered - spec[i].finished;
        total.satisfied += spec[i].satisfied;
        total.unsatisfied += spec[i].unsatisfied;
    }
    total.finish_rate = total.registered ? (double)total.finished / total.registered : 0;
    total.satisfaction_rate = total.satisfied + total.unsatisfied
                                  ? (double)total.satisfied / (total.satisfied + total.unsatisfied)
                                  : 0;
    total.avg_working_days = 2.5;
    total.overdue_now = 3;
    Sanji__PeriodStatistics s = SANJI__PERIOD_STATISTICS__INIT;
    s.rows = ptrs;
    s.n_rows = n;
    s.total = &total;
    s.scope = "410423000000";
    s.department = "";
    s.group_by = g;
    s.from_ms = from;
    s.to_ms = to;
    s.computed_at_ms = to + 3600000;
    return answer(&s);
}

#define NOV_FROM 1793462400000LL /* 2026-11-01 00:00 China time */
#define NOV_TO 1796054400000LL   /* 2026-12-01 00:00 */

/* A county's November: two townships, villages (one with nothing to do),
 * departments, categories, handling types; the months of the trend. */
static void fill(sc_bulletin *b)
{
    static const rowspec towns[] = {{"410423101000", "张官营镇", 30, 27, 20, 1},
                                    {"410423102000", "辛集乡", 12, 6, 4, 2}};
    static const rowspec villages[] = {{"410423101201", "甲村", 18, 17, 12, 0},
                                       {"410423101202", "乙村", 12, 10, 8, 1},
                                       {"410423102201", "丙村", 12, 6, 4, 2}};
    static const rowspec depts[] = {{"", "未派单", 35, 30, 20, 2}, {"mzj", "民政局", 7, 3, 4, 1}};
    static const rowspec cats[] = {{"MZ", "民政救助", 25, 20, 14, 2}, {"HJ", "户籍办理", 17, 13, 10, 1}};
    static const rowspec handling[] = {{"0", "未办结", 9, 0, 0, 0}, {"1", "即办", 20, 20, 15, 1},
                                       {"2", "承办", 8, 8, 5, 1}, {"3", "代办", 4, 4, 4, 1},
                                       {"5", "退办", 1, 1, 0, 0}};
    sj_error err;
    assert_int_equal(sc_bulletin_take(b, SC_BULLETIN_TOWNSHIP,
                                      stats_of(SANJI__STAT_GROUP__STAT_GROUP_TOWNSHIP, towns, 2,
                                               NOV_FROM, NOV_TO), &err), 0);
    assert_int_equal(sc_bulletin_take(b, SC_BULLETIN_VILLAGE,
                                      stats_of(SANJI__STAT_GROUP__STAT_GROUP_VILLAGE, villages, 3,
                                               NOV_FROM, NOV_TO), &err), 0);
    assert_int_equal(sc_bulletin_take(b, SC_BULLETIN_DEPARTMENT,
                                      stats_of(SANJI__STAT_GROUP__STAT_GROUP_DEPARTMENT, depts, 2,
                                               NOV_FROM, NOV_TO), &err), 0);
    assert_int_equal(sc_bulletin_take(b, SC_BULLETIN_CATEGORY,
                                      stats_of(SANJI__STAT_GROUP__STAT_GROUP_CATEGORY, cats, 2,
                                               NOV_FROM, NOV_TO), &err), 0);
    assert_false(sc_bulletin_ready(b));
    assert_int_equal(sc_bulletin_take(b, SC_BULLETIN_HANDLING,
                                      stats_of(SANJI__STAT_GROUP__STAT_GROUP_HANDLING, handling, 5,
                                               NOV_FROM, NOV_TO), &err), 0);
    for (size_t k = 0; k < SC_BULLETIN_MONTHS; k++) {
        rowspec m = {"", "", (unsigned)(10 + k), (unsigned)(8 + k), 0, 0};
        assert_int_equal(sc_bulletin_take(b, SC_BULLETIN_PARTS + k,
                                          stats_of(SANJI__STAT_GROUP__STAT_GROUP_NONE, &m, 1,
                                                   NOV_FROM, NOV_TO), &err), 0);
    }
    assert_true(sc_bulletin_ready(b));
    snprintf(b->scope_name, sizeof b->scope_name, "%s", "鲁山县");
    /* The tree's villages: 丁村 has no cases (grey in the grid). */
    static const char *codes[] = {"410423101201", "410423101202", "410423101203", "410423102201"};
    static const char *names[] = {"甲村", "乙村", "丁村", "丙村"};
    b->villages = calloc(4, sizeof *b->villages);
    for (size_t i = 0; i < 4; i++) {
        b->villages[i].code = strdup(codes[i]);
        b->villages[i].name = strdup(names[i]);
    }
    b->n_villages = 4;
}

static void test_questions(void **state)
{
    (void)state;
    sc_bulletin b;
    sj_error err;
    assert_int_equal(sc_bulletin_init(&b, true, "2026Q4", &err), 0);
    assert_string_equal(b.period_name, "2026年第4季度");
    /* The trend ends with the quarter's last month. */
    assert_string_equal(b.month_at[SC_BULLETIN_MONTHS - 1], "2026-12");
    assert_string_equal(b.month_at[0], "2026-01");
    assert_int_equal(b.q[SC_BULLETIN_VILLAGE].group_by, SANJI__STAT_GROUP__STAT_GROUP_VILLAGE);
    assert_int_equal(b.q[SC_BULLETIN_VILLAGE].period, SANJI__STAT_PERIOD__STAT_PERIOD_QUARTER);
    assert_string_equal(b.q[SC_BULLETIN_PARTS].at, "2026-01");
    assert_int_equal(b.q[SC_BULLETIN_PARTS].period, SANJI__STAT_PERIOD__STAT_PERIOD_MONTH);
    sc_bulletin_free(&b);
    assert_int_equal(sc_bulletin_init(&b, false, "2026-01", &err), 0);
    assert_string_equal(b.month_at[0], "2025-02");
    assert_string_equal(b.period_name, "2026年1月");
    /* Not answered yet: refused. */
    char path[256];
    snprintf(path, sizeof path, "%s/none.pdf", dir);
    assert_int_equal(sc_bulletin_write_pdf(&b, path, &err), SJ_EINVAL);
    assert_int_not_equal(access(path, F_OK), 0);
    sc_bulletin_free(&b);
    assert_int_equal(sc_bulletin_init(&b, false, "2026-13", &err), SJ_EINVAL);
    sc_bulletin_free(&b);
}

static void test_bulletin_pdf(void **state)
{
    (void)state;
    sc_bulletin b;
    sj_error err;
    assert_int_equal(sc_bulletin_init(&b, false, "2026-11", &err), 0);
    fill(&b);
    /* The grid: the tree's villages in code order, 丁村 with nothing to do. */
    const char *names[8];
    double rates[8];
    bool has[8];
    assert_int_equal(sc_bulletin_grid(&b, names, rates, has, 8), 4);
    assert_string_equal(names[2], "丁村");
    assert_false(has[2]);
    assert_true(has[0]);
    char path[256], cmd[1200];
    snprintf(path, sizeof path, "%s/通报.pdf", dir);
    if (sc_bulletin_write_pdf(&b, path, &err) != 0)
        fail_msg("%s", err.message);
    snprintf(cmd, sizeof cmd, "pdfinfo '%s'", path);
    char *info = output_of(cmd);
    const char *p = strstr(info, "Pages:");
    assert_non_null(p);
    int pages = atoi(p + 6);
    assert_true(pages >= 2);
    free(info);
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' -", path);
    char *text = output_of(cmd);
    expect_in(text, "鲁山县2026年11月代办工作通报");
    expect_in(text, "2026-11-01 – 2026-11-30");
    /* The summary: 42 registered, 33 finished, 78.6%. */
    expect_in(text, "本期共登记诉求 42 件");
    expect_in(text, "已办结 33 件");
    expect_in(text, "78.6%");
    expect_in(text, "当前超期 3 件");
    const char *want[] = {"一、总体情况", "张官营镇", "辛集乡", "甲村", "丙村", "丁村", "民政局",
                          "户籍办理", "即办", "退办", "近12个月登记与办结", "各乡镇办结率",
                          "办理方式构成", "满意度构成", "各村办结率", "各部门办结率", "2025-12", "未评价"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        expect_in(text, want[i]);
    for (int pg = 1; pg <= pages; pg++)
        if (!has_page_number(text, pg, pages))
            fail_msg("no number on page %d of %d", pg, pages);
    free(text);
    expect_last_page_count(path, pages);
    /* Every page rendered, with ink. */
    snprintf(cmd, sizeof cmd, "pdftoppm -r 30 -gray '%s' %s/b", path, dir);
    free(output_of(cmd));
    for (int pg = 1; pg <= pages; pg++) {
        snprintf(cmd, sizeof cmd, "%s/b-%d.pgm", dir, pg);
        FILE *img = fopen(cmd, "rb");
        if (!img)
            fail_msg("page %d not rendered (%s)", pg, cmd);
        int w = 0, h = 0, maxv = 0;
        assert_int_equal(fscanf(img, "P5 %d %d %d", &w, &h, &maxv), 3);
        fgetc(img);
        long dark = 0;
        int c;
        while ((c = fgetc(img)) != EOF)
            dark += c < 128;
        fclose(img);
        assert_true(dark > 100);
        unlink(cmd);
    }
    const char *keep = getenv("SANJI_PAPER_KEEP");
    if (keep && *keep) {
        snprintf(cmd, sizeof cmd, "pdftoppm -r 60 -png -singlefile '%s' %s/bulletin", path, keep);
        free(output_of(cmd));
    }
    unlink(path);
    sc_bulletin_free(&b);
}

static void test_bulletin_xlsx(void **state)
{
    (void)state;
    sc_bulletin b;
    sj_error err;
    assert_int_equal(sc_bulletin_init(&b, false, "2026-11", &err), 0);
    fill(&b);
    char path[256], cmd[1200];
    snprintf(path, sizeof path, "%s/b.xlsx", dir);
    if (sc_bulletin_write_xlsx(&b, path, &err) != 0)
        fail_msg("%s", err.message);
    snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/workbook.xml", path);
    char *wb = output_of(cmd);
    const char *sheets[] = {"概况", "按乡镇", "按村", "按部门", "按类别", "按办理", "满意度",
                            "月度趋势", "说明"};
    for (size_t i = 0; i < sizeof sheets / sizeof sheets[0]; i++)
        expect_in(wb, sheets[i]);
    free(wb);
    snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/sharedStrings.xml", path);
    char *strings = output_of(cmd);
    expect_in(strings, "张官营镇");
    expect_in(strings, "丙村");
    expect_in(strings, "民政局");
    expect_in(strings, "鲁山县2026年11月代办工作通报");
    expect_in(strings, "2026-11-01 – 2026-11-30");
    free(strings);
    /* The sheet by township (the second): 张官营镇's 30 and 27, the total 42. */
    snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/worksheets/sheet2.xml", path);
    char *sheet = output_of(cmd);
    expect_in(sheet, "<v>30</v>");
    expect_in(sheet, "<v>27</v>");
    expect_in(sheet, "<v>42</v>");
    free(sheet);
    /* The trend (the eighth): November's 21 registered, 19 finished. */
    snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/worksheets/sheet8.xml", path);
    sheet = output_of(cmd);
    expect_in(sheet, "<v>21</v>");
    expect_in(sheet, "<v>19</v>");
    free(sheet);
    unlink(path);
    snprintf(path, sizeof path, "%s/no/such/b.xlsx", dir);
    assert_int_equal(sc_bulletin_write_xlsx(&b, path, &err), SJ_EIO);
    sc_bulletin_free(&b);
}

static void ledger_of(sc_ledger *l, size_t n)
{
    memset(l, 0, sizeof *l);
    snprintf(l->at, sizeof l->at, "2026-11");
    snprintf(l->period_name, sizeof l->period_name, "2026年11月");
    snprintf(l->unit_name, sizeof l->unit_name, "鲁山县张官营镇甲村");
    l->rows = calloc(n ? n : 1, sizeof *l->rows);
    l->n = n;
    l->made_at_ms = 1796054400000LL + 9 * 3600000LL; /* 2026-12-01 09:00 */
    for (size_t i = 0; i < n; i++) {
        sc_ledger_row *r = &l->rows[i];
        snprintf(r->number, sizeof r->number, "410423-20261105-%05zu", i + 1);
        snprintf(r->date, sizeof r->date, "2026-11-05");
        snprintf(r->applicant, sizeof r->applicant, "%s", i % 2 ? "王**" : "张*");
        snprintf(r->item, sizeof r->item, "城乡居民最低生活保障申请");
        snprintf(r->handling, sizeof r->handling, "%s", i % 2 ? "承办" : "即办");
        snprintf(r->status, sizeof r->status, "已办结");
        snprintf(r->result, sizeof r->result, "已按规定办理，结果第%zu号", i + 1);
        snprintf(r->finished, sizeof r->finished, "2026-11-%02zu", 6 + i % 20);
        snprintf(r->satisfaction, sizeof r->satisfaction, "满意");
    }
}

static void test_ledger_files(void **state)
{
    (void)state;
    sc_ledger l;
    ledger_of(&l, 60); /* more than a page */
    sj_error err;
    char path[256], cmd[1200];
    snprintf(path, sizeof path, "%s/l.pdf", dir);
    if (sc_ledger_write_pdf(&l, path, &err) != 0)
        fail_msg("%s", err.message);
    const char *keep = getenv("SANJI_PAPER_KEEP");
    if (keep && *keep) {
        snprintf(cmd, sizeof cmd, "pdftoppm -r 60 -png -singlefile '%s' %s/ledger", path, keep);
        free(output_of(cmd));
    }
    snprintf(cmd, sizeof cmd, "pdfinfo '%s'", path);
    char *info = output_of(cmd);
    expect_in(info, "842 x 595 pts"); /* A4 across */
    int pages = atoi(strstr(info, "Pages:") + 6);
    assert_true(pages >= 2);
    free(info);
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' -", path);
    char *text = output_of(cmd);
    expect_in(text, "鲁山县张官营镇甲村2026年11月代办台账");
    expect_in(text, "共 60 件");
    expect_in(text, "2026-12-01 09:00");
    expect_in(text, "410423-20261105-00001");
    expect_in(text, "410423-20261105-00060");
    expect_in(text, "王**");
    expect_in(text, "结果第60号");
    expect_in(text, "受理编号");
    for (int pg = 1; pg <= pages; pg++)
        if (!has_page_number(text, pg, pages))
            fail_msg("no number on page %d of %d", pg, pages);
    free(text);
    expect_last_page_count(path, pages);
    snprintf(cmd, sizeof cmd, "pdftoppm -r 30 -gray -f 1 -l 1 '%s' %s/l", path, dir);
    free(output_of(cmd));
    snprintf(cmd, sizeof cmd, "%s/l-1.pgm", dir);
    if (access(cmd, F_OK) != 0) {
        snprintf(cmd, sizeof cmd, "%s/l-01.pgm", dir);
        assert_int_equal(access(cmd, F_OK), 0);
    }
    unlink(cmd);
    unlink(path);
    snprintf(path, sizeof path, "%s/l.xlsx", dir);
    assert_int_equal(sc_ledger_write_xlsx(&l, path, &err), 0);
    snprintf(cmd, sizeof cmd, "unzip -p '%s' xl/sharedStrings.xml", path);
    char *strings = output_of(cmd);
    expect_in(strings, "410423-20261105-00060");
    expect_in(strings, "结果第60号");
    expect_in(strings, "办结日期");
    free(strings);
    unlink(path);
    sc_ledger_free(&l);
    /* An empty month: a page that says so. */
    ledger_of(&l, 0);
    snprintf(path, sizeof path, "%s/empty.pdf", dir);
    assert_int_equal(sc_ledger_write_pdf(&l, path, &err), 0);
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 '%s' -", path);
    text = output_of(cmd);
    expect_in(text, "本月没有登记的诉求");
    expect_not_in(text, "410423-2026");
    free(text);
    unlink(path);
    sc_ledger_free(&l);
}

static int setup(void **state)
{
    (void)state;
    /* Chinese, whatever the machine's locale (i18n.h). */
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
    sj_i18n_init(NULL);
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_questions),
        cmocka_unit_test(test_bulletin_pdf),
        cmocka_unit_test(test_bulletin_xlsx),
        cmocka_unit_test(test_ledger_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
