/*
 * test_server_migrate.c - the county schema against a real PostgreSQL 15:
 * migrations (empty database, twice, newer schema refused), the append-only
 * case history, and hostile text through parameterised statements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "migrate.h"
#include "pg_test.h"

typedef struct fx {
    PGconn *db;
    char conninfo[1024];
} fx;

static int setup(void **state)
{
    static int n;
    fx *f = calloc(1, sizeof(*f));
    char name[64];
    snprintf(name, sizeof(name), "t_migrate_%d", ++n);
    f->db = pgt_fresh_db(name, f->conninfo, sizeof(f->conninfo));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    PQfinish(f->db);
    free(f);
    return 0;
}

static void migrate_ok(PGconn *db)
{
    sj_error err;
    sj_error_clear(&err);
    int rc = countyd_migrate(db, NULL, NULL, &err);
    if (rc != 0)
        fail_msg("migrate: %s", err.message);
}

static void test_migrate_empty_database(void **state)
{
    fx *f = *state;
    sj_error err;
    int from = -1, to = -1, v = -1;
    assert_int_equal(countyd_migrate_version(f->db, &v, &err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(countyd_migrate(f->db, &from, &to, &err), 0);
    assert_int_equal(from, 0);
    assert_int_equal(to, countyd_migrate_latest());
    assert_true(countyd_migrate_latest() >= 1);
    /* One row per migration; their numbers need not follow each other. */
    assert_int_equal(pgt_count(f->db, "schema_version"), (long)countyd__n_migrations);
    /* Every table the server relies on is there. */
    static const char *const tables[] = {"org_unit", "node", "person", "catalogue_category",
                                         "catalogue_item", "holiday", "cases", "case_event",
                                         "feed", "feed_counter", "processed_message",
                                         "case_number_seq", "reference_version"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char q[128];
        snprintf(q, sizeof(q), "information_schema.tables WHERE table_name = '%s'", tables[i]);
        if (pgt_count(f->db, q) != 1)
            fail_msg("table %s missing after migrate", tables[i]);
    }
    assert_int_equal(countyd_migrate_check(f->db, &err), 0);
}

static void test_migrate_twice_is_harmless(void **state)
{
    fx *f = *state;
    sj_error err;
    migrate_ok(f->db);
    pgt_exec(f->db, "INSERT INTO org_unit (code, name, level) VALUES ('410423000000', '鲁山县', 3)");
    int from = -1, to = -1;
    assert_int_equal(countyd_migrate(f->db, &from, &to, &err), 0);
    assert_int_equal(from, countyd_migrate_latest());
    assert_int_equal(to, countyd_migrate_latest());
    /* One row per migration; their numbers need not follow each other. */
    assert_int_equal(pgt_count(f->db, "schema_version"), (long)countyd__n_migrations);
    assert_int_equal(pgt_count(f->db, "org_unit"), 1);
}

static void test_unmigrated_database_refused_by_check(void **state)
{
    fx *f = *state;
    sj_error err;
    sj_error_clear(&err);
    assert_int_equal(countyd_migrate_check(f->db, &err), SJ_EDB);
    assert_non_null(strstr(err.message, "migrate"));
}

static void test_newer_schema_refused(void **state)
{
    fx *f = *state;
    sj_error err;
    migrate_ok(f->db);
    char sql[128];
    snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version, name) VALUES (%d, 'future.sql')",
             countyd_migrate_latest() + 1);
    pgt_exec(f->db, sql);
    sj_error_clear(&err);
    assert_int_equal(countyd_migrate(f->db, NULL, NULL, &err), SJ_EDB_SCHEMA_NEWER);
    assert_int_equal(err.code, SJ_EDB_SCHEMA_NEWER);
    assert_non_null(strstr(err.message, "newer"));
    sj_error_clear(&err);
    assert_int_equal(countyd_migrate_check(f->db, &err), SJ_EDB_SCHEMA_NEWER);
    /* Nothing was touched. */
    assert_int_equal(pgt_count(f->db, "schema_version"), (long)countyd__n_migrations + 1);
}

