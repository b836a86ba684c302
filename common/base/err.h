/*
 * err.h - the one table of Sanji error codes, and the error value.
 *
 * Every fallible function in Sanji returns 0 on success or a negative
 * SJ_E* code from this table; asynchronous results arrive as a `status`
 * argument of the callback.  Where the caller needs to know more than the
 * code (which file, which line, which field, what the peer sent), the
 * function also fills an sj_error: the code plus a message written for the
 * person who has to act on it.
 *
 * The codes travel on the wire (Ack.code, QueryResult.code, Goodbye.code),
 * so a code's number is never changed or reused once released.  Failures of
 * OpenSSL, libpq, SQLite, libuv and protobuf-c are mapped into this table
 * at the boundary; their own text is kept in the message for the log.
 *
 * Entry points: sj_err_name(), sj_err_text(), sj_err_is_lasting(), sj_error_set(),
 * sj_error_setv(), sj_error_clear().
 */
#ifndef SJ_ERR_H
#define SJ_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* X(NAME, number, English text).  The user-facing Chinese text for the codes
 * that reach a person lives with the message catalogue (gettext), keyed by
 * the English text. */
#define SJ_ERRORS(X)                                                                       \
    X(OK, 0, "success")                                                                    \
    /* generic */                                                                          \
    X(NOMEM, -1, "out of memory")                                                          \
    X(INVAL, -2, "invalid argument")                                                       \
    X(IO, -3, "input/output error")                                                        \
    X(NOTFOUND, -4, "not found")                                                           \
    X(EXISTS, -5, "already exists")                                                        \
    X(TOOBIG, -6, "too large")                                                             \
    X(AGAIN, -7, "try again later")                                                        \
    X(TIMEOUT, -8, "timed out")                                                            \
    X(CLOSED, -9, "closed")                                                                \
    X(INTERNAL, -10, "internal error")                                                     \
    X(UNSUPPORTED, -11, "not supported")                                                   \
    X(BUSY, -12, "busy")                                                                   \
    X(CANCELLED, -13, "cancelled")                                                         \
    /* configuration */                                                                    \
    X(CONFIG_SYNTAX, -20, "configuration syntax error")                                    \
    X(CONFIG_UNKNOWN_KEY, -21, "unknown configuration key")                                \
    X(CONFIG_BAD_VALUE, -22, "bad configuration value")                                    \
    X(CONFIG_MISSING, -23, "required configuration key missing")                           \
    /* framing and decoding */                                                             \
    X(FRAME_TOO_LARGE, -30, "frame larger than the configured maximum")                   \
    X(FRAME_EMPTY, -31, "frame of length zero")                                            \
    X(FRAME_DECODE, -32, "frame does not hold a valid Envelope")                           \
    X(FRAME_NO_BODY, -33, "Envelope without a body")                                       \
    X(FRAME_BAD_VERSION, -34, "unsupported protocol version")                              \
    X(FRAME_BAD_ID, -35, "message id is not 16 bytes")                                     \
    X(FRAME_TRUNCATED, -36, "connection closed in the middle of a frame")                  \
    X(FRAME_BAD_FIELD, -37, "a field of the message is malformed")                         \
    /* TLS and identity */                                                                 \
    X(TLS, -40, "TLS error")                                                               \
    X(TLS_HANDSHAKE, -41, "TLS handshake failed")                                          \
    X(TLS_NO_CERT, -42, "peer sent no certificate")                                        \
    X(TLS_UNTRUSTED, -43, "peer certificate not issued by the county CA")                  \
    X(TLS_EXPIRED, -44, "peer certificate expired or not yet valid")                       \
    X(TLS_REVOKED, -45, "peer certificate revoked")                                        \
    X(TLS_BAD_IDENTITY, -46, "peer certificate has no valid Sanji identity")               \
    X(TLS_WRONG_ROLE, -47, "peer role not allowed on this link")                           \
    X(TLS_WRONG_PEER, -48, "peer is not the node expected")                                \
    X(TLS_PROTOCOL, -49, "TLS protocol version not allowed")                               \
    X(TLS_KEY, -50, "cannot load certificate or key")                                      \
    /* network and links */                                                                \
    X(CONNECT, -60, "cannot connect")                                                      \
    X(PEER_RESET, -61, "connection reset by peer")                                         \
    X(IDLE, -62, "peer idle too long")                                                     \
    X(BACKPRESSURE, -63, "peer is not reading; write queue full")                          \
    X(PROTOCOL, -64, "protocol violation")                                                 \
    X(UPSTREAM_DOWN, -65, "county link is down")                                           \
    /* storage */                                                                          \
    X(DB, -70, "database error")                                                           \
    X(DB_CONN, -71, "cannot reach the database")                                           \
    X(DB_SCHEMA_NEWER, -72, "database schema is newer than this program")                  \
    X(STORE_CORRUPT, -73, "local store is damaged")                                        \
    X(STORE_FOREIGN, -74, "local store belongs to another node or program")                \
    X(QUOTA, -75, "storage quota full; new work refused, nothing stored was dropped")      \
    /* case lifecycle refusals (the state machine and scope checks) */                     \
    X(SCOPE, -80, "outside the actor's scope")                                             \
    X(STALE_VERSION, -81, "case changed since the actor saw it")                           \
    X(NOT_ALLOWED, -82, "action not allowed in this status")                               \
    X(WRONG_ROLE, -83, "actor's role may not do this")                                     \
    X(WRONG_LEVEL, -84, "case is not held at the actor's level")                           \
    X(MISSING_FIELD, -85, "a required field is missing")                                   \
    X(BAD_FIELD, -86, "a field has a bad value")                                           \
    X(LEVEL_TOO_LOW, -87, "the item cannot be finished at this level")                     \
    X(UNKNOWN_CASE, -88, "no such case")                                                   \
    X(UNKNOWN_ITEM, -89, "no such catalogue item")                                         \
    X(UNKNOWN_PERSON, -90, "no such person, or not at this node")                          \
    X(UNKNOWN_UNIT, -91, "no such org unit")                                               \
    X(CASE_EXISTS, -92, "a case with this id already exists")                              \
    X(BAD_ID_NUMBER, -93, "ID number is not a valid 18-character resident ID")             \
    X(BAD_PHONE, -94, "phone number is not valid")                                         \
    X(TERMINAL, -95, "case is finished; no further action")                                \
    X(AUTH, -96, "wrong name or password")                                                 \
    X(BAD_TIME, -97, "the time is impossible; the sending computer's clock is wrong")      \
    X(ATTACH_TYPE, -100, "the attachment is not a JPEG, PNG or PDF file")                  \
    X(ATTACH_TOO_BIG, -101, "the attachment is larger than the configured limit")          \
    X(ATTACH_CASE_FULL, -102, "the case's attachments would exceed the configured limit")  \
    X(ATTACH_HASH, -103, "the attachment's content does not match its SHA-256")            \
    X(ATTACH_INCOMPLETE, -104, "the attachment has not fully reached the county yet")      \
    /* persons and administration */                                                       \
    X(MUST_CHANGE_PASSWORD, -105, "the person must change their password first")          \
    X(NOT_ADMIN, -106, "only a county operator at a county desk may administer")          \
    /* the downward feed */                                                                \
    X(DELTA_BAD, -116, "a feed delta is malformed")                                        \
    X(DELTA_BASE, -117, "the stored case is not the base of the feed delta")

