/*
 * store_fixture.c - a client store's file in a fresh temporary folder
 * (see store_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "store_fixture.h"

static char dir[256];
char store_fx_path[512];

int store_fx_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sanji-test-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(store_fx_path, sizeof(store_fx_path), "%s/client.db", dir);
    return 0;
}

int store_fx_teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

sc_store *store_fx_open(void)
{
    sc_store *st = NULL;
    sj_error err;
    if (sc_store_open(store_fx_path, STORE_FX_NODE, &st, &err) != 0)
        fail_msg("open: %s", err.message);
    return st;
}
