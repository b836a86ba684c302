/*
 * test_netview.c - the network view's warnings (client/netview.h): each
 * rule, its threshold's edge, the order of the list, desks left out of
 * the silence rule, and the Chinese sentence each warning becomes.
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "i18n.h"
#include "netview.h"

#define DAY INT64_C(86400000)
#define NOW (INT64_C(1796000000000)) /* 2026-12-01 */

static Sanji__StationStatus station(const char *node, const char *unit)
{
    Sanji__StationStatus s = SANJI__STATION_STATUS__INIT;
    s.node = (char *)node;
    s.org_unit = (char *)unit;
    return s;
}

/* A county of two townships: 张官营镇 whose relay reports, with four
 * stations and a desk, and 梁洼镇 whose relay never did. */
typedef struct county {
    Sanji__StationStatus st[6], st2[1];
    Sanji__StationStatus *pst[6], *pst2[1];
    Sanji__NodeStatus relay, never;
    Sanji__NodeStatus *nodes[2];
    Sanji__NetworkStatus ns;
} county;

static void county_init(county *c)
{
    c->st[0] = station("village:410423101201", "410423101201"); /* connected */
    c->st[0].connected = true;
    c->st[0].last_seen_ms = NOW;
    c->st[0].cert_not_after_ms = NOW + 400 * DAY;
    c->st[1] = station("village:410423101202", "410423101202"); /* silent 3 days */
    c->st[1].offline_working_days = 3;
    c->st[1].last_seen_ms = NOW - 5 * DAY;
    c->st[2] = station("village:410423101203", "410423101203"); /* silent 2: under */
    c->st[2].offline_working_days = 2;
    c->st[2].cert_not_after_ms = NOW + 30 * DAY; /* expiring: on the edge */
    c->st[3] = station("", "410423101204");                    /* never */
    c->st[3].never_connected = true;
    c->st[4] = station("township-desk:410423101000", "410423101000"); /* a desk, silent */
    c->st[4].offline_working_days = 9;
    c->st[4].cert_not_after_ms = NOW - 1; /* expired */
    c->st[5] = station("village:410423101205", "410423101205");
    c->st[5].cert_not_after_ms = NOW + 31 * DAY; /* past the warning period */
    for (int i = 0; i < 6; i++)
        c->pst[i] = &c->st[i];
    Sanji__NodeStatus n = SANJI__NODE_STATUS__INIT;
    c->relay = n;
    c->relay.node = "relay:410423101000";
    c->relay.org_unit = "410423101000";
    c->relay.upstream_online = true;
    c->relay.cert_not_after_ms = NOW + 10 * DAY;
    c->relay.stations = c->pst;
    c->relay.n_stations = 6;
    c->never = n;
    c->never.node = "";
    c->never.org_unit = "410423102000";
    c->never.never_connected = true;
    c->st2[0] = station("", "410423102201");
    c->st2[0].never_connected = true;
    c->pst2[0] = &c->st2[0];
    c->never.stations = c->pst2;
    c->never.n_stations = 1;
    c->nodes[0] = &c->relay;
    c->nodes[1] = &c->never;
    Sanji__NetworkStatus ns = SANJI__NETWORK_STATUS__INIT;
    c->ns = ns;
    c->ns.nodes = c->nodes;
    c->ns.n_nodes = 2;
    c->ns.offline_warn_working_days = 3;
    c->ns.cert_warn_days = 30;
}

