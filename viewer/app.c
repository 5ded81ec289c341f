// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/app.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL_syswm.h>
#include <glib.h>

#include "proto/log.h"
#include "viewer/desktop.h"
#include "viewer/kiosk.h"
#include "viewer/loop.h"
#include "viewer/text.h"

#define INITIAL_WIDTH 1024
#define INITIAL_HEIGHT 768

struct viewer_app {
	SDL_Window *window;
	SDL_Renderer *renderer;
	struct viewer_loop *loop;
	struct viewer_text *text;
	struct viewer_screen *screen;
	struct viewer_kiosk *kiosk; /* broker mode, else NULL */
	const struct viewer_options *o;
	bool quit;       /* end the viewer, whatever the screen */
	guint settle_id; /* a second redraw after a resize */
	bool redraw;
	bool fullscreen;
	bool fake_fullscreen; /* a borderless window over the display (no window manager) */
	SDL_Rect windowed;    /* where the window was before full screen */
	bool done;
	int status;
	char message[640];
};

SDL_Window *viewer_app_window(struct viewer_app *app)
{
	return app->window;
}

SDL_Renderer *viewer_app_renderer(struct viewer_app *app)
{
	return app->renderer;
}

struct viewer_text *viewer_app_text(struct viewer_app *app)
{
	return app->text;
}

/*
 * Whether a window manager runs. Full screen in SDL asks the window manager
 * (_NET_WM_STATE_FULLSCREEN); a kiosk's bare X server has none, and the
 * window would stay as it is while SDL draws for the whole screen.
 */
static bool have_window_manager(SDL_Window *window)
{
#ifdef SDL_VIDEO_DRIVER_X11
	SDL_SysWMinfo info;
	Display *dpy;
	Atom check, type;
	int format;
	unsigned long n = 0, after;
	unsigned char *data = NULL;
	bool found;

	SDL_VERSION(&info.version);
	if (!SDL_GetWindowWMInfo(window, &info) || info.subsystem != SDL_SYSWM_X11)
		return true;
	dpy = info.info.x11.display;
	check = XInternAtom(dpy, "_NET_SUPPORTING_WM_CHECK", True);
	if (check == None)
		return false;
	found = XGetWindowProperty(dpy, DefaultRootWindow(dpy), check, 0, 1, False, XA_WINDOW,
	                           &type, &format, &n, &after, &data) == Success &&
	        data && n == 1;
	if (data)
		XFree(data);
	return found;
#else
	return true;
#endif
}

void viewer_app_set_fullscreen(struct viewer_app *app, bool on)
{
	SDL_Rect bounds;

	if (on == app->fullscreen)
		return;
	app->fullscreen = on;
	if (on && have_window_manager(app->window)) {
		app->fake_fullscreen = false;
		SDL_SetWindowFullscreen(app->window, SDL_WINDOW_FULLSCREEN_DESKTOP);
	} else if (on) {
		app->fake_fullscreen = true;
		SDL_GetWindowPosition(app->window, &app->windowed.x, &app->windowed.y);
		SDL_GetWindowSize(app->window, &app->windowed.w, &app->windowed.h);
		if (SDL_GetDisplayBounds(SDL_GetWindowDisplayIndex(app->window), &bounds) < 0)
			return;
		SDL_SetWindowBordered(app->window, SDL_FALSE);
		SDL_SetWindowPosition(app->window, bounds.x, bounds.y);
		SDL_SetWindowSize(app->window, bounds.w, bounds.h);
		SDL_RaiseWindow(app->window);
	} else if (app->fake_fullscreen) {
		app->fake_fullscreen = false;
		SDL_SetWindowBordered(app->window, SDL_TRUE);
		SDL_SetWindowSize(app->window, app->windowed.w, app->windowed.h);
		SDL_SetWindowPosition(app->window, app->windowed.x, app->windowed.y);
	} else {
		SDL_SetWindowFullscreen(app->window, 0);
	}
	app->redraw = true;
}

bool viewer_app_fullscreen(struct viewer_app *app)
{
	return app->fullscreen;
}

void viewer_app_redraw(struct viewer_app *app)
{
	app->redraw = true;
}

void viewer_app_screen_done(struct viewer_app *app, int status, const char *message)
{
	if (app->done)
		return;
	app->done = true;
	app->status = status;
	snprintf(app->message, sizeof(app->message), "%s", message ? message : "");
}

void viewer_app_quit(struct viewer_app *app)
{
	app->quit = true;
}

void viewer_app_set_screen(struct viewer_app *app, struct viewer_screen *screen)
{
	app->screen = screen;
	app->redraw = true;
}

static gboolean settle(gpointer data)
{
	struct viewer_app *app = data;

	app->settle_id = 0;
	app->redraw = true;
	return G_SOURCE_REMOVE;
}

static bool is_input(const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_KEYDOWN:
	case SDL_KEYUP:
	case SDL_TEXTINPUT:
	case SDL_MOUSEMOTION:
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
	case SDL_MOUSEWHEEL:
	case SDL_FINGERDOWN:
		return true;
	default:
		return false;
	}
}

