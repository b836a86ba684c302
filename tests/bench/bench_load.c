/*
 * bench_load.c - simulated village stations for sanji-bench: one
 * common/conn TLS link per station to its township's relay, Hello, then
 * CaseSubmit or CaseAction (RESOLVE of the station's own cases) envelopes
 * with data from tests/lib/workload; Acks are matched by message id and
 * timed: STORED ("reached the township") and APPLIED ("recorded by the
 * county").  Closed loop (a window of messages in flight per station) and
 * open loop (a fixed total rate, latency from the scheduled send time, so
 * that a stall is not hidden by sending less).
 *
 * Entry points: bench_load_new(), bench_load_connect(), bench_load_closed(),
 * bench_load_open(), bench_load_connected(), bench_load_close_all(),
 * bench_load_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clock.h"
#include "conn.h"
#include "envelope.h"
#include "err.h"
#include "uuid.h"

typedef struct pend {
    uint8_t mid[16];
    uint8_t case_id[16];
    uint64_t t0;        /* ns, send (closed loop) or scheduled (open loop) time */
    bench_kind kind;
    bool stored;
    bool measured;
} pend;

typedef struct station {
    bench_load *l;
    sj_conn *conn;
    int idx;
    char village[13], person[16], relay_node[40];
    bool connecting, ready, caught_up, closed, blocked;
    pend *pend;
    size_t n_pend, cap_pend;
    uint8_t (*cases)[16];
    size_t n_cases, cap_cases, next_case;
} station;

typedef struct tls_entry {
    char village[13];
    sj_tls_ctx *ctx;
} tls_entry;

struct bench_load {
    uv_loop_t *loop;
    bench_net *net;
    station *st;
    int n;
    tls_entry *ctxs;
    size_t n_ctxs;
    sj_workload *w;
    int connecting, connected, caught_up, failed, next_connect, parallel;
    /* the running phase */
    bool active;         /* new messages may be sent */
    bool open_loop;
    bench_kind kind;
    int window;
    double rate;
    uint64_t t_begin, t_meas, t_end; /* ns */
    uint64_t open_sent;              /* open loop: messages scheduled so far */
    int rr;                          /* open loop: next station */
    uint64_t in_flight;
    bench_phase_result *r;
    FILE *timeline;          /* bench_load_timeline(), or NULL */
    const char *phase_name;
};

static uint64_t now_ns(void)
{
    return uv_hrtime();
}

/* ---- sending -------------------------------------------------------------------- */

static pend *add_pend(station *s)
{
    if (s->n_pend == s->cap_pend) {
        size_t cap = s->cap_pend ? 2 * s->cap_pend : 8;
        pend *p = realloc(s->pend, cap * sizeof(*p));
        if (!p) {
            fprintf(stderr, "sanji-bench: out of memory\n");
            exit(70);
        }
        s->pend = p;
        s->cap_pend = cap;
    }
    pend *p = &s->pend[s->n_pend++];
    memset(p, 0, sizeof(*p));
    return p;
}

/* Sends one message of the phase's kind timed from t0.  Returns 0, 1 when
 * the station has nothing to send (no case left), SJ_EBACKPRESSURE, or
 * another send code. */
bool bench_load_no_notify;

