/*
 * paper.c - what the villager's papers say (see paper.h): the 受理回执 and
 * the 一次性告知单 as text, decided here once for the CLI and the desktop.
 */
#include "paper.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "i18n.h"
#include "orgunit.h"
#include "personal.h"
#include "sanji_client.h"
#include "uuid.h"

static const char *nz(const char *s)
{
    return s ? s : "";
}

static void add_row(sc_paper *p, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_row(sc_paper *p, const char *label, const char *fmt, ...)
{
    if (p->n_rows >= SC_PAPER_MAX_ROWS)
        return;
    sc_paper_row *r = &p->rows[p->n_rows++];
    snprintf(r->label, sizeof r->label, "%s", label);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->value, sizeof r->value, fmt, ap);
    va_end(ap);
}

/* "2026年11月23日 10:05" in China time (the papers are read there). */
static void china_date(int64_t ms, bool with_time, char out[64])
{
    char iso[SJ_CLOCK_ISO_SIZE];
    if (ms <= 0 || sj_clock_format_china(ms, iso, sizeof iso) != 0) {
        snprintf(out, 64, "-");
        return;
    }
    int y = 0, m = 0, d = 0;
    sscanf(iso, "%d-%d-%d", &y, &m, &d);
    /* TRANSLATORS: a date on a printed paper: year, month, day. */
    char date[48];
    snprintf(date, sizeof date, _("%d-%02d-%02d"), y, m, d);
    if (with_time)
        snprintf(out, 64, "%.48s %.5s", date, iso + 11);
    else
        snprintf(out, 64, "%.48s", date);
}

/* The case's number, or (not recorded by the county yet: a station that
 * was offline) its registration id, which the station can find it by. */
static void case_reference(const sc_paper_input *in, sc_paper *p)
{
    const Sanji__Case *cs = in->cs;
    const char *number = cs->number && *cs->number ? cs->number : in->number;
    if (number && *number) {
        add_row(p, _("Case number"), "%s", number);
        return;
    }
    char id[SJ_UUID_TEXT_SIZE] = "";
    if (cs->case_id.len == 16)
        sj_uuid_format(cs->case_id.data, id);
    add_row(p, _("Case number"), _("given by the county once it has recorded the case (registration %.8s)"),
            id);
}

static void receipt(const sc_paper_input *in, sc_paper *p)
{
    const Sanji__Case *cs = in->cs;
    const Sanji__Applicant *a = cs->applicant;
    char mid[SJ_PERSONAL_MASK_SIZE] = "", mph[SJ_PERSONAL_MASK_SIZE] = "", when[64], due[64];
    snprintf(p->title, sizeof p->title, "%s", _("Acknowledgement of receipt"));
    case_reference(in, p);
    add_row(p, _("Item"), "%s", nz(cs->item_name));
    add_row(p, _("Applicant"), "%s", a ? nz(a->name) : "");
    /* Masked whatever this station may see: the paper leaves the office. */
    if (a && a->id_number && *a->id_number && sj_personal_mask_id(a->id_number, mid, sizeof mid) == 0)
        add_row(p, _("ID number"), "%s", mid);
    if (a && a->phone && *a->phone && sj_personal_mask_phone(a->phone, mph, sizeof mph) == 0)
        add_row(p, _("Phone"), "%s", mph);
    add_row(p, _("Request"), "%s", nz(cs->request_text));
    china_date(cs->registered_at_ms, true, when);
    add_row(p, _("Received"), "%s", when);
    if (in->limit_days > 0)
        add_row(p, _("Time limit"), _("%u working days"), in->limit_days);
    if (cs->due_at_ms > 0) {
        china_date(cs->due_at_ms, false, due);
        add_row(p, _("To be done by"), "%s%s", due,
                cs->due_provisional ? _(" (provisional: next year's holidays are not published yet)") : "");
    } else {
        add_row(p, _("To be done by"), "%s", _("set by the county once it has recorded the case"));
    }
    add_row(p, _("Received by"), "%s", nz(cs->first_receiver_name));
    snprintf(p->closing, sizeof p->closing, "%s",
             _("Keep this receipt. Ask about your case at this station with its number; we will tell you when the result is back."));
}

