/*
 * test_netview_presence.c - the network view's presence (client/netview.h):
 * today's and the last working day's record picked from a station's
 * PresenceDay list by date, the "staffed / duty hours" text, and the
 * UNSTAFFED warning: a village station staffed below the county's share
 * of the last working day's duty hours, in its place among the rules; a
 * desk, a day off and a share at the threshold are not warned of.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "i18n.h"
#include "netview.h"

static Sanji__PresenceDay day(const char *date, uint32_t duty, uint32_t staffed)
{
    Sanji__PresenceDay p = SANJI__PRESENCE_DAY__INIT;
    p.day = (char *)date;
    p.duty_minutes = duty;
    p.online_minutes = staffed;
    p.staffed_minutes = staffed;
    return p;
}

/* Tuesday 2026-12-08 10:00 China time. */
static int64_t now(void)
{
    return sj_clock_china_day_start_ms(sj_clock_days_from_civil(2026, 12, 8)) + 10 * 3600000;
}

static void test_days_and_text(void **state)
{
    (void)state;
    Sanji__PresenceDay d[3] = {day("2026-12-08", 540, 90), day("2026-12-04", 540, 300),
                               day("2026-12-07", 540, 390)};
    Sanji__PresenceDay *pd[3] = {&d[0], &d[1], &d[2]};
    Sanji__StationStatus s = SANJI__STATION_STATUS__INIT;
    s.presence = pd;
    s.n_presence = 3;
    const Sanji__PresenceDay *today, *last;
    sc_netview_presence(&s, now(), &today, &last);
    assert_ptr_equal(today, &d[0]);
    assert_ptr_equal(last, &d[2]); /* the latest before today */
    char buf[32];
    sc_netview_staffed_text(today, buf, sizeof buf);
    assert_string_equal(buf, "1.5/9");
    sc_netview_staffed_text(last, buf, sizeof buf);
    assert_string_equal(buf, "6.5/9");
    sc_netview_staffed_text(NULL, buf, sizeof buf);
    assert_string_equal(buf, "-");
    s.n_presence = 0;
    sc_netview_presence(&s, now(), &today, &last);
    assert_null(today);
    assert_null(last);
    /* The share: under 80 % of 540 minutes (432) is warned of, 432 not. */
    Sanji__PresenceDay at = day("2026-12-07", 540, 432), under = day("2026-12-07", 540, 431),
                       off = day("2026-12-06", 0, 0);
    assert_false(sc_netview_understaffed(&at, 80));
    assert_true(sc_netview_understaffed(&under, 80));
    assert_false(sc_netview_understaffed(&off, 80));
    assert_false(sc_netview_understaffed(NULL, 80));
    assert_false(sc_netview_understaffed(&under, 0));
}

static void test_unstaffed_warning(void **state)
{
    (void)state;
    /* Station A staffed 6.5 of 9 hours yesterday (72 %), B all of them, a
     * desk none; A's certificate expires in 10 days (a later rule). */
    Sanji__PresenceDay a_last = day("2026-12-07", 540, 390), b_last = day("2026-12-07", 540, 540),
                       d_last = day("2026-12-07", 540, 0);
    Sanji__PresenceDay *pa[] = {&a_last}, *pb[] = {&b_last}, *pdk[] = {&d_last};
    Sanji__StationStatus st[3];
    const char *nodes[] = {"village:410423101201", "village:410423101202",
                           "township-desk:410423101000"};
    Sanji__PresenceDay **lists[] = {pa, pb, pdk};
    Sanji__StationStatus *pst[3];
    for (int i = 0; i < 3; i++) {
        Sanji__StationStatus s = SANJI__STATION_STATUS__INIT;
        st[i] = s;
        st[i].node = (char *)nodes[i];
        st[i].org_unit = (char *)(nodes[i] + strlen(nodes[i]) - 12);
        st[i].connected = true;
        st[i].presence = lists[i];
        st[i].n_presence = 1;
        pst[i] = &st[i];
    }
    st[0].cert_not_after_ms = now() + 10 * INT64_C(86400000);
    Sanji__NodeStatus relay = SANJI__NODE_STATUS__INIT;
    relay.node = "relay:410423101000";
    relay.org_unit = "410423101000";
    relay.upstream_online = true;
    relay.stations = pst;
    relay.n_stations = 3;
    Sanji__NodeStatus *np[] = {&relay};
    Sanji__NetworkStatus ns = SANJI__NETWORK_STATUS__INIT;
    ns.nodes = np;
    ns.n_nodes = 1;
    ns.offline_warn_working_days = 3;
    ns.cert_warn_days = 30;
    ns.staffed_warn_percent = 80;
    ns.duty_hours = "08:30-17:30";
    sc_netview_warning *w;
    size_t n;
    sj_error err;
    assert_int_equal(sc_netview_warnings(&ns, now(), &w, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(w[0].kind, SC_NETVIEW_UNSTAFFED);
    assert_string_equal(w[0].node, "village:410423101201");
    assert_int_equal(w[0].days, 72);
    assert_ptr_equal(w[0].presence, &a_last);
    assert_int_equal(w[1].kind, SC_NETVIEW_CERT_EXPIRING);
    char text[512];
    sc_netview_warning_text(&w[0], NULL, NULL, text, sizeof text);
    assert_non_null(strstr(text, "410423101201"));
    assert_non_null(strstr(text, "2026-12-07"));
    assert_non_null(strstr(text, "6.5/9"));
    assert_non_null(strstr(text, "在岗"));
    free(w);
    /* A county that sends no share (a relay's own answer) warns of nothing. */
    ns.staffed_warn_percent = 0;
    assert_int_equal(sc_netview_warnings(&ns, now(), &w, &n, &err), 0);
    assert_int_equal(n, 1);
    free(w);
}

int main(void)
{
    sj_i18n_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_and_text),
        cmocka_unit_test(test_unstaffed_warning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
