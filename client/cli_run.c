/*
 * cli_run.c - a command's run: a client on its own libuv loop, started when
 * a command needs the link and run for at most --wait seconds; the events
 * each kind of command waits for; questions to the peer (a county desk's
 * case fetched first, statistics, an attachment) and their answers.
 */
#include "cli_run.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"
#include "uuid.h"

#include "cli_out.h"
#include "cli_opts.h"

static void finish(cli_run *r)
{
    if (r->done)
        return;
    r->done = true;
    if ((r->mode == CLI_M_SYNC || r->mode == CLI_M_STATUS) && sc_status(r->c, &r->final, NULL) == 0)
        r->have_final = true;
    if (r->timer_on) {
        uv_timer_stop(&r->timer);
        uv_close((uv_handle_t *)&r->timer, NULL);
    }
    if (r->sig_on)
        uv_close((uv_handle_t *)&r->sigint, NULL);
    sc_client_stop(r->c, NULL);
}

static void on_timeout(uv_timer_t *t)
{
    finish(t->data);
}

static void on_sigint(uv_signal_t *s, int sig)
{
    (void)sig;
    finish(s->data);
}

void cli_login_done(sc_client *c, int status, const sj_error *err, void *data)
{
    cli_run *r = data;
    (void)c;
    r->login_status = status;
    if (err)
        r->login_err = *err;
    r->passwd_done = true;
    uv_stop(&r->loop);
}

void cli_start_login(cli_run *r)
{
    if (r->login_started)
        return;
    r->login_started = true;
    if (sc_login(r->c, r->person, r->password, cli_login_done, r, &r->login_err) != 0) {
        r->login_status = r->login_err.code;
        finish(r);
    }
}

static void print_event_line(cli_run *r, const sc_event *ev)
{
    char ref[SJ_UUID_TEXT_SIZE] = "";
    if (ev->case_id)
        sj_uuid_format(ev->case_id, ref);
    const char *num = ev->case_number && *ev->case_number ? ev->case_number : ref;
    char when[32];
    cli_fmt_time(sj_clock_real_ms(), when, sizeof(when));
    if (r->o->json) {
        static const char *names[] = {"", "link_up", "link_down", "caught_up", "saved", "stored",
                                      "applied", "refused", "case_changed", "refdata", "upstream"};
        printf("{\"event\":\"%s\"", names[ev->type]);
        if (ev->case_id) {
            printf(",\"case_id\":\"%s\"", ref);
            cli_json_field("case_number", ev->case_number);
        }
        if (ev->snapshot)
            printf(",\"status\":\"%s\",\"version\":%" PRIu64,
                   sj_case_status_name((sj_case_status)ev->snapshot->status), ev->snapshot->version);
        if (ev->event)
            printf(",\"action\":\"%s\"", sj_case_action_name((sj_case_action)ev->event->action));
        if (ev->type == SC_EV_REFUSED || ev->type == SC_EV_LINK_DOWN) {
            printf(",\"code\":\"%s\"", sj_err_name(ev->code));
            cli_json_field("reason", ev->reason);
        }
        if (ev->type == SC_EV_LINK_UP || ev->type == SC_EV_UPSTREAM)
            printf(",\"peer\":\"%s\",\"county_online\":%s", ev->peer_node,
                   ev->upstream_online ? "true" : "false");
        printf("}\n");
        fflush(stdout);
        return;
    }
    switch (ev->type) {
    case SC_EV_LINK_UP:
        printf("%s  %s %s%s\n", when, _("Connected to"), ev->peer_node,
               ev->upstream_online ? "" : _(" (the county is not reachable now; work is kept at the township)"));
        break;
    case SC_EV_LINK_DOWN:
        printf("%s  %s%s\n", when, _("Link down: "), ev->reason);
        break;
    case SC_EV_UPSTREAM:
        printf("%s  %s\n", when,
               ev->upstream_online ? _("The county is reachable again through the township.")
                                   : _("The township lost its link to the county; work is kept at the township."));
        break;
    case SC_EV_CAUGHT_UP: printf("%s  %s\n", when, _("Up to date.")); break;
    case SC_EV_STORED: printf("%s  %s  %s\n", when, num, _("outbox: reached the township")); break;
    case SC_EV_APPLIED: printf("%s  %s  %s\n", when, num, _("outbox: recorded by the county")); break;
    case SC_EV_REFUSED:
        printf("%s  %s  %s%s\n", when, num, _("Refused: "), ev->reason);
        break;
    case SC_EV_CASE_CHANGED:
        if (ev->snapshot)
            printf("%s  %s  %s%s%s\n", when, num,
                   ev->event ? sc_action_label((sj_case_action)ev->event->action) : "",
                   ev->event ? " → " : "", sc_status_label((sj_case_status)ev->snapshot->status));
        break;
    default: break;
    }
    fflush(stdout);
}

