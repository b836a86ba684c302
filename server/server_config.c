/*
 * server_config.c - sanji-countyd's configuration keys (see server_config.h).
 *
 * Entry points: countyd_config_load(), countyd_config_free(),
 * countyd_config_print_doc(), countyd_config_keys(),
 * countyd_config_links_socket().
 */
#include "server_config.h"

#include "attach.h"
#include "notify_text.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const sj_config_key KEYS[] = {
    {"listen.address", SJ_CONFIG_STRING, "0.0.0.0:7443", 0, 0,
     "address and port the county server accepts relay and desk links on"},
    {"tls.ca", SJ_CONFIG_PATH, "/etc/sanji/ca.crt", 0, 0,
     "the county CA certificate that every peer's certificate must chain to"},
    {"tls.cert", SJ_CONFIG_PATH, "/etc/sanji/county.crt", 0, 0,
     "this server's certificate (sanji:county:<code> identity)"},
    {"tls.key", SJ_CONFIG_PATH, "/etc/sanji/county.key", 0, 0, "this server's private key"},
    {"tls.crl", SJ_CONFIG_STRING, "", 0, 0,
     "certificate revocation list file; empty for none"},
    {"tls.crl_reload", SJ_CONFIG_DURATION, "1h", 1000, INT64_C(604800000),
     "re-read tls.crl this often (also on SIGHUP), cut live links it revokes and send it to the "
     "relays"},
    {"database.conninfo", SJ_CONFIG_STRING, "dbname=sanji", 0, 0,
     "libpq connection string of the county's PostgreSQL 15 database"},
    {"county.code", SJ_CONFIG_STRING, NULL, 0, 0,
     "the county's 6-digit code, first part of every case number (e.g. 410423)"},
    {"apply.batch_size", SJ_CONFIG_INT, "64", 1, 10000,
     "most upward messages applied in one database commit"},
    {"apply.batch_wait", SJ_CONFIG_DURATION, "1ms", 0, 1000,
     "how long the oldest waiting message may wait for others before its batch starts"},
    {"apply.pipeline", SJ_CONFIG_BOOL, "true", 0, 0,
     "send a batch's writes to PostgreSQL in one pipeline; false: one message after another"},
    {"apply.set_based", SJ_CONFIG_BOOL, "true", 0, 0,
     "pipelined batches write one statement per table (arrays); false: one statement per row"},
    {"sweep.interval", SJ_CONFIG_DURATION, "60s", 1000, 86400000,
     "how often overdue cases and time-limit warnings are checked"},
    {"sweep.warn_percents", SJ_CONFIG_STRING, "50,80", 0, 0,
     "fractions of the time limit, in percent, at which a warning goes out (ascending)"},
    {"limits.max_frame", SJ_CONFIG_SIZE, "1MiB", 1024, 64 * 1024 * 1024,
     "largest frame accepted from a peer; larger ones are refused unread"},
    {"log.level", SJ_CONFIG_STRING, "info", 0, 0, "debug, info, warn or error"},
    {"log.file", SJ_CONFIG_STRING, "", 0, 0,
     "log file (appended to; reopened on SIGHUP); empty for stderr"},
    {"apply.max_pending", SJ_CONFIG_INT, "10000", 10, 1000000,
     "most upward messages waiting for the database; a link that would pass it is closed"},
    {"feed.page_size", SJ_CONFIG_INT, "256", 1, 100000,
     "feed updates read from the database at a time when a peer catches up"},
    {"link.idle_timeout", SJ_CONFIG_DURATION, "60s", 1000, 0,
     "a link with nothing received for this long is closed"},
    {"link.handshake_timeout", SJ_CONFIG_DURATION, "10s", 1000, 300000,
     "a link whose TLS handshake is not done this long after it connected is closed"},
    {"link.heartbeat", SJ_CONFIG_DURATION, "15s", 100, 0,
     "a Heartbeat is sent after this long without sending anything"},
    {"database.retry_max", SJ_CONFIG_DURATION, "30s", 100, 0,
     "longest wait between attempts to reach the database after it failed"},
    {"network.offline_warn_days", SJ_CONFIG_INT, "3", 1, 365,
     "the network view warns of a station or relay not heard from for this many working days"},
    {"network.cert_warn_days", SJ_CONFIG_INT, "30", 1, 365,
     "the network view warns of a relay or station certificate expiring within this many days"},
    {"haocha.rectify_days", SJ_CONFIG_INT, "15", 1, 60,
     "working days a bad evaluation (差评: 不满意, 非常不满意) may take to be rectified (整改), "
     "counted on the county's calendar from the evaluation; later it is flagged overdue"},
    {"presence.duty_hours", SJ_CONFIG_STRING, COUNTYD_DUTY_HOURS_DEFAULT, 0, 0,
     "the village stations' duty hours on working days of the county calendar (HH:MM-HH:MM, "
     "China time): a station is counted online and staffed within these"},
    {"presence.staffed_warn_percent", SJ_CONFIG_INT, "80", 1, 100,
     "the network view flags a station staffed for less than this share of the last working "
     "day's duty hours, in percent"},
    {"stars.daiban_min", SJ_CONFIG_INT, "3", 0, 100000,
     "代办星: cases a station finished as 代办 in a quarter, at least (a year: four times it)"},
    {"stars.daiban_finish_percent", SJ_CONFIG_INT, "90", 0, 100,
     "代办星: the station's 办结率 in the period, in percent, at least"},
    {"stars.record_min", SJ_CONFIG_INT, "1", 0, 100000,
     "记录星: cases registered at the station in the period (not withdrawn), at least"},
    {"stars.record_missing_max", SJ_CONFIG_INT, "0", 0, 100000,
     "记录星: cases open past their due time or finished without the villager's feedback, at "
     "most"},
    {"stars.duty_percent", SJ_CONFIG_INT, "80", 0, 100,
     "值班星: share of the duty hours of the period's working days the station was staffed, in "
     "percent, at least"},
    {"stars.service_percent", SJ_CONFIG_INT, "90", 0, 100,
     "服务星: the station's 满意率 in the period, in percent, at least"},
    {"stars.service_min_verdicts", SJ_CONFIG_INT, "1", 0, 100000,
     "服务星: the villagers' verdicts recorded in the period, at least"},
    {"stars.on_time_percent", SJ_CONFIG_INT, "90", 0, 100,
     "时效星: the station's 按时办结率 in the period, in percent, at least"},
    {"stars.on_time_min_finished", SJ_CONFIG_INT, "1", 0, 100000,
     "时效星: cases finished in the period, at least"},
    {"presence.report_gap", SJ_CONFIG_DURATION, "2m", 1000, 3600000,
     "a station's state in its relay's report counts for at most this long; a longer silence "
     "counts as neither online nor staffed"},
    {"notify.command", SJ_CONFIG_STRING, "", 0, 0,
     "command (run by /bin/sh -c) that sends one message to a villager: the text on standard "
     "input, the phone in SANJI_NOTIFY_PHONE; exit status 0 means sent; empty: messages wait "
     "unsent"},
    {"notify.timeout", SJ_CONFIG_DURATION, "30s", 1000, 600000,
     "an attempt whose command has not exited after this long is killed and counts as failed"},
    {"notify.interval", SJ_CONFIG_DURATION, "10s", 100, 3600000,
     "how often the county server looks for messages due (retries; a new result's message "
     "goes at once)"},
    {"notify.retry_max", SJ_CONFIG_INT, "5", 1, 100,
     "attempts per message in all; after the last failure the case shows 通知失败"},
    {"notify.retry_base", SJ_CONFIG_DURATION, "60s", 1000, 86400000,
     "wait after the first failed attempt; doubled after each further failure"},
    {"notify.retry_cap", SJ_CONFIG_DURATION, "1h", 1000, 86400000,
     "longest wait between two attempts"},
    {"notify.template_resolved", SJ_CONFIG_STRING,
     "【{county}代办】您申请的{item}已办结，请到{village}便民服务站领取结果。", 0, 0,
     "message when a case is resolved; placeholders {county} {item} {village} {materials} "
     "{number}"},
    {"notify.template_returned", SJ_CONFIG_STRING,
     "【{county}代办】您申请的{item}未能办理（退办），请到{village}便民服务站了解原因。", 0, 0,
     "message when a case is returned as undoable (退办); same placeholders"},
    {"notify.template_materials", SJ_CONFIG_STRING,
     "【{county}代办】您申请的{item}需补充材料：{materials}。请备齐后到{village}便民服务站提交。",
     0, 0, "message when materials are requested (一次告知); same placeholders"},
    {"attachment.max_file", SJ_CONFIG_SIZE, SJ_ATTACH_MAX_FILE_DEFAULT, 1024,
     INT64_C(1073741824),
     "largest attachment (photo or scan) accepted for a case; larger ones are refused"},
    {"attachment.max_case", SJ_CONFIG_SIZE, SJ_ATTACH_MAX_CASE_DEFAULT, 1024,
     INT64_C(17179869184), "most bytes of attachments one case may hold"},
    {"metrics.listen", SJ_CONFIG_STRING, "", 0, 0,
     "address:port of this machine to serve Prometheus metrics on (GET /metrics), e.g. "
     "127.0.0.1:9464; empty: no metrics endpoint"},
};

