/*
 * test_case_paths.c - whole case lifecycles through the state machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "case.h"

static void test_register(void **state)
{
    sj_actor v = {SJ_ROLE_VILLAGE_CADRE, "410423101201"};
    sj_case_outcome out;
    assert_int_equal(sj_case_register("410423101201", SJ_LEVEL_VILLAGE, 5, &v, &out, NULL), 0);
    assert_int_equal(out.next.status, SJ_STATUS_REGISTERED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
