/*
 * pki_enrol.c - "sanji-pki enrol": the options checked, then a bundle for
 * one unit (--unit) or for every village of a township (--township).
 *
 * Entry point: pki_cmd_enrol().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "pki_int.h"

/* Checks --address as client.conf's server.address would read it. */
static void check_address(const char *address)
{
    static const sj_config_key k[] = {
        {"server.address", SJ_CONFIG_HOSTPORT_LIST, NULL, 0, 0, "address"},
    };
    sj_config *cfg = NULL;
    sj_error err;
    sj_error_clear(&err);
    int rc = sj_config_new(k, 1, &cfg, &err);
    if (rc == 0)
        rc = sj_config_set(cfg, "server.address", address, &err);
    sj_config_free(cfg);
    if (rc != 0 || strpbrk(address, "\"\\#") != NULL)
        pki_die_usage("--address \"%s\" 无效 (give host:port, several separated by commas): %s",
                      address, err.message);
}

/* enrol --unit: one bundle for the unit, of the role asked (a village by
 * default).  Returns 0, or 1 when the unit is not in the org tree. */
static int enrol_unit(const pki_opts *o, const sj_csv *csv, pki_enrol_run *run)
{
    pki_org_unit u;
    sj_identity id;
    sj_error err;
    sj_error_clear(&err);
    sj_node_role role = SJ_NODE_ROLE_VILLAGE;
    if (o->role && sj_node_role_parse(o->role, strlen(o->role), &role) != 0)
        pki_die_usage("--role \"%s\" 无效 (use village, township-desk, county-desk or relay)",
                      o->role);
    if (role != SJ_NODE_ROLE_VILLAGE && role != SJ_NODE_ROLE_TOWNSHIP_DESK &&
        role != SJ_NODE_ROLE_COUNTY_DESK && role != SJ_NODE_ROLE_RELAY)
        pki_die_usage("enrol 只签发村站、办公桌和乡镇中转 (enrol makes bundles for village, "
                      "township-desk, county-desk and relay; issue the county's own certificate "
                      "with '" PROG " issue')");
    if (o->hosts && role != SJ_NODE_ROLE_RELAY)
        pki_die_usage("--host 只用于 --role relay (a station or desk certificate names no host)");
    if (sj_identity_make(role, o->unit, o->name, &id, &err) != 0)
        pki_die_usage("%s", err.message);
    if (!pki_org_find(csv, o->unit, &u)) {
        pki_fail("机构表 %s 中没有单位 %s (unit not in the org tree; check the code)", o->orgunits,
                 o->unit);
        return 1;
    }
    pki_enrol_one(run, &id, u.name);
    return 0;
}

/* enrol --township: a bundle for every village of the township. */
static int enrol_township(const pki_opts *o, const sj_csv *csv, pki_enrol_run *run)
{
    pki_org_unit u;
    sj_identity id;
    sj_error err;
    sj_error_clear(&err);
    if (!pki_org_find(csv, o->township, &u) || strcmp(u.level, "township") != 0) {
        pki_fail("机构表 %s 中没有乡镇 %s (no township with this code in the org tree)",
                 o->orgunits, o->township);
        return 1;
    }
    for (size_t i = 1; i < csv->n; i++) {
        if (!pki_org_row(csv, i, &u) || strcmp(u.level, "village") != 0 ||
            strcmp(u.parent, o->township) != 0)
            continue;
        if (sj_identity_make(SJ_NODE_ROLE_VILLAGE, u.code, NULL, &id, &err) != 0) {
            pki_fail("%s:%zu: %s", o->orgunits, csv->records[i].line, err.message);
            run->failed++;
            continue;
        }
        pki_enrol_one(run, &id, u.name);
    }
    return 0;
}

int pki_cmd_enrol(const pki_opts *o)
{
    pki_need(o->dir, "--dir", "enrol");
    pki_need(o->orgunits, "--orgunits", "enrol");
    pki_need(o->address, "--address", "enrol");
    pki_need(o->out, "--out", "enrol");
    if ((o->township == NULL) == (o->unit == NULL))
        pki_die_usage("enrol 需要 --township 或 --unit 之一 (give one: a township for all its "
                      "villages, or one unit)");
    if (o->township && (o->role || o->name || o->hosts))
        pki_die_usage("--township 只签发村站 (--township makes village bundles; use --unit with "
                      "--role for a desk)");
    check_address(o->address);
    long days = o->have_days ? o->days : 825;
    if (o->have_minutes || o->have_nb || o->have_na)
        pki_die_usage("enrol 只接受 --days (enrol takes --days for the validity)");

    sj_csv csv = {0};
    pki_enrol_run run = {.address = o->address, .out = o->out, .hosts = o->hosts};
    time_t now = time(NULL);
    run.nb = (long long)now - 300;
    run.na = run.nb + days * 86400LL;
    int rc = 1;
    if (pki_read_orgunits(o->orgunits, &csv) != 0)
        goto out;
    if (pki_ca_load(o->dir, &run.ca) != 0)
        goto out;
    char *cap = pki_path_in(o->dir, "ca.crt"), *crp = pki_path_in(o->dir, "crl.pem");
    run.ca_pem = pki_slurp(cap);
    run.crl_pem = run.ca_pem ? pki_slurp(crp) : NULL;
    free(cap);
    free(crp);
    if (run.crl_pem == NULL)
        goto out;
    if (mkdir(o->out, 0700) != 0 && errno != EEXIST) {
        pki_fail("无法创建目录 %s: %s", o->out, strerror(errno));
        goto out;
    }
    if ((o->unit ? enrol_unit(o, &csv, &run) : enrol_township(o, &csv, &run)) != 0)
        goto out;
    if (run.issued + run.failed == 0)
        pki_fail("乡镇 %s 下没有村 (no village under this township in %s)", o->township,
                 o->orgunits);
    else
        printf("%d bundle(s) written to %s%s\n", run.issued, o->out,
               run.failed ? "; some failed (see above)" : "");
    rc = run.failed == 0 && run.issued > 0 ? 0 : 1;
out:
    sj_csv_free(&csv);
    free(run.ca_pem);
    free(run.crl_pem);
    pki_ca_free(&run.ca);
    return rc;
}
