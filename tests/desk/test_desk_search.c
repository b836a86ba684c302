/*
 * test_desk_search.c - sanji-desk at county scale, as a real process under
 * Xvfb driven by its test hook: a county of 20,000 generated cases over ten
 * years (tests/bench/gen_county.h) on the benchmark network
 * (tests/bench/bench.h: a private PostgreSQL, sanji-countyd, a relay).
 *
 *   county desk: the workbench lists the county's cases (10000+ in 全部);
 *     a search by each key (number end, applicant name, ID number, phone,
 *     category, item, status, holder level, township, department, first
 *     receiver, registration day, overdue, supervised) shows the count
 *     PostgreSQL gives for the same conditions, and the chosen case among
 *     the rows, which opens; an ID number the county desk may not see
 *     (a case held by its village) finds nothing; row 5,000 and, scrolled
 *     to the end, row 9,999 show the cases PostgreSQL puts there; ordering
 *     by number, due time and status puts first the case PostgreSQL puts
 *     first, either way; the console's bulk 督办 of the 超期 queue supervises
 *     every overdue case still worked on (checked in PostgreSQL).  Afterwards
 *     the desk's own store holds the cases it opened or acted on and no
 *     others: a county desk does not take the county.
 *   station desk (offline): a village with some 3,000 cached cases; the
 *     home page's counts are the village's, a search by name, ID number
 *     and phone opens the case, the rows deep in the list and the orders
 *     are PostgreSQL's.
 *
 * Everything is checked by state and content (counts, numbers, titles),
 * never by time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"
#include "desk_fixture.h"
#include "gen_county.h"
#include "gen_station.h"
#include "personal.h"

#define COUNTY_UNIT BENCH_COUNTY "000000"
#define PASSWORD "sanji123" /* the demo persons' password */
#define CASES 20000
#define STATION_CASES 3000

static bench_net NET;
static PGconn *DB;
static bool UP;

