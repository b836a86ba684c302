/*
 * sc_login.c - who works at this station: log-in against the cached
 * verifiers (slowed after wrong passwords, which are reported upward),
 * the remembered log-in, log-out, and the actor the case rules judge.
 *
 * Entry points: sc_login(), sc_use_person(), sc_logout(); inside the
 * library the sc_login_* functions of sanji_client_private.h.
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"
#include "log.h"
#include "login_report.h"
#include "password.h"
#include "utf8.h"

/* Wrong passwords not yet reported upward (common/domain/login_report.h), kept in
 * the store: a `sanji login` that ends before any link reports them with
 * the next run that links. */
#define LOGIN_REPORT_KEY "login_report"
/* The time of the last login here (ms), reported upward for presence. */
#define LOGIN_AT_KEY "login_at"

void sc_login_report_read(sc_client *c, char text[SJ_LOGIN_REPORT_SIZE])
{
    if (sc_store_meta_get(c->st, LOGIN_REPORT_KEY, text, SJ_LOGIN_REPORT_SIZE, NULL) != 0)
        text[0] = '\0';
}

int sc_login_report_clear(sc_client *c, sj_error *err)
{
    return sc_store_meta_set(c->st, LOGIN_REPORT_KEY, "", err);
}

int64_t sc_login_last_ms(sc_client *c)
{
    return sc_client_meta_i64(c, LOGIN_AT_KEY);
}

typedef struct login_work {
    uv_work_t req;
    sc_client *c;
    char person_id[128];
    bool inactive;            /* the county deactivated this person */
    char fail_key[160];       /* the store's key of this person's failures */
    char verifier[SJ_PASSWORD_VERIFIER_SIZE];
    char *password;
    int status;
    sj_error err;
    sc_login_cb cb;
    void *data;
} login_work;

/* Password guessing is slowed per person: after LOGIN_FAILS_FREE wrong
 * passwords in a row, each further try waits LOGIN_WAIT_BASE_MS, doubling
 * with every failure up to LOGIN_WAIT_MAX_MS.  The count and the time of the
 * last failure are kept in the station's store ("login_fail:<person>"), so
 * restarting the program does not reset them; unknown names share one
 * count, so guessing names is slowed too.  A right password clears it. */
#define LOGIN_FAILS_FREE SJ_LOGIN_REPEATED
#define LOGIN_WAIT_BASE_MS 5000
#define LOGIN_WAIT_MAX_MS (15 * 60 * 1000)

static unsigned login_failures_get(sc_client *c, const char *key, int64_t *last_ms)
{
    char v[64];
    unsigned n = 0;
    long long last = 0;
    if (sc_store_meta_get(c->st, key, v, sizeof v, NULL) == 0 &&
        sscanf(v, "%u %lld", &n, &last) != 2)
        n = 0, last = 0;
    if (last_ms)
        *last_ms = last;
    return n;
}

static void login_failures_set(sc_client *c, const char *key, unsigned n, int64_t at_ms)
{
    char v[64];
    snprintf(v, sizeof v, "%u %lld", n, (long long)at_ms);
    sj_error err;
    if (sc_store_meta_set(c->st, key, v, &err) != 0)
        SJ_LOG_WARN("sanji", "login failures not stored", "why", err.message);
}

/* Milliseconds the person of key must still wait before the next try. */
static int64_t login_wait_ms(sc_client *c, const char *key)
{
    int64_t last;
    unsigned n = login_failures_get(c, key, &last);
    if (n < LOGIN_FAILS_FREE)
        return 0;
    int64_t wait = LOGIN_WAIT_BASE_MS;
    for (unsigned i = LOGIN_FAILS_FREE; i < n && wait < LOGIN_WAIT_MAX_MS; i++)
        wait *= 2;
    if (wait > LOGIN_WAIT_MAX_MS)
        wait = LOGIN_WAIT_MAX_MS;
    int64_t left = last + wait - sj_clock_real_ms();
    /* A clock set back must not lengthen the wait beyond its own size. */
    return left < 0 ? 0 : left > wait ? wait : left;
}

