/*
 * store_fixture.h - a client store's file in a fresh temporary folder per
 * test, for the tests of client/store.c: store_fx_setup() makes the folder
 * (store_fx_path names client.db in it), store_fx_teardown() removes it,
 * store_fx_open() opens the store there as the village station or fails
 * the test.
 */
#ifndef SANJI_TEST_STORE_FIXTURE_H
#define SANJI_TEST_STORE_FIXTURE_H

#include "store.h"

#define STORE_FX_NODE "village:410423101201"

extern char store_fx_path[512];

int store_fx_setup(void **state);
int store_fx_teardown(void **state);
sc_store *store_fx_open(void);

#endif
