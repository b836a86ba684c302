/*
 * login_report.c - wrong passwords at a station as a report that travels
 * upward (see login_report.h).
 *
 * Entry points: sj_login_report_add(), sj_login_report_parse(),
 * sj_login_report_free(), sj_login_report_total().
 */
#include "login_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

typedef struct entry {
    char person[SJ_LOGIN_PERSON_MAX + 1];
    uint32_t count, in_a_row;
    int64_t last_at_ms;
} entry;

/* Reads at most SJ_LOGIN_REPORT_PERSONS entries; skips lines that do not
 * parse (a report is only ever written by sj_login_report_add()). */
static size_t read_entries(const char *text, entry *e)
{
    size_t n = 0;
    const char *p = text ? text : "";
    while (*p && n < SJ_LOGIN_REPORT_PERSONS) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[SJ_LOGIN_PERSON_MAX + 64];
        if (len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            long long last = 0;
            unsigned count = 0, row = 0;
            char person[SJ_LOGIN_PERSON_MAX + 1];
            if (sscanf(line, "%64s %u %u %lld", person, &count, &row, &last) == 4) {
                snprintf(e[n].person, sizeof e[n].person, "%s", person);
                e[n].count = count;
                e[n].in_a_row = row;
                e[n].last_at_ms = last;
                n++;
            }
        }
        p += len + (end ? 1 : 0);
    }
    return n;
}

/* A person id fit for a report line: printable, no blanks, bounded. */
static void clean_person(const char *in, char *out)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && n < SJ_LOGIN_PERSON_MAX;
         p++)
        out[n++] = (*p <= ' ' || *p == 0x7f) ? '_' : (char)*p;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, SJ_LOGIN_PERSON_MAX + 1, "?");
}

void sj_login_report_add(char *text, const char *person, uint32_t count, uint32_t in_a_row,
                         int64_t last_at_ms)
{
    entry e[SJ_LOGIN_REPORT_PERSONS];
    size_t n = read_entries(text, e);
    char who[SJ_LOGIN_PERSON_MAX + 1];
    clean_person(person, who);
    size_t i = 0;
    while (i < n && strcmp(e[i].person, who) != 0)
        i++;
    if (i == n && n >= SJ_LOGIN_REPORT_PERSONS - 1 && strcmp(who, "?") != 0) {
        /* The last place is kept for "?": further persons count there. */
        snprintf(who, sizeof who, "?");
        for (i = 0; i < n && strcmp(e[i].person, who) != 0; i++)
            ;
    }
    if (i == n) {
        memset(&e[n], 0, sizeof e[n]);
        snprintf(e[n].person, sizeof e[n].person, "%s", who);
        n++;
    }
    e[i].count = e[i].count > UINT32_MAX - count ? UINT32_MAX : e[i].count + count;
    if (last_at_ms >= e[i].last_at_ms) {
        e[i].last_at_ms = last_at_ms;
        e[i].in_a_row = in_a_row;
    }
    size_t off = 0;
    text[0] = '\0';
    for (size_t k = 0; k < n; k++) {
        int w = snprintf(text + off, SJ_LOGIN_REPORT_SIZE - off, "%s %" PRIu32 " %" PRIu32 " %" PRId64 "\n",
                         e[k].person, e[k].count, e[k].in_a_row, e[k].last_at_ms);
        if (w < 0 || (size_t)w >= SJ_LOGIN_REPORT_SIZE - off) {
            text[off] = '\0'; /* cannot happen with the bounds above */
            break;
        }
        off += (size_t)w;
    }
}

int sj_login_report_parse(const char *text, Sanji__LoginFailures ***out, size_t *n)
{
    entry e[SJ_LOGIN_REPORT_PERSONS];
    size_t k = read_entries(text, e);
    *out = NULL;
    *n = 0;
    if (k == 0)
        return 0;
    Sanji__LoginFailures **list = calloc(k, sizeof *list);
    if (!list)
        return SJ_ENOMEM;
    for (size_t i = 0; i < k; i++) {
        Sanji__LoginFailures *f = malloc(sizeof *f);
        char *person = strdup(e[i].person);
        if (!f || !person) {
            free(f);
            free(person);
            sj_login_report_free(list, i);
            return SJ_ENOMEM;
        }
        sanji__login_failures__init(f);
        f->person = person;
        f->count = e[i].count;
        f->in_a_row = e[i].in_a_row;
        f->last_at_ms = e[i].last_at_ms;
        list[i] = f;
    }
    *out = list;
    *n = k;
    return 0;
}

void sj_login_report_free(Sanji__LoginFailures **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i])
            free(list[i]->person);
        free(list[i]);
    }
    free(list);
}

uint32_t sj_login_report_total(const char *text)
{
    entry e[SJ_LOGIN_REPORT_PERSONS];
    size_t n = read_entries(text, e);
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = sum > UINT32_MAX - e[i].count ? UINT32_MAX : sum + e[i].count;
    return sum;
}
