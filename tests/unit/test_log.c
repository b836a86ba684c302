/*
 * test_log.c - log line format, quoting that keeps one event on one line,
 * levels, masking of ID-like and mobile-like values, the log file, and the
 * syslog priority prefixes on stderr when stderr is the journal.
 * Each test logs into a fresh file in a temporary directory and reads it back
 * (the prefix tests send stderr itself to such a file for a moment).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/sj_test_log.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/sanji.log", f->dir);
    sj_error err;
    assert_int_equal(sj_log_set_file(f->path, &err), 0);
    sj_log_set_level(SJ_LOG_LEVEL_INFO);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sj_log_close();
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The whole log file; the caller frees. */
static char *slurp(const fixture *f)
{
    FILE *fp = fopen(f->path, "rb");
    assert_non_null(fp);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return strdup(buf);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The line without its 24-character timestamp and the space after it. */
static const char *after_time(const char *line)
{
    /* 2026-11-23T12:00:00.123Z */
    assert_true(strlen(line) > 25);
    assert_int_equal(line[4], '-');
    assert_int_equal(line[10], 'T');
    assert_int_equal(line[23], 'Z');
    assert_int_equal(line[24], ' ');
    return line + 25;
}

static void test_line_format(void **state)
{
    fixture *f = *state;
    sj_log(SJ_LOG_LEVEL_INFO, "relay", "county link up", "peer", "10.0.0.1:7443", "try", "3",
           (const char *)NULL);
    char *text = slurp(f);
    assert_string_equal(after_time(text),
                        "level=info module=relay msg=\"county link up\" peer=10.0.0.1:7443 try=3\n");
    free(text);
}

static void test_quoting_table(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *value, *want;
    } cases[] = {
        {"plain", "v=plain\n"},
        {"", "v=\"\"\n"},
        {"two words", "v=\"two words\"\n"},
        {"say \"hi\"", "v=\"say \\\"hi\\\"\"\n"},
        {"a=b", "v=\"a=b\"\n"},
        {"back\\slash", "v=\"back\\\\slash\"\n"},
        {"tab\there", "v=\"tab\\there\"\n"},
        {"bell\a", "v=\"bell\\x07\"\n"},
        {"鲁山县", "v=鲁山县\n"},
        {NULL, "v=\"\"\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(truncate(f->path, 0), 0);
        sj_log(SJ_LOG_LEVEL_WARN, "m", "x", "v", cases[i].value, (const char *)NULL);
        char *text = slurp(f);
        const char *rest = after_time(text);
        const char *v = strstr(rest, " v=");
        assert_non_null(v);
        if (strcmp(v + 1, cases[i].want) != 0)
            fail_msg("value \"%s\" written as %s; want %s", cases[i].value ? cases[i].value : "(null)",
                     v + 1, cases[i].want);
        free(text);
    }
}

static void test_hostile_text_cannot_forge_lines(void **state)
{
    fixture *f = *state;
    const char *evil = "x\n2026-11-23T12:00:00.000Z level=error module=county msg=\"forged\"\r\n";
    sj_log(SJ_LOG_LEVEL_INFO, "relay", "peer said", "text", evil, "k\ney", "v", (const char *)NULL);
    sj_log(SJ_LOG_LEVEL_INFO, "relay\nmodule=x", evil, (const char *)NULL);
    char *text = slurp(f);
    assert_int_equal(count_lines(text), 2);
    assert_non_null(strstr(text, "text=\"x\\n2026-11-23T12:00:00.000Z level=error module=county "
                                 "msg=\\\"forged\\\"\\r\\n\""));
    assert_non_null(strstr(text, " k_ey=v\n"));
    assert_non_null(strstr(text, "module=\"relay\\nmodule=x\""));
    free(text);
}

static void test_levels(void **state)
{
    fixture *f = *state;
    sj_log_set_level(SJ_LOG_LEVEL_WARN);
    SJ_LOG_DEBUG("m", "d");
    SJ_LOG_INFO("m", "i");
    SJ_LOG_WARN("m", "w", "k", "v");
    SJ_LOG_ERROR("m", "e");
    assert_false(sj_log_enabled(SJ_LOG_LEVEL_INFO));
    assert_true(sj_log_enabled(SJ_LOG_LEVEL_ERROR));
    char *text = slurp(f);
    assert_int_equal(count_lines(text), 2);
    assert_non_null(strstr(text, "level=warn module=m msg=\"w\" k=v\n"));
    assert_non_null(strstr(text, "level=error module=m msg=\"e\"\n"));
    free(text);

    sj_log_level l;
    assert_int_equal(sj_log_level_parse("DEBUG", &l), 0);
    assert_int_equal(l, SJ_LOG_LEVEL_DEBUG);
    assert_int_equal(sj_log_level_parse("warning", &l), 0);
    assert_int_equal(l, SJ_LOG_LEVEL_WARN);
    assert_int_equal(sj_log_level_parse("verbose", &l), SJ_EINVAL);
    assert_string_equal(sj_log_level_name(SJ_LOG_LEVEL_ERROR), "error");
}

static void test_personal_data_masked(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *value, *want;
    } cases[] = {
        {"41042319800101123X", "v=4104**********123X\n"},
        {"410423198001011234", "v=4104**********1234\n"},
        {"id=41042319800101123x;", "v=\"id=4104**********123x;\"\n"},
        {"13812345678", "v=138****5678\n"},
        {"call 13812345678 now", "v=\"call 138****5678 now\"\n"},
        /* not personal: left alone */
        {"1795435200123", "v=1795435200123\n"},        /* 13-digit ms timestamp */
        {"4104231980010112345", "v=4104231980010112345\n"}, /* 19 digits */
        {"12812345678", "v=12812345678\n"},            /* no 12x mobiles */
        {"410423101201", "v=410423101201\n"},          /* org unit code */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(truncate(f->path, 0), 0);
        sj_log(SJ_LOG_LEVEL_INFO, "m", "x", "v", cases[i].value, (const char *)NULL);
        char *text = slurp(f);
        const char *v = strstr(text, " v=");
        assert_non_null(v);
        if (strcmp(v + 1, cases[i].want) != 0)
            fail_msg("value \"%s\" written as %s; want %s", cases[i].value, v + 1, cases[i].want);
        free(text);
    }
    char out[64];
    assert_int_equal(sj_log_redact("tel 13912345678", out, sizeof(out)), strlen("tel 139****5678"));
    assert_string_equal(out, "tel 139****5678");
}

