/*
 * pki_orgtree.c - the org tree CSV enrol reads (deploy/demo/orgunits.csv),
 * with the county's own CSV reader (common/base/csv.c): its header
 * checked, its rows read and looked up by code.
 *
 * Entry points: pki_read_orgunits(), pki_org_row(), pki_org_find().
 */
#include <string.h>

#include "pki_int.h"

/* Reads the org tree; checks its header.  Returns 0 or -1 (said why). */
int pki_read_orgunits(const char *path, sj_csv *csv)
{
    sj_error err;
    sj_error_clear(&err);
    if (sj_csv_read(path, csv, &err) != 0) {
        pki_fail("无法读取机构表 %s: %s", path, err.message);
        return -1;
    }
    const sj_csv_record *h = csv->n > 0 ? &csv->records[0] : NULL;
    if (h == NULL || h->n < 4 || strcmp(h->fields[0], "code") != 0 ||
        strcmp(h->fields[1], "name") != 0 || strcmp(h->fields[2], "level") != 0 ||
        strcmp(h->fields[3], "parent") != 0) {
        pki_fail(
            "%s 不是机构表 (the org tree CSV starts with the header code,name,level,parent, as "
            "deploy/demo/orgunits.csv)",
            path);
        return -1;
    }
    return 0;
}

bool pki_org_row(const sj_csv *csv, size_t i, pki_org_unit *u)
{
    const sj_csv_record *r = &csv->records[i];
    if (r->n < 4)
        return false;
    *u = (pki_org_unit){r->fields[0], r->fields[1], r->fields[2], r->fields[3]};
    return true;
}

bool pki_org_find(const sj_csv *csv, const char *code, pki_org_unit *u)
{
    for (size_t i = 1; i < csv->n; i++)
        if (pki_org_row(csv, i, u) && strcmp(u->code, code) == 0)
            return true;
    return false;
}
