/*
 * station_main.c - sanji-chaos-station: one simulated village station as an
 * OS process of its own, so that a chaos run can kill -9 a station (not
 * only stop and free an in-process client) in the middle of an upload and
 * restart it from its store.  It links the same client library as the
 * in-process stations and does what they do (chaos_gen.h): registers cases
 * of its village, scans materials to attach, and moves its cases on.
 *
 *   sanji-chaos-station --store DB --cert PREFIX --ca CRT --crl PEM
 *                       --address HOST:PORT --peer relay:T --unit VILLAGE
 *                       --journal FILE --seed N --rate PER_S
 *
 * What it saved is recorded twice: by the library in its store (the
 * outbox keeps every saved action with its final result, attachments
 * keep their id, case, size and SHA-256: the durable record the checker
 * reads after the run) and, once the library has returned, by a line in
 * its journal FILE ("S ..." and "T ..." as in the run's journal).  A kill
 * -9 can only cut a journal line whose save is already in the store, so
 * everything in the journal must be in the store (the checker's test of
 * the library's durability).
 *
 * The run steers it through files next to the journal, looked at every
 * TICK_MS: FILE.big (removed when seen) asks for a large upload now, on
 * one of its open cases, right before the run kills it; FILE.done ends the
 * load (nothing new is saved), acknowledged by FILE.idle.  It writes
 * FILE.ready once logged in.  Files, not signals, so that a request sent
 * while it restarts is not lost or fatal.
 *
 * SIGTERM stops the client and exits 0.  Exit 2 on bad arguments or a
 * set-up failure.
 *
 * Entry point: main().
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "attach.h"
#include "chaos_gen.h"
#include "dirs.h"
#include "sanji_client.h"

#define PASSWORD "sanji123"
#define TICK_MS 20
#define TODO_MAX 512

typedef struct station {
    uv_loop_t loop;
    uv_timer_t tick;
    uv_signal_t term;
    sc_config cfg;
    const char *addrs[1];
    const char *unit, *journal_path;
    char person[40], big[PATH_MAX], done[PATH_MAX], idle[PATH_MAX], ready[PATH_MAX];
    double rate, owed;
    uint64_t last_ms;
    sj_workload *w;
    sc_client *c;
    FILE *journal;
    bool logged_in, login_started, finished, stopping;
    unsigned registered, attached;
    uint8_t todo[TODO_MAX][16];
    size_t n_todo;
} station;

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

static void todo_add(station *s, const uint8_t id[16])
{
    for (size_t i = 0; i < s->n_todo; i++)
        if (memcmp(s->todo[i], id, 16) == 0)
            return;
    if (s->n_todo == TODO_MAX) { /* the oldest goes: it has had its turns */
        memmove(s->todo[0], s->todo[1], 16 * (TODO_MAX - 1));
        s->n_todo--;
    }
    memcpy(s->todo[s->n_todo++], id, 16);
}

static void login_done(sc_client *c, int status, const sj_error *err, void *data)
{
    (void)c;
    station *s = data;
    s->login_started = false;
    if (status == 0) {
        s->logged_in = true;
        touch(s->ready);
    } else {
        fprintf(stderr, "sanji-chaos-station %s: cannot log in: %s\n", s->unit,
                err ? err->message : sj_err_name(status));
    }
}

static void start_login(station *s)
{
    if (s->logged_in || s->login_started)
        return;
    if (sc_use_person(s->c, NULL) == 0) { /* remembered in the store: a restart */
        s->logged_in = true;
        touch(s->ready);
        return;
    }
    sj_error err;
    s->login_started = sc_login(s->c, s->person, PASSWORD, login_done, s, &err) == 0;
}

static void on_event(sc_client *c, const sc_event *ev, void *data)
{
    (void)c;
    station *s = data;
    switch (ev->type) {
    case SC_EV_REFDATA:
    case SC_EV_CAUGHT_UP:
        start_login(s);
        break;
    case SC_EV_CASE_CHANGED: {
        const Sanji__Case *k = ev->snapshot;
        if (k && k->village && strcmp(k->village, s->unit) == 0 && k->case_id.len == 16 &&
            !sj_case_is_terminal((sj_case_status)k->status))
            todo_add(s, k->case_id.data);
        break;
    }
    default:
        break;
    }
}