static void test_rules_and_order(void **state)
{
    (void)state;
    county c;
    county_init(&c);
    sc_netview_warning *w;
    size_t n;
    sj_error err;
    assert_int_equal(sc_netview_warnings(&c.ns, NOW, &w, &n, &err), 0);
    assert_int_equal(n, 7);
    /* 1. expired: the desk's certificate. */
    assert_int_equal(w[0].kind, SC_NETVIEW_CERT_EXPIRED);
    assert_string_equal(w[0].node, "township-desk:410423101000");
    /* 2. never connected, in the answer's order: 张官营镇's one station
     * (a group of one), 梁洼镇's relay, then 梁洼镇's stations. */
    assert_int_equal(w[1].kind, SC_NETVIEW_NEVER_CONNECTED);
    assert_string_equal(w[1].unit, "410423101000");
    assert_false(w[1].is_relay);
    assert_int_equal(w[1].count, 1);
    assert_ptr_equal(w[1].township, &c.relay);
    assert_int_equal(w[2].kind, SC_NETVIEW_NEVER_CONNECTED);
    assert_string_equal(w[2].unit, "410423102000");
    assert_true(w[2].is_relay);
    assert_int_equal(w[3].kind, SC_NETVIEW_NEVER_CONNECTED);
    assert_string_equal(w[3].unit, "410423102000");
    assert_false(w[3].is_relay);
    assert_ptr_equal(w[3].township, &c.never);
    /* 3. silent: 3 working days reaches the threshold, 2 does not, and the
     * desk's 9 days are not a station's silence. */
    assert_int_equal(w[4].kind, SC_NETVIEW_SILENT);
    assert_string_equal(w[4].unit, "410423101202");
    assert_int_equal(w[4].days, 3);
    /* 4. expiring: the relay's in 10 days, the station's in exactly 30;
     * 31 days is not warned of. */
    assert_int_equal(w[5].kind, SC_NETVIEW_CERT_EXPIRING);
    assert_true(w[5].is_relay);
    assert_int_equal(w[5].days, 10);
    assert_int_equal(w[6].kind, SC_NETVIEW_CERT_EXPIRING);
    assert_string_equal(w[6].unit, "410423101203");
    assert_int_equal(w[6].days, 30);
    free(w);
}

static void test_thresholds_from_the_answer(void **state)
{
    (void)state;
    county c;
    county_init(&c);
    c.ns.offline_warn_working_days = 2;
    c.ns.cert_warn_days = 5;
    sc_netview_warning *w;
    size_t n;
    sj_error err;
    assert_int_equal(sc_netview_warnings(&c.ns, NOW, &w, &n, &err), 0);
    size_t silent = 0, expiring = 0;
    for (size_t i = 0; i < n; i++) {
        silent += w[i].kind == SC_NETVIEW_SILENT;
        expiring += w[i].kind == SC_NETVIEW_CERT_EXPIRING;
    }
    assert_int_equal(silent, 2);   /* 3 and 2 working days */
    assert_int_equal(expiring, 0); /* 10 and 30 days are beyond 5 */
    free(w);
    /* An answer without thresholds (a township's relay answering from its
     * own store) warns of what needs no threshold only. */
    c.ns.offline_warn_working_days = 0;
    c.ns.cert_warn_days = 0;
    assert_int_equal(sc_netview_warnings(&c.ns, NOW, &w, &n, &err), 0);
    assert_int_equal(n, 4); /* expired, three never connected */
    free(w);
}

static void test_nothing_to_warn(void **state)
{
    (void)state;
    Sanji__NetworkStatus ns = SANJI__NETWORK_STATUS__INIT;
    sc_netview_warning *w = (sc_netview_warning *)&ns;
    size_t n = 9;
    sj_error err;
    assert_int_equal(sc_netview_warnings(&ns, NOW, &w, &n, &err), 0);
    assert_null(w);
    assert_int_equal(n, 0);
}

