/*
 * desk-case-view.c - one case and its actions (see desk-case-view.h).
 *
 * Entry points: desk_case_view_new(), desk_case_view_show(),
 * desk_case_view_refresh().
 */
#include "desk-case-view.h"

#include <string.h>

#include "clock.h"
#include "desk-application-api.h"
#include "desk-attachments.h"
#include "desk-draft.h"
#include "desk-format.h"
#include "desk-print.h"
#include "desk-widgets.h"
#include "i18n.h"
#include "orgunit.h"
#include "personal.h"
#include "text.h"
#include "uuid.h"

struct _DeskCaseView {
    GtkBox parent;
    DeskWindow *win;
    bool have_case;
    uint8_t case_id[16];
    GtkWidget *title, *status, *delivery, *facts, *actions, *timeline, *empty;
    DeskAttachments *attachments; /* the case's photos and scans */
    GtkWidget *form, *form_title, *note_label, *note, *result_label, *result, *dept_label, *department;
    GtkWidget *mat_label, *materials, *sat_label, *satisfaction, *confirm, *message;
    GtkWidget *days_label, *days;  /* EXTEND_REQUEST: working days asked for */
    GtkWidget *person_label, *person; /* ASSIGN, SET_CARRIER: a person of the station's list */
    GPtrArray *dept_codes;       /* the department list's codes, entry 0 "" (— choose —) */
    GPtrArray *person_ids;       /* the person list's ids, entry 0 "" (— choose —) */
    sj_case_action pending;      /* the action whose inputs are shown */
    desk_draft *draft;
    bool restoring;
};

G_DEFINE_TYPE(DeskCaseView, desk_case_view, GTK_TYPE_BOX)

static void keep(DeskCaseView *v, const char *key, const char *value)
{
    if (v->restoring || !v->draft)
        return;
    sj_error err;
    if (desk_draft_set(v->draft, key, value, &err) != 0)
        desk_window_show_error(v->win, NULL, &err);
}

static const char *department_chosen(DeskCaseView *v);
static const char *person_chosen(DeskCaseView *v);

static void keep_all(DeskCaseView *v)
{
    if (v->restoring || !v->draft || !v->have_case)
        return;
    char id[SJ_UUID_TEXT_SIZE];
    sj_uuid_format(v->case_id, id);
    keep(v, "case", id);
    keep(v, "action", sj_case_action_name(v->pending));
    g_autofree char *note = desk_text_view_get(v->note);
    g_autofree char *result = desk_text_view_get(v->result);
    g_autofree char *mats = desk_text_view_get(v->materials);
    keep(v, "note", note);
    keep(v, "result", result);
    keep(v, "materials", mats);
    keep(v, "department", department_chosen(v));
    keep(v, "person", person_chosen(v));
}

static void on_input_changed(gpointer obj, gpointer data)
{
    keep_all(data);
}

static void on_choice_changed(GObject *obj, GParamSpec *pspec, gpointer data)
{
    keep_all(data);
}

/* ---- the department list (派单) ----------------------------------------- */

/* The code of the department chosen, "" for none. */
static const char *department_chosen(DeskCaseView *v)
{
    guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(v->department));
    return v->dept_codes && i < v->dept_codes->len ? g_ptr_array_index(v->dept_codes, i) : "";
}

/* Chooses the department of this code (none when it is not listed). */
static void department_choose(DeskCaseView *v, const char *code)
{
    guint pick = 0;
    for (guint i = 1; code && *code && v->dept_codes && i < v->dept_codes->len; i++)
        if (strcmp(g_ptr_array_index(v->dept_codes, i), code) == 0)
            pick = i;
    gtk_drop_down_set_selected(GTK_DROP_DOWN(v->department), pick);
}

/* Fills the list from the org tree the county sent (its active
 * departments, "县民政局 (mzj)"): the county dispatches to a department
 * chosen from the county's own records, never a name typed by hand. */
static void department_list_fill(DeskCaseView *v)
{
    const Sanji__OrgTreeSync *t = sc_org_tree(desk_window_client(v->win));
    GtkStringList *names = gtk_string_list_new(NULL);
    if (v->dept_codes)
        g_ptr_array_unref(v->dept_codes);
    v->dept_codes = g_ptr_array_new_with_free_func(g_free);
    gtk_string_list_append(names, _("— choose —"));
    g_ptr_array_add(v->dept_codes, g_strdup(""));
    for (size_t i = 0; t && i < t->n_departments; i++) {
        const Sanji__Department *d = t->departments[i];
        if (!d->active)
            continue;
        g_autofree char *label = g_strdup_printf("%s (%s)", desk_nz(d->name), desk_nz(d->code));
        gtk_string_list_append(names, label);
        g_ptr_array_add(v->dept_codes, g_strdup(desk_nz(d->code)));
    }
    gtk_drop_down_set_model(GTK_DROP_DOWN(v->department), G_LIST_MODEL(names));
    g_object_unref(names);
}

