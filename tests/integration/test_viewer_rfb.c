// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-viewer against a plain VNC server: libvncserver in this process, with
 * none of vdi-vmm's extensions (no QEMU extended key events, no resizing on
 * request). Keys must then arrive as keysyms, the picture must still be
 * exact, a server-side resize must resize the window, and clipboard text
 * must cross both ways: the server's cut text lands on the X clipboard
 * (seen by a second viewer, which hands it back to the server).
 * Needs no KVM.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rfb/keysym.h>
#include <rfb/rfb.h>

#include "harness.h"
#include "test_viewer_util.h"

#define WAIT_MS 30000
#define PASSWORD "plain-pw"
#define MAX_KEYS 256

/* What the server saw, filled on libvncserver's thread. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint32_t keysym;
	bool down;
} keys[MAX_KEYS];
static int nr_keys;
static char cut[512];
static int cut_len = -1;

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	pthread_mutex_lock(&seen_lock);
	if (nr_keys < MAX_KEYS)
		keys[nr_keys++] = (typeof(keys[0])){ keysym, down };
	pthread_mutex_unlock(&seen_lock);
}

static void on_cut_text(char *text, int len, rfbClientPtr cl)
{
	pthread_mutex_lock(&seen_lock);
	cut_len = len < (int)sizeof(cut) ? len : (int)sizeof(cut) - 1;
	memcpy(cut, text, (size_t)cut_len);
	cut[cut_len] = '\0';
	pthread_mutex_unlock(&seen_lock);
}

/* The printable keysyms that went down, as text. */
static void typed(char *out, size_t size)
{
	size_t n = 0;

	pthread_mutex_lock(&seen_lock);
	for (int i = 0; i < nr_keys && n + 1 < size; i++)
		if (keys[i].down && keys[i].keysym >= 0x20 && keys[i].keysym < 0x7f)
			out[n++] = (char)keys[i].keysym;
	pthread_mutex_unlock(&seen_lock);
	out[n] = '\0';
}

static bool key_went(uint32_t keysym, bool down)
{
	bool found = false;

	pthread_mutex_lock(&seen_lock);
	for (int i = 0; i < nr_keys; i++)
		found |= keys[i].keysym == keysym && keys[i].down == down;
	pthread_mutex_unlock(&seen_lock);
	return found;
}

/* A picture worth comparing: gradients and a fine checker, as 0xRRGGBB. */
static uint32_t pattern(int x, int y, int w, int h)
{
	uint32_t r = (uint32_t)(x * 255 / w), g = (uint32_t)(y * 255 / h);
	uint32_t b = ((x / 3) ^ (y / 3)) & 1 ? 0xe0 : 0x20;

	return r << 16 | g << 8 | b;
}

/* libvncserver's default 32-bit format keeps red in the low byte. */
static char *make_framebuffer(int w, int h, uint32_t **ret_rgb)
{
	uint32_t *fb = malloc((size_t)w * h * 4), *rgb = malloc((size_t)w * h * 4);

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t p = pattern(x, y, w, h);

			rgb[y * w + x] = p;
			fb[y * w + x] = (p >> 16 & 0xff) | (p & 0xff00) | (p & 0xff) << 16;
		}
	*ret_rgb = rgb;
	return (char *)fb;
}

static char *passwords[] = { PASSWORD, NULL };

static rfbScreenInfoPtr server_start(int w, int h, uint32_t **ret_rgb)
{
	rfbScreenInfoPtr s = rfbGetScreen(NULL, NULL, w, h, 8, 3, 4);

	rfbLogEnable(0);
	s->frameBuffer = make_framebuffer(w, h, ret_rgb);
	s->desktopName = "plain-rfb";
	s->autoPort = TRUE;
	s->ipv6port = 0;
	s->listenInterface = htonl(INADDR_LOOPBACK);
	s->alwaysShared = TRUE;
	s->authPasswdData = passwords;
	s->passwordCheck = rfbCheckPasswordByList;
	s->kbdAddEvent = on_key;
	s->setXCutText = on_cut_text;
	s->cursor = NULL;
	rfbInitServer(s);
	ck_assert_int_gt(s->port, 0);
	rfbRunEventLoop(s, 10000, TRUE);
	return s;
}

/* Wait until the window shows exactly @rgb (@w x @h). */
static void expect_window_shows(const struct viewer *v, const uint32_t *rgb, int w, int h,
                                const char *path)
{
	int64_t deadline = harness_now_ms() + WAIT_MS;
	unsigned long diff = ~0UL;
	unsigned int sw = 0, sh = 0;

	while (harness_now_ms() < deadline) {
		uint32_t *shot = window_shot(v, path, &sw, &sh);

		if (shot && sw == (unsigned int)w && sh == (unsigned int)h)
			diff = px_diff_at(shot, sw, rgb, sw, sh, 0, 0);
		free(shot);
		if (diff == 0)
			return;
		usleep(200000);
	}
	ck_abort_msg("the window (%ux%u) differs from the server's picture (%dx%d) in %lu pixels",
	             sw, sh, w, h, diff);
}

