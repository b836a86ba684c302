/*
 * test_server_password.c - a person's own password change (PasswordChange,
 * server/apply.c) and the administration functions a county desk uses
 * (server/admin.h with a verifier made elsewhere), on a real PostgreSQL 15
 * through the county's real apply path:
 *   - a change after a reset stores the verifier, clears
 *     must_change_password, is audited with the person and the node, raises
 *     the person version and goes down in the PersonSync;
 *   - a redelivery gets the stored result and changes nothing again;
 *   - refused: from another station, for a deactivated person, with a
 *     malformed verifier, and a change made before a newer reset;
 *   - the add and reset with a verifier check it and set the flag;
 *   - a county desk's AdminRequest (admin_req.h): refused for other nodes
 *     and for persons who are not active county operators there; applied
 *     through admin.h and audited with the operator and the desk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin.h"
#include "admin_req.h"
#include "apply.h"
#include "apply_fixture.h"
#include "arena.h"
#include "clock.h"
#include "password.h"
#include "pg_test.h"
#include "refdata.h"

#define VA AFT_VA
#define VB AFT_VB

static const countyd_peer P_VA = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VA, "village:" VA};
static const countyd_peer P_VB = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VB, "village:" VB};
static const countyd_admin_by CLI = {"管理员", NULL};

#define T0 1794790800000LL /* 2026-11-16 09:00 China time */