/* ---- the person list (指派, 全程代办员) --------------------------------------- */

static const char *person_chosen(DeskCaseView *v)
{
    guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(v->person));
    return v->person_ids && i < v->person_ids->len ? g_ptr_array_index(v->person_ids, i) : "";
}

static void person_choose(DeskCaseView *v, const char *id)
{
    guint pick = 0;
    for (guint i = 1; id && *id && v->person_ids && i < v->person_ids->len; i++)
        if (strcmp(g_ptr_array_index(v->person_ids, i), id) == 0)
            pick = i;
    gtk_drop_down_set_selected(GTK_DROP_DOWN(v->person), pick);
}

/* The persons who work at this station's unit (sc_persons(): active, of
 * its role), "王五 (p-...)": a case held here is assigned to one of them,
 * the village names its carrier among them; never an id typed by hand. */
static void person_list_fill(DeskCaseView *v)
{
    GtkStringList *names = gtk_string_list_new(NULL);
    if (v->person_ids)
        g_ptr_array_unref(v->person_ids);
    v->person_ids = g_ptr_array_new_with_free_func(g_free);
    gtk_string_list_append(names, _("— choose —"));
    g_ptr_array_add(v->person_ids, g_strdup(""));
    sc_person_entry *p = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_persons(desk_window_client(v->win), &p, &n, &err) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        g_autofree char *label = g_strdup_printf("%s (%s)", desk_nz(p[i].name), desk_nz(p[i].id));
        gtk_string_list_append(names, label);
        g_ptr_array_add(v->person_ids, g_strdup(desk_nz(p[i].id)));
    }
    free(p);
    gtk_drop_down_set_model(GTK_DROP_DOWN(v->person), G_LIST_MODEL(names));
    g_object_unref(names);
}

/* ---- actions ------------------------------------------------------------ */

static bool is_county_actor(DeskCaseView *v)
{
    return sc_client_node(desk_window_client(v->win))->role == SJ_NODE_ROLE_COUNTY_DESK;
}

/* The inputs of action a's form: the fields the action takes
 * (common/domain/case.h), but a department only for the county, the one level
 * that dispatches (派单).  The form shows these and sends these only, so
 * nothing typed for another action goes with this one. */
static unsigned form_fields(DeskCaseView *v, sj_case_action a)
{
    unsigned f = sj_case_action_fields(a);
    if (!is_county_actor(v))
        f &= ~(unsigned)SJ_CASE_FIELD_DEPARTMENT;
    return f;
}

static void open_form(DeskCaseView *v, sj_case_action a, const Sanji__Case *cs)
{
    v->pending = a;
    gtk_label_set_text(GTK_LABEL(v->form_title), desk_format_label(sc_action_label(a)));
    unsigned f = form_fields(v, a);
    bool note = f & SJ_CASE_FIELD_NOTE;
    bool result = f & SJ_CASE_FIELD_RESULT;
    bool dept = f & SJ_CASE_FIELD_DEPARTMENT;
    bool mats = f & SJ_CASE_FIELD_MATERIALS;
    bool sat = f & SJ_CASE_FIELD_SATISFACTION;
    bool days = f & SJ_CASE_FIELD_EXTEND_DAYS;
    bool person = f & SJ_CASE_FIELD_PERSON;
    gtk_widget_set_visible(v->person_label, person);
    gtk_widget_set_visible(v->person, person);
    gtk_label_set_text(GTK_LABEL(v->person_label), a == SJ_ACTION_SET_CARRIER
                                                       ? _("The cadre who carries it throughout")
                                                       : _("Assign to"));
    gtk_widget_set_visible(v->days_label, days);
    gtk_widget_set_visible(v->days, days);
    gtk_widget_set_visible(v->note_label, note);
    gtk_widget_set_visible(v->note, note);
    gtk_widget_set_visible(v->result_label, result);
    gtk_widget_set_visible(v->result, result);
    gtk_widget_set_visible(v->dept_label, dept);
    gtk_widget_set_visible(v->department, dept);
    gtk_widget_set_visible(v->mat_label, mats);
    gtk_widget_set_visible(v->materials, mats);
    gtk_widget_set_visible(v->sat_label, sat);
    gtk_widget_set_visible(v->satisfaction, sat);
    if (!v->restoring && cs) {
        sc_client *c = desk_window_client(v->win);
        const Sanji__CatalogueItem *it = sc_catalogue_item(c, cs->item_code);
        /* 派单 takes a department from the county's list: the one owning
         * the item is proposed (the county refuses a code it does not know). */
        const Sanji__Department *owner = sc_item_department(c, cs->item_code);
        if (dept && !*department_chosen(v))
            department_choose(v, owner ? desk_nz(owner->code) : "");
        if (mats) {
            /* 一次告知: start from the last list (or the item's), so a second
             * request repeats it unless something is really missing. */
            GString *s = g_string_new(NULL);
            char *const *m = cs->n_materials ? cs->materials : it ? it->materials : NULL;
            size_t n = cs->n_materials ? cs->n_materials : it ? it->n_materials : 0;
            for (size_t i = 0; i < n; i++)
                g_string_append_printf(s, "%s%s", i ? "\n" : "", m[i]);
            desk_text_view_set(v->materials, s->str);
            g_string_free(s, TRUE);
        }
    }
    gtk_label_set_text(GTK_LABEL(v->message), "");
    gtk_widget_set_visible(v->form, true);
    keep_all(v);
}