/* A minimal case with one event, for the trigger and text tests. */
static void seed_case(PGconn *db)
{
    pgt_exec(db, "INSERT INTO org_unit (code, name, level, parent) VALUES"
                 " ('410423000000', '鲁山县', 3, NULL),"
                 " ('410423101000', '张官营镇', 2, '410423000000'),"
                 " ('410423101201', '前营村', 1, '410423101000')");
    pgt_exec(db, "INSERT INTO catalogue_category VALUES ('MZ', '民政救助')");
    pgt_exec(db, "INSERT INTO catalogue_item (code, category, name, min_level, department, limit_days)"
                 " VALUES ('MZ-001', 'MZ', '咨询', 1, '县民政局', 5)");
    pgt_exec(db, "INSERT INTO person (id, name, role, org_unit, verifier) VALUES"
                 " ('p1', '张三', 1, '410423101201', 'scrypt$16384$8$1$00$00')");
    pgt_exec(db, "INSERT INTO cases (case_id, village, item_code, item_name, item_min_level,"
                 " applicant_name, applicant_id_number, applicant_phone, request_text,"
                 " first_receiver, first_receiver_name, holder_level, holder_unit, status,"
                 " version, registered_at_ms, due_at_ms, updated_at_ms) VALUES"
                 " ('01890000-0000-7000-8000-000000000001', '410423101201', 'MZ-001', '咨询', 1,"
                 " '李四', '410423199001011234', '13800000000', 'x', 'p1', '张三', 1,"
                 " '410423101201', 1, 1, 0, 0, 0)");
    pgt_exec(db, "INSERT INTO case_event (case_id, seq, action, actor_level, actor_unit, at_ms,"
                 " recorded_at_ms, from_status, to_status) VALUES"
                 " ('01890000-0000-7000-8000-000000000001', 1, 1, 1, '410423101201', 0, 0, 0, 1)");
}

static void expect_refused(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) == PGRES_COMMAND_OK)
        fail_msg("expected the append-only trigger to refuse: %s", sql);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
    assert_non_null(strstr(PQresultErrorMessage(r), "append-only"));
    PQclear(r);
}

static void test_case_event_is_append_only(void **state)
{
    fx *f = *state;
    migrate_ok(f->db);
    seed_case(f->db);
    expect_refused(f->db, "UPDATE case_event SET note = 'changed'");
    expect_refused(f->db, "DELETE FROM case_event");
    expect_refused(f->db, "TRUNCATE case_event CASCADE");
    assert_int_equal(pgt_count(f->db, "case_event WHERE note = ''"), 1);
    /* Appending still works. */
    pgt_exec(f->db, "INSERT INTO case_event (case_id, seq, action, actor_level, actor_unit, at_ms,"
                    " recorded_at_ms, from_status, to_status) VALUES"
                    " ('01890000-0000-7000-8000-000000000001', 2, 11, 1, '410423101201', 0, 0, 1, 1)");
    assert_int_equal(pgt_count(f->db, "case_event"), 2);
}

/* Migration 0014 (好差评): the rectification columns start empty for a case
 * that was there before; satisfaction takes the five levels and nothing
 * else; the events take the actions up to 35 (RECTIFY_OVERDUE). */
static void test_haocha_columns(void **state)
{
    fx *f = *state;
    migrate_ok(f->db);
    seed_case(f->db);
    char *v = pgt_scalar(f->db, "SELECT rectify_due_at_ms || ' ' || rectified_at_ms || ' ' ||"
                                " called_back_at_ms || ' ' || rectify_late || ' ' || satisfaction"
                                " FROM cases");
    assert_string_equal(v, "0 0 0 false 0");
    free(v);
    pgt_exec(f->db, "UPDATE cases SET satisfaction = 5, rectify_due_at_ms = 1, rectify_late = true");
    PGresult *r = PQexec(f->db, "UPDATE cases SET satisfaction = 6");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
    PQclear(r);
    pgt_exec(f->db, "INSERT INTO case_event (case_id, seq, action, actor_level, actor_unit, at_ms,"
                    " recorded_at_ms, from_status, to_status, rectify_due_at_ms, rectify_late)"
                    " VALUES ('01890000-0000-7000-8000-000000000001', 2, 35, 3, '410423000000',"
                    " 0, 0, 9, 9, 1, true)");
    r = PQexec(f->db, "INSERT INTO case_event (case_id, seq, action, actor_level, actor_unit, at_ms,"
                      " recorded_at_ms, from_status, to_status) VALUES"
                      " ('01890000-0000-7000-8000-000000000001', 3, 36, 1, '410423101201', 0, 0,"
                      " 1, 1)");
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
    PQclear(r);
    assert_int_equal(pgt_count(f->db, "case_event WHERE action = 35 AND rectify_late"), 1);
}