typedef enum sj_err_code {
#define SJ__ERR_ENUM(name, num, text) SJ_E##name = (num),
    SJ_ERRORS(SJ__ERR_ENUM)
#undef SJ__ERR_ENUM
} sj_err_code;

/* Short name of a code ("FRAME_TOO_LARGE"); "UNKNOWN" for a code not in the table. */
const char *sj_err_name(int code);

/* English text of a code; "unknown error" for a code not in the table. */
const char *sj_err_text(int code);

/* True for a link refusal that retrying cannot fix, only a person can: the
 * certificate (ours or the peer's) is revoked, expired or not yet valid, not
 * from the county CA, of the wrong role or without a Sanji identity, or the
 * node is outside the peer's scope.  Clients then wait minutes before they
 * dial again and tell their user what to do (sj_dialer, client/). */
bool sj_err_is_lasting(int code);

/* An error value: a code and a message for the person who must act on it.
 * Embedded by value in callers; needs no freeing. */
#define SJ_ERROR_MESSAGE_MAX 512
typedef struct sj_error {
    int code;
    char message[SJ_ERROR_MESSAGE_MAX];
} sj_error;

/* Sets err (if not NULL) to code and a printf-style message; returns code, so
 * that `return sj_error_set(err, SJ_EINVAL, "...")` reads naturally.  A NULL
 * or empty fmt uses the table's text. */
int sj_error_set(sj_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same with the arguments of a caller's own printf-style function. */
int sj_error_setv(sj_error *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Resets err to SJ_EOK with an empty message. */
void sj_error_clear(sj_error *err);

#endif
