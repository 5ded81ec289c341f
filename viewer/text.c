// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL_ttf.h>

#include "proto/log.h"

#define CACHE_SIZE 48
#define PANEL_TITLE_PT 20
#define PANEL_DETAIL_PT 14
#define OVERLAY_PT 13
#define PANEL_LINES 3
#define HEADING_PT 24
#define INPUT_PT 16

static const char *const font_dirs[] = {
	"/usr/share/fonts/truetype/dejavu/", "/usr/share/fonts/TTF/",   "/usr/share/fonts/dejavu/",
	"/usr/share/fonts/truetype/",        "/usr/local/share/fonts/",
};

static const char *const regular_names[] = { "DejaVuSans.ttf", "dejavu/DejaVuSans.ttf",
	                                     "liberation/LiberationSans-Regular.ttf",
	                                     "freefont/FreeSans.ttf" };
static const char *const bold_names[] = { "DejaVuSans-Bold.ttf", "dejavu/DejaVuSans-Bold.ttf",
	                                  "liberation/LiberationSans-Bold.ttf",
	                                  "freefont/FreeSansBold.ttf" };

/* One rendered string, kept while it is drawn again and again. */
struct cached {
	TTF_Font *font;
	SDL_Color color;
	char *text;
	SDL_Texture *tex;
	int w, h;
	unsigned int used;
};

struct viewer_text {
	SDL_Renderer *r;
	TTF_Font *title, *detail, *small, *heading, *input;
	struct cached cache[CACHE_SIZE];
	unsigned int clock;
};

const char *viewer_font_find(int bold)
{
	static char path[2][512];
	const char *env = getenv("VDI_VIEWER_FONT");
	const char *const *names = bold ? bold_names : regular_names;

	if (env && *env && access(env, R_OK) == 0)
		return env;
	for (size_t d = 0; d < sizeof(font_dirs) / sizeof(font_dirs[0]); d++)
		for (size_t n = 0; n < 4; n++) {
			snprintf(path[!!bold], sizeof(path[0]), "%s%s", font_dirs[d], names[n]);
			if (access(path[!!bold], R_OK) == 0)
				return path[!!bold];
		}
	return NULL;
}

int viewer_text_new(SDL_Renderer *r, struct viewer_text **ret)
{
	struct viewer_text *t = calloc(1, sizeof(*t));
	const char *regular = viewer_font_find(0), *bold = viewer_font_find(1);

	if (!t)
		return -ENOMEM;
	t->r = r;
	*ret = t;
	if (TTF_Init() < 0) {
		log_warn("SDL_ttf: %s; no text on screen", TTF_GetError());
		return 0;
	}
	if (!regular) {
		log_warn("no font found (install fonts-dejavu-core or set VDI_VIEWER_FONT); "
		         "no text on screen");
		return 0;
	}
	t->detail = TTF_OpenFont(regular, PANEL_DETAIL_PT);
	t->small = TTF_OpenFont(regular, OVERLAY_PT);
	t->title = TTF_OpenFont(bold ? bold : regular, PANEL_TITLE_PT);
	t->heading = TTF_OpenFont(bold ? bold : regular, HEADING_PT);
	t->input = TTF_OpenFont(regular, INPUT_PT);
	if (!t->detail || !t->small || !t->title || !t->heading || !t->input) {
		log_warn("cannot open font %s: %s; no text on screen", regular, TTF_GetError());
		return 0;
	}
	log_debug("font: %s", regular);
	return 0;
}

static struct cached *render(struct viewer_text *t, TTF_Font *font, SDL_Color color,
                             const char *text)
{
	struct cached *slot = &t->cache[0];
	SDL_Surface *s;

	if (!font || !text || !*text)
		return NULL;
	t->clock++;
	for (int i = 0; i < CACHE_SIZE; i++) {
		struct cached *c = &t->cache[i];

		if (c->tex && c->font == font && memcmp(&c->color, &color, sizeof(color)) == 0 &&
		    strcmp(c->text, text) == 0) {
			c->used = t->clock;
			return c;
		}
		if (c->used < slot->used)
			slot = c;
	}
	if (slot->tex)
		SDL_DestroyTexture(slot->tex);
	free(slot->text);
	memset(slot, 0, sizeof(*slot));
	s = TTF_RenderUTF8_Blended(font, text, color);
	if (!s)
		return NULL;
	slot->tex = SDL_CreateTextureFromSurface(t->r, s);
	slot->w = s->w;
	slot->h = s->h;
	SDL_FreeSurface(s);
	slot->text = strdup(text);
	if (!slot->tex || !slot->text) {
		if (slot->tex)
			SDL_DestroyTexture(slot->tex);
		free(slot->text);
		memset(slot, 0, sizeof(*slot));
		return NULL;
	}
	slot->font = font;
	slot->color = color;
	slot->used = t->clock;
	return slot;
}

static void blit(struct viewer_text *t, const struct cached *c, int x, int y)
{
	SDL_Rect dst = { x, y, c->w, c->h };

	SDL_RenderCopy(t->r, c->tex, NULL, &dst);
}

static void fill(SDL_Renderer *r, int x, int y, int w, int h, Uint8 red, Uint8 green, Uint8 blue,
                 Uint8 alpha)
{
	SDL_Rect rect = { x, y, w, h };

	SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
	SDL_SetRenderDrawColor(r, red, green, blue, alpha);
	SDL_RenderFillRect(r, &rect);
}

