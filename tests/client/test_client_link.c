/*
 * test_client_link.c - the client library over real TLS on 127.0.0.1 with
 * certificates from sanji-pki.  The other end is a small peer in this file
 * that answers as docs/PROTOCOL.md says a relay does (Welcome, reference
 * data, feed, acks), so that the client's side of the conversation is
 * checked on its own: offline log-in from the cached verifiers, a
 * registration going saved -> reached the township -> recorded by the
 * county with the feed filling the cache, a refusal with its reason and the
 * current case, and an action saved while the relay is down being resent
 * with the same message id once it is back; a relay that refuses the
 * station for good (out of its township) makes it wait minutes and the
 * refusal is remembered across restarts; feed deltas taken, and one
 * against a version the station does not hold asked for again whole; a
 * clock fallen back years is
 * refused before saving; wrong passwords are slowed, across restarts.
 *
 * Every wait is for an event or a state of the client and fails only at
 * SJ_TEST_HANG_MS (proc.h): nothing depends on how fast the machine is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "case_delta.h"
#include "certs.h"
#include "clock.h"
#include "listener.h"
#include "password.h"
#include "proc.h"
#include "sanji_client.h"
#include "tls.h"

#define VILLAGE "410423101201"
#define PERSON "p-410423101201-01"

static sj_test_certs certs;
static char verifier[SJ_PASSWORD_VERIFIER_SIZE];

/* ---- the peer ---------------------------------------------------------- */

typedef struct peer {
    uv_loop_t *loop;
    sj_tls_ctx *ctx;
    sj_listener *l;
    int port;
    bool refuse;               /* answer submits with REFUSED */
    bool refuse_scope;         /* answer Hello with Goodbye(SCOPE), for good */
    unsigned submits;
    uint8_t last_id[16];
    uint64_t feed_seq;
    sj_conn *conn;             /* the station's link, once it said Hello */
    bool hello_deltas;         /* its Hello asked for feed deltas */
    unsigned feed_requests;    /* FeedRequests received, and the last one's cursor */
    uint64_t request_after;
    uint8_t *last_case;        /* the last case recorded, packed */
    size_t last_case_len;
} peer;

static void send_env(sj_conn *conn, Sanji__Envelope *env)
{
    sj_error err;
    assert_int_equal(sj_conn_send(conn, env, NULL, &err), 0);
}

static void peer_hello(sj_conn *conn)
{
    Sanji__Welcome w = SANJI__WELCOME__INIT;
    w.version = 1;
    w.node = (char *)"relay:410423101000";
    w.server_time_ms = sj_clock_real_ms();
    w.upstream_online = true;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    send_env(conn, &env);

    Sanji__CatalogueItem it = SANJI__CATALOGUE_ITEM__INIT, it2 = SANJI__CATALOGUE_ITEM__INIT;
    it.code = (char *)"MZ-003";
    it.category = (char *)"MZ";
    it.name = (char *)"城乡低保申请";
    it.min_level = SANJI__LEVEL__LEVEL_COUNTY;
    it.limit_days = 15;
    it.active = true;
    it2.code = (char *)"ZX-001";
    it2.category = (char *)"ZX";
    it2.name = (char *)"政策咨询";
    it2.min_level = SANJI__LEVEL__LEVEL_VILLAGE;
    it2.limit_days = 1;
    it2.active = true;
    Sanji__CatalogueItem *items[] = {&it, &it2};
    Sanji__CatalogueSync cs = SANJI__CATALOGUE_SYNC__INIT;
    cs.version = 3;
    cs.items = items;
    cs.n_items = 2;
    env.body_case = SANJI__ENVELOPE__BODY_CATALOGUE_SYNC;
    env.catalogue_sync = &cs;
    send_env(conn, &env);

    Sanji__Person p = SANJI__PERSON__INIT;
    p.id = (char *)PERSON;
    p.name = (char *)"王村干";
    p.role = SANJI__PERSON_ROLE__PERSON_ROLE_VILLAGE_CADRE;
    p.org_unit = (char *)VILLAGE;
    p.verifier = verifier;
    p.active = true;
    /* Beside the one who logs in: a colleague, one who left (inactive),
     * one of another village and a township clerk: only the first two may
     * log in here. */
    Sanji__Person p2 = p, gone = p, other = p, clerk = p;
    p2.id = (char *)"p-410423101201-02";
    p2.name = (char *)"李会计";
    gone.id = (char *)"p-410423101201-03";
    gone.name = (char *)"赵离任";
    gone.active = false;
    other.id = (char *)"p-410423101202-01";
    other.name = (char *)"钱外村";
    other.org_unit = (char *)"410423101202";
    clerk.id = (char *)"p-410423101201-04";
    clerk.name = (char *)"孙镇干";
    clerk.role = SANJI__PERSON_ROLE__PERSON_ROLE_TOWNSHIP_STAFF;
    Sanji__Person *pp[] = {&p, &gone, &other, &p2, &clerk};
    Sanji__PersonSync ps = SANJI__PERSON_SYNC__INIT;
    ps.version = 5;
    ps.persons = pp;
    ps.n_persons = sizeof(pp) / sizeof(pp[0]);
    env.body_case = SANJI__ENVELOPE__BODY_PERSON_SYNC;
    env.person_sync = &ps;
    send_env(conn, &env);

    Sanji__FeedUpdate cu = SANJI__FEED_UPDATE__INIT;
    cu.caught_up = true;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
    env.feed_update = &cu;
    send_env(conn, &env);
}

