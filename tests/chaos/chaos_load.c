/*
 * chaos_load.c - the load of a chaos run (chaos.h has the contract): one
 * client-library client per simulated village station, per township desk
 * and for the county desk, all on one libuv loop; an action generator that
 * registers cases and drives them through the lifecycle at a set rate; and
 * the journal: every action the library reported as saved (message id,
 * case id, action, the version it was made against) and the final result
 * it got, appended to <dir>/journal.txt as it happens.
 *
 * Which cases a client works on: stations every case of their village,
 * desks the cases their unit holds.  The list is fed by CASE_CHANGED
 * events and pruned when an entry offers nothing to do.  Conflicts (G3)
 * come from stations withdrawing or urging cases that a desk is handling
 * at the same moment.
 *
 * Attachments: stations attach generated JPEG, PNG and PDF files through
 * sc_attach() — the first registration of each station always, later ones
 * and cases already open now and then, and a large file right before each
 * fault (chaos_load_attach_big()) so that kills and link cuts hit uploads
 * in flight.  Each saved attachment is a journal line
 * (T attachment case size sha256 unit).
 *
 * Entry points: chaos_load_new(), chaos_load_ready(), chaos_load_tick(),
 * chaos_load_done(), chaos_load_restart_client(), chaos_load_quiet(),
 * chaos_load_figures(), chaos_load_journal(), chaos_load_stores(),
 * chaos_load_attachments(), chaos_load_attach_big(), chaos_load_uploading(),
 * chaos_load_read(), chaos_load_free().
 */
#include "chaos.h"
#include "chaos_gen.h"

#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "hex.h"
#include "sanji_client.h"
#include "store.h"

#include <sqlite3.h>
#include <unistd.h>

#define PASSWORD "sanji123"

/* ---- a 16-byte-key hash map to an index --------------------------------------- */

typedef struct idmap {
    uint8_t (*keys)[16];
    int64_t *vals; /* -1: empty slot */
    size_t cap, n;
} idmap;

static uint64_t idhash(const uint8_t k[16])
{
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
    return h ^ (h >> 29);
}

static int64_t *idmap_slot(idmap *m, const uint8_t k[16], bool insert)
{
    if (insert && (m->n + 1) * 2 > m->cap) {
        idmap old = *m;
        m->cap = old.cap ? old.cap * 2 : 1024;
        m->keys = calloc(m->cap, 16);
        m->vals = malloc(m->cap * sizeof *m->vals);
        if (!m->keys || !m->vals)
            abort(); /* exhaustion of a test program */
        for (size_t i = 0; i < m->cap; i++)
            m->vals[i] = -1;
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.vals[i] >= 0)
                *idmap_slot(m, old.keys[i], true) = old.vals[i];
        free(old.keys);
        free(old.vals);
    }
    if (m->cap == 0)
        return NULL;
    for (size_t i = idhash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->vals[i] < 0) {
            if (!insert)
                return NULL;
            memcpy(m->keys[i], k, 16);
            m->n++;
            return &m->vals[i];
        }
        if (memcmp(m->keys[i], k, 16) == 0)
            return &m->vals[i];
    }
}

static void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- state ---------------------------------------------------------------------- */

typedef struct record {
    uint8_t message_id[16], case_id[16];
    int action;
    uint64_t expected_version;
    int final; /* 0, 'A', 'R' */
    uint64_t version;
    int code;
    int client;
} record;

/* An attachment a station saved (sc_attach returned its id). */
typedef struct attrec {
    uint8_t attachment_id[16], case_id[16];
    uint64_t size;
    uint8_t sha256[SJ_ATTACH_SHA256_SIZE];
    int client;
} attrec;

typedef enum kind { K_STATION, K_TOWNSHIP, K_COUNTY } kind;

typedef struct lclient {
    struct chaos_load *l;
    int idx;
    kind kind;
    char unit[13];
    char person[40];
    sc_config cfg;
    char cert[PATH_MAX], key[PATH_MAX], ca[PATH_MAX], crl[PATH_MAX], store[PATH_MAX];
    char addr[32], peer[40];
    const char *addrs[1];
    sc_client *c;
    int proc_t;          /* a station process of township proc_t (chaos_net), -1: in-process */
    bool logged_in, login_started, restarting, stopped;
    unsigned registered; /* registrations saved here in this run */
    /* Cases to work on: ids, and a map id -> 1 while listed. */
    uint8_t (*todo)[16];
    size_t n_todo, cap_todo;
    idmap listed;
} lclient;

struct chaos_load {
    uv_loop_t *loop;
    chaos_net *net;
    sj_workload *w;
    chaos_load_opts o;
    lclient *clients;
    size_t n_clients, n_stations;
    record *recs;
    size_t n_recs, cap_recs;
    idmap by_msg;
    FILE *journal;
    uint64_t start_ms;
    double owed;
    chaos_figures fig;
    uv_timer_t restart_timer;
    bool timer_init;
    attrec *atts;
    size_t n_atts, cap_atts;
    int big_station; /* the station of the last large attachment (-1: none) */
};

