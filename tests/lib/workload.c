/*
 * workload.c - test helper: seeded generator of realistic case data from
 * the demo county's catalogue and org tree (workload.h has the contract).
 *
 * Entry points: sj_workload_new(), sj_workload_free(), sj_workload_rand(),
 * sj_workload_below(), sj_workload_applicant(), sj_workload_item(),
 * sj_workload_item_level(), sj_workload_text(), sj_workload_village_count(),
 * sj_workload_village(), sj_workload_township_count(),
 * sj_workload_township(), sj_workload_villages_of().
 */
#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "personal.h"

typedef struct wl_item {
    char *code;
    sj_level level;
} wl_item;

typedef struct wl_unit {
    char code[13];
    char *name;
} wl_unit;

struct sj_workload {
    uint64_t s[4];
    wl_item *items;
    size_t n_items;
    wl_unit *villages;
    size_t n_villages;
    wl_unit *townships;
    size_t n_townships;
};

/* ---- PRNG ---------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sj_workload_rand(sj_workload *w)
{
    uint64_t *s = w->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sj_workload_below(sj_workload *w, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Rejection on the top of the range: unbiased, rarely loops. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    for (;;) {
        uint64_t r = sj_workload_rand(w);
        if (r < limit)
            return r % n;
    }
}

/* ---- loading ------------------------------------------------------------- */

/* Splits a CSV line (the demo files have no quoting) into at most max
 * fields in place; returns the number of fields. */
static size_t split_csv(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

static int open_demo(const char *dir, const char *file, FILE **out, char *path, size_t cap,
                     sj_error *err)
{
    int n = snprintf(path, cap, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= cap)
        return sj_error_set(err, SJ_EINVAL, "演示数据目录名太长 (demo_dir too long): %s", dir);
    *out = fopen(path, "r");
    if (!*out)
        return sj_error_set(err, SJ_EIO, "无法读取演示数据 %s：%s (cannot read demo data)", path,
                            strerror(errno));
    return 0;
}

static int load_catalogue(sj_workload *w, const char *dir, sj_error *err)
{
    char path[4096];
    FILE *f;
    int rc = open_demo(dir, "catalogue.csv", &f, path, sizeof path, err);
    if (rc < 0)
        return rc;
    char line[4096];
    size_t lineno = 0, cap = 0;
    bool village_item = false;
    rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[8];
        if (lineno == 1)
            continue; /* header */
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        if (split_csv(line, fld, 8) < 4) {
            rc = sj_error_set(err, SJ_EBAD_FIELD, "%s:%zu: 字段太少 (too few fields)", path, lineno);
            break;
        }
        sj_level lv = sj_level_from_name(fld[3]);
        if (lv == SJ_LEVEL_NONE || fld[0][0] == '\0') {
            rc = sj_error_set(err, SJ_EBAD_FIELD, "%s:%zu: 事项编码或最低层级无效 (bad code or min_level '%s')",
                              path, lineno, fld[3]);
            break;
        }
        if (w->n_items == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            wl_item *n = realloc(w->items, ncap * sizeof *n);
            if (!n) {
                rc = sj_error_set(err, SJ_ENOMEM, NULL);
                break;
            }
            w->items = n;
            cap = ncap;
        }
        char *code = strdup(fld[0]);
        if (!code) {
            rc = sj_error_set(err, SJ_ENOMEM, NULL);
            break;
        }
        w->items[w->n_items].code = code;
        w->items[w->n_items].level = lv;
        w->n_items++;
        if (lv == SJ_LEVEL_VILLAGE)
            village_item = true;
    }
    fclose(f);
    if (rc == 0 && !village_item)
        rc = sj_error_set(err, SJ_EINVAL, "%s: 没有村级可办结的事项 (no village-level item)", path);
    return rc;
}

static int push_unit(wl_unit **arr, size_t *n, size_t *cap, const char *code, const char *name)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        wl_unit *a = realloc(*arr, ncap * sizeof *a);
        if (!a)
            return SJ_ENOMEM;
        *arr = a;
        *cap = ncap;
    }
    wl_unit *u = &(*arr)[*n];
    snprintf(u->code, sizeof u->code, "%s", code);
    u->name = strdup(name);
    if (!u->name)
        return SJ_ENOMEM;
    (*n)++;
    return 0;
}

