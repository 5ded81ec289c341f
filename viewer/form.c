// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/form.h"

#include <glib.h>
#include <string.h>

static const size_t field_max[VIEWER_FIELD_COUNT] = {
	[VIEWER_FIELD_USER] = VIEWER_FORM_USER_MAX,
	[VIEWER_FIELD_PASSWORD] = VIEWER_FORM_PASSWORD_MAX,
	[VIEWER_FIELD_TOTP] = VIEWER_FORM_TOTP_MAX,
};

static void wipe(struct viewer_form_text *t)
{
	volatile char *p = t->text;

	for (size_t i = 0; i < sizeof(t->text); i++)
		p[i] = 0;
	t->len = t->cursor = 0;
}

void viewer_form_init(struct viewer_form *f)
{
	memset(f, 0, sizeof(*f));
	f->focus = VIEWER_FIELD_USER;
}

void viewer_form_clear(struct viewer_form *f)
{
	for (int i = 0; i < VIEWER_FIELD_COUNT; i++)
		wipe(&f->f[i]);
	viewer_form_init(f);
}

void viewer_form_clear_field(struct viewer_form *f, enum viewer_form_field field)
{
	if (field < VIEWER_FIELD_COUNT)
		wipe(&f->f[field]);
}

static bool is_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

bool viewer_form_insert(struct viewer_form *f, const char *utf8)
{
	struct viewer_form_text *t = &f->f[f->focus];
	size_t n = strlen(utf8);

	if (!n || !g_utf8_validate(utf8, (gssize)n, NULL) || t->len + n > field_max[f->focus])
		return false;
	for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029)
			return false;
		if (f->focus == VIEWER_FIELD_TOTP && (c < '0' || c > '9'))
			return false;
		if (f->focus == VIEWER_FIELD_USER && g_unichar_isspace(c))
			return false;
	}
	memmove(t->text + t->cursor + n, t->text + t->cursor, t->len - t->cursor);
	memcpy(t->text + t->cursor, utf8, n);
	t->len += n;
	t->cursor += n;
	t->text[t->len] = '\0';
	return true;
}

static size_t prev_char(const struct viewer_form_text *t, size_t at)
{
	if (at == 0)
		return 0;
	at--;
	while (at > 0 && is_cont(t->text[at]))
		at--;
	return at;
}

static size_t next_char(const struct viewer_form_text *t, size_t at)
{
	if (at >= t->len)
		return t->len;
	at++;
	while (at < t->len && is_cont(t->text[at]))
		at++;
	return at;
}

/* Remove bytes [@from, @to) of @t. */
static void cut(struct viewer_form_text *t, size_t from, size_t to)
{
	memmove(t->text + from, t->text + to, t->len - to);
	memset(t->text + t->len - (to - from), 0, to - from);
	t->len -= to - from;
	t->text[t->len] = '\0';
}

bool viewer_form_backspace(struct viewer_form *f)
{
	struct viewer_form_text *t = &f->f[f->focus];
	size_t p;

	if (t->cursor == 0)
		return false;
	p = prev_char(t, t->cursor);
	cut(t, p, t->cursor);
	t->cursor = p;
	return true;
}

bool viewer_form_delete(struct viewer_form *f)
{
	struct viewer_form_text *t = &f->f[f->focus];

	if (t->cursor >= t->len)
		return false;
	cut(t, t->cursor, next_char(t, t->cursor));
	return true;
}

bool viewer_form_left(struct viewer_form *f)
{
	struct viewer_form_text *t = &f->f[f->focus];
	size_t p = prev_char(t, t->cursor);

	if (p == t->cursor)
		return false;
	t->cursor = p;
	return true;
}

bool viewer_form_right(struct viewer_form *f)
{
	struct viewer_form_text *t = &f->f[f->focus];
	size_t p = next_char(t, t->cursor);

	if (p == t->cursor)
		return false;
	t->cursor = p;
	return true;
}

void viewer_form_home(struct viewer_form *f)
{
	f->f[f->focus].cursor = 0;
}

void viewer_form_end(struct viewer_form *f)
{
	f->f[f->focus].cursor = f->f[f->focus].len;
}

bool viewer_form_shown(const struct viewer_form *f, enum viewer_form_field field)
{
	return field < VIEWER_FIELD_COUNT && (field != VIEWER_FIELD_TOTP || f->totp_shown);
}

void viewer_form_next(struct viewer_form *f, bool backwards)
{
	int n = VIEWER_FIELD_COUNT, i = (int)f->focus;

	do
		i = (i + (backwards ? n - 1 : 1)) % n;
	while (!viewer_form_shown(f, (enum viewer_form_field)i));
	f->focus = (enum viewer_form_field)i;
	viewer_form_end(f);
}

void viewer_form_focus(struct viewer_form *f, enum viewer_form_field field)
{
	if (!viewer_form_shown(f, field))
		return;
	f->focus = field;
	viewer_form_end(f);
}

void viewer_form_show_totp(struct viewer_form *f, bool on)
{
	wipe(&f->f[VIEWER_FIELD_TOTP]);
	f->totp_shown = on;
	if (on)
		f->focus = VIEWER_FIELD_TOTP;
	else if (f->focus == VIEWER_FIELD_TOTP)
		viewer_form_focus(f, VIEWER_FIELD_PASSWORD);
}

const char *viewer_form_value(const struct viewer_form *f, enum viewer_form_field field)
{
	return field < VIEWER_FIELD_COUNT ? f->f[field].text : "";
}

const char *viewer_form_check(struct viewer_form *f)
{
	if (f->f[VIEWER_FIELD_USER].len == 0) {
		viewer_form_focus(f, VIEWER_FIELD_USER);
		return "Enter your user name.";
	}
	if (f->f[VIEWER_FIELD_PASSWORD].len == 0) {
		viewer_form_focus(f, VIEWER_FIELD_PASSWORD);
		return "Enter your password.";
	}
	if (f->totp_shown && f->f[VIEWER_FIELD_TOTP].len < 6) {
		viewer_form_focus(f, VIEWER_FIELD_TOTP);
		return "Enter the 6-digit code from your authenticator app.";
	}
	return NULL;
}

size_t viewer_form_display(const struct viewer_form *f, enum viewer_form_field field, char *out,
                           size_t size)
{
	const struct viewer_form_text *t = &f->f[field < VIEWER_FIELD_COUNT ? field : 0];
	size_t o = 0, cursor = 0;

	if (size == 0)
		return 0;
	if (field != VIEWER_FIELD_PASSWORD) {
		size_t n = t->len < size - 1 ? t->len : size - 1;

		memcpy(out, t->text, n);
		out[n] = '\0';
		return t->cursor < n ? t->cursor : n;
	}
	for (size_t i = 0; i <= t->len; i = next_char(t, i)) {
		if (i == t->cursor)
			cursor = o;
		if (i == t->len || o + 4 > size)
			break;
		memcpy(out + o, "\xe2\x80\xa2", 3); /* U+2022 BULLET */
		o += 3;
	}
	out[o] = '\0';
	return cursor;
}