/* 打印受理回执 / 打印一次性告知单: the villager's paper (desk-print.h). */
static void on_print_clicked(GtkButton *b, gpointer data)
{
    DeskCaseView *v = data;
    if (!v->have_case)
        return;
    sc_paper_kind kind = (sc_paper_kind)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "paper"));
    DeskApplication *app = DESK_APPLICATION(gtk_window_get_application(GTK_WINDOW(v->win)));
    sj_error err;
    sj_error_clear(&err);
    if (desk_print_paper(GTK_WINDOW(v->win), desk_window_client(v->win), v->case_id, kind,
                         desk_application_station_phone(app),
                         desk_application_print_export_dir(app), &err) != 0)
        desk_window_show_error(v->win, NULL, &err);
}

static void on_action_clicked(GtkButton *b, gpointer data)
{
    DeskCaseView *v = data;
    sj_case_action a = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "action"));
    sc_case_detail d;
    sj_error err;
    if (sc_get_case(desk_window_client(v->win), v->case_id, &d, &err) != 0) {
        desk_window_show_error(v->win, NULL, &err);
        return;
    }
    /* Each action starts from empty inputs: what was typed or filled in
     * for another one does not carry over. */
    desk_text_view_set(v->note, "");
    desk_text_view_set(v->result, "");
    desk_text_view_set(v->materials, "");
    department_list_fill(v);
    person_list_fill(v);
    gtk_drop_down_set_selected(GTK_DROP_DOWN(v->satisfaction), 0);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(v->days), 1);
    open_form(v, a, d.c);
    sc_case_detail_free(&d);
}

static void close_form(DeskCaseView *v)
{
    gtk_widget_set_visible(v->form, false);
    v->pending = SJ_ACTION_NONE;
    sj_error err;
    if (v->draft && desk_draft_clear(v->draft, &err) != 0)
        g_warning("%s", err.message);
}

static void on_cancel(GtkButton *b, gpointer data)
{
    close_form(data);
}

static void on_confirm(GtkButton *b, gpointer data)
{
    DeskCaseView *v = data;
    /* Built from the chosen action's own inputs only; whatever the others
     * hold stays out of the request. */
    unsigned f = form_fields(v, v->pending);
    g_autofree char *note = desk_text_view_get(v->note);
    g_autofree char *result = desk_text_view_get(v->result);
    g_autofree char *mats = desk_text_view_get(v->materials);
    g_auto(GStrv) lines = g_strsplit(mats, "\n", -1);
    GPtrArray *list = g_ptr_array_new();
    for (int i = 0; (f & SJ_CASE_FIELD_MATERIALS) && lines[i]; i++) {
        g_strstrip(lines[i]);
        if (*lines[i])
            g_ptr_array_add(list, lines[i]);
    }
    /* 0 is "choose"; then the five levels in the national scale's order. */
    guint si = gtk_drop_down_get_selected(GTK_DROP_DOWN(v->satisfaction));
    sc_action_req req = {
        .case_id = v->case_id,
        .type = v->pending,
        .note = f & SJ_CASE_FIELD_NOTE ? note : NULL,
        .result = f & SJ_CASE_FIELD_RESULT ? result : NULL,
        .department = f & SJ_CASE_FIELD_DEPARTMENT ? department_chosen(v) : NULL,
        .materials = (const char *const *)list->pdata,
        .n_materials = list->len,
        .satisfaction = (f & SJ_CASE_FIELD_SATISFACTION) && si >= 1 &&
                                si <= SJ_SATISFACTION_LEVELS
                            ? sj_satisfaction_scale[si - 1]
                            : SJ_SATISFACTION_NONE,
        .extend_days = (f & SJ_CASE_FIELD_EXTEND_DAYS)
                           ? (uint32_t)gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(v->days))
                           : 0,
        .person = f & SJ_CASE_FIELD_PERSON ? person_chosen(v) : NULL,
    };
    sj_error err;
    int rc = sc_act(desk_window_client(v->win), &req, NULL, &err);
    g_ptr_array_free(list, TRUE);
    if (rc != 0) {
        /* Translators: an action could not be saved; %s says why and what to do. */
        g_autofree char *t = g_strdup_printf(_("Not saved: %s"), err.message);
        gtk_label_set_text(GTK_LABEL(v->message), t);
        return;
    }
    close_form(v);
    desk_window_notify_saved(v->win);
    desk_window_refresh_soon(v->win);
    desk_case_view_refresh(v);
}

