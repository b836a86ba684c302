/*
 * sanji_client.h - the Sanji client library: what a village station, a
 * township desk or a county desk needs to take part in the network.  The
 * `sanji` command-line tool and the desktop program are built on it.
 *
 * A client is one node (its certificate) and one local store (store.h).
 * It runs on a caller-supplied libuv loop and never blocks it for longer
 * than one local SQLite commit: the link is asynchronous, password checks
 * run on the loop's thread pool, and results arrive through one event
 * callback.  The desktop runs the loop inside GLib's main loop; the CLI
 * runs its own.
 *
 *   sc_client_new()       opens the store, loads the certificates (no I/O
 *                         on the network yet)
 *   sc_client_start()     dials the relay (stations, township desks) or the
 *                         county (county desks) and keeps reconnecting
 *   sc_login()            checks a person's password against the verifiers
 *                         the relay or county sent (works offline)
 *   sc_register(), sc_act()
 *                         check the action locally (catalogue, fields, ID
 *                         number, phone, the case state machine), write it
 *                         to the outbox and only then report SAVED; it is
 *                         sent at once if the link is up, else after the
 *                         next connect
 *   sc_list_cases(), sc_search_cases(), sc_get_case(), sc_catalogue_search(),
 *   sc_status()           read the local copy (works offline)
 *   sc_query()            asks the peer (relay or county) directly
 *   sc_client_stop()      closes the link; on_stopped follows
 *   sc_client_free()      after on_stopped, or if never started
 *
 * Events (sc_event): LINK_UP, LINK_DOWN, CAUGHT_UP (the feed is complete
 * for now), SAVED, STORED (reached the township), APPLIED (recorded by the
 * county), REFUSED (with code and Chinese reason), CASE_CHANGED (a feed
 * update or a refusal's current case was stored), REFDATA (catalogue, org
 * tree or persons replaced), UPSTREAM (the relay's link to the county went
 * down or came back while this link stays up).  Pointers in an event are borrowed for the
 * duration of the callback.  The callback may call any function of this
 * header except sc_client_free().
 *
 * Ownership: objects returned by the read functions belong to the caller
 * and are freed with the matching *_free function.  A client belongs to the
 * thread running its loop.
 *
 * Entry points: sc_client_new(), sc_client_start(), sc_client_stop(),
 * sc_client_free(), sc_client_node(), sc_login(), sc_use_person(),
 * sc_logout(), sc_person(), sc_persons(), sc_must_change_password(),
 * sc_change_password(), sc_admin(), sc_person_list(), sc_register(), sc_act(), sc_find_case(),
 * sc_get_case(), sc_case_detail_free(), sc_list_cases(), sc_case_list_free(),
 * sc_searches_at_peer(), sc_search_cases(), sc_case_page_free(), sc_keep_case(),
 * sc_fetch_case(), sc_allowed_actions(), sc_org_tree(), sc_duty(), sc_item_department(), sc_catalogue(),
 * sc_catalogue_search(),
 * sc_catalogue_item(), sc_status(), sc_outbox(), sc_query(),
 * sc_out_state_label(), sc_status_label(), sc_action_label(),
 * sc_satisfaction_label(), sc_level_label(), sc_handling_label(),
 * sc_case_marks().
 */
#ifndef SANJI_CLIENT_H
#define SANJI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "case.h"
#include "err.h"
#include "identity.h"
#include "sanji.pb-c.h"
#include "store.h"

typedef struct sc_client sc_client;

typedef struct sc_config {
    const char *cert_file;          /* this node's certificate (PEM) */
    const char *key_file;           /* its key */
    const char *ca_file;            /* the county CA */
    const char *crl_file;           /* the county CRL; NULL or "": none */
    const char *const *addresses;   /* "ip:port" of the relay or county, tried in turn */
    size_t n_addresses;
    const char *expected_peer;      /* "relay:<township>" or "county:<county>"; NULL: any */
    const char *store_path;         /* the local SQLite store */
    uint64_t backoff_base_ms;       /* 0: the dialer default */
    uint64_t backoff_cap_ms;        /* 0: the dialer default */
    uint64_t attach_max_file;       /* attachment.max_file (0: the default) */
    uint64_t attach_max_case;       /* attachment.max_case (0: the default) */
    unsigned attach_in_flight;      /* attachment.in_flight (0: the default, 2) */
    bool no_feed_deltas;            /* link.feed_deltas = false: every feed update whole */
} sc_config;