static void case_fetched(sc_client *c, int status, void *data);

static void query_answered(sc_client *c, int status, const Sanji__QueryResult *res, void *data);

static void attachment_fetched(sc_client *c, int status, const char *reason, const uint8_t *file,
                               size_t len, void *data);

static void on_event(sc_client *c, const sc_event *ev, void *data)
{
    cli_run *r = data;
    (void)c;
    if (r->done)
        return;
    /* While a question runs the link, the mode's own ends (caught up, say)
     * do not apply: an answer and the feed's catching up can arrive in one
     * loop turn, and finishing then would lose the answer. */
    if (r->fetching || r->awaiting) {
        if (r->fetching && ev->type == SC_EV_LINK_UP) {
            sj_error err;
            int rc = r->att_id  ? sc_attachment_fetch(r->c, r->att_case, r->att_id,
                                                      attachment_fetched, r, &err)
                     : r->ask ? sc_query(r->c, r->ask, query_answered, r, &err)
                              : sc_fetch_case_ref(r->c, r->fetch_ref, case_fetched, r, &err);
            if (rc != 0)
                case_fetched(r->c, err.code, r);
        }
        return;
    }
    switch (r->mode) {
    case CLI_M_WATCH: print_event_line(r, ev); return;
    case CLI_M_ACTION:
        if (ev->type == SC_EV_LINK_DOWN && !r->link_down_told && !r->o->json) {
            r->link_down_told = true;
            fprintf(stderr, "%s%s\n", _("Cannot reach the township now: "), ev->reason);
        }
        if (ev->message_id && memcmp(ev->message_id, r->msg_id, 16) == 0) {
            if (ev->type == SC_EV_STORED) {
                r->reached = SC_OUT_STORED;
                if (!r->o->json)
                    printf("%s\n", _("outbox: reached the township"));
                if (!r->o->wait_applied)
                    finish(r);
            } else if (ev->type == SC_EV_APPLIED) {
                r->reached = SC_OUT_APPLIED;
                snprintf(r->number, sizeof(r->number), "%s", ev->case_number);
                r->version = ev->case_version;
                if (!r->o->json)
                    printf("%s%s%s\n", _("outbox: recorded by the county"),
                           *ev->case_number ? _(", case number ") : "", ev->case_number);
                finish(r);
            } else if (ev->type == SC_EV_REFUSED) {
                r->reached = SC_OUT_REFUSED;
                r->refused_code = ev->code;
                snprintf(r->reason, sizeof(r->reason), "%s", ev->reason);
                finish(r);
            }
        }
        return;
    case CLI_M_SYNC: {
        if (ev->type == SC_EV_CAUGHT_UP || ev->type == SC_EV_STORED || ev->type == SC_EV_APPLIED ||
            ev->type == SC_EV_REFUSED || ev->type == SC_EV_UPSTREAM) {
            sc_status_info st;
            sj_error err;
            /* Done when the feed is caught up, nothing is unsent, and every
             * sent action has the county's answer, unless the county is out
             * of reach (then the relay keeps them).  Stopping at "stored"
             * would close the link just before the answers to the resent
             * actions arrive, and a relay hands a result to a connected
             * station only once. */
            if (sc_status(r->c, &st, &err) == 0 && st.caught_up && st.outbox.saved == 0 &&
                (st.outbox.stored == 0 || !st.upstream_online))
                finish(r);
        }
        return;
    }
    case CLI_M_LOGIN:
        if (ev->type == SC_EV_REFDATA && strcmp(ev->kind, "persons") == 0)
            cli_start_login(r);
        else if (ev->type == SC_EV_CAUGHT_UP)
            cli_start_login(r);
        return;
    case CLI_M_STATUS:
        if (ev->type == SC_EV_CAUGHT_UP || ev->type == SC_EV_LINK_DOWN)
            finish(r);
        return;
    }
}

