/*
 * test_replication.c - the "beyond one machine" path of docs/SCALING.md on
 * loopback, with real PostgreSQL 15 clusters of its own (never the shared
 * fixture cluster): a county published to a province by logical
 * replication, and a synchronous streaming standby promoted on failover.
 *
 * The county is migrated and loaded with the real `sanji-countyd migrate`
 * and `demo-load deploy/demo`; cases are made by the county's own apply
 * path (countyd_apply_batch).  The SQL run on the county (reporting role),
 * on the province (schema) and the province report are taken from the
 * blocks of docs/SCALING.md, so the page says what is tested.
 *
 * The tests run in order and share the clusters (cmocka group): each one
 * checks one behaviour of the path built by the ones before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "apply.h"
#include "migrate.h"
#include "clock.h"
#include "personal.h"
#include "proc.h"

#define COUNTY "410423"
#define VILLAGE "410423001001"        /* 南关社区 in deploy/demo */
#define CADRE "p-410423001001-01"     /* one of its village cadres */
#define ITEM "MZ-001"                 /* a village-level item (即办) */
#define PHONE "13912345678"

static const countyd_peer P_V = {SANJI__NODE_ROLE__NODE_ROLE_VILLAGE, VILLAGE, "village:" VILLAGE};

static char county_dir[64], province_dir[64], standby_dir[64];
static char county_ci[256], province_ci[256], standby_ci[256];
static int county_port, standby_port;
static PGconn *county, *province; /* as the owner "sanji" */
static char id_number[SJ_PERSONAL_ID_SIZE];
static uint8_t next_mid;

/* ---- helpers ------------------------------------------------------------------- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static const char *src_dir(void)
{
    const char *s = getenv("SANJI_SOURCE_DIR");
    return s ? s : ".";
}

static const char *build_dir(void)
{
    const char *s = getenv("SANJI_BUILD_DIR");
    return s ? s : ".";
}

static int read_conninfo(const char *dir, char *out, size_t cap, int *port)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/conninfo", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    const char *p = strstr(out, "port=");
    *port = p ? atoi(p + 5) : 0;
    return *port > 0 ? 0 : -1;
}

static PGconn *connect_as(const char *conninfo, const char *user)
{
    char ci[512];
    /* A later keyword in a conninfo overrides an earlier one. */
    snprintf(ci, sizeof(ci), "%s%s%s", conninfo, user ? " user=" : "", user ? user : "");
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("cannot connect to %s: %s", ci, PQerrorMessage(c));
    return c;
}