/* ---- display ------------------------------------------------------------ */

/* A unit as people know it: its name from the org tree, else its code. */
static const char *unit_label(sc_client *c, const char *code)
{
    const char *name = sc_unit_name(c, code);
    return name ? name : desk_nz(code);
}

static void add_timeline_row(DeskCaseView *v, const char *when, const char *who, const char *what,
                             const char *extra, const char *css)
{
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    gtk_widget_add_css_class(row, "timeline-row");
    if (css)
        gtk_widget_add_css_class(row, css);
    g_autofree char *head = g_strdup_printf("%s　%s　%s", when, what, who);
    gtk_box_append(GTK_BOX(row), desk_label_line(head, "timeline-head"));
    if (extra && *extra)
        gtk_box_append(GTK_BOX(row), desk_label_line(extra, NULL));
    gtk_list_box_append(GTK_LIST_BOX(v->timeline), row);
}

static char *event_extra(const Sanji__CaseEvent *e)
{
    GString *s = g_string_new(NULL);
    if (e->note && *e->note)
        g_string_append_printf(s, "%s%s\n", _("Note: "), e->note);
    if (e->result && *e->result)
        g_string_append_printf(s, "%s%s\n", _("Result: "), e->result);
    if (e->department && *e->department)
        g_string_append_printf(s, "%s%s\n", _("Department: "), e->department);
    /* 指派, 接手, 全程代办员: the person named, by name. */
    if (e->person && *e->person)
        g_string_append_printf(s, "%s%s\n",
                               e->action == SANJI__CASE_ACTION_TYPE__CASE_ACTION_SET_CARRIER
                                   ? _("Carrier: ")
                                   : _("Assigned to: "),
                               *desk_nz(e->person_name) ? e->person_name : e->person);
    if (e->n_materials) {
        g_string_append(s, _("Materials missing: "));
        for (size_t i = 0; i < e->n_materials; i++)
            g_string_append_printf(s, "%s%s", i ? "、" : "", e->materials[i]);
        g_string_append_c(s, '\n');
    }
    if (e->satisfaction)
        g_string_append_printf(s, "%s\n",
                               desk_format_label(sc_satisfaction_label((sj_satisfaction)e->satisfaction)));
    /* The clock: days paused, asked for or granted; the due time it set. */
    if (e->clock_days)
        g_string_append_printf(s, _(" (%u working days)"), e->clock_days);
    if (e->due_at_ms > 0) {
        g_autofree char *due = desk_format_time(e->due_at_ms);
        g_string_append_printf(s, _(" (due %s)"), due);
        if (e->due_provisional)
            g_string_append(s, _(" (provisional)"));
    }
    if (e->repeat_materials_request)
        g_string_append_printf(s, "%s\n", _("A second, different list of materials (one-time notice broken)."));
    if (s->len && s->str[s->len - 1] == '\n')
        g_string_truncate(s, s->len - 1);
    return g_string_free(s, FALSE);
}

/* Who asked, for what, where the case is and when it is due. */
static void show_identity(DeskCaseView *v, sc_client *c, const Sanji__Case *cs)
{
    desk_box_clear(v->facts);
    /* Unmasked only where the rule of common/domain/personal.h lets this desk see
     * them (its own village's case, or a case its level holds); the CLI's
     * rule (client/text.h). */
    char mid[SJ_PERSONAL_MASK_SIZE], mph[SJ_PERSONAL_MASK_SIZE];
    const sj_identity *me = sc_client_node(c);
    sc_text_applicant(cs, me->role, me->unit, mid, mph);
    g_autofree char *app = g_strdup_printf(_("Applicant: %s   ID: %s   phone: %s"),
                                           cs->applicant ? desk_nz(cs->applicant->name) : "", mid, mph);
    gtk_box_append(GTK_BOX(v->facts), desk_label_line(app, NULL));
    g_autofree char *req = g_strdup_printf("%s%s", _("Request: "), desk_nz(cs->request_text));
    gtk_box_append(GTK_BOX(v->facts), desk_label_line(req, NULL));
    g_autofree char *reg = desk_format_time(cs->registered_at_ms);
    g_autofree char *due_time = desk_format_time(cs->due_at_ms);
    /* 暂定: the due time lies in a year whose holidays are not loaded. */
    g_autofree char *due = g_strdup_printf("%s%s", due_time,
                                           cs->due_provisional ? _(" (provisional)") : "");
    /* Translators: where the case is: level and unit code; registered; due. */
    g_autofree char *where = g_strdup_printf(_("Now with: %s %s · first received by %s · registered %s · due %s"),
                                             desk_format_label(sc_level_label((sj_level)cs->holder_level)),
                                             unit_label(c, cs->holder_unit), desk_nz(cs->first_receiver_name), reg,
                                             due);
    unsigned b = desk_format_buckets(cs, "", sj_clock_real_ms());
    gtk_box_append(GTK_BOX(v->facts), desk_label_line(where, (b & DESK_BUCKET_OVERDUE) ? "overdue" : NULL));
}