static void test_long_line_cut(void **state)
{
    fixture *f = *state;
    char *big = malloc(3 * SJ_LOG_LINE_MAX);
    assert_non_null(big);
    memset(big, 'a', 3 * SJ_LOG_LINE_MAX - 1);
    big[3 * SJ_LOG_LINE_MAX - 1] = '\0';
    sj_log(SJ_LOG_LEVEL_INFO, "m", "big", "v", big, (const char *)NULL);
    free(big);
    char *text = slurp(f);
    assert_int_equal(count_lines(text), 1);
    assert_true(strlen(text) <= SJ_LOG_LINE_MAX);
    assert_non_null(strstr(text, "aaa...\n"));
    free(text);
}

static void test_bad_file_keeps_old(void **state)
{
    fixture *f = *state;
    sj_error err;
    assert_int_equal(sj_log_set_file("/nonexistent-dir/x.log", &err), SJ_EIO);
    assert_non_null(strstr(err.message, "/nonexistent-dir/x.log"));
    SJ_LOG_INFO("m", "still here");
    char *text = slurp(f);
    assert_non_null(strstr(text, "msg=\"still here\""));
    free(text);
}

/* ---------- priority prefixes on stderr --------------------------------- */

/* How JOURNAL_STREAM is set while stderr_capture() logs. */
typedef enum journal_env {
    JOURNAL_UNSET,     /* not set at all */
    JOURNAL_IS_STDERR, /* "dev:ino" of the file stderr goes to, as systemd sets it */
    JOURNAL_ELSEWHERE, /* "dev:ino" of another file: inherited from a parent whose
                        * stderr was the journal, ours is not */
    JOURNAL_GARBAGE,   /* does not parse */
} journal_env;

/* Logs one line of each level, at level debug, with stderr sent to a file
 * in f->dir and JOURNAL_STREAM set as asked, in the prefix mode asked;
 * to_file sends the log to f->path instead of stderr meanwhile.  Returns
 * what reached stderr (the caller frees).  Nothing is asserted while
 * stderr is redirected, so that cmocka's messages are seen. */
