/*
 * attach.c - attachments: kind by content, chunking, hash and the checks
 * every tier applies (attach.h).
 */
#include "attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "i18n.h"

const char *sj_attach_sniff(const uint8_t *data, size_t len)
{
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (data == NULL)
        return NULL;
    if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return "image/jpeg";
    if (len >= sizeof png && memcmp(data, png, sizeof png) == 0)
        return "image/png";
    if (len >= 5 && memcmp(data, "%PDF-", 5) == 0)
        return "application/pdf";
    return NULL;
}

bool sj_attach_mime_ok(const char *mime)
{
    return mime && (strcmp(mime, "image/jpeg") == 0 || strcmp(mime, "image/png") == 0 ||
                    strcmp(mime, "application/pdf") == 0);
}

uint32_t sj_attach_chunk_count(uint64_t size)
{
    return (uint32_t)((size + SJ_ATTACH_CHUNK_SIZE - 1) / SJ_ATTACH_CHUNK_SIZE);
}

size_t sj_attach_chunk_len(uint64_t size, uint32_t k)
{
    uint64_t start = (uint64_t)k * SJ_ATTACH_CHUNK_SIZE;
    if (start >= size)
        return 0;
    uint64_t left = size - start;
    return left < SJ_ATTACH_CHUNK_SIZE ? (size_t)left : SJ_ATTACH_CHUNK_SIZE;
}

void sj_attach_sha256(const uint8_t *data, size_t len, uint8_t out[SJ_ATTACH_SHA256_SIZE])
{
    unsigned n = 0;
    if (EVP_Digest(data ? data : (const uint8_t *)"", len, out, &n, EVP_sha256(), NULL) != 1 ||
        n != SJ_ATTACH_SHA256_SIZE)
        abort(); /* OpenSSL without SHA-256: a broken installation */
}

void sj_attach_hex(const uint8_t sha[SJ_ATTACH_SHA256_SIZE], char out[SJ_ATTACH_HEX_SIZE])
{
    for (size_t i = 0; i < SJ_ATTACH_SHA256_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", sha[i]);
}

int sj_attach_check_file(const uint8_t *data, size_t len, uint64_t max_file, uint64_t case_used,
                         uint64_t max_case, const char **mime, sj_error *err)
{
    *mime = sj_attach_sniff(data, len);
    if (*mime == NULL)
        return sj_error_set(err, SJ_EATTACH_TYPE, "%s",
                            _("The file is not a photo or scan Sanji takes: attach a JPEG, PNG or "
                              "PDF file."));
    if (len > max_file)
        return sj_error_set(err, SJ_EATTACH_TOO_BIG,
                            _("The file has %zu bytes; at most %llu bytes are allowed per file. "
                              "Scan it at a lower resolution or split it."),
                            len, (unsigned long long)max_file);
    if (case_used + len > max_case)
        return sj_error_set(err, SJ_EATTACH_CASE_FULL,
                            _("The case already has %llu bytes of attachments; with this file it "
                              "would pass the limit of %llu bytes per case."),
                            (unsigned long long)case_used, (unsigned long long)max_case);
    return 0;
}

static bool short_text(const char *s, size_t max, bool name)
{
    return s && strlen(s) <= max && (!name || strchr(s, '/') == NULL);
}

int sj_attach_check_chunk(const Sanji__AttachmentChunk *c, uint64_t max_file, sj_error *err)
{
    if (c->attachment_id.len != 16 || c->case_id.len != 16)
        return sj_error_set(err, SJ_EBAD_FIELD, "%s", _("The attachment or case id is not 16 bytes long."));
    if (c->sha256.len != SJ_ATTACH_SHA256_SIZE)
        return sj_error_set(err, SJ_EBAD_FIELD, "%s", _("The attachment's SHA-256 is not 32 bytes long."));
    if (!sj_attach_mime_ok(c->mime))
        return sj_error_set(err, SJ_EATTACH_TYPE, "%s",
                            _("The file is not a photo or scan Sanji takes: attach a JPEG, PNG or "
                              "PDF file."));
    if (c->size == 0 || c->size > max_file)
        return sj_error_set(err, SJ_EATTACH_TOO_BIG,
                            _("The file has %llu bytes; at most %llu bytes are allowed per file. "
                              "Scan it at a lower resolution or split it."),
                            (unsigned long long)c->size, (unsigned long long)max_file);
    if (c->chunk_count != sj_attach_chunk_count(c->size) || c->chunk_no >= c->chunk_count ||
        c->data.len != sj_attach_chunk_len(c->size, c->chunk_no))
        return sj_error_set(err, SJ_EBAD_FIELD, "%s",
                            _("The attachment's piece does not fit its announced size."));
    if (!short_text(c->name, SJ_ATTACH_NAME_MAX, true) || !*c->name ||
        !short_text(c->material, SJ_ATTACH_MATERIAL_MAX, false))
        return sj_error_set(err, SJ_EBAD_FIELD, "%s",
                            _("The attachment's name or material is missing or too long."));
    return 0;
}

const char *sj_attach_base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}
