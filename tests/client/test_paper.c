/*
 * test_paper.c - the villager's papers (client/paper.h): what the 受理回执
 * and the 一次性告知单 say, checked as text, and the PDFs they make, read
 * back with pdftotext and rendered with pdftoppm (poppler-utils):
 *   - a receipt carries the number, item, applicant, request, dates, the
 *     time limit, the first receiver and the station's phone, and never
 *     the ID number or the phone whole;
 *   - a case the county has not recorded yet says so instead of a number
 *     and a due date, and shows the number once the county's Ack gave it;
 *   - a notice lists every missing material and who asked; a case not
 *     waiting for materials has no notice, with a reason;
 *   - the PDF is one A4 page whose text is the paper's (Chinese, through
 *     the catalogue), and an unwritable path is refused with the path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "clock.h"
#include "i18n.h"
#include "paper.h"
#include "personal.h"

#define ID_STEM "41042319580312002"
#define PHONE "13837512345"

typedef struct fx {
    Sanji__Case cs;
    Sanji__Applicant a;
    Sanji__CaseEvent ev;
    char id_number[SJ_PERSONAL_ID_SIZE];
    uint8_t case_id[16];
    char *materials[3];
    char dir[64];
    sc_paper_input in;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    sanji__case__init(&f->cs);
    sanji__applicant__init(&f->a);
    sanji__case_event__init(&f->ev);
    snprintf(f->id_number, sizeof f->id_number, "%s%c", ID_STEM, sj_personal_id_check_char(ID_STEM));
    f->a.name = "王秀英";
    f->a.id_number = f->id_number;
    f->a.phone = PHONE;
    memset(f->case_id, 0, 16);
    f->case_id[0] = 0x01;
    f->case_id[6] = 0x70;
    f->case_id[15] = 0x2a;
    f->cs.case_id.data = f->case_id;
    f->cs.case_id.len = 16;
    f->cs.number = "410423-20261123-00012";
    f->cs.village = "410423101201";
    f->cs.item_code = "MZ-003";
    f->cs.item_name = "城乡低保申请";
    f->cs.applicant = &f->a;
    f->cs.request_text = "家中无劳动力，申请低保";
    f->cs.first_receiver_name = "张干部";
    f->cs.status = SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP;
    assert_int_equal(sj_clock_parse_iso("2026-11-23T10:05:00+08:00", &f->cs.registered_at_ms, NULL), 0);
    assert_int_equal(sj_clock_parse_iso("2026-12-21T17:30:00+08:00", &f->cs.due_at_ms, NULL), 0);
    f->cs.limit_days = 20;
    f->materials[0] = "户口簿";
    f->materials[1] = "收入证明";
    f->materials[2] = "残疾证复印件";
    f->ev.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS;
    f->ev.actor_name = "李镇员";
    f->ev.actor_unit = "410423101000";
    assert_int_equal(sj_clock_parse_iso("2026-11-24T09:00:00+08:00", &f->ev.at_ms, NULL), 0);
    f->in = (sc_paper_input){.cs = &f->cs, .county_name = "鲁山县", .township_name = "张官营镇",
                             .village_name = "甲村", .station_phone = "0375-5012345",
                             .limit_days = 20};
    assert_int_equal(sj_clock_parse_iso("2026-11-24T09:30:00+08:00", &f->in.printed_at_ms, NULL), 0);
    snprintf(f->dir, sizeof f->dir, "/tmp/sanji-paper-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Every row, the intro, the list, the closing and the footer, one per line. */
