/*
 * test_identity.c - node identity URIs: parsing, validation, formatting
 * (common/domain/identity.c).  Table-driven: every row is one URI and what must
 * come of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "identity.h"

struct uri_case {
    const char *uri;
    int want;                  /* 0 or the refusal code */
    sj_node_role role;         /* when want == 0 */
    const char *unit;          /* when want == 0 */
    const char *name;          /* when want == 0 */
    const char *node_id;       /* when want == 0 */
    const char *msg_has;       /* when want != 0: a word the message must contain */
};

static const struct uri_case uri_cases[] = {
    {"sanji:village:410423101201", 0, SJ_NODE_ROLE_VILLAGE, "410423101201", "",
     "village:410423101201", NULL},
    {"sanji:relay:410423101000", 0, SJ_NODE_ROLE_RELAY, "410423101000", "",
     "relay:410423101000", NULL},
    {"sanji:township-desk:410423101000:desk-2", 0, SJ_NODE_ROLE_TOWNSHIP_DESK, "410423101000",
     "desk-2", "township-desk:410423101000:desk-2", NULL},
    {"sanji:county-desk:410423000000:ops1", 0, SJ_NODE_ROLE_COUNTY_DESK, "410423000000", "ops1",
     "county-desk:410423000000:ops1", NULL},
    {"sanji:county:410423000000", 0, SJ_NODE_ROLE_COUNTY, "410423000000", "",
     "county:410423000000", NULL},
    /* a department desk: the county's unit, the department's code as name */
    {"sanji:department-desk:410423000000:mzj", 0, SJ_NODE_ROLE_DEPARTMENT_DESK, "410423000000",
     "mzj", "department-desk:410423000000:mzj", NULL},
    {"sanji:department-desk:410423000000:abcdefghijklmnopqrstuvwxyz01234", 0,
     SJ_NODE_ROLE_DEPARTMENT_DESK, "410423000000", "abcdefghijklmnopqrstuvwxyz01234",
     "department-desk:410423000000:abcdefghijklmnopqrstuvwxyz01234", NULL},
    {"sanji:department-desk:410423000000", SJ_EINVAL, 0, NULL, NULL, NULL, "department"},
    {"sanji:department-desk:410423101000:mzj", SJ_EINVAL, 0, NULL, NULL, NULL, "needs a county"},
    {"sanji:department-desk:410423000000:MZJ", SJ_EINVAL, 0, NULL, NULL, NULL, "name"},
    {"sanji:county:410423000000:abcdefghijklmnopqrstuvwxyz01234", 0, SJ_NODE_ROLE_COUNTY,
     "410423000000", "abcdefghijklmnopqrstuvwxyz01234",
     "county:410423000000:abcdefghijklmnopqrstuvwxyz01234", NULL},
    /* scheme and shape */
    {"", SJ_EINVAL, 0, NULL, NULL, NULL, "sanji:"},
    {"village:410423101201", SJ_EINVAL, 0, NULL, NULL, NULL, "sanji:"},
    {"SANJI:village:410423101201", SJ_EINVAL, 0, NULL, NULL, NULL, "sanji:"},
    {"sanji:", SJ_EINVAL, 0, NULL, NULL, NULL, "expected"},
    {"sanji:village", SJ_EINVAL, 0, NULL, NULL, NULL, "expected"},
    /* role */
    {"sanji:Village:410423101201", SJ_EINVAL, 0, NULL, NULL, NULL, "role"},
    {"sanji:town:410423101000", SJ_EINVAL, 0, NULL, NULL, NULL, "role"},
    {"sanji::410423101201", SJ_EINVAL, 0, NULL, NULL, NULL, "role"},
    /* unit code */
    {"sanji:village:41042310120", SJ_EINVAL, 0, NULL, NULL, NULL, "12 digits"},
    {"sanji:village:4104231012011", SJ_EINVAL, 0, NULL, NULL, NULL, "12 digits"},
    {"sanji:village:41042310120x", SJ_EINVAL, 0, NULL, NULL, NULL, "12 digits"},
    {"sanji:county:000000000000", SJ_EINVAL, 0, NULL, NULL, NULL, "12 digits"},
    {"sanji:village:410423000201", SJ_EINVAL, 0, NULL, NULL, NULL, "12 digits"},
    /* role and unit level must agree */
    {"sanji:village:410423101000", SJ_EINVAL, 0, NULL, NULL, NULL, "needs a village"},
    {"sanji:village:410423000000", SJ_EINVAL, 0, NULL, NULL, NULL, "needs a village"},
    {"sanji:relay:410423101201", SJ_EINVAL, 0, NULL, NULL, NULL, "needs a township"},
    {"sanji:relay:410423000000", SJ_EINVAL, 0, NULL, NULL, NULL, "needs a township"},
    {"sanji:township-desk:410423000000", SJ_EINVAL, 0, NULL, NULL, NULL, "needs a township"},
    {"sanji:county:410423101000", SJ_EINVAL, 0, NULL, NULL, NULL, "needs a county"},
    {"sanji:county-desk:410423101201", SJ_EINVAL, 0, NULL, NULL, NULL, "needs a county"},
    /* name */
    {"sanji:county-desk:410423000000:", SJ_EINVAL, 0, NULL, NULL, NULL, "name"},
    {"sanji:county-desk:410423000000:Ops1", SJ_EINVAL, 0, NULL, NULL, NULL, "name"},
    {"sanji:county-desk:410423000000:ops_1", SJ_EINVAL, 0, NULL, NULL, NULL, "name"},
    {"sanji:county-desk:410423000000:ops:1", SJ_EINVAL, 0, NULL, NULL, NULL, "name"},
    {"sanji:county-desk:410423000000:abcdefghijklmnopqrstuvwxyz012345", SJ_EINVAL, 0, NULL,
     NULL, NULL, "name"},
    {"sanji:county-desk:410423000000:运维", SJ_EINVAL, 0, NULL, NULL, NULL, "name"},
};