static void exec_sql(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %.200s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* First column of the first row, malloc'ed ("" for NULL or no row). */
static char *scalar(PGconn *db, const char *sql)
{
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("SQL failed: %.200s: %s", sql, PQresultErrorMessage(r));
    char *v = strdup(PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return v;
}

static long count(PGconn *db, const char *from_where)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", from_where);
    char *v = scalar(db, sql);
    long n = strtol(v, NULL, 10);
    free(v);
    return n;
}

/* Waits until `sql` on db yields `want`; fails with both sides only at the
 * hang deadline (SJ_TEST_HANG_MS): replication on a loaded machine is late,
 * not wrong. */
static void wait_for(PGconn *db, const char *sql, const char *want)
{
    char *got = NULL;
    for (int i = 0; i < SJ_TEST_HANG_MS / 100; i++) {
        free(got);
        got = scalar(db, sql);
        if (strcmp(got, want) == 0) {
            free(got);
            return;
        }
        usleep(100 * 1000);
    }
    fail_msg("after %d ms, %s gives \"%s\", want \"%s\"", SJ_TEST_HANG_MS, sql, got, want);
}

/* The SQL block after the line "<!-- sql:NAME -->" of docs/SCALING.md,
 * malloc'ed. */
static char *doc_sql(const char *name)
{
    char path[512], marker[128], line[1024];
    snprintf(path, sizeof(path), "%s/docs/SCALING.md", src_dir());
    snprintf(marker, sizeof(marker), "<!-- sql:%s -->", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    size_t cap = 16384, len = 0;
    char *out = calloc(1, cap);
    int state = 0; /* 0 before the marker, 1 before the fence, 2 inside */
    while (fgets(line, sizeof(line), f)) {
        if (state == 0 && strncmp(line, marker, strlen(marker)) == 0)
            state = 1;
        else if (state == 1 && strncmp(line, "```sql", 6) == 0)
            state = 2;
        else if (state == 2 && strncmp(line, "```", 3) == 0)
            break;
        else if (state == 2) {
            size_t n = strlen(line);
            assert_true(len + n < cap);
            memcpy(out + len, line, n + 1);
            len += n;
        }
    }
    fclose(f);
    if (len == 0)
        fail_msg("docs/SCALING.md has no SQL block after %s", marker);
    return out;
}

static void case_id(uint8_t out[16], int n)
{
    memset(out, 0, 16);
    out[0] = 0x01;
    out[6] = 0x70;
    out[8] = 0x80;
    out[15] = (uint8_t)n;
}

static char *case_uuid_text(int n, char *buf, size_t cap)
{
    snprintf(buf, cap, "01000000-0000-7000-8000-0000000000%02x", n);
    return buf;
}

/* Applies one message on db through the county's apply path; returns the
 * apply_batch return code and fills *r. */
static int apply_on(PGconn *db, const Sanji__CaseSubmit *s, const Sanji__CaseAction *a,
                    countyd_apply_result *r, sj_error *err)
{
    countyd_apply ap;
    int rc = countyd_apply_open(&ap, db, COUNTY, err);
    if (rc != 0)
        return rc;
    countyd_apply_msg m = {.peer = &P_V, .submit = s, .action = a};
    m.message_id[0] = 0xBB;
    m.message_id[6] = 0x70;
    m.message_id[8] = 0x80;
    m.message_id[15] = ++next_mid;
    rc = countyd_apply_batch(&ap, &m, 1, r, err);
    countyd_apply_close(&ap);
    return rc;
}

static void expect_applied(int rc, const countyd_apply_result *r, const sj_error *err,
                           uint64_t version)
{
    if (rc != 0)
        fail_msg("apply_batch: %s: %s", sj_err_name(rc), err->message);
    if (r->status != SANJI__ACK_STATUS__ACK_STATUS_APPLIED)
        fail_msg("expected APPLIED, got status %d code %s: %s", r->status, sj_err_name(r->code),
                 r->reason);
    assert_int_equal(r->case_version, version);
}

static int submit_on(PGconn *db, int n, countyd_apply_result *r, sj_error *err)
{
    Sanji__CaseSubmit s = SANJI__CASE_SUBMIT__INIT;
    Sanji__Applicant a = SANJI__APPLICANT__INIT;
    uint8_t id[16];
    case_id(id, n);
    s.case_id.data = id;
    s.case_id.len = 16;
    s.village = VILLAGE;
    s.item_code = ITEM;
    a.name = "王秀英";
    a.id_number = id_number;
    a.phone = PHONE;
    s.applicant = &a;
    s.request_text = "咨询低保政策，住址南关社区三组";
    s.actor_person = CADRE;
    s.registered_at_ms = sj_clock_real_ms();
    return apply_on(db, &s, NULL, r, err);
}

static void submit(int n)
{
    countyd_apply_result r;
    sj_error err;
    sj_error_clear(&err);
    int rc = submit_on(county, n, &r, &err);
    expect_applied(rc, &r, &err, 1);
}

static void act(int n, Sanji__CaseActionType type, uint64_t expected, Sanji__Satisfaction sat)
{
    Sanji__CaseAction a = SANJI__CASE_ACTION__INIT;
    uint8_t id[16];
    case_id(id, n);
    a.case_id.data = id;
    a.case_id.len = 16;
    a.action = type;
    a.expected_version = expected;
    a.actor_person = CADRE;
    a.acted_at_ms = sj_clock_real_ms();
    /* Each action with its own fields (common/domain/case.h). */
    unsigned takes = sj_case_action_fields((sj_case_action)type);
    a.result = takes & SJ_CASE_FIELD_RESULT ? "已当场答复政策" : "";
    a.satisfaction = takes & SJ_CASE_FIELD_SATISFACTION ? sat : 0;
    countyd_apply_result r;
    sj_error err;
    sj_error_clear(&err);
    int rc = apply_on(county, NULL, &a, &r, &err);
    expect_applied(rc, &r, &err, expected + 1);
}

/* ---- set-up: county (logical), province with a subscription ------------------------ */

static int group_setup(void **state)
{
    (void)state;
    sj_error err;
    int64_t now;
    /* A fixed day in 2026, so that the report's period is known. */
    if (sj_clock_parse_iso("2026-04-30T10:00:00+08:00", &now, &err) != 0)
        return -1;
    sj_clock_set_fake_now_ms(now);
    snprintf(id_number, sizeof(id_number), "41042319850312002%c",
             sj_personal_id_check_char("41042319850312002"));
    snprintf(county_dir, sizeof(county_dir), "/tmp/sanji-repl-county-XXXXXX");
    snprintf(province_dir, sizeof(province_dir), "/tmp/sanji-repl-province-XXXXXX");
    snprintf(standby_dir, sizeof(standby_dir), "/tmp/sanji-repl-standby-XXXXXX");
    if (!mkdtemp(county_dir) || !mkdtemp(province_dir) || !mkdtemp(standby_dir))
        return -1;
    if (sh("%s/tests/lib/pg_cluster.sh start %s >/dev/null", src_dir(), county_dir) != 0 ||
        sh("%s/tests/lib/pg_cluster.sh start %s >/dev/null", src_dir(), province_dir) != 0 ||
        sh("%s/tests/lib/pg_replica.sh logical %s", src_dir(), county_dir) != 0)
        return -1;
    int pport;
    if (read_conninfo(county_dir, county_ci, sizeof(county_ci), &county_port) != 0 ||
        read_conninfo(province_dir, province_ci, sizeof(province_ci), &pport) != 0)
        return -1;
    if (sh("%s/server/sanji-countyd --database '%s' migrate >/dev/null 2>&1", build_dir(),
           county_ci) != 0 ||
        sh("%s/server/sanji-countyd --database '%s' demo-load %s/deploy/demo >/dev/null", build_dir(),
           county_ci, src_dir()) != 0) {
        fprintf(stderr, "sanji-countyd migrate/demo-load failed on %s\n", county_ci);
        return -1;
    }
    county = connect_as(county_ci, NULL);
    province = connect_as(province_ci, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (county)
        PQfinish(county);
    if (province) {
        /* The subscription's slot lives on the county; drop the
         * subscription first, then the clusters. */
        PGconn *su = connect_as(province_ci, "postgres");
        PGresult *r = PQexec(su, "DROP SUBSCRIPTION IF EXISTS county_410423");
        PQclear(r);
        PQfinish(su);
        PQfinish(province);
    }
    sh("%s/tests/lib/pg_replica.sh stop %s >/dev/null 2>&1", src_dir(), standby_dir);
    sh("%s/tests/lib/pg_cluster.sh stop %s >/dev/null 2>&1", src_dir(), province_dir);
    sh("%s/tests/lib/pg_cluster.sh stop %s >/dev/null 2>&1", src_dir(), county_dir);
    sj_clock_set_fake_offset_ms(0);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------- */

/* The documented role, schema and subscription: the initial copy brings the
 * cases made before the subscription, their events, the org tree and the
 * catalogue. */
static void test_initial_copy_reaches_province(void **state)
{
    (void)state;
    submit(1);
    submit(2);
    submit(3);
    PGconn *csu = connect_as(county_ci, "postgres");
    char *role = doc_sql("county-role");
    exec_sql(csu, role);
    free(role);
    PQfinish(csu);
    char *schema = doc_sql("province-schema");
    exec_sql(province, schema);
    free(schema);
    PGconn *psu = connect_as(province_ci, "postgres");
    char sql[512];
    snprintf(sql, sizeof(sql),
             "CREATE SUBSCRIPTION county_410423 CONNECTION 'host=127.0.0.1 port=%d dbname=sanji"
             " user=sanji_report' PUBLICATION sanji_report", county_port);
    exec_sql(psu, sql);
    PQfinish(psu);
    wait_for(province, "SELECT count(*) = 5 AND bool_and(srsubstate = 'r') FROM pg_subscription_rel",
             "t");
    static const char *tables[] = {"cases", "case_event", "org_unit", "catalogue_item",
                                   "catalogue_category"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        long want = count(county, tables[i]);
        char q[128], w[32];
        snprintf(q, sizeof(q), "SELECT count(*) FROM %s", tables[i]);
        snprintf(w, sizeof(w), "%ld", want);
        wait_for(province, q, w);
    }
    assert_int_equal(count(province, "cases"), 3);
    assert_int_equal(count(province, "org_unit"), 528);
    assert_int_equal(count(province, "cases WHERE county = '" COUNTY "'"), 3);
    char *num = scalar(province, "SELECT string_agg(number, ',' ORDER BY number) FROM cases");
    assert_string_equal(num, "410423-20260430-00001,410423-20260430-00002,410423-20260430-00003");
    free(num);
}

/* Applicants' names, ID numbers, phones and request texts stay in the
 * county: no such column at the province, no such value in any replicated
 * row, and the reporting role cannot read them on the county. */
static void test_personal_data_stays_in_county(void **state)
{
    (void)state;
    assert_int_equal(count(province, "information_schema.columns WHERE table_schema = 'public'"
                                     " AND (column_name LIKE 'applicant%'"
                                     " OR column_name = 'request_text')"),
                     0);
    char q[512];
    static const char *tables[] = {"cases", "case_event", "org_unit", "catalogue_item"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        snprintf(q, sizeof(q), "%s t WHERE t::text LIKE '%%%s%%' OR t::text LIKE '%%%s%%'"
                 " OR t::text LIKE '%%王秀英%%' OR t::text LIKE '%%三组%%'",
                 tables[i], id_number, PHONE);
        long n = count(province, q);
        if (n != 0) {
            char sample[1200];
            snprintf(sample, sizeof(sample), "SELECT t::text FROM %s", q);
            char *row = scalar(province, sample);
            fail_msg("%ld rows of %s at the province hold personal data, e.g. %s", n, tables[i], row);
        }
    }
    /* ... while the county has them. */
    snprintf(q, sizeof(q), "cases WHERE applicant_id_number = '%s' AND applicant_phone = '%s'",
             id_number, PHONE);
    assert_int_equal(count(county, q), 3);
    /* The publication itself leaves them out. */
    assert_int_equal(count(county, "pg_publication_tables WHERE pubname = 'sanji_report'"
                                   " AND tablename = 'cases' AND ('applicant_id_number' = ANY(attnames)"
                                   " OR 'applicant_phone' = ANY(attnames)"
                                   " OR 'applicant_name' = ANY(attnames))"),
                     0);
    PGconn *rep = connect_as(county_ci, "sanji_report");
    PGresult *r = PQexec(rep, "SELECT applicant_id_number FROM cases");
    if (PQresultStatus(r) != PGRES_FATAL_ERROR ||
        strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501") != 0)
        fail_msg("sanji_report read ID numbers: status %s, %s", PQresStatus(PQresultStatus(r)),
                 PQresultErrorMessage(r));
    PQclear(r);
    char *n = scalar(rep, "SELECT count(number) FROM cases");
    assert_string_equal(n, "3");
    free(n);
    PQfinish(rep);
}

/* Actions applied after the initial copy stream through: new status,
 * version, result, satisfaction, and the new events. */
static void test_later_actions_arrive(void **state)
{
    (void)state;
    act(1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE, 1, 0);
    act(1, SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK, 2,
        SANJI__SATISFACTION__SATISFACTION_SATISFIED);
    act(2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE_AT_ONCE, 1, 0);
    act(2, SANJI__CASE_ACTION_TYPE__CASE_ACTION_FEEDBACK, 2,
        SANJI__SATISFACTION__SATISFACTION_UNSATISFIED);
    char q[256], id[40];
    snprintf(q, sizeof(q), "SELECT status || '/' || version || '/' || satisfaction || '/' || result"
             " FROM cases WHERE case_id = '%s'", case_uuid_text(1, id, sizeof(id)));
    wait_for(province, q, "10/3/1/已当场答复政策");
    snprintf(q, sizeof(q), "SELECT status || '/' || version || '/' || satisfaction"
             " FROM cases WHERE case_id = '%s'", case_uuid_text(2, id, sizeof(id)));
    wait_for(province, q, "9/3/3");
    wait_for(province, "SELECT count(*) FROM case_event", "7");
    char *c = scalar(county, "SELECT string_agg(case_id || ':' || seq || ':' || action, ','"
                             " ORDER BY case_id, seq) FROM case_event");
    char *p = scalar(province, "SELECT string_agg(case_id || ':' || seq || ':' || action, ','"
                               " ORDER BY case_id, seq) FROM case_event");
    assert_string_equal(p, c);
    free(c);
    free(p);
}

/* The documented report: 3 registered, 2 resolved (66.7 %), one satisfied
 * and one not (50.0 %). */
static void test_province_report(void **state)
{
    (void)state;
    char *sql = doc_sql("province-report");
    PGresult *r = PQexec(province, sql);
    free(sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("report failed: %s", PQresultErrorMessage(r));
    assert_int_equal(PQntuples(r), 1);
    static const struct {
        const char *column, *want;
    } want[] = {
        {"county", COUNTY},         {"county_name", "鲁山县"}, {"registered", "3"},
        {"resolved", "2"},          {"returned", "0"},        {"overdue", "0"},
        {"resolve_rate_pct", "66.7"}, {"satisfaction_pct", "50.0"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int col = PQfnumber(r, want[i].column);
        if (col < 0)
            fail_msg("the report has no column %s", want[i].column);
        if (strcmp(PQgetvalue(r, 0, col), want[i].want) != 0)
            fail_msg("report %s = \"%s\", want \"%s\"", want[i].column, PQgetvalue(r, 0, col),
                     want[i].want);
    }
    PQclear(r);
}

/* A standby from pg_basebackup, made synchronous: the primary reports it
 * `sync`, a new case committed on the primary is on the standby, and the
 * apply path is refused there (read-only). */
static void test_sync_standby(void **state)
{
    (void)state;
    if (sh("%s/tests/lib/pg_replica.sh standby %s %s county_b >/dev/null", src_dir(), county_dir,
           standby_dir) != 0)
        fail_msg("pg_replica.sh standby failed");
    assert_int_equal(read_conninfo(standby_dir, standby_ci, sizeof(standby_ci), &standby_port), 0);
    PGconn *csu = connect_as(county_ci, "postgres");
    exec_sql(csu, "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (county_b)'");
    exec_sql(csu, "SELECT pg_reload_conf()");
    wait_for(csu, "SELECT string_agg(application_name || ':' || state || ':' || sync_state, ',')"
                  " FROM pg_stat_replication WHERE application_name = 'county_b'",
             "county_b:streaming:sync");
    submit(4);
    PGconn *sb = connect_as(standby_ci, NULL);
    char q[256], id[40];
    snprintf(q, sizeof(q), "SELECT number FROM cases WHERE case_id = '%s'",
             case_uuid_text(4, id, sizeof(id)));
    wait_for(sb, q, "410423-20260430-00004");
    char *rec = scalar(sb, "SELECT pg_is_in_recovery()");
    assert_string_equal(rec, "t");
    free(rec);
    countyd_apply_result r;
    sj_error err;
    sj_error_clear(&err);
    int rc = submit_on(sb, 5, &r, &err);
    if (rc == 0)
        fail_msg("the apply path wrote on a standby: status %d", r.status);
    assert_int_equal(count(sb, "cases"), 4);
    PQfinish(sb);
    /* The province got case 4 too. */
    wait_for(province, "SELECT count(*) FROM cases", "4");
    PQfinish(csu);
}

/* The primary goes away, the standby is promoted: sanji-countyd with a
 * two-host read-write conninfo finds the new primary (migrate is current),
 * and the apply path continues the case numbers there. */
static void test_failover_to_promoted_standby(void **state)
{
    (void)state;
    PQfinish(county);
    county = NULL;
    /* Stop the subscription's source first so that the province does not
     * retry against a cluster about to vanish during teardown. */
    PGconn *psu = connect_as(province_ci, "postgres");
    exec_sql(psu, "ALTER SUBSCRIPTION county_410423 DISABLE");
    exec_sql(psu, "ALTER SUBSCRIPTION county_410423 SET (slot_name = NONE)");
    exec_sql(psu, "DROP SUBSCRIPTION county_410423");
    PQfinish(psu);
    int old_port = county_port;
    if (sh("%s/tests/lib/pg_cluster.sh stop %s >/dev/null", src_dir(), county_dir) != 0)
        fail_msg("cannot stop the county primary");
    if (sh("%s/tests/lib/pg_replica.sh promote %s", src_dir(), standby_dir) != 0)
        fail_msg("pg_replica.sh promote failed");
    char pair[512];
    snprintf(pair, sizeof(pair), "host=127.0.0.1,127.0.0.1 port=%d,%d dbname=sanji user=sanji"
             " target_session_attrs=read-write connect_timeout=5", old_port, standby_port);
    if (sh("%s/server/sanji-countyd --database '%s' migrate >/dev/null 2>&1", build_dir(), pair) != 0)
        fail_msg("sanji-countyd migrate against %s failed", pair);
    county = connect_as(pair, NULL);
    char *port = scalar(county, "SELECT inet_server_port()::text");
    char want[16];
    snprintf(want, sizeof(want), "%d", standby_port);
    assert_string_equal(port, want);
    free(port);
    char *ver = scalar(county, "SELECT max(version) FROM schema_version");
    char latest[16];
    snprintf(latest, sizeof latest, "%d", countyd_migrate_latest());
    assert_string_equal(ver, latest);
    free(ver);
    countyd_apply_result r;
    sj_error err;
    sj_error_clear(&err);
    int rc = submit_on(county, 5, &r, &err);
    expect_applied(rc, &r, &err, 1);
    assert_string_equal(r.case_number, "410423-20260430-00005");
    assert_int_equal(count(county, "cases"), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_copy_reaches_province),
        cmocka_unit_test(test_personal_data_stays_in_county),
        cmocka_unit_test(test_later_actions_arrive),
        cmocka_unit_test(test_province_report),
        cmocka_unit_test(test_sync_standby),
        cmocka_unit_test(test_failover_to_promoted_standby),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