const sj_config_key *countyd_config_keys(size_t *n)
{
    *n = sizeof(KEYS) / sizeof(KEYS[0]);
    return KEYS;
}

int countyd_config_print_doc(FILE *out)
{
    return sj_config_print_doc(KEYS, sizeof(KEYS) / sizeof(KEYS[0]), out);
}

/* "file:line" of the line that set key (as the parser's own messages
 * say), or "file" when the key has its default. */
static void where_set(const sj_config *cfg, const char *path, const char *key, char *out, size_t cap)
{
    size_t line = sj_config_line(cfg, key);
    if (line > 0)
        snprintf(out, cap, "%s:%zu", path, line);
    else
        snprintf(out, cap, "%s", path);
}

static int parse_percents(const char *path, const char *text, countyd_config *c, sj_error *err)
{
    c->n_warn = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        uint32_t last = c->n_warn ? c->warn_percents[c->n_warn - 1] : 0;
        if (end == p || v < 1 || v > 99 || (uint32_t)v <= last || c->n_warn == COUNTYD_WARN_MAX)
            return sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                                "%s: sweep.warn_percents “%s” 无效 (must be up to %d ascending "
                                "percents 1..99, e.g. 50,80)",
                                path, text, COUNTYD_WARN_MAX);
        c->warn_percents[c->n_warn++] = (uint32_t)v;
        p = end;
        while (*p == ' ')
            p++;
        if (*p == ',')
            p++;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* presence.* (the duty hours, checked) and stars.*. */