/* Who works it, the department, what is missing, the result or why it
 * came back. */
static void show_people(DeskCaseView *v, sc_client *c, const Sanji__Case *cs)
{
    /* Who works it here (指派) and who carries it throughout (全程代办员). */
    {
        const char *assignee = cs->assignee && *cs->assignee
                                   ? (*desk_nz(cs->assignee_name) ? cs->assignee_name : cs->assignee)
                                   : _("(not assigned)");
        const char *carrier = *desk_nz(cs->carrier_name) ? cs->carrier_name : desk_nz(cs->carrier);
        g_autofree char *t = g_strdup_printf("%s: %s · %s: %s", _("Assigned to"), assignee,
                                             _("Carrier"), carrier);
        GtkWidget *l = desk_label_line(t, NULL);
        gtk_box_append(GTK_BOX(v->facts), l);
        desk_window_register(v->win, "case.assignee", l);
    }
    if (cs->department && *cs->department) {
        g_autofree char *t = g_strdup_printf("%s%s", _("Department: "), cs->department);
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t, NULL));
    }
    if (cs->n_materials && (sj_case_status)cs->status == SJ_STATUS_WAITING_MATERIALS) {
        GString *s = g_string_new(_("Materials missing: "));
        for (size_t i = 0; i < cs->n_materials; i++)
            g_string_append_printf(s, "%s%s", i ? "、" : "", cs->materials[i]);
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(s->str, "due-soon"));
        g_string_free(s, TRUE);
    }
    if (cs->result && *cs->result) {
        g_autofree char *t = g_strdup_printf("%s%s", _("Result: "), cs->result);
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t, "result"));
    }
    if (cs->return_reason && *cs->return_reason) {
        g_autofree char *t = g_strdup_printf("%s%s", _("Reason for returning: "), cs->return_reason);
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t, "result"));
    }
}

/* The clock (docs/LIFECYCLE.md): paused, extended, an extension asked. */
static void show_clock(DeskCaseView *v, const Sanji__Case *cs)
{
    if ((sj_case_status)cs->status == SJ_STATUS_WAITING_MATERIALS && cs->paused_at_ms > 0) {
        g_autofree char *since = desk_format_time(cs->paused_at_ms);
        g_autofree char *t = g_strdup_printf(_("paused since %s, waiting for the materials"), since);
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t, "due-soon"));
    }
    if (cs->paused_days || cs->extended_days || cs->return_count) {
        GString *t = g_string_new(NULL);
        if (cs->paused_days) {
            g_string_append_printf(t, "%s: ", _("Paused for materials"));
            g_string_append_printf(t, _("%u working days"), cs->paused_days);
        }
        if (cs->extended_days) {
            g_string_append_printf(t, "%s%s: ", t->len ? " · " : "", _("Extended (approved)"));
            g_string_append_printf(t, _("%u working days"), cs->extended_days);
        }
        if (cs->return_count) {
            g_string_append_printf(t, "%s%s: ", t->len ? " · " : "", _("Returned down"));
            g_string_append_printf(t, _("%u times"), cs->return_count);
        }
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t->str, NULL));
        g_string_free(t, TRUE);
    }
    if (cs->extension_days) {
        g_autofree char *n = g_strdup_printf(_("%u working days, waiting for the level above"),
                                             cs->extension_days);
        g_autofree char *t = g_strdup_printf("%s: %s", _("Extension asked"), n);
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t, "due-soon"));
    }
}

/* After the result: the 好差评 rectification and call back, whether the
 * villager was told, urges and supervision. */
static void show_follow_up(DeskCaseView *v, const Sanji__Case *cs)
{
    /* 好差评: a 差评's rectification (整改) and its due time, and the call
     * back (回访) it owes or had. */
    char haocha[160];
    if (*sc_rectify_label(cs, haocha, sizeof(haocha))) {
        g_autofree char *t = g_strdup_printf("%s: %s", _("Rectification"), haocha);
        gtk_box_append(GTK_BOX(v->facts),
                       desk_label_line(t, cs->rectify_late ? "overdue" : "due-soon"));
    }
    if (cs->called_back_at_ms > 0) {
        g_autofree char *when = desk_format_time(cs->called_back_at_ms);
        g_autofree char *t = g_strdup_printf("%s: %s", _("Called back"), when);
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t, NULL));
    }
    /* Whether the villager was told of the last result (已通知 / 通知失败 / 不通知). */
    char notify[160];
    if (*sc_notify_label(cs, notify, sizeof(notify))) {
        g_autofree char *when = cs->notify_at_ms > 0 ? desk_format_time(cs->notify_at_ms) : NULL;
        g_autofree char *t = g_strdup_printf("%s: %s%s%s", _("Villager notified"), notify,
                                             when ? " · " : "", when ? when : "");
        bool bad = (sj_notify_state)cs->notify_state == SJ_NOTIFY_FAILED ||
                   ((sj_notify_state)cs->notify_state == SJ_NOTIFY_PENDING &&
                    cs->notify_attempts > 0);
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t, bad ? "overdue" : NULL));
    }
    if (cs->urge_count || cs->supervised) {
        g_autofree char *t = g_strdup_printf(_("Urged %u times%s"), cs->urge_count,
                                             cs->supervised ? _(", under supervision") : "");
        gtk_box_append(GTK_BOX(v->facts), desk_label_line(t, "overdue"));
    }
}

