// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/app.h"

#include <ctype.h>
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
#define DEFAULT_HZ 60 /* when the display does not say its refresh rate */
#define MAX_HZ 240
#define GL_RENDERER_NAME 0x1F01 /* GL_RENDERER, without the OpenGL headers */

struct viewer_app {
	SDL_Window *window;
	SDL_Renderer *renderer;
	struct viewer_loop *loop;
	struct viewer_text *text;
	struct viewer_screen *screen;
	struct viewer_kiosk *kiosk; /* broker mode, else NULL */
	const struct viewer_options *o;
	bool quit;            /* end the viewer, whatever the screen */
	guint settle_id;      /* a second redraw after a resize */
	guint frame_id;       /* the next frame is due */
	bool redraw;          /* draw the whole window */
	bool changed;         /* draw what changed (render_changes) */
	bool keeps_frame;     /* the renderer keeps the last frame: software */
	int drawn_w, drawn_h; /* the output size render() last drew */
	gint64 frame_us;      /* when the last frame was shown */
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

void viewer_app_update(struct viewer_app *app)
{
	app->changed = true;
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

/*
 * Show the rectangles render_changes() drew. SDL_RenderPresent() of the
 * software renderer sends the whole window surface to the X server
 * (SDL_UpdateWindowSurface()); the software renderer draws into that very
 * surface, so running its queued drawing and sending only these rectangles
 * shows the same picture for a fraction of the copying.
 */
static void show_changes(struct viewer_app *app, const SDL_Rect *rects, int n)
{
	if (n == 0)
		return;
	SDL_RenderFlush(app->renderer);
	if (SDL_GetWindowFlags(app->window) & (SDL_WINDOW_HIDDEN | SDL_WINDOW_MINIMIZED))
		return; /* as SDL_RenderPresent(); showing the window again redraws all of it */
	if (SDL_UpdateWindowSurfaceRects(app->window, rects, n) < 0) {
		log_debug("cannot show the changed rectangles: %s", SDL_GetError());
		app->redraw = true;
	}
	app->frame_us = g_get_monotonic_time();
}

static void render(struct viewer_app *app)
{
	int w, h;
	bool all = app->redraw;

	app->redraw = app->changed = false;
	if (SDL_GetRendererOutputSize(app->renderer, &w, &h) < 0)
		SDL_GetWindowSize(app->window, &w, &h);
	if (!all && app->keeps_frame && app->screen->ops->render_changes && w == app->drawn_w &&
	    h == app->drawn_h) {
		SDL_Rect rects[VIEWER_CHANGES_MAX];
		int n = app->screen->ops->render_changes(app->screen, w, h, rects);

		if (n >= 0 && n <= VIEWER_CHANGES_MAX) {
			show_changes(app, rects, n);
			return;
		}
	}
	app->screen->ops->render(app->screen, w, h);
	SDL_RenderPresent(app->renderer);
	app->drawn_w = w;
	app->drawn_h = h;
	app->frame_us = g_get_monotonic_time();
}

static gboolean frame_due(gpointer data)
{
	struct viewer_app *app = data;

	app->frame_id = 0;
	return G_SOURCE_REMOVE;
}

/*
 * Draw now, or at the display's next frame when the last one was shown
 * less than a refresh period ago: a desktop that changes in many small
 * updates (one per VNC FramebufferUpdate, one per SPICE draw) is drawn at
 * most once per frame of the display, with everything that changed
 * meanwhile.
 */
static void render_when_due(struct viewer_app *app)
{
	SDL_DisplayMode mode;
	int hz = 0, index = SDL_GetWindowDisplayIndex(app->window);
	gint64 wait_us;

	if (index >= 0 && SDL_GetCurrentDisplayMode(index, &mode) == 0)
		hz = mode.refresh_rate;
	if (hz <= 0)
		hz = DEFAULT_HZ;
	if (hz > MAX_HZ)
		hz = MAX_HZ;
	wait_us = app->frame_us + 1000000 / hz - g_get_monotonic_time();
	if (wait_us <= 0 || app->frame_us == 0) {
		if (app->frame_id)
			g_source_remove(app->frame_id);
		app->frame_id = 0;
		render(app);
	} else if (!app->frame_id) {
		app->frame_id = g_timeout_add((guint)((wait_us + 999) / 1000), frame_due, app);
	}
}

static void set_hints(const struct viewer_options *o)
{
	/*
	 * SDL's software renderer draws into the window surface; have SDL send
	 * that to the X server as a shared-memory image, not through an OpenGL
	 * texture, which is the software rasterizer again on a machine where
	 * the software renderer was chosen (below). SDL_FRAMEBUFFER_ACCELERATION
	 * in the environment still wins.
	 */
	SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
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

/*
 * The OpenGL implementation behind @r into @name; whether it is a software
 * rasterizer (Mesa's llvmpipe, softpipe and swrast, also under zink; other
 * systems' "Software Rasterizer" or "Software Renderer").
 */
static bool gl_is_software(SDL_Renderer *r, char *name, size_t size)
{
	typedef const unsigned char *(*get_string_fn)(unsigned int);
	static const char *const soft[] = { "llvmpipe", "softpipe", "swrast", "software rasterizer",
		                            "software renderer" };
	SDL_RendererInfo info;
	get_string_fn get_string;
	const char *s;
	char lower[256];
	size_t i;

	name[0] = '\0';
	if (SDL_GetRendererInfo(r, &info) < 0 || strncmp(info.name, "opengl", 6) != 0 ||
	    !SDL_GL_GetCurrentContext())
		return false;
	get_string = (get_string_fn)SDL_GL_GetProcAddress("glGetString");
	s = get_string ? (const char *)get_string(GL_RENDERER_NAME) : NULL;
	if (!s)
		return false;
	snprintf(name, size, "%s", s);
	for (i = 0; s[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)s[i]);
	lower[i] = '\0';
	for (i = 0; i < sizeof(soft) / sizeof(soft[0]); i++)
		if (strstr(lower, soft[i]))
			return true;
	return false;
}

static SDL_Window *make_window(void)
{
	/* Hidden until the renderer is chosen: that may take a second window. */
	return SDL_CreateWindow("vdi-viewer", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
	                        INITIAL_WIDTH, INITIAL_HEIGHT,
	                        SDL_WINDOW_RESIZABLE | SDL_WINDOW_HIDDEN);
}

/*
 * SDL's choice of renderer, unless that is OpenGL drawn by the CPU (no GPU,
 * or no driver for it: Mesa's llvmpipe), which renders the whole window
 * at every frame, in several threads; SDL's software renderer then copies
 * only what changed. SDL_RENDER_DRIVER in the environment is obeyed as it
 * is. Returns 0, or -ENODEV with a message in @message.
 */
static int make_renderer(struct viewer_app *app, char *message, size_t size)
{
	const char *hint = SDL_GetHint(SDL_HINT_RENDER_DRIVER);
	bool asked = hint && *hint, soft;
	SDL_RendererInfo info;
	char gl[128] = "", why[200] = "";

	app->renderer = SDL_CreateRenderer(app->window, -1, 0);
	soft = app->renderer && gl_is_software(app->renderer, gl, sizeof(gl));
	if (soft && !asked) {
		snprintf(why, sizeof(why), " (OpenGL here is %s, drawn by the CPU)", gl);
		SDL_DestroyRenderer(app->renderer);
		app->renderer = NULL;
		/* SDL made the window over for OpenGL; a plain one for the software renderer. */
		SDL_DestroyWindow(app->window);
		app->window = make_window();
		if (!app->window) {
			snprintf(message, size, "cannot open a window: %s", SDL_GetError());
			return -ENODEV;
		}
		app->renderer = SDL_CreateRenderer(app->window, -1, SDL_RENDERER_SOFTWARE);
	} else if (gl[0]) {
		snprintf(why, sizeof(why), " (%s)", gl);
	}
	if (!app->renderer)
		app->renderer = SDL_CreateRenderer(app->window, -1, SDL_RENDERER_SOFTWARE);
	if (!app->renderer) {
		snprintf(message, size, "cannot draw in the window: %s", SDL_GetError());
		return -ENODEV;
	}
	if (SDL_GetRendererInfo(app->renderer, &info) == 0) {
		app->keeps_frame = (info.flags & SDL_RENDERER_SOFTWARE) != 0;
		log_info("renderer: %s%s%s", info.name, why, asked ? " (SDL_RENDER_DRIVER)" : "");
	}
	return 0;
}

int viewer_app_run(const struct viewer_options *o, char *message, size_t size)
{
	struct viewer_app app = { 0 };
	int r;

	message[0] = '\0';
	app.o = o;
	set_hints(o);
	if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) < 0) {
		snprintf(message, size, "cannot open a window: %s", SDL_GetError());
		return VIEWER_EXIT_ERROR;
	}
	app.window = make_window();
	if (!app.window) {
		snprintf(message, size, "cannot open a window: %s", SDL_GetError());
		r = VIEWER_EXIT_ERROR;
		goto out_sdl;
	}
	if (make_renderer(&app, message, size) < 0) {
		r = VIEWER_EXIT_ERROR;
		goto out_window;
	}
	SDL_ShowWindow(app.window);
	if (o->ui.fullscreen)
		viewer_app_set_fullscreen(&app, true);
	r = viewer_text_new(app.renderer, &app.text);
	if (r == 0)
		r = viewer_loop_new(app.window, &app.loop);
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
		if (app.redraw || app.changed)
			render_when_due(&app);
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
	if (app.frame_id)
		g_source_remove(app.frame_id);
	viewer_loop_free(app.loop);
	viewer_text_free(app.text);
	SDL_DestroyRenderer(app.renderer);
out_window:
	SDL_DestroyWindow(app.window);
out_sdl:
	SDL_Quit();
	return r;
}