static char *stderr_capture(fixture *f, journal_env env, sj_log_prefix_mode mode, bool to_file)
{
    char path[160], other[160];
    snprintf(path, sizeof path, "%s/stderr.txt", f->dir);
    snprintf(other, sizeof other, "%s/other.txt", f->dir);
    FILE *o = fopen(other, "w");
    assert_non_null(o);
    fclose(o);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(stat(env == JOURNAL_ELSEWHERE ? other : path, &st), 0);
    char value[64];
    snprintf(value, sizeof value, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    if (env == JOURNAL_UNSET)
        unsetenv("JOURNAL_STREAM");
    else
        setenv("JOURNAL_STREAM", env == JOURNAL_GARBAGE ? "8:x9" : value, 1);
    sj_error err;
    assert_int_equal(sj_log_set_file(to_file ? f->path : NULL, &err), 0);

    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
    sj_log_set_prefix_mode(mode); /* looks at stderr and JOURNAL_STREAM anew */
    sj_log_set_level(SJ_LOG_LEVEL_DEBUG);
    SJ_LOG_DEBUG("m", "d");
    SJ_LOG_INFO("m", "i");
    SJ_LOG_WARN("m", "w");
    SJ_LOG_ERROR("m", "e");
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);

    unsetenv("JOURNAL_STREAM");
    sj_log_set_prefix_mode(SJ_LOG_PREFIX_AUTO);
    sj_log_set_level(SJ_LOG_LEVEL_INFO);
    assert_int_equal(sj_log_set_file(f->path, &err), 0);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    unlink(path);
    unlink(other);
    return strdup(buf);
}

/* The four lines of stderr_capture() start with the four prefixes (or with
 * none), each right before the timestamp. */
static void assert_prefixes(const char *text, bool with)
{
    static const char *const want[] = {"<7>", "<6>", "<4>", "<3>"};
    static const char *const msgs[] = {"msg=\"d\"", "msg=\"i\"", "msg=\"w\"", "msg=\"e\""};
    assert_int_equal(count_lines(text), 4);
    const char *line = text;
    for (int i = 0; i < 4; i++) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        char one[512];
        snprintf(one, sizeof one, "%.*s", (int)(end - line), line);
        if (with) {
            assert_memory_equal(one, want[i], 3);
            after_time(one + 3);
        } else {
            assert_int_not_equal(one[0], '<');
            after_time(one);
        }
        assert_non_null(strstr(one, msgs[i]));
        line = end + 1;
    }
}

static void test_prefix_when_stderr_is_the_journal(void **state)
{
    char *text = stderr_capture(*state, JOURNAL_IS_STDERR, SJ_LOG_PREFIX_AUTO, false);
    assert_prefixes(text, true);
    free(text);
}

static void test_no_prefix_without_journal(void **state)
{
    static const journal_env envs[] = {JOURNAL_UNSET, JOURNAL_ELSEWHERE, JOURNAL_GARBAGE};
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        char *text = stderr_capture(*state, envs[i], SJ_LOG_PREFIX_AUTO, false);
        assert_prefixes(text, false);
        free(text);
    }
}

static void test_prefix_modes_override(void **state)
{
    char *text = stderr_capture(*state, JOURNAL_UNSET, SJ_LOG_PREFIX_ALWAYS, false);
    assert_prefixes(text, true);
    free(text);
    text = stderr_capture(*state, JOURNAL_IS_STDERR, SJ_LOG_PREFIX_NEVER, false);
    assert_prefixes(text, false);
    free(text);
}

/* log.file gets plain lines even when stderr is the journal; stderr gets
 * nothing then. */
static void test_no_prefix_in_log_file(void **state)
{
    fixture *f = *state;
    char *err_text = stderr_capture(f, JOURNAL_IS_STDERR, SJ_LOG_PREFIX_ALWAYS, true);
    assert_string_equal(err_text, "");
    free(err_text);
    char *text = slurp(f);
    assert_prefixes(text, false);
    free(text);
}

static void test_stderr_prefix_values(void **state)
{
    (void)state;
    sj_log_set_prefix_mode(SJ_LOG_PREFIX_ALWAYS);
    assert_string_equal(sj_log_stderr_prefix(SJ_LOG_LEVEL_DEBUG), "<7>");
    assert_string_equal(sj_log_stderr_prefix(SJ_LOG_LEVEL_INFO), "<6>");
    assert_string_equal(sj_log_stderr_prefix(SJ_LOG_LEVEL_WARN), "<4>");
    assert_string_equal(sj_log_stderr_prefix(SJ_LOG_LEVEL_ERROR), "<3>");
    sj_log_set_prefix_mode(SJ_LOG_PREFIX_NEVER);
    assert_string_equal(sj_log_stderr_prefix(SJ_LOG_LEVEL_ERROR), "");
    unsetenv("JOURNAL_STREAM");
    sj_log_set_prefix_mode(SJ_LOG_PREFIX_AUTO);
    assert_string_equal(sj_log_stderr_prefix(SJ_LOG_LEVEL_ERROR), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quoting_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_text_cannot_forge_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_personal_data_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_when_stderr_is_the_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_prefix_without_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prefix_modes_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_prefix_in_log_file, setup, teardown),
        cmocka_unit_test(test_stderr_prefix_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