static void test_parse_uri_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof uri_cases / sizeof uri_cases[0]; i++) {
        const struct uri_case *c = &uri_cases[i];
        sj_identity id;
        sj_error err;
        sj_error_clear(&err);
        print_message("case %zu: %s\n", i, c->uri);
        int rc = sj_identity_parse_uri(c->uri, strlen(c->uri), &id, &err);
        assert_int_equal(rc, c->want);
        if (c->want == 0) {
            assert_int_equal(id.role, c->role);
            assert_string_equal(id.unit, c->unit);
            assert_string_equal(id.name, c->name);
            assert_string_equal(id.node_id, c->node_id);
            char buf[SJ_IDENTITY_URI_MAX];
            assert_int_equal(sj_identity_format_uri(&id, buf, sizeof buf), 0);
            assert_string_equal(buf, c->uri);
        } else {
            assert_int_equal(err.code, c->want);
            if (strstr(err.message, c->msg_has) == NULL)
                fail_msg("case %zu: message \"%s\" does not mention \"%s\"", i, err.message,
                         c->msg_has);
        }
    }
}

static void test_parse_uri_refuses_embedded_nul(void **state)
{
    (void)state;
    /* A SAN is a counted string; a NUL inside must not cut it short. */
    static const char uri[] = "sanji:village:410423101201\0:x";
    sj_identity id;
    sj_error err;
    assert_int_equal(sj_identity_parse_uri(uri, sizeof uri - 1, &id, &err), SJ_EINVAL);
    assert_non_null(strstr(err.message, "NUL"));
}

static void test_parse_node_id_matches_uri(void **state)
{
    (void)state;
    sj_identity a, b;
    sj_error err;
    assert_int_equal(sj_identity_parse_node_id("county-desk:410423000000:ops1", &a, &err), 0);
    const char *uri = "sanji:county-desk:410423000000:ops1";
    assert_int_equal(sj_identity_parse_uri(uri, strlen(uri), &b, &err), 0);
    assert_true(sj_identity_equal(&a, &b));
    assert_int_equal(sj_identity_parse_node_id("county-desk:410423000000:ops2", &b, &err), 0);
    assert_false(sj_identity_equal(&a, &b));
    assert_int_equal(sj_identity_parse_node_id(NULL, &a, &err), SJ_EINVAL);
}

struct make_case {
    sj_node_role role;
    const char *unit;
    const char *name;
    int want;
    const char *node_id;
};

