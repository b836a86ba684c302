/*
 * stars_config.c - the station stars' thresholds (see stars_config.h).
 */
#include "stars_config.h"

void countyd_stars_defaults(countyd_stars_config *c)
{
    *c = (countyd_stars_config){
        .daiban_min = 3,
        .daiban_finish_percent = 90,
        .record_min = 1,
        .record_missing_max = 0,
        .duty_percent = 80,
        .service_percent = 90,
        .service_min_verdicts = 1,
        .on_time_percent = 90,
        .on_time_min_finished = 1,
    };
}

void countyd_stars_print_thresholds(FILE *out, const countyd_stars_config *c,
                                    const countyd_duty *duty)
{
    const struct {
        const char *key, *star;
        uint32_t value;
    } rows[] = {
        {"stars.daiban_min", "代办星", c->daiban_min},
        {"stars.daiban_finish_percent", "代办星", c->daiban_finish_percent},
        {"stars.record_min", "记录星", c->record_min},
        {"stars.record_missing_max", "记录星", c->record_missing_max},
        {"stars.duty_percent", "值班星", c->duty_percent},
        {"stars.service_percent", "服务星", c->service_percent},
        {"stars.service_min_verdicts", "服务星", c->service_min_verdicts},
        {"stars.on_time_percent", "时效星", c->on_time_percent},
        {"stars.on_time_min_finished", "时效星", c->on_time_min_finished},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fprintf(out, "%-30s = %-6u # %s\n", rows[i].key, (unsigned)rows[i].value, rows[i].star);
    fprintf(out, "%-30s = %-6s # 值班星\n", "presence.duty_hours", duty->text);
}
