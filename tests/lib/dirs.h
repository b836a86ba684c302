/*
 * dirs.h - where the build tree and the source tree are, for the test,
 * chaos and benchmark programs.
 *
 * ctest sets $SANJI_BUILD_DIR and $SANJI_SOURCE_DIR for every test.  A
 * program a person runs by hand (sanji-chaos, sanji-bench) finds them by
 * itself: the build tree is the nearest folder above the executable that
 * holds CMakeCache.txt, and the source tree is the one that cache names
 * (CMAKE_HOME_DIRECTORY).  Values already in the environment are kept, so
 * the variables stay as overrides.
 */
#ifndef SANJI_TEST_DIRS_H
#define SANJI_TEST_DIRS_H

#include "err.h"

/* Sets $SANJI_BUILD_DIR and $SANJI_SOURCE_DIR (absolute paths) where they
 * are unset, so that the program and every process it starts see them.
 * Returns 0, or SJ_ENOTFOUND with a message naming what was looked for. */
int sj_test_dirs_find(sj_error *err);

#endif