static int send_one(station *s, uint64_t t0)
{
    bench_load *l = s->l;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    Sanji__CaseSubmit sub = SANJI__CASE_SUBMIT__INIT;
    Sanji__Applicant ap = SANJI__APPLICANT__INIT;
    Sanji__CaseAction act = SANJI__CASE_ACTION__INIT;
    char name[SJ_WORKLOAD_NAME_SIZE], id[SJ_WORKLOAD_ID_SIZE], phone[SJ_WORKLOAD_PHONE_SIZE];
    char text[200];
    uint8_t case_id[16];
    if (l->kind == BENCH_SUBMIT) {
        sj_uuid_v7(case_id);
        sj_workload_applicant(l->w, name, id, phone);
        sj_workload_text(l->w, text, sizeof(text));
        ap.name = name;
        ap.id_number = id;
        ap.phone = phone;
        sub.case_id = (ProtobufCBinaryData){16, case_id};
        sub.village = s->village;
        /* A village-level item, so that the village may resolve it later. */
        sub.item_code = (char *)sj_workload_item(l->w, SJ_LEVEL_VILLAGE);
        sub.applicant = &ap;
        sub.request_text = text;
        sub.actor_person = s->person;
        sub.registered_at_ms = sj_clock_real_ms();
        sub.no_notify = bench_load_no_notify;
        env.body_case = SANJI__ENVELOPE__BODY_CASE_SUBMIT;
        env.case_submit = &sub;
    } else {
        if (s->next_case >= s->n_cases)
            return 1;
        memcpy(case_id, s->cases[s->next_case], 16);
        snprintf(text, sizeof(text), "已为群众办结，材料齐全，当场答复。");
        act.case_id = (ProtobufCBinaryData){16, case_id};
        act.action = SANJI__CASE_ACTION_TYPE__CASE_ACTION_RESOLVE;
        act.expected_version = 1;
        act.actor_person = s->person;
        act.acted_at_ms = sj_clock_real_ms();
        act.result = text;
        env.body_case = SANJI__ENVELOPE__BODY_CASE_ACTION;
        env.case_action = &act;
    }
    uint8_t mid[16];
    sj_error err;
    int rc = sj_conn_send(s->conn, &env, mid, &err);
    if (rc == SJ_EBACKPRESSURE) {
        s->blocked = true;
        return rc;
    }
    if (rc != 0) {
        fprintf(stderr, "sanji-bench: station %s: send: %s\n", s->village, err.message);
        return rc;
    }
    if (l->kind == BENCH_ACTION)
        s->next_case++;
    pend *p = add_pend(s);
    memcpy(p->mid, mid, 16);
    memcpy(p->case_id, case_id, 16);
    p->t0 = t0;
    p->kind = l->kind;
    p->measured = t0 >= l->t_meas && t0 < l->t_end;
    l->in_flight++;
    if (p->measured)
        l->r->sent++;
    return 0;
}

/* Closed loop: fill the station's window. */
static void fill(station *s)
{
    bench_load *l = s->l;
    while (l->active && !l->open_loop && s->caught_up && !s->closed && !s->blocked &&
           s->n_pend < (size_t)l->window) {
        if (send_one(s, now_ns()) != 0)
            return;
    }
}

static void add_case(station *s, const uint8_t id[16])
{
    if (s->n_cases == s->cap_cases) {
        size_t cap = s->cap_cases ? 2 * s->cap_cases : 64;
        void *p = realloc(s->cases, cap * 16);
        if (!p) {
            fprintf(stderr, "sanji-bench: out of memory\n");
            exit(70);
        }
        s->cases = p;
        s->cap_cases = cap;
    }
    memcpy(s->cases[s->n_cases++], id, 16);
}

static void on_ack(station *s, const Sanji__Ack *a)
{
    bench_load *l = s->l;
    if (a->message_id.len != 16)
        return;
    size_t i = 0;
    while (i < s->n_pend && memcmp(s->pend[i].mid, a->message_id.data, 16) != 0)
        i++;
    if (i == s->n_pend)
        return; /* a result of an earlier phase, or a repeat */
    pend *p = &s->pend[i];
    uint64_t us = (now_ns() - p->t0) / 1000;
    if (a->status == SANJI__ACK_STATUS__ACK_STATUS_STORED) {
        if (!p->stored && p->measured && l->r)
            bench_hist_add(&l->r->stored, us);
        p->stored = true;
        return;
    }
    if (p->measured && l->r) {
        if (l->timeline)
            fprintf(l->timeline, "%s\t%.3f\t%.3f\t%d\t%s\n", l->phase_name,
                    (double)(p->t0 - l->t_meas) / 1e6, (double)us / 1e3, s->idx,
                    a->status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED ? "applied" : "refused");
        if (a->status == SANJI__ACK_STATUS__ACK_STATUS_APPLIED) {
            l->r->applied++;
            bench_hist_add(&l->r->recorded, us);
        } else {
            l->r->refused++;
        }
    }
    if (a->status == SANJI__ACK_STATUS__ACK_STATUS_REFUSED) {
        static int shown;
        if (shown++ < 5)
            fprintf(stderr, "sanji-bench: refused: %s %s\n", sj_err_name(a->code), a->reason);
    } else if (p->kind == BENCH_SUBMIT) {
        add_case(s, p->case_id);
    }
    s->pend[i] = s->pend[--s->n_pend];
    l->in_flight--;
    fill(s);
}