/* The buttons: the actions allowed now, and at a station the papers to
 * print. */
static void show_actions(DeskCaseView *v, sc_client *c, const Sanji__Case *cs)
{
    /* The actions allowed now; the system's own (OVERDUE, WARN, DUE_RECOMPUTE) are not
     * buttons. */
    desk_box_clear(v->actions);
    sj_case_action allowed[SJ_ACTION_COUNT];
    size_t n = sc_allowed_actions(c, cs, allowed, SJ_ACTION_COUNT);
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        if (allowed[i] == SJ_ACTION_OVERDUE || allowed[i] == SJ_ACTION_WARN ||
            allowed[i] == SJ_ACTION_DUE_RECOMPUTE || allowed[i] == SJ_ACTION_REGISTER)
            continue;
        GtkWidget *btn = gtk_button_new_with_label(desk_format_label(sc_action_label(allowed[i])));
        g_object_set_data(G_OBJECT(btn), "action", GINT_TO_POINTER(allowed[i]));
        g_signal_connect(btn, "clicked", G_CALLBACK(on_action_clicked), v);
        gtk_box_append(GTK_BOX(v->actions), btn);
        g_autofree char *name = g_strdup_printf("case.action.%s", sj_case_action_name(allowed[i]));
        desk_window_register(v->win, name, btn);
        shown++;
    }
    if (shown == 0)
        gtk_box_append(GTK_BOX(v->actions), desk_label_line(_("Nothing to do here now."), "dim-label"));
    /* The papers the villager takes home are the station's to print. */
    if (sc_client_node(c)->role == SJ_NODE_ROLE_VILLAGE) {
        static const struct {
            sc_paper_kind kind;
            const char *label, *name;
        } papers[] = {{SC_PAPER_RECEIPT, N_("Print receipt"), "case.print.receipt"},
                      {SC_PAPER_NOTICE, N_("Print one-time notice"), "case.print.notice"}};
        for (size_t i = 0; i < G_N_ELEMENTS(papers); i++) {
            if (papers[i].kind == SC_PAPER_NOTICE &&
                ((sj_case_status)cs->status != SJ_STATUS_WAITING_MATERIALS || cs->n_materials == 0))
                continue;
            GtkWidget *btn = gtk_button_new_with_label(_(papers[i].label));
            g_object_set_data(G_OBJECT(btn), "paper", GINT_TO_POINTER(papers[i].kind));
            g_signal_connect(btn, "clicked", G_CALLBACK(on_print_clicked), v);
            gtk_box_append(GTK_BOX(v->actions), btn);
            desk_window_register(v->win, papers[i].name, btn);
        }
    }
}

/* The history as the county recorded it, then what waits here. */
static void show_timeline(DeskCaseView *v, sc_client *c, const sc_case_detail *d)
{
    desk_list_box_clear(v->timeline);
    for (size_t i = 0; i < d->n_events; i++) {
        const Sanji__CaseEvent *e = d->events[i];
        g_autofree char *when = desk_format_time(e->at_ms);
        g_autofree char *who = g_strdup_printf("%s（%s %s）", desk_nz(e->actor_name),
                                               desk_format_label(sc_level_label((sj_level)e->actor_level)),
                                               unit_label(c, e->actor_unit));
        g_autofree char *extra = event_extra(e);
        add_timeline_row(v, when, who, desk_format_label(sc_action_label((sj_case_action)e->action)),
                         extra, NULL);
    }
    for (size_t i = 0; i < d->n_pending; i++) {
        const sc_outbox_entry *r = &d->pending[i];
        if (r->state == SC_OUT_APPLIED)
            continue; /* already in the history above */
        g_autofree char *when = desk_format_time(r->saved_at_ms);
        const char *state = desk_format_label(sc_out_state_label(r->state));
        g_autofree char *extra = r->state == SC_OUT_REFUSED
                                     ? g_strdup_printf("%s%s", _("Why: "), desk_nz(r->reason))
                                     : NULL;
        add_timeline_row(v, when, state, desk_format_label(sc_action_label((sj_case_action)r->action)),
                         extra, r->state == SC_OUT_REFUSED ? "refused" : "pending");
    }
}