START_TEST(plain_vnc_server)
{
	char dir[] = "/tmp/vdi-it-viewer-rfb-XXXXXX", log[400], uri[64], shot[400], text[256];
	static const char latin1[] = "h\xe9llo w\xf6rld \xa3";
	struct xvfb x;
	struct viewer a, b;
	rfbScreenInfoPtr s;
	uint32_t *rgb, *rgb2;
	char *fb1, *fb2;
	int64_t end;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/xvfb.log", dir);
	ck_assert_int_eq(xvfb_start(&x, 1280, 1024, log), 0);
	s = server_start(640, 480, &rgb);
	snprintf(uri, sizeof(uri), "vnc://127.0.0.1:%d", s->port);
	snprintf(shot, sizeof(shot), "%s/window.png", dir);

	/* The picture, exact, and the server's name in the title. */
	viewer_start(&a, &x, dir, "a", (const char *const[]){ "--log-level", "debug", uri, NULL },
	             (const char *const[]){ "VDI_PASSWORD=" PASSWORD, NULL });
	viewer_window(&a);
	expect_window_size(&a, 640, 480);
	expect_window_shows(&a, rgb, 640, 480, shot);
	window_name(&a, text, sizeof(text));
	ck_assert_msg(strncmp(text, "plain-rfb", 9) == 0, "title '%s'", text);

	/* Keys as keysyms, shifted where shift was held. */
	focus(&a);
	type_line(&a, "Hi There!");
	end = harness_now_ms() + WAIT_MS;
	do {
		typed(text, sizeof(text));
		if (strstr(text, "Hi There!") && key_went(XK_Return, true))
			break;
		usleep(50000);
	} while (harness_now_ms() < end);
	ck_assert_msg(strstr(text, "Hi There!") != NULL, "the server saw '%s'", text);
	ck_assert(key_went(XK_Shift_L, true) || key_went(XK_Shift_R, true));
	ck_assert(key_went(XK_Return, false));

	/* Ctrl+Alt+End sends Ctrl+Alt+Del; End itself is the viewer's. */
	ck_assert_int_eq(xsh(&x, NULL, 0, "xdotool key ctrl+alt+End"), 0);
	end = harness_now_ms() + WAIT_MS;
	while (!key_went(XK_Delete, false) && harness_now_ms() < end)
		usleep(50000);
	ck_assert(key_went(XK_Control_L, true));
	ck_assert(key_went(XK_Alt_L, true));
	ck_assert(key_went(XK_Delete, true));
	ck_assert(key_went(XK_Delete, false));
	ck_assert(!key_went(XK_End, true));

	/* The server's clipboard (Latin-1) becomes the X clipboard (UTF-8)... */
	rfbSendServerCutText(s, (char *)latin1, (int)strlen(latin1));
	usleep(500000);
	/* ...which another viewer, when it gets the focus, hands to its server as Latin-1. */
	viewer_start(&b, &x, dir, "b", (const char *const[]){ "--log-level", "debug", uri, NULL },
	             (const char *const[]){ "VDI_PASSWORD=" PASSWORD, NULL });
	viewer_window(&b);
	expect_window_size(&b, 640, 480);
	focus(&b);
	end = harness_now_ms() + WAIT_MS;
	for (;;) {
		bool got;

		pthread_mutex_lock(&seen_lock);
		got = cut_len >= 0;
		pthread_mutex_unlock(&seen_lock);
		if (got || harness_now_ms() > end)
			break;
		usleep(50000);
	}
	pthread_mutex_lock(&seen_lock);
	ck_assert_msg(cut_len == (int)strlen(latin1) && memcmp(cut, latin1, strlen(latin1)) == 0,
	              "the server got %d bytes of clipboard: '%s'", cut_len, cut);
	pthread_mutex_unlock(&seen_lock);
	VIEWER_STOP_CLEANLY(&b);

	/* The server changes its size: the window follows, still exact. */
	fb1 = s->frameBuffer;
	fb2 = make_framebuffer(800, 500, &rgb2);
	rfbNewFramebuffer(s, fb2, 800, 500, 8, 3, 4);
	expect_window_size(&a, 800, 500);
	expect_window_shows(&a, rgb2, 800, 500, shot);

	VIEWER_STOP_CLEANLY(&a);
	rfbShutdownServer(s, TRUE);
	rfbScreenCleanup(s);
	free(fb1);
	free(fb2);
	free(rgb);
	free(rgb2);
	xvfb_stop(&x);
	if (!getenv("VDI_KEEP_TEST_FILES")) {
		char rm[100];

		snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
		ck_assert_int_eq(system(rm), 0);
	}
}
END_TEST

int main(void)
{
	Suite *su = suite_create("viewer_rfb");
	TCase *tc = tcase_create("rfb");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, plain_vnc_server);
	suite_add_tcase(su, tc);
	return harness_run(su);
}
