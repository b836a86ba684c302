/*
 * i18n.c - choose the user's language (Chinese unless English is asked for)
 * and bind the gettext domain.
 */
#include "i18n.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#ifndef SANJI_LOCALEDIR
#define SANJI_LOCALEDIR "/usr/share/locale"
#endif

static const char *sj__language = "zh_CN";

static int starts_with_en(const char *v)
{
    return v != NULL && strncmp(v, "en", 2) == 0;
}

/* The first of the POSIX variables that is set decides, as in setlocale(). */
static const char *locale_env(void)
{
    static const char *const names[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && v[0] != '\0')
            return v;
    }
    return NULL;
}

void sj_i18n_init(const char *localedir)
{
    const char *language = getenv("LANGUAGE");
    const char *loc = setlocale(LC_ALL, "");
    /* gettext ignores LANGUAGE in the "C" locale; C.UTF-8 always exists on
     * Debian and lets it work, and keeps UTF-8 output. */
    if (loc == NULL || strcmp(loc, "C") == 0 || strcmp(loc, "POSIX") == 0)
        setlocale(LC_ALL, "C.UTF-8");

    if (language != NULL && language[0] != '\0')
        sj__language = starts_with_en(language) ? "en" : "zh_CN";
    else if (starts_with_en(locale_env()))
        sj__language = "en";
    else
        sj__language = "zh_CN";
    /* LANGUAGE outranks LC_MESSAGES in gettext, so this is what selects the
     * catalogue; English needs no catalogue (the msgids are English). */
    setenv("LANGUAGE", sj__language, 1);

    if (localedir == NULL)
        localedir = getenv("SANJI_LOCALEDIR");
    if (localedir == NULL || localedir[0] == '\0')
        localedir = SANJI_LOCALEDIR;
    bindtextdomain(SJ_TEXT_DOMAIN, localedir);
    bind_textdomain_codeset(SJ_TEXT_DOMAIN, "UTF-8");
}

const char *sj_i18n_language(void)
{
    return sj__language;
}