static void test_hostile_text_round_trips(void **state)
{
    fx *f = *state;
    migrate_ok(f->db);
    seed_case(f->db);
    /* 10 KB of SQL metacharacters, quotes, backslashes, Chinese and a
     * 4-byte character, stored and read back through parameters. */
    static const char piece[] = "'); DROP TABLE cases; -- \"\\' $1 %s \\x00 ; 诉求 😀 \t\n";
    size_t plen = strlen(piece);
    char *big = malloc(10 * 1024 + plen + 1);
    size_t n = 0;
    while (n < 10 * 1024) {
        memcpy(big + n, piece, plen);
        n += plen;
    }
    big[n] = '\0';
    static const char *const samples[] = {"Robert'); DROP TABLE cases;--", "a\"b'c\\d", "$$ E'\\n' $$",
                                          "--", "/* */", "诉求内容：低保"};
    sj_error err;
    for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]) + 1; i++) {
        const char *text = i < sizeof(samples) / sizeof(samples[0]) ? samples[i] : big;
        const char *p[] = {text, "01890000-0000-7000-8000-000000000001"};
        int rc = countyd_db_exec(f->db, "UPDATE cases SET request_text = $1, applicant_name = $1"
                                        " WHERE case_id = $2", 2, p, &err);
        if (rc != 0)
            fail_msg("update: %s", err.message);
        PGresult *r;
        assert_int_equal(countyd_db_query(f->db, "SELECT request_text, applicant_name,"
                                                 " octet_length(request_text) FROM cases"
                                                 " WHERE case_id = $1", 1, p + 1, &r, &err), 0);
        assert_int_equal(PQntuples(r), 1);
        assert_string_equal(PQgetvalue(r, 0, 0), text);
        assert_string_equal(PQgetvalue(r, 0, 1), text);
        assert_int_equal(strtol(PQgetvalue(r, 0, 2), NULL, 10), (long)strlen(text));
        PQclear(r);
    }
    free(big);
    assert_int_equal(pgt_count(f->db, "cases"), 1);
}

static void test_db_error_carries_sqlstate(void **state)
{
    fx *f = *state;
    sj_error err;
    sj_error_clear(&err);
    char st[6];
    assert_int_equal(countyd_db_exec(f->db, "SELECT * FROM no_such_table", 0, NULL, &err), SJ_EDB);
    assert_string_equal(countyd_db_sqlstate(&err, st), "42P01");
    assert_non_null(strstr(err.message, "no_such_table"));
}

static void test_connect_failure_is_db_conn(void **state)
{
    sj_error err;
    PGconn *db = (PGconn *)1;
    assert_int_equal(countyd_db_connect("host=127.0.0.1 port=1 connect_timeout=2", &db, &err),
                     SJ_EDB_CONN);
    assert_null(db);
    assert_non_null(strstr(err.message, "database"));
}

/* Migration 0017: the history figures of the cases already there are
 * filled from their events.  The schema is brought to the version before
 * 0017 by the embedded migrations themselves, a history written, then
 * migrated. */
