/*
 * clock.c - monotonic, business ("real", fakeable) and system clocks;
 * ISO-8601 and date formatting and parsing.  See clock.h.
 *
 * Entry points: sj_clock_mono_ms(), sj_clock_real_ms(), sj_clock_system_ms(),
 * sj_clock_set_fake_*(), sj_clock_format_*(), sj_clock_parse_*(), and the
 * civil-date helpers.
 */
#include "clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_llong clock_offset_ms;
static pthread_once_t clock_env_once = PTHREAD_ONCE_INIT;

static int64_t clock_read(clockid_t id)
{
    struct timespec ts;
    /* clock_gettime cannot fail for these clocks on Linux. */
    if (clock_gettime(id, &ts) != 0)
        abort();
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SANJI_FAKE_NOW: read once.  A value that does not parse is reported on
 * stderr and ignored: the clock then runs true, which is the safe side. */
static void clock_read_env(void)
{
    const char *v = getenv("SANJI_FAKE_NOW");
    if (v == NULL || v[0] == '\0')
        return;
    int64_t ms;
    sj_error err;
    if (sj_clock_parse_iso(v, &ms, &err) != 0) {
        fprintf(stderr, "SANJI_FAKE_NOW 无法解析，已忽略 (ignored: %s)\n", err.message);
        return;
    }
    atomic_store(&clock_offset_ms, ms - clock_read(CLOCK_REALTIME));
}

int64_t sj_clock_mono_ms(void)
{
    return clock_read(CLOCK_MONOTONIC);
}

int64_t sj_clock_system_ms(void)
{
    return clock_read(CLOCK_REALTIME);
}

int64_t sj_clock_real_ms(void)
{
    pthread_once(&clock_env_once, clock_read_env);
    return clock_read(CLOCK_REALTIME) + atomic_load(&clock_offset_ms);
}

void sj_clock_set_fake_offset_ms(int64_t offset_ms)
{
    /* Run the env reader first so that it cannot overwrite this later. */
    pthread_once(&clock_env_once, clock_read_env);
    atomic_store(&clock_offset_ms, offset_ms);
}

void sj_clock_set_fake_now_ms(int64_t now_ms)
{
    sj_clock_set_fake_offset_ms(now_ms - clock_read(CLOCK_REALTIME));
}

int64_t sj_clock_fake_offset_ms(void)
{
    pthread_once(&clock_env_once, clock_read_env);
    return atomic_load(&clock_offset_ms);
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int32_t sj_clock_days_from_civil(int year, int month, int mday)
{
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + mday - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sj_clock_civil_from_days(int32_t day, int *year, int *month, int *mday)
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int y = yoe + era * 400;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *month = m;
    *mday = d;
}

int sj_clock_weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday (4). */
    int w = (int)(((int64_t)day + 4) % 7);
    return w < 0 ? w + 7 : w;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int32_t sj_clock_china_day(int64_t ms)
{
    return (int32_t)floor_div(ms + SJ_CLOCK_CHINA_OFFSET_MS, SJ_CLOCK_MS_PER_DAY);
}

int64_t sj_clock_china_day_start_ms(int32_t day)
{
    return (int64_t)day * SJ_CLOCK_MS_PER_DAY - SJ_CLOCK_CHINA_OFFSET_MS;
}

static int clock_format(int64_t ms, int64_t offset_ms, const char *zone, char *buf, size_t cap)
{
    if (buf == NULL || cap < SJ_CLOCK_ISO_SIZE) {
        if (buf != NULL && cap > 0)
            buf[0] = '\0';
        return SJ_ETOOBIG;
    }
    int64_t local = ms + offset_ms;
    int64_t day = floor_div(local, SJ_CLOCK_MS_PER_DAY);
    int64_t in_day = local - day * SJ_CLOCK_MS_PER_DAY;
    int y, mo, d;
    if (day < sj_clock_days_from_civil(0, 1, 1) || day > sj_clock_days_from_civil(9999, 12, 31)) {
        buf[0] = '\0';
        return SJ_EINVAL;
    }
    sj_clock_civil_from_days((int32_t)day, &y, &mo, &d);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%s", y, mo, d,
             (int)(in_day / 3600000), (int)(in_day / 60000 % 60), (int)(in_day / 1000 % 60),
             (int)(in_day % 1000), zone);
    return 0;
}

int sj_clock_format_utc(int64_t ms, char *buf, size_t cap)
{
    return clock_format(ms, 0, "Z", buf, cap);
}

int sj_clock_format_china(int64_t ms, char *buf, size_t cap)
{
    return clock_format(ms, SJ_CLOCK_CHINA_OFFSET_MS, "+08:00", buf, cap);
}

void sj_clock_format_date(int32_t day, char out[SJ_CLOCK_DATE_SIZE])
{
    int y, m, d;
    sj_clock_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(out, SJ_CLOCK_DATE_SIZE, "XXXX-XX-XX");
        return;
    }
    /* m and d come from the civil calendar (1..12, 1..31): never cut. */
    if (snprintf(out, SJ_CLOCK_DATE_SIZE, "%04d-%02d-%02d", y, m, d) < 0)
        out[0] = '\0';
}