static void paper_text(const sc_paper *p, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s\n%s\n", p->issuer, p->title);
    for (size_t i = 0; i < p->n_rows && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s: %s\n", p->rows[i].label, p->rows[i].value);
    for (size_t i = 0; i < p->n_list && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "- %s\n", p->list[i]);
    if (n < cap)
        snprintf(out + n, cap - n, "%s\n%s\n%s\n", p->intro, p->closing, p->footer);
}

static void expect_in(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("\"%s\" is not on the paper:\n%s", want, text);
}

static void expect_not_in(const char *text, const char *unwanted)
{
    if (strstr(text, unwanted))
        fail_msg("\"%s\" must not be on the paper:\n%s", unwanted, text);
}

static void test_receipt_says_what_the_villager_needs(void **state)
{
    fx *f = *state;
    static sc_paper p;
    static char text[32768];
    sj_error err;
    assert_int_equal(sc_paper_make(&f->in, SC_PAPER_RECEIPT, &p, &err), 0);
    paper_text(&p, text, sizeof text);
    expect_in(text, "鲁山县张官营镇甲村便民服务站");
    expect_in(text, "受理回执");
    expect_in(text, "410423-20261123-00012");
    expect_in(text, "城乡低保申请");
    expect_in(text, "王秀英");
    expect_in(text, "家中无劳动力，申请低保");
    expect_in(text, "2026年11月23日 10:05");
    expect_in(text, "20 个工作日");
    expect_in(text, "2026年12月21日");
    expect_in(text, "张干部");
    expect_in(text, "0375-5012345");
    /* The masks, never the whole numbers. */
    char mid[SJ_PERSONAL_MASK_SIZE], mph[SJ_PERSONAL_MASK_SIZE];
    assert_int_equal(sj_personal_mask_id(f->id_number, mid, sizeof mid), 0);
    assert_int_equal(sj_personal_mask_phone(PHONE, mph, sizeof mph), 0);
    expect_in(text, mid);
    expect_in(text, mph);
    expect_not_in(text, f->id_number);
    expect_not_in(text, PHONE);
    expect_not_in(text, ID_STEM);
}

static void test_receipt_of_a_case_not_yet_recorded(void **state)
{
    fx *f = *state;
    static sc_paper p;
    static char text[32768];
    f->cs.number = "";
    f->cs.due_at_ms = 0;
    f->in.station_phone = "";
    sj_error err;
    assert_int_equal(sc_paper_make(&f->in, SC_PAPER_RECEIPT, &p, &err), 0);
    paper_text(&p, text, sizeof text);
    expect_in(text, "县里记录后生成（登记号 01000000）");
    expect_in(text, "承诺办结日期: 县里记录后确定");
    expect_not_in(text, "服务站电话");
    expect_in(text, "打印时间：2026年11月24日 09:30");
    /* The county's Ack gave the number before its feed brought the case. */
    f->in.number = "410423-20261123-00013";
    assert_int_equal(sc_paper_make(&f->in, SC_PAPER_RECEIPT, &p, &err), 0);
    paper_text(&p, text, sizeof text);
    expect_in(text, "事项编号: 410423-20261123-00013");
    expect_not_in(text, "登记号");
}

static void test_notice_lists_every_material(void **state)
{
    fx *f = *state;
    static sc_paper p;
    static char text[32768];
    sj_error err;
    /* Not waiting for materials: no notice. */
    assert_int_equal(sc_paper_make(&f->in, SC_PAPER_NOTICE, &p, &err), SJ_EINVAL);
    expect_in(err.message, "没有待补材料");
    f->cs.status = SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS;
    f->cs.materials = f->materials;
    f->cs.n_materials = 3;
    f->in.last_request = &f->ev;
    f->in.request_unit_name = "张官营镇";
    assert_int_equal(sc_paper_make(&f->in, SC_PAPER_NOTICE, &p, &err), 0);
    assert_int_equal(p.n_list, 3);
    paper_text(&p, text, sizeof text);
    expect_in(text, "一次性告知单");
    expect_in(text, "- 户口簿\n- 收入证明\n- 残疾证复印件\n");
    expect_in(text, "张官营镇 李镇员");
    expect_in(text, "2026年11月24日 09:00");
    expect_in(text, "一次告知，不再另行要求");
    expect_in(text, "共 20 个工作日");
    expect_not_in(text, f->id_number);
}

/* Runs cmd; returns its whole output, malloc'ed. */
static char *output_of(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0;
    char *buf = calloc(1, cap);
    size_t got;
    while (n + 1 < cap && (got = fread(buf + n, 1, cap - 1 - n, p)) > 0)
        n += got;
    int st = pclose(p);
    if (st != 0)
        fail_msg("%s: exit status %d", cmd, st);
    return buf;
}

static void test_pdf_holds_the_paper(void **state)
{
    fx *f = *state;
    static sc_paper p;
    sj_error err;
    f->cs.status = SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS;
    f->cs.materials = f->materials;
    f->cs.n_materials = 3;
    f->in.last_request = &f->ev;
    assert_int_equal(sc_paper_make(&f->in, SC_PAPER_NOTICE, &p, &err), 0);
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/notice.pdf", f->dir);
    assert_int_equal(sc_paper_write_pdf(&p, path, &err), 0);
    snprintf(cmd, sizeof cmd, "%s.tmp", path);
    assert_int_not_equal(access(cmd, F_OK), 0); /* renamed into place */

    snprintf(cmd, sizeof cmd, "pdfinfo %s", path);
    char *info = output_of(cmd);
    const char *pages = strstr(info, "Pages:");
    assert_non_null(pages);
    assert_int_equal(atoi(pages + strlen("Pages:")), 1);
    expect_in(info, "595 x 842 pts (A4)");
    free(info);
    /* The text as a reader finds it (pdftotext keeps reading order). */
    snprintf(cmd, sizeof cmd, "pdftotext -enc UTF-8 %s -", path);
    char *text = output_of(cmd);
    expect_in(text, "一次性告知单");
    expect_in(text, "鲁山县张官营镇甲村便民服务站");
    expect_in(text, "410423-20261123-00012");
    expect_in(text, "1. 户口簿");
    expect_in(text, "3. 残疾证复印件");
    expect_in(text, "0375-5012345");
    expect_not_in(text, PHONE);
    free(text);
    /* Rendered: a page with ink on it. */
    snprintf(cmd, sizeof cmd, "pdftoppm -r 50 -gray %s %s/page", path, f->dir);
    free(output_of(cmd));
    snprintf(cmd, sizeof cmd, "%s/page-1.pgm", f->dir);
    FILE *img = fopen(cmd, "rb");
    assert_non_null(img);
    int w = 0, h = 0, maxv = 0;
    assert_int_equal(fscanf(img, "P5 %d %d %d", &w, &h, &maxv), 3);
    fgetc(img);
    long dark = 0, total = 0;
    int c;
    while ((c = fgetc(img)) != EOF) {
        total++;
        dark += c < 128;
    }
    fclose(img);
    assert_int_equal(total, (long)w * h);
    assert_true(dark > total / 1000); /* text was drawn */
    assert_true(dark < total / 4);    /* on a white page */
    /* SANJI_PAPER_KEEP=DIR keeps the page as DIR/paper-notice.png (for
     * docs/screenshots). */
    const char *keep = getenv("SANJI_PAPER_KEEP");
    if (keep && *keep) {
        snprintf(cmd, sizeof cmd, "pdftoppm -r 60 -png -singlefile %s %s/paper-notice", path, keep);
        free(output_of(cmd));
    }
}

static void test_unwritable_path_refused(void **state)
{
    fx *f = *state;
    static sc_paper p;
    sj_error err;
    assert_int_equal(sc_paper_make(&f->in, SC_PAPER_RECEIPT, &p, &err), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/no-such-folder/receipt.pdf", f->dir);
    assert_int_equal(sc_paper_write_pdf(&p, path, &err), SJ_EIO);
    expect_in(err.message, "no-such-folder");
    expect_in(err.message, "--output");
}

int main(void)
{
    /* Chinese, whatever the machine's locale (i18n.h). */
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
    sj_i18n_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_receipt_says_what_the_villager_needs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receipt_of_a_case_not_yet_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_lists_every_material, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pdf_holds_the_paper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_path_refused, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* Pango's and cairo's font caches live until they are dropped; dropped
     * here so that LeakSanitizer sees only what the papers themselves left. */
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    return failed;
}
