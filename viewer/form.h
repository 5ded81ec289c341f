/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login form's editing logic, without any drawing: three text fields
 * (user name, password, TOTP code; the code only once the broker asks for
 * it), each with a cursor; typing inserts UTF-8 text at the cursor,
 * Backspace and Delete remove whole characters, Left/Right/Home/End move,
 * Tab and Shift+Tab go between the fields shown. The password is shown
 * masked, one dot per character.
 *
 * Pure functions on a struct; any thread. Secrets are wiped by
 * viewer_form_clear() and when a field is hidden.
 */
#ifndef VDI_VIEWER_FORM_H
#define VDI_VIEWER_FORM_H

#include <stdbool.h>
#include <stddef.h>

#define VIEWER_FORM_USER_MAX 64       /* bytes, as the broker's names */
#define VIEWER_FORM_PASSWORD_MAX 1024 /* bytes, as the broker takes */
#define VIEWER_FORM_TOTP_MAX 8        /* digits */
#define VIEWER_FORM_TEXT_MAX 1024

enum viewer_form_field {
	VIEWER_FIELD_USER,
	VIEWER_FIELD_PASSWORD,
	VIEWER_FIELD_TOTP,
	VIEWER_FIELD_COUNT,
};

struct viewer_form_text {
	char text[VIEWER_FORM_TEXT_MAX + 1];
	size_t len;    /* bytes */
	size_t cursor; /* byte offset, always at a character boundary */
};

struct viewer_form {
	struct viewer_form_text f[VIEWER_FIELD_COUNT];
	enum viewer_form_field focus;
	bool totp_shown;
};

/* Empty fields, the user name focused, no code field. */
void viewer_form_init(struct viewer_form *f);

/* Wipe every field and start over as viewer_form_init(). */
void viewer_form_clear(struct viewer_form *f);

/* Wipe one field. */
void viewer_form_clear_field(struct viewer_form *f, enum viewer_form_field field);

/*
 * Insert @utf8 (an SDL_TEXTINPUT event's text) at the focused field's
 * cursor. Refused whole (returns false) when it is not valid UTF-8, holds
 * a control character, would make the field too long, or is not digits for
 * the code field; a space is refused in the user name.
 */
bool viewer_form_insert(struct viewer_form *f, const char *utf8);

/* Remove the character before / after the cursor; false when there is none. */
bool viewer_form_backspace(struct viewer_form *f);
bool viewer_form_delete(struct viewer_form *f);

/* Move the cursor one character, or to either end; false when it did not move. */
bool viewer_form_left(struct viewer_form *f);
bool viewer_form_right(struct viewer_form *f);
void viewer_form_home(struct viewer_form *f);
void viewer_form_end(struct viewer_form *f);

/* Focus the next (or, @backwards, the previous) field shown, wrapping around. */
void viewer_form_next(struct viewer_form *f, bool backwards);

/* Focus @field (ignored when it is not shown), cursor at its end. */
void viewer_form_focus(struct viewer_form *f, enum viewer_form_field field);

/* Show the code field (empty, focused), or hide and wipe it. */
void viewer_form_show_totp(struct viewer_form *f, bool on);

/* Whether @field is shown. */
bool viewer_form_shown(const struct viewer_form *f, enum viewer_form_field field);

/* The text of @field (NUL terminated). */
const char *viewer_form_value(const struct viewer_form *f, enum viewer_form_field field);

/*
 * What stops the form from being sent ("Enter your user name."), focusing
 * that field; NULL when it can be sent.
 */
const char *viewer_form_check(struct viewer_form *f);

/*
 * What @field shows in @out: its text, or for the password one U+2022 per
 * character. Returns the byte offset in @out where the cursor goes.
 */
size_t viewer_form_display(const struct viewer_form *f, enum viewer_form_field field, char *out,
                           size_t size);

#endif
