/*
 * asker.h - who asks the county a question, and what they may open.
 *
 * The asker is the node proved by the link's certificate; for a query a
 * relay forwards, the original node named in sender_node when it lies in
 * the relay's township (else the relay itself).  Every answer (query.h,
 * stats.h, stars.h, attach_store.h) is limited to the villages under the
 * asker's unit; a department desk sees only the cases dispatched to its
 * department.  Kept apart from query.h so that the modules query.c
 * dispatches to depend on this small rule, not on the dispatcher.
 *
 * Entry points: countyd_asker_sees_case().
 */
#ifndef COUNTYD_ASKER_H
#define COUNTYD_ASKER_H

#include <stdbool.h>

#include "case.h"
#include "identity.h"
#include "sanji.pb-c.h"

typedef struct countyd_asker {
    sj_node_role role;
    sj_level level;
    char unit[SJ_UNIT_CODE_SIZE];
    /* A department desk's department code (its identity's name): it sees
     * only the cases dispatched to it. */
    char department[SJ_DEPARTMENT_CODE_SIZE];
} countyd_asker;

/* May k open case c (CaseGetQuery, AttachmentQuery): its village lies in
 * k's unit, and for a department desk it is dispatched to k's department. */
bool countyd_asker_sees_case(const countyd_asker *k, const Sanji__Case *c);

#endif
