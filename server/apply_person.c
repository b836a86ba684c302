/*
 * apply_person.c - who acts, and when, in a message the county applies
 * (apply.h): the acting person checked against the node that sent the
 * message, a person an action names (the assignee, the carrier), the time
 * a station says it did the work, the refusal that any check ends in, and
 * a person's own password change (the one message about a person rather
 * than a case).  The rules every message's judging starts with; the rest
 * of the module shares them through apply_int.h.
 *
 * Entry points (apply_int.h): countyd_apply_refuse(),
 * countyd_apply_check_time(), countyd_apply_check_person(),
 * countyd_apply_check_named(), countyd_apply_password().
 */
#include "apply_int.h"

#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "clock.h"
#include "db.h"
#include "i18n.h"
#include "identity.h"
#include "password.h"
#include "refusal.h"

/* Bound on how far the client's clock may run ahead of the county's when
 * the registration time is taken as the start of the time limit. */
#define CLIENT_CLOCK_SLACK_MS (10 * 60 * 1000)

/* Refuses a time the sender cannot have saved its work at: later than the
 * county's clock allows for, or before the county's CA existed (no station
 * had a certificate then).  0 means "now" and passes.  Refused rather than
 * moved, so that a station whose clock is wrong learns it and no false date
 * enters the record or the statistics. */
int countyd_apply_check_time(const countyd_apply *a, int64_t t, int64_t now,
                             countyd_apply_result *r)
{
    if (t > now + CLIENT_CLOCK_SLACK_MS)
        return countyd_apply_refuse(r, SJ_EBAD_TIME,
                                    N_("The time given is later than the county's clock; "
                                       "correct this computer's date and time."));
    if (t > 0 && a->time_floor_ms > 0 && t < a->time_floor_ms)
        return countyd_apply_refuse(r, SJ_EBAD_TIME,
                                    N_("The time given is before this county's network "
                                       "existed; correct this computer's date and time."));
    return 0;
}

/* Fills r as a refusal and returns REFUSED. */
int countyd_apply_refuse(countyd_apply_result *r, int code, const char *why)
{
    r->status = SANJI__ACK_STATUS__ACK_STATUS_REFUSED;
    r->code = code;
    /* The cadre's words for the refusal, in the county's language (gettext),
     * the same text the clients' own pre-check shows. */
    sj_refusal_format(code, why, r->reason, sizeof r->reason);
    r->feed_first = r->feed_seq = 0;
    r->village[0] = '\0';
    r->notify_queued = false;
    return REFUSED;
}

static sj_person_role role_of_node(Sanji__NodeRole role)
{
    switch (role) {
    case SANJI__NODE_ROLE__NODE_ROLE_VILLAGE: return SJ_ROLE_VILLAGE_CADRE;
    case SANJI__NODE_ROLE__NODE_ROLE_TOWNSHIP_DESK: return SJ_ROLE_TOWNSHIP_STAFF;
    case SANJI__NODE_ROLE__NODE_ROLE_COUNTY_DESK: return SJ_ROLE_COUNTY_OPERATOR;
    case SANJI__NODE_ROLE__NODE_ROLE_DEPARTMENT_DESK: return SJ_ROLE_DEPARTMENT_STAFF;
    default: return SJ_ROLE_NONE;
    }
}

/* --- the acting person ------------------------------------------------------ */

/* Checks the person against the sending node; fills actor and name. */
int countyd_apply_check_person(countyd_apply *a, const countyd_peer *peer, const char *person,
                               sj_actor *actor, char *name, size_t name_cap,
                               countyd_apply_result *r)
{
    sj_person_role want = role_of_node(peer->role);
    if (want == SJ_ROLE_NONE)
        return countyd_apply_refuse(r, SJ_EWRONG_ROLE,
                                    N_("This kind of computer may not act on cases."));
    if (!person || !*person || strlen(person) > 64)
        return countyd_apply_refuse(r, SJ_EMISSING_FIELD,
                                    N_("Nobody is named as the person who did it; log in and "
                                       "save it again."));
    /* A department desk's identity names its department (identity.h); its
     * staff must be of that department. */
    sj_identity node;
    const char *department = "";
    if (want == SJ_ROLE_DEPARTMENT_STAFF) {
        if (!peer->node || sj_identity_parse_node_id(peer->node, &node, NULL) != 0)
            return countyd_apply_refuse(r, SJ_EWRONG_ROLE,
                                        N_("This kind of computer may not act on cases."));
        department = node.name;
    }
    const countyd_ref_person *who = countyd_refdata_cache_person(&a->refs, person);
    if (!who || !who->active || strcmp(who->org_unit, peer->unit) != 0 || who->role != (int)want ||
        strcmp(who->department, department) != 0)
        return countyd_apply_refuse(r, SJ_EUNKNOWN_PERSON,
                                    N_("The person who did it is not known at the county, "
                                       "is no longer active, or belongs to another station."));
    snprintf(name, name_cap, "%s", who->name);
    actor->role = want;
    snprintf(actor->unit, sizeof(actor->unit), "%s", peer->unit);
    snprintf(actor->department, sizeof(actor->department), "%s", department);
    snprintf(actor->person, sizeof(actor->person), "%s", person);
    return 0;
}