static int run_init(cli_run *r, const cli_opts *o, cli_run_mode mode, cli_setup *s, sj_error *err)
{
    memset(r, 0, sizeof(*r));
    r->o = o;
    r->s = s;
    r->mode = mode;
    uv_loop_init(&r->loop);
    int rc = sc_client_new(&r->loop, &s->client, on_event, r, &r->c, err);
    if (rc != 0) {
        uv_loop_close(&r->loop);
        return rc;
    }
    return 0;
}

void cli_run_link(cli_run *r, double wait_s)
{
    sj_error err;
    if (!r->started) {
        /* A linked command works for the person `sanji login` remembered,
         * so the station reports them logged in (its presence). */
        sc_use_person(r->c, NULL);
        if (sc_client_start(r->c, &err) != 0) {
            if (!r->o->json)
                fprintf(stderr, "%s%s\n", _("Cannot connect: "), err.message);
            return;
        }
        r->started = true;
        uv_timer_init(&r->loop, &r->timer);
        r->timer.data = r;
        r->timer_on = true;
        uv_signal_init(&r->loop, &r->sigint);
        r->sigint.data = r;
        uv_signal_start(&r->sigint, on_sigint, SIGINT);
        r->sig_on = true;
    }
    if (r->done)
        return;
    if (wait_s >= 0)
        uv_timer_start(&r->timer, on_timeout, (uint64_t)(wait_s * 1000), 0);
    else
        uv_timer_stop(&r->timer);
    uv_run(&r->loop, UV_RUN_DEFAULT);
}

static void case_fetched(sc_client *c, int status, void *data)
{
    cli_run *r = data;
    (void)c;
    r->fetching = false;
    r->fetch_status = status;
    uv_stop(&r->loop);
}

/* The answer outlives the callback: a copy (packed and unpacked). */
static void query_answered(sc_client *c, int status, const Sanji__QueryResult *res, void *data)
{
    cli_run *r = data;
    /* A refusal's result is kept too: its reason says why (cli_ask_peer()). */
    if (res) {
        size_t n = sanji__query_result__get_packed_size(res);
        uint8_t *buf = malloc(n ? n : 1);
        if (buf) {
            sanji__query_result__pack(res, buf);
            r->answer = sanji__query_result__unpack(NULL, n, buf);
            free(buf);
        }
    }
    if (status == 0 && r->answer == NULL)
        status = SJ_ENOMEM;
    case_fetched(c, status, r);
}

/* Runs the link for --wait seconds, and at least at_least, until the
 * question asked (r->fetching) is answered.  Returns whether it was: not
 * when the link did not come up in time. */
static bool await_answer(cli_run *r, double at_least)
{
    double wait = cli_wait_seconds(r->o, at_least);
    r->awaiting = true;
    cli_run_link(r, wait >= 0 && wait < at_least ? at_least : wait);
    r->awaiting = false;
    return !r->fetching && !r->done;
}

/* The question could not be asked: the error saying so. */
static int not_asked(sj_error *err)
{
    return sj_error_set(err, SJ_ECLOSED, "%s",
                        _("The question could not be asked (no link); try again when the "
                          "township or the county is reachable."));
}

int cli_ask_peer(cli_run *r, const Sanji__Query *q, Sanji__QueryResult **out, sj_error *err)
{
    *out = NULL;
    r->ask = q;
    r->fetching = true;
    r->fetch_status = SJ_ECLOSED;
    /* A later question of the same run (the 通报 asks several): the link
     * is up already, so no LINK_UP will come to send it. */
    sc_status_info st;
    if (r->started && sc_status(r->c, &st, NULL) == 0 && st.link_up) {
        sj_error e;
        if (sc_query(r->c, q, query_answered, r, &e) != 0) {
            r->ask = NULL;
            r->fetching = false;
            return sj_error_set(err, e.code, "%s", e.message);
        }
    }
    bool answered = await_answer(r, 10);
    r->ask = NULL;
    if (!answered)
        return not_asked(err);
    if (r->fetch_status != 0) {
        Sanji__QueryResult *refused = r->answer;
        r->answer = NULL;
        if (refused && refused->reason && *refused->reason)
            sj_error_set(err, r->fetch_status, "%s", _(refused->reason));
        else
            sj_error_set(err, r->fetch_status, _("The question was not answered (%s)."),
                         sj_err_name(r->fetch_status));
        if (refused)
            sanji__query_result__free_unpacked(refused, NULL);
        return err->code;
    }
    *out = r->answer;
    r->answer = NULL;
    if ((*out)->code != 0) {
        sj_error_set(err, (*out)->code, "%s", (*out)->reason ? _((*out)->reason) : "");
        sanji__query_result__free_unpacked(*out, NULL);
        *out = NULL;
        return err->code;
    }
    return 0;
}

