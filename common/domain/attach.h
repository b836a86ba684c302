/*
 * attach.h - what every tier shares about a case's attachments (photos and
 * scans of materials, docs/PROTOCOL.md "Attachments"): the kinds accepted,
 * recognised by their content (magic bytes), never by their name; the
 * fixed chunk size that splits a file into AttachmentChunk messages; the
 * checks of one chunk's fields; SHA-256 and its text form.
 *
 * Pure functions, no I/O.  The file limits are configuration
 * (attachment.max_file / attachment.max_case at the county and at the
 * client); the chunk size is part of the protocol: chunk k holds the bytes
 * [k * SJ_ATTACH_CHUNK_SIZE, (k + 1) * SJ_ATTACH_CHUNK_SIZE) of the file.
 *
 * Entry points: sj_attach_sniff(), sj_attach_chunk_count(),
 * sj_attach_chunk_len(), sj_attach_sha256(), sj_attach_hex(),
 * sj_attach_check_file(), sj_attach_check_chunk(), sj_attach_base_name().
 */
#ifndef SJ_ATTACH_H
#define SJ_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sanji.pb-c.h"

#define SJ_ATTACH_CHUNK_SIZE (32 * 1024)
#define SJ_ATTACH_SHA256_SIZE 32
#define SJ_ATTACH_HEX_SIZE (2 * SJ_ATTACH_SHA256_SIZE + 1)
#define SJ_ATTACH_NAME_MAX 200
#define SJ_ATTACH_MATERIAL_MAX 200
/* Defaults of attachment.max_file and attachment.max_case. */
#define SJ_ATTACH_MAX_FILE_DEFAULT "10MiB"
#define SJ_ATTACH_MAX_CASE_DEFAULT "50MiB"
#define SJ_ATTACH_MAX_FILE_BYTES (UINT64_C(10) * 1024 * 1024)
#define SJ_ATTACH_MAX_CASE_BYTES (UINT64_C(50) * 1024 * 1024)

/* The MIME type of data by its first bytes: "image/jpeg", "image/png",
 * "application/pdf", or NULL for anything else. */
const char *sj_attach_sniff(const uint8_t *data, size_t len);

/* True for one of the three MIME types above. */
bool sj_attach_mime_ok(const char *mime);

/* Chunks of a file of size bytes (0 for an empty file). */
uint32_t sj_attach_chunk_count(uint64_t size);

/* Bytes in chunk k of a file of size bytes (0 when k is past the end). */
size_t sj_attach_chunk_len(uint64_t size, uint32_t k);

void sj_attach_sha256(const uint8_t *data, size_t len, uint8_t out[SJ_ATTACH_SHA256_SIZE]);

/* Lower-case hex of a SHA-256. */
void sj_attach_hex(const uint8_t sha[SJ_ATTACH_SHA256_SIZE], char out[SJ_ATTACH_HEX_SIZE]);

/* A file the cadre attaches: its content is a JPEG, PNG or PDF
 * (SJ_EATTACH_TYPE), not empty and at most max_file bytes
 * (SJ_EATTACH_TOO_BIG), and with the case's other attachments (case_used
 * bytes) at most max_case bytes (SJ_EATTACH_CASE_FULL).  *mime says which
 * kind.  err's message is the cadre's (gettext). */
int sj_attach_check_file(const uint8_t *data, size_t len, uint64_t max_file, uint64_t case_used,
                         uint64_t max_case, const char **mime, sj_error *err);

/* One chunk as received: ids of 16 bytes, a 32-byte hash, a known MIME
 * type, size within max_file, chunk_count matching size, chunk_no in
 * range, data exactly sj_attach_chunk_len(), name and material short and
 * without '/'.  Returns 0 or SJ_EBAD_FIELD / SJ_EATTACH_TOO_BIG /
 * SJ_EATTACH_TYPE with err. */
int sj_attach_check_chunk(const Sanji__AttachmentChunk *c, uint64_t max_file, sj_error *err);

/* The last path component of path (what is sent as the name). */
const char *sj_attach_base_name(const char *path);

#endif
