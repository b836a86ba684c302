/*
 * admin_req.c - a county desk's administration request (see
 * admin_req.h): the asker checked, then one call of admin.h.
 *
 * Entry point: countyd_admin_request().
 */
#include "admin_req.h"

#include <string.h>

#include "admin.h"
#include "case.h"
#include "db.h"
#include "i18n.h"

/* The person named at the desk: an active county operator of its unit. */
static int check_operator(PGconn *db, const sj_identity *node, const char *person, sj_error *err)
{
    if (node->role != SJ_NODE_ROLE_COUNTY_DESK)
        return sj_error_set(err, SJ_ENOT_ADMIN, "%s",
                            _("Only a county desk may administer persons, departments and items."));
    if (!person || !*person)
        return sj_error_set(err, SJ_ENOT_ADMIN, "%s",
                            _("Nobody is named as the operator; log in at the county desk first."));
    char role[8];
    snprintf(role, sizeof role, "%d", (int)SJ_ROLE_COUNTY_OPERATOR);
    const char *p[] = {person, node->unit, role};
    PGresult *res;
    int rc = countyd_db_query(db,
                              "SELECT 1 FROM person WHERE id = $1 AND org_unit = $2"
                              " AND role = $3::smallint AND active",
                              3, p, &res, err);
    if (rc != 0)
        return rc;
    bool ok = PQntuples(res) == 1;
    PQclear(res);
    if (!ok)
        return sj_error_set(err, SJ_ENOT_ADMIN, "%s",
                            _("Only an active county operator of this county may administer "
                              "persons, departments and items."));
    return 0;
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

int countyd_admin_request(PGconn *db, const sj_identity *node, const Sanji__AdminRequest *req,
                          bool *changed, sj_error *err)
{
    *changed = false;
    int rc = check_operator(db, node, req->actor_person, err);
    if (rc != 0)
        return rc;
    const countyd_admin_by by = {req->actor_person, node->node_id};
    const char *target = nz(req->target);
    if (!*target)
        return sj_error_set(err, SJ_EINVAL, "%s",
                            _("Give the person id, department code or item "
                              "code the request is about."));
    countyd_admin_person p = {.name = nz(req->name),
                              .role = nz(req->role),
                              .unit = nz(req->unit),
                              .department = nz(req->department),
                              .stand_in = nz(req->stand_in)};
    switch (req->op) {
    case SANJI__ADMIN_OP__ADMIN_OP_PERSON_ADD:
        rc = countyd_admin_person_add_verifier(db, &by, target, &p, nz(req->new_verifier), err);
        *changed = rc == 0;
        return rc;
    case SANJI__ADMIN_OP__ADMIN_OP_PERSON_EDIT:
        return countyd_admin_person_edit(db, &by, target, &p, changed, err);
    case SANJI__ADMIN_OP__ADMIN_OP_PERSON_DEACTIVATE:
    case SANJI__ADMIN_OP__ADMIN_OP_PERSON_ACTIVATE:
        if (strcmp(target, req->actor_person) == 0 &&
            req->op == SANJI__ADMIN_OP__ADMIN_OP_PERSON_DEACTIVATE)
            return sj_error_set(err, SJ_EINVAL, "%s",
                                _("An operator cannot deactivate themselves."));
        return countyd_admin_person_set_active(
            db, &by, target, req->op == SANJI__ADMIN_OP__ADMIN_OP_PERSON_ACTIVATE, changed, err);
    case SANJI__ADMIN_OP__ADMIN_OP_PERSON_RESET_PASSWORD:
        rc = countyd_admin_person_reset_verifier(db, &by, target, nz(req->new_verifier), err);
        *changed = rc == 0;
        return rc;
    case SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_ADD:
        rc = countyd_admin_department_add(db, &by, target, nz(req->name), err);
        *changed = rc == 0;
        return rc;
    case SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_EDIT:
        return countyd_admin_department_edit(db, &by, target, nz(req->name), changed, err);
    case SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_DEACTIVATE:
    case SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_ACTIVATE:
        return countyd_admin_department_set_active(
            db, &by, target, req->op == SANJI__ADMIN_OP__ADMIN_OP_DEPARTMENT_ACTIVATE, changed,
            err);
    case SANJI__ADMIN_OP__ADMIN_OP_ITEM_RETIRE:
    case SANJI__ADMIN_OP__ADMIN_OP_ITEM_RESTORE:
        return countyd_admin_item_set_active(
            db, &by, target, req->op == SANJI__ADMIN_OP__ADMIN_OP_ITEM_RESTORE, changed, err);
    case SANJI__ADMIN_OP__ADMIN_OP_ITEM_DEPARTMENT:
        return countyd_admin_item_set_department(db, &by, target, nz(req->department), changed,
                                                 err);
    default:
        return sj_error_set(err, SJ_EINVAL, "%s",
                            _("This administration request is not known to "
                              "the county."));
    }
}