static bool proc_flag(const chaos_load *l, const lclient *lc, const char *suffix);

static void todo_add(lclient *lc, const uint8_t id[16])
{
    int64_t *v = idmap_slot(&lc->listed, id, true);
    if (*v == 1)
        return;
    *v = 1;
    if (lc->n_todo == lc->cap_todo) {
        lc->cap_todo = lc->cap_todo ? lc->cap_todo * 2 : 64;
        lc->todo = realloc(lc->todo, lc->cap_todo * 16);
        if (!lc->todo)
            abort();
    }
    memcpy(lc->todo[lc->n_todo++], id, 16);
}

static void todo_drop(lclient *lc, size_t i)
{
    int64_t *v = idmap_slot(&lc->listed, lc->todo[i], false);
    if (v)
        *v = 0;
    memmove(lc->todo[i], lc->todo[lc->n_todo - 1], 16);
    lc->n_todo--;
}

static record *rec_find(chaos_load *l, const uint8_t mid[16])
{
    int64_t *v = idmap_slot(&l->by_msg, mid, false);
    return v ? &l->recs[*v] : NULL;
}

static void journal_final(chaos_load *l, record *r)
{
    char m[33];
    sj_test_hex16_format(r->message_id, m);
    fprintf(l->journal, "F %s %c %llu %d\n", m, r->final, (unsigned long long)r->version, r->code);
    fflush(l->journal);
}

static void journal_saved(chaos_load *l, const uint8_t mid[16], const uint8_t cid[16], int action,
                          uint64_t expected, int client)
{
    if (l->n_recs == l->cap_recs) {
        l->cap_recs = l->cap_recs ? l->cap_recs * 2 : 4096;
        l->recs = realloc(l->recs, l->cap_recs * sizeof *l->recs);
        if (!l->recs)
            abort();
    }
    record *r = &l->recs[l->n_recs];
    memset(r, 0, sizeof *r);
    memcpy(r->message_id, mid, 16);
    memcpy(r->case_id, cid, 16);
    r->action = action;
    r->expected_version = expected;
    r->client = client;
    *idmap_slot(&l->by_msg, mid, true) = (int64_t)l->n_recs;
    l->n_recs++;
    l->fig.saved++;
    if (action == SJ_ACTION_REGISTER)
        l->fig.registers++;
    if (!l->journal)
        return; /* read back from the journal (chaos_load_read) */
    chaos_gen_line_saved(l->journal, mid, cid, action, expected, l->clients[client].unit);
}

static void journal_attachment(chaos_load *l, const attrec *a)
{
    if (l->n_atts == l->cap_atts) {
        l->cap_atts = l->cap_atts ? l->cap_atts * 2 : 64;
        l->atts = realloc(l->atts, l->cap_atts * sizeof *l->atts);
        if (!l->atts)
            abort();
    }
    l->atts[l->n_atts++] = *a;
    l->fig.attachments++;
    l->fig.attach_bytes += a->size;
    if (!l->journal)
        return; /* read back from the journal (chaos_load_read) */
    chaos_gen_line_attachment(l->journal, a->attachment_id, a->case_id, a->size, a->sha256,
                              l->clients[a->client].unit);
}

/* ---- events ------------------------------------------------------------------------ */

static void login_done(sc_client *c, int status, const sj_error *err, void *data)
{
    (void)c;
    lclient *lc = data;
    if (status == 0) {
        lc->logged_in = true;
    } else {
        fprintf(stderr, "sanji-chaos: %s cannot log in as %s: %s\n", lc->unit, lc->person,
                err ? err->message : sj_err_name(status));
        lc->login_started = false; /* try again on the next event */
    }
}

static void start_login(lclient *lc)
{
    if (lc->logged_in || lc->login_started)
        return;
    sj_error err;
    if (sc_use_person(lc->c, NULL) == 0) {
        lc->logged_in = true;
        return;
    }
    lc->login_started = true;
    if (sc_login(lc->c, lc->person, PASSWORD, login_done, lc, &err) != 0)
        lc->login_started = false;
}

static bool wants(const lclient *lc, const Sanji__Case *s)
{
    if (!s || !s->holder_unit || !s->village)
        return false;
    if (sj_case_is_terminal((sj_case_status)s->status))
        return false;
    if (lc->kind == K_STATION)
        return strcmp(s->village, lc->unit) == 0;
    return strcmp(s->holder_unit, lc->unit) == 0;
}

