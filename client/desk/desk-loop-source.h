/*
 * desk-loop-source.h - runs a libuv loop inside GLib's main loop, so the
 * client library (sanji_client.h) and GTK share one thread.
 *
 * The source polls the loop's backend descriptor (uv_backend_fd) and uses
 * uv_backend_timeout() as its own timeout; when either fires it runs
 * uv_run(UV_RUN_NOWAIT).  Library callbacks therefore run on GTK's thread,
 * inside GLib's dispatch, and may touch widgets directly.
 *
 * Ownership: desk_loop_source_new() returns a new GSource (one reference);
 * attach it with g_source_attach() and drop it with g_source_destroy() +
 * g_source_unref() before the uv loop is closed.  The loop is borrowed.
 *
 * Entry points: desk_loop_source_new().
 */
#ifndef DESK_LOOP_SOURCE_H
#define DESK_LOOP_SOURCE_H

#include <glib.h>
#include <uv.h>

GSource *desk_loop_source_new(uv_loop_t *loop);

#endif
