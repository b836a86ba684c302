/*
 * pg_tiers.c - a whole network on a fresh database with a logged-in
 * station (see pg_tiers.h).
 */
#include "pg_tiers.h"

#include "pg_test.h"

int pgt_tiers_up(pgt_tiers *w, const char *dbname, const char *station, const char *person)
{
    if (sj_test_tiers_init(&w->t) != 0)
        return -1;
    w->db = pgt_fresh_db(dbname, w->conninfo, sizeof w->conninfo);
    if (!w->db)
        return -1;
    return sj_test_tiers_up_logged_in(&w->t, w->conninfo, station, person);
}

int pgt_tiers_down(pgt_tiers *w, const char *keep_var)
{
    if (w->db)
        PQfinish(w->db);
    w->db = NULL;
    return sj_test_tiers_finish(&w->t, keep_var);
}