static const char *pq(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *pq(const char *fmt, ...)
{
    static char buf[8][256];
    static int slot;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *sql = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    PGresult *r = PQexec(DB, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        g_autofree char *e = g_strdup(PQerrorMessage(DB));
        PQclear(r);
        fail_msg("query failed: %s: %s", sql, e);
    }
    char *out = buf[slot++ % 8];
    snprintf(out, sizeof(buf[0]), "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return out;
}

/* "（N）" as a list title shows a count, "（10000+）" past the cap. */
static char *count_text(const char *n)
{
    long v = atol(n);
    return v >= 10000 ? g_strdup("（10000+）") : g_strdup_printf("（%ld）", v);
}

static int group_setup(void **state)
{
    bench_net_opts o = {.relays = 1, .villages = 1, .quiet = true};
    if (bench_net_start(&NET, &o) != 0)
        return -1;
    UP = true;
    gen_county_opts g = {.cases = CASES, .years = 10, .seed = 7, .quiet = true};
    gen_county_result r;
    sj_error err;
    if (gen_county_fill(NET.conninfo, &g, &r, &err) != 0) {
        fprintf(stderr, "gen-county: %s\n", err.message);
        return -1;
    }
    DB = PQconnectdb(NET.conninfo);
    return PQstatus(DB) == CONNECTION_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    if (DB)
        PQfinish(DB);
    if (UP)
        bench_net_stop(&NET);
    return 0;
}

/* Runs sanji-desk with args and script under Xvfb; returns its exit status
 * and prints its output. */
static int run_desk(const char *tag, const char *const *args, const char *script)
{
    g_autofree char *bin = g_strdup_printf("%s/client/desk/sanji-desk", bench_build_dir());
    return desk_fixture_run(XVFB_RUN, bin, NET.dir, tag, args, script);
}

/* The script lines that search with the bar of list L and wait for the
 * list's title to show the count want. */
static void search(GString *s, const char *l, const char *setup, const char *want)
{
    g_string_append_printf(s,
                           "click %s.search.clear\n"
                           "%s"
                           "click %s.search.go\n"
                           "wait-text %s.title %s 30\n",
                           l, setup, l, l, want);
}

/* ... and then open the case with number from the rows, and go back. */
static void open_case(GString *s, const char *l, const char *page, const char *number)
{
    g_string_append_printf(s,
                           "select-text %s %s\n"
                           "wait-page case 10\n"
                           "wait-text case.title %s 20\n"
                           "page %s\n",
                           l, number, number, page);
}

/* Row `k` of the county's cases in an order (PostgreSQL's answer). */
static const char *nth(const char *where, const char *order, long k)
{
    return pq("SELECT number FROM cases WHERE %s ORDER BY %s LIMIT 1 OFFSET %ld", where, order, k);
}

/* The orders of the bar's sort picker, each way: the first row's number. */
static void sorts(GString *s, const char *l, const char *where)
{
    static const struct {
        int index;
        const char *desc, *asc;
    } orders[] = {
        {3, "number DESC, case_id DESC", "number ASC, case_id ASC"},
        {2, "due_at_ms DESC, case_id DESC", "due_at_ms ASC, case_id ASC"},
        {4, "status DESC, registered_at_ms DESC, case_id DESC",
         "status ASC, registered_at_ms ASC, case_id ASC"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(orders); i++) {
        g_string_append_printf(s,
                               "click %s.search.clear\n"
                               "select %s.search.sort %d\n"
                               "wait-row %s 0 %s 30\n"
                               "click %s.search.ascending\n"
                               "wait-row %s 0 %s 30\n",
                               l, l, orders[i].index, l, nth(where, orders[i].desc, 0), l, l,
                               nth(where, orders[i].asc, 0));
    }
}

static void test_county_desk(void **state)
{
    /* The case the searches look for: held by the county (whose desk may
     * see its applicant's ID number and phone), with a rare name. */
    PGresult *t = PQexec(DB, "SELECT number, applicant_name, applicant_id_number,"
                             " applicant_phone, item_code, status, left(village, 9) || '000',"
                             " department, first_receiver, to_char(to_timestamp(registered_at_ms"
                             " / 1000) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'),"
                             " (SELECT category FROM catalogue_item i WHERE i.code = c.item_code),"
                             " (SELECT g.name FROM catalogue_category g JOIN catalogue_item i"
                             "  ON i.category = g.code WHERE i.code = c.item_code),"
                             " (SELECT name FROM org_unit o WHERE o.code = left(c.village, 9) || '000')"
                             " FROM cases c WHERE holder_level = 3 AND number IS NOT NULL"
                             " ORDER BY (SELECT count(*) FROM cases d WHERE d.applicant_name ="
                             " c.applicant_name), number LIMIT 1");
    if (PQresultStatus(t) != PGRES_TUPLES_OK)
        fail_msg("%s", PQerrorMessage(DB));
    if (PQntuples(t) != 1)
        fail_msg("the generated county has no case held by the county");
    const char *number = PQgetvalue(t, 0, 0), *name = PQgetvalue(t, 0, 1),
               *id = PQgetvalue(t, 0, 2), *phone = PQgetvalue(t, 0, 3),
               *item = PQgetvalue(t, 0, 4), *status = PQgetvalue(t, 0, 5),
               *township = PQgetvalue(t, 0, 6), *department = PQgetvalue(t, 0, 7),
               *person = PQgetvalue(t, 0, 8), *day = PQgetvalue(t, 0, 9),
               *category = PQgetvalue(t, 0, 10), *category_name = PQgetvalue(t, 0, 11),
               *township_name = PQgetvalue(t, 0, 12);
    /* The number without the county's part: the day and its sequence. */
    char end[32];
    snprintf(end, sizeof(end), "%s", number + 7);
    /* An ID number the county desk may not match: a case its village holds. */
    g_autofree char *hidden_id = g_strdup(pq("SELECT applicant_id_number FROM cases c WHERE"
                                             " holder_level = 1 AND NOT EXISTS (SELECT 1 FROM cases d"
                                             " WHERE d.applicant_id_number = c.applicant_id_number"
                                             " AND d.holder_level = 3) LIMIT 1"));
    const char *L = "county.list";
    GString *s = g_string_new(NULL);
    g_autofree char *all = count_text(pq("SELECT count(*) FROM cases"));
    g_string_append_printf(s,
                           "wait-page login 60\n"
                           "wait-text login.persons 邱志强 60\n"
                           "select-text login.persons 邱志强\n"
                           "set login.password " PASSWORD "\n"
                           "click login.submit\n"
                           "wait-page county 30\n"
                           "click county.view.all\n"
                           "wait-text %s 410423- 60\n"
                           "wait-text %s.title %s 30\n"
                           "wait-text county.count.all 10000+ 30\n",
                           L, L, all);
    /* Each key: the count PostgreSQL gives, and the case among the rows. */
    g_autofree char *set_end = g_strdup_printf("set %s.search.text %s\n", L, end);
    search(s, L, set_end, "（1）");
    open_case(s, L, "county", number);
    g_autofree char *set_name = g_strdup_printf("select %s.search.key 2\nset %s.search.text %s\n", L, L, name);
    g_autofree char *c_name = count_text(pq("SELECT count(*) FROM cases WHERE applicant_name LIKE '%s%%'", name));
    search(s, L, set_name, c_name);
    g_autofree char *s_search = desk_fixture_shot("search");
    g_string_append(s, s_search);
    open_case(s, L, "county", number);
    g_autofree char *set_id = g_strdup_printf("set %s.search.text %s\n", L, id);
    g_autofree char *c_id = count_text(pq("SELECT count(*) FROM cases WHERE applicant_id_number ="
                                          " '%s' AND holder_level = 3", id));
    search(s, L, set_id, c_id);
    open_case(s, L, "county", number);
    g_autofree char *set_phone = g_strdup_printf("set %s.search.text %s\n", L, phone);
    g_autofree char *c_phone = count_text(pq("SELECT count(*) FROM cases WHERE applicant_phone = '%s'"
                                             " AND holder_level = 3", phone));
    search(s, L, set_phone, c_phone);
    open_case(s, L, "county", number);
    g_autofree char *set_hidden = g_strdup_printf("set %s.search.text %s\n", L, hidden_id);
    search(s, L, set_hidden, "（0）");
    g_autofree char *set_cat = g_strdup_printf("select-text %s.search.category %s\n", L, category_name);
    g_autofree char *c_cat = count_text(pq("SELECT count(*) FROM cases c JOIN catalogue_item i ON"
                                           " i.code = c.item_code WHERE i.category = '%s'", category));
    search(s, L, set_cat, c_cat);
    g_autofree char *set_item = g_strdup_printf("select-text %s.search.category %s\n"
                                                "select-text %s.search.item %s\n"
                                                "set %s.search.text %s\n",
                                                L, category_name, L, item, L, name);
    g_autofree char *c_item = count_text(pq("SELECT count(*) FROM cases WHERE item_code = '%s' AND"
                                            " applicant_name LIKE '%s%%'", item, name));
    search(s, L, set_item, c_item);
    open_case(s, L, "county", number);
    g_autofree char *set_status = g_strdup_printf("select %s.search.status %s\n", L, status);
    g_autofree char *c_status = count_text(pq("SELECT count(*) FROM cases WHERE status = %s", status));
    search(s, L, set_status, c_status);
    g_autofree char *set_level = g_strdup_printf("select %s.search.level 3\n", L);
    g_autofree char *c_level = count_text(pq("SELECT count(*) FROM cases WHERE holder_level = 3"));
    search(s, L, set_level, c_level);
    open_case(s, L, "county", number);
    g_autofree char *set_unit = g_strdup_printf("select-text %s.search.unit %s\n"
                                                "select %s.search.level 3\n",
                                                L, township_name, L);
    g_autofree char *c_unit = count_text(pq("SELECT count(*) FROM cases WHERE village BETWEEN"
                                            " left('%s', 9) || '000' AND left('%s', 9) || '999'"
                                            " AND holder_level = 3", township, township));
    search(s, L, set_unit, c_unit);
    open_case(s, L, "county", number);
    if (*department) {
        g_autofree char *set_dep = g_strdup_printf("set %s.search.department %s\n", L, department);
        g_autofree char *c_dep = count_text(pq("SELECT count(*) FROM cases WHERE department = '%s'", department));
        search(s, L, set_dep, c_dep);
    }
    g_autofree char *set_person = g_strdup_printf("set %s.search.person %s\n", L, person);
    g_autofree char *c_person = count_text(pq("SELECT count(*) FROM cases WHERE first_receiver = '%s'", person));
    search(s, L, set_person, c_person);
    g_autofree char *set_day = g_strdup_printf("set %s.search.from %s\nset %s.search.to %s\n", L, day, L, day);
    g_autofree char *c_day = count_text(pq("SELECT count(*) FROM cases WHERE to_char(to_timestamp("
                                           "registered_at_ms / 1000) AT TIME ZONE 'Asia/Shanghai',"
                                           " 'YYYY-MM-DD') = '%s'", day));
    search(s, L, set_day, c_day);
    open_case(s, L, "county", number);
    g_autofree char *set_over = g_strdup_printf("click %s.search.overdue\n", L);
    g_autofree char *c_over = count_text(pq("SELECT count(*) FROM cases WHERE overdue"));
    search(s, L, set_over, c_over);
    g_autofree char *set_sup = g_strdup_printf("click %s.search.supervised\n", L);
    g_autofree char *c_sup = count_text(pq("SELECT count(*) FROM cases WHERE supervised"));
    search(s, L, set_sup, c_sup);
    /* Paging: a row deep in the list, and the end of the list. */
    const char *by_reg = "registered_at_ms DESC, case_id DESC";
    g_string_append_printf(s,
                           "click %s.search.clear\n"
                           "wait-row %s 5000 %s 30\n"
                           "scroll %s 1.0\n"
                           "wait-text %s %s 30\n",
                           L, L, nth("true", by_reg, 5000), L, L, nth("true", by_reg, 9999));
    sorts(s, L, "true");
    g_autofree char *s_overdue = desk_fixture_shot("county-overdue");
    /* The console's bulk 督办: every overdue case still worked on, listed
     * in the 超期 queue, supervised at once and recorded by the county. */
    long overdue_open = atol(pq("SELECT count(*) FROM cases WHERE overdue AND status IN"
                                " (1, 2, 3, 4, 5, 6, 9)"));
    assert_true(overdue_open > 0 && overdue_open <= 100);
    g_autofree char *c_overdue_open = g_strdup_printf("（%ld）", overdue_open);
    g_string_append_printf(s,
                           "click %s.search.clear\n"
                           "click county.view.overdue\n"
                           "wait-text %s.title %s 30\n"
                           "click %s.bulk.supervise\n"
                           "wait-text %s.bulk.message 已保存督办 10\n"
                           "print %s.bulk.message\n"
                           "wait-text link.outbox 全部已送达 60\n"
                           /* Listed again, each row says it is supervised
                             * (beside its status, with 超期). */
                           "click %s.search.clear\n"
                           "click county.view.overdue\n"
                           "wait-row %s 0 '超期 · 督办' 30\n"
                           "%s",
                           L, L, c_overdue_open, L, L, L, L, L, s_overdue);
    g_string_append(s, "quit\n");

    char pki[4200], prefix[4200], crt[4300], key[4300], ca[4300], addr[64], peer[64], store[4300];
    snprintf(pki, sizeof(pki), "%s/deploy/pki/sanji-pki", bench_build_dir());
    snprintf(prefix, sizeof(prefix), "%s/county-desk", NET.dir);
    assert_int_equal(bench_sh("%s issue --dir %s/ca --role county-desk --unit %s --out %s >/dev/null",
                              pki, NET.dir, COUNTY_UNIT, prefix), 0);
    snprintf(crt, sizeof(crt), "%s.crt", prefix);
    snprintf(key, sizeof(key), "%s.key", prefix);
    snprintf(ca, sizeof(ca), "%s/ca/ca.crt", NET.dir);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", NET.county_port);
    snprintf(peer, sizeof(peer), "county:%s", COUNTY_UNIT);
    snprintf(store, sizeof(store), "%s/county-desk.db", NET.dir);
    const char *args[] = {"--cert", crt, "--key", key, "--ca", ca, "--address", addr,
                          "--peer", peer, "--store", store, NULL};
    int rc = run_desk("county-desk", args, s->str);
    g_string_free(s, TRUE);
    assert_int_equal(rc, 0);
    /* The desk keeps what it opened, not the county. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), sum(number = ?) FROM cases", -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(q, 1, number, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int held = sqlite3_column_int(q, 0), target = sqlite3_column_int(q, 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
    printf("the county desk's store holds %d case(s)\n", held);
    /* The case opened, and the overdue ones it supervised: no more. */
    assert_true(held >= 1 && held <= 1 + overdue_open);
    assert_int_equal(target, 1);
    assert_string_equal(pq("SELECT count(*) FROM cases WHERE overdue AND status IN"
                           " (1, 2, 3, 4, 5, 6, 9) AND NOT supervised"), "0");
    PQclear(t);
}

static void test_station_desk(void **state)
{
    /* The busiest village, with more of its own cases on top. */
    char village[13], person[64];
    snprintf(village, sizeof(village), "%s",
             pq("SELECT village FROM cases c WHERE EXISTS (SELECT 1 FROM person p WHERE"
                " p.org_unit = c.village AND p.role = 1) GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"));
    snprintf(person, sizeof(person), "%s",
             pq("SELECT min(id) FROM person WHERE org_unit = '%s' AND role = 1", village));
    gen_county_opts g = {.cases = STATION_CASES, .years = 10, .seed = 8, .village = village,
                         .quiet = true};
    gen_county_result r;
    sj_error err;
    if (gen_county_fill(NET.conninfo, &g, &r, &err) != 0)
        fail_msg("gen-county: %s", err.message);
    char store[4300], node[64];
    snprintf(store, sizeof(store), "%s/station.db", NET.dir);
    snprintf(node, sizeof(node), "village:%s", village);
    if (desk_fixture_store(store, node, getenv("SANJI_SOURCE_DIR"), person, "值班干部", 1, village,
                           PASSWORD, &err) != 0)
        fail_msg("fixture: %s", err.message);
    uint64_t got = 0;
    if (gen_station_fill(NET.conninfo, village, store, 100000, &got, &err) != 0)
        fail_msg("station store: %s", err.message);
    g_autofree char *in_village = g_strdup_printf("village = '%s'", village);
    assert_int_equal((long)got, atol(pq("SELECT count(*) FROM cases WHERE %s", in_village)));

    g_autofree char *target_sql = g_strdup_printf(
        "SELECT number, applicant_name, applicant_id_number, applicant_phone FROM cases c"
        " WHERE %s ORDER BY (SELECT count(*) FROM cases d WHERE d.applicant_name ="
        " c.applicant_name), number LIMIT 1",
        in_village);
    PGresult *t = PQexec(DB, target_sql);
    assert_int_equal(PQresultStatus(t), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(t), 1);
    const char *number = PQgetvalue(t, 0, 0), *name = PQgetvalue(t, 0, 1);
    /* Kept past PQclear(t): the board below looks for them too. */
    g_autofree char *id = g_strdup(PQgetvalue(t, 0, 2)), *phone = g_strdup(PQgetvalue(t, 0, 3));
    const char *L = "home.list";
    GString *s = g_string_new(NULL);
    g_autofree char *all = count_text(pq("SELECT count(*) FROM cases WHERE %s", in_village));
    g_autofree char *done = g_strdup(pq("SELECT count(*) FROM cases WHERE %s AND status IN (10, 11)",
                                        in_village));
    g_autofree char *feedback = g_strdup(pq("SELECT count(*) FROM cases WHERE %s AND status IN (7, 8, 9)",
                                            in_village));
    g_string_append_printf(s,
                           "wait-page login 60\n"
                           "wait-text login.persons 值班干部 60\n"
                           "select-text login.persons 值班干部\n"
                           "set login.password " PASSWORD "\n"
                           "click login.submit\n"
                           "wait-page home 30\n"
                           "wait-text home.count.4 %s 30\n"
                           "wait-text home.count.5 %s 30\n"
                           "click home.view.7\n"
                           "wait-text %s.title %s 30\n",
                           feedback, done, L, all);
    g_autofree char *set_name = g_strdup_printf("set %s.search.text %s\n", L, name);
    g_autofree char *c_name = count_text(pq("SELECT count(*) FROM cases WHERE %s AND applicant_name"
                                            " LIKE '%s%%'", in_village, name));
    search(s, L, set_name, c_name);
    open_case(s, L, "home", number);
    g_autofree char *set_id = g_strdup_printf("set %s.search.text %s\n", L, id);
    g_autofree char *c_id = count_text(pq("SELECT count(*) FROM cases WHERE %s AND"
                                          " applicant_id_number = '%s'", in_village, id));
    search(s, L, set_id, c_id);
    open_case(s, L, "home", number);
    g_autofree char *set_phone = g_strdup_printf("set %s.search.text %s\n", L, phone);
    g_autofree char *c_phone = count_text(pq("SELECT count(*) FROM cases WHERE %s AND applicant_phone"
                                             " = '%s'", in_village, phone));
    search(s, L, set_phone, c_phone);
    open_case(s, L, "home", number);
    const char *by_reg = "registered_at_ms DESC, case_id DESC";
    long n = atol(pq("SELECT count(*) FROM cases WHERE %s", in_village));
    g_string_append_printf(s,
                           "click %s.search.clear\n"
                           "wait-row %s %ld %s 30\n"
                           "scroll %s 1.0\n"
                           "wait-text %s %s 30\n",
                           L, L, n / 2, nth(in_village, by_reg, n / 2), L, L,
                           nth(in_village, by_reg, (n > 10000 ? 10000 : n) - 1));
    sorts(s, L, in_village);
    g_string_append(s, "quit\n");
    PQclear(t);

    char prefix[4200], crt[4300], key[4300], ca[4300];
    assert_int_equal(bench_net_village_cert(&NET, village, prefix, sizeof(prefix)), 0);
    snprintf(crt, sizeof(crt), "%s.crt", prefix);
    snprintf(key, sizeof(key), "%s.key", prefix);
    snprintf(ca, sizeof(ca), "%s/ca/ca.crt", NET.dir);
    /* Offline: nothing listens on port 9. */
    const char *args[] = {"--cert", crt, "--key", key, "--ca", ca, "--address", "127.0.0.1:9",
                          "--store", store, NULL};
    int rc = run_desk("station-desk", args, s->str);
    g_string_free(s, TRUE);
    assert_int_equal(rc, 0);

    /* The same station's public board (--board): no log-in; the month's
     * figures as PostgreSQL counts them; the first page of cases in
     * progress, earliest due first, each applicant's name masked, never
     * whole. */
    const char *active = "status IN (1, 2, 3, 4, 5, 6, 9, 12, 13, 14)";
    const char *month = "registered_at_ms >= (extract(epoch FROM date_trunc('month', now() AT TIME"
                        " ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai') * 1000)::bigint";
    g_autofree char *received = g_strdup(pq("SELECT count(*) FROM cases WHERE %s AND %s", in_village, month));
    g_autofree char *in_progress = g_strdup(pq("SELECT count(*) FROM cases WHERE %s AND %s", in_village, active));
    g_autofree char *late = g_strdup(pq("SELECT count(*) FROM cases WHERE %s AND %s AND overdue",
                                        in_village, active));
    g_autofree char *first_name = g_strdup(pq("SELECT applicant_name FROM cases WHERE %s AND %s"
                                              " ORDER BY due_at_ms, case_id LIMIT 1", in_village, active));
    char masked[SJ_PERSONAL_MASK_SIZE];
    assert_int_equal(sj_personal_mask_name(first_name, masked, sizeof masked), 0);
    g_autofree char *shot = desk_fixture_shot("board");
    g_autofree char *board = g_strdup_printf(
        "wait-page board 60\n"
        "wait-text board.title 便民服务站 · 办事公开 30\n"
        "wait-text board.figures '受理 %s 件' 30\n"
        "expect-text board.figures '在办 %s 件'\n"
        "expect-text board.figures '超期 %s 件'\n"
        "expect-text board.items 个工作日\n"
        "wait-text board.cases '%s' 30\n"
        "expect-no-text board.cases '%s'\n"
        "expect-no-text board.cases %s\n"
        "expect-no-text board.cases %s\n"
        "print board.figures\n"
        "%s"
        "quit\n",
        received, in_progress, late, masked, first_name, id, phone, shot);
    const char *board_args[] = {"--cert", crt, "--key", key, "--ca", ca, "--address", "127.0.0.1:9",
                                "--store", store, "--board", NULL};
    assert_int_equal(run_desk("station-board", board_args, board), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_county_desk),
        cmocka_unit_test(test_station_desk),
    };
    return cmocka_run_group_tests_name("county scale", tests, group_setup, group_teardown);
}