static int setup(void **state)
{
    aft_county *f = calloc(1, sizeof(*f));
    aft_open(f, "t_passwd", NULL, NULL, T0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    aft_county *f = *state;
    if (f) {
        aft_close(f);
        free(f);
    }
    return 0;
}

static void make(const char *password, char v[SJ_PASSWORD_VERIFIER_SIZE])
{
    sj_error err;
    if (sj_password_make(password, v, SJ_PASSWORD_VERIFIER_SIZE, &err) != 0)
        fail_msg("%s", err.message);
}

static countyd_apply_msg change_msg(aft_county *f, const countyd_peer *peer,
                                    Sanji__PasswordChange *pc, const char *person,
                                    const char *verifier, int64_t at)
{
    sanji__password_change__init(pc);
    pc->person = (char *)person;
    pc->new_verifier = (char *)verifier;
    pc->changed_at_ms = at;
    countyd_apply_msg m = aft_msg(f, peer, NULL, NULL);
    m.password = pc;
    return m;
}

static void expect(aft_county *f, const char *sql, const char *want)
{
    char *got = pgt_scalar(f->db, sql);
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: got %s, want %s", sql, got ? got : "(null)", want);
    free(got);
}

/* The PersonSync of village A says whether pa must change the password. */
static bool synced_must_change(aft_county *f, const char *person, char *verifier, size_t cap)
{
    countyd_arena a;
    countyd_arena_init(&a);
    Sanji__PersonSync *ps = NULL;
    sj_error err;
    if (countyd_refdata_persons(f->db, &a, VA, 1, &ps, &err) != 0)
        fail_msg("%s", err.message);
    bool must = false, found = false;
    for (size_t i = 0; i < ps->n_persons; i++)
        if (strcmp(ps->persons[i]->id, person) == 0) {
            found = true;
            must = ps->persons[i]->must_change_password;
            snprintf(verifier, cap, "%s", ps->persons[i]->verifier);
        }
    countyd_arena_free(&a);
    assert_true(found);
    return must;
}

static void test_change_after_reset(void **state)
{
    aft_county *f = *state;
    sj_error err;
    char synced[SJ_PASSWORD_VERIFIER_SIZE];
    assert_int_equal(countyd_admin_person_reset_password(f->db, &CLI, "pa", "One-time-1", &err), 0);
    expect(f, "SELECT must_change_password::text FROM person WHERE id = 'pa'", "true");
    assert_true(synced_must_change(f, "pa", synced, sizeof synced));
    assert_int_equal(sj_password_verify("One-time-1", synced, &err), 0);
    char *before = pgt_scalar(f->db, "SELECT version FROM reference_version WHERE name = 'person'");

    char v[SJ_PASSWORD_VERIFIER_SIZE];
    make("Neues-Pass-2", v);
    Sanji__PasswordChange pc;
    sj_clock_set_fake_now_ms(T0 + 60000);
    countyd_apply_msg m = change_msg(f, &P_VA, &pc, "pa", v, T0 + 30000);
    countyd_apply_result r = aft_run1(f, &m);
    if (r.status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
        fail_msg("refused: %s %s", sj_err_name(r.code), r.reason);
    expect(f, "SELECT must_change_password::text FROM person WHERE id = 'pa'", "false");
    assert_false(synced_must_change(f, "pa", synced, sizeof synced));
    assert_string_equal(synced, v);
    assert_int_equal(sj_password_verify("Neues-Pass-2", synced, &err), 0);
    expect(f,
           "SELECT operator || ' ' || node || ' ' || command FROM admin_audit"
           " WHERE target = 'pa' ORDER BY id DESC LIMIT 1",
           "pa village:" VA " person change-password");
    /* Neither the password nor the verifier is in the audit. */
    assert_int_equal(pgt_count(f->db, "admin_audit WHERE new_value LIKE '%scrypt%'"
                                      " OR old_value LIKE '%scrypt%'"),
                     0);
    char *after = pgt_scalar(f->db, "SELECT version FROM reference_version WHERE name = 'person'");
    assert_true(atoll(after) > atoll(before));
    free(before);
    free(after);

    /* A redelivery (the relay resends before it got the Ack): the stored
     * result, nothing applied twice. */
    long audits = pgt_count(f->db, "admin_audit WHERE target = 'pa'");
    countyd_apply_result again = aft_run1(f, &m);
    assert_int_equal(again.status, SANJI__ACK_STATUS__ACK_STATUS_APPLIED);
    assert_true(again.redelivered);
    assert_int_equal(pgt_count(f->db, "admin_audit WHERE target = 'pa'"), audits);
}

static void test_refusals(void **state)
{
    aft_county *f = *state;
    sj_error err;
    char v[SJ_PASSWORD_VERIFIER_SIZE];
    make("Anderes-Pass-3", v);
    char *stored = pgt_scalar(f->db, "SELECT verifier FROM person WHERE id = 'pa'");
    Sanji__PasswordChange pc;

    /* From another village's station: not a person who logs in there. */
    countyd_apply_msg m = change_msg(f, &P_VB, &pc, "pa", v, T0 + 40000);
    countyd_apply_result r = aft_run1(f, &m);
    assert_int_equal(r.status, SANJI__ACK_STATUS__ACK_STATUS_REFUSED);
    assert_int_equal(r.code, SJ_EUNKNOWN_PERSON);

    /* A malformed verifier. */
    m = change_msg(f, &P_VA, &pc, "pa", "scrypt$1$2", T0 + 40000);
    r = aft_run1(f, &m);
    assert_int_equal(r.code, SJ_EBAD_FIELD);

    /* A change made before a newer reset at the county: the reset wins. */
    sj_clock_set_fake_now_ms(T0 + 120000);
    assert_int_equal(countyd_admin_person_reset_password(f->db, &CLI, "pa", "One-time-4", &err), 0);
    m = change_msg(f, &P_VA, &pc, "pa", v, T0 + 90000);
    r = aft_run1(f, &m);
    assert_int_equal(r.code, SJ_ESTALE_VERSION);
    expect(f, "SELECT must_change_password::text FROM person WHERE id = 'pa'", "true");
    char *now = pgt_scalar(f->db, "SELECT verifier FROM person WHERE id = 'pa'");
    assert_string_not_equal(now, v);
    assert_string_not_equal(now, stored);
    free(now);
    free(stored);

    /* A deactivated person changes no password. */
    bool changed;
    assert_int_equal(countyd_admin_person_set_active(f->db, &CLI, "pb", false, &changed, &err), 0);
    sj_clock_set_fake_now_ms(T0 + 180000);
    m = change_msg(f, &P_VB, &pc, "pb", v, T0 + 170000);
    r = aft_run1(f, &m);
    assert_int_equal(r.code, SJ_EUNKNOWN_PERSON);
    expect(f, "SELECT (verifier = 'scrypt$x')::text FROM person WHERE id = 'pb'", "true");
}

static void test_admin_with_verifier(void **state)
{
    aft_county *f = *state;
    sj_error err;
    char v[SJ_PASSWORD_VERIFIER_SIZE];
    make("Desk-made-5x", v);
    const countyd_admin_by desk = {"co", "county-desk:" AFT_CO};
    countyd_admin_person p = {.name = "新干部", .role = "village_cadre", .unit = VA};
    assert_int_equal(countyd_admin_person_add_verifier(f->db, &desk, "pn", &p, v, &err), 0);
    expect(f, "SELECT must_change_password::text FROM person WHERE id = 'pn'", "true");
    char *stored = pgt_scalar(f->db, "SELECT verifier FROM person WHERE id = 'pn'");
    assert_string_equal(stored, v);
    free(stored);
    expect(f,
           "SELECT operator || ' ' || node || ' ' || command FROM admin_audit"
           " WHERE target = 'pn'",
           "co county-desk:" AFT_CO " person add");
    assert_int_equal(
        countyd_admin_person_reset_verifier(f->db, &desk, "pn", "not-a-verifier", &err), SJ_EINVAL);
    assert_int_equal(countyd_admin_person_add_verifier(f->db, &desk, "pn2", &p, "", &err),
                     SJ_EINVAL);
    assert_int_equal(pgt_count(f->db, "person WHERE id = 'pn2'"), 0);
}

static int ask(aft_county *f, const char *node_id, Sanji__AdminRequest *req, bool *changed)
{
    sj_identity node;
    sj_error err;
    if (sj_identity_parse_node_id(node_id, &node, &err) != 0)
        fail_msg("%s", err.message);
    int rc = countyd_admin_request(f->db, &node, req, changed, &err);
    if (rc != 0)
        assert_true(err.message[0] != '\0'); /* a reason for the desk */
    return rc;
}

static void test_admin_request(void **state)
{
    aft_county *f = *state;
    bool changed;
    Sanji__AdminRequest req = SANJI__ADMIN_REQUEST__INIT;
    req.op = SANJI__ADMIN_OP__ADMIN_OP_PERSON_DEACTIVATE;
    req.target = "pa";
    req.actor_person = "co";
    /* Not a county desk, or not a county operator: refused, nothing changed. */
    assert_int_equal(ask(f, "township-desk:" AFT_TX, &req, &changed), SJ_ENOT_ADMIN);
    req.actor_person = "tx";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &req, &changed), SJ_ENOT_ADMIN);
    req.actor_person = "nobody";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &req, &changed), SJ_ENOT_ADMIN);
    expect(f, "SELECT active::text FROM person WHERE id = 'pa'", "true");

    /* The county operator at the county desk. */
    req.actor_person = "co";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &req, &changed), 0);
    assert_true(changed);
    expect(f, "SELECT active::text FROM person WHERE id = 'pa'", "false");
    expect(f,
           "SELECT operator || ' ' || node || ' ' || command || ' ' || new_value"
           " FROM admin_audit WHERE target = 'pa' ORDER BY id DESC LIMIT 1",
           "co county-desk:" AFT_CO " person deactivate active=no");
    /* Again: nothing to change. */
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &req, &changed), 0);
    assert_false(changed);
    /* Not themselves. */
    req.target = "co";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &req, &changed), SJ_EINVAL);

    /* A new person with the desk's verifier; the same checks as the CLI. */
    char v[SJ_PASSWORD_VERIFIER_SIZE];
    make("Desk-made-6x", v);
    Sanji__AdminRequest add = SANJI__ADMIN_REQUEST__INIT;
    add.op = SANJI__ADMIN_OP__ADMIN_OP_PERSON_ADD;
    add.actor_person = "co";
    add.target = "pq";
    add.name = "新村干部";
    add.role = "township_staff"; /* a village unit: refused */
    add.unit = VA;
    add.new_verifier = v;
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &add, &changed), SJ_EINVAL);
    add.role = "village_cadre";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &add, &changed), 0);
    expect(f, "SELECT name || ' ' || must_change_password::text FROM person WHERE id = 'pq'",
           "新村干部 true");

    /* Edited with every field as the desk shows them; reset with a verifier. */
    Sanji__AdminRequest ed = SANJI__ADMIN_REQUEST__INIT;
    ed.op = SANJI__ADMIN_OP__ADMIN_OP_PERSON_EDIT;
    ed.actor_person = "co";
    ed.target = "pq";
    ed.name = "新村干部甲";
    ed.role = "village_cadre";
    ed.unit = VA;
    ed.department = "";
    ed.stand_in = "";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &ed, &changed), 0);
    assert_true(changed);
    expect(f, "SELECT name FROM person WHERE id = 'pq'", "新村干部甲");
    expect(f,
           "SELECT operator || ' ' || command FROM admin_audit WHERE target = 'pq'"
           " ORDER BY id DESC LIMIT 1",
           "co person edit");
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &ed, &changed), 0);
    assert_false(changed);
    char v2[SJ_PASSWORD_VERIFIER_SIZE];
    make("Desk-reset-7x", v2);
    Sanji__AdminRequest rs = SANJI__ADMIN_REQUEST__INIT;
    rs.op = SANJI__ADMIN_OP__ADMIN_OP_PERSON_RESET_PASSWORD;
    rs.actor_person = "co";
    rs.target = "pq";
    rs.new_verifier = v2;
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &rs, &changed), 0);
    char *stored = pgt_scalar(f->db, "SELECT verifier FROM person WHERE id = 'pq'");
    assert_string_equal(stored, v2);
    free(stored);

    /* Departments and items. */
    Sanji__AdminRequest d = SANJI__ADMIN_REQUEST__INIT;
    d.op = SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_ADD;
    d.actor_person = "co";
    d.target = "zjj";
    d.name = "县住建局";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &d, &changed), 0);
    expect(f, "SELECT name || ' ' || active::text FROM department WHERE code = 'zjj'",
           "县住建局 true");
    d.op = SANJI__ADMIN_OP__ADMIN_OP_ITEM_RETIRE;
    d.target = "V-1";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &d, &changed), 0);
    expect(f, "SELECT active::text FROM catalogue_item WHERE code = 'V-1'", "false");
    d.op = SANJI__ADMIN_OP__ADMIN_OP_ITEM_RESTORE;
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &d, &changed), 0);
    expect(f, "SELECT active::text FROM catalogue_item WHERE code = 'V-1'", "true");
    /* The item given to the department just added. */
    d.op = SANJI__ADMIN_OP__ADMIN_OP_ITEM_DEPARTMENT;
    d.department = "zjj";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &d, &changed), 0);
    assert_true(changed);
    expect(f, "SELECT department FROM catalogue_item WHERE code = 'V-1'", "县住建局");
    d.department = "nosuch";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &d, &changed), SJ_ENOTFOUND);
    d.department = NULL;
    d.op = SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_DEACTIVATE;
    d.target = "zjj";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &d, &changed), 0);
    expect(f, "SELECT active::text FROM department WHERE code = 'zjj'", "false");
    d.op = SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_EDIT;
    d.name = "县住房和城乡建设局";
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &d, &changed), 0);
    expect(f, "SELECT name FROM department WHERE code = 'zjj'", "县住房和城乡建设局");
    d.op = (Sanji__AdminOp)99;
    assert_int_equal(ask(f, "county-desk:" AFT_CO, &d, &changed), SJ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change_after_reset),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_admin_with_verifier),
        cmocka_unit_test(test_admin_request),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
