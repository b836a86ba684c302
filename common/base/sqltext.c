/*
 * sqltext.c - the one appender of SQL statement text (sqltext.h).
 */
#include "sqltext.h"

#include <string.h>

void sj_sqltext_init(sj_sqltext *t, char *buf, size_t cap)
{
    t->sql = buf;
    t->cap = cap;
    t->len = 0;
    t->overflow = false;
    buf[0] = '\0';
}

void sj_sqltext_add(sj_sqltext *t, const char *text)
{
    size_t n = strlen(text);
    if (t->len + n + 1 > t->cap) {
        t->overflow = true;
        return;
    }
    memcpy(t->sql + t->len, text, n + 1);
    t->len += n;
}
