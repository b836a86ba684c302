/*
 * sc_password.c - a person's own password change: checked and hashed off
 * the loop, saved to the outbox, and held as the verifier logins check
 * until the county's person list carries it (or the county refuses it).
 *
 * Entry points: sc_change_password(), sc_must_change_password(); inside
 * the library the sc_password_* functions of sanji_client_private.h.
 */
#include "sanji_client_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"
#include "log.h"
#include "password.h"
#include "uuid.h"

/* ---- passwords --------------------------------------------------------- */

/* A person's own password change made here is kept in the store's meta
 * ("pwchange:<person>" = "<new verifier> <base>", base being the verifier
 * of the person list it replaced) from the moment it is saved to the
 * outbox: until then it is the verifier logins check, so the new password
 * works at once, offline too, and a person list synced before the county
 * took the change (still the base) does not bring the old one back.  It
 * is dropped when a person list carries it, when the county refuses the
 * change, or when a list carries another verifier than the base (set at
 * the county since, or changed at another station) and no change of the
 * person waits in the outbox any more. */
#define PWCHANGE_KEY "pwchange:"

static void pending_key(const char *person, char key[160])
{
    snprintf(key, 160, PWCHANGE_KEY "%.120s", person);
}

#define PWCHANGE_VALUE_SIZE (2 * SJ_PASSWORD_VERIFIER_SIZE + 2)

/* The new verifier (into buf) and, when base is not NULL, the base. */
static bool pending_get(sc_client *c, const char *person, char *buf, size_t cap, char *base,
                        size_t base_cap)
{
    char key[160], v[PWCHANGE_VALUE_SIZE];
    pending_key(person, key);
    if (sc_store_meta_get(c->st, key, v, sizeof v, NULL) != 0 || !v[0])
        return false;
    char *sp = strchr(v, ' ');
    if (sp)
        *sp = '\0';
    const char *b = sp ? sp + 1 : "";
    /* Both are verifiers (shorter than SJ_PASSWORD_VERIFIER_SIZE). */
    if (strlen(v) >= cap || (base && strlen(b) >= base_cap))
        return false;
    memcpy(buf, v, strlen(v) + 1);
    if (base)
        memcpy(base, b, strlen(b) + 1);
    return true;
}

bool sc_password_verifier(sc_client *c, const char *person, char *buf, size_t cap)
{
    return pending_get(c, person, buf, cap, NULL, 0);
}

/* Does a password change of person still wait in the outbox? */
static bool pending_unsent(sc_client *c, const char *person)
{
    sc_outbox_entry *e = NULL;
    size_t n = 0;
    bool found = false;
    if (sc_store_outbox_list(c->st, true, &e, &n, NULL) != 0)
        return true; /* keep it: it is dropped at a later list */
    for (size_t i = 0; i < n && !found; i++) {
        if (e[i].action != SJ_ACTION_NONE || !e[i].payload)
            continue;
        Sanji__Envelope *env = sanji__envelope__unpack(NULL, e[i].payload_len, e[i].payload);
        found = env && env->body_case == SANJI__ENVELOPE__BODY_PASSWORD_CHANGE &&
                strcmp(nz(env->password_change->person), person) == 0;
        if (env)
            sanji__envelope__free_unpacked(env, NULL);
    }
    sc_store_outbox_free(e, n);
    return found;
}

static void pending_drop(sc_client *c, const char *person)
{
    char key[160];
    sj_error err;
    pending_key(person, key);
    if (sc_store_meta_set(c->st, key, NULL, &err) != 0)
        SJ_LOG_WARN(MOD, "password change not cleared", "why", err.message);
}

/* After a new person list: changes it carries, or that a newer password
 * overtook, are no longer held apart (above). */
void sc_password_settle(sc_client *c)
{
    char v[SJ_PASSWORD_VERIFIER_SIZE], base[SJ_PASSWORD_VERIFIER_SIZE];
    for (size_t i = 0; c->persons && i < c->persons->n_persons; i++) {
        const Sanji__Person *p = c->persons->persons[i];
        if (!p->id || !pending_get(c, p->id, v, sizeof v, base, sizeof base))
            continue;
        if (strcmp(v, nz(p->verifier)) == 0 ||
            (strcmp(base, nz(p->verifier)) != 0 && !pending_unsent(c, p->id)))
            pending_drop(c, p->id);
    }
}

/* A refused outbox row: if it was a password change, the county's
 * password counts again. */
void sc_password_drop_for(sc_client *c, const sc_outbox_entry *e)
{
    if (e->action != SJ_ACTION_NONE || !e->payload)
        return;
    Sanji__Envelope *env = sanji__envelope__unpack(NULL, e->payload_len, e->payload);
    if (env && env->body_case == SANJI__ENVELOPE__BODY_PASSWORD_CHANGE &&
        env->password_change->person)
        pending_drop(c, env->password_change->person);
    if (env)
        sanji__envelope__free_unpacked(env, NULL);
}

bool sc_must_change_password(sc_client *c, const char *person)
{
    const Sanji__Person *p = sc_ref_person_by_id(c, person);
    char v[SJ_PASSWORD_VERIFIER_SIZE];
    return p && p->must_change_password && !sc_password_verifier(c, p->id, v, sizeof v);
}


typedef struct passwd_work {
    uv_work_t req;
    sc_client *c;
    char person_id[128];
    char old_verifier[SJ_PASSWORD_VERIFIER_SIZE];
    char new_verifier[SJ_PASSWORD_VERIFIER_SIZE];
    char *old_password, *new_password;
    int status;
    sj_error err;
    sc_login_cb cb;
    void *data;
} passwd_work;

