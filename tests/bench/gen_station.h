/*
 * gen_station.h - a village station's store filled with its village's
 * cases as the county serves them to that station (unmasked, its own
 * village), the way the feed fills it, for the station benchmark
 * (`sanji-bench search`) and the station half of the desk's county-scale
 * test.  The cases come from server/query.c's answer to the station, page
 * by page; their history is not copied (a search never reads it).
 *
 * Errors: 0, or SJ_EDB_CONN / SJ_EDB / the store's codes with err.
 *
 * Entry points: gen_station_fill().
 */
#ifndef SJ_GEN_STATION_H
#define SJ_GEN_STATION_H

#include <stdint.h>

#include "err.h"

/* Puts at most max cases of village into the client store at store_path
 * (made for node "village:<village>" if new); *got says how many. */
int gen_station_fill(const char *conninfo, const char *village, const char *store_path,
                     uint64_t max, uint64_t *got, sj_error *err);

#endif