/* ---- links ------------------------------------------------------------------------ */

static void send_hello(station *s)
{
    bench_net *n = s->l->net;
    Sanji__Hello h = SANJI__HELLO__INIT;
    h.min_version = 1;
    h.max_version = 1;
    h.software = "sanji-bench";
    /* The versions the county holds: no reference data is sent. */
    h.catalogue_version = n->versions[0];
    h.org_tree_version = n->versions[1];
    h.person_version = n->versions[2];
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.body_case = SANJI__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    sj_error err;
    if (sj_conn_send(s->conn, &env, NULL, &err) != 0)
        fprintf(stderr, "sanji-bench: hello: %s\n", err.message);
}

static void connect_more(bench_load *l);

static void st_ready(sj_conn *c, const sj_identity *peer)
{
    station *s = sj_conn_data(c);
    (void)peer;
    s->ready = true;
    s->connecting = false;
    s->l->connecting--;
    s->l->connected++;
    send_hello(s);
    connect_more(s->l);
}

static void st_message(sj_conn *c, const Sanji__Envelope *env, const uint8_t *p, size_t len)
{
    station *s = sj_conn_data(c);
    (void)p;
    (void)len;
    if (env->body_case == SANJI__ENVELOPE__BODY_ACK) {
        on_ack(s, env->ack);
    } else if (env->body_case == SANJI__ENVELOPE__BODY_FEED_UPDATE &&
               env->feed_update->caught_up && !s->caught_up) {
        s->caught_up = true;
        s->l->caught_up++;
        fill(s);
    }
}

static void st_drain(sj_conn *c)
{
    station *s = sj_conn_data(c);
    s->blocked = false;
    fill(s);
}

static void st_close(sj_conn *c, int status, const sj_error *why)
{
    station *s = sj_conn_data(c);
    bench_load *l = s->l;
    if (s->connecting) {
        s->connecting = false;
        l->connecting--;
        l->failed++;
        connect_more(l);
    } else if (s->ready) {
        l->connected--;
        if (s->caught_up)
            l->caught_up--;
    }
    if (status != 0 && status != SJ_ECANCELLED) {
        static int shown;
        if (shown++ < 5)
            fprintf(stderr, "sanji-bench: station %s link closed: %s: %s\n", s->village,
                    sj_err_name(status), why ? why->message : "");
    }
    l->in_flight -= s->n_pend;
    s->n_pend = 0;
    s->closed = true;
    s->ready = s->caught_up = false;
    sj_conn_free(c);
    s->conn = NULL;
}

static const sj_conn_callbacks STATION_CBS = {
    .on_ready = st_ready, .on_message = st_message, .on_drain = st_drain, .on_close = st_close};

static void on_connected(uv_connect_t *req, int status)
{
    station *s = req->data;
    free(req);
    if (status < 0) {
        sj_conn_close(s->conn, SJ_ECONNECT, NULL);
        return;
    }
    if (sj_conn_start(s->conn) != 0)
        return; /* closing; st_close follows */
}

static sj_tls_ctx *ctx_for(bench_load *l, const char *village)
{
    for (size_t i = 0; i < l->n_ctxs; i++)
        if (strcmp(l->ctxs[i].village, village) == 0)
            return l->ctxs[i].ctx;
    char prefix[PATH_MAX], crt[PATH_MAX + 8], key[PATH_MAX + 8], ca[PATH_MAX];
    if (bench_net_village_cert(l->net, village, prefix, sizeof(prefix)) != 0)
        return NULL;
    snprintf(crt, sizeof(crt), "%s.crt", prefix);
    snprintf(key, sizeof(key), "%s.key", prefix);
    snprintf(ca, sizeof(ca), "%s/ca/ca.crt", l->net->dir);
    static const sj_node_role roles[] = {SJ_NODE_ROLE_RELAY};
    sj_tls_config cfg = {.ca_file = ca, .cert_file = crt, .key_file = key, .is_server = false,
                         .allowed_peer_roles = roles, .n_allowed_peer_roles = 1};
    sj_error err;
    sj_tls_ctx *ctx = sj_tls_ctx_new(&cfg, &err);
    if (!ctx) {
        fprintf(stderr, "sanji-bench: TLS context for %s: %s\n", village, err.message);
        return NULL;
    }
    tls_entry *e = realloc(l->ctxs, (l->n_ctxs + 1) * sizeof(*e));
    if (!e) {
        sj_tls_ctx_free(ctx);
        return NULL;
    }
    l->ctxs = e;
    snprintf(e[l->n_ctxs].village, sizeof(e[l->n_ctxs].village), "%s", village);
    e[l->n_ctxs].ctx = ctx;
    l->n_ctxs++;
    return ctx;
}

