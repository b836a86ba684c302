/*
 * relay_metrics.c - sanji-relayd's metric families (see relay_metrics.h).
 *
 * Entry points: relay_metrics_register(), relay_metrics_queue().
 */
#include "relay_metrics.h"

#include "clock.h"

sj_metric relay_m_stored = SJ_METRIC_COUNTER(
    "sanji_relay_messages_stored_total",
    "upward messages of stations and desks stored in the queue (acknowledged as STORED)", NULL);
sj_metric relay_m_forwarded = SJ_METRIC_COUNTER(
    "sanji_relay_messages_forwarded_total",
    "queued messages sent to the county (a message resent after a reconnect counts again)", NULL);
sj_metric relay_m_settled = SJ_METRIC_COUNTER(
    "sanji_relay_messages_settled_total",
    "queued messages the county answered for good (result: applied or refused) and that left "
    "the queue",
    "result");
sj_metric relay_m_refused = SJ_METRIC_COUNTER(
    "sanji_relay_messages_refused_total",
    "upward messages the relay refused itself (not stored), by the refusal's code", "code");
sj_metric relay_m_feed_lag = SJ_METRIC_GAUGE(
    "sanji_relay_feed_lag_seconds",
    "for the last feed update of each village: from the county's recording to the relay's store",
    "village");

static sj_metric m_queue_depth = SJ_METRIC_GAUGE(
    "sanji_relay_queue_messages", "messages waiting in the upward queue", NULL);
static sj_metric m_queue_bytes = SJ_METRIC_GAUGE(
    "sanji_relay_queue_bytes", "bytes of the messages waiting in the upward queue", NULL);
static sj_metric m_queue_oldest = SJ_METRIC_GAUGE(
    "sanji_relay_queue_oldest_age_seconds",
    "age of the oldest message in the upward queue; 0 when it is empty", NULL);

void relay_metrics_register(void)
{
    sj_metric *const all[] = {&relay_m_stored, &relay_m_forwarded, &relay_m_settled,
                              &relay_m_refused, &relay_m_feed_lag, &m_queue_depth,
                              &m_queue_bytes, &m_queue_oldest};
    sj_metrics_register_common();
    sj_metrics_register(all, sizeof(all) / sizeof(all[0]));
}

void relay_metrics_queue(relay_store *st)
{
    relay_queue_stats qs;
    sj_error err;
    if (relay_store_queue_stats(st, &qs, &err) != 0)
        return; /* the figures stay as they were; the store's own errors are logged elsewhere */
    sj_metric_set(&m_queue_depth, NULL, qs.depth);
    sj_metric_set(&m_queue_bytes, NULL, (double)qs.bytes);
    int64_t age_ms = qs.oldest_stored_at_ms ? sj_clock_real_ms() - qs.oldest_stored_at_ms : 0;
    sj_metric_set(&m_queue_oldest, NULL, age_ms > 0 ? (double)age_ms / 1000.0 : 0);
}
