/*
 * sqltext.h - the one appender of SQL statement text: a statement built
 * piece by piece from fixed texts into a buffer the caller owns, the
 * county's case list for PostgreSQL (server/query.c) and the clients'
 * case search for SQLite (domain/case_search.c).  Values never go into the
 * text: each caller binds them as parameters in its own database's way.
 *
 * A piece that does not fit is not cut: nothing of it is appended and the
 * overflow is remembered, so that the caller refuses the whole statement
 * once instead of checking every piece (a half statement must never run).
 *
 * Pure; no allocation.
 *
 * Entry points: sj_sqltext_init(), sj_sqltext_add().
 */
#ifndef SJ_SQLTEXT_H
#define SJ_SQLTEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sj_sqltext {
    char *sql;     /* the caller's buffer, always NUL-terminated */
    size_t cap;    /* its size in bytes (> 0) */
    size_t len;    /* the text's length, without the NUL */
    bool overflow; /* a piece did not fit */
} sj_sqltext;

/* Starts t as the empty text in buf (cap bytes, at least 1). */
void sj_sqltext_init(sj_sqltext *t, char *buf, size_t cap);

/* Appends text whole, or sets t->overflow and appends nothing. */
void sj_sqltext_add(sj_sqltext *t, const char *text);

#endif
