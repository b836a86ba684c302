/*
 * identity.c - parse, validate and format Sanji node identities
 * ("sanji:<role>:<unit>[:<name>]").  See identity.h for the format.
 *
 * Entry points: sj_identity_make(), sj_identity_parse_uri(),
 * sj_identity_parse_node_id(), sj_identity_format_uri(), sj_identity_equal(),
 * sj_node_role_name(), sj_node_role_parse(), sj_node_role_level().
 */
#include "identity.h"
#include "orgunit.h"

#include <stdio.h>
#include <string.h>

/* The numbering must stay equal to proto NodeRole (values travel on the wire). */
_Static_assert(SJ_NODE_ROLE_VILLAGE == 1 && SJ_NODE_ROLE_RELAY == 2 &&
                   SJ_NODE_ROLE_TOWNSHIP_DESK == 3 && SJ_NODE_ROLE_COUNTY_DESK == 4 &&
                   SJ_NODE_ROLE_COUNTY == 5 && SJ_NODE_ROLE_DEPARTMENT_DESK == 6,
               "sj_node_role must mirror proto NodeRole");

static const struct {
    sj_node_role role;
    const char *name;
    sj_level level;
} role_table[] = {
    {SJ_NODE_ROLE_VILLAGE, "village", SJ_LEVEL_VILLAGE},
    {SJ_NODE_ROLE_RELAY, "relay", SJ_LEVEL_TOWNSHIP},
    {SJ_NODE_ROLE_TOWNSHIP_DESK, "township-desk", SJ_LEVEL_TOWNSHIP},
    {SJ_NODE_ROLE_COUNTY_DESK, "county-desk", SJ_LEVEL_COUNTY},
    {SJ_NODE_ROLE_COUNTY, "county", SJ_LEVEL_COUNTY},
    {SJ_NODE_ROLE_DEPARTMENT_DESK, "department-desk", SJ_LEVEL_COUNTY},
};
#define N_ROLES (sizeof role_table / sizeof role_table[0])

const char *sj_node_role_name(sj_node_role role)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (role_table[i].role == role)
            return role_table[i].name;
    return NULL;
}

int sj_node_role_parse(const char *s, size_t len, sj_node_role *out)
{
    for (size_t i = 0; i < N_ROLES; i++) {
        if (strlen(role_table[i].name) == len && memcmp(role_table[i].name, s, len) == 0) {
            *out = role_table[i].role;
            return 0;
        }
    }
    return SJ_EINVAL;
}

sj_level sj_node_role_level(sj_node_role role)
{
    for (size_t i = 0; i < N_ROLES; i++)
        if (role_table[i].role == role)
            return role_table[i].level;
    return SJ_LEVEL_NONE;
}

/* Level of a code given as (pointer, length); orgunit.c owns the rules. */
static sj_level unit_level(const char *s, size_t len)
{
    char code[SJ_ORGUNIT_CODE_SIZE];
    if (len != SJ_ORGUNIT_CODE_LEN)
        return SJ_LEVEL_NONE;
    memcpy(code, s, len);
    code[len] = '\0';
    return sj_orgunit_level(code);
}

