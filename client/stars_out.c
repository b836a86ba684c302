/*
 * stars_out.c - a station star rating in words (see stars_out.h).
 */
#include "stars_out.h"

#include <string.h>

#include "i18n.h"

static const char *const NAMES[] = {
    N_("stars: on-behalf star"), N_("stars: record star"), N_("stars: duty star"),
    N_("stars: service star"),   N_("stars: timeliness star"),
};
#define N_STARS (sizeof(NAMES) / sizeof(NAMES[0]))

size_t sc_stars_count(void)
{
    return N_STARS;
}

const char *sc_stars_name(size_t i)
{
    return i < N_STARS ? _(NAMES[i]) : "";
}

bool sc_stars_has(const Sanji__StarStation *s, size_t i)
{
    switch (i) {
    case 0: return s->daiban_star;
    case 1: return s->record_star;
    case 2: return s->duty_star;
    case 3: return s->service_star;
    case 4: return s->on_time_star;
    default: return false;
    }
}

static unsigned percent(double rate)
{
    return (unsigned)(rate * 100.0 + 0.5);
}

void sc_stars_figure(const Sanji__StarStation *s, size_t i, char *buf, size_t cap)
{
    switch (i) {
    case 0:
        /* Translators: cases finished as 代办, then the 办结率. */
        snprintf(buf, cap, _("%u on behalf · finished %u%%"), (unsigned)s->daiban_finished,
                 percent(s->finish_rate));
        break;
    case 1:
        /* Translators: cases registered, then those overdue or without feedback. */
        snprintf(buf, cap, _("%u cases · %u missing"), (unsigned)s->registered,
                 (unsigned)s->missing_records);
        break;
    case 2: {
        unsigned p = s->duty_minutes
                         ? (unsigned)((uint64_t)s->staffed_minutes * 100 / s->duty_minutes)
                         : 0;
        /* Translators: hours staffed of the duty hours, and the share. */
        snprintf(buf, cap, _("%u/%u h · %u%%"), (unsigned)(s->staffed_minutes / 60),
                 (unsigned)(s->duty_minutes / 60), p);
        break;
    }
    case 3:
        /* Translators: the villagers' verdicts, then the 满意率. */
        snprintf(buf, cap, _("%u verdicts · satisfied %u%%"), (unsigned)s->verdicts,
                 percent(s->satisfaction_rate));
        break;
    case 4:
        /* Translators: cases finished on time of those finished, and the share. */
        snprintf(buf, cap, _("%u/%u on time · %u%%"), (unsigned)s->on_time, (unsigned)s->finished,
                 percent(s->on_time_rate));
        break;
    default: snprintf(buf, cap, "-"); break;
    }
}

void sc_stars_marks(const Sanji__StarStation *s, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_STARS && used + 4 < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s", i < s->stars ? "★" : "☆");
}

void sc_stars_period_text(const Sanji__StarRating *r, char *buf, size_t cap)
{
    if (r->quarter)
        snprintf(buf, cap, "%u Q%u", (unsigned)r->year, (unsigned)r->quarter);
    else
        snprintf(buf, cap, "%u", (unsigned)r->year);
}

void sc_stars_write_table(FILE *f, const Sanji__StarRating *r)
{
    for (size_t k = 0; k < r->n_stations; k++) {
        const Sanji__StarStation *s = r->stations[k];
        char marks[64];
        sc_stars_marks(s, marks, sizeof marks);
        fprintf(f, "%s %s  %s\n", s->label && *s->label ? s->label : s->unit, s->unit, marks);
        for (size_t i = 0; i < N_STARS; i++) {
            char fig[96];
            sc_stars_figure(s, i, fig, sizeof fig);
            fprintf(f, "    %s %s  %s\n", sc_stars_has(s, i) ? "✓" : "·", sc_stars_name(i), fig);
        }
    }
}