typedef enum sc_event_type {
    SC_EV_LINK_UP = 1,
    SC_EV_LINK_DOWN,
    SC_EV_CAUGHT_UP,
    SC_EV_SAVED,
    SC_EV_STORED,
    SC_EV_APPLIED,
    SC_EV_REFUSED,
    SC_EV_CASE_CHANGED,
    SC_EV_REFDATA,
    SC_EV_UPSTREAM,
} sc_event_type;

typedef struct sc_event {
    sc_event_type type;
    /* SAVED, STORED, APPLIED, REFUSED: the outbox message and its case. */
    const uint8_t *message_id;
    const uint8_t *case_id;       /* also CASE_CHANGED */
    sj_case_action action;
    const char *case_number;      /* APPLIED (and CASE_CHANGED): "" until known */
    uint64_t case_version;        /* APPLIED */
    /* REFUSED: the SJ_E* code and the reason (Chinese); LINK_DOWN: the
     * close status and the log message. */
    int code;
    const char *reason;
    /* CASE_CHANGED: the case as now stored and the event that made it
     * (event may be NULL). */
    const Sanji__Case *snapshot;
    const Sanji__CaseEvent *event;
    /* LINK_UP and UPSTREAM: the peer's node id and whether the county is
     * reachable through it; LINK_DOWN: when the next attempt starts. */
    const char *peer_node;
    bool upstream_online;
    uint64_t retry_in_ms;
    /* REFDATA: "catalogue", "org_tree" or "persons". */
    const char *kind;
} sc_event;

typedef void (*sc_event_cb)(sc_client *c, const sc_event *ev, void *data);

/* Opens the store and loads the certificates.  cfg and its strings are
 * copied.  Returns 0 and *out, or a code with err (SJ_ETLS_KEY,
 * SJ_ESTORE_CORRUPT, SJ_ESTORE_FOREIGN, SJ_EINVAL ...). */
int sc_client_new(uv_loop_t *loop, const sc_config *cfg, sc_event_cb cb, void *data,
                  sc_client **out, sj_error *err);

/* Starts dialing; reconnects with backoff until stopped. */
int sc_client_start(sc_client *c, sj_error *err);

/* Closes the link and stops reconnecting; on_stopped (may be NULL) runs
 * once nothing is pending on the loop.  Pending queries get SJ_ECANCELLED. */
void sc_client_stop(sc_client *c, void (*on_stopped)(sc_client *c, void *data));

/* Frees the client: after on_stopped, or if never started. */
void sc_client_free(sc_client *c);

/* This node's identity (from its certificate). */
const sj_identity *sc_client_node(const sc_client *c);

/* Persons ---------------------------------------------------------------- */

typedef void (*sc_login_cb)(sc_client *c, int status, const sj_error *err, void *data);

/* Checks person (id, or name when unique at this node) and password
 * against the cached verifiers, on the thread pool; on success the person
 * is remembered in the store as logged in here.  cb gets 0, SJ_EAUTH (wrong
 * name or password, one message for both), SJ_EUNKNOWN_PERSON (no person
 * list received yet; connect once), or another code.  Returns 0 when the
 * check was started, or a code with err (nothing started). */
int sc_login(sc_client *c, const char *person, const char *password, sc_login_cb cb, void *data,
             sj_error *err);

/* Uses the person remembered by the last sc_login() at this station.
 * SJ_EUNKNOWN_PERSON when nobody is logged in. */
int sc_use_person(sc_client *c, sj_error *err);
int sc_logout(sc_client *c, sj_error *err);

/* The logged-in person (NULL when none).  Owned by the client. */
const Sanji__Person *sc_person(const sc_client *c);

/* One person who may log in at this node, for a login page. */
typedef struct sc_person_entry {
    const char *id;           /* e.g. "p-410423101201-01" */
    const char *name;
    sj_person_role role;
    const char *stand_in;     /* AB岗: the B岗's id ("": nobody) */
} sc_person_entry;