static int load_orgunits(sj_workload *w, const char *dir, sj_error *err)
{
    char path[4096];
    FILE *f;
    int rc = open_demo(dir, "orgunits.csv", &f, path, sizeof path, err);
    if (rc < 0)
        return rc;
    char line[4096];
    size_t lineno = 0, vcap = 0, tcap = 0;
    rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *fld[4];
        if (lineno == 1 || line[0] == '\n' || line[0] == '\0')
            continue;
        if (split_csv(line, fld, 4) < 3 || strlen(fld[0]) != 12) {
            rc = sj_error_set(err, SJ_EBAD_FIELD, "%s:%zu: 行格式无效 (malformed row)", path, lineno);
            break;
        }
        sj_level lv = sj_level_from_name(fld[2]);
        if (lv == SJ_LEVEL_VILLAGE)
            rc = push_unit(&w->villages, &w->n_villages, &vcap, fld[0], fld[1]);
        else if (lv == SJ_LEVEL_TOWNSHIP)
            rc = push_unit(&w->townships, &w->n_townships, &tcap, fld[0], fld[1]);
        if (rc < 0) {
            sj_error_set(err, rc, NULL);
            break;
        }
    }
    fclose(f);
    if (rc == 0 && (w->n_villages == 0 || w->n_townships == 0))
        rc = sj_error_set(err, SJ_EINVAL, "%s: 没有乡镇或村 (no townships or villages)", path);
    return rc;
}

