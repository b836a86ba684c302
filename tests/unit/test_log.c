/*
 * test_log.c - log line format, quoting that keeps one event on one line,
 * levels, masking of ID-like and mobile-like values, and the log file.
 * Each test logs into a fresh file in a temporary directory and reads it back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