static void show_detail(DeskCaseView *v, const sc_case_detail *d)
{
    sc_client *c = desk_window_client(v->win);
    const Sanji__Case *cs = d->c;
    g_autofree char *title = desk_format_case_title(cs);
    gtk_label_set_text(GTK_LABEL(v->title), title);
    gtk_label_set_text(GTK_LABEL(v->status), desk_format_label(sc_status_label((sj_case_status)cs->status)));
    desk_delivery dl = desk_format_delivery(cs, d->pending, d->n_pending);
    gtk_label_set_text(GTK_LABEL(v->delivery), desk_format_delivery_label(dl));

    show_identity(v, c, cs);
    show_people(v, c, cs);
    show_clock(v, cs);
    show_follow_up(v, cs);
    show_actions(v, c, cs);
    desk_attachments_show(v->attachments, cs->case_id.data,
                          sj_orgunit_contains(sc_client_node(c)->unit, desk_nz(cs->village)));
    show_timeline(v, c, d);
}

void desk_case_view_refresh(DeskCaseView *v)
{
    if (!v->have_case)
        return;
    sc_case_detail d;
    sj_error err;
    if (sc_get_case(desk_window_client(v->win), v->case_id, &d, &err) != 0) {
        gtk_label_set_text(GTK_LABEL(v->title), err.message);
        return;
    }
    show_detail(v, &d);
    sc_case_detail_free(&d);
}

void desk_case_view_show(DeskCaseView *v, const uint8_t case_id[16])
{
    bool same = v->have_case && memcmp(v->case_id, case_id, 16) == 0;
    memcpy(v->case_id, case_id, 16);
    v->have_case = true;
    gtk_widget_set_visible(v->empty, false);
    if (!same)
        gtk_widget_set_visible(v->form, false);
    desk_case_view_refresh(v);
    /* A half-written action on this case from before a crash comes back. */
    if (!same && v->draft && !desk_draft_is_empty(v->draft)) {
        char id[SJ_UUID_TEXT_SIZE];
        sj_uuid_format(case_id, id);
        if (strcmp(desk_draft_get(v->draft, "case"), id) == 0) {
            sj_case_action a = sj_case_action_from_name(desk_draft_get(v->draft, "action"));
            if (a != SJ_ACTION_NONE) {
                v->restoring = true;
                desk_text_view_set(v->note, desk_draft_get(v->draft, "note"));
                desk_text_view_set(v->result, desk_draft_get(v->draft, "result"));
                desk_text_view_set(v->materials, desk_draft_get(v->draft, "materials"));
                department_list_fill(v);
                department_choose(v, desk_draft_get(v->draft, "department"));
                person_list_fill(v);
                person_choose(v, desk_draft_get(v->draft, "person"));
                open_form(v, a, NULL);
                v->restoring = false;
            }
        }
    }
}

static void desk_case_view_finalize(GObject *obj)
{
    DeskCaseView *v = DESK_CASE_VIEW(obj);
    desk_draft_free(v->draft);
    if (v->dept_codes)
        g_ptr_array_unref(v->dept_codes);
    if (v->person_ids)
        g_ptr_array_unref(v->person_ids);
    G_OBJECT_CLASS(desk_case_view_parent_class)->finalize(obj);
}

static void desk_case_view_class_init(DeskCaseViewClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = desk_case_view_finalize;
}

static void desk_case_view_init(DeskCaseView *v)
{
}

static GtkWidget *text_input(void)
{
    GtkWidget *t = gtk_text_view_new();
    gtk_text_view_set_wrap_mode(GTK_TEXT_VIEW(t), GTK_WRAP_WORD_CHAR);
    gtk_widget_add_css_class(t, "request-text");
    gtk_widget_set_size_request(t, -1, 60);
    return t;
}

static GtkWidget *field_label(const char *t)
{
    GtkWidget *l = gtk_label_new(t);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_widget_add_css_class(l, "field-label");
    return l;
}

/* The form of one step (hidden until an action button opens it): every
 * field an action may take; open_form() shows the ones it does. */
