/*
 * cli_attach.c - a case's photos and scans at the command line: files
 * attached with register and supplement (--attach) or `sanji attachment
 * add`, listed here and at the county, and fetched back to a file.
 */
#include "cli_attach.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "fileio.h"
#include "i18n.h"
#include "uuid.h"

#include "cli_out.h"
#include "cli_run.h"

/* The whole of the file at path (*data malloc'd), at most max bytes
 * (common/base/fileio.h).  A missing file is an I/O error to the CLI, as any
 * other file it cannot read. */
static int read_whole(const char *path, size_t max, uint8_t **data, size_t *len, sj_error *err)
{
    int rc = sj_file_read_all(path, max, data, len, err);
    if (rc == SJ_ENOTFOUND) {
        rc = SJ_EIO;
        if (err)
            err->code = SJ_EIO;
    }
    return rc;
}

/* FILE or FILE:MATERIAL: the path into path, the material (NULL: none). */
static const char *attach_spec(const char *spec, char *path, size_t cap)
{
    snprintf(path, cap, "%s", spec);
    const char *colon = strrchr(spec, ':');
    if (colon && access(spec, R_OK) != 0) {
        snprintf(path, cap, "%.*s", (int)(colon - spec), spec);
        return colon + 1;
    }
    return NULL;
}

int cli_check_supplement_materials(cli_run *r, const uint8_t cid[16], sj_error *err)
{
    sc_case_detail d;
    if (sc_get_case(r->c, cid, &d, err) != 0)
        return err->code;
    int rc = 0;
    for (size_t i = 0; i < r->o->n_attach && rc == 0; i++) {
        char path[1024];
        const char *m = attach_spec(r->o->attach[i], path, sizeof path);
        bool listed = !m;
        for (size_t k = 0; m && k < d.c->n_materials && !listed; k++)
            listed = strcmp(d.c->materials[k], m) == 0;
        if (!listed)
            rc = sj_error_set(err, SJ_EBAD_FIELD,
                              _("\"%s\" is not a material the one-time notice asked for; name one "
                                "of its list after the file (FILE:MATERIAL)."),
                              m);
    }
    sc_case_detail_free(&d);
    return rc;
}

/* Attaches one file to a case: FILE, or FILE:MATERIAL when FILE alone is
 * not a file.  Prints the attachment's id. */
