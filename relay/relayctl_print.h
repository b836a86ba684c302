/*
 * relayctl_print.h - the admin view of a relay, read from its store
 * (read-only, so it works whether the daemon runs or not, and never
 * disturbs it): upstream link state and last contact as the daemon last
 * wrote them, queue depth and oldest message age, stations with last seen,
 * per-village feed cursors, and one line on what the daemon holds for its
 * station and desk links ("total=... largest=... by=... limit=...
 * blocked=...", see docs/RELAY.md "Slow stations and desks").
 *
 * Entry points: relayctl_print_status().
 */
#ifndef RELAYCTL_PRINT_H
#define RELAYCTL_PRINT_H

#include <stdio.h>

#include "err.h"

/* Opens the store at store_path read-only and prints its status to out.
 * Returns 0, or the store's open codes (SJ_EIO, SJ_ESTORE_*) with err. */
int relayctl_print_status(FILE *out, const char *store_path, sj_error *err);

#endif
