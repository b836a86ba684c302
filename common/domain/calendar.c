/*
 * calendar.c - working-day calendar and due-time arithmetic.  See
 * calendar.h for the counting rule.
 *
 * The listed dates are kept in an array sorted by day and looked up by
 * binary search; a county lists a few dozen dates a year.
 *
 * Entry points: sj_calendar_new(), sj_calendar_free(), sj_calendar_add(),
 * sj_calendar_load_csv(), sj_calendar_load_csv_text(), sj_calendar_kind_of(),
 * sj_calendar_is_working_day(), sj_calendar_add_working_days(),
 * sj_calendar_working_days_between(), sj_calendar_count(),
 * sj_calendar_covers_year(), sj_calendar_covers(),
 * sj_calendar_missing_next_year(), sj_calendar_fingerprint().
 */
#include "calendar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

typedef struct cal_entry {
    int32_t day;
    sj_calendar_kind kind;
    char *name;
} cal_entry;

struct sj_calendar {
    cal_entry *v;
    size_t n, cap;
};

/* Instants accepted: 1970-01-01 .. 9999-12-31. */
#define CAL_MIN_MS INT64_C(0)
#define CAL_MAX_MS INT64_C(253402300799999)

sj_calendar *sj_calendar_new(void)
{
    return calloc(1, sizeof(sj_calendar));
}

void sj_calendar_free(sj_calendar *cal)
{
    if (cal == NULL)
        return;
    for (size_t i = 0; i < cal->n; i++)
        free(cal->v[i].name);
    free(cal->v);
    free(cal);
}

size_t sj_calendar_count(const sj_calendar *cal)
{
    return cal->n;
}