static int load_duty_and_stars(const sj_config *c, const char *path, countyd_config *out,
                               sj_error *err)
{
    char where[PATH_MAX + 32];
    int rc;
    where_set(c, path, "presence.duty_hours", where, sizeof(where));
    if ((rc = countyd_presence_parse_hours(sj_config_get_string(c, "presence.duty_hours"),
                                           &out->duty, err)) != 0) {
        char why[SJ_ERROR_MESSAGE_MAX];
        snprintf(why, sizeof(why), "%s", err->message);
        sj_error_set(err, rc, "%s: %s", where, why);
        return rc;
    }
    out->duty.warn_percent = (uint32_t)sj_config_get_int(c, "presence.staffed_warn_percent");
    out->duty.report_gap_ms = sj_config_get_duration_ms(c, "presence.report_gap");
    out->stars = (countyd_stars_config){
        .daiban_min = (uint32_t)sj_config_get_int(c, "stars.daiban_min"),
        .daiban_finish_percent = (uint32_t)sj_config_get_int(c, "stars.daiban_finish_percent"),
        .record_min = (uint32_t)sj_config_get_int(c, "stars.record_min"),
        .record_missing_max = (uint32_t)sj_config_get_int(c, "stars.record_missing_max"),
        .duty_percent = (uint32_t)sj_config_get_int(c, "stars.duty_percent"),
        .service_percent = (uint32_t)sj_config_get_int(c, "stars.service_percent"),
        .service_min_verdicts = (uint32_t)sj_config_get_int(c, "stars.service_min_verdicts"),
        .on_time_percent = (uint32_t)sj_config_get_int(c, "stars.on_time_percent"),
        .on_time_min_finished = (uint32_t)sj_config_get_int(c, "stars.on_time_min_finished"),
    };
    return 0;
}

/* notify.*: the hook, its timing, and the three templates (checked). */
static int load_notify(const sj_config *c, const char *path, countyd_config *out, sj_error *err)
{
    char where[PATH_MAX + 32];
    int rc;
    out->notify_command = sj_config_get_string(c, "notify.command");
    out->notify_timeout_ms = sj_config_get_duration_ms(c, "notify.timeout");
    out->notify_interval_ms = sj_config_get_duration_ms(c, "notify.interval");
    out->notify_retry_max = (int)sj_config_get_int(c, "notify.retry_max");
    out->notify_retry_base_ms = sj_config_get_duration_ms(c, "notify.retry_base");
    out->notify_retry_cap_ms = sj_config_get_duration_ms(c, "notify.retry_cap");
    static const char *const tkeys[] = {NULL, "notify.template_resolved",
                                        "notify.template_returned", "notify.template_materials"};
    for (int k = 1; k < 4; k++) {
        out->notify_templates[k] = sj_config_get_string(c, tkeys[k]);
        if ((rc = countyd_notify_check_template(out->notify_templates[k], err)) != 0) {
            char why[SJ_ERROR_MESSAGE_MAX];
            snprintf(why, sizeof(why), "%s", err->message);
            where_set(c, path, tkeys[k], where, sizeof(where));
            sj_error_set(err, rc, "%s: %s", where, why);
            return rc;
        }
    }
    return 0;
}