static bool name_ok(const char *s, size_t len)
{
    if (len < 1 || len > SJ_IDENTITY_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static const char *level_word(sj_level l)
{
    switch (l) {
    case SJ_LEVEL_VILLAGE:
        return "village (村)";
    case SJ_LEVEL_TOWNSHIP:
        return "township (乡镇)";
    case SJ_LEVEL_COUNTY:
        return "county (县)";
    default:
        return "invalid";
    }
}

/* Validates the three parts given as (pointer, length) and fills *out. */
static int make_parts(const char *role_s, size_t role_len, const char *unit, size_t unit_len,
                      const char *name, size_t name_len, sj_identity *out, sj_error *err)
{
    sj_node_role role;
    if (sj_node_role_parse(role_s, role_len, &role) != 0)
        return sj_error_set(err, SJ_EINVAL,
                            "身份中的角色 \"%.*s\" 无效 (unknown role; use village, relay, "
                            "township-desk, county-desk, department-desk or county)",
                            (int)(role_len > 32 ? 32 : role_len), role_s);
    sj_level have = unit_level(unit, unit_len);
    if (have == SJ_LEVEL_NONE)
        return sj_error_set(err, SJ_EINVAL,
                            "身份中的单位代码 \"%.*s\" 无效 (unit code must be 12 digits: 6 "
                            "county, 3 township, 3 village)",
                            (int)(unit_len > 32 ? 32 : unit_len), unit);
    sj_level want = sj_node_role_level(role);
    if (have != want)
        return sj_error_set(err, SJ_EINVAL,
                            "角色与单位级别不符 (role %s needs a %s code, but %.12s is a %s "
                            "code)",
                            sj_node_role_name(role), level_word(want), unit, level_word(have));
    if (name_len > 0 && !name_ok(name, name_len))
        return sj_error_set(err, SJ_EINVAL,
                            "身份中的名称无效 (name must be 1-31 characters of a-z, 0-9 and "
                            "'-')");
    if (role == SJ_NODE_ROLE_DEPARTMENT_DESK && name_len == 0)
        return sj_error_set(err, SJ_EINVAL,
                            "部门终端的身份必须带部门代码 (a department-desk identity names its "
                            "department's code: department-desk:<county>:<code>)");

    sj_identity id;
    memset(&id, 0, sizeof id);
    id.role = role;
    memcpy(id.unit, unit, SJ_IDENTITY_UNIT_LEN);
    memcpy(id.name, name, name_len);
    if (name_len > 0)
        snprintf(id.node_id, sizeof id.node_id, "%s:%s:%s", sj_node_role_name(role), id.unit,
                 id.name);
    else
        snprintf(id.node_id, sizeof id.node_id, "%s:%s", sj_node_role_name(role), id.unit);
    *out = id;
    return 0;
}

int sj_identity_make(sj_node_role role, const char *unit, const char *name, sj_identity *out,
                     sj_error *err)
{
    const char *rn = sj_node_role_name(role);
    if (rn == NULL)
        return sj_error_set(err, SJ_EINVAL, "身份中的角色无效 (role value %d is not a node role)",
                            (int)role);
    if (unit == NULL)
        return sj_error_set(err, SJ_EINVAL, "缺少单位代码 (unit code missing)");
    if (name == NULL)
        name = "";
    return make_parts(rn, strlen(rn), unit, strlen(unit), name, strlen(name), out, err);
}

/* Splits "<role>:<unit>[:<name>]" of length len. */
static int parse_node_id_n(const char *s, size_t len, sj_identity *out, sj_error *err)
{
    if (memchr(s, '\0', len) != NULL)
        return sj_error_set(err, SJ_EINVAL, "身份中含有空字符 (identity contains a NUL byte)");
    const char *c1 = memchr(s, ':', len);
    if (c1 == NULL)
        return sj_error_set(err, SJ_EINVAL,
                            "身份格式错误 (expected <role>:<12-digit unit>[:<name>])");
    const char *unit = c1 + 1;
    size_t rest = len - (size_t)(unit - s);
    const char *c2 = memchr(unit, ':', rest);
    size_t unit_len = c2 ? (size_t)(c2 - unit) : rest;
    const char *name = c2 ? c2 + 1 : "";
    size_t name_len = c2 ? rest - unit_len - 1 : 0;
    if (c2 != NULL && name_len == 0)
        return sj_error_set(err, SJ_EINVAL,
                            "身份中的名称为空 (a ':' must be followed by a name, or left out)");
    return make_parts(s, (size_t)(c1 - s), unit, unit_len, name, name_len, out, err);
}

int sj_identity_parse_uri(const char *uri, size_t len, sj_identity *out, sj_error *err)
{
    size_t slen = sizeof SJ_IDENTITY_URI_SCHEME - 1;
    if (uri == NULL || len < slen || memcmp(uri, SJ_IDENTITY_URI_SCHEME, slen) != 0)
        return sj_error_set(err, SJ_EINVAL,
                            "不是 Sanji 身份 URI (expected sanji:<role>:<unit>[:<name>])");
    if (len >= SJ_IDENTITY_URI_MAX)
        return sj_error_set(err, SJ_EINVAL, "身份 URI 过长 (identity URI longer than %d bytes)",
                            SJ_IDENTITY_URI_MAX - 1);
    return parse_node_id_n(uri + slen, len - slen, out, err);
}

int sj_identity_parse_node_id(const char *node_id, sj_identity *out, sj_error *err)
{
    if (node_id == NULL)
        return sj_error_set(err, SJ_EINVAL, "缺少节点标识 (node id missing)");
    size_t len = strlen(node_id);
    if (len >= SJ_IDENTITY_NODE_ID_MAX)
        return sj_error_set(err, SJ_EINVAL, "节点标识过长 (node id longer than %d bytes)",
                            SJ_IDENTITY_NODE_ID_MAX - 1);
    return parse_node_id_n(node_id, len, out, err);
}

int sj_identity_format_uri(const sj_identity *id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s%s", SJ_IDENTITY_URI_SCHEME, id->node_id);
    if (n < 0 || (size_t)n >= cap)
        return SJ_ETOOBIG;
    return 0;
}

bool sj_identity_equal(const sj_identity *a, const sj_identity *b)
{
    return strcmp(a->node_id, b->node_id) == 0;
}