static void peer_ack(sj_conn *conn, const uint8_t id[16], Sanji__AckStatus st, Sanji__Case *current)
{
    Sanji__Ack a = SANJI__ACK__INIT;
    a.message_id.data = (uint8_t *)id;
    a.message_id.len = 16;
    a.status = st;
    if (st == SANJI__ACK_STATUS__ACK_STATUS_APPLIED) {
        a.case_number = (char *)"410423-20261123-0001";
        a.case_version = 1;
    }
    if (st == SANJI__ACK_STATUS__ACK_STATUS_REFUSED) {
        a.code = SJ_ESTALE_VERSION;
        a.reason = (char *)"该事项已被他人更新";
        a.current = current;
    }
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_ACK;
    env.ack = &a;
    send_env(conn, &env);
}

static void peer_on_message(sj_conn *conn, const Sanji__Envelope *env, const uint8_t *payload,
                            size_t len)
{
    peer *p = sj_conn_data(conn);
    (void)payload;
    (void)len;
    if (env->body_case == SANJI__ENVELOPE__BODY_FEED_REQUEST) {
        p->feed_requests++;
        for (size_t i = 0; i < env->feed_request->n_cursors; i++)
            p->request_after = env->feed_request->cursors[i]->after_seq;
        return;
    }
    if (env->body_case == SANJI__ENVELOPE__BODY_HELLO) {
        p->conn = conn;
        p->hello_deltas = env->hello->feed_deltas;
        if (p->refuse_scope)
            sj_conn_close(conn, SJ_ESCOPE, "not of this township");
        else
            peer_hello(conn);
        return;
    }
    if (env->body_case != SANJI__ENVELOPE__BODY_CASE_SUBMIT)
        return;
    const Sanji__CaseSubmit *s = env->case_submit;
    p->submits++;
    memcpy(p->last_id, env->message_id.data, 16);
    /* The case as the county would record it. */
    Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    ap.name = s->applicant->name;
    Sanji__Case c = SANJI__CASE__INIT;
    c.case_id = s->case_id;
    c.number = (char *)"410423-20261123-0001";
    c.village = s->village;
    c.item_code = s->item_code;
    c.item_name = (char *)"城乡低保申请";
    c.applicant = &ap;
    c.holder_level = SANJI__LEVEL__LEVEL_VILLAGE;
    c.holder_unit = s->village;
    c.status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
    c.version = 1;
    c.registered_at_ms = s->registered_at_ms;
    c.first_receiver = s->actor_person;
    if (p->refuse) {
        peer_ack(conn, env->message_id.data, SANJI__ACK_STATUS__ACK_STATUS_REFUSED, &c);
        return;
    }
    free(p->last_case);
    p->last_case_len = sanji__case__get_packed_size(&c);
    p->last_case = malloc(p->last_case_len);
    assert_non_null(p->last_case);
    sanji__case__pack(&c, p->last_case);
    peer_ack(conn, env->message_id.data, SANJI__ACK_STATUS__ACK_STATUS_STORED, NULL);
    peer_ack(conn, env->message_id.data, SANJI__ACK_STATUS__ACK_STATUS_APPLIED, NULL);
    Sanji__CaseEvent ev = SANJI__CASE_EVENT__INIT;
    ev.case_id = s->case_id;
    ev.seq = 1;
    ev.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_REGISTER;
    ev.to_status = SANJI__CASE_STATUS__CASE_STATUS_REGISTERED;
    ev.message_id = env->message_id;
    Sanji__FeedUpdate u = SANJI__FEED_UPDATE__INIT;
    u.village = (char *)VILLAGE;
    u.seq = ++p->feed_seq;
    u.snapshot = &c;
    u.event = &ev;
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
    out.feed_update = &u;
    send_env(conn, &out);
}