int countyd_config_load(const char *path, countyd_config *out, sj_error *err)
{
    memset(out, 0, sizeof(*out));
    countyd_presence_defaults(&out->duty);
    countyd_stars_defaults(&out->stars);
    if (!path)
        return 0;
    int rc = sj_config_new(KEYS, sizeof(KEYS) / sizeof(KEYS[0]), &out->cfg, err);
    if (rc != 0)
        return rc;
    if ((rc = sj_config_load_file(out->cfg, path, err)) != 0)
        goto fail;
    const sj_config *c = out->cfg;
    out->listen = sj_config_get_string(c, "listen.address");
    out->tls_ca = sj_config_get_path(c, "tls.ca");
    out->tls_cert = sj_config_get_path(c, "tls.cert");
    out->tls_key = sj_config_get_path(c, "tls.key");
    out->tls_crl = sj_config_get_string(c, "tls.crl");
    out->crl_reload_ms = sj_config_get_duration_ms(c, "tls.crl_reload");
    out->database = sj_config_get_string(c, "database.conninfo");
    const char *county = sj_config_get_string(c, "county.code");
    char where[PATH_MAX + 32];
    if (strlen(county) != 6 || strspn(county, "0123456789") != 6 || strcmp(county, "000000") == 0) {
        where_set(c, path, "county.code", where, sizeof(where));
        rc = sj_error_set(err, SJ_ECONFIG_BAD_VALUE,
                          "%s: county.code “%s” 无效，应为6位县级区划代码 (must be the 6-digit "
                          "county code, e.g. 410423)",
                          where, county);
        goto fail;
    }
    memcpy(out->county, county, 7);
    out->batch_size = (int)sj_config_get_int(c, "apply.batch_size");
    out->batch_wait_ms = sj_config_get_duration_ms(c, "apply.batch_wait");
    out->pipeline = sj_config_get_bool(c, "apply.pipeline");
    out->set_based = sj_config_get_bool(c, "apply.set_based");
    out->sweep_interval_ms = sj_config_get_duration_ms(c, "sweep.interval");
    where_set(c, path, "sweep.warn_percents", where, sizeof(where));
    if ((rc = parse_percents(where, sj_config_get_string(c, "sweep.warn_percents"), out, err)) != 0)
        goto fail;
    out->max_frame = sj_config_get_size(c, "limits.max_frame");
    out->log_level = sj_config_get_string(c, "log.level");
    out->log_file = sj_config_get_string(c, "log.file");
    out->metrics_listen = sj_config_get_string(c, "metrics.listen");
    out->max_pending = (int)sj_config_get_int(c, "apply.max_pending");
    out->feed_page = (int)sj_config_get_int(c, "feed.page_size");
    out->idle_timeout_ms = sj_config_get_duration_ms(c, "link.idle_timeout");
    out->handshake_timeout_ms = sj_config_get_duration_ms(c, "link.handshake_timeout");
    out->heartbeat_ms = sj_config_get_duration_ms(c, "link.heartbeat");
    out->retry_max_ms = sj_config_get_duration_ms(c, "database.retry_max");
    out->offline_warn_days = (uint32_t)sj_config_get_int(c, "network.offline_warn_days");
    out->cert_warn_days = (uint32_t)sj_config_get_int(c, "network.cert_warn_days");
    out->rectify_days = (uint32_t)sj_config_get_int(c, "haocha.rectify_days");
    if ((rc = load_duty_and_stars(c, path, out, err)) != 0)
        goto fail;
    out->attach_max_file = sj_config_get_size(c, "attachment.max_file");
    out->attach_max_case = sj_config_get_size(c, "attachment.max_case");
    if ((rc = load_notify(c, path, out, err)) != 0)
        goto fail;
    return 0;
fail:
    countyd_config_free(out);
    return rc;
}

void countyd_config_free(countyd_config *c)
{
    if (c && c->cfg)
        sj_config_free(c->cfg);
    if (c)
        memset(c, 0, sizeof(*c));
}

void countyd_config_links_socket(const countyd_config *cfg, char out[SJ_LINKCTL_NAME_MAX])
{
    sj_linkctl_name("sanji-countyd", cfg->listen ? cfg->listen : "", out);
}