static void login_run(uv_work_t *req)
{
    login_work *w = req->data;
    w->status = sj_password_verify(w->password, w->verifier, &w->err);
}

static void login_done(uv_work_t *req, int status)
{
    login_work *w = req->data;
    sc_client *c = w->c;
    c->busy--;
    explicit_bzero(w->password, strlen(w->password));
    free(w->password);
    int rc = status == UV_ECANCELED ? SJ_ECANCELLED : w->status;
    sj_error err;
    sj_error_clear(&err);
    if (rc == 0 && w->inactive) {
        login_failures_set(c, w->fail_key, 0, 0);
        rc = sj_error_set(&err, SJ_EUNKNOWN_PERSON, "%s",
                          _("This person has been deactivated by the county and can no longer log in; ask the county operator."));
    } else if (rc == 0) {
        snprintf(c->person_id, sizeof(c->person_id), "%s", w->person_id);
        rc = sc_store_meta_set(c->st, "person", w->person_id, &err);
        if (rc == 0)
            login_failures_set(c, w->fail_key, 0, 0);
        if (rc == 0) {
            char at[32];
            snprintf(at, sizeof at, "%lld", (long long)sj_clock_real_ms());
            if (sc_store_meta_set(c->st, LOGIN_AT_KEY, at, &err) != 0)
                SJ_LOG_WARN("sanji", "login time not kept for the status", "why", err.message);
            sj_error_clear(&err);
            sc_link_send_status(c); /* the county counts this station staffed from now */
        }
    } else if (rc == SJ_EAUTH) {
        unsigned n = login_failures_get(c, w->fail_key, NULL) + 1;
        int64_t now = sj_clock_real_ms();
        login_failures_set(c, w->fail_key, n, now);
        /* Upward too, so the county sees guessing (never the password, nor
         * a name typed that is not in the list: "?"). */
        char report[SJ_LOGIN_REPORT_SIZE];
        sc_login_report_read(c, report);
        sj_login_report_add(report, w->person_id[0] ? w->person_id : "?", 1, n, now);
        if (sc_store_meta_set(c->st, LOGIN_REPORT_KEY, report, &err) != 0)
            SJ_LOG_WARN("sanji", "wrong password not kept for the report", "why", err.message);
        sj_error_clear(&err);
        sc_link_send_status(c);
        if (n >= LOGIN_FAILS_FREE) {
            char count[16];
            snprintf(count, sizeof count, "%u", n);
            SJ_LOG_WARN("sanji", "repeated wrong passwords at this station", "person",
                        w->person_id[0] ? w->person_id : "(unknown name)", "in_a_row", count);
        }
        sj_error_set(&err, SJ_EAUTH, "%s", _("Wrong name or password."));
    } else {
        err = w->err;
    }
    if (w->cb)
        w->cb(c, rc, &err, w->data);
    free(w);
    sc_client_maybe_stopped(c);
}

/* The person of this node named person (by id, or by a name only one has),
 * or NULL: *found; *inactive when the county deactivated them. */
static int find_login_person(sc_client *c, const char *person, const Sanji__Person **found,
                             bool *inactive, sj_error *err)
{
    *found = NULL;
    *inactive = false;
    int matches = 0;
    for (size_t i = 0; i < c->persons->n_persons; i++) {
        const Sanji__Person *p = c->persons->persons[i];
        if (!sc_ref_person_fits(c, p))
            continue;
        if (strcmp(nz(p->id), person) == 0) {
            *found = p;
            matches = 1;
            break;
        }
        if (strcmp(nz(p->name), person) == 0) {
            *found = p;
            matches++;
        }
    }
    if (matches > 1)
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("Several persons at this station have this name; log in with the person id."));
    /* Not among the active ones: a person the county deactivated (the
     * synced list still holds them, marked inactive) is told so once their
     * password is right; a wrong one gets the usual answer. */
    for (size_t i = 0; !*found && i < c->persons->n_persons; i++) {
        const Sanji__Person *p = c->persons->persons[i];
        if (!p->active && sc_ref_person_of_node(c, p) &&
            (strcmp(nz(p->id), person) == 0 || strcmp(nz(p->name), person) == 0)) {
            *found = p;
            *inactive = true;
        }
    }
    return 0;
}