/* --- persons an action names ------------------------------------------------ */

/* The role of the persons who hold a case at `level` (no department). */
static sj_person_role role_at(sj_level level)
{
    switch (level) {
    case SJ_LEVEL_VILLAGE: return SJ_ROLE_VILLAGE_CADRE;
    case SJ_LEVEL_TOWNSHIP: return SJ_ROLE_TOWNSHIP_STAFF;
    case SJ_LEVEL_COUNTY: return SJ_ROLE_COUNTY_OPERATOR;
    default: return SJ_ROLE_NONE;
    }
}

/* A person an action names (the assignee, the carrier): known, active, of
 * `unit` at `level` and, with a department, of that department's staff.
 * The machine checked the id's form; the county's records say the rest. */
int countyd_apply_check_named(const countyd_ref_person *p, sj_level level, const char *unit,
                              const char *department, countyd_apply_result *r)
{
    if (!p)
        return countyd_apply_refuse(
            r, SJ_EUNKNOWN_PERSON,
            N_("The county has no person with that id; choose the person from the "
               "station's list."));
    if (!p->active)
        return countyd_apply_refuse(
            r, SJ_EUNKNOWN_PERSON,
            N_("That person is no longer active; choose someone who works there "
               "now."));
    bool fits = strcmp(p->org_unit, unit) == 0 &&
                (department ? p->role == SJ_ROLE_DEPARTMENT_STAFF &&
                                  strcmp(p->department, department) == 0
                            : p->role == (int)role_at(level));
    if (!fits)
        return countyd_apply_refuse(
            r, SJ_EBAD_FIELD,
            N_("That person does not work in the unit that holds the case; choose one "
               "of its people."));
    return 0;
}

/* A person's own password change (apply.h); runs in the serial modes
 * only (cases_distinct()). */
int countyd_apply_password(countyd_apply *a, const countyd_apply_msg *m, countyd_apply_result *r,
                           sj_error *err)
{
    const Sanji__PasswordChange *pc = m->password;
    sj_actor actor;
    char name[SJ_CASE_NAME_MAX + 1];
    int rc = countyd_apply_check_person(a, m->peer, pc->person, &actor, name, sizeof name, r);
    if (rc != 0)
        return rc;
    sj_password_verifier v;
    sj_error e;
    if (!pc->new_verifier || sj_password_parse(pc->new_verifier, &v, &e) != 0)
        return countyd_apply_refuse(r, SJ_EBAD_FIELD,
                                    N_("The new password's verifier is malformed."));
    if ((rc = countyd_apply_check_time(a, pc->changed_at_ms, sj_clock_real_ms(), r)) != 0)
        return rc;
    char at[24];
    countyd_apply_i64(at, sizeof at, pc->changed_at_ms);
    const char *p[] = {pc->person, pc->new_verifier, at};
    PGresult *res;
    /* Only over a password set before the change: a reset at the county
     * after it wins, and the station is told to ask for the new one. */
    if ((rc = countyd_db_query(a->db, "UPDATE person SET verifier = $2,"
                                      " must_change_password = false, password_set_at_ms = $3,"
                                      " updated_at = now()"
                                      " WHERE id = $1 AND active AND password_set_at_ms <= $3"
                                      " RETURNING 1", 3, p, &res, err)) != 0)
        return rc;
    bool done = PQntuples(res) == 1;
    PQclear(res);
    if (!done)
        return countyd_apply_refuse(
            r, SJ_ESTALE_VERSION,
            N_("The county set a new password for this person after this change was "
               "made; log in with the password the county gave."));
    countyd_apply_before_write(a);
    static const char *const refs[] = {"person", NULL};
    const countyd_admin_by by = {pc->person, m->peer->node};
    if ((rc = countyd_admin_audit_write(a->db, &by, "person change-password", pc->person, "",
                                        "password changed by the person", refs, err)) != 0)
        return rc;
    r->status = SANJI__ACK_STATUS__ACK_STATUS_APPLIED;
    return 0;
}