static int connect_station(station *s)
{
    bench_load *l = s->l;
    sj_tls_ctx *ctx = ctx_for(l, s->village);
    if (!ctx)
        return SJ_ETLS_KEY;
    sj_error err;
    sj_conn_options o = sj_conn_options_default();
    o.handshake_timeout_ms = 60000;
    s->conn = sj_conn_new(l->loop, ctx, s->relay_node, &o, &STATION_CBS, NULL, &err);
    uv_connect_t *req = malloc(sizeof(*req));
    if (!s->conn || !req) {
        fprintf(stderr, "sanji-bench: %s\n", s->conn ? "out of memory" : err.message);
        free(req);
        if (s->conn)
            sj_conn_close(s->conn, SJ_ENOMEM, NULL);
        return SJ_ENOMEM;
    }
    sj_conn_set_data(s->conn, s);
    s->connecting = true;
    s->closed = false;
    l->connecting++;
    int t = s->idx % l->net->opts.relays;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", l->net->relay_port[t], &addr);
    req->data = s;
    int rc = uv_tcp_connect(req, sj_conn_tcp(s->conn), (struct sockaddr *)&addr, on_connected);
    if (rc != 0) {
        free(req);
        sj_conn_close(s->conn, SJ_ECONNECT, NULL);
    }
    return 0;
}

static void connect_more(bench_load *l)
{
    while (l->next_connect < l->n && l->connecting < l->parallel) {
        station *s = &l->st[l->next_connect++];
        if (connect_station(s) != 0)
            l->failed++;
    }
}

int bench_load_new(uv_loop_t *loop, bench_net *net, int stations, uint64_t seed,
                   bench_load **out)
{
    *out = NULL;
    bench_load *l = calloc(1, sizeof(*l));
    if (!l)
        return SJ_ENOMEM;
    l->loop = loop;
    l->net = net;
    l->n = stations;
    l->st = calloc((size_t)stations, sizeof(*l->st));
    sj_error err;
    char demo[PATH_MAX];
    snprintf(demo, sizeof(demo), "%s/deploy/demo", bench_source_dir());
    if (!l->st || sj_workload_new(seed, demo, &l->w, &err) != 0) {
        fprintf(stderr, "sanji-bench: workload: %s\n", l->st ? err.message : "out of memory");
        free(l->st);
        free(l);
        return SJ_ENOMEM;
    }
    int relays = net->opts.relays;
    for (int i = 0; i < stations; i++) {
        station *s = &l->st[i];
        s->l = l;
        s->idx = i;
        s->closed = true;
        int t = i % relays;
        bench_village(t, (i / relays) % net->opts.villages, s->village);
        snprintf(s->person, sizeof(s->person), "b%s", s->village);
        char town[13];
        bench_township(t, town);
        snprintf(s->relay_node, sizeof(s->relay_node), "relay:%s", town);
    }
    *out = l;
    return 0;
}

static uv_timer_t tick;

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

