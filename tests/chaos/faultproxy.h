/*
 * faultproxy.h - a loopback TCP proxy that injects link faults between two
 * Sanji tiers, for the chaos tests (the program is sanji-faultproxy).
 *
 * The proxy listens on 127.0.0.1:listen_port and forwards every accepted
 * connection to target_host:target_port (127.0.0.1 unless told otherwise:
 * tests/bench/attach_costs.sh points it at a relay across a lossy link
 * into a network namespace).  It relays bytes only and knows nothing of
 * TLS, so the mutual TLS between the tiers stays end to end.
 * A fault "mode" applies to every connection at once and can be changed at
 * any time:
 *
 *   pass        forward normally
 *   delay MS    hold every chunk MS milliseconds before writing it on, in
 *               both directions; order is kept
 *   blackhole   stop forwarding: nothing is read from either side, nothing
 *               queued is written; new connections are accepted but go
 *               nowhere (no upstream connection is made).  On `pass` (or
 *               `delay`) reading and writing resume, held connections are
 *               connected upstream, and no byte is lost: like a network
 *               that comes back.
 *   refuse      new connections are closed at once (the client sees EOF);
 *               connections already open keep flowing
 *
 * a bandwidth that holds in every mode until changed:
 *
 *   rate KBIT   each direction of each connection carries at most KBIT
 *               kbit/s (0: unlimited, the start): a chunk is written on
 *               once the link would have sent it and everything before it,
 *               plus the delay, so `rate 256` with `delay 150` is a
 *               256 kbit/s village line with a 300 ms round trip
 *
 * and two actions that leave the mode as it is:
 *
 *   reset       every current connection is closed with an RST on both
 *               sides (SO_LINGER 0); new connections are accepted as usual
 *   status      reports the counters (below)
 *
 * Control protocol: a line protocol on 127.0.0.1:control_port.  Each line
 * is one command (above; words separated by spaces, "\n" or "\r\n" ends
 * it, at most 200 bytes); each gets exactly one reply line, "ok ..." or
 * "error <why>".  `status` replies
 *
 *   ok mode=delay delay_ms=200 conns=2 conns_total=7 held=0 refused=1
 *      resets=3 bytes_up=1024 bytes_down=4096 buffered=0 buffered_peak=65536
 *      max_buffer=262144 rate_kbit=0
 *
 * (one line) where conns is the connections open now, held those accepted
 * in blackhole mode and not yet connected upstream, bytes_up the bytes
 * written to the target and bytes_down the bytes written back to clients,
 * buffered the bytes the proxy holds now (read and not yet written, over
 * all connections) and buffered_peak the most it ever held.  Every other
 * reply to a mode command is "ok mode=... delay_ms=...".
 *
 * Bounded memory: each direction of each connection holds at most
 * max_buffer bytes plus one read (64 KiB); over that the proxy stops
 * reading from the sender (TCP backpressure) until the writes drain.  In
 * blackhole mode it reads nothing at all.
 *
 * Log: one line per event (listen, connect, refused, close with reason and
 * byte counts, mode change) through the Sanji log (common/base/log.h), module
 * "faultproxy".
 *
 * Ownership: sj_faultproxy_start() allocates the proxy on the caller's
 * loop; sj_faultproxy_close() closes every handle, and the memory is freed
 * by the loop's close callbacks, so the caller runs the loop until
 * uv_run() returns before closing the loop.  The proxy writes to sockets:
 * the process must ignore SIGPIPE.
 *
 * Entry points: sj_faultproxy_start(), sj_faultproxy_command(),
 * sj_faultproxy_close().
 */
#ifndef SJ_FAULTPROXY_H
#define SJ_FAULTPROXY_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "err.h"

/* Default per-direction buffer cap, and the size of one read. */
#define SJ_FAULTPROXY_MAX_BUFFER_DEFAULT (256u * 1024u)
#define SJ_FAULTPROXY_READ_SIZE (64u * 1024u)
/* Longest control line accepted, and a buffer that holds any reply. */
#define SJ_FAULTPROXY_LINE_MAX 200
#define SJ_FAULTPROXY_REPLY_MAX 512

typedef struct sj_faultproxy_config {
    int listen_port;       /* 127.0.0.1 port clients connect to (1..65535) */
    int target_port;       /* port every connection is forwarded to */
    const char *target_host; /* IPv4 address of the target; NULL: 127.0.0.1 */
    int control_port;      /* 127.0.0.1 port of the control line protocol; 0: none */
    size_t max_buffer;     /* per-direction cap in bytes; 0: the default */
    const char *mode;      /* first command, e.g. "pass", "delay 200"; NULL: "pass" */
} sj_faultproxy_config;

typedef struct sj_faultproxy sj_faultproxy;

/* Binds both ports and starts accepting on loop.  Returns 0 and *out, or
 * SJ_EINVAL (bad config or mode; err says which) or SJ_EIO (a port cannot
 * be bound; err has the system's reason).  After SJ_EIO the handles
 * already made are closing: run the loop so that their callbacks free the
 * proxy. */
int sj_faultproxy_start(uv_loop_t *loop, const sj_faultproxy_config *cfg, sj_faultproxy **out,
                        sj_error *err);

/* Runs one control command (the text of a line, without "\n") and writes
 * the reply line (without "\n") into reply.  Returns 0, or SJ_EINVAL for an
 * unknown or malformed command (the reply then starts with "error"). */
int sj_faultproxy_command(sj_faultproxy *fp, const char *line, char *reply, size_t cap);

/* Closes the listeners, the control connections and every proxied
 * connection (a normal close, not a reset).  The proxy must not be used
 * afterwards; its memory is freed once the loop has run the close
 * callbacks. */
void sj_faultproxy_close(sj_faultproxy *fp);

#endif