/* A county desk holds only the cases it opened (sc_searches_at_peer()): a
 * command naming another one asks the county for it once the link is up,
 * then goes on with the case in the store.  Returns 0, or fails with why. */
static int fetch_at_peer(cli_run *r, const char *ref, sj_error *err)
{
    r->fetch_ref = ref;
    r->fetching = true;
    r->fetch_status = SJ_ECLOSED;
    if (!await_answer(r, 10))
        return sj_error_set(err, SJ_ECLOSED,
                            _("Case %s is not held here and the county could not be asked for it "
                              "(no link); try again when the county is reachable."),
                            ref);
    if (r->fetch_status != 0)
        return sj_error_set(err, r->fetch_status == SJ_EUNKNOWN_CASE ? SJ_EUNKNOWN_CASE
                                                                     : r->fetch_status,
                            _("The county has no case %s in this desk's scope (%s)."), ref,
                            sj_err_name(r->fetch_status));
    return 0;
}

int cli_find_case(cli_run *r, const char *ref, uint8_t cid[16], sj_error *err)
{
    bool here = sc_find_case(r->c, ref, cid, err) == 0;
    if (!sc_searches_at_peer(r->c))
        return here ? CLI_EX_OK : CLI_EX_INPUT;
    if (!here && err->code != SJ_EUNKNOWN_CASE)
        return CLI_EX_INPUT;
    sj_error fetch_err;
    if (fetch_at_peer(r, ref, &fetch_err) != 0) {
        if (here && fetch_err.code == SJ_ECLOSED)
            return CLI_EX_OK;
        *err = fetch_err;
        return fetch_err.code == SJ_ECLOSED ? CLI_EX_PENDING : CLI_EX_INPUT;
    }
    return sc_find_case(r->c, ref, cid, err) == 0 ? CLI_EX_OK : CLI_EX_INPUT;
}

static void run_close(cli_run *r)
{
    free(r->att_data);
    r->att_data = NULL;
    if (r->answer) {
        sanji__query_result__free_unpacked(r->answer, NULL);
        r->answer = NULL;
    }
    if (!r->c)
        return;
    /* finish() also closes the timer and the signal handle that cli_run_link()
     * opened: a command that fails after it asked the county something
     * (a county desk's pre-check refusing the action) must not leave them
     * keeping the loop alive. */
    finish(r);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    sc_client_free(r->c);
    r->c = NULL;
    if (uv_loop_close(&r->loop) != 0) {
        uv_run(&r->loop, UV_RUN_DEFAULT);
        uv_loop_close(&r->loop);
    }
}

int cli_run_command(const cli_command *cmd, const cli_opts *o, cli_setup *s)
{
    cli_run r;
    sj_error err;
    if (run_init(&r, o, cmd->mode, s, &err) != 0)
        return cli_fail(&err, CLI_EX_SETUP);
    int code = cmd->fn(&r, cmd, &err);
    run_close(&r);
    return code;
}

double cli_wait_seconds(const cli_opts *o, double fallback)
{
    return o->wait_set ? o->wait : fallback;
}

static void attachment_fetched(sc_client *c, int status, const char *reason, const uint8_t *file,
                               size_t len, void *data)
{
    cli_run *r = data;
    if (status == 0) {
        r->att_data = malloc(len ? len : 1);
        if (r->att_data) {
            memcpy(r->att_data, file, len);
            r->att_len = len;
        } else {
            status = SJ_ENOMEM;
        }
    }
    snprintf(r->att_reason, sizeof r->att_reason, "%s", reason ? reason : "");
    case_fetched(c, status, r);
}

int cli_attachment_fetch(cli_run *r, const uint8_t cid[16], const uint8_t aid[16], uint8_t **data,
                         size_t *len, sj_error *err)
{
    r->att_case = cid;
    r->att_id = aid;
    r->fetching = true;
    r->fetch_status = SJ_ECLOSED;
    bool answered = await_answer(r, 60);
    r->att_id = NULL;
    if (!answered)
        return not_asked(err);
    if (r->fetch_status != 0)
        return sj_error_set(err, r->fetch_status, "%s",
                            r->att_reason[0] ? r->att_reason : _(sj_err_text(r->fetch_status)));
    *data = r->att_data;
    *len = r->att_len;
    r->att_data = NULL;
    return 0;
}