/* Reads exactly n digits at *p into *v. */
static bool read_digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/* Parses YYYY-MM-DD at *p and advances it. */
static bool parse_date_at(const char **p, int32_t *day)
{
    int y, m, d;
    const char *s = *p;
    if (!read_digits(&s, 4, &y) || *s++ != '-' || !read_digits(&s, 2, &m) || *s++ != '-' ||
        !read_digits(&s, 2, &d))
        return false;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return false;
    *day = sj_clock_days_from_civil(y, m, d);
    *p = s;
    return true;
}

int sj_clock_parse_date(const char *text, int32_t *day, sj_error *err)
{
    const char *p = text;
    int32_t d;
    if (text == NULL || !parse_date_at(&p, &d) || *p != '\0')
        return sj_error_set(err, SJ_EINVAL,
                            "日期格式不正确: \"%.40s\" (expected a real date as YYYY-MM-DD, "
                            "e.g. 2026-02-16)",
                            text ? text : "(null)");
    *day = d;
    return 0;
}

int sj_clock_parse_iso(const char *text, int64_t *ms, sj_error *err)
{
    if (text == NULL)
        return sj_error_set(err, SJ_EINVAL, "时间为空 (no time given)");
    const char *p = text;
    bool all_digits = *p != '\0';
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            all_digits = false;
    if (all_digits && strlen(p) <= 15) {
        *ms = strtoll(p, NULL, 10);
        return 0;
    }
    int32_t day;
    int hh, mi, ss, frac = 0;
    if (!parse_date_at(&p, &day) || (*p != 'T' && *p != ' '))
        goto bad;
    p++;
    if (!read_digits(&p, 2, &hh) || *p++ != ':' || !read_digits(&p, 2, &mi) || *p++ != ':' ||
        !read_digits(&p, 2, &ss) || hh > 23 || mi > 59 || ss > 59)
        goto bad;
    if (*p == '.') {
        p++;
        int ndig = 0;
        while (*p >= '0' && *p <= '9') {
            if (ndig < 3)
                frac = frac * 10 + (*p - '0');
            ndig++;
            p++;
        }
        if (ndig == 0 || ndig > 9)
            goto bad;
        for (; ndig < 3; ndig++)
            frac *= 10;
    }
    int64_t zone_ms;
    if (*p == 'Z' || *p == 'z') {
        zone_ms = 0;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, zh, zm;
        p++;
        if (!read_digits(&p, 2, &zh) || *p++ != ':' || !read_digits(&p, 2, &zm) || zh > 14 ||
            zm > 59)
            goto bad;
        zone_ms = sign * ((int64_t)zh * 3600000 + (int64_t)zm * 60000);
    } else {
        goto bad;
    }
    if (*p != '\0')
        goto bad;
    *ms = (int64_t)day * SJ_CLOCK_MS_PER_DAY + (int64_t)hh * 3600000 + mi * 60000 + ss * 1000 +
          frac - zone_ms;
    return 0;
bad:
    return sj_error_set(err, SJ_EINVAL,
                        "时间格式不正确: \"%.60s\" (expected YYYY-MM-DDTHH:MM:SS[.fff] with Z or "
                        "+08:00, e.g. 2026-02-13T10:00:00+08:00, or milliseconds since 1970)",
                        text);
}
