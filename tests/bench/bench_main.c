/*
 * bench_main.c - `sanji-bench`: Sanji's benchmarks, one subcommand each
 * (tls, e2e, pgbench, relays, idle, gen-county, search, stats; docs/PERFORMANCE.md says what each
 * measures and how to run it).
 *
 * Entry point: main().
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "dirs.h"

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } cmds[] = {{"tls", bench_tls_main},       {"e2e", bench_e2e_main},
                {"pgbench", bench_pgbench_main}, {"relays", bench_relays_main},
                {"idle", bench_idle_main},       {"gen-county", bench_gen_county_main},
                {"search", bench_search_main},
                {"stats", bench_stats_main}};
    sj_error err;
    if (sj_test_dirs_find(&err) != 0) {
        fprintf(stderr, "sanji-bench: %s\n", err.message);
        return 2;
    }
    for (size_t i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].run(argc, argv);
    fprintf(stderr, "usage: sanji-bench tls|e2e|pgbench|relays|idle|gen-county|search|stats [options]"
                    " (docs/PERFORMANCE.md)\n");
    return 2;
}