static void on_event(sc_client *c, const sc_event *ev, void *data)
{
    (void)c;
    lclient *lc = data;
    chaos_load *l = lc->l;
    switch (ev->type) {
    case SC_EV_REFDATA:
    case SC_EV_CAUGHT_UP:
        start_login(lc);
        break;
    case SC_EV_APPLIED:
    case SC_EV_REFUSED: {
        record *r = ev->message_id ? rec_find(l, ev->message_id) : NULL;
        if (!r) {
            /* Results come only for what was saved here, possibly before
             * the journal line (not the case: sc_register returns first). */
            break;
        }
        int fin = ev->type == SC_EV_APPLIED ? 'A' : 'R';
        if (r->final && r->final != fin)
            fprintf(stderr, "sanji-chaos: CONTRADICTION: message got %c then %c\n", r->final, fin);
        if (!r->final) {
            r->final = fin;
            r->version = ev->case_version;
            r->code = ev->code;
            journal_final(l, r);
            if (fin == 'A')
                l->fig.applied++;
            else
                l->fig.refused++;
        }
        break;
    }
    case SC_EV_CASE_CHANGED:
        if (wants(lc, ev->snapshot) && ev->snapshot->case_id.len == 16)
            todo_add(lc, ev->snapshot->case_id.data);
        break;
    default:
        break;
    }
}

/* ---- clients ------------------------------------------------------------------------ */

static int client_open(chaos_load *l, lclient *lc, sj_error *err)
{
    lc->logged_in = lc->login_started = false;
    int rc = sc_client_new(l->loop, &lc->cfg, on_event, lc, &lc->c, err);
    if (rc == 0)
        rc = sc_client_start(lc->c, err);
    if (rc == 0)
        start_login(lc); /* a remembered person needs no network */
    return rc;
}

static void client_setup(chaos_load *l, lclient *lc, kind k, const char *unit, const char *cert,
                         int port, const char *peer)
{
    chaos_net *n = l->net;
    lc->l = l;
    lc->kind = k;
    snprintf(lc->unit, sizeof lc->unit, "%s", unit);
    snprintf(lc->person, sizeof lc->person, "p-%s-01", unit);
    char prefix[PATH_MAX];
    chaos_net_cert(n, cert, prefix, sizeof prefix);
    snprintf(lc->cert, sizeof lc->cert, "%.4000s.crt", prefix);
    snprintf(lc->key, sizeof lc->key, "%.4000s.key", prefix);
    snprintf(lc->ca, sizeof lc->ca, "%.4000s/pki/ca/ca.crt", n->dir);
    snprintf(lc->crl, sizeof lc->crl, "%.4000s/pki/ca/crl.pem", n->dir);
    snprintf(lc->store, sizeof lc->store, "%.4000s/stores/%s.db", n->dir, cert);
    snprintf(lc->addr, sizeof lc->addr, "127.0.0.1:%d", port);
    snprintf(lc->peer, sizeof lc->peer, "%s", peer);
    lc->addrs[0] = lc->addr;
    lc->cfg = (sc_config){.cert_file = lc->cert,
                          .key_file = lc->key,
                          .ca_file = lc->ca,
                          .crl_file = lc->crl,
                          .addresses = lc->addrs,
                          .n_addresses = 1,
                          .expected_peer = lc->peer,
                          .store_path = lc->store,
                          .backoff_base_ms = 100,
                          .backoff_cap_ms = 1000};
}

/* Sets up every client of n (not opened): stations, township desks, the
 * county desk, in that order. */
static void setup_all(chaos_load *l, chaos_net *n)
{
    size_t i = 0;
    for (int t = 0; t < n->n_townships; t++) {
        char peer[40], cert[40];
        snprintf(peer, sizeof peer, "relay:%s", n->township[t]);
        for (int v = 0; v < n->villages_per_township; v++, i++) {
            snprintf(cert, sizeof cert, "station-%s", n->village[t][v]);
            client_setup(l, &l->clients[i], K_STATION, n->village[t][v], cert,
                         n->down[t].listen_port, peer);
            l->clients[i].proc_t = n->proc_v[t] == v ? t : -1;
        }
    }
    for (int t = 0; t < n->n_townships; t++, i++) {
        char peer[40], cert[40];
        snprintf(peer, sizeof peer, "relay:%s", n->township[t]);
        snprintf(cert, sizeof cert, "desk-%s", n->township[t]);
        client_setup(l, &l->clients[i], K_TOWNSHIP, n->township[t], cert, n->down[t].listen_port,
                     peer);
    }
    client_setup(l, &l->clients[i], K_COUNTY, CHAOS_COUNTY, "county-desk",
                 n->county_desk.listen_port, "county:" CHAOS_COUNTY);
    for (size_t k = l->n_stations; k < l->n_clients; k++)
        l->clients[k].proc_t = -1;
    for (i = 0; i < l->n_clients; i++)
        l->clients[i].idx = (int)i;
}

static int action_of(const char *name)
{
    for (int a = 0; a < SJ_ACTION_COUNT; a++)
        if (strcmp(sj_case_action_name((sj_case_action)a), name) == 0)
            return a;
    return -1;
}

/* The index of the client of unit (n_clients: none). */
static size_t client_of_unit(const chaos_load *l, const char *unit)
{
    size_t who = 0;
    while (who < l->n_clients && strcmp(l->clients[who].unit, unit) != 0)
        who++;
    return who;
}

