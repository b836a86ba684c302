/*
 * test_uuid.c - UUIDv7: bit layout, ordering over many ids, random parts
 * that differ (also between a parent and its forked child), text form and
 * its parse errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "uuid.h"

static void test_layout(void **state)
{
    int64_t before = sj_clock_system_ms();
    uint8_t id[16];
    sj_uuid_v7(id);
    int64_t after = sj_clock_system_ms();
    assert_int_equal(id[6] >> 4, 7);        /* version */
    assert_int_equal(id[8] >> 6, 2);        /* variant 10 */
    assert_true(sj_uuid_is_v7(id));
    int64_t ts = sj_uuid_v7_time_ms(id);
    assert_in_range(ts, before, after + 1); /* +1: a counter overflow may borrow a ms */
}

static void test_ordered_over_many(void **state)
{
    enum { N = 100000 };
    uint8_t(*ids)[16] = malloc(sizeof(uint8_t[16]) * N);
    assert_non_null(ids);
    for (int i = 0; i < N; i++)
        sj_uuid_v7(ids[i]);
    int same_ms = 0;
    for (int i = 1; i < N; i++) {
        if (memcmp(ids[i - 1], ids[i], 16) >= 0) {
            char a[SJ_UUID_TEXT_SIZE], b[SJ_UUID_TEXT_SIZE];
            sj_uuid_format(ids[i - 1], a);
            sj_uuid_format(ids[i], b);
            fail_msg("id %d not after id %d: %s then %s", i, i - 1, a, b);
        }
        if (sj_uuid_v7_time_ms(ids[i]) == sj_uuid_v7_time_ms(ids[i - 1]))
            same_ms++;
        assert_true(sj_uuid_is_v7(ids[i]));
    }
    /* The counter path was exercised: 100000 ids do not take 100000 ms. */
    assert_true(same_ms > N / 2);
    free(ids);
}

static void test_random_part_differs(void **state)
{
    uint8_t a[16], b[16];
    sj_uuid_v7(a);
    sj_uuid_v7(b);
    /* 62 random bits in rand_b: equal ones mean the random source is broken. */
    assert_memory_not_equal(a + 9, b + 9, 7);
}

/* The random bytes come from a buffer filled a few kilobytes at a time: a
 * child of fork() must not hand out what its parent's buffer still holds. */
static void test_fork_does_not_repeat_random_part(void **state)
{
    (void)state;
    uint8_t first[16];
    sj_uuid_v7(first); /* the parent's buffer is filled */
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t id[16];
        sj_uuid_v7(id);
        ssize_t w = write(fd[1], id, sizeof id);
        _exit(w == (ssize_t)sizeof id ? 0 : 1);
    }
    uint8_t mine[16], child[16];
    sj_uuid_v7(mine);
    assert_int_equal(read(fd[0], child, sizeof child), (ssize_t)sizeof child);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fd[0]);
    close(fd[1]);
    /* bytes 9..15 are random only */
    assert_memory_not_equal(mine + 9, child + 9, 7);
    assert_memory_not_equal(first + 9, child + 9, 7);
}

static void test_format_parse_roundtrip(void **state)
{
    static const uint8_t fixed[16] = {0x01, 0x93, 0x5f, 0x3a, 0x12, 0x34, 0x7a, 0xbc,
                                      0x9d, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
    char text[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(fixed, text);
    assert_string_equal(text, "01935f3a-1234-7abc-9def-0123456789ab");
    uint8_t back[16];
    sj_error err;
    assert_int_equal(sj_uuid_parse(text, back, &err), 0);
    assert_memory_equal(back, fixed, 16);
    assert_int_equal(sj_uuid_parse("01935F3A-1234-7ABC-9DEF-0123456789AB", back, &err), 0);
    assert_memory_equal(back, fixed, 16);
    assert_int_equal(sj_uuid_v7_time_ms(fixed), 0x01935f3a1234LL);
}

static void test_parse_errors(void **state)
{
    static const struct {
        const char *text;
        const char *why; /* a part of the message */
    } cases[] = {
        {"", "36"},
        {"01935f3a-1234-7abc-9def-0123456789a", "36"},
        {"01935f3a-1234-7abc-9def-0123456789abc", "more than"},
        {"01935f3a12347abc9def0123456789ab0000", "character 9 must be '-'"},
        {"01935f3a-1234-7abc-9def_0123456789ab", "character 24 must be '-'"},
        {"01935g3a-1234-7abc-9def-0123456789ab", "character 6 is not"},
        {"01935f3a-1234-7abc-9def-0123456789a ", "character 36 is not"},
        {" 1935f3a-1234-7abc-9def-0123456789ab", "character 1 is not"},
    };
    uint8_t out[16], untouched[16];
    memset(out, 0xee, 16);
    memset(untouched, 0xee, 16);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sj_error err;
        sj_error_clear(&err);
        int rc = sj_uuid_parse(cases[i].text, out, &err);
        if (rc != SJ_EINVAL || strstr(err.message, cases[i].why) == NULL)
            fail_msg("\"%s\": rc %d message \"%s\"; want SJ_EINVAL with \"%s\"", cases[i].text, rc,
                     err.message, cases[i].why);
        assert_memory_equal(out, untouched, 16);
    }
    assert_int_equal(sj_uuid_parse(NULL, out, NULL), SJ_EINVAL);
}

static void test_is_v7_rejects_other_versions(void **state)
{
    uint8_t id[16];
    sj_uuid_v7(id);
    id[6] = (uint8_t)(0x40 | (id[6] & 0x0f)); /* version 4 */
    assert_false(sj_uuid_is_v7(id));
    sj_uuid_v7(id);
    id[8] = (uint8_t)(id[8] & 0x3f); /* NCS variant */
    assert_false(sj_uuid_is_v7(id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_ordered_over_many),
        cmocka_unit_test(test_random_part_differs),
        cmocka_unit_test(test_fork_does_not_repeat_random_part),
        cmocka_unit_test(test_format_parse_roundtrip),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_is_v7_rejects_other_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