int sc_login(sc_client *c, const char *person, const char *password, sc_login_cb cb, void *data,
             sj_error *err)
{
    if (sj_utf8_blank(person) || !password || !*password)
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s", _("Give the person and the password."));
    if (!c->persons || c->persons->n_persons == 0)
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("No list of persons has been received yet; connect to the relay once (sanji sync) and try again."));
    const Sanji__Person *found;
    bool inactive;
    int rc = find_login_person(c, person, &found, &inactive, err);
    if (rc != 0)
        return rc;
    /* An unknown person gets the same answer as a wrong password, so the
     * tool does not tell who exists; we still spend the scrypt time on a
     * dummy so the answer takes as long. */
    login_work *w = calloc(1, sizeof(*w));
    if (!w || !(w->password = strdup(password))) {
        free(w);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    w->c = c;
    w->cb = cb;
    w->data = data;
    w->req.data = w;
    snprintf(w->fail_key, sizeof w->fail_key, "login_fail:%.120s", found ? nz(found->id) : "?");
    int64_t wait = login_wait_ms(c, w->fail_key);
    if (wait > 0) {
        explicit_bzero(w->password, strlen(w->password));
        free(w->password);
        free(w);
        return sj_error_set(err, SJ_EAUTH,
                            _("Too many wrong passwords; wait %lld seconds, then try again."),
                            (long long)((wait + 999) / 1000));
    }
    if (found) {
        w->inactive = inactive;
        snprintf(w->person_id, sizeof(w->person_id), "%s", found->id);
        /* A change made here that the county's list does not carry yet
         * counts at once, offline too. */
        if (!sc_password_verifier(c, found->id, w->verifier, sizeof(w->verifier)))
            snprintf(w->verifier, sizeof(w->verifier), "%s", nz(found->verifier));
    } else {
        snprintf(w->verifier, sizeof(w->verifier),
                 "scrypt$16384$8$1$00000000000000000000000000000000$"
                 "0000000000000000000000000000000000000000000000000000000000000000");
    }
    rc = uv_queue_work(c->loop, &w->req, login_run, login_done);
    if (rc != 0) {
        free(w->password);
        free(w);
        return sj_error_set(err, SJ_EINTERNAL, "uv_queue_work: %s", uv_strerror(rc));
    }
    c->busy++;
    return 0;
}

int sc_use_person(sc_client *c, sj_error *err)
{
    char id[128];
    if (sc_store_meta_get(c->st, "person", id, sizeof(id), NULL) != 0)
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("Nobody is logged in at this station; log in first (sanji login)."));
    if (!sc_ref_person_fits(c, sc_ref_person_by_id(c, id)))
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("The person logged in here is no longer active at this station; log in again."));
    snprintf(c->person_id, sizeof(c->person_id), "%s", id);
    return 0;
}

int sc_logout(sc_client *c, sj_error *err)
{
    c->person_id[0] = '\0';
    int rc = sc_store_meta_set(c->st, "person", NULL, err);
    if (rc == 0)
        sc_link_send_status(c); /* no longer staffed */
    return rc;
}

int sc_login_actor(sc_client *c, sj_actor *a, const Sanji__Person **pp, sj_error *err)
{
    const Sanji__Person *p = sc_person(c);
    if (!p)
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("Nobody is logged in at this station; log in first (sanji login)."));
    if (sc_must_change_password(c, p->id))
        return sj_error_set(err, SJ_EMUST_CHANGE_PASSWORD, "%s",
                            _("The county set this person's password; choose a new one first "
                              "(sanji passwd, or log in again)."));
    memset(a, 0, sizeof(*a));
    a->role = (sj_person_role)p->role;
    snprintf(a->unit, sizeof(a->unit), "%s", nz(p->org_unit));
    snprintf(a->department, sizeof(a->department), "%s", nz(p->department));
    snprintf(a->person, sizeof(a->person), "%s", nz(p->id));
    if (pp)
        *pp = p;
    return 0;
}
