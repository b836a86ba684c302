/*
 * login_report.h - wrong passwords at a station, as they travel upward
 * (docs/PKI.md "Password guessing"): the station adds each wrong password
 * to a report it keeps in its store until it has sent it in its status
 * (NodeStatus.login_failures); the relay adds what stations report to the
 * report it keeps per station until its own status has carried it to the
 * county (StationStatus.login_failures); the county logs them.
 *
 * A report is a short text, one line per person: "<person> <count>
 * <in_a_row> <last_at_ms>".  Person ids are cleaned (no blanks or control
 * characters, at most SJ_LOGIN_PERSON_MAX bytes, "?" when empty), and at
 * most SJ_LOGIN_REPORT_PERSONS persons are kept: failures for further
 * persons count under "?", so a report never outgrows SJ_LOGIN_REPORT_SIZE
 * whatever a peer sends.  Pure string work; no I/O.
 *
 * Entry points: sj_login_report_add(), sj_login_report_parse(),
 * sj_login_report_free(), sj_login_report_total().
 *
 * Ownership: texts are caller buffers of SJ_LOGIN_REPORT_SIZE bytes;
 * sj_login_report_parse() returns malloc'd messages freed with
 * sj_login_report_free().
 */
#ifndef SJ_LOGIN_REPORT_H
#define SJ_LOGIN_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sanji.pb-c.h"

/* Wrong passwords in a row that are "repeated": the station's back-off
 * starts there (client/sanji_client.c) and the county logs a warning. */
#define SJ_LOGIN_REPEATED 3
#define SJ_LOGIN_PERSON_MAX 64
#define SJ_LOGIN_REPORT_PERSONS 16
#define SJ_LOGIN_REPORT_SIZE (SJ_LOGIN_REPORT_PERSONS * (SJ_LOGIN_PERSON_MAX + 48))

/* Adds count wrong passwords for person (in_a_row at the last one, at
 * last_at_ms) to the report text (SJ_LOGIN_REPORT_SIZE bytes, "" when
 * empty): counts add up, the later failure gives in_a_row and the time. */
void sj_login_report_add(char *text, const char *person, uint32_t count, uint32_t in_a_row,
                         int64_t last_at_ms);

/* The report as messages: *out a malloc'd array of *n (NULL, 0 when
 * empty).  Returns 0 or SJ_ENOMEM (nothing allocated then). */
int sj_login_report_parse(const char *text, Sanji__LoginFailures ***out, size_t *n);
void sj_login_report_free(Sanji__LoginFailures **list, size_t n);

/* The sum of the counts of a report. */
uint32_t sj_login_report_total(const char *text);

#endif