/* The org tree of the test, as a desk's client would give it. */
static const char *name_of(void *ctx, const char *code)
{
    (void)ctx;
    static const char *const names[][2] = {
        {"410423101000", "张官营镇"}, {"410423102000", "梁洼镇"}, {"410423102201", "丙村"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(code, names[i][0]) == 0)
            return names[i][1];
    return NULL;
}

static void test_sentences(void **state)
{
    (void)state;
    county c;
    county_init(&c);
    sc_netview_warning *w;
    size_t n;
    sj_error err;
    assert_int_equal(sc_netview_warnings(&c.ns, NOW, &w, &n, &err), 0);
    char buf[1024];
    sc_netview_warning_text(&w[3], name_of, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "梁洼镇"));
    assert_non_null(strstr(buf, "1 个村站从未连接"));
    assert_non_null(strstr(buf, "丙村"));
    sc_netview_warning_text(&w[2], name_of, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "梁洼镇"));
    assert_non_null(strstr(buf, "乡镇中继从未"));
    sc_netview_warning_text(&w[4], name_of, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "410423101202")); /* no name: the code */
    assert_non_null(strstr(buf, "3 个工作日"));
    sc_netview_warning_text(&w[5], name_of, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "张官营镇"));
    assert_non_null(strstr(buf, "10 天"));
    assert_non_null(strstr(buf, "relay:410423101000"));
    sc_netview_warning_text(&w[0], name_of, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "已过期"));
    free(w);
}

/* From 1 November the county says which year's holidays it lacks: the
 * first warning, before any station's. */
static void test_missing_calendar_comes_first(void **state)
{
    (void)state;
    county c;
    county_init(&c);
    c.ns.calendar_missing_year = 2027;
    sc_netview_warning *w;
    size_t n;
    sj_error err;
    assert_int_equal(sc_netview_warnings(&c.ns, NOW, &w, &n, &err), 0);
    assert_int_equal(n, 8);
    assert_int_equal(w[0].kind, SC_NETVIEW_CALENDAR_MISSING);
    assert_int_equal(w[0].days, 2027);
    assert_int_equal(w[1].kind, SC_NETVIEW_CERT_EXPIRED);
    char buf[1024];
    sc_netview_warning_text(&w[0], name_of, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "2027"));
    assert_non_null(strstr(buf, "sanji-countyd import holidays"));
    free(w);
}

/* Hundreds of villages that never connected make one line per township,
 * naming ten of them. */
static void test_a_township_of_many_new_villages_is_one_line(void **state)
{
    (void)state;
    Sanji__StationStatus st[40], *pst[40];
    char units[40][13];
    for (int i = 0; i < 40; i++) {
        snprintf(units[i], sizeof(units[i]), "4104231012%02d", i + 1);
        st[i] = station("", units[i]);
        st[i].never_connected = true;
        pst[i] = &st[i];
    }
    Sanji__NodeStatus relay = SANJI__NODE_STATUS__INIT;
    relay.node = "relay:410423101000";
    relay.org_unit = "410423101000";
    relay.stations = pst;
    relay.n_stations = 40;
    Sanji__NodeStatus *nodes[] = {&relay};
    Sanji__NetworkStatus ns = SANJI__NETWORK_STATUS__INIT;
    ns.nodes = nodes;
    ns.n_nodes = 1;
    sc_netview_warning *w;
    size_t n;
    sj_error err;
    assert_int_equal(sc_netview_warnings(&ns, NOW, &w, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(w[0].count, 40);
    char buf[1024];
    sc_netview_warning_text(&w[0], name_of, NULL, buf, sizeof(buf));
    assert_non_null(strstr(buf, "40 个村站"));
    assert_non_null(strstr(buf, "410423101210…")); /* the tenth, then no more */
    assert_null(strstr(buf, "410423101211"));
    free(w);
}

int main(void)
{
    /* The sentences are checked in Chinese, the default. */
    unsetenv("LANGUAGE");
    unsetenv("LC_ALL");
    unsetenv("LC_MESSAGES");
    unsetenv("LANG");
    sj_i18n_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_and_order),
        cmocka_unit_test(test_thresholds_from_the_answer),
        cmocka_unit_test(test_nothing_to_warn),
        cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_a_township_of_many_new_villages_is_one_line),
        cmocka_unit_test(test_missing_calendar_comes_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
