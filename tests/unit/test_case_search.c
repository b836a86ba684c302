/*
 * test_case_search.c - 我的事项 and the search by assignee in an SQLite
 * copy of cases (common/domain/case_search.c), as a relay's cache and a station's
 * store run them: a real in-memory SQLite table with the search columns,
 * cases indexed from their protobuf, and the rule's C form
 * (sj_case_search_is_mine(), a station's list) agreeing with its SQL form
 * on every case; the stand-ins (AB岗) taken from a person list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "case_search.h"

#define CASES_SQL                                                                                 \
    "CREATE TABLE cases (case_id BLOB PRIMARY KEY, village TEXT NOT NULL, number TEXT,"          \
    " registered_at_ms INTEGER NOT NULL" SJ_CASE_SEARCH_COLUMNS_SQL "snapshot BLOB NOT NULL);"   \
    "CREATE INDEX cases_village ON cases(village, registered_at_ms);" SJ_CASE_SEARCH_INDEXES_SQL

/* Case n: its first receiver, assignee and carrier. */
static const struct {
    const char *receiver, *assignee, *carrier;
} CASES[] = {
    {"a", "", "a"},   /* 1: A received and carries it */
    {"b", "a", "b"},  /* 2: assigned to A */
    {"b", "", "c"},   /* 3: carried by C */
    {"b", "d", "b"},  /* 4: assigned to D, whom A stands in for */
    {"b", "e", "b"},  /* 5: assigned to E, nobody's stand-in is A */
    {"c", "", "c"},   /* 6: nothing of A's */
};
#define N_CASES (sizeof(CASES) / sizeof(CASES[0]))

static sqlite3 *open_store(Sanji__Case *cs, uint8_t ids[][16], char numbers[][8])
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, CASES_SQL, NULL, NULL, NULL), SQLITE_OK);
    for (size_t i = 0; i < N_CASES; i++) {
        sanji__case__init(&cs[i]);
        memset(ids[i], 0, 16);
        ids[i][15] = (uint8_t)(i + 1);
        snprintf(numbers[i], 8, "N-%zu", i + 1);
        cs[i].case_id.data = ids[i];
        cs[i].case_id.len = 16;
        cs[i].number = numbers[i];
        cs[i].village = "410423101201";
        cs[i].status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
        cs[i].registered_at_ms = 1000 + (int64_t)i;
        cs[i].first_receiver = (char *)CASES[i].receiver;
        cs[i].assignee = (char *)CASES[i].assignee;
        cs[i].carrier = (char *)CASES[i].carrier;
        size_t n = sanji__case__get_packed_size(&cs[i]);
        uint8_t buf[512];
        assert_true(n <= sizeof(buf));
        sanji__case__pack(&cs[i], buf);
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "INSERT INTO cases (case_id, village, number,"
                                            " registered_at_ms, snapshot) VALUES (?, ?, ?, ?, ?)",
                                            -1, &s, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(s, 1, ids[i], 16, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, cs[i].village, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, numbers[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, cs[i].registered_at_ms);
        sqlite3_bind_blob(s, 5, buf, (int)n, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_finalize(s);
        sj_error err;
        assert_int_equal(sj_case_search_index(db, &cs[i], &err), 0);
    }
    return db;
}

typedef struct found {
    char numbers[256];
} found;

static int row_cb(void *arg, const void *blob, size_t len)
{
    found *f = arg;
    Sanji__Case *c = sanji__case__unpack(NULL, len, blob);
    assert_non_null(c);
    snprintf(f->numbers + strlen(f->numbers), sizeof(f->numbers) - strlen(f->numbers), "%s ",
             c->number);
    sanji__case__free_unpacked(c, NULL);
    return 0;
}

static const char *search(sqlite3 *db, Sanji__CaseListQuery *q, const char *const *stand_for,
                          size_t n_stand_for, found *f)
{
    f->numbers[0] = '\0';
    sj_case_search_viewer v = {.role = SJ_NODE_ROLE_VILLAGE,
                               .unit = "410423101201",
                               .now_ms = 2000,
                               .stand_for = stand_for,
                               .n_stand_for = n_stand_for};
    q->ascending = true;
    uint32_t total = 0;
    bool capped = false;
    sj_error err;
    if (sj_case_search_run(db, "snapshot", q, &v, row_cb, f, &total, &capped, &err) != 0)
        fail_msg("search: %s", err.message);
    return f->numbers;
}

static void test_mine_and_assignee(void **state)
{
    (void)state;
    Sanji__Case cs[N_CASES];
    uint8_t ids[N_CASES][16];
    char numbers[N_CASES][8];
    sqlite3 *db = open_store(cs, ids, numbers);

    /* The person list: D's stand-in is A, E's is C. */
    Sanji__Person pa = SANJI__PERSON__INIT, pd = SANJI__PERSON__INIT, pe = SANJI__PERSON__INIT;
    pa.id = "a";
    pd.id = "d";
    pd.stand_in = "a";
    pe.id = "e";
    pe.stand_in = "c";
    Sanji__Person *persons[] = {&pa, &pd, &pe};
    const char *stand_for[4];
    size_t n = sj_case_search_stand_for(persons, 3, "a", stand_for, 4);
    assert_int_equal(n, 1);
    assert_string_equal(stand_for[0], "d");
    assert_int_equal(sj_case_search_stand_for(persons, 3, "", stand_for, 4), 0);
    assert_int_equal(sj_case_search_stand_for(persons, 3, "c", stand_for, 0), 0); /* no room */

    found f;
    Sanji__CaseListQuery q = SANJI__CASE_LIST_QUERY__INIT;
    q.mine = true;
    q.for_person = "a";
    n = sj_case_search_stand_for(persons, 3, "a", stand_for, 4);
    assert_string_equal(search(db, &q, stand_for, n, &f), "N-1 N-2 N-4 ");
    /* The same rule in C, for a station's own list. */
    for (size_t i = 0; i < N_CASES; i++) {
        bool want = strstr(f.numbers, numbers[i]) != NULL;
        assert_int_equal(sj_case_search_is_mine(&cs[i], "a", stand_for, n), want);
    }
    /* Without the stand-ins, only one's own. */
    assert_string_equal(search(db, &q, NULL, 0, &f), "N-1 N-2 ");
    q.for_person = "c";
    assert_string_equal(search(db, &q, NULL, 0, &f), "N-3 N-6 ");
    /* mine without a person is nobody's. */
    q.for_person = "";
    assert_string_equal(search(db, &q, NULL, 0, &f), "");
    assert_false(sj_case_search_is_mine(&cs[0], "", NULL, 0));
    /* The search by assignee (the county console's key, and any desk's). */
    Sanji__CaseListQuery qa = SANJI__CASE_LIST_QUERY__INIT;
    qa.assignee = "d";
    assert_string_equal(search(db, &qa, NULL, 0, &f), "N-4 ");
    qa.assignee = "nobody";
    assert_string_equal(search(db, &qa, NULL, 0, &f), "");
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mine_and_assignee),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