static const struct make_case make_cases[] = {
    {SJ_NODE_ROLE_VILLAGE, "410423101201", NULL, 0, "village:410423101201"},
    {SJ_NODE_ROLE_RELAY, "410423101000", "", 0, "relay:410423101000"},
    {SJ_NODE_ROLE_COUNTY_DESK, "410423000000", "ops1", 0, "county-desk:410423000000:ops1"},
    {SJ_NODE_ROLE_DEPARTMENT_DESK, "410423000000", "rsj", 0, "department-desk:410423000000:rsj"},
    {SJ_NODE_ROLE_DEPARTMENT_DESK, "410423000000", NULL, SJ_EINVAL, NULL},
    {SJ_NODE_ROLE_UNSPECIFIED, "410423000000", NULL, SJ_EINVAL, NULL},
    {(sj_node_role)9, "410423000000", NULL, SJ_EINVAL, NULL},
    {SJ_NODE_ROLE_COUNTY, NULL, NULL, SJ_EINVAL, NULL},
    {SJ_NODE_ROLE_COUNTY, "410423101000", NULL, SJ_EINVAL, NULL},
    {SJ_NODE_ROLE_COUNTY, "410423000000", "Bad", SJ_EINVAL, NULL},
};

static void test_make_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof make_cases / sizeof make_cases[0]; i++) {
        const struct make_case *c = &make_cases[i];
        sj_identity id;
        memset(&id, 0x5a, sizeof id);
        sj_error err;
        print_message("case %zu\n", i);
        assert_int_equal(sj_identity_make(c->role, c->unit, c->name, &id, &err), c->want);
        if (c->want == 0)
            assert_string_equal(id.node_id, c->node_id);
        else
            assert_int_equal(id.role, 0x5a5a5a5a); /* untouched on failure */
    }
}

static void test_role_names_round_trip(void **state)
{
    (void)state;
    static const struct {
        sj_node_role role;
        const char *name;
        sj_level level;
    } rows[] = {
        {SJ_NODE_ROLE_VILLAGE, "village", SJ_LEVEL_VILLAGE},
        {SJ_NODE_ROLE_RELAY, "relay", SJ_LEVEL_TOWNSHIP},
        {SJ_NODE_ROLE_TOWNSHIP_DESK, "township-desk", SJ_LEVEL_TOWNSHIP},
        {SJ_NODE_ROLE_COUNTY_DESK, "county-desk", SJ_LEVEL_COUNTY},
        {SJ_NODE_ROLE_COUNTY, "county", SJ_LEVEL_COUNTY},
        {SJ_NODE_ROLE_DEPARTMENT_DESK, "department-desk", SJ_LEVEL_COUNTY},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_string_equal(sj_node_role_name(rows[i].role), rows[i].name);
        sj_node_role r = SJ_NODE_ROLE_UNSPECIFIED;
        assert_int_equal(sj_node_role_parse(rows[i].name, strlen(rows[i].name), &r), 0);
        assert_int_equal(r, rows[i].role);
        assert_int_equal(sj_node_role_level(rows[i].role), rows[i].level);
    }
    assert_null(sj_node_role_name(SJ_NODE_ROLE_UNSPECIFIED));
    sj_node_role r;
    assert_int_equal(sj_node_role_parse("count", 5, &r), SJ_EINVAL);
    assert_int_equal(sj_node_role_parse("county", 5, &r), SJ_EINVAL);
}

static void test_format_too_small(void **state)
{
    (void)state;
    sj_identity id;
    sj_error err;
    assert_int_equal(sj_identity_parse_node_id("village:410423101201", &id, &err), 0);
    char buf[10];
    assert_int_equal(sj_identity_format_uri(&id, buf, sizeof buf), SJ_ETOOBIG);
    char exact[sizeof "sanji:village:410423101201"];
    assert_int_equal(sj_identity_format_uri(&id, exact, sizeof exact), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_uri_table),
        cmocka_unit_test(test_parse_uri_refuses_embedded_nul),
        cmocka_unit_test(test_parse_node_id_matches_uri),
        cmocka_unit_test(test_make_table),
        cmocka_unit_test(test_role_names_round_trip),
        cmocka_unit_test(test_format_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