static void peer_on_close(sj_conn *conn, int status, const sj_error *why)
{
    (void)conn;
    (void)status;
    (void)why;
}

static const sj_conn_callbacks PEER_CBS = {
    .on_message = peer_on_message,
    .on_close = peer_on_close,
};

static void peer_listen(peer *p, int port)
{
    sj_error err;
    p->l = sj_listener_new(p->loop, p->ctx, NULL, &PEER_CBS, p, &err);
    assert_non_null(p->l);
    if (sj_listener_listen(p->l, "127.0.0.1", port, 16, &err) != 0)
        fail_msg("listen: %s", err.message);
    p->port = sj_listener_port(p->l);
}

static bool closed_flag;
static void on_listener_closed(sj_listener *l)
{
    (void)l;
    closed_flag = true;
}

/* Runs the loop until cond(arg) holds; fails at the hang deadline. */
static void run_until_cond(uv_loop_t *loop, bool (*cond)(void *), void *arg, const char *what)
{
    int64_t end = sj_clock_mono_ms() + SJ_TEST_HANG_MS;
    while (!cond(arg) && sj_clock_mono_ms() < end)
        uv_run(loop, UV_RUN_NOWAIT), uv_sleep(1);
    if (!cond(arg))
        fail_msg("%s: not within %d ms", what, SJ_TEST_HANG_MS);
}

static bool flag_set(void *flag)
{
    return *(bool *)flag;
}

static void run_until(uv_loop_t *loop, bool *flag)
{
    run_until_cond(loop, flag_set, flag, "waiting for an event");
}

static void peer_close(peer *p)
{
    closed_flag = false;
    sj_listener_close(p->l, on_listener_closed);
    run_until(p->loop, &closed_flag);
    sj_listener_free(p->l);
    p->l = NULL;
}

/* ---- the client side --------------------------------------------------- */

typedef struct world {
    uv_loop_t loop;
    peer p;
    sc_client *c;
    char dir[256];
    char store[512];
    sc_event_type seen[64];
    size_t n_seen;
    bool caught_up, applied, refused, stored, logged_in, stopped;
    int login_status;
    int refused_code;
    char reason[256];
    int down_code;             /* the last LINK_DOWN's code, and its wait */
    uint64_t down_retry_ms;
} world;

static void on_event(sc_client *c, const sc_event *ev, void *data)
{
    world *w = data;
    (void)c;
    if (w->n_seen < 64)
        w->seen[w->n_seen++] = ev->type;
    if (ev->type == SC_EV_CAUGHT_UP)
        w->caught_up = true;
    if (ev->type == SC_EV_STORED)
        w->stored = true;
    if (ev->type == SC_EV_APPLIED)
        w->applied = true;
    if (ev->type == SC_EV_LINK_DOWN) {
        w->down_code = ev->code;
        w->down_retry_ms = ev->retry_in_ms;
    }
    if (ev->type == SC_EV_REFUSED) {
        w->refused = true;
        w->refused_code = ev->code;
        snprintf(w->reason, sizeof(w->reason), "%s", ev->reason);
    }
}

