/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the vdi-viewer integration tests (test_viewer_*.c):
 * run vdi-viewer on an Xvfb display, find its window, look at it with
 * import(1) and drive it with xdotool(1), as a person at the screen would.
 * Static functions: each test program includes this once.
 */
#ifndef VDI_TESTS_VIEWER_UTIL_H
#define VDI_TESTS_VIEWER_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define VIEWER_WAIT_MS 30000

struct viewer {
	pid_t pid;
	const struct xvfb *x;
	char log[400];
	char display_env[32];
	unsigned long window;
};

/* Run "DISPLAY=... @fmt" in a shell; its exit status, its stdout in @out (may be NULL). */
static inline int __attribute__((format(printf, 4, 5)))
xsh(const struct xvfb *x, char *out, size_t size, const char *fmt, ...)
{
	char cmd[2048];
	size_t len = 0;
	va_list ap;
	FILE *p;
	int n, status;

	n = snprintf(cmd, sizeof(cmd), "DISPLAY=%s ", x->name);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>/dev/null", sizeof(cmd) - strlen(cmd) - 1);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (out && size) {
		while (len + 1 < size && (n = (int)fread(out + len, 1, size - 1 - len, p)) > 0)
			len += (size_t)n;
		out[len] = '\0';
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Under the sanitizers (scripts/test.sh --sanitize), draw with SDL's
 * software renderer: Mesa's GL driver leaks a little at exit and is unloaded
 * before LeakSanitizer reports, so no suppression can name it. Otherwise the
 * default (accelerated) renderer is what gets tested. Appends to @envv at
 * @e; the new count.
 */
static inline int sanitizer_env(const char **envv, int e)
{
	if (getenv("ASAN_OPTIONS") || getenv("LSAN_OPTIONS")) {
		envv[e++] = "SDL_RENDER_DRIVER=software";
		envv[e++] = "SDL_FRAMEBUFFER_ACCELERATION=0";
	}
	return e;
}

/*
 * Start vdi-viewer with @args (NULL-terminated) on @x, its output in
 * @dir/@name.log, with "NAME=value" strings @env (may be NULL) added.
 */
static inline void viewer_start(struct viewer *v, const struct xvfb *x, const char *dir,
                                const char *name, const char *const *args, const char *const *env)
{
	const char *argv[32], *envv[10];
	int n = 0, e = 0;

	memset(v, 0, sizeof(*v));
	v->x = x;
	snprintf(v->log, sizeof(v->log), "%s/%s.log", dir, name);
	snprintf(v->display_env, sizeof(v->display_env), "DISPLAY=%s", x->name);
	argv[n++] = harness_build_path("viewer/vdi-viewer");
	argv[n++] = "--log-level";
	argv[n++] = "info";
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	envv[e++] = v->display_env;
	e = sanitizer_env(envv, e);
	for (int i = 0; env && env[i] && e < 9; i++)
		envv[e++] = env[i];
	envv[e] = NULL;
	v->pid = harness_spawn(argv, envv, v->log);
	ck_assert_int_gt(v->pid, 0);
}

/* Start "exec vdi-viewer @shell_args" through sh(1), for redirections; else as viewer_start(). */
static inline void viewer_start_sh(struct viewer *v, const struct xvfb *x, const char *dir,
                                   const char *name, const char *shell_args)
{
	static char cmd[1024];

	snprintf(cmd, sizeof(cmd), "exec '%s' --log-level info %s",
	         harness_build_path("viewer/vdi-viewer"), shell_args);
	memset(v, 0, sizeof(*v));
	v->x = x;
	snprintf(v->log, sizeof(v->log), "%s/%s.log", dir, name);
	snprintf(v->display_env, sizeof(v->display_env), "DISPLAY=%s", x->name);
	{
		const char *envv[4] = { v->display_env };

		sanitizer_env(envv, 1);
		v->pid =
		        harness_spawn((const char *const[]){ "sh", "-c", cmd, NULL }, envv, v->log);
	}
	ck_assert_int_gt(v->pid, 0);
}

/* The viewer's output so far (malloc'd). */
static inline char *viewer_log(const struct viewer *v)
{
	FILE *f = fopen(v->log, "rb");
	char *buf = calloc(1, 65536);
	size_t n;

	if (f) {
		n = fread(buf, 1, 65535, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

/* Wait for the viewer to exit: its exit status, or -ETIMEDOUT. */
static inline int viewer_wait_exit(struct viewer *v, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	int status;

	while (harness_now_ms() < deadline) {
		pid_t r = waitpid(v->pid, &status, WNOHANG);

		if (r == v->pid) {
			v->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(20000);
	}
	return -ETIMEDOUT;
}

static inline bool viewer_running(struct viewer *v)
{
	return v->pid > 0 && waitpid(v->pid, NULL, WNOHANG) == 0;
}

/* SIGTERM (as closing the window would): the exit status. */
static inline int viewer_stop(struct viewer *v)
{
	int r;

	if (v->pid <= 0)
		return -ECHILD;
	kill(v->pid, SIGTERM);
	r = viewer_wait_exit(v, 10000);
	if (r == -ETIMEDOUT) {
		harness_stop(v->pid, 0);
		v->pid = 0;
	}
	return r;
}

/* SIGTERM, and a clean exit (status 0) expected; the viewer's output when not. */
#define VIEWER_STOP_CLEANLY(v)                                                               \
	do {                                                                                 \
		int status_ = viewer_stop(v);                                                \
		ck_assert_msg(status_ == 0, "vdi-viewer ended with status %d:\n%s", status_, \
		              viewer_log(v));                                                \
	} while (0)

/* Wait for the viewer's window to show up; its X id. */
static inline unsigned long viewer_window(struct viewer *v)
{
	int64_t deadline = harness_now_ms() + VIEWER_WAIT_MS;
	char out[256];

	while (harness_now_ms() < deadline) {
		if (xsh(v->x, out, sizeof(out), "xdotool search --onlyvisible --pid %d", v->pid) ==
		            0 &&
		    sscanf(out, "%lu", &v->window) == 1)
			return v->window;
		ck_assert_msg(viewer_running(v), "vdi-viewer exited:\n%s", viewer_log(v));
		usleep(100000);
	}
	ck_abort_msg("no window from vdi-viewer:\n%s", viewer_log(v));
	return 0;
}

static inline void window_size(const struct viewer *v, int *w, int *h)
{
	char out[512], *p;

	*w = *h = -1;
	if (xsh(v->x, out, sizeof(out), "xdotool getwindowgeometry --shell %lu", v->window) != 0)
		return;
	if ((p = strstr(out, "WIDTH=")))
		*w = atoi(p + 6);
	if ((p = strstr(out, "HEIGHT=")))
		*h = atoi(p + 7);
}

/* Wait until the window is @w x @h. */
static inline void expect_window_size(const struct viewer *v, int w, int h)
{
	int64_t deadline = harness_now_ms() + VIEWER_WAIT_MS;
	int cw, ch;

	do {
		window_size(v, &cw, &ch);
		if (cw == w && ch == h)
			return;
		usleep(100000);
	} while (harness_now_ms() < deadline);
	ck_abort_msg("the window is %dx%d, not %dx%d", cw, ch, w, h);
}

static inline void window_name(const struct viewer *v, char *out, size_t size)
{
	out[0] = '\0';
	xsh(v->x, out, size, "xdotool getwindowname %lu", v->window);
	out[strcspn(out, "\n")] = '\0';
}

/* What the window shows, via import(1) into @path: 0xRRGGBB pixels (malloc'd) or NULL. */
static inline uint32_t *window_shot(const struct viewer *v, const char *path, unsigned int *w,
                                    unsigned int *h)
{
	uint32_t *px = NULL;

	if (xsh(v->x, NULL, 0, "import -window %lu '%s'", v->window, path) != 0 ||
	    png_load(path, &px, w, h) < 0)
		return NULL;
	return px;
}

/*
 * Wait until the window shows exactly what the guest's screendump shows,
 * pixel for pixel at 1:1. The clock in the top bar may tick between the
 * two pictures, so compare again until they agree. The last picture of
 * the window stays in @path.
 */
static inline void expect_window_equals_screendump(struct vm *vm, const struct viewer *v,
                                                   const char *path)
{
	int64_t deadline = harness_now_ms() + VIEWER_WAIT_MS;
	unsigned long diff = ~0UL;
	unsigned int w = 0, h = 0, sw = 0, sh = 0;

	while (harness_now_ms() < deadline) {
		uint32_t *ref = vm_screendump(vm, &w, &h), *shot;

		ck_assert_ptr_nonnull(ref);
		shot = window_shot(v, path, &sw, &sh);
		if (shot && sw == w && sh == h)
			diff = px_diff_at(shot, sw, ref, w, h, 0, 0);
		free(ref);
		free(shot);
		if (diff == 0)
			return;
		usleep(200000);
	}
	ck_abort_msg("the window (%ux%u) differs from the screendump (%ux%u) in %lu pixels", sw, sh,
	             w, h, diff);
}

/* Give the window the keyboard focus, as a click on it would. */
static inline void focus(const struct viewer *v)
{
	ck_assert_int_eq(xsh(v->x, NULL, 0, "xdotool windowfocus --sync %lu", v->window), 0);
}

/* Type @text into the focused window, one key at a time, and press Return. */
static inline void type_line(const struct viewer *v, const char *text)
{
	ck_assert_int_eq(xsh(v->x, NULL, 0, "xdotool type --delay 60 '%s'", text), 0);
	ck_assert_int_eq(xsh(v->x, NULL, 0, "xdotool key --delay 60 Return"), 0);
}

/* Click the left button at (@x, @y) of the window. */
static inline void click(const struct viewer *v, int x, int y)
{
	ck_assert_int_eq(xsh(v->x, NULL, 0,
	                     "xdotool mousemove --window %lu %d %d sleep 0.3 click 1", v->window, x,
	                     y),
	                 0);
}

/* Write @text to @dir/@name; the path (static, one of four). */
static inline const char *write_file(const char *dir, const char *name, const char *text)
{
	static char path[4][400];
	static int next;
	char *p = path[next++ % 4];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

#endif
