/*
 * main.c - sanji-desk, the desktop program of Sanji for village duty
 * cadres, township staff and county operators (docs/DESKTOP.md).
 *
 * Entry point: main().
 */
#include "desk-application.h"
#include "i18n.h"

int main(int argc, char **argv)
{
    sj_i18n_init(NULL);
    g_autoptr(DeskApplication) app = desk_application_new();
    int rc = g_application_run(G_APPLICATION(app), argc, argv);
    return rc != 0 ? rc : desk_application_exit_status(app);
}