/* The persons of this node's unit who may log in here (active, the role of
 * this node), from the cached person list, in the list's order.  *out is a
 * malloc'd array (free() it; NULL when *n is 0) whose strings are borrowed
 * from the client: valid until the next REFDATA "persons" event or
 * sc_client_free().  No list received yet gives *n 0.  Returns 0 or
 * SJ_ENOMEM with err. */
int sc_persons(const sc_client *c, sc_person_entry **out, size_t *n, sj_error *err);

/* Passwords (docs/PROTOCOL.md "Password change") -------------------------- */

/* True when person (an id) must choose a new password before doing
 * anything else: the county set it (a new person, a reset) and no change
 * of theirs is held here.  While so, sc_register() and sc_act() refuse
 * with SJ_EMUST_CHANGE_PASSWORD. */
bool sc_must_change_password(sc_client *c, const char *person);

/* Changes the logged-in person's password (a deactivated person has none
 * to change): new_password must pass sj_password_strength(); old_password
 * is checked against the verifier held here and the new verifier is made,
 * both on the thread pool; then a PasswordChange (the verifier, never the
 * password) goes to the outbox like an action and the new verifier is used
 * for logins here at once, offline too, until the county's person list
 * carries it (or the county refuses the change).  cb gets 0 (SAVED was
 * reported), SJ_EAUTH (the old password is wrong), or another code.
 * Returns 0 when the work was started, or a code with err. */
int sc_change_password(sc_client *c, const char *old_password, const char *new_password,
                       sc_login_cb cb, void *data, sj_error *err);

/* Administration (county desks; docs/PROTOCOL.md "Administration") ------- */

/* The county's answer to sc_admin(): 0 and whether anything changed, or
 * the refusal's code (SJ_ENOT_ADMIN, SJ_EINVAL, SJ_ENOTFOUND, SJ_EEXISTS
 * ...) and reason, or SJ_ECLOSED / SJ_ECANCELLED when the link went first
 * (reason NULL then). */
typedef void (*sc_admin_cb)(sc_client *c, int status, const char *reason, bool changed,
                            void *data);

/* Sends req to the county with the logged-in person as its actor (the
 * caller fills op and the fields; actor_person is set here).  Only a county
 * desk with a person logged in may (SJ_ENOT_ADMIN here otherwise) and only
 * while connected (SJ_ECLOSED): nothing is kept in the outbox.  The new
 * lists come back as reference data (REFDATA events). */
int sc_admin(sc_client *c, Sanji__AdminRequest *req, sc_admin_cb cb, void *data, sj_error *err);

/* The whole cached person list of this node's scope (a county desk: the
 * county), inactive persons too; NULL before any.  Owned by the client,
 * valid until the next REFDATA "persons" event. */
const Sanji__PersonSync *sc_person_list(const sc_client *c);

/* Actions ---------------------------------------------------------------- */

typedef struct sc_register_req {
    const char *item_code;       /* catalogue item, e.g. "MZ-003" */
    const char *applicant_name;
    const char *id_number;       /* 18-character resident ID */
    const char *phone;
    const char *request_text;
    bool urgent;
    int64_t appointment_at_ms;   /* 0: none */
    bool no_notify;              /* the villager is sent no messages (不通知) */
    const char *carrier;         /* 全程代办员: a person of this station (NULL or "": the one
                                    registering) */
} sc_register_req;

/* Registers a new case.  Checks: a person logged in, a known active item,
 * every field present, ID number and phone valid, the state machine's
 * REGISTER.  On success the case id and message id are written out (either
 * may be NULL), SAVED has been reported, and a send is under way when the
 * link is up. */
int sc_register(sc_client *c, const sc_register_req *req, uint8_t case_id[16],
                uint8_t message_id[16], sj_error *err);

typedef struct sc_action_req {
    const uint8_t *case_id;
    sj_case_action type;
    const char *note;
    const char *result;
    const char *department;
    const char *const *materials;
    size_t n_materials;
    sj_satisfaction satisfaction;
    uint32_t extend_days;         /* EXTEND_REQUEST: working days asked for */
    const char *person;           /* ASSIGN: the assignee; SET_CARRIER: the carrier */
} sc_action_req;

/* Any other lifecycle action on a cached case, checked with the state
 * machine against the case as this node sees it (including actions still
 * in the outbox: actions chained while offline carry the version their
 * predecessor will produce). */
