/*
 * desk-loop-source.c - a GSource that drives a libuv loop (see
 * desk-loop-source.h).
 *
 * Entry points: desk_loop_source_new().
 */
#include "desk-loop-source.h"

typedef struct {
    GSource base;
    uv_loop_t *loop;
    gpointer fd_tag;
    gint64 deadline_us;   /* monotonic time the loop's next timer is due; -1: none */
} DeskLoopSource;

static gboolean loop_prepare(GSource *source, gint *timeout)
{
    DeskLoopSource *s = (DeskLoopSource *)source;
    uv_update_time(s->loop);
    int t = uv_backend_timeout(s->loop);
    *timeout = t;
    s->deadline_us = t < 0 ? -1 : g_source_get_time(source) + (gint64)t * 1000;
    /* 0: idle handles, pending callbacks or closing handles want a turn now. */
    return t == 0;
}

static gboolean loop_check(GSource *source)
{
    DeskLoopSource *s = (DeskLoopSource *)source;
    if (g_source_query_unix_fd(source, s->fd_tag) & (G_IO_IN | G_IO_ERR | G_IO_HUP))
        return TRUE;
    return s->deadline_us >= 0 && g_source_get_time(source) >= s->deadline_us;
}

static gboolean loop_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    DeskLoopSource *s = (DeskLoopSource *)source;
    uv_run(s->loop, UV_RUN_NOWAIT);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs loop_funcs = {
    .prepare = loop_prepare,
    .check = loop_check,
    .dispatch = loop_dispatch,
};

GSource *desk_loop_source_new(uv_loop_t *loop)
{
    GSource *source = g_source_new(&loop_funcs, sizeof(DeskLoopSource));
    DeskLoopSource *s = (DeskLoopSource *)source;
    s->loop = loop;
    s->deadline_us = -1;
    s->fd_tag = g_source_add_unix_fd(source, uv_backend_fd(loop), G_IO_IN);
    g_source_set_name(source, "libuv");
    return source;
}
