/*
 * cli_out.c - how `sanji` speaks: the exit codes and failures (cli_fail()),
 * JSON written by hand (cli_json_str(), cli_json_field() ...; with --json every
 * answer and every error is JSON on stdout), times, and the tables printed
 * for people (columns fitted to terminal cells, label: value lines).
 */
#include "cli_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "text.h"
#include "uuid.h"

bool cli_json_mode;

void cli_json_error(int code, const char *message, int exit_code)
{
    printf("{\"error\":\"%s\"", sj_err_name(code));
    cli_json_field("message", message);
    printf(",\"exit\":%d}\n", exit_code);
    fflush(stdout);
}

void cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void cli_fmt_time(int64_t ms, char *out, size_t cap)
{
    sc_format_time(ms, out, cap);
}

void cli_fmt_due(int64_t ms, bool provisional, char *out, size_t cap)
{
    char t[32];
    cli_fmt_time(ms, t, sizeof(t));
    snprintf(out, cap, "%s%s", t, provisional && ms > 0 ? _(" (provisional)") : "");
}

void cli_print_cell(const char *s, size_t width)
{
    char buf[512];
    sc_text_fit(s, width, buf, sizeof(buf));
    fputs(buf, stdout);
    fputs("  ", stdout);
}

void cli_json_field(const char *key, const char *value)
{
    printf(",\"%s\":", key);
    cli_json_str(stdout, value);
}

void cli_json_strings(char *const *v, size_t n)
{
    putchar('[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            putchar(',');
        cli_json_str(stdout, v[i]);
    }
    putchar(']');
}

void cli_print_header(const cli_column *cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cli_print_cell(_(cols[i].label), cols[i].width);
    fputc('\n', stdout);
}

void cli_print_cells(const cli_column *cols, size_t n, const char *const *cells)
{
    for (size_t i = 0; i < n; i++)
        cli_print_cell(cells[i], cols[i].width);
}

const char *cli_case_ref(const Sanji__Case *c, char buf[SJ_UUID_TEXT_SIZE])
{
    if (c->number && *c->number)
        return c->number;
    if (c->case_id.len == 16)
        sj_uuid_format(c->case_id.data, buf);
    else
        snprintf(buf, SJ_UUID_TEXT_SIZE, "?");
    return buf;
}

int cli_fail(const sj_error *err, int exit_code)
{
    const char *msg = err->message[0] ? err->message : _(sj_err_text(err->code));
    if (cli_json_mode)
        cli_json_error(err->code, msg, exit_code);
    else
        fprintf(stderr, "%s%s\n", _("Error: "), msg);
    return exit_code;
}

int cli_nobody_logged_in(sj_error *err)
{
    return sj_error_set(err, SJ_EUNKNOWN_PERSON, "%s", _("Nobody is logged in at this station; log in first (sanji login)."));
}

void cli_kv(const char *k, const char *v)
{
    if (!v || !*v)
        return;
    cli_print_cell(k, 14);
    printf("%s\n", v);
}

void cli_print_outbox_row(const sc_outbox_entry *e, bool with_case)
{
    char t[32];
    cli_fmt_time(e->saved_at_ms, t, sizeof(t));
    printf("  ");
    cli_print_cell(t, 16);
    if (with_case) {
        char ref[SJ_UUID_TEXT_SIZE];
        sj_uuid_format(e->case_id, ref);
        cli_print_cell(*e->case_number ? e->case_number : ref, 22);
    }
    cli_print_cell(sc_action_label((sj_case_action)e->action), 12);
    printf("%s%s%s\n", sc_out_state_label(e->state), e->state == SC_OUT_REFUSED ? _(": ") : "", e->reason);
}