void viewer_text_panel(struct viewer_text *t, int out_w, int out_h, const char *title,
                       const char *detail, int dim)
{
	static const SDL_Color white = { 0xf2, 0xf3, 0xf5, 0xff };
	static const SDL_Color grey = { 0xb5, 0xba, 0xc1, 0xff };
	struct cached *ct, *cd[PANEL_LINES] = { NULL };
	int w, h, x, y, pad = 24, gap = 8, nd = 0, line_h;
	char lines[PANEL_LINES][256];

	if (dim)
		fill(t->r, 0, 0, out_w, out_h, 0, 0, 0, 0x90);
	/* The detail may hold a few lines. */
	for (const char *p = detail; p && *p && nd < PANEL_LINES; nd++) {
		size_t n = strcspn(p, "\n");

		snprintf(lines[nd], sizeof(lines[nd]), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
	ct = render(t, t->title, white, title);
	w = 360;
	if (ct && ct->w + 2 * pad > w)
		w = ct->w + 2 * pad;
	for (int i = 0; i < nd; i++) {
		cd[i] = render(t, t->detail, grey, lines[i]);
		if (cd[i] && cd[i]->w + 2 * pad > w)
			w = cd[i]->w + 2 * pad;
	}
	if (w > out_w - 16)
		w = out_w - 16;
	line_h = t->detail ? TTF_FontLineSkip(t->detail) : 18;
	h = 2 * pad + (ct ? ct->h : 24) + (nd ? gap + nd * line_h : 0);
	x = (out_w - w) / 2;
	y = (out_h - h) / 2;
	/* A card: border, body, and an accent bar on its left. */
	fill(t->r, x - 1, y - 1, w + 2, h + 2, 0x4e, 0x52, 0x5a, 0xff);
	fill(t->r, x, y, w, h, 0x2b, 0x2d, 0x31, 0xf6);
	fill(t->r, x, y, 4, h, 0x3d, 0x8b, 0xfd, 0xff);
	if (ct)
		blit(t, ct, x + (w - ct->w) / 2, y + pad);
	for (int i = 0; i < nd; i++)
		if (cd[i])
			blit(t, cd[i], x + (w - cd[i]->w) / 2,
			     y + pad + (ct ? ct->h : 24) + gap + i * line_h);
}

void viewer_text_overlay(struct viewer_text *t, const char *const *lines, int n)
{
	static const SDL_Color white = { 0xf2, 0xf3, 0xf5, 0xff };
	struct cached *c[8];
	int w = 0, h = 0, x = 12, y = 12, pad = 10, line_h;

	if (n > 8)
		n = 8;
	line_h = t->small ? TTF_FontLineSkip(t->small) : 16;
	for (int i = 0; i < n; i++) {
		c[i] = render(t, t->small, white, lines[i]);
		if (c[i] && c[i]->w > w)
			w = c[i]->w;
	}
	h = n * line_h;
	fill(t->r, x, y, w + 2 * pad, h + 2 * pad - 4, 0x11, 0x12, 0x14, 0xc8);
	for (int i = 0; i < n; i++)
		if (c[i])
			blit(t, c[i], x + pad, y + pad - 2 + i * line_h);
}

static TTF_Font *face(struct viewer_text *t, enum viewer_font font)
{
	switch (font) {
	case VIEWER_FONT_HEADING:
		return t->heading;
	case VIEWER_FONT_TITLE:
		return t->title;
	case VIEWER_FONT_BODY:
		return t->detail;
	case VIEWER_FONT_INPUT:
		return t->input;
	default:
		return t->small;
	}
}

int viewer_text_draw(struct viewer_text *t, enum viewer_font font, SDL_Color color,
                     const char *text, int x, int y)
{
	struct cached *c = render(t, face(t, font), color, text);

	if (!c)
		return 0;
	blit(t, c, x, y);
	return c->w;
}

int viewer_text_line_height(struct viewer_text *t, enum viewer_font font)
{
	static const int guess[VIEWER_FONT_COUNT] = { 30, 26, 18, 20, 16 };
	TTF_Font *f = face(t, font);

	return f ? TTF_FontLineSkip(f) : guess[font < VIEWER_FONT_COUNT ? font : 0];
}

void viewer_text_measure(struct viewer_text *t, enum viewer_font font, const char *text, int *w,
                         int *h)
{
	TTF_Font *f = face(t, font);

	*w = 0;
	*h = viewer_text_line_height(t, font);
	if (f && text && *text)
		TTF_SizeUTF8(f, text, w, h);
}

void viewer_fill_rect(SDL_Renderer *r, int x, int y, int w, int h, SDL_Color c)
{
	fill(r, x, y, w, h, c.r, c.g, c.b, c.a);
}

void viewer_text_free(struct viewer_text *t)
{
	if (!t)
		return;
	for (int i = 0; i < CACHE_SIZE; i++) {
		if (t->cache[i].tex)
			SDL_DestroyTexture(t->cache[i].tex);
		free(t->cache[i].text);
	}
	if (t->title)
		TTF_CloseFont(t->title);
	if (t->detail)
		TTF_CloseFont(t->detail);
	if (t->small)
		TTF_CloseFont(t->small);
	if (t->heading)
		TTF_CloseFont(t->heading);
	if (t->input)
		TTF_CloseFont(t->input);
	if (TTF_WasInit())
		TTF_Quit();
	free(t);
}