int sc_act(sc_client *c, const sc_action_req *req, uint8_t message_id[16], sj_error *err);

/* Attaches a photo or scan (data, len bytes, named name; material: the
 * 一次告知 material it answers, or NULL) to a cached case of this node's
 * scope (docs/PROTOCOL.md "Attachments").  The kind is taken from the
 * content (JPEG, PNG, PDF: SJ_EATTACH_TYPE otherwise) and the limits of
 * the configuration apply (SJ_EATTACH_TOO_BIG, SJ_EATTACH_CASE_FULL).
 * The file and its chunks are saved in one transaction (works offline);
 * the chunks go up once the case's own messages have been answered by the
 * county.  The attachment's id is written out (may be NULL). */
int sc_attach(sc_client *c, const uint8_t case_id[16], const char *name, const uint8_t *data,
              size_t len, const char *material, uint8_t attachment_id[16], sj_error *err);
/* The checks of sc_attach() that need no case, for a file chosen before
 * its case is saved (the desk's registration form): the name, the
 * material, the kind and the configured limits, with case_used bytes
 * already attached to (or chosen for) the same case.  *mime (may be NULL)
 * says which kind.  Returns 0 or the code sc_attach() would return, with
 * the cadre's message in err. */
int sc_attach_check(sc_client *c, const char *name, const uint8_t *data, size_t len,
                    const char *material, uint64_t case_used, const char **mime, sj_error *err);
/* The attachments of a case known here (attached here, or fetched); free(). */
int sc_attachments(sc_client *c, const uint8_t case_id[16], sc_attach_row **out, size_t *n,
                   sj_error *err);
/* The file of an attachment held here (*data malloc'd); SJ_ENOTFOUND when
 * it must be fetched from the county (AttachmentQuery). */
int sc_attachment_data(sc_client *c, const uint8_t attachment_id[16], uint8_t **data, size_t *len,
                       sj_error *err);
/* Fetches an attachment from the county (through the relay) piece by
 * piece (PROTOCOL.md "Attachments"), checks its SHA-256 and keeps the copy
 * (sc_attachment_keep()); then cb gets status 0 and the file (data valid
 * during the call only), or the refusal's code (SJ_ESCOPE, ...) and
 * reason.  The link must be up (SJ_ECLOSED otherwise, and cb is not
 * called). */
typedef void (*sc_attach_fetch_cb)(sc_client *c, int status, const char *reason,
                                   const uint8_t *file, size_t len, void *data);
int sc_attachment_fetch(sc_client *c, const uint8_t case_id[16], const uint8_t attachment_id[16],
                        sc_attach_fetch_cb cb, void *data, sj_error *err);
/* Keeps a copy fetched from the county, after checking its size and
 * SHA-256 (SJ_EATTACH_HASH). */
int sc_attachment_keep(sc_client *c, const Sanji__AttachmentInfo *in, const uint8_t *data,
                       size_t len, sj_error *err);

/* Reads ------------------------------------------------------------------ */

/* Case number or id text -> id.  SJ_EUNKNOWN_CASE if not cached here. */
int sc_find_case(sc_client *c, const char *ref, uint8_t case_id[16], sj_error *err);

typedef struct sc_case_detail {
    Sanji__Case *c;
    bool predicted;               /* includes actions not yet recorded by the county */
    Sanji__CaseEvent **events;    /* history, in order */
    size_t n_events;
    sc_outbox_entry *pending;     /* this case's outbox rows, in order */
    size_t n_pending;
} sc_case_detail;

int sc_get_case(sc_client *c, const uint8_t case_id[16], sc_case_detail *out, sj_error *err);
void sc_case_detail_free(sc_case_detail *d);

typedef struct sc_list_filter {
    bool mine;                    /* first received by the logged-in person */
    bool assigned;                /* 我的事项: assigned to, carried or first received by the
                                     logged-in person, or assigned to one they stand in for */
    bool overdue;                 /* overdue only */
    bool waiting_for_me;          /* held by this node's org unit, open */
    const sj_case_status *statuses;  /* any of these (n 0: all) */
    size_t n_statuses;
} sc_list_filter;

typedef struct sc_case_list {
    Sanji__Case **cases;
    size_t n;
} sc_case_list;

int sc_list_cases(sc_client *c, const sc_list_filter *f, sc_case_list *out, sj_error *err);
void sc_case_list_free(sc_case_list *l);

