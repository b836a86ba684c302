/*
 * chaos_gen.h - what a simulated village station does in a chaos run,
 * shared by the in-process stations (chaos_load.c) and the station process
 * (station_main.c, sanji-chaos-station): the station's choice of a
 * lifecycle action, its fields, a registration, a generated scan to
 * attach, and the journal lines of what it saved.
 *
 * Entry points: chaos_gen_pick(), chaos_gen_fill(), chaos_gen_register(),
 * chaos_gen_file(), chaos_gen_line_saved(), chaos_gen_line_attachment().
 */
#ifndef SJ_CHAOS_GEN_H
#define SJ_CHAOS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "case.h"
#include "sanji_client.h"
#include "workload.h"

#define CHAOS_ATTACH_SMALL_MIN (50 * 1024)
#define CHAOS_ATTACH_SMALL_MAX (300 * 1024)
#define CHAOS_ATTACH_BIG_MIN (400 * 1024)
#define CHAOS_ATTACH_BIG_MAX (600 * 1024)

/* Picks one of the allowed actions by the weights of a station (station)
 * or of a desk; SJ_ACTION_NONE when the draw leaves the case alone.
 * *possible: whether any allowed action has a weight at all. */
sj_case_action chaos_gen_pick(sj_workload *w, bool station, const sj_case_action *allowed,
                              size_t n_allowed, bool *possible);

/* Fills the fields an action of a->type needs; note (cap bytes) holds its
 * text and must outlive a. */
void chaos_gen_fill(sj_workload *w, sc_action_req *a, char *note, size_t cap);

/* Buffers of one generated registration. */
typedef struct chaos_gen_reg {
    char name[SJ_WORKLOAD_NAME_SIZE], idn[SJ_WORKLOAD_ID_SIZE], phone[SJ_WORKLOAD_PHONE_SIZE];
    char text[256];
    sc_register_req req;
} chaos_gen_reg;

/* A registration of a real item with a valid applicant (g->req). */
void chaos_gen_register(sj_workload *w, chaos_gen_reg *g);

/* A generated scan of min..max bytes: a JPEG, PNG or PDF by its first
 * bytes (what sj_attach_sniff() looks at), then seeded noise, so that every
 * file differs.  *data is malloc'd; name gets "scan-<seq>.<ext>" and
 * *material one of the materials (or ""). */
void chaos_gen_file(sj_workload *w, size_t min, size_t max, unsigned seq, uint8_t **data,
                    size_t *size, char name[64], const char **material);

/* Journal lines: "S message case action expected-version unit" and
 * "T attachment case size sha256 unit" (flushed). */
void chaos_gen_line_saved(FILE *f, const uint8_t mid[16], const uint8_t cid[16], int action,
                          uint64_t expected, const char *unit);
void chaos_gen_line_attachment(FILE *f, const uint8_t aid[16], const uint8_t cid[16],
                               uint64_t size, const uint8_t sha256[32], const char *unit);

#endif
