/*
 * apply_fixture.c - a county database ready for the apply path (see
 * apply_fixture.h).
 */
#include "apply_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "migrate.h"
#include "pg_test.h"

void aft_open(aft_county *f, const char *prefix, const char *holiday_values,
              const char *extra_sql, int64_t now_ms)
{
    static int n;
    memset(f, 0, sizeof(*f));
    char name[64];
    snprintf(name, sizeof(name), "%s_%d_%d", prefix, (int)getpid(), ++n);
    f->db = pgt_fresh_db(name, f->conninfo, sizeof(f->conninfo));
    sj_error err;
    if (countyd_migrate(f->db, NULL, NULL, &err) != 0)
        fail_msg("migrate: %s", err.message);
    pgt_exec(f->db, "INSERT INTO org_unit (code, name, level, parent) VALUES"
                    " ('" AFT_CO "', '鲁山县', 3, NULL), ('" AFT_TX "', '张官营镇', 2, '" AFT_CO "'),"
                    " ('" AFT_TY "', '下汤镇', 2, '" AFT_CO "'), ('" AFT_VA "', '甲村', 1, '" AFT_TX "'),"
                    " ('" AFT_VB "', '乙村', 1, '" AFT_TX "'), ('" AFT_VC "', '丙村', 1, '" AFT_TY "')");
    pgt_exec(f->db, "INSERT INTO catalogue_category VALUES ('MZ', '民政救助')");
    pgt_exec(f->db, "INSERT INTO catalogue_item (code, category, name, min_level, department,"
                    " limit_days, urgent_limit_days) VALUES"
                    " ('V-1', 'MZ', '咨询', 1, '县民政局', 1, 0),"
                    " ('T-1', 'MZ', '证明', 2, '县民政局', 5, 2),"
                    " ('C-1', 'MZ', '低保', 3, '县民政局', 20, 10)");
    pgt_exec(f->db, "INSERT INTO person (id, name, role, org_unit, verifier) VALUES"
                    " ('pa', '甲干部', 1, '" AFT_VA "', 'scrypt$x'), ('pb', '乙干部', 1, '" AFT_VB "', 'scrypt$x'),"
                    " ('tx', '镇员X', 2, '" AFT_TX "', 'scrypt$x'), ('ty', '镇员Y', 2, '" AFT_TY "', 'scrypt$x'),"
                    " ('co', '县员', 3, '" AFT_CO "', 'scrypt$x')");
    pgt_exec(f->db, "INSERT INTO department (code, name, active) VALUES ('mzj', '县民政局', true),"
                    " ('rsj', '县人社局', true), ('old', '县老干局', false)");
    pgt_exec(f->db, "INSERT INTO person (id, name, role, org_unit, verifier, department) VALUES"
                    " ('dm', '民政员', 4, '" AFT_CO "', 'scrypt$x', 'mzj'),"
                    " ('dr', '人社员', 4, '" AFT_CO "', 'scrypt$x', 'rsj')");
    if (holiday_values) {
        char sql[2048];
        snprintf(sql, sizeof(sql), "INSERT INTO holiday VALUES %s", holiday_values);
        pgt_exec(f->db, sql);
    }
    if (extra_sql)
        pgt_exec(f->db, extra_sql);
    sj_clock_set_fake_now_ms(now_ms);
    if (countyd_apply_open(&f->ap, f->db, "410423", &err) != 0)
        fail_msg("apply_open: %s", err.message);
    snprintf(f->id_number, sizeof(f->id_number), "41042319900101123%c",
             sj_personal_id_check_char("41042319900101123"));
}

void aft_close(aft_county *f)
{
    countyd_apply_close(&f->ap);
    PQfinish(f->db);
    f->db = NULL;
    sj_clock_set_fake_offset_ms(0);
}

void aft_case_id(uint8_t out[16], int n)
{
    memset(out, 0, 16);
    out[0] = 0x01;
    out[6] = 0x70;
    out[15] = (uint8_t)n;
}

countyd_apply_msg aft_msg(aft_county *f, const countyd_peer *peer, const Sanji__CaseSubmit *s,
                          const Sanji__CaseAction *a)
{
    countyd_apply_msg m = {.peer = peer, .submit = s, .action = a};
    m.message_id[0] = 0xAA;
    m.message_id[6] = 0x70;
    m.message_id[15] = ++f->next_mid;
    return m;
}

countyd_apply_result aft_run1(aft_county *f, const countyd_apply_msg *m)
{
    countyd_apply_result r;
    sj_error err;
    sj_error_clear(&err);
    if (countyd_apply_batch(&f->ap, m, 1, &r, &err) != 0)
        fail_msg("apply_batch: %s", err.message);
    return r;
}

void aft_applied(aft_county *f, const countyd_peer *peer, const Sanji__CaseSubmit *s,
                 const Sanji__CaseAction *a)
{
    countyd_apply_msg m = aft_msg(f, peer, s, a);
    countyd_apply_result r = aft_run1(f, &m);
    if (r.status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
        fail_msg("expected APPLIED, got %s: %s", sj_err_name(r.code), r.reason);
}

void aft_register(aft_county *f, int n, const countyd_peer *peer, const char *person,
                  const char *item, const char *applicant, int64_t when)
{
    sj_clock_set_fake_now_ms(when);
    Sanji__CaseSubmit s = SANJI__CASE_SUBMIT__INIT;
    Sanji__Applicant a = SANJI__APPLICANT__INIT;
    uint8_t id[16];
    aft_case_id(id, n);
    s.case_id.data = id;
    s.case_id.len = 16;
    s.village = (char *)peer->unit;
    s.item_code = (char *)item;
    a.name = (char *)applicant;
    a.id_number = f->id_number;
    a.phone = "13800138000";
    s.applicant = &a;
    s.request_text = "申请办理";
    s.actor_person = (char *)person;
    s.registered_at_ms = when;
    aft_applied(f, peer, &s, NULL);
}