static void build_action_form(DeskCaseView *v)
{
    v->form = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_add_css_class(v->form, "action-form");
    v->form_title = desk_label_line("", "title-3");
    v->result_label = field_label(_("Result (what was done, what the villager gets)"));
    v->result = text_input();
    v->dept_label = field_label(_("Department that handles it"));
    v->department = gtk_drop_down_new(NULL, NULL);
    v->mat_label = field_label(_("Every missing material, one per line (tell everything at once)"));
    v->materials = text_input();
    v->sat_label = field_label(_("The villager's satisfaction"));
    /* The national 好差评 scale, best first (sj_satisfaction_scale). */
    const char *sat_names[] = {_("— choose —"),       _("Very satisfied"), _("Satisfied"),
                               _("Basically satisfied"), _("Unsatisfied"),   _("Very unsatisfied"),
                               NULL};
    _Static_assert(SJ_SATISFACTION_LEVELS == 5, "one name per level of the scale");
    v->satisfaction = gtk_drop_down_new_from_strings(sat_names);
    v->days_label = field_label(_("Working days of extension asked for (1 to 60)"));
    v->days = gtk_spin_button_new_with_range(1, SJ_CASE_EXTEND_MAX, 1);
    v->person_label = field_label(_("Assign to"));
    v->person = gtk_drop_down_new(NULL, NULL);
    v->note_label = field_label(_("Note or reason"));
    v->note = text_input();
    GtkWidget *fb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    v->confirm = gtk_button_new_with_label(_("Save this step"));
    gtk_widget_add_css_class(v->confirm, "suggested-action");
    GtkWidget *cancel = gtk_button_new_with_label(_("Cancel"));
    gtk_box_append(GTK_BOX(fb), v->confirm);
    gtk_box_append(GTK_BOX(fb), cancel);
    v->message = desk_label_line("", "error-text");
    GtkWidget *parts[] = {v->form_title, v->person_label, v->person, v->result_label, v->result,
                          v->dept_label, v->department,
                          v->mat_label, v->materials, v->sat_label, v->satisfaction, v->days_label,
                          v->days, v->note_label,
                          v->note, fb, v->message};
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++)
        gtk_box_append(GTK_BOX(v->form), parts[i]);
    gtk_widget_set_visible(v->form, false);
    g_signal_connect(v->confirm, "clicked", G_CALLBACK(on_confirm), v);
    g_signal_connect(cancel, "clicked", G_CALLBACK(on_cancel), v);
}

DeskCaseView *desk_case_view_new(DeskWindow *w)
{
    DeskCaseView *v = g_object_new(DESK_TYPE_CASE_VIEW, "orientation", GTK_ORIENTATION_VERTICAL,
                                   "spacing", 10, NULL);
    v->win = w;
    gtk_widget_add_css_class(GTK_WIDGET(v), "page");
    v->empty = desk_label_line(_("Open a case from a list to see it here."), "dim-label");
    v->title = desk_label_line("", "title-2");
    /* Still selectable with the mouse (the number is copied into other
     * systems), but not the first focus of the page: a caret blinking in
     * the title reads as an input box. */
    gtk_widget_set_focusable(v->title, false);
    GtkWidget *state = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 16);
    v->status = desk_label_line("", "case-status-big");
    v->delivery = desk_label_line("", "delivery-big");
    gtk_box_append(GTK_BOX(state), v->status);
    gtk_box_append(GTK_BOX(state), v->delivery);
    v->facts = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
    v->actions = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
    gtk_widget_add_css_class(v->actions, "case-actions");

    build_action_form(v);

    GtkWidget *tl = desk_label_line(_("History"), "title-3");
    v->timeline = gtk_list_box_new();
    gtk_widget_add_css_class(v->timeline, "boxed-list");
    gtk_list_box_set_selection_mode(GTK_LIST_BOX(v->timeline), GTK_SELECTION_NONE);

    v->attachments = desk_attachments_new(w);
    GtkWidget *parts2[] = {v->empty, v->title, state, v->facts, v->actions, v->form,
                           GTK_WIDGET(v->attachments), tl, v->timeline};
    for (size_t i = 0; i < G_N_ELEMENTS(parts2); i++)
        gtk_box_append(GTK_BOX(v), parts2[i]);

    GtkWidget *texts[] = {v->note, v->result, v->materials};
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++)
        g_signal_connect(gtk_text_view_get_buffer(GTK_TEXT_VIEW(texts[i])), "changed",
                         G_CALLBACK(on_input_changed), v);
    g_signal_connect(v->department, "notify::selected", G_CALLBACK(on_choice_changed), v);
    g_signal_connect(v->person, "notify::selected", G_CALLBACK(on_choice_changed), v);

    if (desk_window_store_path(w)) {
        g_autofree char *path = desk_draft_path(desk_window_store_path(w), "action");
        v->draft = desk_draft_open(path);
    }
    desk_window_register(w, "case.title", v->title);
    desk_window_register(w, "case.status", v->status);
    desk_window_register(w, "case.delivery", v->delivery);
    desk_window_register(w, "case.timeline", v->timeline);
    desk_window_register(w, "case.facts", v->facts);
    desk_window_register(w, "case.note", v->note);
    desk_window_register(w, "case.result", v->result);
    desk_window_register(w, "case.department", v->department);
    desk_window_register(w, "case.materials", v->materials);
    desk_window_register(w, "case.satisfaction", v->satisfaction);
    desk_window_register(w, "case.days", v->days);
    desk_window_register(w, "case.person", v->person);
    desk_window_register(w, "case.confirm", v->confirm);
    desk_window_register(w, "case.message", v->message);
    return v;
}
