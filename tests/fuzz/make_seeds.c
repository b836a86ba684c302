/*
 * make_seeds.c - writes the seed corpora of fuzz_config, fuzz_csv,
 * fuzz_case, fuzz_identity and fuzz_case_delta, so that the fuzzers start
 * from real inputs:
 *
 *   OUT/config/   deploy/examples/ configurations and filled-in configurations, for
 *                 each key table (first byte 0 relay, 1 county, 2 all types)
 *   OUT/csv/      deploy/demo/ CSV files with the byte of their kind
 *   OUT/case/     every (status, action, role) the state machine accepts
 *                 from a consistent case, and a few refusals, encoded as
 *                 case_input.h reads them
 *   OUT/identity/ node URIs, node ids, ID numbers, phones
 *   OUT/delta/    feed deltas sj_case_delta_make() makes between real steps
 *                 of a case (resolved, materials requested, urged, escalated,
 *                 withdrawn, reopened ...), encoded as delta_input.h reads
 *                 them: on a fixed base and with the base in the input
 *
 * and OUT/NAME.list, the comma-separated file list for libFuzzer's
 * -seed_inputs=@OUT/NAME.list.
 *
 * Usage: make_seeds OUT SOURCE_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "case.h"
#include "case_delta.h"
#include "case_input.h"
#include "delta_input.h"

typedef struct seeds {
    const char *out;
    const char *kind;
    FILE *list;
    size_t n;
    int bad;
} seeds;

static void seeds_begin(seeds *s, const char *out, const char *kind)
{
    char path[4096];
    memset(s, 0, sizeof(*s));
    s->out = out;
    s->kind = kind;
    snprintf(path, sizeof(path), "%s/%s", out, kind);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        s->bad = 1;
    }
    snprintf(path, sizeof(path), "%s/%s.list", out, kind);
    s->list = fopen(path, "w");
    if (s->list == NULL) {
        perror(path);
        s->bad = 1;
    }
}

static int seeds_end(seeds *s)
{
    if (s->list != NULL && fclose(s->list) != 0)
        s->bad = 1;
    if (s->n == 0)
        s->bad = 1;
    return s->bad;
}

/* Writes one seed: prefix (plen bytes) then body. */
static void seed(seeds *s, const char *name, const void *prefix, size_t plen, const void *body,
                 size_t blen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s/%s", s->out, s->kind, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(prefix, 1, plen, f) != plen || fwrite(body, 1, blen, f) != blen) {
        perror(path);
        s->bad = 1;
    }
    if (f != NULL && fclose(f) != 0)
        s->bad = 1;
    if (s->list != NULL)
        fprintf(s->list, "%s%s", s->n ? "," : "", path);
    s->n++;
}

/* A seed from a file of the source tree. */
static void seed_file(seeds *s, const char *name, unsigned char prefix, const char *src,
                      const char *rel)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", src, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        s->bad = 1;
        return;
    }
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    seed(s, name, &prefix, 1, buf, n);
}

static void seed_text(seeds *s, const char *name, unsigned char prefix, const char *text)
{
    seed(s, name, &prefix, 1, text, strlen(text));
}