/* Search (PROTOCOL.md "Case search") -------------------------------------- */

/* Where this node's searches run: false for stations and township desks,
 * which hold their scope's cases (sc_search_cases() reads the local store,
 * offline too); true for county desks, which hold only the cases they open
 * and search at the county with sc_query() (a Query whose case_list is the
 * same CaseListQuery). */
bool sc_searches_at_peer(const sc_client *c);

typedef struct sc_case_page {
    Sanji__Case **cases;          /* the page, in the query's order */
    size_t n;
    uint32_t total;               /* matches (at least, when capped) */
    bool capped;                  /* q->count_limit was reached */
} sc_case_page;

/* One page of the cached cases matching q, as readers should see them
 * (predicted snapshots included), through the store's search indexes.
 * Free with sc_case_page_free(). */
int sc_search_cases(sc_client *c, const Sanji__CaseListQuery *q, sc_case_page *out, sj_error *err);
void sc_case_page_free(sc_case_page *p);

/* Keeps a case this desk was shown (a row of a search at the county) in
 * the local store, so that it can be opened and acted on at once, offline
 * too; an older copy than the one held is ignored.  SJ_EINVAL for a case
 * outside this node's scope. */
int sc_keep_case(sc_client *c, const Sanji__Case *cs, sj_error *err);

typedef void (*sc_fetch_cb)(sc_client *c, int status, void *data);

/* Asks the peer for the case and its whole history and keeps both in the
 * local store; CASE_CHANGED follows, then cb (status 0, the query's code,
 * or SJ_ECLOSED/SJ_ECANCELLED).  For desks that do not hold every case of
 * their scope (county desks) when one is opened. */
int sc_fetch_case(sc_client *c, const uint8_t case_id[16], sc_fetch_cb cb, void *data,
                  sj_error *err);
/* The same by a case number or a case id as text (sc_find_case()'s ref),
 * for a command naming a case this desk does not hold yet. */
int sc_fetch_case_ref(sc_client *c, const char *ref, sc_fetch_cb cb, void *data, sj_error *err);

/* The actions the logged-in person may take on c now (sj_case_allowed_actions
 * with this person as the actor); 0 when nobody is logged in. */
size_t sc_allowed_actions(sc_client *c, const Sanji__Case *cs, sj_case_action *out, size_t max);

/* The name of an org unit ("张官营镇") from the cached org tree, NULL when
 * the code is unknown or no tree was received yet.  Owned by the client;
 * valid until the next REFDATA event or sc_client_free(). */
const char *sc_unit_name(const sc_client *c, const char *code);

/* The cached org tree of this node's scope (NULL when none was received
 * yet), for pickers of townships and villages.  Owned by the client; valid
 * until the next REFDATA event or sc_client_free(). */
const Sanji__OrgTreeSync *sc_org_tree(const sc_client *c);

/* The duty roster (值班表) as last received: this node's units, from
 * yesterday on, by day; NULL when none was received yet.  Owned by the
 * client, valid until the next REFDATA "duty" event. */
const Sanji__DutySync *sc_duty(const sc_client *c);

/* The active department that owns catalogue item `item_code` (its
 * Department.item_codes), or NULL: what a dispatch form proposes. */
const Sanji__Department *sc_item_department(const sc_client *c, const char *item_code);

/* The cached catalogue (NULL when none was received yet).  Owned by the
 * client; valid until the next REFDATA event or sc_client_free(). */
const Sanji__CatalogueSync *sc_catalogue(const sc_client *c);
const Sanji__CatalogueItem *sc_catalogue_item(const sc_client *c, const char *code);

/* Items whose name, code, category name, department or materials contain
 * keyword (all when keyword is blank): those matching by name first, then by
 * code, category, department, and last by a material, each group in
 * catalogue order; *items is a malloc'd array of borrowed pointers (free()
 * it).  Returns the count. */
size_t sc_catalogue_search(const sc_client *c, const char *keyword,
                           const Sanji__CatalogueItem ***items);

