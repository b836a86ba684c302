/*
 * admin.h - administration of the county's reference data through staff
 * turnover, one change at a time (`sanji-countyd person|item|department
 * ...`, docs/SERVER.md "Administration"): add, edit, deactivate and
 * reactivate persons, reset a password, retire and restore catalogue
 * items, add, rename, deactivate and reactivate departments; list the open
 * cases a person leaves behind; print the audit.
 *
 * Every change runs in one transaction that locks the row, writes one
 * admin_audit row (operator, command, target, old and new values; never a
 * password nor a verifier) and raises the reference_version of each set it
 * changed (person; catalogue; org_tree for departments, and catalogue when
 * a department is renamed, as items name their department), so that the
 * running county server (refdata.h cache) and every relay and station get
 * the new set at their next sync.  A change that changes nothing
 * (deactivating an inactive person) is reported as such (*changed false),
 * with no audit row and no new version.
 *
 * `by` says who made the change for the audit: the operator (NULL or "":
 * the Unix user, countyd_admin_operator()) and the node it came from
 * (NULL or "": the county machine's command line; a county desk's node
 * for an administration request, admin_req.h).
 * Errors: SJ_ENOTFOUND (no such person, item or department), SJ_EEXISTS
 * (add of an id, code or name in use), SJ_EINVAL (a bad value; err says
 * which and what to give), SJ_EDB/SJ_EDB_CONN.  The caller owns the
 * connection, not inside a transaction.
 *
 * Entry points: countyd_admin_operator(), countyd_admin_person_add(),
 * countyd_admin_person_add_verifier(), countyd_admin_person_edit(),
 * countyd_admin_person_set_active(), countyd_admin_person_reset_password(),
 * countyd_admin_person_reset_verifier(), countyd_admin_audit_write(),
 * countyd_admin_person_cases(),
 * countyd_admin_item_set_active(), countyd_admin_item_set_department(),
 * countyd_admin_department_add(),
 * countyd_admin_department_edit(), countyd_admin_department_set_active(),
 * countyd_admin_audit_print().
 */
#ifndef COUNTYD_ADMIN_H
#define COUNTYD_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "err.h"

#define COUNTYD_ADMIN_OPERATOR_SIZE 128

/* Who made a change, for the audit; a NULL pointer is the Unix user at the
 * county machine. */
typedef struct countyd_admin_by {
    const char *operator_name; /* a person id or --by NAME; NULL or "": the Unix user */
    const char *node;          /* "county-desk:410423000000"; NULL or "": the command line */
} countyd_admin_by;

/* The operator for the audit: by when given and non-empty, else the Unix
 * user running the command (else "uid N"). */
void countyd_admin_operator(const char *by, char out[COUNTYD_ADMIN_OPERATOR_SIZE]);

/* A person's fields; for an edit NULL keeps the stored value. role is a
 * name of the files (refcheck.h: village_cadre ... department_staff);
 * department is a department_staff's department code, "" for others. */
typedef struct countyd_admin_person {
    const char *name, *role, *unit, *department;
    /* edit only: the stand-in (AB岗), another active person of the same
     * unit, role and department; "" for nobody.  Moving to another unit or
     * role drops it unless a new one is given. */
    const char *stand_in;
} countyd_admin_person;

/* A new active person with this password (stored as a verifier); they must
 * change it at their first login (must_change_password). */
int countyd_admin_person_add(PGconn *db, const countyd_admin_by *by, const char *id,
                             const countyd_admin_person *p, const char *password, sj_error *err);
int countyd_admin_person_edit(PGconn *db, const countyd_admin_by *by, const char *id,
                              const countyd_admin_person *p, bool *changed, sj_error *err);
int countyd_admin_person_set_active(PGconn *db, const countyd_admin_by *by, const char *id, bool active,
                                    bool *changed, sj_error *err);
/* Replaces the verifier by one of password and sets must_change_password. */
int countyd_admin_person_reset_password(PGconn *db, const countyd_admin_by *by, const char *id,
                                        const char *password, sj_error *err);
/* The same two with a verifier made elsewhere (sj_password_make(): a
 * county desk makes the one-time password and shows it there, so that
 * only the verifier travels); the verifier must parse. */
int countyd_admin_person_add_verifier(PGconn *db, const countyd_admin_by *by, const char *id,
                                      const countyd_admin_person *p, const char *verifier,
                                      sj_error *err);
int countyd_admin_person_reset_verifier(PGconn *db, const countyd_admin_by *by, const char *id,
                                        const char *verifier, sj_error *err);
/* Writes the audit row of a change made inside the caller's transaction
 * and raises each named reference version (refs NULL-ended); no COMMIT.
 * The apply path's password change (apply_person.c) uses it. */
int countyd_admin_audit_write(PGconn *db, const countyd_admin_by *by, const char *command,
                              const char *target, const char *old_value, const char *new_value,
                              const char *const *refs, sj_error *err);
/* Writes the open cases the person leaves behind, one a line: those
 * assigned to them (指派), carried by them (全程代办员) or received first by
 * them (首问), and those their unit (for department staff: their
 * department) holds when no other active person of the same role is there
 * to take them.  *n (may be NULL) receives how many. */
int countyd_admin_person_cases(PGconn *db, const char *id, FILE *out, size_t *n, sj_error *err);

/* Retire (active false) or restore a catalogue item: cases already
 * registered keep it; a registration with a retired item is refused. */
int countyd_admin_item_set_active(PGconn *db, const countyd_admin_by *by, const char *code, bool active,
                                  bool *changed, sj_error *err);

/* Gives a catalogue item to another (active) department, by code.
 * SJ_ENOTFOUND for an unknown item or department, SJ_EINVAL for a
 * deactivated one; *changed is false when it already belongs there. */
int countyd_admin_item_set_department(PGconn *db, const countyd_admin_by *by, const char *code,
                                      const char *department_code, bool *changed, sj_error *err);
int countyd_admin_department_add(PGconn *db, const countyd_admin_by *by, const char *code, const char *name,
                                 sj_error *err);
/* Renames a department, and the catalogue items it owns with it. */
int countyd_admin_department_edit(PGconn *db, const countyd_admin_by *by, const char *code, const char *name,
                                  bool *changed, sj_error *err);
int countyd_admin_department_set_active(PGconn *db, const countyd_admin_by *by, const char *code, bool active,
                                        bool *changed, sj_error *err);

/* The duty roster (值班表): on true puts person on duty at unit on day
 * (YYYY-MM-DD; an active person of that unit), false takes them off.
 * Audited ("duty add" / "duty remove", target "UNIT DAY"); the stations
 * get the roster with the reference data.  *changed false when it was
 * already so. */
int countyd_admin_duty_set(PGconn *db, const countyd_admin_by *by, const char *unit, const char *day,
                           const char *person, bool on, bool *changed, sj_error *err);
/* Writes the roster from today on, of the units under unit (NULL or "":
 * all), one row a line: day, unit, unit name, person, name. */
int countyd_admin_duty_print(PGconn *db, const char *unit, FILE *out, size_t *n, sj_error *err);

/* Writes the audit, oldest first; target NULL or "" for all rows. */
int countyd_admin_audit_print(PGconn *db, const char *target, FILE *out, sj_error *err);

#endif