/* Index of day, or of where it would go (*found false). */
static size_t cal_find(const sj_calendar *cal, int32_t day, bool *found)
{
    size_t lo = 0, hi = cal->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->v[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < cal->n && cal->v[lo].day == day;
    return lo;
}

int sj_calendar_add(sj_calendar *cal, int32_t day, sj_calendar_kind kind, const char *name,
                    sj_error *err)
{
    char date[SJ_CLOCK_DATE_SIZE];
    sj_clock_format_date(day, date);
    if (kind != SJ_CALENDAR_HOLIDAY && kind != SJ_CALENDAR_WORKDAY)
        return sj_error_set(err, SJ_EINVAL, "calendar kind %d for %s is neither holiday nor "
                            "workday", (int)kind, date);
    char *copy = NULL;
    if (name != NULL && name[0] != '\0') {
        copy = strdup(name);
        if (copy == NULL)
            return sj_error_set(err, SJ_ENOMEM, NULL);
    }
    bool found;
    size_t i = cal_find(cal, day, &found);
    if (found) {
        if (cal->v[i].kind != kind) {
            free(copy);
            return sj_error_set(err, SJ_EEXISTS,
                                "%s 已登记为%s，不能同时是%s (the date is already listed as a %s)",
                                date, cal->v[i].kind == SJ_CALENDAR_HOLIDAY ? "节假日" : "调休工作日",
                                kind == SJ_CALENDAR_HOLIDAY ? "节假日" : "调休工作日",
                                cal->v[i].kind == SJ_CALENDAR_HOLIDAY ? "holiday" : "workday");
        }
        free(cal->v[i].name);
        cal->v[i].name = copy;
        return 0;
    }
    if (cal->n == cal->cap) {
        size_t ncap = cal->cap ? cal->cap * 2 : 64;
        cal_entry *nv = realloc(cal->v, ncap * sizeof(*nv));
        if (nv == NULL) {
            free(copy);
            return sj_error_set(err, SJ_ENOMEM, NULL);
        }
        cal->v = nv;
        cal->cap = ncap;
    }
    memmove(cal->v + i + 1, cal->v + i, (cal->n - i) * sizeof(*cal->v));
    cal->v[i] = (cal_entry){.day = day, .kind = kind, .name = copy};
    cal->n++;
    return 0;
}

sj_calendar_kind sj_calendar_kind_of(const sj_calendar *cal, int32_t day, const char **name)
{
    bool found;
    size_t i = cal_find(cal, day, &found);
    if (name != NULL)
        *name = found ? cal->v[i].name : NULL;
    return found ? cal->v[i].kind : SJ_CALENDAR_NORMAL;
}

bool sj_calendar_is_working_day(const sj_calendar *cal, int32_t day)
{
    switch (sj_calendar_kind_of(cal, day, NULL)) {
    case SJ_CALENDAR_HOLIDAY:
        return false;
    case SJ_CALENDAR_WORKDAY:
        return true;
    case SJ_CALENDAR_NORMAL:
        break;
    }
    int wd = sj_clock_weekday(day);
    return wd >= 1 && wd <= 5;
}

int sj_calendar_add_working_days(const sj_calendar *cal, int64_t start_ms, int n, int64_t *due_ms)
{
    if (n < 0 || n > SJ_CALENDAR_MAX_DAYS)
        return SJ_EINVAL;
    if (start_ms < CAL_MIN_MS || start_ms > CAL_MAX_MS)
        return SJ_EINVAL;
    int32_t day = sj_clock_china_day(start_ms);
    if (n == 0) {
        while (!sj_calendar_is_working_day(cal, day))
            day++;
    } else {
        for (int counted = 0; counted < n;) {
            day++;
            if (sj_calendar_is_working_day(cal, day))
                counted++;
        }
    }
    *due_ms = sj_clock_china_day_start_ms(day + 1) - 1;
    return 0;
}

int sj_calendar_working_days_between(const sj_calendar *cal, int64_t from_ms, int64_t to_ms,
                                     int *out)
{
    if (from_ms < CAL_MIN_MS || from_ms > CAL_MAX_MS || to_ms < CAL_MIN_MS || to_ms > CAL_MAX_MS)
        return SJ_EINVAL;
    int32_t a = sj_clock_china_day(from_ms), b = sj_clock_china_day(to_ms);
    int sign = 1;
    if (b < a) {
        int32_t t = a;
        a = b;
        b = t;
        sign = -1;
    }
    if ((int64_t)b - a > 2 * (int64_t)SJ_CALENDAR_MAX_DAYS)
        return SJ_EINVAL;
    int count = 0;
    for (int32_t d = a + 1; d <= b; d++)
        if (sj_calendar_is_working_day(cal, d))
            count++;
    *out = sign * count;
    return 0;
}

bool sj_calendar_covers_year(const sj_calendar *cal, int year)
{
    if (year < 1970 || year > 9999)
        return false;
    int32_t first = sj_clock_days_from_civil(year, 1, 1);
    int32_t next = sj_clock_days_from_civil(year + 1, 1, 1);
    bool found;
    for (size_t i = cal_find(cal, first, &found); i < cal->n && cal->v[i].day < next; i++)
        if (cal->v[i].kind == SJ_CALENDAR_HOLIDAY)
            return true;
    return false;
}

bool sj_calendar_covers(const sj_calendar *cal, int64_t ms)
{
    if (ms < CAL_MIN_MS || ms > CAL_MAX_MS)
        return false;
    int year, month, mday;
    sj_clock_civil_from_days(sj_clock_china_day(ms), &year, &month, &mday);
    return sj_calendar_covers_year(cal, year);
}

int sj_calendar_missing_next_year(const sj_calendar *cal, int64_t now_ms)
{
    if (now_ms < CAL_MIN_MS || now_ms > CAL_MAX_MS)
        return 0;
    int year, month, mday;
    sj_clock_civil_from_days(sj_clock_china_day(now_ms), &year, &month, &mday);
    if (month < 11 || year >= 9999 || sj_calendar_covers_year(cal, year + 1))
        return 0;
    return year + 1;
}

uint64_t sj_calendar_fingerprint(const sj_calendar *cal)
{
    /* FNV-1a over (day, kind) in day order. */
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < cal->n; i++) {
        uint32_t v[2] = {(uint32_t)cal->v[i].day, (uint32_t)cal->v[i].kind};
        const unsigned char *p = (const unsigned char *)v;
        for (size_t k = 0; k < sizeof(v); k++) {
            h ^= p[k];
            h *= UINT64_C(1099511628211);
        }
    }
    return h;
}

