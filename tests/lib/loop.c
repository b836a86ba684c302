/*
 * loop.c - test helper: running a libuv loop until a condition holds,
 * dialling an sj_conn to 127.0.0.1, and closing what is left on the loop
 * (loop.h has the contract).
 *
 * Entry points: sj_test_loop_init(), sj_test_loop_run_until(),
 * sj_test_loop_connect(), sj_test_loop_close_listener(), sj_test_loop_close().
 */
#include "loop.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"

int sj_test_loop_init(uv_loop_t *loop, uv_timer_t *pulse, uv_timer_cb on_pulse, int every_ms)
{
    int rc = uv_loop_init(loop);
    if (rc == 0) {
        rc = uv_timer_init(loop, pulse);
        if (rc == 0)
            rc = uv_timer_start(pulse, on_pulse, (uint64_t)every_ms, (uint64_t)every_ms);
        if (rc != 0)
            (void)sj_test_loop_close(loop);
    }
    if (rc != 0) {
        fprintf(stderr, "test loop: %s\n", uv_strerror(rc));
        return SJ_EINTERNAL;
    }
    return 0;
}

bool sj_test_loop_run_until(uv_loop_t *loop, bool (*pred)(void *), void *arg, int ms)
{
    int64_t end = sj_clock_mono_ms() + ms;
    while (!pred(arg) && sj_clock_mono_ms() < end)
        uv_run(loop, UV_RUN_ONCE);
    return pred(arg);
}

static void connected(uv_connect_t *req, int status)
{
    sj_conn *c = req->data;
    free(req);
    if (status != 0) {
        sj_conn_close(c, SJ_ECONNECT, NULL);
        return;
    }
    /* A start that fails closes the link itself: on_close tells the test. */
    (void)sj_conn_start(c);
}

int sj_test_loop_connect(sj_conn *c, int port, sj_error *err)
{
    struct sockaddr_in sa;
    int rc = uv_ip4_addr("127.0.0.1", port, &sa);
    if (rc != 0)
        return sj_error_set(err, SJ_ECONNECT, "127.0.0.1:%d: %s", port, uv_strerror(rc));
    uv_connect_t *req = malloc(sizeof *req);
    if (req == NULL)
        return sj_error_set(err, SJ_ENOMEM, "connect request for 127.0.0.1:%d", port);
    req->data = c;
    rc = uv_tcp_connect(req, sj_conn_tcp(c), (const struct sockaddr *)&sa, connected);
    if (rc != 0) {
        free(req);
        return sj_error_set(err, SJ_ECONNECT, "127.0.0.1:%d: %s", port, uv_strerror(rc));
    }
    return 0;
}

static void listener_closed(sj_listener *l)
{
    sj_listener_free(l);
}

void sj_test_loop_close_listener(sj_listener **l)
{
    if (*l == NULL)
        return;
    sj_listener_close(*l, listener_closed);
    *l = NULL;
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int sj_test_loop_close(uv_loop_t *loop)
{
    uv_walk(loop, close_handle, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    return uv_loop_close(loop);
}
