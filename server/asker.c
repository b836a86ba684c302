/*
 * asker.c - what an asker may open (see asker.h).
 *
 * Entry points: countyd_asker_sees_case().
 */
#include "asker.h"

#include <string.h>

#include "orgunit.h"

bool countyd_asker_sees_case(const countyd_asker *k, const Sanji__Case *c)
{
    return sj_orgunit_contains(k->unit, c->village) &&
           (k->role != SJ_NODE_ROLE_DEPARTMENT_DESK || strcmp(c->department_code, k->department) == 0);
}
