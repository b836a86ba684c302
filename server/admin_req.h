/*
 * admin_req.h - administration requests from a county desk (AdminRequest,
 * docs/PROTOCOL.md "Administration"): who may ask, and the request run
 * through the same functions as `sanji-countyd person|department|item`
 * (admin.h), with their checks and audit (operator the desk's person,
 * node the desk).
 *
 * Only a county desk (the certificate's role) may ask, and only for a
 * person logged in there: an active county operator of the desk's unit.
 * Anything else is SJ_ENOT_ADMIN with a reason for the desk.
 *
 * Entry point: countyd_admin_request().
 */
#ifndef COUNTYD_ADMIN_REQ_H
#define COUNTYD_ADMIN_REQ_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "err.h"
#include "identity.h"
#include "sanji.pb-c.h"

/* Applies req from the desk node (its certificate's identity) on db (not in
 * a transaction).  Returns 0 with *changed (false: nothing to change), or
 * a code with err: SJ_ENOT_ADMIN, SJ_EINVAL (an unknown op or a bad value),
 * SJ_ENOTFOUND, SJ_EEXISTS, SJ_EDB/SJ_EDB_CONN. */
int countyd_admin_request(PGconn *db, const sj_identity *node, const Sanji__AdminRequest *req,
                          bool *changed, sj_error *err);

#endif
