/*
 * test_metrics.c - the registry of common/base/metrics.h and its Prometheus
 * text: families in registration order, series sorted by label value,
 * label values escaped, histograms cumulative with +Inf, _sum and _count,
 * removal of series, and updates from several threads at once.
 *
 * Entry point: main().
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static const double BOUNDS[] = {0.1, 1, 10};
static sj_metric c_plain = SJ_METRIC_COUNTER("t_events_total", "events", NULL);
static sj_metric c_lab = SJ_METRIC_COUNTER("t_refused_total", "refused by code", "code");
static sj_metric g_peer = SJ_METRIC_GAUGE("t_up", "up per peer", "peer");
static sj_metric h_lat = SJ_METRIC_HISTOGRAM("t_latency_seconds", "latency", NULL, BOUNDS);

static char *render(void)
{
    char *t;
    size_t len;
    assert_int_equal(sj_metrics_render(&t, &len), 0);
    assert_int_equal(strlen(t), len);
    return t;
}

static void test_text_format(void **state)
{
    (void)state;
    sj_metric *const all[] = {&c_plain, &c_lab, &g_peer, &h_lat};
    sj_metrics_register(all, 4);
    char *t = render();
    /* Registered: an unlabelled family is one series at 0; a labelled one
     * has no series until its first update. */
    assert_string_equal(t, "# HELP t_events_total events\n# TYPE t_events_total counter\n"
                           "t_events_total 0\n"
                           "# HELP t_refused_total refused by code\n# TYPE t_refused_total counter\n"
                           "# HELP t_up up per peer\n# TYPE t_up gauge\n"
                           "# HELP t_latency_seconds latency\n# TYPE t_latency_seconds histogram\n"
                           "t_latency_seconds_bucket{le=\"0.1\"} 0\n"
                           "t_latency_seconds_bucket{le=\"1\"} 0\n"
                           "t_latency_seconds_bucket{le=\"10\"} 0\n"
                           "t_latency_seconds_bucket{le=\"+Inf\"} 0\n"
                           "t_latency_seconds_sum 0\nt_latency_seconds_count 0\n");
    free(t);
    sj_metric_add(&c_plain, NULL, 2);
    sj_metric_add(&c_lab, "STALE_VERSION", 1);
    sj_metric_add(&c_lab, "SCOPE", 1);
    sj_metric_add(&c_lab, "STALE_VERSION", 1);
    sj_metric_set(&g_peer, "village:a\"b\\c\nd", 1);
    sj_metric_observe(&h_lat, NULL, 0.05);
    sj_metric_observe(&h_lat, NULL, 0.5);
    sj_metric_observe(&h_lat, NULL, 99);
    t = render();
    assert_non_null(strstr(t, "t_events_total 2\n"));
    /* sorted by label value */
    assert_non_null(strstr(t, "t_refused_total{code=\"SCOPE\"} 1\n"
                              "t_refused_total{code=\"STALE_VERSION\"} 2\n"));
    assert_non_null(strstr(t, "t_up{peer=\"village:a\\\"b\\\\c\\nd\"} 1\n"));
    assert_non_null(strstr(t, "t_latency_seconds_bucket{le=\"0.1\"} 1\n"
                              "t_latency_seconds_bucket{le=\"1\"} 2\n"
                              "t_latency_seconds_bucket{le=\"10\"} 2\n"
                              "t_latency_seconds_bucket{le=\"+Inf\"} 3\n"
                              "t_latency_seconds_sum 99.55\n"
                              "t_latency_seconds_count 3\n"));
    free(t);
    assert_true(sj_metric_value(&c_lab, "STALE_VERSION") == 2);
    assert_true(sj_metric_value(&h_lat, NULL) == 3);
    sj_metric_remove(&c_lab, "SCOPE");
    assert_true(sj_metric_value(&c_lab, "SCOPE") == 0);
    t = render();
    assert_null(strstr(t, "SCOPE"));
    assert_non_null(strstr(t, "STALE_VERSION"));
    free(t);
    sj_metrics_reset();
    t = render();
    assert_string_equal(t, "");
    free(t);
}

#define THREADS 4
#define ADDS 20000

static void *adder(void *arg)
{
    char peer[16];
    snprintf(peer, sizeof peer, "p%d", (int)(intptr_t)arg % 2);
    for (int i = 0; i < ADDS; i++) {
        sj_metric_add(&c_plain, NULL, 1);
        sj_metric_add(&c_lab, peer, 1);
        if (i % 1000 == 0) {
            char *t;
            size_t len;
            if (sj_metrics_render(&t, &len) == 0)
                free(t);
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, adder, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    assert_true(sj_metric_value(&c_plain, NULL) == THREADS * ADDS);
    assert_true(sj_metric_value(&c_lab, "p0") == THREADS / 2 * ADDS);
    assert_true(sj_metric_value(&c_lab, "p1") == THREADS / 2 * ADDS);
    sj_metrics_reset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_format),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