/* One journal line, parsed (chaos_gen.h has the S and T lines). */
typedef struct jline {
    record r; /* S: ids, action, expected version, client; F: message id, final, version, code */
    attrec a; /* T */
} jline;

/* Parses line into j: returns 'S', 'T' or 'F', or 0 for a bad line. */
static int parse_line(const chaos_load *l, const char *line, jline *j)
{
    char m[40], c[40], name[40], unit[16], fin;
    unsigned long long v;
    int code;
    memset(j, 0, sizeof *j);
    if (sscanf(line, "S %39s %39s %39s %llu %15s", m, c, name, &v, unit) == 5) {
        int a = action_of(name);
        size_t who = client_of_unit(l, unit);
        if (a < 0 || who == l->n_clients || !sj_test_hex16_parse(m, j->r.message_id) ||
            !sj_test_hex16_parse(c, j->r.case_id))
            return 0;
        j->r.action = a;
        j->r.expected_version = v;
        j->r.client = (int)who;
        return 'S';
    }
    if (line[0] == 'T') {
        char sha[80], h[33];
        bool ok = sscanf(line, "T %39s %39s %llu %79s %15s", m, c, &v, sha, unit) == 5 &&
                  strlen(sha) == 2 * SJ_ATTACH_SHA256_SIZE && v > 0;
        size_t who = ok ? client_of_unit(l, unit) : l->n_clients;
        ok = ok && who < l->n_clients && sj_test_hex16_parse(m, j->a.attachment_id) &&
             sj_test_hex16_parse(c, j->a.case_id);
        if (ok) {
            memcpy(h, sha, 32);
            h[32] = '\0';
            ok = sj_test_hex16_parse(h, j->a.sha256) &&
                 sj_test_hex16_parse(sha + 32, j->a.sha256 + 16);
        }
        if (!ok)
            return 0;
        j->a.size = v;
        j->a.client = (int)who;
        return 'T';
    }
    if (sscanf(line, "F %39s %c %llu %d", m, &fin, &v, &code) == 4 &&
        sj_test_hex16_parse(m, j->r.message_id) && (fin == 'A' || fin == 'R')) {
        j->r.final = fin;
        j->r.version = v;
        j->r.code = code;
        return 'F';
    }
    return 0;
}

/* ---- station processes ------------------------------------------------------------ */

/* What a station process (sanji-chaos-station) saved: the S and T lines of
 * its journal, and its store's outbox rows of case actions, which also
 * give their final results.  A row the journal lacks was saved right
 * before a kill -9 cut its line: it counts as saved.  A journal line the
 * store lacks keeps no final result: the checker calls it lost. */
typedef struct procrecs {
    record *recs;
    size_t n_recs;
    attrec *atts;
    size_t n_atts;
    uint64_t unfinished; /* outbox rows (actions and chunks) without a final result */
} procrecs;

static void procrecs_free(procrecs *p)
{
    free(p->recs);
    free(p->atts);
    memset(p, 0, sizeof *p);
}

static record *proc_push(procrecs *p, size_t *cap)
{
    if (p->n_recs == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        p->recs = realloc(p->recs, *cap * sizeof *p->recs);
        if (!p->recs)
            abort();
    }
    record *r = &p->recs[p->n_recs++];
    memset(r, 0, sizeof *r);
    return r;
}

static void proc_read(const chaos_load *l, const lclient *lc, procrecs *p)
{
    memset(p, 0, sizeof *p);
    size_t cap = 0, cap_atts = 0;
    idmap by = {0};
    char path[PATH_MAX], line[512];
    chaos_net_station_file(l->net, lc->proc_t, "", path, sizeof path);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        jline j;
        switch (parse_line(l, line, &j)) {
        case 'S':
            if (!idmap_slot(&by, j.r.message_id, false)) {
                *idmap_slot(&by, j.r.message_id, true) = (int64_t)p->n_recs;
                *proc_push(p, &cap) = j.r;
            }
            break;
        case 'T':
            if (p->n_atts == cap_atts) {
                cap_atts = cap_atts ? cap_atts * 2 : 64;
                p->atts = realloc(p->atts, cap_atts * sizeof *p->atts);
                if (!p->atts)
                    abort();
            }
            p->atts[p->n_atts++] = j.a;
            break;
        default:
            break; /* a line cut by the kill -9 */
        }
    }
    if (f)
        fclose(f);
    char uri[PATH_MAX + 32];
    snprintf(uri, sizeof uri, "file:%s?mode=ro", lc->store);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(db, SJ_TEST_HANG_MS);
        if (sqlite3_prepare_v2(db,
                               "SELECT message_id, case_id, action, state, code, case_version"
                               " FROM outbox",
                               -1, &st, NULL) != SQLITE_OK)
            st = NULL;
    }
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        int state = sqlite3_column_int(st, 3);
        if (state <= SC_OUT_STORED)
            p->unfinished++;
        if (sqlite3_column_int(st, 2) == SC_OUTBOX_CHUNK || sqlite3_column_bytes(st, 0) != 16 ||
            sqlite3_column_bytes(st, 1) != 16)
            continue;
        const uint8_t *mid = sqlite3_column_blob(st, 0);
        int64_t *at = idmap_slot(&by, mid, false);
        record *r;
        if (at) {
            r = &p->recs[*at];
        } else {
            *idmap_slot(&by, mid, true) = (int64_t)p->n_recs;
            r = proc_push(p, &cap);
            memcpy(r->message_id, mid, 16);
            memcpy(r->case_id, sqlite3_column_blob(st, 1), 16);
            r->action = sqlite3_column_int(st, 2);
            r->client = lc->idx;
        }
        if (state == SC_OUT_APPLIED) {
            r->final = 'A';
            r->version = (uint64_t)sqlite3_column_int64(st, 5);
        } else if (state == SC_OUT_REFUSED) {
            r->final = 'R';
            r->code = sqlite3_column_int(st, 4);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    idmap_free(&by);
}

