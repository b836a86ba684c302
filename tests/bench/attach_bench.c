/*
 * attach_bench.c - sanji-attach-bench: one station client (the library,
 * one link, as a desk holds it) attaches a file to a case and, while the
 * upload runs, registers a case every few seconds; it prints the upload's
 * time (saved -> every chunk recorded by the county) and each
 * registration's latency (saved -> recorded by the county).  Run through
 * sanji-faultproxy by tests/bench/attach_costs.sh (docs/PERFORMANCE.md
 * "Attachments on a village line"); a benchmark, not a test.
 *
 *   sanji-attach-bench CONFIG CASE FILE|- [ACTIONS] [EVERY_MS]
 *
 * FILE "-" attaches nothing: the registrations alone, for comparison.
 *
 * Entry point: main().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "clock.h"
#include "client_config.h"
#include "sanji_client.h"
#include "uuid.h"

#define MAX_ACTIONS 64

typedef struct bench {
    uv_loop_t loop;
    uv_timer_t tick, act;
    sc_client *c;
    uint8_t case_id[16], attachment_id[16];
    const char *file;
    int actions, every_ms, sent, done_actions;
    bool started, attached, upload_done;
    int64_t t_attach, t_upload;
    uint8_t msg[MAX_ACTIONS][16];
    int64_t saved_at[MAX_ACTIONS], latency[MAX_ACTIONS];
    int failed;
} bench;

static void finish(bench *b)
{
    uv_timer_stop(&b->tick);
    uv_timer_stop(&b->act);
    uv_stop(&b->loop);
}

static void maybe_finish(bench *b)
{
    if ((b->upload_done || !b->file) && b->done_actions == b->sent && b->sent == b->actions)
        finish(b);
}

static void on_act(uv_timer_t *t)
{
    bench *b = t->data;
    if (b->sent >= b->actions)
        return;
    char name[32];
    snprintf(name, sizeof name, "测试%d", b->sent + 1);
    sc_register_req req = {.item_code = "MZ-001",
                           .applicant_name = name,
                           .id_number = "11010519491231002X",
                           .phone = "13800138000",
                           .request_text = "带宽测试"};
    sj_error err;
    b->saved_at[b->sent] = sj_clock_mono_ms();
    if (sc_register(b->c, &req, NULL, b->msg[b->sent], &err) != 0) {
        fprintf(stderr, "register: %s\n", err.message);
        b->failed = 1;
        finish(b);
        return;
    }
    b->sent++;
}

static void on_tick(uv_timer_t *t)
{
    bench *b = t->data;
    if (!b->file || b->upload_done)
        return;
    sc_attach_row *rows = NULL;
    size_t n = 0;
    sj_error err;
    if (sc_attachments(b->c, b->case_id, &rows, &n, &err) == 0)
        for (size_t i = 0; i < n; i++)
            if (memcmp(rows[i].attachment_id, b->attachment_id, 16) == 0 &&
                rows[i].chunks_applied >= rows[i].chunk_count) {
                b->upload_done = true;
                b->t_upload = sj_clock_mono_ms() - b->t_attach;
            }
    free(rows);
    maybe_finish(b);
}

static void start(bench *b)
{
    sj_error err;
    if (b->file) {
        FILE *f = fopen(b->file, "rb");
        if (!f) {
            perror(b->file);
            b->failed = 1;
            finish(b);
            return;
        }
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *data = malloc(len > 0 ? (size_t)len : 1);
        size_t got = data ? fread(data, 1, (size_t)len, f) : 0;
        fclose(f);
        b->t_attach = sj_clock_mono_ms();
        if (got != (size_t)len ||
            sc_attach(b->c, b->case_id, b->file, data, got, NULL, b->attachment_id, &err) != 0) {
            fprintf(stderr, "attach: %s\n", got == (size_t)len ? err.message : "read failed");
            free(data);
            b->failed = 1;
            finish(b);
            return;
        }
        free(data);
    }
    uv_timer_start(&b->tick, on_tick, 200, 200);
    uv_timer_start(&b->act, on_act, (uint64_t)b->every_ms / 2, (uint64_t)b->every_ms);
}

static void on_event(sc_client *c, const sc_event *ev, void *data)
{
    bench *b = data;
    (void)c;
    if (ev->type == SC_EV_CAUGHT_UP && !b->started) {
        b->started = true;
        start(b);
        return;
    }
    if ((ev->type == SC_EV_APPLIED || ev->type == SC_EV_REFUSED) && ev->message_id)
        for (int i = 0; i < b->sent; i++)
            if (memcmp(ev->message_id, b->msg[i], 16) == 0 && b->latency[i] == 0) {
                b->latency[i] = sj_clock_mono_ms() - b->saved_at[i];
                if (ev->type == SC_EV_REFUSED)
                    fprintf(stderr, "registration %d refused: %s\n", i + 1, ev->reason);
                b->done_actions++;
                maybe_finish(b);
            }
}

static int cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, c = *(const int64_t *)y;
    return (a > c) - (a < c);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sanji-attach-bench CONFIG CASE FILE|- [ACTIONS] [EVERY_MS]\n");
        return 2;
    }
    static bench b;
    b.file = strcmp(argv[3], "-") == 0 ? NULL : argv[3];
    b.actions = argc > 4 ? atoi(argv[4]) : 10;
    b.every_ms = argc > 5 ? atoi(argv[5]) : 3000;
    if (b.actions < 1 || b.actions > MAX_ACTIONS || b.every_ms < 1)
        return 2;
    sj_error err;
    if (sj_uuid_parse(argv[2], b.case_id, &err) != 0) {
        fprintf(stderr, "case: %s\n", err.message);
        return 2;
    }
    sc_loaded_config cfg;
    if (sc_config_load(argv[1], &cfg, &err) != 0) {
        fprintf(stderr, "config: %s\n", err.message);
        return 1;
    }
    uv_loop_init(&b.loop);
    uv_timer_init(&b.loop, &b.tick);
    uv_timer_init(&b.loop, &b.act);
    b.tick.data = b.act.data = &b;
    if (sc_client_new(&b.loop, &cfg.client, on_event, &b, &b.c, &err) != 0 ||
        sc_use_person(b.c, &err) != 0 || sc_client_start(b.c, &err) != 0) {
        fprintf(stderr, "client: %s\n", err.message);
        return 1;
    }
    uv_run(&b.loop, UV_RUN_DEFAULT);
    sc_client_stop(b.c, NULL);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    sc_client_free(b.c);
    uv_close((uv_handle_t *)&b.tick, NULL);
    uv_close((uv_handle_t *)&b.act, NULL);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    uv_loop_close(&b.loop);
    sc_config_release(&cfg);
    if (b.failed)
        return 1;
    int64_t lat[MAX_ACTIONS];
    memcpy(lat, b.latency, sizeof(int64_t) * (size_t)b.sent);
    qsort(lat, (size_t)b.sent, sizeof lat[0], cmp);
    if (b.file)
        printf("upload %.1f s", (double)b.t_upload / 1000.0);
    else
        printf("no upload");
    printf("; %d registrations saved -> recorded by the county: min %" PRId64 " ms, median %" PRId64
           " ms, max %" PRId64 " ms\n",
           b.sent, lat[0], lat[b.sent / 2], lat[b.sent - 1]);
    return 0;
}