/* Attaches a generated scan to case cid; journaled once saved. */
static void attach(station *s, const uint8_t cid[16], size_t min, size_t max)
{
    uint8_t *data, aid[16], sha[SJ_ATTACH_SHA256_SIZE];
    size_t size;
    char name[64];
    const char *material;
    chaos_gen_file(s->w, min, max, ++s->attached, &data, &size, name, &material);
    sj_attach_sha256(data, size, sha);
    sj_error err;
    int rc = sc_attach(s->c, cid, name, data, size, material, aid, &err);
    free(data);
    if (rc != 0) {
        fprintf(stderr, "sanji-chaos-station %s: attachment refused locally: %s\n", s->unit,
                err.message);
        return;
    }
    chaos_gen_line_attachment(s->journal, aid, cid, size, sha, s->unit);
}

static bool do_register(station *s)
{
    chaos_gen_reg g;
    chaos_gen_register(s->w, &g);
    uint8_t cid[16], mid[16];
    sj_error err;
    if (sc_register(s->c, &g.req, cid, mid, &err) != 0)
        return false;
    chaos_gen_line_saved(s->journal, mid, cid, SJ_ACTION_REGISTER, 0, s->unit);
    todo_add(s, cid);
    /* As the in-process stations: the first case with a scan, then one in
     * twenty. */
    if (s->registered++ == 0 || sj_workload_below(s->w, 20) == 0)
        attach(s, cid, CHAOS_ATTACH_SMALL_MIN, CHAOS_ATTACH_SMALL_MAX);
    return true;
}

static bool do_act(station *s)
{
    if (s->n_todo == 0)
        return false;
    size_t i = (size_t)sj_workload_below(s->w, s->n_todo);
    uint8_t id[16];
    memcpy(id, s->todo[i], 16);
    sc_case_detail d;
    sj_error err;
    if (sc_get_case(s->c, id, &d, &err) != 0)
        return false;
    sj_case_action allowed[SJ_ACTION_COUNT];
    size_t na = sc_allowed_actions(s->c, d.c, allowed, SJ_ACTION_COUNT);
    bool terminal = sj_case_is_terminal((sj_case_status)d.c->status);
    uint64_t version = d.c->version;
    sc_case_detail_free(&d);
    bool possible;
    sj_case_action act = chaos_gen_pick(s->w, true, allowed, na, &possible);
    if (!possible && terminal) {
        memmove(s->todo[i], s->todo[s->n_todo - 1], 16);
        s->n_todo--;
    }
    if (act == SJ_ACTION_NONE)
        return false;
    char note[256];
    sc_action_req a = {.case_id = id, .type = act};
    chaos_gen_fill(s->w, &a, note, sizeof note);
    uint8_t mid[16];
    if (sc_act(s->c, &a, mid, &err) != 0)
        return false;
    chaos_gen_line_saved(s->journal, mid, id, act, version, s->unit);
    return true;
}

static void one_action(station *s)
{
    if (sj_workload_below(s->w, 100) == 0 && s->n_todo)
        attach(s, s->todo[sj_workload_below(s->w, s->n_todo)], CHAOS_ATTACH_SMALL_MIN,
               CHAOS_ATTACH_SMALL_MAX);
    if (sj_workload_below(s->w, 100) < 30 && do_register(s))
        return;
    for (int tries = 0; tries < 3; tries++)
        if (do_act(s))
            return;
    (void)do_register(s);
}

static void on_tick(uv_timer_t *t)
{
    station *s = t->data;
    uint64_t now = uv_now(&s->loop);
    uint64_t dt = now - s->last_ms;
    s->last_ms = now;
    if (!s->logged_in || s->stopping)
        return;
    if (!s->finished && access(s->done, F_OK) == 0) {
        s->finished = true;
        touch(s->idle);
    }
    if (s->finished)
        return;
    if (access(s->big, F_OK) == 0) {
        (void)unlink(s->big);
        if (s->n_todo == 0)
            (void)do_register(s);
        if (s->n_todo)
            attach(s, s->todo[s->n_todo - 1], CHAOS_ATTACH_BIG_MIN, CHAOS_ATTACH_BIG_MAX);
    }
    s->owed += (double)dt * s->rate / 1000.0;
    for (int burst = 0; s->owed >= 1.0 && burst < 20; burst++) {
        one_action(s);
        s->owed -= 1.0;
    }
}

static void on_stopped(sc_client *c, void *data)
{
    (void)c;
    station *s = data;
    uv_stop(&s->loop);
}