static void passwd_run(uv_work_t *req)
{
    passwd_work *w = req->data;
    w->status = sj_password_verify(w->old_password, w->old_verifier, &w->err);
    if (w->status == 0)
        w->status = sj_password_make(w->new_password, w->new_verifier, sizeof w->new_verifier,
                                     &w->err);
}

static void secret_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* The PasswordChange to the outbox and the new verifier held, in one
 * transaction; then SAVED and a send. */
static int passwd_save(sc_client *c, const char *person, const char *verifier, sj_error *err)
{
    int64_t now = sj_clock_real_ms();
    int rc = sc_check_clock(c, now, err);
    if (rc != 0)
        return rc;
    uint8_t msg_id[16];
    static const uint8_t no_case[16];
    sj_uuid_v7(msg_id);
    Sanji__PasswordChange pc = SANJI__PASSWORD_CHANGE__INIT;
    pc.person = (char *)person;
    pc.new_verifier = (char *)verifier;
    pc.changed_at_ms = now;
    Sanji__Envelope env = SANJI__ENVELOPE__INIT;
    env.message_id.data = msg_id;
    env.message_id.len = 16;
    env.body_case = SANJI__ENVELOPE__BODY_PASSWORD_CHANGE;
    env.password_change = &pc;
    uint8_t *frame = NULL;
    size_t len = 0;
    if ((rc = sc_send_pack(c, &env, &frame, &len, err)) != 0)
        return rc;
    char key[160], value[PWCHANGE_VALUE_SIZE], base[SJ_PASSWORD_VERIFIER_SIZE];
    pending_key(person, key);
    /* The base stays the list's verifier through several changes here. */
    const Sanji__Person *p = sc_ref_person_by_id(c, person);
    char ignored[SJ_PASSWORD_VERIFIER_SIZE];
    if (!pending_get(c, person, ignored, sizeof ignored, base, sizeof base))
        snprintf(base, sizeof base, "%s", p ? nz(p->verifier) : "");
    snprintf(value, sizeof value, "%s %s", verifier, base);
    if ((rc = sc_store_begin(c->st, err)) == 0) {
        rc = sc_store_outbox_add(c->st, msg_id, no_case, SJ_ACTION_NONE,
                                 frame + SJ_FRAME_HEADER_SIZE, len, now, err);
        if (rc == 0)
            rc = sc_store_meta_set(c->st, key, value, err);
        if (rc == 0)
            rc = sc_store_commit(c->st, err);
        if (rc != 0)
            sc_store_rollback(c->st);
    }
    free(frame);
    explicit_bzero(value, sizeof value);
    if (rc != 0)
        return rc;
    sc_event ev = {.type = SC_EV_SAVED, .message_id = msg_id, .action = SJ_ACTION_NONE};
    sc_client_emit(c, &ev);
    sc_send_flush(c);
    return 0;
}

static void passwd_done(uv_work_t *req, int status)
{
    passwd_work *w = req->data;
    sc_client *c = w->c;
    c->busy--;
    secret_free(w->old_password);
    secret_free(w->new_password);
    int rc = status == UV_ECANCELED ? SJ_ECANCELLED : w->status;
    sj_error err = w->err;
    if (rc == SJ_EAUTH)
        sj_error_set(&err, SJ_EAUTH, "%s", _("The current password is wrong."));
    else if (rc == 0)
        rc = passwd_save(c, w->person_id, w->new_verifier, &err);
    explicit_bzero(w->new_verifier, sizeof w->new_verifier);
    if (w->cb)
        w->cb(c, rc, &err, w->data);
    free(w);
    sc_client_maybe_stopped(c);
}

int sc_change_password(sc_client *c, const char *old_password, const char *new_password,
                       sc_login_cb cb, void *data, sj_error *err)
{
    const Sanji__Person *p = sc_person(c);
    if (!p) {
        const Sanji__Person *was = sc_ref_person_by_id(c, c->person_id);
        if (was && !was->active)
            return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                                _("This person has been deactivated by the county and can no longer log in; ask the county operator."));
        return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s",
                            _("Nobody is logged in at this station; log in first (sanji login)."));
    }
    if (!old_password || !*old_password || !new_password || !*new_password)
        return sj_error_set(err, SJ_EMISSING_FIELD, "%s",
                            _("Give the current password and the new one."));
    int rc = sj_password_strength(new_password, err);
    if (rc != 0)
        return rc;
    if (strcmp(old_password, new_password) == 0)
        return sj_error_set(err, SJ_EINVAL, "%s",
                            _("The new password must differ from the current one."));
    passwd_work *w = calloc(1, sizeof(*w));
    if (!w || !(w->old_password = strdup(old_password)) ||
        !(w->new_password = strdup(new_password))) {
        if (w)
            secret_free(w->old_password);
        free(w);
        return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    w->c = c;
    w->cb = cb;
    w->data = data;
    w->req.data = w;
    snprintf(w->person_id, sizeof w->person_id, "%s", p->id);
    if (!sc_password_verifier(c, p->id, w->old_verifier, sizeof w->old_verifier))
        snprintf(w->old_verifier, sizeof w->old_verifier, "%s", nz(p->verifier));
    if ((rc = uv_queue_work(c->loop, &w->req, passwd_run, passwd_done)) != 0) {
        secret_free(w->old_password);
        secret_free(w->new_password);
        free(w);
        return sj_error_set(err, SJ_EINTERNAL, "uv_queue_work: %s", uv_strerror(rc));
    }
    c->busy++;
    return 0;
}
