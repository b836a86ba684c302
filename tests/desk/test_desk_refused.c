/*
 * test_desk_refused.c - sanji-desk at a station whose link is refused for
 * good: the true reason and what to do, in Chinese, wherever the cadre
 * looks, and saving says the work cannot be delivered.
 *
 * The real tiers on loopback (tests/lib/tiers.h: PostgreSQL,
 * sanji-countyd, sanji-relayd with the county CA's CRL as its tls.crl) and
 * the desk of 410423101204, whose certificate is revoked in that CRL
 * (tests/lib/certs.h "revoked-village"), under Xvfb.  Its store holds the
 * catalogue and one person (desk_fixture_store()), as after an earlier
 * good link.  The relay refuses its handshake; the desk must then show,
 * before anyone logs in, the advice of sc_lasting_advice() ("本站证书已被吊
 * 销，请联系县委组织部重新发证") on the log-in page and in the link bar
 * (not "sent by itself, retrying in N s"); after logging in (offline, from
 * the cached verifier) and registering a case, the banner says the case was
 * saved but cannot be delivered, with the same advice.  The case stays in
 * the outbox, saved, and nothing reaches the county.
 *
 * Nothing waits a fixed time (SJ_TEST_HANG_MS only catches a hang).
 *
 * Entry point: main().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desk_fixture.h"
#include "pg_test.h"
#include "proc.h"
#include "store.h"
#include "tiers.h"

#define NODE "village:410423101204"
#define UNIT "410423101204"
#define PERSON "赵桂兰"
#define PASSWORD "zhiban-2026"
#define ADVICE "本站证书已被吊销，请联系县委组织部重新发证"

typedef struct world {
    sj_test_tiers t;
    char conninfo[1024];
    PGconn *db;
    char store[PATH_MAX];
} world;

static world W;

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_tiers_init(&W.t) != 0)
        return -1;
    W.db = pgt_fresh_db("sanji_desk_refused", W.conninfo, sizeof W.conninfo);
    char relay[PATH_MAX + 32];
    snprintf(relay, sizeof relay, "[tls]\ncrl = %s\n", W.t.certs.crl_file);
    if (!W.db || sj_test_tiers_configure(&W.t, W.conninfo, NULL, relay) != 0 ||
        sj_test_tiers_start(&W.t) != 0)
        return -1;
    snprintf(W.store, sizeof W.store, "%s/v204.db", W.t.certs.dir);
    sj_error err;
    if (desk_fixture_store(W.store, NODE, W.t.source, "p-" UNIT "-01", PERSON, 1, UNIT, PASSWORD,
                           &err) != 0) {
        fprintf(stderr, "store: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (W.db)
        PQfinish(W.db);
    return sj_test_tiers_finish(&W.t, "SANJI_DESK_KEEP");
}

static void test_revoked_station_is_told_why_and_what_to_do(void **state)
{
    (void)state;
    char crt[PATH_MAX], key[PATH_MAX], addr[64], bin[PATH_MAX + 32];
    sj_test_certs_path(&W.t.certs, "revoked-village", "crt", crt, sizeof crt);
    sj_test_certs_path(&W.t.certs, "revoked-village", "key", key, sizeof key);
    snprintf(addr, sizeof addr, "127.0.0.1:%d", W.t.relay_port);
    snprintf(bin, sizeof bin, "%s/client/desk/sanji-desk", W.t.build);
    const char *args[] = {"--cert", crt, "--key", key, "--ca", W.t.certs.ca_file,
                          "--address", addr, "--peer", "relay:410423101000",
                          "--store", W.store, NULL};
    g_autofree char *s_refused = desk_fixture_shot("link-refused");
    g_autofree char *script = g_strconcat(
        "wait-page login 20\n"
        /* Before anyone logs in: the relay's refusal, told as it is. */
        "wait-text login.refusal " ADVICE " 120\n"
        "wait-text link.state 被拒 10\n"
        "expect-text link.detail " ADVICE "\n"
        "expect-no-text link.detail 自动发送\n"
        "print login.refusal\n"
        "print link.detail\n"
        /* Logging in works offline, from the cached verifier. */
        "set login.person " PERSON "\n"
        "set login.password " PASSWORD "\n"
        "click login.submit\n"
        "wait-page home 30\n"
        "expect-text link.detail " ADVICE "\n"
        "click home.register\n"
        "wait-page register\n"
        "set register.search 低保\n"
        "select-text register.items 城乡低保申请\n"
        "set register.name 张建国\n"
        "set register.id 410423198001011238\n"
        "set register.phone 13812345678\n"
        "set register.text '家中两位老人无固定收入，申请城乡低保。'\n"
        "click register.save\n"
        "wait-page case 10\n"
        /* Saved, but it cannot be delivered: why and what to do. */
        "wait-text banner 无法送出 10\n"
        "expect-text banner " ADVICE "\n"
        "print banner\n",
        s_refused, "quit\n", NULL);
    int rc = desk_fixture_run(XVFB_RUN, bin, W.t.certs.dir, "v204", args, script);
    assert_int_equal(rc, 0);

    /* The case waits in the outbox, saved; the county has nothing. */
    sc_store *st = NULL;
    sj_error err;
    if (sc_store_open(W.store, NODE, &st, &err) != 0)
        fail_msg("store: %s", err.message);
    sc_outbox_entry *rows = NULL;
    size_t n = 0;
    assert_int_equal(sc_store_outbox_list(st, false, &rows, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].state, SC_OUT_SAVED);
    sc_store_outbox_free(rows, n);
    sc_store_close(st);
    char *cases = pgt_scalar(W.db, "SELECT count(*) FROM cases WHERE village = '" UNIT "'");
    assert_non_null(cases);
    assert_string_equal(cases, "0");
    free(cases);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_revoked_station_is_told_why_and_what_to_do),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
