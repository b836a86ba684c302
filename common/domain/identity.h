/*
 * identity.h - node identities: who a certificate says a peer is.
 *
 * Every Sanji certificate carries exactly one URI in its subjectAltName:
 *
 *     sanji:<role>:<12-digit unit code>[:<name>]
 *
 *   role  village | relay | township-desk | county-desk | department-desk
 *         | county
 *   unit  the org unit code (6 digits county, 3 township, 3 village); a
 *         county code ends in 000000, a township code in 000 (and not
 *         000000), a village code in anything but 000.
 *   name  optional, [a-z0-9-]{1,31}; tells apart several nodes of one role
 *         and unit (two county desks, "ops1" and "ops2").  A department
 *         desk's name is required: it is its department's code
 *         (sanji:department-desk:410423000000:mzj, docs/DATA.md).
 *
 * The role fixes the level of the unit: village needs a village code, relay
 * and township-desk a township code, county, county-desk and department-desk
 * a county code.
 * The node id is the URI without "sanji:" ("village:410423101201",
 * "county-desk:410423000000:ops1"); it is what Envelope.sender carries and
 * what a client names when it expects a particular peer.
 *
 * Pure code: no I/O, no allocation.  sj_identity is a plain value; copy it
 * freely.
 *
 * Entry points: sj_identity_parse_uri(), sj_identity_parse_node_id(),
 * sj_identity_make(), sj_identity_format_uri(), sj_node_role_name(),
 * sj_identity_equal(), sj_node_role_name(), sj_node_role_parse(),
 * sj_node_role_level().
 */
#ifndef SJ_IDENTITY_H
#define SJ_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "case.h" /* sj_level */
#include "err.h"

/* Mirrors proto NodeRole numbering; 0 is "unspecified" and never valid. */
typedef enum sj_node_role {
    SJ_NODE_ROLE_UNSPECIFIED = 0,
    SJ_NODE_ROLE_VILLAGE = 1,
    SJ_NODE_ROLE_RELAY = 2,
    SJ_NODE_ROLE_TOWNSHIP_DESK = 3,
    SJ_NODE_ROLE_COUNTY_DESK = 4,
    SJ_NODE_ROLE_COUNTY = 5,
    SJ_NODE_ROLE_DEPARTMENT_DESK = 6,
} sj_node_role;

#define SJ_IDENTITY_URI_SCHEME "sanji:"
#define SJ_IDENTITY_UNIT_LEN 12
#define SJ_IDENTITY_NAME_MAX 31
/* "department-desk:" + 12 + ":" + 31 = 60 chars, plus NUL. */
#define SJ_IDENTITY_NODE_ID_MAX 64
/* "sanji:" + node id. */
#define SJ_IDENTITY_URI_MAX (6 + SJ_IDENTITY_NODE_ID_MAX)

typedef struct sj_identity {
    sj_node_role role;
    char unit[SJ_IDENTITY_UNIT_LEN + 1];     /* "410423101201" */
    char node_id[SJ_IDENTITY_NODE_ID_MAX];   /* "village:410423101201[:name]" */
    char name[SJ_IDENTITY_NAME_MAX + 1];     /* "" when the URI has no name */
} sj_identity;

/* "village", "relay", "township-desk", "county-desk", "county"; NULL for an
 * unknown value. */
const char *sj_node_role_name(sj_node_role role);

/* Parses a role name (exact, lower case).  Returns 0 and sets *out, or
 * SJ_EINVAL. */
int sj_node_role_parse(const char *s, size_t len, sj_node_role *out);

/* The org unit level a role's unit must have (SJ_LEVEL_NONE for an unknown
 * role). */
sj_level sj_node_role_level(sj_node_role role);

/* Builds an identity from parts, validating them (unit level must match the
 * role; name NULL or "" for none).  Returns 0, or SJ_EINVAL with a message in
 * err saying which part is wrong.  *out is untouched on failure. */
int sj_identity_make(sj_node_role role, const char *unit, const char *name, sj_identity *out,
                     sj_error *err);

/* Parses "sanji:<role>:<unit>[:<name>]" of length len (the URI need not be
 * NUL-terminated; a NUL inside it is refused).  Returns 0 or SJ_EINVAL. */
int sj_identity_parse_uri(const char *uri, size_t len, sj_identity *out, sj_error *err);

/* Parses a node id ("<role>:<unit>[:<name>]", NUL-terminated). */
int sj_identity_parse_node_id(const char *node_id, sj_identity *out, sj_error *err);

/* Writes "sanji:" + node id into buf (NUL-terminated).  Returns 0, or
 * SJ_ETOOBIG when cap is too small (cap >= SJ_IDENTITY_URI_MAX always fits). */
int sj_identity_format_uri(const sj_identity *id, char *buf, size_t cap);

/* True when the two identities name the same node. */
bool sj_identity_equal(const sj_identity *a, const sj_identity *b);

#endif
