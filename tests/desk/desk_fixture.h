/*
 * desk_fixture.h - test helper: fills a client store the way the library
 * does after its first connection (catalogue from deploy/demo, persons
 * with real scrypt verifiers), so sanji-desk can be tested offline.
 *
 * Entry points: desk_fixture_store().
 */
#ifndef DESK_FIXTURE_H
#define DESK_FIXTURE_H

#include "err.h"

/* Creates store_path for node_id with the demo catalogue read from
 * <source_dir>/deploy/demo and one person (person_id, name, role, unit)
 * whose password is `password`.  Returns 0 or a code with err. */
int desk_fixture_store(const char *store_path, const char *node_id, const char *source_dir,
                       const char *person_id, const char *name, int role, const char *unit,
                       const char *password, sj_error *err);

#endif