static void config_seeds(seeds *s, const char *src)
{
    seed_file(s, "relayd_example", 0, src, "deploy/examples/relayd.conf");
    seed_file(s, "countyd_example", 1, src, "deploy/examples/countyd.conf");
    seed_file(s, "client_example", 2, src, "deploy/examples/client.conf");
    seed_text(s, "relayd_filled", 0,
              "# 张官营镇 relay\n[listen]\naddress = 0.0.0.0:7444\n[county]\n"
              "addresses = 10.20.0.1:7443, [fd00::1]:7443\nnode = county:410423000000\n"
              "[tls]\nca = /etc/sanji/ca.crt\ncert = relay.crt\nkey = relay.key\ncrl = \"\"\n"
              "[store]\npath = /var/lib/sanji/relay.db\n[queue]\nquota = 512MiB\n"
              "[upstream]\nwindow = 256\nbackoff_max = 1h\n[results]\nkeep = 30d\n"
              "[link]\nmax_frame = 1MiB\nidle_timeout = 1m30s\nwrite_buffer = 64KiB\n"
              "heartbeat = 15s\n[log]\nlevel = debug\nfile = \"/var/log/sanji relay.log\"\n");
    seed_text(s, "countyd_filled", 1,
              "\xef\xbb\xbf[listen]\r\naddress = 0.0.0.0:7443\r\n[county]\r\ncode = 410423\r\n"
              "[database]\r\nconninfo = \"host=/run/postgresql dbname=sanji\"\r\n"
              "retry_max = 30s\r\n[apply]\r\nbatch_size = 64\r\nbatch_wait = 5ms\r\n"
              "max_pending = 10000\r\n[sweep]\r\ninterval = 60s\r\nwarn_percents = \"50,80\"\r\n"
              "[limits]\r\nmax_frame = 1MB\r\n[feed]\r\npage_size = 256\r\n");
    seed_text(s, "all_types", 2,
              "[a]\ntext = \"鲁山县 张官营镇 \\\"quoted\\\" \\\\ \\t # not a comment\"\n"
              "need = x\nnum = -17\nwide = -9223372036854775808\nflag = On\n"
              "[b]\nwait = 1d2h3m4s5ms\ntick = 250ms\nroom = 18446744073709551615\n"
              "quota = 1TiB\n[c]\nfile = ../relative/path\n"
              "peers = a.example:1, [::ffff:10.0.0.1]:65535,b-c_d:80\n");
    /* Regression: a county address of 300 characters was accepted and cut
     * short by the relay's fixed buffer; hosts are now at most 253. */
    {
        char longhost[400];
        snprintf(longhost, sizeof(longhost), "[county]\naddresses = %0300d:7443\n"
                 "node = county:410423000000\n", 1);
        seed_text(s, "relayd_long_host", 0, longhost);
    }
    /* Regression: an unquoted value of 2,100 bytes with quotes and
     * backslashes loads (its line is under 4095 bytes) but is 4,200 bytes
     * once written back quoted; the harness round-tripped it into a line
     * the parser refuses. */
    {
        char wide[2200];
        size_t n = (size_t)snprintf(wide, sizeof(wide), "[a]\nneed = x\ntext = !");
        for (size_t i = 0; i < 2100; i++)
            wide[n++] = i % 2 ? '"' : '\\';
        wide[n++] = '\n';
        wide[n] = '\0';
        seed_text(s, "all_types_long_escapes", 2, wide);
    }
    seed_text(s, "all_types_errors", 2,
              "[a]\nneed = y\nneed = z\n[b c]\nwait = 5x\n[c]\npeers = host\n");
}

