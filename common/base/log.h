/*
 * log.h - the Sanji log: one line per event, key=value fields.
 *
 *   2026-11-23T12:00:00.123Z level=info module=relay msg="county link up" peer=10.0.0.1:7443
 *
 * The time is the system time in UTC.  Values that are empty or contain a
 * space, '"', '=', a backslash or any control character are quoted, and
 * inside quotes '"' and '\' are escaped and control characters written as
 * \n, \r, \t or \xNN, so one event is always exactly one line: text sent by
 * a hostile peer cannot forge a second log line.  Keys are reduced to
 * [A-Za-z0-9_.-] (anything else becomes '_').
 *
 * Personal data is never logged.  Callers must not pass names, resident ID
 * numbers or phone numbers as fields; log the case id instead.  As a cheap
 * second defence every value (and the message) is scanned, and any run of
 * 18 characters that looks like a resident ID number (17 digits and a digit
 * or X) or of 11 digits that looks like a mainland mobile number (1[3-9]...)
 * is masked as sj_personal_mask_id()/sj_personal_mask_phone() would show it.
 *
 * Writing: each event is formatted into one buffer and written with a
 * single write(2) to stderr or to a file opened with O_APPEND, under a
 * mutex, so lines from threads and processes do not interleave.  Lines
 * longer than SJ_LOG_LINE_MAX are cut and end with "...".  Write errors
 * are ignored (logging must never stop a daemon).
 *
 * Priorities in the journal: a line written to stderr starts with its
 * syslog priority in the form of sd-daemon(3) -- "<3>" error, "<4>" warn,
 * "<6>" info, "<7>" debug -- when stderr is the journal, i.e. when
 * $JOURNAL_STREAM (set by systemd for a service whose output goes to the
 * journal) names the device and inode of stderr.  journald strips the
 * prefix and files the line under that priority, so
 * `journalctl -p warning -u sanji-relayd` shows the warnings and errors and
 * nothing else.  On a terminal, in a pipe and in log.file no prefix is
 * written.  sj_log_set_prefix_mode() forces it on or off.
 *
 * Entry points: sj_log(), sj_logv(), the SJ_LOG_* macros, sj_log_set_level(),
 * sj_log_level(), sj_log_enabled(), sj_log_level_parse(),
 * sj_log_level_name(), sj_log_set_file(), sj_log_close(), sj_log_redact(),
 * sj_log_set_prefix_mode(), sj_log_stderr_prefix().
 */
#ifndef SJ_LOG_H
#define SJ_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef enum sj_log_level {
    SJ_LOG_LEVEL_DEBUG = 0,
    SJ_LOG_LEVEL_INFO = 1,
    SJ_LOG_LEVEL_WARN = 2,
    SJ_LOG_LEVEL_ERROR = 3,
} sj_log_level;

#define SJ_LOG_LINE_MAX 4096

/* Events below level are dropped.  The default is info. */
void sj_log_set_level(sj_log_level level);
sj_log_level sj_log_level_get(void);
bool sj_log_enabled(sj_log_level level);

/* "debug", "info", "warn" (or "warning"), "error" -> level.  Returns 0 or
 * SJ_EINVAL. */
int sj_log_level_parse(const char *text, sj_log_level *out);
const char *sj_log_level_name(sj_log_level level);

/* Sends the log to a file (created 0640 if missing, appended to), or back to
 * stderr when path is NULL.  The previous file is closed.  Returns 0, or
 * SJ_EIO with err naming the file and the system's reason; the log then
 * stays where it was. */
int sj_log_set_file(const char *path, sj_error *err);
/* Closes a log file (back to stderr).  Call at exit to keep valgrind quiet. */
void sj_log_close(void);

/* Logs one event.  The variadic part is key, value, key, value, ... as
 * const char * strings, ended by NULL.  A NULL value is written as "".
 * module and msg must not be NULL (a caller bug; they are written as "?"). */
void sj_log(sj_log_level level, const char *module, const char *msg, ...)
    __attribute__((sentinel));
void sj_logv(sj_log_level level, const char *module, const char *msg, va_list ap);

/* When lines on stderr carry their syslog priority prefix (see above). */
typedef enum sj_log_prefix_mode {
    SJ_LOG_PREFIX_AUTO = 0,   /* when $JOURNAL_STREAM names stderr (the default) */
    SJ_LOG_PREFIX_NEVER = 1,  /* never */
    SJ_LOG_PREFIX_ALWAYS = 2, /* always, e.g. stderr read by another syslog-aware reader */
} sj_log_prefix_mode;

/* Sets the mode.  Setting SJ_LOG_PREFIX_AUTO again looks at $JOURNAL_STREAM
 * and stderr anew (they are otherwise looked at once, at the first line). */
void sj_log_set_prefix_mode(sj_log_prefix_mode mode);

/* The prefix a line of level written to stderr gets now ("<3>" ... "<7>"),
 * or "" when there is none.  For a program's own fprintf(stderr, ...) of a
 * fatal message, so that it too is filed under its priority. */
const char *sj_log_stderr_prefix(sj_log_level level);

/* Copies text into out (cap bytes, always NUL-terminated when cap > 0) with
 * every ID-like and mobile-like run masked as described above.  Returns the
 * length written. */
size_t sj_log_redact(const char *text, char *out, size_t cap);

/* SJ_LOG_INFO("relay", "county link up", "peer", addr) */
#define SJ_LOG_DEBUG(module, ...)                                                               \
    do {                                                                                           \
        if (sj_log_enabled(SJ_LOG_LEVEL_DEBUG))                                                    \
            sj_log(SJ_LOG_LEVEL_DEBUG, (module), __VA_ARGS__, (const char *)NULL);                 \
    } while (0)
#define SJ_LOG_INFO(module, ...) sj_log(SJ_LOG_LEVEL_INFO, (module), __VA_ARGS__, (const char *)NULL)
#define SJ_LOG_WARN(module, ...) sj_log(SJ_LOG_LEVEL_WARN, (module), __VA_ARGS__, (const char *)NULL)
#define SJ_LOG_ERROR(module, ...)                                                               \
    sj_log(SJ_LOG_LEVEL_ERROR, (module), __VA_ARGS__, (const char *)NULL)

#endif
