/*
 * sqlstore.c - the careful opening of a Sanji SQLite store: check, refuse,
 * or create; never reset (see sqlstore.h).  SQLite's failures are mapped to
 * SJ_E* codes here, with SQLite's own text kept in the message.
 *
 * Entry points: sj_sqlstore_open(), sj_sqlstore_meta_get().
 */
#include "sqlstore.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A database that SQLite cannot read as one, or finds broken. */
static bool damaged_code(int rc)
{
    return (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT;
}

static int damaged(const char *path, const sj_sqlstore_spec *spec, sj_error *err,
                   const char *detail)
{
    return sj_error_set(err, SJ_ESTORE_CORRUPT,
                        "%s %s 已损坏（%s），未做任何改动；%s (the %s %s is damaged: %s; nothing "
                        "was changed. %s)",
                        spec->kind_zh, path, detail, spec->damaged_zh, spec->kind_en, path, detail,
                        spec->damaged_en);
}

static int not_ours(const char *path, const sj_sqlstore_spec *spec, sj_error *err)
{
    return sj_error_set(err, SJ_ESTORE_FOREIGN,
                        "%s 不是三级%s文件，未做任何改动；请检查配置中的 store.path (%s is not a "
                        "Sanji %s; nothing was changed. Check store.path in the configuration)",
                        path, spec->kind_zh, path, spec->kind_en);
}

static int exec_sql(sqlite3 *db, const char *path, const sj_sqlstore_spec *spec, const char *sql,
                    sj_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    char text[256];
    snprintf(text, sizeof text, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    if (damaged_code(rc))
        return damaged(path, spec, err, text);
    return sj_error_set(err, SJ_EDB, "%s %s 出错：%s (%s error: %s)", spec->kind_zh, path, text,
                        spec->kind_en, text);
}

/* The number of schema objects, or a SQLite result code. */
static int count_objects(sqlite3 *db, int *n)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *n = sqlite3_column_int(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

static int check_integrity(sqlite3 *db, const char *path, const sj_sqlstore_spec *spec,
                           sj_error *err)
{
    sqlite3_stmt *s = NULL;
    const char *sql = spec->full_check ? "PRAGMA integrity_check" : "PRAGMA quick_check";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return damaged(path, spec, err, sqlite3_errmsg(db));
    char first[256] = "";
    if (sqlite3_step(s) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        snprintf(first, sizeof first, "%s", t ? (const char *)t : "");
    } else {
        snprintf(first, sizeof first, "%s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return strcmp(first, "ok") == 0 ? 0 : damaged(path, spec, err, first);
}

int sj_sqlstore_meta_get(sqlite3 *db, const char *key, char *buf, size_t cap)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &s, NULL) != SQLITE_OK)
        return SJ_EDB;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    int rc = step == SQLITE_DONE ? SJ_ENOTFOUND : SJ_EDB;
    if (step == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        snprintf(buf, cap, "%s", t ? (const char *)t : "");
        rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

static int check_meta(sqlite3 *db, const char *path, const sj_sqlstore_spec *spec,
                      const char *node_id, sj_sqlstore_info *info, sj_error *err)
{
    char marker[128] = "", version[32] = "", node[sizeof info->node_id] = "";
    if (sj_sqlstore_meta_get(db, spec->key_marker, marker, sizeof marker) != 0 ||
        strcmp(marker, spec->marker) != 0)
        return not_ours(path, spec, err);
    char *end = NULL;
    long v = -1;
    if (sj_sqlstore_meta_get(db, spec->key_version, version, sizeof version) == 0) {
        /* errno only after SQLite's own calls: in rollback-journal mode its
         * look for a hot journal leaves ENOENT behind, which is no error of
         * the number (a store copied by sanji-backup-store.sh is in that
         * mode until the program turns WAL on again). */
        errno = 0;
        v = strtol(version, &end, 10);
    }
    if (v < 0 || v > INT_MAX || errno != 0 || !end || end == version || *end != '\0')
        return damaged(path, spec, err, "meta: format version missing or unreadable");
    if (v > spec->format_version || (v < spec->format_version && !spec->accept_older))
        return sj_error_set(err, SJ_ESTORE_FOREIGN,
                            "%s 的格式版本为 %ld，本程序只认识 %d%s；未做任何改动，请使用与之匹配的 "
                            "%s 版本 (%s has %s format version %ld; this program knows %d%s. "
                            "Nothing was changed; run the matching %s)",
                            path, v, spec->format_version, spec->accept_older ? " 及更早" : "",
                            spec->program, path, spec->kind_en, v, spec->format_version,
                            spec->accept_older ? " and older" : "", spec->program);
    if (sj_sqlstore_meta_get(db, spec->key_node, node, sizeof node) != 0)
        return sj_error_set(err, SJ_ESTORE_FOREIGN,
                            "%s 没有记录所属节点，未做任何改动；请检查 store.path (%s names no "
                            "node in its meta table; nothing was changed. Check store.path)",
                            path, path);
    if (node_id && strcmp(node, node_id) != 0)
        return sj_error_set(err, SJ_ESTORE_FOREIGN,
                            "%s 属于另一个节点 %s，而本机证书是 %s；未做任何改动。请检查 "
                            "store.path 和证书是否配错，每个节点使用自己的存储文件 (%s belongs to "
                            "%s but this node's certificate says %s; nothing was changed. Check "
                            "store.path and the certificate)",
                            path, node, node_id, path, node, node_id);
    info->format_version = (int)v;
    snprintf(info->node_id, sizeof info->node_id, "%s", node);
    return 0;
}

static int create(sqlite3 *db, const char *path, const sj_sqlstore_spec *spec,
                  const char *node_id, sj_sqlstore_info *info, sj_error *err)
{
    int rc = exec_sql(db, path, spec, "BEGIN IMMEDIATE", err);
    if (rc != 0)
        return rc;
    rc = exec_sql(db, path, spec, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
                  err);
    if (rc == 0)
        rc = exec_sql(db, path, spec, spec->schema, err);
    if (rc == 0) {
        sqlite3_stmt *s = NULL;
        char ver[16];
        snprintf(ver, sizeof ver, "%d", spec->format_version);
        const char *kv[3][2] = {
            {spec->key_marker, spec->marker}, {spec->key_version, ver}, {spec->key_node, node_id}};
        if (sqlite3_prepare_v2(db, "INSERT INTO meta (key, value) VALUES (?, ?)", -1, &s, NULL) !=
            SQLITE_OK)
            rc = sj_error_set(err, SJ_EDB, "%s %s 出错：%s (%s error: %s)", spec->kind_zh, path,
                              sqlite3_errmsg(db), spec->kind_en, sqlite3_errmsg(db));
        for (size_t i = 0; rc == 0 && i < 3; i++) {
            sqlite3_reset(s);
            sqlite3_bind_text(s, 1, kv[i][0], -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, kv[i][1], -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE)
                rc = sj_error_set(err, SJ_EDB, "%s %s 出错：%s (%s error: %s)", spec->kind_zh,
                                  path, sqlite3_errmsg(db), spec->kind_en, sqlite3_errmsg(db));
        }
        sqlite3_finalize(s);
    }
    if (rc == 0)
        rc = exec_sql(db, path, spec, "COMMIT", err);
    if (rc != 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    info->created = true;
    info->format_version = spec->format_version;
    snprintf(info->node_id, sizeof info->node_id, "%s", node_id);
    return 0;
}

int sj_sqlstore_open(const char *path, const sj_sqlstore_spec *spec, const char *node_id,
                     bool read_only, sqlite3 **db, sj_sqlstore_info *info, sj_error *err)
{
    *db = NULL;
    sj_sqlstore_info scratch;
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof(*info));
    if (!path || !*path || !spec || (!read_only && (!node_id || !*node_id)))
        return sj_error_set(err, SJ_EINVAL, "sj_sqlstore_open: path, spec and (for writing) the "
                                            "node id are required");
    if (node_id && strlen(node_id) >= sizeof info->node_id)
        return sj_error_set(err, SJ_EINVAL, "sj_sqlstore_open: node id too long");
    sqlite3 *d = NULL;
    int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;
    int rc;
    if (sqlite3_open_v2(path, &d, flags, NULL) != SQLITE_OK) {
        const char *why = d ? sqlite3_errmsg(d) : "out of memory";
        rc = sj_error_set(err, SJ_EIO,
                          "无法打开%s %s：%s；请检查路径和权限 (cannot open the %s %s: %s; check "
                          "the path and its permissions)",
                          spec->kind_zh, path, why, spec->kind_en, path, why);
        goto fail;
    }
    sqlite3_busy_timeout(d, 5000);
    int n = 0;
    int src = count_objects(d, &n);
    if (damaged_code(src)) {
        rc = damaged(path, spec, err, sqlite3_errmsg(d));
        goto fail;
    }
    if (src != SQLITE_OK) {
        rc = sj_error_set(err, SJ_EIO, "无法读取%s %s：%s (cannot read the %s %s: %s)",
                          spec->kind_zh, path, sqlite3_errmsg(d), spec->kind_en, path,
                          sqlite3_errmsg(d));
        goto fail;
    }
    if (n == 0) {
        if (read_only) {
            rc = sj_error_set(err, SJ_ENOTFOUND,
                              "%s 中没有%s数据；%s 是否用它运行过？(%s holds no %s data; has %s "
                              "ever run with this store?)",
                              path, spec->kind_zh, spec->program, path, spec->kind_en,
                              spec->program);
            goto fail;
        }
        if ((rc = exec_sql(d, path, spec, "PRAGMA journal_mode=WAL", err)) != 0 ||
            (rc = create(d, path, spec, node_id, info, err)) != 0)
            goto fail;
    } else {
        if ((rc = check_integrity(d, path, spec, err)) != 0 ||
            (rc = check_meta(d, path, spec, node_id, info, err)) != 0)
            goto fail;
        if (!read_only && (rc = exec_sql(d, path, spec, "PRAGMA journal_mode=WAL", err)) != 0)
            goto fail;
    }
    if (!read_only && (rc = exec_sql(d, path, spec, "PRAGMA synchronous=FULL", err)) != 0)
        goto fail;
    *db = d;
    return 0;
fail:
    sqlite3_close(d);
    return rc;
}
