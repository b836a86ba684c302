/*
 * ca_time.h - when the county's CA began: the notBefore of the CA
 * certificate named by tls.ca.
 *
 * No case can have been registered or acted on before the county's CA
 * existed, since no station could have had a certificate.  The county uses
 * this as the earliest time a message may carry (server/apply_person.c): a
 * station whose clock fell back to 2020 after a dead CMOS battery is told
 * so instead of writing false dates into the record.
 *
 * Entry point: countyd_ca_not_before_ms().
 */
#ifndef COUNTYD_CA_TIME_H
#define COUNTYD_CA_TIME_H

#include <stdint.h>

#include "err.h"

/* Reads the first certificate of the PEM file path and sets *out to its
 * notBefore in milliseconds since the epoch.  Returns 0, or SJ_ETLS_KEY with
 * a message naming the file. */
int countyd_ca_not_before_ms(const char *path, int64_t *out, sj_error *err);

#endif
