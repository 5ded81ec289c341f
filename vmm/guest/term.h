/*
 * term.h - the terminal window's text area and its little shell.
 *
 * Everything the terminal prints also goes to serial, so a test that
 * types "help\n" reads the answer from the serial log.
 */
#ifndef GUEST_TERM_H
#define GUEST_TERM_H

#include "gfx.h"

#define TERM_COLS_MAX 80
#define TERM_ROWS_MAX 24
#define TERM_BG RGB(0x1f, 0x23, 0x2b)

enum term_attr {
	TERM_NORMAL,
	TERM_PROMPT,
	TERM_ERROR,
	TERM_ACCENT,
	TERM_DIM,
};

/* Print the welcome line and the first prompt. */
void term_start(void);

/*
 * Place the text area at pixel (x, y) with cols x rows cells (clamped to
 * the maximum). Keeps the text, dropping top lines if the cursor row no
 * longer fits. Draws nothing.
 */
void term_set_area(int x, int y, int cols, int rows);

/* Repaint the whole text area. */
void term_redraw(void);

/* A typed key: a character, a control character or an INPUT_KEY_* code. */
void term_key(int key);

/* Print to the text area and serial. */
void term_write(const char *s, enum term_attr attr);
void term_printf(enum term_attr attr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