static void handle(struct viewer_app *app, const SDL_Event *ev)
{
	if (viewer_loop_is_wakeup(app->loop, ev))
		return;
	if (ev->type == SDL_QUIT) {
		/* SIGINT or SIGTERM (or closing the window outside broker mode): a normal end. */
		app->quit = true;
		return;
	}
	if (ev->type == SDL_WINDOWEVENT && ev->window.event == SDL_WINDOWEVENT_CLOSE) {
		/* Broker mode sees the close itself (SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE is off). */
		if (app->o->broker.kiosk && !app->o->broker.allow_quit)
			log_info("kiosk: closing the window is not allowed (see --allow-quit)");
		else
			app->quit = true;
		return;
	}
	if (ev->type == SDL_WINDOWEVENT && (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
	                                    ev->window.event == SDL_WINDOWEVENT_EXPOSED)) {
		/*
		 * Draw again, and once more a moment later: Mesa's GLX resizes its
		 * back buffer lazily, so the first frame after a resize (a bare X
		 * server's full screen, right at start) can come out at the old size.
		 */
		app->redraw = true;
		if (!app->settle_id)
			app->settle_id = g_timeout_add(150, settle, app);
	}
	if (app->kiosk && is_input(ev))
		viewer_kiosk_activity(app->kiosk);
	if (app->screen)
		app->screen->ops->event(app->screen, ev);
}

static void render(struct viewer_app *app)
{
	int w, h;

	app->redraw = false;
	if (SDL_GetRendererOutputSize(app->renderer, &w, &h) < 0)
		SDL_GetWindowSize(app->window, &w, &h);
	app->screen->ops->render(app->screen, w, h);
	SDL_RenderPresent(app->renderer);
}

static void set_hints(const struct viewer_options *o)
{
	if (o->broker.url)
		SDL_SetHint(SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, "0");
	SDL_SetHint(SDL_HINT_APP_NAME, "vdi-viewer");
	/* The first click into the window goes to the desktop too. */
	SDL_SetHint(SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, "1");
	/* Keep the compositor: this is a desktop, not a game. */
	SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
	SDL_SetHint(SDL_HINT_VIDEO_MINIMIZE_ON_FOCUS_LOSS, "0");
	SDL_SetHint(SDL_HINT_GRAB_KEYBOARD, "1");
}

int viewer_app_run(const struct viewer_options *o, char *message, size_t size)
{
	struct viewer_app app = { 0 };
	Uint32 flags = SDL_WINDOW_RESIZABLE;
	int r;

	message[0] = '\0';
	app.o = o;
	set_hints(o);
	if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) < 0) {
		snprintf(message, size, "cannot open a window: %s", SDL_GetError());
		return VIEWER_EXIT_ERROR;
	}
	app.window =
	        SDL_CreateWindow("vdi-viewer", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
	                         INITIAL_WIDTH, INITIAL_HEIGHT, flags);
	if (!app.window) {
		snprintf(message, size, "cannot open a window: %s", SDL_GetError());
		r = VIEWER_EXIT_ERROR;
		goto out_sdl;
	}
	app.renderer = SDL_CreateRenderer(app.window, -1, 0);
	if (!app.renderer)
		app.renderer = SDL_CreateRenderer(app.window, -1, SDL_RENDERER_SOFTWARE);
	if (!app.renderer) {
		snprintf(message, size, "cannot draw in the window: %s", SDL_GetError());
		r = VIEWER_EXIT_ERROR;
		goto out_window;
	}
	if (o->ui.fullscreen)
		viewer_app_set_fullscreen(&app, true);
	{
		SDL_RendererInfo info;

		if (SDL_GetRendererInfo(app.renderer, &info) == 0)
			log_info("renderer: %s", info.name);
	}
	r = viewer_text_new(app.renderer, &app.text);
	if (r == 0)
		r = viewer_loop_new(&app.loop);
	if (r == 0 && o->broker.url) {
		r = viewer_kiosk_new(&app, o, &app.kiosk, message, size);
		if (r < 0) {
			r = VIEWER_EXIT_ERROR;
			goto out_screen;
		}
	} else if (r == 0) {
		r = viewer_desktop_new(&app, &o->session, &o->ui, NULL, &app.screen);
	}
	if (r < 0) {
		snprintf(message, size, "cannot start: %s", strerror(-r));
		r = VIEWER_EXIT_ERROR;
		goto out_screen;
	}
	app.redraw = true;

	while (!app.quit) {
		SDL_Event ev;

		while (!app.quit && !app.done && SDL_PollEvent(&ev))
			handle(&app, &ev);
		if (app.quit)
			break;
		if (app.done) {
			/* Broker mode goes on with the next screen; otherwise the viewer ends. */
			if (!app.kiosk)
				break;
			app.screen->ops->free(app.screen);
			app.screen = NULL;
			app.done = false;
			if (viewer_kiosk_next(app.kiosk, app.status, app.message) < 0 ||
			    !app.screen) {
				snprintf(app.message, sizeof(app.message),
				         "cannot show the next screen");
				app.status = VIEWER_EXIT_ERROR;
				break;
			}
			app.status = VIEWER_EXIT_OK;
			app.message[0] = '\0';
			continue;
		}
		if (app.redraw)
			render(&app);
		if (viewer_loop_wait(app.loop, &ev, -1) == 1)
			handle(&app, &ev);
	}
	r = app.quit ? VIEWER_EXIT_OK : app.status;
	snprintf(message, size, "%s", app.quit ? "" : app.message);

out_screen:
	if (app.screen)
		app.screen->ops->free(app.screen);
	viewer_kiosk_free(app.kiosk);
	if (app.settle_id)
		g_source_remove(app.settle_id);
	viewer_loop_free(app.loop);
	viewer_text_free(app.text);
	SDL_DestroyRenderer(app.renderer);
out_window:
	SDL_DestroyWindow(app.window);
out_sdl:
	SDL_Quit();
	return r;
}