/* Runs the loop until done(l) or timeout; a 1 ms tick keeps it turning. */
static bool run_until(bench_load *l, bool (*done)(bench_load *), uint64_t timeout_ms,
                      void (*each)(bench_load *))
{
    uv_timer_init(l->loop, &tick);
    uv_timer_start(&tick, on_tick, 1, 1);
    uint64_t deadline = now_ns() + timeout_ms * 1000000ull;
    bool ok = false;
    while (!(ok = done(l)) && now_ns() < deadline) {
        uv_run(l->loop, UV_RUN_ONCE);
        if (each)
            each(l);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(l->loop, UV_RUN_NOWAIT);
    return ok;
}

static bool all_caught_up(bench_load *l)
{
    return l->caught_up + l->failed >= l->n && l->next_connect >= l->n && l->connecting == 0;
}

int bench_load_connect(bench_load *l, int parallel, int timeout_ms)
{
    l->parallel = parallel > 0 ? parallel : 64;
    connect_more(l);
    bool ok = run_until(l, all_caught_up, (uint64_t)timeout_ms, NULL);
    if (!ok || l->failed) {
        fprintf(stderr, "sanji-bench: %d of %d stations ready (%d failed)\n", l->caught_up, l->n,
                l->failed);
        return ok ? SJ_ECONNECT : SJ_ETIMEOUT;
    }
    return 0;
}

int bench_load_connected(const bench_load *l)
{
    return l->caught_up;
}

/* ---- phases ------------------------------------------------------------------------ */

static bool phase_over(bench_load *l)
{
    if (now_ns() >= l->t_end)
        l->active = false;
    return !l->active;
}

static bool drained(bench_load *l)
{
    return l->in_flight == 0;
}

static void open_pump(bench_load *l)
{
    if (!l->active || !l->open_loop)
        return;
    uint64_t t = now_ns();
    double due = (double)(t - l->t_begin) / 1e9 * l->rate;
    int tries = 0;
    while ((double)l->open_sent < due && tries < l->n) {
        station *s = &l->st[l->rr];
        l->rr = (l->rr + 1) % l->n;
        if (!s->caught_up || s->blocked || s->closed) {
            tries++;
            continue;
        }
        uint64_t t0 = l->t_begin + (uint64_t)((double)l->open_sent / l->rate * 1e9);
        int rc = send_one(s, t0);
        if (rc == 0) {
            l->open_sent++;
            tries = 0;
        } else {
            tries++;
        }
    }
}

static int run_phase(bench_load *l, bench_kind kind, bool open_loop, int window, double rate,
                     double warm_s, double secs, bench_phase_result *r)
{
    memset(r, 0, sizeof(*r));
    l->r = r;
    l->kind = kind;
    l->open_loop = open_loop;
    l->window = window;
    l->rate = rate;
    l->open_sent = 0;
    l->t_begin = now_ns();
    l->t_meas = l->t_begin + (uint64_t)(warm_s * 1e9);
    l->t_end = l->t_meas + (uint64_t)(secs * 1e9);
    l->active = true;
    if (!open_loop)
        for (int i = 0; i < l->n; i++)
            fill(&l->st[i]);
    run_until(l, phase_over, (uint64_t)((warm_s + secs) * 1000) + 1000, open_pump);
    l->active = false;
    /* Let what was sent in the window be recorded, so that its latency counts. */
    if (!run_until(l, drained, 60000, NULL))
        fprintf(stderr, "sanji-bench: %llu messages still unanswered after 60 s\n",
                (unsigned long long)l->in_flight);
    r->secs = secs;
    r->per_s = (double)r->applied / secs;
    l->r = NULL;
    return 0;
}

void bench_load_timeline(bench_load *l, FILE *f, const char *phase)
{
    l->timeline = f;
    l->phase_name = phase;
}

int bench_load_closed(bench_load *l, bench_kind kind, int window, double warm_s, double secs,
                      bench_phase_result *r)
{
    return run_phase(l, kind, false, window, 0, warm_s, secs, r);
}

int bench_load_open(bench_load *l, bench_kind kind, double rate, double warm_s, double secs,
                    bench_phase_result *r)
{
    if (rate <= 0)
        return SJ_EINVAL;
    return run_phase(l, kind, true, 0, rate, warm_s, secs, r);
}

static bool all_closed(bench_load *l)
{
    for (int i = 0; i < l->n; i++)
        if (l->st[i].conn)
            return false;
    return true;
}

void bench_load_close_all(bench_load *l)
{
    l->next_connect = l->n;
    for (int i = 0; i < l->n; i++)
        if (l->st[i].conn)
            sj_conn_close(l->st[i].conn, 0, NULL);
    run_until(l, all_closed, 10000, NULL);
}

void bench_load_free(bench_load *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++) {
        free(l->st[i].pend);
        free(l->st[i].cases);
    }
    for (size_t i = 0; i < l->n_ctxs; i++)
        sj_tls_ctx_free(l->ctxs[i].ctx);
    free(l->ctxs);
    sj_workload_free(l->w);
    free(l->st);
    free(l);
}