static void csv_seeds(seeds *s, const char *src)
{
    static const struct {
        const char *file;
        unsigned char kind; /* fuzz_csv: COUNTYD_IMPORT_ORGUNITS + byte % 5 */
    } files[] = {
        {"orgunits.csv", 0},  {"catalogue_categories.csv", 1}, {"catalogue.csv", 2},
        {"persons.csv", 3},   {"holidays.csv", 4},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char rel[256];
        snprintf(rel, sizeof(rel), "deploy/demo/%s", files[i].file);
        seed_file(s, files[i].file, files[i].kind, src, rel);
    }
    seed_text(s, "quoted_catalogue", 2,
              "code,category,name,min_level,department,limit_days,urgent_limit_days,materials\r\n"
              "X-1,MZ,\"名称, 带逗号\",village,\"县\"\"民政\"\"局\",5,,\"a|\"\"b\"\"|c\\d\"\r\n"
              "X-2,MZ,\"两行\n名称\",county,县民政局,30,10,居民身份证|户口簿\r\n");
    /* Regression: eight materials of one escaped quote each overran the
     * array literal's buffer in import.c's materials_array(). */
    seed_text(s, "catalogue_quoted_materials", 2,
              "code,category,name,min_level,department,limit_days,urgent_limit_days,materials\n"
              "X,MZ,n,village,d,5,,\"\"\"|\"\"|\"\"|\"\"|\"\"|\"\"|\"\"|\"\"\"\n");
    /* Regression: a header longer than 255 bytes moved a pointer past the
     * header buffer in import.c's check_shape(). */
    seed_text(s, "long_header", 4,
              "date,kind,name,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              ",b\n2026-01-01,holiday,元旦,x,y\n");
    /* Regression: a CR without LF ended a record in mid-line. */
    seed_text(s, "bare_cr", 0, "code,name,level,parent\n410423000000,鲁山县\r县,county,\n");
    seed_text(s, "holidays_bad", 4,
              "date,kind,name\n2026-02-30,holiday,x\n2026-01-05,workday,\n2026-01-01,rest,\"\"\n");
}

static sj_level role_level(sj_person_role r)
{
    return sj_role_level(r);
}

static sj_case_status handling_status(sj_level l)
{
    return l == SJ_LEVEL_VILLAGE    ? SJ_STATUS_REGISTERED
           : l == SJ_LEVEL_TOWNSHIP ? SJ_STATUS_ACCEPTED_TOWNSHIP
                                    : SJ_STATUS_ACCEPTED_COUNTY;
}

static void case_seeds(seeds *s)
{
    static const char texts[] = "申请人已到场\0已办结：低保已批准\0县民政局\0县民政局\0"
                                "上次的结果\0\0410423101201\0户口本\0身份证复印件";
    static const sj_person_role roles[] = {SJ_ROLE_VILLAGE_CADRE, SJ_ROLE_TOWNSHIP_STAFF,
                                           SJ_ROLE_COUNTY_OPERATOR, SJ_ROLE_SYSTEM};
    bool seen[SJ_STATUS_COUNT][SJ_ACTION_COUNT][4][SJ_STATUS_COUNT];
    memset(seen, 0, sizeof(seen));
    size_t refusals = 0;
    /* REGISTER by the village's cadre, and by its township (refused). */
    for (size_t r = 0; r < 2; r++) {
        fuzz_case_seed cs = {.status = SJ_STATUS_NONE, .item_min_level = SJ_LEVEL_TOWNSHIP,
                             .role = roles[r], .actor_level = role_level(roles[r]),
                             .action = SJ_ACTION_REGISTER, .at = 1};
        uint8_t h[FUZZ_CASE_HEADER];
        fuzz_case_input_header(&cs, h);
        seed(s, r ? "register-township_staff" : "register-village_cadre", h, sizeof(h), texts,
             sizeof(texts) - 1);
    }
    for (int st = SJ_STATUS_REGISTERED; st < SJ_STATUS_COUNT; st++)
        for (int hl = SJ_LEVEL_VILLAGE; hl <= SJ_LEVEL_COUNTY; hl++)
            for (int rl = SJ_LEVEL_VILLAGE; rl <= SJ_LEVEL_COUNTY; rl++)
                for (int ac = SJ_ACTION_RESOLVE_AT_ONCE; ac < SJ_ACTION_COUNT; ac++)
                    for (size_t r = 0; r < 4; r++)
                        for (int sat = 1; sat <= 3; sat += 2) {
                            fuzz_case_seed cs = {
                                .status = (sj_case_status)st,
                                .resume_status = handling_status((sj_level)hl),
                                .holder_level = (sj_level)hl,
                                .item_min_level = SJ_LEVEL_VILLAGE,
                                .resolved_level = (sj_level)rl,
                                .flags = 4,
                                .warn_level = 0,
                                .materials_rounds = 1,
                                .version = 3,
                                .role = roles[r],
                                .actor_level = role_level(roles[r]),
                                .action = (sj_case_action)ac,
                                .at = 1,
                                .act_satisfaction = (sj_satisfaction)sat,
                                .warn_percent = 50,
                                .n_act_materials = 2,
                                .n_cur_materials = 2,
                                /* a message waits, attempt 2 retried (bit 7) */
                                .notify = ac == SJ_ACTION_NOTIFY_FAILED ? (1 | 2 << 3 | 128)
                                          : ac == SJ_ACTION_NOTIFIED    ? (1 | 2 << 3)
                                                                        : 0,
                                /* assigned, with a carrier, by the person
                                 * "p-x"; ASSIGN and SET_CARRIER name
                                 * "p-new" (the carrier: refused, already) */
                                .persons = (uint8_t)(2 | 8 |
                                                     (ac == SJ_ACTION_ASSIGN ||
                                                              ac == SJ_ACTION_SET_CARRIER
                                                          ? 1
                                                          : 0)),
                            };
                            uint8_t h[FUZZ_CASE_HEADER];
                            fuzz_case_input_header(&cs, h);
                            uint8_t in[FUZZ_CASE_HEADER + sizeof(texts)];
                            memcpy(in, h, sizeof(h));
                            memcpy(in + sizeof(h), texts, sizeof(texts) - 1);
                            fuzz_case_input fi;
                            if (fuzz_case_input_decode(in, sizeof(in) - 1, &fi) != 0) {
                                s->bad = 1;
                                return;
                            }
                            sj_case_outcome o;
                            sj_error err;
                            int rc = sj_case_apply(&fi.cur, &fi.act, &fi.actor, &o, &err);
                            fuzz_case_input_free(&fi);
                            char name[96];
                            if (rc == 0) {
                                if (seen[st][ac][r][o.next.status])
                                    continue;
                                seen[st][ac][r][o.next.status] = true;
                                snprintf(name, sizeof(name), "%s-%s-%s-%s",
                                         sj_case_status_name((sj_case_status)st),
                                         sj_case_action_name((sj_case_action)ac),
                                         sj_role_name(roles[r]),
                                         sj_case_status_name(o.next.status));
                            } else if (rc != SJ_EINVAL && refusals < 40 &&
                                       (hl * 7 + ac * 3 + (int)r + st) % 37 == 0) {
                                snprintf(name, sizeof(name), "refused-%zu-%s", refusals++,
                                         sj_err_name(rc));
                            } else {
                                continue;
                            }
                            seed(s, name, in, FUZZ_CASE_HEADER, in + FUZZ_CASE_HEADER,
                                 sizeof(texts) - 1);
                        }
}

static void identity_seeds(seeds *s)
{
    static const char *const texts[] = {
        "sanji:village:410423101201",
        "sanji:relay:410423101000",
        "sanji:township-desk:410423101000",
        "sanji:county-desk:410423000000:ops1",
        "sanji:county:410423000000",
        "village:410423101201:station-2",
        "410423199001011234",
        "11010519491231002X",
        "13800138000",
        "0375-5012345",
        "03755012345",
        "010-12345678",
        "张三李四王五赵六",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "text-%02zu", i);
        /* A capacity that fits, and for some one that does not. */
        seed_text(s, name, 64, texts[i]);
        if (i % 3 == 0) {
            snprintf(name, sizeof(name), "text-%02zu-small", i);
            seed_text(s, name, (unsigned char)(strlen(texts[i]) / 2), texts[i]);
        }
    }
}