/* True when the file of station process lc with suffix exists. */
static bool proc_flag(const chaos_load *l, const lclient *lc, const char *suffix)
{
    char path[PATH_MAX];
    chaos_net_station_file(l->net, lc->proc_t, suffix, path, sizeof path);
    return access(path, F_OK) == 0;
}

int chaos_load_read(chaos_net *n, chaos_load **out, sj_error *err)
{
    chaos_load *l = calloc(1, sizeof *l);
    if (!l)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    l->net = n;
    l->n_stations = (size_t)(n->n_townships * n->villages_per_township);
    l->n_clients = l->n_stations + (size_t)n->n_townships + 1;
    l->clients = calloc(l->n_clients, sizeof *l->clients);
    if (!l->clients) {
        chaos_load_free(l);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    setup_all(l, n);
    l->big_station = -1;
    char path[PATH_MAX + 16], line[512];
    snprintf(path, sizeof path, "%s/journal.txt", n->dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        chaos_load_free(l);
        return sj_error_set(err, SJ_ENOTFOUND, "cannot read %s", path);
    }
    int rc = 0;
    unsigned lineno = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        jline j;
        lineno++;
        switch (parse_line(l, line, &j)) {
        case 'S':
            if (rec_find(l, j.r.message_id)) {
                rc = sj_error_set(err, SJ_EINVAL, "%s:%u: repeated S line", path, lineno);
                break;
            }
            journal_saved(l, j.r.message_id, j.r.case_id, j.r.action, j.r.expected_version,
                          j.r.client);
            break;
        case 'T':
            journal_attachment(l, &j.a);
            break;
        case 'F': {
            record *r = rec_find(l, j.r.message_id);
            if (!r) {
                rc = sj_error_set(err, SJ_EINVAL, "%s:%u: F line of no saved message", path,
                                  lineno);
                break;
            }
            if (!r->final) {
                r->final = j.r.final;
                r->version = j.r.version;
                r->code = j.r.code;
                if (r->final == 'A')
                    l->fig.applied++;
                else
                    l->fig.refused++;
            }
            break;
        }
        default:
            rc = sj_error_set(err, SJ_EINVAL, "%s:%u: not a journal line", path, lineno);
        }
    }
    fclose(f);
    if (rc < 0) {
        chaos_load_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

int chaos_load_new(uv_loop_t *loop, chaos_net *n, sj_workload *w, const chaos_load_opts *o,
                   chaos_load **out, sj_error *err)
{
    chaos_load *l = calloc(1, sizeof *l);
    if (!l)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    l->loop = loop;
    l->net = n;
    l->w = w;
    l->o = *o;
    l->big_station = -1;
    l->n_stations = (size_t)(n->n_townships * n->villages_per_township);
    l->n_clients = l->n_stations + (size_t)n->n_townships + 1;
    l->clients = calloc(l->n_clients, sizeof *l->clients);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/journal.txt", n->dir);
    l->journal = fopen(path, "a");
    if (!l->clients || !l->journal) {
        chaos_load_free(l);
        return sj_error_set(err, SJ_EIO, "cannot make the clients or the journal %s", path);
    }
    setup_all(l, n);
    for (size_t i = 0; i < l->n_clients; i++) {
        if (l->clients[i].proc_t >= 0)
            continue; /* its own process (chaos_net_stations_start) */
        int rc = client_open(l, &l->clients[i], err);
        if (rc < 0) {
            chaos_load_free(l);
            return rc;
        }
    }
    uv_timer_init(loop, &l->restart_timer);
    l->restart_timer.data = l;
    l->timer_init = true;
    *out = l;
    return 0;
}

bool chaos_load_ready(const chaos_load *l)
{
    for (size_t i = 0; i < l->n_clients; i++) {
        const lclient *lc = &l->clients[i];
        if (lc->proc_t >= 0 ? !proc_flag(l, lc, ".ready") : !lc->logged_in)
            return false;
    }
    return true;
}

/* ---- the generator ------------------------------------------------------------------- */

/* Tries one action of lc on one of its cases.  True if one was saved. */
static bool try_act(chaos_load *l, lclient *lc)
{
    if (lc->n_todo == 0)
        return false;
    size_t i = (size_t)sj_workload_below(l->w, lc->n_todo);
    uint8_t id[16];
    memcpy(id, lc->todo[i], 16);
    sc_case_detail d;
    sj_error err;
    if (sc_get_case(lc->c, id, &d, &err) != 0) {
        todo_drop(lc, i);
        return false;
    }
    sj_case_action allowed[SJ_ACTION_COUNT];
    size_t na = sc_allowed_actions(lc->c, d.c, allowed, SJ_ACTION_COUNT);
    bool keep = !sj_case_is_terminal((sj_case_status)d.c->status) && wants(lc, d.c);
    uint64_t version = d.c->version;
    sc_case_detail_free(&d);
    bool possible = false;
    sj_case_action act = chaos_gen_pick(l->w, lc->kind == K_STATION, allowed, na, &possible);
    if (!possible && !keep)
        todo_drop(lc, i);
    if (act == SJ_ACTION_NONE)
        return false;
    char note[256];
    sc_action_req a = {.case_id = id, .type = act};
    chaos_gen_fill(l->w, &a, note, sizeof note);
    uint8_t mid[16];
    if (sc_act(lc->c, &a, mid, &err) != 0) {
        l->fig.local_refusals++;
        if (l->o.verbose)
            fprintf(stderr, "chaos: %s %s refused locally: %s\n", lc->unit,
                    sj_case_action_name(act), err.message);
        return false;
    }
    journal_saved(l, mid, id, act, version, lc->idx);
    return true;
}

/* ---- attachments ---------------------------------------------------------------------- */

/* Attaches a generated scan of min..max bytes (chaos_gen_file()) to case
 * cid at station lc.  True when saved (and journaled). */
static bool attach_file(chaos_load *l, lclient *lc, const uint8_t cid[16], size_t min, size_t max)
{
    uint8_t *data;
    size_t size;
    char name[64];
    const char *material;
    chaos_gen_file(l->w, min, max, (unsigned)l->n_atts + 1, &data, &size, name, &material);
    attrec a = {.size = size, .client = lc->idx};
    memcpy(a.case_id, cid, 16);
    sj_attach_sha256(data, size, a.sha256);
    sj_error err;
    int rc = sc_attach(lc->c, cid, name, data, size, material, a.attachment_id, &err);
    free(data);
    if (rc != 0) {
        l->fig.attach_local_refusals++;
        if (l->o.verbose)
            fprintf(stderr, "chaos: %s attachment refused locally: %s\n", lc->unit, err.message);
        return false;
    }
    journal_attachment(l, &a);
    return true;
}

/* A station that can attach now, with a case to attach to (NULL: none found). */
static lclient *attach_station(chaos_load *l, uint8_t cid[16])
{
    for (int tries = 0; tries < 20; tries++) {
        lclient *lc = &l->clients[sj_workload_below(l->w, l->n_stations)];
        if (!lc->logged_in || lc->restarting || !lc->c || lc->n_todo == 0)
            continue;
        memcpy(cid, lc->todo[sj_workload_below(l->w, lc->n_todo)], 16);
        return lc;
    }
    return NULL;
}

int chaos_load_attach_big(chaos_load *l, sj_error *err)
{
    uint8_t cid[16];
    lclient *lc = attach_station(l, cid);
    if (!lc)
        return sj_error_set(err, SJ_EBUSY, "no station with a case to attach to now");
    if (!attach_file(l, lc, cid, CHAOS_ATTACH_BIG_MIN, CHAOS_ATTACH_BIG_MAX))
        return sj_error_set(err, SJ_EBUSY, "the station refused the attachment");
    l->big_station = lc->idx;
    return 0;
}

bool chaos_load_uploading(chaos_load *l)
{
    if (l->big_station < 0)
        return false;
    lclient *lc = &l->clients[l->big_station];
    sc_status_info st;
    return lc->c && !lc->restarting && sc_status(lc->c, &st, NULL) == 0 &&
           st.outbox.saved + st.outbox.stored > 0;
}

void chaos_load_attachments(const chaos_load *l, chaos_attach_fn fn, void *data)
{
    for (size_t i = 0; i < l->n_atts; i++) {
        const attrec *a = &l->atts[i];
        fn(a->attachment_id, a->case_id, a->size, a->sha256, l->clients[a->client].unit, data);
    }
    for (size_t i = 0; i < l->n_stations; i++) {
        if (l->clients[i].proc_t < 0)
            continue;
        procrecs p;
        proc_read(l, &l->clients[i], &p);
        for (size_t k = 0; k < p.n_atts; k++) {
            const attrec *a = &p.atts[k];
            fn(a->attachment_id, a->case_id, a->size, a->sha256, l->clients[i].unit, data);
        }
        procrecs_free(&p);
    }
}

static bool try_register(chaos_load *l)
{
    lclient *lc = &l->clients[sj_workload_below(l->w, l->n_stations)];
    if (!lc->logged_in || lc->restarting || !lc->c)
        return false;
    chaos_gen_reg g;
    chaos_gen_register(l->w, &g);
    uint8_t cid[16], mid[16];
    sj_error err;
    if (sc_register(lc->c, &g.req, cid, mid, &err) != 0) {
        l->fig.local_refusals++;
        if (l->o.verbose)
            fprintf(stderr, "chaos: %s register refused locally: %s\n", lc->unit, err.message);
        return false;
    }
    journal_saved(l, mid, cid, SJ_ACTION_REGISTER, 0, lc->idx);
    todo_add(lc, cid);
    /* Materials scanned at registration: always with the station's first
     * case (so that every run has attachments), then one case in ten. */
    if (lc->registered++ == 0 || sj_workload_below(l->w, 20) == 0)
        (void)attach_file(l, lc, cid, CHAOS_ATTACH_SMALL_MIN, CHAOS_ATTACH_SMALL_MAX);
    return true;
}

static void one_action(chaos_load *l)
{
    /* Now and then a scan brought later for a case already open. */
    if (sj_workload_below(l->w, 100) == 0) {
        uint8_t cid[16];
        lclient *lc = attach_station(l, cid);
        if (lc)
            (void)attach_file(l, lc, cid, CHAOS_ATTACH_SMALL_MIN, CHAOS_ATTACH_SMALL_MAX);
    }
    if (sj_workload_below(l->w, 100) < 30 && try_register(l))
        return;
    for (int tries = 0; tries < 12; tries++) {
        lclient *lc = &l->clients[sj_workload_below(l->w, l->n_clients)];
        if (!lc->logged_in || lc->restarting || !lc->c)
            continue;
        if (try_act(l, lc))
            return;
    }
    (void)try_register(l);
}

void chaos_load_tick(chaos_load *l, uint64_t now_ms)
{
    if (l->start_ms == 0)
        l->start_ms = now_ms;
    double due = (double)(now_ms - l->start_ms) * l->o.rate / 1000.0;
    uint64_t done = l->fig.saved;
    int burst = 0;
    while ((double)l->fig.saved < due && l->fig.saved < l->o.actions && burst < 200) {
        one_action(l);
        burst++;
        if (l->fig.saved == done && burst > 20)
            break; /* nothing could be saved now (e.g. nobody logged in) */
    }
}

bool chaos_load_done(const chaos_load *l)
{
    return l->fig.saved >= l->o.actions;
}

/* ---- restarts ------------------------------------------------------------------------ */

static void on_restart_timer(uv_timer_t *t)
{
    chaos_load *l = t->data;
    for (size_t i = 0; i < l->n_clients; i++) {
        lclient *lc = &l->clients[i];
        if (lc->restarting && !lc->stopped) {
            uv_timer_start(t, on_restart_timer, 50, 0); /* not yet: look again soon */
            continue;
        }
        if (lc->restarting) {
            sj_error err;
            sc_client_free(lc->c);
            lc->c = NULL;
            lc->restarting = false;
            if (client_open(l, lc, &err) != 0)
                fprintf(stderr, "sanji-chaos: cannot reopen %s: %s\n", lc->unit, err.message);
        }
    }
}

static void on_stopped(sc_client *c, void *data)
{
    (void)c;
    lclient *lc = data;
    lc->stopped = true;
}

int chaos_load_restart_client(chaos_load *l, sj_error *err)
{
    /* Prefer a station with unfinished work: that is the case that matters;
     * first the one that just began a large upload. */
    lclient *pick = NULL;
    if (l->big_station >= 0) {
        lclient *lc = &l->clients[l->big_station];
        sc_status_info st;
        if (lc->c && !lc->restarting && sc_status(lc->c, &st, NULL) == 0 &&
            st.outbox.saved + st.outbox.stored > 0)
            pick = lc;
    }
    for (int tries = 0; tries < 20 && !pick; tries++) {
        lclient *lc = &l->clients[sj_workload_below(l->w, l->n_stations)];
        if (!lc->c || lc->restarting)
            continue;
        sc_status_info st;
        if (sc_status(lc->c, &st, NULL) == 0 && st.outbox.saved + st.outbox.stored > 0)
            pick = lc;
        else if (tries >= 15)
            pick = lc;
    }
    if (!pick)
        return sj_error_set(err, SJ_EBUSY, "no station to restart now");
    /* Stop; once stopped, free it and make it again from the same store
     * (on_restart_timer); the outbox must still go. */
    pick->restarting = true;
    pick->stopped = false;
    sc_client_stop(pick->c, on_stopped);
    l->fig.client_restarts++;
    uv_timer_start(&l->restart_timer, on_restart_timer, 100 + sj_workload_below(l->w, 900), 0);
    return 0;
}

/* ---- the end -------------------------------------------------------------------------- */

bool chaos_load_quiet(chaos_load *l)
{
    for (size_t i = 0; i < l->n_recs; i++)
        if (!l->recs[i].final)
            return false;
    for (size_t i = 0; i < l->n_clients; i++) {
        lclient *lc = &l->clients[i];
        if (lc->proc_t >= 0) {
            /* Running, its load ended, and every action and chunk final. */
            if (l->net->station_restart_at[lc->proc_t] || !proc_flag(l, lc, ".idle"))
                return false;
            procrecs p;
            proc_read(l, lc, &p);
            bool done = p.unfinished == 0;
            for (size_t k = 0; done && k < p.n_recs; k++)
                done = p.recs[k].final != 0;
            procrecs_free(&p);
            if (!done)
                return false;
            continue;
        }
        if (!lc->c)
            return false;
        sc_status_info st;
        if (sc_status(lc->c, &st, NULL) != 0 || st.outbox.saved + st.outbox.stored > 0)
            return false;
    }
    return true;
}

void chaos_load_figures(const chaos_load *l, chaos_figures *out)
{
    *out = l->fig;
    out->pending = 0;
    for (size_t i = 0; i < l->n_recs; i++)
        if (!l->recs[i].final)
            out->pending++;
    for (size_t i = 0; i < l->n_stations; i++) {
        if (l->clients[i].proc_t < 0)
            continue;
        procrecs p;
        proc_read(l, &l->clients[i], &p);
        out->proc_stations++;
        out->proc_saved += p.n_recs;
        out->proc_attachments += p.n_atts;
        out->saved += p.n_recs;
        for (size_t k = 0; k < p.n_recs; k++) {
            const record *r = &p.recs[k];
            out->registers += r->action == SJ_ACTION_REGISTER;
            out->applied += r->final == 'A';
            out->refused += r->final == 'R';
            out->pending += r->final == 0;
        }
        out->attachments += p.n_atts;
        for (size_t k = 0; k < p.n_atts; k++)
            out->attach_bytes += p.atts[k].size;
        procrecs_free(&p);
    }
}

void chaos_load_journal(const chaos_load *l, chaos_journal_fn fn, void *data)
{
    for (size_t i = 0; i < l->n_recs; i++) {
        const record *r = &l->recs[i];
        fn(r->message_id, r->case_id, r->action, r->final, r->version, r->code, data);
    }
    for (size_t i = 0; i < l->n_stations; i++) {
        if (l->clients[i].proc_t < 0)
            continue;
        procrecs p;
        proc_read(l, &l->clients[i], &p);
        for (size_t k = 0; k < p.n_recs; k++) {
            const record *r = &p.recs[k];
            fn(r->message_id, r->case_id, r->action, r->final, r->version, r->code, data);
        }
        procrecs_free(&p);
    }
}

void chaos_load_stores(const chaos_load *l, chaos_store_fn fn, void *data)
{
    for (size_t i = 0; i < l->n_clients; i++)
        fn(l->clients[i].store, l->clients[i].unit, data);
}

void chaos_load_free(chaos_load *l)
{
    if (!l)
        return;
    for (size_t i = 0; l->clients && i < l->n_clients; i++)
        if (l->clients[i].c && !l->clients[i].restarting) {
            l->clients[i].stopped = false;
            sc_client_stop(l->clients[i].c, on_stopped);
        }
    if (l->timer_init) {
        uv_timer_stop(&l->restart_timer);
        uv_close((uv_handle_t *)&l->restart_timer, NULL);
    }
    /* Each client ends its link and store; a hang only stops the wait. */
    uint64_t give_up = uv_hrtime() / 1000000 + SJ_TEST_HANG_MS;
    for (; l->loop && uv_hrtime() / 1000000 < give_up;) {
        bool all = true;
        for (size_t i = 0; l->clients && i < l->n_clients; i++)
            if (l->clients[i].c && !l->clients[i].stopped)
                all = false;
        uv_run(l->loop, UV_RUN_NOWAIT);
        if (all)
            break;
        uv_sleep(5);
    }
    for (size_t i = 0; l->clients && i < l->n_clients; i++) {
        if (l->clients[i].c && l->clients[i].stopped)
            sc_client_free(l->clients[i].c);
        else if (l->clients[i].c)
            fprintf(stderr, "sanji-chaos: client %s did not stop; not freed\n", l->clients[i].unit);
        free(l->clients[i].todo);
        idmap_free(&l->clients[i].listed);
    }
    free(l->clients);
    free(l->recs);
    free(l->atts);
    idmap_free(&l->by_msg);
    if (l->journal)
        fclose(l->journal);
    free(l);
}