static void test_case_figures_backfilled(void **state)
{
    fx *f = *state;
    pgt_exec(f->db, "CREATE TABLE schema_version (version integer PRIMARY KEY,"
                    " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    for (size_t i = 0; i < countyd__n_migrations && countyd__migrations[i].version < 17; i++) {
        pgt_exec(f->db, countyd__migrations[i].sql);
        char q[128];
        snprintf(q, sizeof(q), "INSERT INTO schema_version (version, name) VALUES (%d, 'x')",
                 countyd__migrations[i].version);
        pgt_exec(f->db, q);
    }
    seed_case(f->db);
    /* Asked twice for an extension, approved once, a repeated request for
     * materials, resolved at 5000, returned by a 非常不满意 feedback,
     * resolved again at 9000 (at 7000 by the client's clock), a second
     * case with only a 不满意 feedback. */
    pgt_exec(f->db, "INSERT INTO cases (case_id, village, item_code, item_name, item_min_level,"
                    " applicant_name, applicant_id_number, applicant_phone, request_text,"
                    " first_receiver, first_receiver_name, holder_level, holder_unit, status,"
                    " version, registered_at_ms, due_at_ms, updated_at_ms) VALUES"
                    " ('01890000-0000-7000-8000-000000000002', '410423101201', 'MZ-001', '咨询', 1,"
                    " '李四', '410423199001011234', '13800000000', 'x', 'p1', '张三', 1,"
                    " '410423101201', 1, 1, 0, 0, 0)");
    pgt_exec(f->db,
             "INSERT INTO case_event (case_id, seq, action, actor_level, actor_unit, at_ms,"
             " recorded_at_ms, from_status, to_status, satisfaction, repeat_materials_request)"
             " SELECT '01890000-0000-7000-8000-000000000001', s, a, 1, '410423101201', t, t, 1,"
             " 1, sat, rep FROM (VALUES (2, 23, 1000, 0, false), (3, 23, 1100, 0, false),"
             " (4, 24, 1200, 0, false), (5, 5, 1300, 0, true), (6, 8, 5000, 0, false),"
             " (7, 12, 6000, 5, false), (8, 8, 9000, 0, false), (9, 8, 7000, 0, false))"
             " v(s, a, t, sat, rep)");
    pgt_exec(f->db, "INSERT INTO case_event (case_id, seq, action, actor_level, actor_unit, at_ms,"
                    " recorded_at_ms, from_status, to_status, satisfaction) VALUES"
                    " ('01890000-0000-7000-8000-000000000002', 1, 12, 1, '410423101201', 1, 1,"
                    " 7, 9, 3)");
    migrate_ok(f->db);
    char *v = pgt_scalar(f->db, "SELECT string_agg(concat_ws(' ', finished_event_at_ms,"
                                " repeat_requests, extensions_asked, extensions_approved,"
                                " feedback_unsatisfied, feedback_bad), ', ' ORDER BY case_id)"
                                " FROM cases");
    assert_string_equal(v, "9000 1 2 1 f t, 0 0 0 0 t t");
    free(v);
}

/* Migration 0018: a write of a case of a month that has ended marks that
 * China month for the statistics' roll-up; one of this month's does not
 * (this month is never kept counted). */
static void test_stats_months_marked(void **state)
{
    fx *f = *state;
    migrate_ok(f->db);
    seed_case(f->db); /* registered at 0: January 1970, month 0 */
    char *v = pgt_scalar(f->db, "SELECT string_agg(month::text, ',' ORDER BY month)"
                                " FROM stats_month_dirty");
    assert_string_equal(v, "0");
    free(v);
    pgt_exec(f->db, "DELETE FROM stats_month_dirty");
    /* 2025-11-30 23:30 and 2025-12-01 00:30 China time: November (670)
     * and December (671) of 2025, though the same UTC day; and one of now,
     * this month, not marked. */
    pgt_exec(f->db, "UPDATE cases SET urge_count = urge_count + 1");
    pgt_exec(f->db, "INSERT INTO cases (case_id, village, item_code, item_name, item_min_level,"
                    " applicant_name, applicant_id_number, applicant_phone, request_text,"
                    " first_receiver, first_receiver_name, holder_level, holder_unit, status,"
                    " version, registered_at_ms, due_at_ms, updated_at_ms) SELECT"
                    " ('01890000-0000-7000-8000-00000000000' || n)::uuid, '410423101201', 'MZ-001',"
                    " '咨询', 1, '李四', '410423199001011234', '13800000000', 'x', 'p1', '张三', 1,"
                    " '410423101201', 1, 1, t, 0, 0 FROM (VALUES (2, 1764516600000),"
                    " (3, 1764520200000), (4, 1764520200001),"
                    " (5, (extract(epoch FROM now()) * 1000)::bigint)) v(n, t)");
    v = pgt_scalar(f->db, "SELECT string_agg(month::text, ',' ORDER BY month)"
                          " FROM stats_month_dirty");
    assert_string_equal(v, "0,670,671");
    free(v);
    pgt_exec(f->db, "UPDATE cases SET urge_count = urge_count + 1"
                    " WHERE registered_at_ms > 1764520200001");
    v = pgt_scalar(f->db, "SELECT count(*) FROM stats_month_dirty");
    assert_string_equal(v, "3");
    free(v);
    /* Nothing is counted until asked. */
    assert_int_equal(pgt_count(f->db, "stats_month"), 0);
    assert_int_equal(pgt_count(f->db, "stats_month_state"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_empty_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_twice_is_harmless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmigrated_database_refused_by_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_event_is_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_haocha_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_figures_backfilled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_months_marked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_text_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_db_error_carries_sqlstate, setup, teardown),
        cmocka_unit_test(test_connect_failure_is_db_conn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