/* One step of a case, as the relay sends it: the delta from base to next,
 * on the fixed base (mode base << 2) and with the base in the input. */
static void delta_seed(seeds *s, const char *name, unsigned base_no, const Sanji__Case *base,
                       const Sanji__Case *next)
{
    Sanji__CaseDelta *d = NULL;
    sj_error err;
    if (sj_case_delta_make(base, next, &d, &err) != 0) {
        fprintf(stderr, "delta %s: %s\n", name, err.message);
        s->bad = 1;
        return;
    }
    static const uint8_t modes[] = {0, FUZZ_DELTA_SPLIT};
    for (size_t m = 0; m < sizeof modes; m++) {
        uint8_t mode = (uint8_t)(modes[m] | base_no << 2);
        size_t len;
        uint8_t *in = fuzz_delta_encode(mode, base, d, &len);
        if (in == NULL) {
            s->bad = 1;
            break;
        }
        char file[64];
        snprintf(file, sizeof(file), "%s-%s", name, m ? "split" : "fixed");
        seed(s, file, in, 1, in + 1, len - 1);
        free(in);
    }
    sanji__case_delta__free_unpacked(d, NULL);
}

static void delta_seeds(seeds *s)
{
    static char *more[] = {"户口簿", "收入证明", "残疾证", "村委会证明"};
    Sanji__Case base, next;
    Sanji__Applicant ba, na, masked;

    /* Accepted by the township (base 0). */
    fuzz_delta_base(0, &base, &ba);
    fuzz_delta_base(0, &next, &na);
    delta_seed(s, "unchanged", 0, &base, &next);
    next.urge_count = 2; /* 催办: the version stays */
    next.updated_at_ms += 3600000;
    delta_seed(s, "urged", 0, &base, &next);
    fuzz_delta_base(0, &next, &na);
    next.status = SANJI__CASE_STATUS__CASE_STATUS_WAITING_MATERIALS;
    next.resume_status = SANJI__CASE_STATUS__CASE_STATUS_ACCEPTED_TOWNSHIP;
    next.version = 5;
    next.materials = more;
    next.n_materials = 4;
    next.materials_rounds = 2;
    next.paused_at_ms = 1700100000000;
    next.updated_at_ms = 1700100000000;
    next.notify_state = SANJI__NOTIFY_STATE__NOTIFY_STATE_PENDING;
    delta_seed(s, "materials", 0, &base, &next);
    fuzz_delta_base(0, &next, &na);
    next.status = SANJI__CASE_STATUS__CASE_STATUS_RESOLVED;
    next.version = 5;
    next.result = "已纳入低保，按月发放";
    next.resolved_level = SANJI__LEVEL__LEVEL_TOWNSHIP;
    next.resolved_unit = "410423101000";
    next.handling = SANJI__HANDLING_TYPE__HANDLING_UNDERTAKEN;
    next.materials = NULL;
    next.n_materials = 0;
    next.assignee = "";
    next.assignee_name = "";
    next.notify_state = SANJI__NOTIFY_STATE__NOTIFY_STATE_PENDING;
    next.updated_at_ms = 1700200000000;
    delta_seed(s, "resolved", 0, &base, &next);
    fuzz_delta_base(0, &next, &na);
    sanji__applicant__init(&masked); /* the county sees the applicant masked */
    masked.name = "张*";
    masked.id_number = "4104**********1234";
    masked.phone = "138****0000";
    next.applicant = &masked;
    next.status = SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_COUNTY;
    next.holder_level = SANJI__LEVEL__LEVEL_COUNTY;
    next.holder_unit = "410423000000";
    next.version = 5;
    next.reached_county = 1;
    next.assignee = "";
    next.assignee_name = "";
    delta_seed(s, "escalated", 0, &base, &next);

    /* Just registered at the village (base 1). */
    fuzz_delta_base(1, &base, &ba);
    fuzz_delta_base(1, &next, &na);
    next.number = "410423-20261124-00017";
    next.status = SANJI__CASE_STATUS__CASE_STATUS_ESCALATED_TOWNSHIP;
    next.holder_level = SANJI__LEVEL__LEVEL_TOWNSHIP;
    next.holder_unit = "410423101000";
    next.version = 2;
    next.escalated = 1;
    next.due_at_ms = 1764259200000;
    next.updated_at_ms = 1764000600000;
    delta_seed(s, "to-township", 1, &base, &next);
    fuzz_delta_base(1, &next, &na);
    next.status = SANJI__CASE_STATUS__CASE_STATUS_WITHDRAWN;
    next.version = 2;
    next.return_reason = "申请人撤回";
    next.closed_at_ms = 1764003600000;
    next.applicant = NULL;
    next.urgent = 0;
    delta_seed(s, "withdrawn", 1, &base, &next);

    /* Closed after a 差评 (base 2). */
    fuzz_delta_base(2, &base, &ba);
    fuzz_delta_base(2, &next, &na);
    next.status = SANJI__CASE_STATUS__CASE_STATUS_UNSATISFIED;
    next.version = 10;
    next.closed_at_ms = 0;
    next.satisfaction = SANJI__SATISFACTION__SATISFACTION_UNSPECIFIED;
    next.rectified_at_ms = 0;
    next.called_back_at_ms = 0;
    next.rectify_late = 1;
    next.notify_state = SANJI__NOTIFY_STATE__NOTIFY_STATE_FAILED;
    next.notify_attempts = 3;
    delta_seed(s, "reopened", 2, &base, &next);

    /* A station's stored case from a newer county (field 900, varint 7,
     * which this program does not know) and the delta made from the same
     * case without it: refused, the station needs the case whole. */
    fuzz_delta_base(0, &base, &ba);
    fuzz_delta_base(0, &next, &na);
    next.urge_count = 2;
    Sanji__CaseDelta *d = NULL;
    sj_error err;
    size_t blen = sanji__case__get_packed_size(&base);
    uint8_t *bytes = malloc(blen + 3);
    Sanji__Case *newer = NULL;
    if (bytes != NULL) {
        sanji__case__pack(&base, bytes);
        memcpy(bytes + blen, "\xa0\x38\x07", 3);
        newer = sanji__case__unpack(NULL, blen + 3, bytes);
    }
    uint8_t *in = NULL;
    size_t len = 0;
    if (newer != NULL && sj_case_delta_make(&base, &next, &d, &err) == 0)
        in = fuzz_delta_encode(FUZZ_DELTA_SPLIT, newer, d, &len);
    if (in != NULL)
        seed(s, "newer-base-split", in, 1, in + 1, len - 1);
    else
        s->bad = 1;
    free(in);
    free(bytes);
    if (d != NULL)
        sanji__case_delta__free_unpacked(d, NULL);
    if (newer != NULL)
        sanji__case__free_unpacked(newer, NULL);

    /* Regression: a delta on base 0 whose set's Applicant holds an unknown
     * field 0 spelled in two bytes (0x80 0x00), which protobuf-c reads but
     * cannot read back once packed: sj_case_delta_make() from the base to
     * that set said "out of memory" instead of refusing the unknown field
     * (test_case_delta's test_unknown_applicant_fields). */
    static const uint8_t tag_zero[] = {
        0x00, 0x70, 0x05, 0x0a, 0x52, 0x0a, 0x10, 0x01, 0x8c, 0x3f, 0x20, 0x11, 0x22, 0x73, 0x44,
        0x95, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0x32, 0x29, 0x0a, 0x06, 0xe5, 0xbc, 0xa0,
        0xe4, 0xb8, 0x89, 0x12, 0x12, 0x34, 0x31, 0x30, 0x34, 0x32, 0x33, 0x31, 0x39, 0x39, 0x30,
        0x30, 0x31, 0x30, 0x31, 0x31, 0x00, 0x00, 0x60, 0x80, 0x00, 0x27, 0xa0, 0xe3, 0x30, 0x30,
        0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x5a, 0x0c, 0x34, 0x33, 0x30, 0x32, 0x30, 0x31, 0x30,
        0x30, 0x30, 0x30, 0x30, 0x30, 0x60, 0x04, 0x70, 0x05, 0x98, 0x02, 0x2e};
    seed(s, "applicant-tag-zero", tag_zero, 1, tag_zero + 1, sizeof tag_zero - 1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_seeds OUT SOURCE_DIR\n");
        return 2;
    }
    int bad = 0;
    seeds s;
    seeds_begin(&s, argv[1], "config");
    config_seeds(&s, argv[2]);
    bad |= seeds_end(&s);
    seeds_begin(&s, argv[1], "csv");
    csv_seeds(&s, argv[2]);
    bad |= seeds_end(&s);
    seeds_begin(&s, argv[1], "case");
    case_seeds(&s);
    bad |= seeds_end(&s);
    seeds_begin(&s, argv[1], "identity");
    identity_seeds(&s);
    bad |= seeds_end(&s);
    seeds_begin(&s, argv[1], "delta");
    delta_seeds(&s);
    bad |= seeds_end(&s);
    return bad;
}
