/*
 * desk_fixture.h - test helper: fills a client store the way the library
 * does after its first connection (catalogue from deploy/demo, persons
 * with real scrypt verifiers), so sanji-desk can be tested offline.
 *
 * desk_fixture_run() runs sanji-desk under Xvfb with a test script;
 * desk_fixture_shot() is the script line that keeps a screenshot when
 * SANJI_DESK_SCREENSHOTS names a folder (docs/screenshots is made so).
 *
 * desk_fixture_png() is a photo to attach (a 1x1 PNG).
 *
 * Entry points: desk_fixture_store(), desk_fixture_run(), desk_fixture_shot(),
 * desk_fixture_png().
 */
#ifndef DESK_FIXTURE_H
#define DESK_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Creates store_path for node_id with the demo catalogue read from
 * <source_dir>/deploy/demo and one person (person_id, name, role, unit)
 * whose password is `password`.  Returns 0 or a code with err. */
int desk_fixture_store(const char *store_path, const char *node_id, const char *source_dir,
                       const char *person_id, const char *name, int role, const char *unit,
                       const char *password, sj_error *err);

/* Runs `<xvfb_run> -a -s "-screen 0 1280x1000x24" <desk_bin> <args...>
 * --test-script <dir>/<tag>.script` with the script written there, in the
 * environment of the desk tests (cairo, X11, LANG=C.UTF-8 and no LANGUAGE,
 * so Chinese), its output in <dir>/<tag>.out, until it ends (failing only
 * at SJ_TEST_HANG_MS); prints the output.  args ends with NULL (at most 30).
 * Returns its exit status, or -1 when it could not be run or was killed. */
int desk_fixture_run(const char *xvfb_run, const char *desk_bin, const char *dir, const char *tag,
                     const char *const *args, const char *script);

/* "screenshot window '<dir>/<name>.png'\n" when SANJI_DESK_SCREENSHOTS is
 * set, else "" (g_free() either). */
char *desk_fixture_shot(const char *name);

/* A 1x1 PNG (a red pixel), *len bytes: what a test attaches. */
const uint8_t *desk_fixture_png(size_t *len);

#endif