static int notice(const sc_paper_input *in, sc_paper *p, sj_error *err)
{
    const Sanji__Case *cs = in->cs;
    if (cs->n_materials == 0 || cs->status != SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS)
        return sj_error_set(err, SJ_EINVAL, "%s",
                            _("This case is not waiting for materials, so there is no one-time notice to print; print the receipt instead."));
    if (cs->n_materials > SC_PAPER_MAX_LIST)
        return sj_error_set(err, SJ_EINVAL, _("The list of missing materials is longer than one paper holds (%d); print it from the case view instead."),
                            (int)SC_PAPER_MAX_LIST);
    char when[64];
    snprintf(p->title, sizeof p->title, "%s", _("One-time notice of missing materials"));
    case_reference(in, p);
    add_row(p, _("Item"), "%s", nz(cs->item_name));
    add_row(p, _("Applicant"), "%s", cs->applicant ? nz(cs->applicant->name) : "");
    const Sanji__CaseEvent *e = in->last_request;
    if (e) {
        add_row(p, _("Asked by"), "%s%s%s", nz(in->request_unit_name),
                in->request_unit_name && *in->request_unit_name ? " " : "", nz(e->actor_name));
        china_date(e->at_ms, true, when);
        add_row(p, _("Asked on"), "%s", when);
    }
    snprintf(p->intro, sizeof p->intro, "%s",
             _("To finish this matter, the following materials are still needed. This is the complete list: nothing else will be asked for."));
    for (size_t i = 0; i < cs->n_materials; i++)
        snprintf(p->list[p->n_list++], SC_PAPER_TEXT, "%s", nz(cs->materials[i]));
    if (in->limit_days > 0)
        snprintf(p->closing, sizeof p->closing,
                 _("Please bring them to the station. The time limit stands still while materials are missing and runs on once they are in (%u working days in all)."),
                 in->limit_days);
    else
        snprintf(p->closing, sizeof p->closing, "%s",
                 _("Please bring them to the station. The time limit stands still while materials are missing and runs on once they are in."));
    return 0;
}

int sc_paper_make(const sc_paper_input *in, sc_paper_kind kind, sc_paper *out, sj_error *err)
{
    memset(out, 0, sizeof *out);
    out->kind = kind;
    if (!in || !in->cs)
        return sj_error_set(err, SJ_EINVAL, "no case to print");
    /* TRANSLATORS: the issuer of a paper: county, township and village names. */
    snprintf(out->issuer, sizeof out->issuer, _("%s%s%s service station"), nz(in->county_name),
             nz(in->township_name), nz(in->village_name));
    int rc = 0;
    if (kind == SC_PAPER_NOTICE)
        rc = notice(in, out, err);
    else
        receipt(in, out);
    if (rc != 0)
        return rc;
    char printed[64];
    china_date(in->printed_at_ms, true, printed);
    if (in->station_phone && *in->station_phone)
        snprintf(out->footer, sizeof out->footer, _("Station phone: %s    Printed: %s"),
                 in->station_phone, printed);
    else
        snprintf(out->footer, sizeof out->footer, _("Printed: %s"), printed);
    return 0;
}

void sc_paper_input_fill(sc_client *c, const sc_case_detail *d, const char *phone,
                         sc_paper_input *in)
{
    const Sanji__Case *cs = d->c;
    Sanji__CaseEvent *const *events = d->events;
    size_t n_events = d->n_events;
    memset(in, 0, sizeof *in);
    in->cs = cs;
    for (size_t i = 0; i < d->n_pending && !in->number; i++)
        if (d->pending[i].case_number && *d->pending[i].case_number)
            in->number = d->pending[i].case_number;
    in->station_phone = phone;
    in->printed_at_ms = sj_clock_real_ms();
    const char *village = nz(cs->village);
    char township[SJ_ORGUNIT_CODE_SIZE] = "", county[SJ_ORGUNIT_CODE_SIZE] = "";
    (void)sj_orgunit_township_of(village, township);
    (void)sj_orgunit_county_of(village, county);
    in->county_name = county[0] ? sc_unit_name(c, county) : "";
    in->township_name = township[0] ? sc_unit_name(c, township) : "";
    in->village_name = sc_unit_name(c, village);
    for (size_t i = n_events; i-- > 0;)
        if (events[i]->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_REQUEST_MATERIALS) {
            in->last_request = events[i];
            in->request_unit_name = sc_unit_name(c, nz(events[i]->actor_unit));
            break;
        }
    in->limit_days = cs->limit_days;
    if (in->limit_days == 0) {
        /* Not recorded by the county yet: the item's own limit. */
        const Sanji__CatalogueItem *it = sc_catalogue_item(c, nz(cs->item_code));
        if (it)
            in->limit_days = cs->urgent && it->urgent_limit_days ? it->urgent_limit_days : it->limit_days;
    }
}
