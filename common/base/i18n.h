/*
 * i18n.h - translation of user-facing text (gettext).
 *
 * Sanji speaks Chinese first: messages are written in English in the code
 * (msgids) and translated through the "sanji" gettext domain.  Chinese is the
 * default whatever the environment says, unless the locale asks for English
 * (LANGUAGE, LC_ALL, LC_MESSAGES or LANG starting with "en"), so a village PC
 * with an unset or "C" locale still shows Chinese.
 *
 * Entry points: sj_i18n_init(), sj_i18n_language(), _(), N_().
 */
#ifndef SJ_I18N_H
#define SJ_I18N_H

#include <libintl.h>

#define SJ_TEXT_DOMAIN "sanji"

/* Translate now. */
#define _(msgid) dgettext(SJ_TEXT_DOMAIN, msgid)
/* Mark for translation only (the string is translated later with _()). */
#define N_(msgid) (msgid)

/* Sets the process locale and binds the domain.  localedir NULL means: the
 * SANJI_LOCALEDIR environment variable, else the directory compiled in at
 * build time.  Call once, early in main(). */
void sj_i18n_init(const char *localedir);

/* "zh_CN" or "en": the language chosen by sj_i18n_init(). */
const char *sj_i18n_language(void);

#endif
