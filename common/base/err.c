/*
 * err.c - names and texts of the Sanji error codes, and sj_error helpers.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *sj_err_name(int code)
{
    switch (code) {
#define SJ__ERR_NAME(name, num, text)                                                              \
    case num:                                                                                      \
        return #name;
        SJ_ERRORS(SJ__ERR_NAME)
#undef SJ__ERR_NAME
    }
    return "UNKNOWN";
}

const char *sj_err_text(int code)
{
    switch (code) {
#define SJ__ERR_TEXT(name, num, text)                                                              \
    case num:                                                                                      \
        return text;
        SJ_ERRORS(SJ__ERR_TEXT)
#undef SJ__ERR_TEXT
    }
    return "unknown error";
}

bool sj_err_is_lasting(int code)
{
    switch (code) {
    case SJ_ETLS_NO_CERT:
    case SJ_ETLS_UNTRUSTED:
    case SJ_ETLS_EXPIRED:
    case SJ_ETLS_REVOKED:
    case SJ_ETLS_BAD_IDENTITY:
    case SJ_ETLS_WRONG_ROLE:
    case SJ_ETLS_WRONG_PEER:
    case SJ_ESCOPE:
        return true;
    default:
        return false;
    }
}

int sj_error_setv(sj_error *err, int code, const char *fmt, va_list ap)
{
    if (err == NULL)
        return code;
    err->code = code;
    if (fmt == NULL || fmt[0] == '\0')
        snprintf(err->message, sizeof(err->message), "%s", sj_err_text(code));
    else
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
    return code;
}

int sj_error_set(sj_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sj_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void sj_error_clear(sj_error *err)
{
    if (err == NULL)
        return;
    err->code = SJ_EOK;
    err->message[0] = '\0';
}