static void client_new(world *w, int port)
{
    char cert[512], key[512], addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    const char *addrs[] = {addr};
    sc_config cfg = {
        .cert_file = sj_test_certs_path(&certs, "village", "crt", cert, sizeof(cert)),
        .key_file = sj_test_certs_path(&certs, "village", "key", key, sizeof(key)),
        .ca_file = certs.ca_file,
        .crl_file = certs.crl_file,
        .addresses = addrs,
        .n_addresses = 1,
        .expected_peer = "relay:410423101000",
        .store_path = w->store,
        .backoff_base_ms = 20,
        .backoff_cap_ms = 100,
    };
    sj_error err;
    if (sc_client_new(&w->loop, &cfg, on_event, w, &w->c, &err) != 0)
        fail_msg("client: %s", err.message);
}

static void on_stopped(sc_client *c, void *data)
{
    (void)c;
    ((world *)data)->stopped = true;
}

static void client_free(world *w)
{
    w->stopped = false;
    sc_client_stop(w->c, on_stopped);
    run_until(&w->loop, &w->stopped);
    sc_client_free(w->c);
    w->c = NULL;
}

static void login_cb(sc_client *c, int status, const sj_error *err, void *data)
{
    world *w = data;
    (void)c;
    (void)err;
    w->login_status = status;
    w->logged_in = true;
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    uv_loop_init(&w->loop);
    snprintf(w->dir, sizeof(w->dir), "/tmp/sanji-test-client-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->store, sizeof(w->store), "%s/client.db", w->dir);
    char cert[512], key[512];
    static const sj_node_role roles[] = {SJ_NODE_ROLE_VILLAGE};
    sj_tls_config tc = {
        .ca_file = certs.ca_file,
        .cert_file = sj_test_certs_path(&certs, "relay", "crt", cert, sizeof(cert)),
        .key_file = sj_test_certs_path(&certs, "relay", "key", key, sizeof(key)),
        .is_server = true,
        .allowed_peer_roles = roles,
        .n_allowed_peer_roles = 1,
    };
    sj_error err;
    w->p.loop = &w->loop;
    w->p.ctx = sj_tls_ctx_new(&tc, &err);
    assert_non_null(w->p.ctx);
    peer_listen(&w->p, 0);
    /* First contact: reference data arrives, then a log-in from the cached
     * verifier. */
    client_new(w, w->p.port);
    assert_int_equal(sc_client_start(w->c, &err), 0);
    run_until(&w->loop, &w->caught_up);
    assert_int_equal(sc_login(w->c, "王村干", "mima-123", login_cb, w, &err), 0);
    run_until(&w->loop, &w->logged_in);
    assert_int_equal(w->login_status, 0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    if (w->c)
        client_free(w);
    if (w->p.l)
        peer_close(&w->p);
    sj_tls_ctx_free(w->p.ctx);
    free(w->p.last_case);
    uv_run(&w->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&w->loop), 0);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
    assert_int_equal(system(cmd), 0);
    free(w);
    return 0;
}

static const sc_register_req REQ = {
    .item_code = "MZ-003",
    .applicant_name = "张三",
    .id_number = "11010519491231002X",
    .phone = "13800138000",
    .request_text = "申请城乡低保",
};

/* The client's feed cursor of its village has reached the peer's. */
static bool feed_applied(void *arg)
{
    world *w = arg;
    sc_status_info st;
    sj_error err;
    return sc_status(w->c, &st, &err) == 0 && st.n_cursors == 1 &&
           st.cursors[0].after_seq >= w->p.feed_seq;
}

/* The client has tried the relay and failed (it is down). */
static bool link_failed(void *arg)
{
    world *w = arg;
    sc_status_info st;
    sj_error err;
    return sc_status(w->c, &st, &err) == 0 && st.last_error != 0;
}

static size_t index_of(const world *w, sc_event_type t)
{
    for (size_t i = 0; i < w->n_seen; i++)
        if (w->seen[i] == t)
            return i;
    return SIZE_MAX;
}

static void test_register_saved_stored_applied(void **state)
{
    world *w = *state;
    sj_error err;
    uint8_t cid[16], mid[16];
    w->n_seen = 0;
    assert_int_equal(sc_register(w->c, &REQ, cid, mid, &err), 0);
    run_until(&w->loop, &w->applied);
    /* Saved before reached the township before recorded by the county. */
    size_t sv = index_of(w, SC_EV_SAVED), so = index_of(w, SC_EV_STORED),
           ap = index_of(w, SC_EV_APPLIED);
    if (!(sv < so && so < ap))
        fail_msg("event order saved=%zu stored=%zu applied=%zu", sv, so, ap);
    /* The feed update that follows the ack is in the store. */
    run_until_cond(&w->loop, feed_applied, w, "the feed update after the ack");
    sc_case_detail d;
    uint8_t found[16];
    assert_int_equal(sc_find_case(w->c, "410423-20261123-0001", found, &err), 0);
    assert_memory_equal(found, cid, 16);
    assert_int_equal(sc_get_case(w->c, cid, &d, &err), 0);
    assert_false(d.predicted);
    assert_string_equal(d.c->number, "410423-20261123-0001");
    assert_int_equal(d.n_events, 1);
    assert_int_equal(d.n_pending, 1);
    assert_int_equal(d.pending[0].state, SC_OUT_APPLIED);
    assert_memory_equal(d.pending[0].message_id, mid, 16);
    sc_case_detail_free(&d);
    sc_status_info st;
    assert_int_equal(sc_status(w->c, &st, &err), 0);
    assert_true(st.link_up);
    assert_int_equal(st.outbox.saved + st.outbox.stored, 0);
    assert_int_equal(st.n_cursors, 1);
    assert_int_equal(st.cursors[0].after_seq, 1);
}

/* One feed row from the peer: the case whole, or as a delta against base. */
static void peer_feed(peer *p, const Sanji__Case *next, const Sanji__Case *base,
                      uint64_t base_version)
{
    Sanji__CaseEvent ev = SANJI__CASE_EVENT__INIT;
    ev.case_id = next->case_id;
    ev.seq = (uint32_t)next->version;
    ev.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_ACCEPT;
    Sanji__FeedUpdate u = SANJI__FEED_UPDATE__INIT;
    u.village = (char *)VILLAGE;
    u.seq = ++p->feed_seq;
    u.event = &ev;
    Sanji__CaseDelta *d = NULL;
    sj_error err;
    if (base) {
        assert_int_equal(sj_case_delta_make(base, next, &d, &err), 0);
        u.base_version = base_version;
        u.delta = d;
    } else {
        u.snapshot = (Sanji__Case *)next;
    }
    Sanji__Envelope out = SANJI__ENVELOPE__INIT;
    out.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
    out.feed_update = &u;
    send_env(p->conn, &out);
    if (d)
        sanji__case_delta__free_unpacked(d, NULL);
}

static void peer_caught_up(peer *p)
{
    Sanji__FeedUpdate cu = SANJI__FEED_UPDATE__INIT;
    cu.caught_up = true;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_FEED_UPDATE;
    env.feed_update = &cu;
    send_env(p->conn, &env);
}

static bool feed_requested(void *arg)
{
    return ((world *)arg)->p.feed_requests > 0;
}

/* The client's stored case (the county's copy) packs to exactly want. */
static void assert_stored_case(world *w, const Sanji__Case *want)
{
    sc_case_detail d;
    sj_error err;
    assert_int_equal(sc_get_case(w->c, want->case_id.data, &d, &err), 0);
    assert_false(d.predicted);
    size_t a = sanji__case__get_packed_size(d.c), b = sanji__case__get_packed_size(want);
    uint8_t *pa = malloc(a), *pb = malloc(b);
    sanji__case__pack(d.c, pa);
    sanji__case__pack(want, pb);
    assert_int_equal(a, b);
    assert_memory_equal(pa, pb, a);
    free(pa);
    free(pb);
    sc_case_detail_free(&d);
}

/* Feed deltas (PROTOCOL.md "The downward feed"): the station asks for them
 * in its Hello, rebuilds a delta on the case it holds, and one made against
 * a version it does not hold is not stored: it asks for the feed again from
 * its cursor, and counts no caught_up until that row came whole. */
static void test_feed_delta_taken_or_asked_again(void **state)
{
    world *w = *state;
    sj_error err;
    uint8_t cid[16], mid[16];
    assert_true(w->p.hello_deltas);
    assert_int_equal(sc_register(w->c, &REQ, cid, mid, &err), 0);
    run_until_cond(&w->loop, feed_applied, w, "the registration's feed update");
    Sanji__Case *v1 = sanji__case__unpack(NULL, w->p.last_case_len, w->p.last_case);
    assert_non_null(v1);

    /* 签收 at the township: a delta against version 1, which it holds. */
    Sanji__Case v2 = *v1;
    v2.version = 2;
    v2.status = SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP;
    v2.holder_level = SANJI__LEVEL__LEVEL_TOWNSHIP;
    v2.holder_unit = (char *)"410423101000";
    v2.first_receiver = (char *)""; /* a field cleared */
    peer_feed(&w->p, &v2, v1, 1);
    run_until_cond(&w->loop, feed_applied, w, "the delta");
    assert_stored_case(w, &v2);
    sc_status_info st;
    assert_int_equal(sc_status(w->c, &st, &err), 0);
    assert_int_equal(st.feed_deltas, 1);

    /* A delta against version 1 again: the store holds 2.  Nothing stored,
     * the feed asked for again from the cursor. */
    uint64_t cursor = w->p.feed_seq;
    Sanji__Case v3 = v2;
    v3.version = 3;
    v3.status = SANJI__CASE_STATUS__CASE_STATUS_RESOLVED;
    v3.result = (char *)"已办结";
    w->p.feed_requests = 0;
    w->caught_up = false;
    peer_feed(&w->p, &v3, v1, 1);
    peer_caught_up(&w->p); /* said before the relay read the request */
    run_until_cond(&w->loop, feed_requested, w, "the FeedRequest after a delta not taken");
    assert_int_equal(w->p.request_after, cursor);
    assert_stored_case(w, &v2);
    assert_int_equal(sc_status(w->c, &st, &err), 0);
    assert_int_equal(st.cursors[0].after_seq, cursor);
    assert_int_equal(st.feed_deltas, 1);
    assert_false(st.caught_up);
    /* The relay sends the row whole: stored, then caught_up counts. */
    w->p.feed_seq = cursor;
    peer_feed(&w->p, &v3, NULL, 0);
    peer_caught_up(&w->p);
    run_until(&w->loop, &w->caught_up);
    assert_stored_case(w, &v3);
    sanji__case__free_unpacked(v1, NULL);
}

static void test_refusal_reason_and_current_case(void **state)
{
    world *w = *state;
    sj_error err;
    uint8_t cid[16];
    w->p.refuse = true;
    assert_int_equal(sc_register(w->c, &REQ, cid, NULL, &err), 0);
    run_until(&w->loop, &w->refused);
    assert_int_equal(w->refused_code, SJ_ESTALE_VERSION);
    assert_string_equal(w->reason, "该事项已被他人更新");
    /* The current case that came with the refusal is now in the cache. */
    sc_case_detail d;
    assert_int_equal(sc_get_case(w->c, cid, &d, &err), 0);
    assert_string_equal(d.c->number, "410423-20261123-0001");
    assert_int_equal(d.pending[0].state, SC_OUT_REFUSED);
    sc_case_detail_free(&d);
}

static void test_persons_lists_who_may_log_in_here(void **state)
{
    world *w = *state;
    sj_error err;
    sc_person_entry *v = NULL;
    size_t n = 99;
    assert_int_equal(sc_persons(w->c, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_non_null(v);
    assert_string_equal(v[0].id, PERSON);
    assert_string_equal(v[0].name, "王村干");
    assert_int_equal(v[0].role, SJ_ROLE_VILLAGE_CADRE);
    assert_string_equal(v[1].id, "p-410423101201-02");
    assert_string_equal(v[1].name, "李会计");
    free(v);
}

static void test_local_validation_refuses_before_saving(void **state)
{
    world *w = *state;
    sj_error err;
    static const struct {
        const char *item, *id, *phone, *text;
        int want;
    } cases[] = {
        {"XX-999", "11010519491231002X", "13800138000", "t", SJ_EUNKNOWN_ITEM},
        {"MZ-003", "110105194912310021", "13800138000", "t", SJ_EBAD_ID_NUMBER},
        {"MZ-003", "11010519491231002X", "12345", "t", SJ_EBAD_PHONE},
        {"MZ-003", "11010519491231002X", "13800138000", "  ", SJ_EMISSING_FIELD},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sc_register_req r = REQ;
        r.item_code = cases[i].item;
        r.id_number = cases[i].id;
        r.phone = cases[i].phone;
        r.request_text = cases[i].text;
        int rc = sc_register(w->c, &r, NULL, NULL, &err);
        if (rc != cases[i].want)
            fail_msg("case %zu: got %s (%s), want %s", i, sj_err_name(rc), err.message,
                     sj_err_name(cases[i].want));
    }
    sc_status_info st;
    assert_int_equal(sc_status(w->c, &st, &err), 0);
    assert_int_equal(st.outbox.saved + st.outbox.stored + st.outbox.applied + st.outbox.refused, 0);
}

static void test_offline_save_then_resend_same_id(void **state)
{
    world *w = *state;
    sj_error err;
    int port = w->p.port;
    client_free(w);
    peer_close(&w->p);
    /* The relay is down: the action is saved, and survives a restart of
     * the client. */
    client_new(w, port);
    assert_int_equal(sc_use_person(w->c, &err), 0);
    assert_int_equal(sc_client_start(w->c, &err), 0);
    uint8_t mid[16];
    assert_int_equal(sc_register(w->c, &REQ, NULL, mid, &err), 0);
    /* It has tried the relay and found it down. */
    run_until_cond(&w->loop, link_failed, w, "a failed attempt to reach the relay");
    sc_status_info st;
    assert_int_equal(sc_status(w->c, &st, &err), 0);
    assert_false(st.link_up);
    assert_int_equal(st.outbox.saved, 1);
    client_free(w);
    client_new(w, port);
    assert_int_equal(sc_use_person(w->c, &err), 0);
    assert_int_equal(sc_client_start(w->c, &err), 0);
    /* Started again, it finds the relay still down ... */
    run_until_cond(&w->loop, link_failed, w, "a failed attempt to reach the relay");
    /* ... until it comes back on the same port. */
    peer_listen(&w->p, port);
    w->applied = false;
    run_until(&w->loop, &w->applied);
    assert_int_equal(w->p.submits, 1);
    assert_memory_equal(w->p.last_id, mid, 16);
}

static bool refused_for_good(void *arg)
{
    return ((world *)arg)->down_code == SJ_ESCOPE;
}

/* A relay that refuses the station for good (here: not of its township):
 * the station waits minutes, not milliseconds, before it dials again, and
 * remembers the refusal across restarts so that saved work is known to be
 * stuck; a link the relay takes again clears it. */
static void test_lasting_refusal_waits_and_is_remembered(void **state)
{
    world *w = *state;
    sj_error err;
    int port = w->p.port;
    client_free(w);
    w->p.refuse_scope = true;
    client_new(w, port);
    assert_int_equal(sc_client_start(w->c, &err), 0);
    run_until_cond(&w->loop, refused_for_good, w, "the relay's refusal");
    assert_true(w->down_retry_ms >= 300000);
    assert_int_equal(sc_lasting_refusal(w->c), SJ_ESCOPE);
    sc_status_info st;
    assert_int_equal(sc_status(w->c, &st, &err), 0);
    assert_int_equal(st.lasting_refusal, SJ_ESCOPE);
    client_free(w);
    client_new(w, port);
    assert_int_equal(sc_lasting_refusal(w->c), SJ_ESCOPE);
    w->p.refuse_scope = false;
    w->caught_up = false;
    assert_int_equal(sc_client_start(w->c, &err), 0);
    run_until(&w->loop, &w->caught_up);
    assert_int_equal(sc_lasting_refusal(w->c), 0);
}

/* A clock that fell back years (a dead CMOS battery) is refused before
 * anything is saved; a right clock weeks after the last contact (a station
 * offline that long) saves. */
static void test_clock_far_behind_the_network_refuses_saving(void **state)
{
    world *w = *state;
    sj_error err;
    sj_clock_set_fake_offset_ms(-6LL * 365 * 86400000);
    int rc = sc_register(w->c, &REQ, NULL, NULL, &err);
    sj_clock_set_fake_offset_ms(0);
    if (rc != SJ_EBAD_TIME)
        fail_msg("got %s (%s), want BAD_TIME", sj_err_name(rc), err.message);
    sc_status_info st;
    assert_int_equal(sc_status(w->c, &st, &err), 0);
    assert_int_equal(st.outbox.saved + st.outbox.stored + st.outbox.applied, 0);
    int port = w->p.port;
    client_free(w);
    peer_close(&w->p);
    client_new(w, port);
    assert_int_equal(sc_use_person(w->c, &err), 0);
    sj_clock_set_fake_offset_ms(21LL * 86400000);
    rc = sc_register(w->c, &REQ, NULL, NULL, &err);
    sj_clock_set_fake_offset_ms(0);
    if (rc != 0)
        fail_msg("offline three weeks later: %s (%s)", sj_err_name(rc), err.message);
}

static int try_login(world *w, const char *password)
{
    sj_error err;
    w->logged_in = false;
    int rc = sc_login(w->c, "王村干", password, login_cb, w, &err);
    if (rc != 0)
        return rc;
    run_until(&w->loop, &w->logged_in);
    return w->login_status;
}

/* After three wrong passwords the next try waits, even with the right
 * password and across a restart; once the wait is over the right one logs
 * in and clears the count. */
static void test_wrong_passwords_slowed_across_restarts(void **state)
{
    world *w = *state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(try_login(w, "guess"), SJ_EAUTH);
    sj_error err;
    assert_int_equal(sc_login(w->c, "王村干", "mima-123", login_cb, w, &err), SJ_EAUTH);
    int port = w->p.port;
    client_free(w);
    client_new(w, port);
    assert_int_equal(sc_login(w->c, "王村干", "mima-123", login_cb, w, &err), SJ_EAUTH);
    sj_clock_set_fake_offset_ms(3600000);
    int rc = try_login(w, "mima-123");
    sj_clock_set_fake_offset_ms(0);
    assert_int_equal(rc, 0);
    assert_int_equal(try_login(w, "guess"), SJ_EAUTH);
    assert_int_equal(try_login(w, "mima-123"), 0);
}

static int group_setup(void **state)
{
    (void)state;
    if (sj_test_certs_setup(&certs) != 0)
        return -1;
    sj_error err;
    return sj_password_make("mima-123", verifier, sizeof(verifier), &err);
}

static int group_teardown(void **state)
{
    (void)state;
    sj_test_certs_cleanup(&certs);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_saved_stored_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_reason_and_current_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_delta_taken_or_asked_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persons_lists_who_may_log_in_here, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_validation_refuses_before_saving, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_save_then_resend_same_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lasting_refusal_waits_and_is_remembered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_clock_far_behind_the_network_refuses_saving, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_passwords_slowed_across_restarts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