static char *trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *end = '\0';
    return s;
}

/* Parses one line (modified in place).  Returns 0, or an error code with
 * err set (without the file:line prefix). */
static int csv_line(sj_calendar *cal, char *line, sj_error *err)
{
    char *end = line + strlen(line);
    char *s = trim(line, end);
    if (s[0] == '\0' || s[0] == '#')
        return 0;
    char *c1 = strchr(s, ',');
    char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (c1 == NULL)
        return sj_error_set(err, SJ_EINVAL, "缺少逗号 (expected date,kind,name, e.g. "
                            "2026-02-16,holiday,春节)");
    char *date = trim(s, c1);
    char *kind = trim(c1 + 1, c2 ? c2 : c1 + 1 + strlen(c1 + 1));
    char *name = c2 ? trim(c2 + 1, c2 + 1 + strlen(c2 + 1)) : NULL;
    if (strcmp(date, "date") == 0 && strcmp(kind, "kind") == 0)
        return 0; /* the header line */
    size_t nlen = name ? strlen(name) : 0;
    if (nlen >= 2 && name[0] == '"' && name[nlen - 1] == '"') {
        name[nlen - 1] = '\0';
        name++;
    }
    int32_t day;
    sj_error derr;
    if (sj_clock_parse_date(date, &day, &derr) != 0)
        return sj_error_set(err, SJ_EINVAL, "%s", derr.message);
    sj_calendar_kind k;
    if (strcmp(kind, "holiday") == 0)
        k = SJ_CALENDAR_HOLIDAY;
    else if (strcmp(kind, "workday") == 0)
        k = SJ_CALENDAR_WORKDAY;
    else
        return sj_error_set(err, SJ_EINVAL, "类型 \"%.20s\" 不正确 (kind must be holiday or "
                            "workday)", kind);
    return sj_calendar_add(cal, day, k, name, err);
}

int sj_calendar_load_csv_text(sj_calendar *cal, const char *name, const char *text, size_t len,
                              sj_error *err)
{
    size_t lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (l > 1024)
            return sj_error_set(err, SJ_EINVAL, "%s:%zu: 行过长 (line longer than 1024 bytes)",
                                name, lineno);
        char line[1025];
        memcpy(line, p, l);
        line[l] = '\0';
        if (memchr(line, '\0', l) != NULL)
            return sj_error_set(err, SJ_EINVAL, "%s:%zu: 含有NUL字符 (line contains a NUL byte)",
                                name, lineno);
        sj_error lerr;
        int rc = csv_line(cal, line, &lerr);
        if (rc != 0)
            return sj_error_set(err, rc, "%s:%zu: %s", name, lineno, lerr.message);
        p += l + (nl != NULL);
    }
    return 0;
}

int sj_calendar_load_csv(sj_calendar *cal, const char *path, sj_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sj_error_set(err, SJ_EIO, "无法读取节假日文件 %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= (size_t)16 << 20) {
                rc = sj_error_set(err, SJ_ETOOBIG, "%s: 文件过大 (larger than 16 MiB)", path);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                rc = sj_error_set(err, SJ_ENOMEM, NULL);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) {
            if (ferror(f))
                rc = sj_error_set(err, SJ_EIO, "读取 %s 失败: %s", path, strerror(errno));
            break;
        }
    }
    if (rc == 0)
        rc = sj_calendar_load_csv_text(cal, path, buf, len, err);
out:
    free(buf);
    fclose(f);
    return rc;
}