static int attach_one(cli_run *r, const uint8_t cid[16], const char *spec, const char *material,
                      sj_error *err)
{
    char path[1024];
    const char *named = attach_spec(spec, path, sizeof path);
    if (!material)
        material = named;
    else
        snprintf(path, sizeof path, "%s", spec);
    uint8_t *data = NULL;
    size_t len = 0;
    /* Read far past the largest file the county takes, so that the
     * limit's message (sc_attach()) names the size. */
    int rc = read_whole(path, (size_t)4 << 30, &data, &len, err);
    uint8_t aid[16];
    if (rc == 0)
        rc = sc_attach(r->c, cid, path, data, len, material, aid, err);
    free(data);
    if (rc != 0)
        return rc;
    char t[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(aid, t);
    if (r->o->json)
        printf("{\"attachment_id\":\"%s\",\"bytes\":%zu}\n", t, len);
    else
        printf("%s  %s  %s\n", _("attachment: saved"), t, sj_attach_base_name(path));
    return 0;
}

int cli_attach_files(cli_run *r, const uint8_t cid[16], sj_error *err)
{
    for (size_t i = 0; i < r->o->n_attach; i++) {
        int rc = attach_one(r, cid, r->o->attach[i], NULL, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void cli_show_attachments(cli_run *r, const uint8_t case_id[16])
{
    sc_attach_row *rows = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_attachments(r->c, case_id, &rows, &n, &err) != 0 || n == 0) {
        free(rows);
        return;
    }
    printf("\n%s\n", _("Attachments:"));
    for (size_t i = 0; i < n; i++) {
        char id[SJ_UUID_TEXT_SIZE];
        sj_uuid_format(rows[i].attachment_id, id);
        printf("  %s  %s  %" PRIu64 " %s", id, rows[i].name, rows[i].size, _("bytes"));
        if (rows[i].material[0])
            printf("  [%s]", rows[i].material);
        if (rows[i].code)
            printf("  %s%s\n", _("Refused: "), rows[i].reason);
        else if (!rows[i].local)
            printf("  %s\n", _("attachment: fetched from the county"));
        else if (rows[i].chunks_applied >= rows[i].chunk_count)
            printf("  %s\n", _("attachment: recorded by the county"));
        else {
            printf("  ");
            printf(_("attachment: uploading, %u of %u pieces recorded"), rows[i].chunks_applied,
                   rows[i].chunk_count);
            printf("\n");
        }
    }
    free(rows);
}

void cli_json_attachments(cli_run *r, const uint8_t case_id[16])
{
    sc_attach_row *rows = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_attachments(r->c, case_id, &rows, &n, &err) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char id[SJ_UUID_TEXT_SIZE];
        sj_uuid_format(rows[i].attachment_id, id);
        printf("%s{\"attachment_id\":\"%s\"", i ? "," : "", id);
        cli_json_field("name", rows[i].name);
        cli_json_field("mime", rows[i].mime);
        cli_json_field("material", rows[i].material);
        printf(",\"size\":%" PRIu64 ",\"chunks_recorded\":%u,\"chunks\":%u,\"local\":%s",
               rows[i].size, rows[i].chunks_applied, rows[i].chunk_count,
               rows[i].local ? "true" : "false");
        if (rows[i].code)
            printf(",\"code\":\"%s\"", sj_err_name(rows[i].code));
        printf("}");
    }
    free(rows);
}

static void print_attachment(const char *id, const char *name, const char *mime, uint64_t size,
                             const char *material, const uint8_t *sha, const char *state)
{
    char hex[SJ_ATTACH_HEX_SIZE];
    sj_attach_hex(sha, hex);
    if (cli_json_mode) {
        printf("{\"attachment_id\":\"%s\"", id);
        cli_json_field("name", name);
        cli_json_field("mime", mime);
        printf(",\"size\":%" PRIu64, size);
        cli_json_field("material", material);
        cli_json_field("sha256", hex);
        cli_json_field("state", state);
        printf("}");
        return;
    }
    printf("%s  %-24s %-16s %10" PRIu64 "  %s  %s\n    sha256 %s\n", id, name, mime, size,
           material && *material ? material : "-", state, hex);
}

/* The attachments of a case: as the county has them when it can be asked
 * (--offline: not asked), and as this station has them. */
static int attachment_list(cli_run *r, const uint8_t cid[16], sj_error *err)
{
    sc_attach_row *rows = NULL;
    size_t n = 0;
    if (sc_attachments(r->c, cid, &rows, &n, err) != 0)
        return cli_fail(err, CLI_EX_SETUP);
    Sanji__QueryResult *res = NULL;
    sj_error qerr;
    sj_error_clear(&qerr);
    if (!r->o->offline) {
        Sanji__AttachmentQuery aq = SANJI__ATTACHMENT_QUERY__INIT;
        aq.case_id = (ProtobufCBinaryData){16, (uint8_t *)cid};
        Sanji__Query q = SANJI__QUERY__INIT;
        q.kind_case = SANJI__QUERY__KIND_ATTACHMENT;
        q.attachment = &aq;
        if (cli_ask_peer(r, &q, &res, &qerr) != 0)
            res = NULL;
    }
    if (cli_json_mode)
        printf("{\"county\":[");
    else if (res)
        printf("%s\n", _("At the county:"));
    size_t shown = 0;
    if (res && res->result_case == SANJI__QUERY_RESULT__RESULT_ATTACHMENT) {
        for (size_t i = 0; i < res->attachment->n_attachments; i++) {
            const Sanji__AttachmentInfo *in = res->attachment->attachments[i];
            char id[SJ_UUID_TEXT_SIZE], state[96];
            sj_uuid_format(in->attachment_id.data, id);
            if (in->complete)
                snprintf(state, sizeof state, "%s", _("attachment: complete at the county"));
            else
                snprintf(state, sizeof state, _("attachment: %u of %u pieces at the county"),
                         in->chunks_received, in->chunk_count);
            if (cli_json_mode && shown++)
                printf(",");
            print_attachment(id, in->name, in->mime, in->size, in->material, in->sha256.data, state);
        }
    } else if (!cli_json_mode && !r->o->offline) {
        printf("%s%s\n", _("The county could not be asked: "), qerr.message);
    }
    if (cli_json_mode)
        printf("],\"here\":[");
    else if (n)
        printf("%s\n", _("At this station:"));
    for (size_t i = 0; i < n; i++) {
        char id[SJ_UUID_TEXT_SIZE], state[SJ_ERROR_MESSAGE_MAX + 64];
        sj_uuid_format(rows[i].attachment_id, id);
        if (rows[i].code)
            snprintf(state, sizeof state, "%s%s", _("Refused: "), rows[i].reason);
        else if (!rows[i].local)
            snprintf(state, sizeof state, "%s", _("attachment: fetched from the county"));
        else if (rows[i].chunks_applied >= rows[i].chunk_count)
            snprintf(state, sizeof state, "%s", _("attachment: recorded by the county"));
        else
            snprintf(state, sizeof state, _("attachment: uploading, %u of %u pieces recorded"),
                     rows[i].chunks_applied, rows[i].chunk_count);
        if (cli_json_mode && i)
            printf(",");
        print_attachment(id, rows[i].name, rows[i].mime, rows[i].size, rows[i].material,
                         rows[i].sha256, state);
    }
    if (cli_json_mode)
        printf("]}\n");
    free(rows);
    if (res)
        sanji__query_result__free_unpacked(res, NULL);
    return CLI_EX_OK;
}

static int write_whole(const char *path, const uint8_t *data, size_t len, sj_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        int e = errno;
        if (f)
            fclose(f);
        return sj_error_set(err, SJ_EIO, _("Cannot write %s: %s"), path, strerror(e));
    }
    return 0;
}

int cli_cmd_attachment(cli_run *r, const cli_command *cmd, sj_error *err)
{
    const cli_opts *o = r->o;
    const char *verb = o->args[0];
    bool add = strcmp(verb, "add") == 0, list = strcmp(verb, "list") == 0,
         get = strcmp(verb, "get") == 0;
    if (!add && !list && !get)
        return cli_usage_error(cmd, _("what to do: add, list or get, not \"%s\"."), verb);
    if ((add || get) && o->n_args != 3)
        return cli_usage_error(cmd, _("missing %s."), add ? "FILE" : "ATTACHMENT_ID");
    if (get && !o->output)
        return cli_usage_error(cmd, _("option --%s needs a value."), "output");
    sc_use_person(r->c, NULL);
    uint8_t cid[16];
    int rc = cli_find_case(r, o->args[1], cid, err);
    /* A case not held here, named by its id: the county judges whether
     * its attachments may be opened here. */
    if (rc != CLI_EX_OK && !add && sj_uuid_parse(o->args[1], cid, NULL) == 0)
        rc = CLI_EX_OK;
    if (rc != CLI_EX_OK)
        return cli_fail(err, rc);
    if (list)
        return attachment_list(r, cid, err);
    if (add) {
        if (sc_use_person(r->c, err) != 0)
            return cli_fail(err, CLI_EX_INPUT);
        if (attach_one(r, cid, o->args[2], o->n_materials ? o->materials[0] : NULL, err) != 0)
            return cli_fail(err, err->code == SJ_EIO ? CLI_EX_SETUP : CLI_EX_INPUT);
        /* Sent for --wait seconds; what is not sent goes with the next run. */
        double wait = cli_wait_seconds(o, 5);
        r->mode = CLI_M_SYNC;
        if (wait > 0)
            cli_run_link(r, wait);
        return CLI_EX_OK;
    }
    uint8_t aid[16];
    if (sj_uuid_parse(o->args[2], aid, err) != 0)
        return cli_fail(err, CLI_EX_INPUT);
    uint8_t *data = NULL;
    size_t len = 0;
    if (sc_attachment_data(r->c, aid, &data, &len, err) != 0) {
        if (err->code != SJ_ENOTFOUND)
            return cli_fail(err, CLI_EX_SETUP);
        if (o->offline)
            return cli_fail(err, CLI_EX_PENDING);
        rc = cli_attachment_fetch(r, cid, aid, &data, &len, err);
        if (rc != 0)
            return cli_fail(err, rc == SJ_ESCOPE || rc == SJ_EUNKNOWN_CASE || rc == SJ_ENOTFOUND ||
                                     rc == SJ_EATTACH_INCOMPLETE
                                 ? CLI_EX_REFUSED
                                 : CLI_EX_PENDING);
    }
    rc = write_whole(o->output, data, len, err);
    free(data);
    if (rc != 0)
        return cli_fail(err, CLI_EX_SETUP);
    if (cli_json_mode)
        printf("{\"file\":\"%s\",\"bytes\":%zu}\n", o->output, len);
    else
        printf(_("Written: %s (%zu bytes)\n"), o->output, len);
    return CLI_EX_OK;
}