static void on_term(uv_signal_t *h, int sig)
{
    (void)sig;
    station *s = h->data;
    if (s->stopping)
        return;
    s->stopping = true;
    sc_client_stop(s->c, on_stopped);
}

static void close_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int main(int argc, char **argv)
{
    static station s;
    const char *store = NULL, *cert = NULL, *ca = NULL, *crl = NULL, *address = NULL,
               *peer = NULL;
    uint64_t seed = 1;
    s.rate = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--store") == 0)
            store = v;
        else if (strcmp(a, "--cert") == 0)
            cert = v;
        else if (strcmp(a, "--ca") == 0)
            ca = v;
        else if (strcmp(a, "--crl") == 0)
            crl = v;
        else if (strcmp(a, "--address") == 0)
            address = v;
        else if (strcmp(a, "--peer") == 0)
            peer = v;
        else if (strcmp(a, "--unit") == 0)
            s.unit = v;
        else if (strcmp(a, "--journal") == 0)
            s.journal_path = v;
        else if (strcmp(a, "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--rate") == 0)
            s.rate = atof(v);
        else
            argc = -1;
    }
    if (argc < 0 || (argc % 2) != 1 || !store || !cert || !ca || !crl || !address || !peer ||
        !s.unit || !s.journal_path || s.rate <= 0) {
        fprintf(stderr, "usage: sanji-chaos-station --store DB --cert PREFIX --ca CRT --crl PEM"
                        " --address HOST:PORT --peer relay:T --unit VILLAGE --journal FILE"
                        " --seed N --rate PER_S\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    sj_error err;
    if (sj_test_dirs_find(&err) != 0) {
        fprintf(stderr, "sanji-chaos-station: %s\n", err.message);
        return 2;
    }
    /* A restart draws other data than the run before it. */
    if (sj_workload_new(seed ^ ((uint64_t)getpid() * 0x9e3779b97f4a7c15ULL), NULL, &s.w, &err) != 0) {
        fprintf(stderr, "sanji-chaos-station: %s\n", err.message);
        return 2;
    }
    snprintf(s.person, sizeof s.person, "p-%s-01", s.unit);
    snprintf(s.big, sizeof s.big, "%s.big", s.journal_path);
    snprintf(s.done, sizeof s.done, "%s.done", s.journal_path);
    snprintf(s.idle, sizeof s.idle, "%s.idle", s.journal_path);
    snprintf(s.ready, sizeof s.ready, "%s.ready", s.journal_path);
    char crt[PATH_MAX], key[PATH_MAX];
    snprintf(crt, sizeof crt, "%s.crt", cert);
    snprintf(key, sizeof key, "%s.key", cert);
    s.addrs[0] = address;
    s.cfg = (sc_config){.cert_file = crt,
                        .key_file = key,
                        .ca_file = ca,
                        .crl_file = crl,
                        .addresses = s.addrs,
                        .n_addresses = 1,
                        .expected_peer = peer,
                        .store_path = store,
                        .backoff_base_ms = 100,
                        .backoff_cap_ms = 1000};
    s.journal = fopen(s.journal_path, "a");
    if (!s.journal) {
        fprintf(stderr, "sanji-chaos-station: cannot open %s\n", s.journal_path);
        sj_workload_free(s.w);
        return 2;
    }
    int status = 2;
    uv_loop_init(&s.loop);
    if (sc_client_new(&s.loop, &s.cfg, on_event, &s, &s.c, &err) != 0 ||
        sc_client_start(s.c, &err) != 0) {
        fprintf(stderr, "sanji-chaos-station %s: %s\n", s.unit, err.message);
    } else {
        start_login(&s);
        uv_timer_init(&s.loop, &s.tick);
        s.tick.data = &s;
        s.last_ms = uv_now(&s.loop);
        uv_timer_start(&s.tick, on_tick, TICK_MS, TICK_MS);
        uv_signal_init(&s.loop, &s.term);
        s.term.data = &s;
        uv_signal_start(&s.term, on_term, SIGTERM);
        uv_run(&s.loop, UV_RUN_DEFAULT);
        status = 0;
    }
    sc_client_free(s.c);
    uv_walk(&s.loop, close_cb, NULL);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    uv_loop_close(&s.loop);
    fclose(s.journal);
    sj_workload_free(s.w);
    return status;
}
