/*
 * relay_metrics.h - sanji-relayd's figures for monitoring (common/base/metrics.h),
 * updated where the events happen (downstream.c, upstream.c, relay.c) and
 * served by main.c on metrics.listen.  docs/OPERATIONS.md lists them.
 *
 * Links per peer (the county link and each station's or desk's),
 * certificate expiry and TLS handshake failures are the families both
 * daemons share (sj_metrics_link(), sj_metrics_cert(),
 * sj_metrics_tls_failure()).
 *
 * Entry points: relay_metrics_register(), relay_metrics_queue(), and the
 * families below.
 */
#ifndef RELAY_RELAY_METRICS_H
#define RELAY_RELAY_METRICS_H

#include "metrics.h"
#include "store.h"

extern sj_metric relay_m_stored;     /* messages taken into the queue */
extern sj_metric relay_m_forwarded;  /* queued messages sent to the county (resends too) */
extern sj_metric relay_m_settled;    /* the county's final answers, by result */
extern sj_metric relay_m_refused;    /* refused by the relay itself, by code */
extern sj_metric relay_m_feed_lag;   /* per village: the county's record to our store */

/* Registers every family of the relay (before the first link). */
void relay_metrics_register(void);

/* Sets the queue's gauges from the store (depth, bytes, oldest age). */
void relay_metrics_queue(relay_store *st);

#endif