typedef struct sc_status_info {
    bool link_up;                 /* TLS link established and welcomed */
    bool caught_up;               /* the feed has been caught up since the link came up */
    bool upstream_online;         /* relay: the county link is up */
    int64_t upstream_last_contact_ms;
    char peer_node[SJ_IDENTITY_NODE_ID_MAX];
    int last_error;               /* last link failure (0: none) */
    int lasting_refusal;          /* a refusal only a person can fix (sj_err_is_lasting()),
                                     kept across runs until a link is taken again; 0: none */
    char last_error_text[SJ_ERROR_MESSAGE_MAX];
    sc_outbox_counts outbox;
    uint64_t catalogue_version, org_tree_version, person_version;
    size_t n_cursors;
    sc_cursor cursors[16];        /* the first 16 feed cursors */
    uint64_t feed_deltas;         /* feed updates taken as deltas since this client started */
} sc_status_info;

int sc_status(sc_client *c, sc_status_info *out, sj_error *err);

/* The lasting refusal (sj_err_is_lasting()) the peer gave this node's last
 * link, kept in the store across runs; 0 when none.  Work saved meanwhile
 * stays in the outbox but cannot go out until a person acts (a new
 * certificate, the right relay): say so to the cadre. */
int sc_lasting_refusal(const sc_client *c);

/* What the cadre should do about a lasting refusal code, in the user's
 * language (Chinese by default): who to ask, and that saved work waits. */
const char *sc_lasting_advice(int code);

/* How far this computer's clock may be from the network's before saving
 * is refused (sc_check_clock()). */
#define SC_CLOCK_SKEW_MAX_MS (15 * 60 * 1000)

/* Refuses (SJ_EBAD_TIME, with what the clock shows and the network's time)
 * when now is far from the network's clock: while linked, the offset the
 * last Welcome showed; offline, a clock earlier than the network's time at
 * the last contact (a clock that fell back after a dead battery).  A station
 * offline for weeks with a right clock passes.  sc_register() and sc_act()
 * call it before saving. */
int sc_check_clock(const sc_client *c, int64_t now, sj_error *err);

/* Every outbox row (history included), in order; free with
 * sc_store_outbox_free(). */
int sc_outbox(sc_client *c, sc_outbox_entry **out, size_t *n, sj_error *err);

typedef void (*sc_query_cb)(sc_client *c, int status, const Sanji__QueryResult *res,
                            void *data);

/* Sends q to the peer; cb gets the result (status 0 and res, or the
 * result's code with res, or SJ_ECLOSED/SJ_ECANCELLED without res). */
int sc_query(sc_client *c, const Sanji__Query *q, sc_query_cb cb, void *data, sj_error *err);

/* Chinese labels (translated) for display. */
const char *sc_out_state_label(sc_out_state s);
const char *sc_status_label(sj_case_status s);
const char *sc_action_label(sj_case_action a);
const char *sc_satisfaction_label(sj_satisfaction s);
/* The satisfaction named by s: the English names of sj_satisfaction_name()
 * ("basically" for basically_satisfied, '-' for '_' too) or the national
 * scale's Chinese ones (非常满意 .. 非常不满意); NONE for anything else. */
sj_satisfaction sc_satisfaction_parse(const char *s);
/* A time for people: "2026-11-23 20:00" China time; "-" for 0. */
void sc_format_time(int64_t ms, char *out, size_t cap);
/* A 差评's rectification in a line for the case's detail ("being rectified
 * (due ...)", "rectified ..., late (due ...) · call back due"), or "" when
 * the case has none; written into buf. */
const char *sc_rectify_label(const Sanji__Case *c, char *buf, size_t cap);
/* Whether the villager was told of the last result (已通知 / 通知失败 /
 * 不通知 ...) into buf; "" when there is nothing to tell. */
const char *sc_notify_label(const Sanji__Case *c, char *buf, size_t cap);
const char *sc_level_label(sj_level l);
/* 即办, 承办, 代办, 补办, 退办 ("" for a case not finished yet). */
const char *sc_handling_label(sj_handling h);

/* The marks a list row carries beside its status, so that a case someone
 * is pressing on, or that bounced, does not look like any other:
 * "超期 · 督办 · 催办 2 次 · 退回 1 次 · 退单 1 次" (overdue, supervised by
 * the county, urged, returned down a level, refused by a department), ""
 * for none.
 * Writes at most cap bytes into buf and returns buf. */
const char *sc_case_marks(const Sanji__Case *c, char *buf, size_t cap);

#endif
