/*
 * desk-test.h - the test hook: a script that drives the window through its
 * real widgets (types into entries, presses buttons, picks rows), waits for
 * what the window shows, prints it, and saves screenshots.  Started when
 * sanji-desk runs with --test-script FILE or SANJI_DESK_TEST_SCRIPT=FILE;
 * the program exits 0 when every line passed, 1 at the first that failed.
 *
 * Script lines (blank lines and lines starting with # are skipped; words
 * are split like a shell does, so quote text with spaces):
 *   wait-page PAGE [SECONDS]        the visible page becomes PAGE
 *   page PAGE                       shows PAGE (like the sidebar does)
 *   set NAME TEXT                   types TEXT into an entry or text view
 *   click NAME                      presses a button (must be visible and sensitive)
 *   select NAME INDEX               picks row INDEX of a list, child INDEX of a flow box,
 *                                   or item INDEX of a drop-down
 *   select-text NAME TEXT           picks the first shown row (or child, or drop-down item)
 *                                   whose text contains TEXT
 *   wait-text NAME TEXT [SECONDS]   the widget's text (all labels inside it) contains TEXT
 *   expect-text NAME TEXT           the same, now
 *   expect-no-text NAME TEXT        the widget's text does not contain TEXT
 *   expect-rows NAME N              the list (or flow box) has N rows (children)
 *   wait-row NAME INDEX TEXT [SECONDS]
 *                                   row INDEX of a paged list has TEXT (asking loads it)
 *   scroll NAME FRACTION            scrolls a list to FRACTION (0..1) of its length
 *   print NAME                      prints "NAME: text"
 *   mark LABEL                      prints "mark LABEL MS" (MS: monotonic milliseconds),
 *                                   for a benchmark timing what happens between marks
 *   memory                          prints "memory: rss_kib=N hwm_kib=M" of this process
 *   screenshot NAME FILE            renders the widget ("window" for all) to a PNG
 *   wait-file PATH [SECONDS]        PATH exists (a test process says "go on")
 *   choose-file PATH                the next file chooser that opens answers PATH at
 *                                   once instead of showing (desk_test_take_chosen_file())
 *   sleep MILLISECONDS
 *   quit
 * Focus and layout, as a key or the pointer meets them (the checks of
 * places wait until the window has drawn what changed):
 *   tab-from NAME NEXT              Tab pressed in NAME moves the focus into NEXT
 *   keep-place NAME                 remembers where NAME is in the window
 *   expect-same-place NAME          NAME is still there (nothing pushed it)
 *   expect-in-view NAME             NAME is wholly inside the visible part of its page
 *   expect-whole NAME TEXT          the label in NAME showing TEXT is shown whole
 *                                   (not cut short, not past its view's edge)
 *   scroll-page NAME FRACTION       scrolls the page holding NAME to FRACTION (0..1)
 *   expect-placeholder NAME TEXT    the entry's placeholder holds TEXT
 *   resize-window WIDTH HEIGHT      gives the window that size (a smaller screen)
 * The application's desktop notifications (desk-application.h):
 *   wait-notification TEXT [SECONDS]  one holding TEXT is raised
 *   expect-no-notification TEXT     none holds TEXT ("": none at all)
 *   click-notification TEXT         clicks the first holding TEXT, as the desktop does
 * NAME is a name the widgets registered with desk_window_register().
 *
 * A list whose rows are not all widgets (a GtkColumnView or GtkListView
 * over a paged model, which makes widgets for the visible rows only) gives
 * the hook its rows through DESK_TEST_ROW_TEXT: select, select-text,
 * expect-rows and wait-row then work on the model's rows, and select
 * activates the row as a click does.
 *
 * Entry points: desk_test_start(), desk_test_widget_text(),
 * desk_test_screenshot(), desk_test_take_chosen_file().
 */
#ifndef DESK_TEST_H
#define DESK_TEST_H

#include <gtk/gtk.h>

#include "err.h"

typedef struct _DeskWindow DeskWindow;

/* Object data key on such a list widget: a desk_test_row_text_fn giving
 * the text of row i as shown (g_free), or NULL while the row is not loaded
 * (asking starts loading it). */
#define DESK_TEST_ROW_TEXT "desk-test-row-text"
typedef char *(*desk_test_row_text_fn)(GtkWidget *list, guint i);

/* Reads the script and runs it on a timer; the window is borrowed. */
void desk_test_start(DeskWindow *w, const char *script_path);

/* The text a person sees in widget: its own text and every label inside
 * it, joined by " | ".  g_free(). */
char *desk_test_widget_text(GtkWidget *widget);

/* Renders widget into a PNG file.  0 or SJ_EIO / SJ_EINVAL with err. */
int desk_test_screenshot(GtkWidget *widget, const char *path, sj_error *err);

/* The file a script's choose-file step named, once (g_free), or NULL: a
 * file chooser asks this first and, given a path, shows no dialog (a
 * test under Xvfb has no one to pick the file). */
char *desk_test_take_chosen_file(void);

#endif
