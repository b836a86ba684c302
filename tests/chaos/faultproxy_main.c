/*
 * faultproxy_main.c - sanji-faultproxy, the link-fault proxy of the chaos
 * tests as a program (faultproxy.h has the modes and the control protocol).
 *
 *   sanji-faultproxy --listen PORT --target PORT [--target-host ADDR]
 *                    [--control PORT]
 *                    [--mode pass|blackhole|refuse|"delay MS"] [--delay MS]
 *                    [--max-buffer BYTES] [--log-level LEVEL]
 *
 * Runs until SIGTERM or SIGINT, then closes every connection and exits 0.
 * Exit status 2 for bad arguments, 1 when a port cannot be bound.
 *
 * Entry point: main().
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "err.h"
#include "faultproxy.h"
#include "log.h"

static sj_faultproxy *proxy;
static uv_signal_t sig_term, sig_int;

static void usage(FILE *to)
{
    fputs("用法 / usage: sanji-faultproxy --listen PORT --target PORT [--target-host ADDR]\n"
          "       [--control PORT] [--mode pass|blackhole|refuse|\"delay MS\"] [--delay MS]\n"
          "       [--max-buffer BYTES] [--log-level debug|info|warn|error]\n"
          "Relays 127.0.0.1:LISTEN to ADDR:TARGET (ADDR 127.0.0.1 unless given); the control port takes one\n"
          "command per line: pass, delay MS, blackhole, refuse, rate KBIT, reset, status.\n",
          to);
}

static int parse_int(const char *s, long max, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

static void on_signal(uv_signal_t *s, int signum)
{
    SJ_LOG_INFO("faultproxy", "stopping", "signal", signum == SIGTERM ? "TERM" : "INT");
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
    sj_faultproxy_close(proxy);
    proxy = NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},  {"target", required_argument, NULL, 't'},
        {"control", required_argument, NULL, 'c'}, {"mode", required_argument, NULL, 'm'},
        {"delay", required_argument, NULL, 'd'},   {"max-buffer", required_argument, NULL, 'b'},
        {"log-level", required_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
        {"target-host", required_argument, NULL, 'H'},
        {NULL, 0, NULL, 0},
    };
    sj_faultproxy_config cfg = {0};
    char delay_mode[40];
    long v;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'l':
        case 't':
        case 'c':
            if (parse_int(optarg, 65535, &v) < 0) {
                fprintf(stderr, "端口无效 / bad port '%s'\n", optarg);
                return 2;
            }
            *(o == 'l' ? &cfg.listen_port : o == 't' ? &cfg.target_port : &cfg.control_port) =
                (int)v;
            break;
        case 'H':
            cfg.target_host = optarg;
            break;
        case 'm':
            cfg.mode = optarg;
            break;
        case 'd':
            snprintf(delay_mode, sizeof delay_mode, "delay %s", optarg);
            cfg.mode = delay_mode;
            break;
        case 'b':
            if (parse_int(optarg, 1L << 30, &v) < 0 || v < 1024) {
                fprintf(stderr, "缓冲上限无效 / bad --max-buffer '%s' (1024..1073741824)\n",
                        optarg);
                return 2;
            }
            cfg.max_buffer = (size_t)v;
            break;
        case 'v': {
            sj_log_level level;
            if (sj_log_level_parse(optarg, &level) < 0) {
                fprintf(stderr, "日志级别无效 / bad --log-level '%s'\n", optarg);
                return 2;
            }
            sj_log_set_level(level);
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || cfg.listen_port == 0 || cfg.target_port == 0) {
        usage(stderr);
        return 2;
    }
    /* A peer that closes while we write must not kill the proxy. */
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t loop;
    int rc = uv_loop_init(&loop);
    if (rc < 0) {
        fprintf(stderr, "uv_loop_init: %s\n", uv_strerror(rc));
        return 1;
    }
    sj_error err;
    rc = sj_faultproxy_start(&loop, &cfg, &proxy, &err);
    if (rc < 0) {
        SJ_LOG_ERROR("faultproxy", "cannot start", "code", sj_err_name(rc), "why", err.message);
        uv_run(&loop, UV_RUN_DEFAULT); /* lets the close callbacks free what was made */
        uv_loop_close(&loop);
        return rc == SJ_EINVAL ? 2 : 1;
    }
    uv_signal_init(&loop, &sig_term);
    uv_signal_init(&loop, &sig_int);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop);
    if (rc < 0)
        SJ_LOG_WARN("faultproxy", "loop not empty at exit", "why", uv_strerror(rc));
    SJ_LOG_INFO("faultproxy", "stopped");
    sj_log_close();
    return rc < 0 ? 1 : 0;
}
