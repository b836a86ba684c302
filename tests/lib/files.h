/*
 * files.h - test helper: small files written into a test's folder
 * (configuration files, scripts) from a printf-style format.
 *
 * Also how many lines of a log say something, and the build and source
 * folders ctest hands every test.
 *
 * Ownership: nothing is allocated; the caller owns every buffer.
 * Errors: returns 0, or -1 after saying on stderr which file could not be
 * written and why, so a group set-up can return -1 and a test can assert.
 *
 * Entry points: sj_test_write_file(), sj_test_count_lines(), sj_test_dirs().
 */
#ifndef SJ_TEST_FILES_H
#define SJ_TEST_FILES_H

/* Writes "<dir>/<name>" (dir NULL: the path name) with the formatted text,
 * replacing what was there. */
int sj_test_write_file(const char *dir, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* How many lines of the file at path contain needle; 0 when the file cannot
 * be read (a daemon that has not written its log yet).  A line longer than
 * 4 KiB counts as several. */
int sj_test_count_lines(const char *path, const char *needle);

/* Points *build and *source at $SANJI_BUILD_DIR and $SANJI_SOURCE_DIR (set
 * by ctest; the strings belong to the environment).  Returns 0, or -1 after
 * saying on stderr that they are unset. */
int sj_test_dirs(const char **build, const char **source);

#endif