int sj_workload_new(uint64_t seed, const char *demo_dir, sj_workload **out, sj_error *err)
{
    char dirbuf[4096];
    *out = NULL;
    if (!demo_dir) {
        const char *src = getenv("SANJI_SOURCE_DIR");
        if (!src || !*src)
            return sj_error_set(err, SJ_EINVAL,
                                "未指定演示数据目录，也没有设置 SANJI_SOURCE_DIR "
                                "(no demo_dir and SANJI_SOURCE_DIR unset)");
        snprintf(dirbuf, sizeof dirbuf, "%s/deploy/demo", src);
        demo_dir = dirbuf;
    }
    sj_workload *w = calloc(1, sizeof *w);
    if (!w)
        return sj_error_set(err, SJ_ENOMEM, NULL);
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        w->s[i] = splitmix64(&x);
    int rc = load_catalogue(w, demo_dir, err);
    if (rc == 0)
        rc = load_orgunits(w, demo_dir, err);
    if (rc < 0) {
        sj_workload_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void sj_workload_free(sj_workload *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_items; i++)
        free(w->items[i].code);
    for (size_t i = 0; i < w->n_villages; i++)
        free(w->villages[i].name);
    for (size_t i = 0; i < w->n_townships; i++)
        free(w->townships[i].name);
    free(w->items);
    free(w->villages);
    free(w->townships);
    free(w);
}

/* ---- generators ---------------------------------------------------------- */

static const char *const SURNAMES[] = {
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
    "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
    "程", "曹", "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾",
    "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪", "田", "任", "姜",
};
static const char *const GIVEN_M[] = {
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "建国",
    "建军", "国强", "志强", "永胜", "海军", "金山", "卫东", "红旗", "保国", "新民", "振华",
};
static const char *const GIVEN_F[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂英", "玉兰", "秀兰", "凤英",
    "红梅", "丽娟", "春花", "桂兰", "淑芬", "海燕", "晓燕", "金凤", "翠花", "雪梅", "素芳",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *pick(sj_workload *w, const char *const *arr, size_t n)
{
    return arr[sj_workload_below(w, n)];
}

static int days_in_month(int y, int m)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

void sj_workload_applicant(sj_workload *w, char name[SJ_WORKLOAD_NAME_SIZE],
                           char id_number[SJ_WORKLOAD_ID_SIZE],
                           char phone[SJ_WORKLOAD_PHONE_SIZE])
{
    bool male = sj_workload_below(w, 2) == 0;
    const char *surname = pick(w, SURNAMES, COUNT(SURNAMES));
    const char *given = male ? pick(w, GIVEN_M, COUNT(GIVEN_M)) : pick(w, GIVEN_F, COUNT(GIVEN_F));
    if (name)
        snprintf(name, SJ_WORKLOAD_NAME_SIZE, "%s%s", surname, given);

    if (id_number) {
        int y = 1940 + (int)sj_workload_below(w, 67); /* 1940..2006 */
        int m = 1 + (int)sj_workload_below(w, 12);
        int d = 1 + (int)sj_workload_below(w, (uint64_t)days_in_month(y, m));
        /* Sequence: two digits of police station, then the sex digit (odd for men). */
        int seq2 = (int)sj_workload_below(w, 100);
        int sex = (int)sj_workload_below(w, 5) * 2 + (male ? 1 : 0);
        char first17[32]; /* 17 digits: every value below is in range */
        snprintf(first17, sizeof first17, "410423%04u%02u%02u%02u%u", (unsigned)y % 10000u,
                 (unsigned)m % 100u, (unsigned)d % 100u, (unsigned)seq2 % 100u, (unsigned)sex % 10u);
        memcpy(id_number, first17, 17);
        id_number[17] = sj_personal_id_check_char(first17);
        id_number[18] = '\0';
    }

    if (phone) {
        static const char *const PREFIX[] = {"130", "131", "132", "135", "136", "137", "138",
                                             "139", "150", "151", "152", "155", "156", "157",
                                             "158", "159", "166", "176", "177", "180", "182",
                                             "186", "187", "188", "189", "191", "198", "199"};
        unsigned long rest = (unsigned long)sj_workload_below(w, 100000000);
        snprintf(phone, SJ_WORKLOAD_PHONE_SIZE, "%s%08lu", pick(w, PREFIX, COUNT(PREFIX)), rest);
    }
}

const char *sj_workload_item(sj_workload *w, sj_level level)
{
    /* Count, then pick: the catalogue is small (about 120 items). */
    size_t n = 0;
    for (size_t i = 0; i < w->n_items; i++)
        if (level == SJ_LEVEL_NONE || w->items[i].level <= level)
            n++;
    size_t k = (size_t)sj_workload_below(w, n);
    for (size_t i = 0; i < w->n_items; i++)
        if (level == SJ_LEVEL_NONE || w->items[i].level <= level) {
            if (k-- == 0)
                return w->items[i].code;
        }
    return w->items[0].code; /* unreachable: load ensures a village item */
}

sj_level sj_workload_item_level(const sj_workload *w, const char *code)
{
    for (size_t i = 0; i < w->n_items; i++)
        if (strcmp(w->items[i].code, code) == 0)
            return w->items[i].level;
    return SJ_LEVEL_NONE;
}

size_t sj_workload_text(sj_workload *w, char *buf, size_t cap)
{
    static const char *const WHO[] = {"申请人", "本人", "村民", "户主", "老人", "家属"};
    static const char *const WHY[] = {
        "因年老行动不便，", "因外出务工不在家，", "因家中有病人需照顾，", "因不熟悉办理流程，",
        "因路途较远，",     "因子女在外地，",     "",
    };
    static const char *const WANT[] = {
        "委托村便民服务站代为办理，", "请求代办员帮助办理，", "申请代办，",
        "希望尽快办理，",             "请协助准备材料并代为提交，",
    };
    static const char *const TAIL[] = {
        "材料已带齐。", "相关证件已复印。", "联系电话已留存。", "请办结后电话告知。",
        "部分材料待补。", "谢谢。",
    };
    if (cap == 0)
        return 0;
    char tmp[512];
    int n = snprintf(tmp, sizeof tmp, "%s%s%s%s", pick(w, WHO, COUNT(WHO)),
                     pick(w, WHY, COUNT(WHY)), pick(w, WANT, COUNT(WANT)),
                     pick(w, TAIL, COUNT(TAIL)));
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len >= cap) {
        len = cap - 1;
        /* Back off to the start of a UTF-8 character. */
        while (len > 0 && ((unsigned char)tmp[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(buf, tmp, len);
    buf[len] = '\0';
    return len;
}

/* ---- org units ----------------------------------------------------------- */

size_t sj_workload_village_count(const sj_workload *w)
{
    return w->n_villages;
}

const char *sj_workload_village(const sj_workload *w, size_t i, const char **name)
{
    if (i >= w->n_villages)
        abort(); /* caller's bug */
    if (name)
        *name = w->villages[i].name;
    return w->villages[i].code;
}

size_t sj_workload_township_count(const sj_workload *w)
{
    return w->n_townships;
}

const char *sj_workload_township(const sj_workload *w, size_t i, const char **name)
{
    if (i >= w->n_townships)
        abort(); /* caller's bug */
    if (name)
        *name = w->townships[i].name;
    return w->townships[i].code;
}

size_t sj_workload_villages_of(const sj_workload *w, const char *township, const char **out,
                               size_t max)
{
    size_t n = 0;
    if (!township || strlen(township) != 12)
        return 0;
    for (size_t i = 0; i < w->n_villages; i++) {
        if (strncmp(w->villages[i].code, township, 9) == 0) {
            if (n < max)
                out[n] = w->villages[i].code;
            n++;
        }
    }
    return n;
}
