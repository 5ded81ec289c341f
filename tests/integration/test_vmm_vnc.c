// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-vmm's VNC server seen by real clients: libvncclient in this process
 * (the library TigerVNC-compatible viewers and our own viewer use) and
 * vncsnapshot, a third-party client from Debian. Tickets gate every
 * connection; the client's picture must equal the screendump; keys,
 * pointer clicks and desktop-size requests must reach the reference guest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include "harness.h"

#define BOOT_TIMEOUT_MS 90000
#define WAIT_MS 30000
#define SECRET "tk8Zq2Lw"

static const char *const small_screen[] = { "--resolution", "800x600", "--spice", "none", NULL };

static void boot(struct vm *vm, const char *name)
{
	ck_assert_int_eq(vm_start(vm, name, small_screen), 0);
	ck_assert_msg(vm_wait_serial(vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not reach its desktop; serial:\n%s", vm_serial(vm));
}

static void set_ticket(struct vm *vm, const char *secret, int expires_in, const char *connected)
{
	json_t *args = json_pack("{s:s, s:s}", "protocol", "vnc", "secret", secret);

	if (expires_in)
		json_object_set_new(args, "expires_in", json_integer(expires_in));
	if (connected)
		json_object_set_new(args, "connected", json_string(connected));
	json_decref(vm_ok(vm, "set-ticket", args));
}

/* ---- a libvncclient connection ---- */

static char *get_password(rfbClient *c)
{
	return strdup(rfbClientGetClientData(c, (void *)get_password));
}

static void quiet(const char *fmt, ...)
{
}

/*
 * Connect to @host (a unix socket when it starts with '/') with @password;
 * NULL when the server refused (authentication failed).
 */
static rfbClient *vnc_connect(const char *host, int port, const char *password,
                              const char *encodings)
{
	rfbClient *c = rfbGetClient(8, 3, 4);

	rfbClientLog = quiet;
	rfbClientErr = quiet;
	free(c->serverHost); /* rfbGetClient's default, "" */
	c->serverHost = strdup(host);
	c->serverPort = port;
	c->GetPassword = get_password;
	c->canHandleNewFBSize = TRUE;
	c->appData.encodingsString = encodings ? encodings : "tight zrle hextile raw";
	/* Lossless Tight: the picture is compared pixel for pixel. */
	c->appData.enableJPEG = FALSE;
	rfbClientSetClientData(c, (void *)get_password, (void *)password);
	if (!rfbInitClient(c, NULL, NULL))
		return NULL; /* rfbInitClient freed the client */
	return c;
}

static rfbClient *vnc_open(int port, const char *password, const char *encodings)
{
	return vnc_connect("127.0.0.1", port, password, encodings);
}

static void vnc_close(rfbClient *c)
{
	if (!c)
		return;
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
}

/* Handle server messages for up to @ms; false if the connection broke. */
static bool pump(rfbClient *c, int ms)
{
	int64_t end = harness_now_ms() + ms;

	while (harness_now_ms() < end) {
		int n = WaitForMessage(c, 20000);

		if (n < 0)
			return false;
		if (n > 0 && !HandleRFBServerMessage(c))
			return false;
	}
	return true;
}

/* The client's picture as 0xRRGGBB (its format is R in the low byte). */
static uint32_t client_px(rfbClient *c, unsigned int x, unsigned int y)
{
	uint32_t p = ((uint32_t *)c->frameBuffer)[(size_t)y * c->width + x];

	return (p & 0xff) << 16 | (p & 0xff00) | (p >> 16 & 0xff);
}

static unsigned long diff_pixels(rfbClient *c, const uint32_t *ref, unsigned int w, unsigned int h)
{
	unsigned long n = 0;

	if ((unsigned int)c->width != w || (unsigned int)c->height != h)
		return (unsigned long)w * h;
	for (unsigned int y = 0; y < h; y++)
		for (unsigned int x = 0; x < w; x++)
			n += client_px(c, x, y) != ref[(size_t)y * w + x];
	return n;
}

/*
 * Wait until the client shows exactly what screendump shows. The clock in
 * the top bar may tick between the two, so compare again until they agree.
 */
static unsigned long wait_equal_to_screendump(struct vm *vm, rfbClient *c)
{
	int64_t end = harness_now_ms() + WAIT_MS;
	unsigned long diff = ~0UL;

	while (harness_now_ms() < end) {
		unsigned int w, h;
		uint32_t *ref;

		ck_assert(pump(c, 300));
		ref = vm_screendump(vm, &w, &h);
		ck_assert_ptr_nonnull(ref);
		ck_assert(pump(c, 200));
		diff = diff_pixels(c, ref, w, h);
		free(ref);
		if (diff == 0)
			break;
	}
	return diff;
}

static void send_keysyms(rfbClient *c, const char *text)
{
	for (const char *p = text; *p; p++) {
		uint32_t sym = *p == '\n' ? 0xff0d /* Return */ : (uint32_t)(unsigned char)*p;

		SendKeyEvent(c, sym, TRUE);
		SendKeyEvent(c, sym, FALSE);
		ck_assert(pump(c, 20));
	}
}

/* ---- cases ---- */

START_TEST(picture_equals_screendump)
{
	struct vm vm;
	rfbClient *c;
	json_t *ev;
	unsigned long diff;

	boot(&vm, "vnc1");
	set_ticket(&vm, SECRET, 0, NULL);
	c = vnc_open(vm_display_port(&vm, "vnc"), SECRET, NULL);
	ck_assert_msg(c != NULL, "a client with the ticket was refused");
	ev = vm_wait_event(&vm, "client-connected", WAIT_MS);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(ev, "data"), "protocol")), "vnc");
	ck_assert(
	        strncmp(json_string_value(json_object_get(json_object_get(ev, "data"), "address")),
	                "127.0.0.1:", 10) == 0);
	json_decref(ev);
	ck_assert_int_eq(c->width, 800);
	ck_assert_int_eq(c->height, 600);
	diff = wait_equal_to_screendump(&vm, c);
	ck_assert_msg(diff == 0, "client differs from screendump in %lu pixels", diff);

	/* Changes reach the client: the terminal output appears there too. */
	vm_type(&vm, "help\n");
	ck_assert_int_eq(vm_wait_serial(&vm, "switch the machine off", 1, WAIT_MS), 0);
	diff = wait_equal_to_screendump(&vm, c);
	ck_assert_msg(diff == 0, "after typing, client differs in %lu pixels", diff);

	vnc_close(c);
	ev = vm_wait_event(&vm, "client-disconnected", WAIT_MS);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(tickets_are_required_and_single_use)
{
	struct vm vm;
	rfbClient *c;
	int port;

	boot(&vm, "vnc2");
	port = vm_display_port(&vm, "vnc");
	ck_assert_int_gt(port, 0);
	/* No ticket set: nobody gets in, whatever the password. */
	ck_assert_ptr_null(vnc_open(port, SECRET, NULL));
	sleep(2); /* the failed address waits a moment before it may try again */

	set_ticket(&vm, SECRET, 0, NULL);
	ck_assert_ptr_null(vnc_open(port, "wrong123", NULL));
	sleep(3);
	c = vnc_open(port, SECRET, NULL);
	ck_assert_msg(c != NULL, "the right ticket was refused");
	vnc_close(c);
	/* Used once: the same secret no longer works. */
	ck_assert_ptr_null(vnc_open(port, SECRET, NULL));
	sleep(3);

	/* An expired ticket is refused. */
	set_ticket(&vm, "exp12345", 1, NULL);
	sleep(2);
	ck_assert_ptr_null(vnc_open(port, "exp12345", NULL));
	vm_cleanup(&vm);
}
END_TEST

START_TEST(new_ticket_can_disconnect)
{
	struct vm vm;
	rfbClient *keep, *drop;
	int port;

	boot(&vm, "vnc3");
	port = vm_display_port(&vm, "vnc");
	set_ticket(&vm, SECRET, 0, NULL);
	keep = vnc_open(port, SECRET, NULL);
	ck_assert_ptr_nonnull(keep);
	/* "keep": the connected client stays. */
	set_ticket(&vm, "second01", 0, "keep");
	ck_assert(pump(keep, 500));
	drop = keep;
	/* "disconnect": it is dropped. */
	set_ticket(&vm, "third001", 0, "disconnect");
	ck_assert_msg(!pump(drop, 5000), "client still connected after connected=disconnect");
	vnc_close(drop);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(keys_reach_the_guest)
{
	struct vm vm;
	rfbClient *c;
	/* u n a m e Enter as PC scan codes (QEMU's extended key event) */
	static const uint32_t scancodes[] = { 0x16, 0x31, 0x1e, 0x32, 0x12, 0x1c };

	boot(&vm, "vnc4");
	set_ticket(&vm, SECRET, 0, NULL);
	c = vnc_open(vm_display_port(&vm, "vnc"), SECRET, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert(pump(c, 500));

	/* Keysyms; '!' and 'H' are sent without shift, as some clients do. */
	send_keysyms(c, "echo Hi there!\n");
	ck_assert_msg(vm_wait_serial(&vm, "Hi there!", 2, WAIT_MS) == 0,
	              "typed keysyms did not reach the guest:\n%s", vm_serial(&vm));

	/* Scan codes, with no keysym at all: only the raw key path can work. */
	for (size_t i = 0; i < sizeof(scancodes) / sizeof(scancodes[0]); i++) {
		ck_assert(SendExtendedKeyEvent(c, 0, scancodes[i], TRUE));
		ck_assert(SendExtendedKeyEvent(c, 0, scancodes[i], FALSE));
		ck_assert(pump(c, 20));
	}
	ck_assert_msg(vm_wait_serial(&vm, "vdi-guest 0.1 x86_64", 1, WAIT_MS) == 0,
	              "extended key events did not reach the guest:\n%s", vm_serial(&vm));
	vnc_close(c);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(pointer_clicks_the_button)
{
	struct vm vm;
	rfbClient *c;
	int b[4], x, y;

	boot(&vm, "vnc5");
	ck_assert_int_eq(vm_layout(&vm, "button", b), 0);
	ck_assert_int_eq(vm_wait_serial(&vm, "tablet", 1, WAIT_MS), 0);
	set_ticket(&vm, SECRET, 0, NULL);
	c = vnc_open(vm_display_port(&vm, "vnc"), SECRET, NULL);
	ck_assert_ptr_nonnull(c);
	x = b[0] + b[2] / 2;
	y = b[1] + b[3] / 2;
	SendPointerEvent(c, x, y, 0);
	SendPointerEvent(c, x, y, 1);
	SendPointerEvent(c, x, y, 0);
	ck_assert(pump(c, 100));
	ck_assert_msg(vm_wait_serial(&vm, "button: clicked count=1", 1, WAIT_MS) == 0,
	              "the click did not reach the guest:\n%s", vm_serial(&vm));
	{
		char want[64];

		/* Absolute pointer: the guest sees exactly the client's pixel. */
		snprintf(want, sizeof(want), "pointer: press button=1 x=%d y=%d", x, y);
		ck_assert_msg(vm_serial_count(&vm, want) == 1, "expected '%s' in:\n%s", want,
		              vm_serial(&vm));
	}
	vnc_close(c);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(mode_changes_resize_the_client)
{
	struct vm vm;
	rfbClient *c;
	int64_t end;

	boot(&vm, "vnc6");
	set_ticket(&vm, SECRET, 0, NULL);
	c = vnc_open(vm_display_port(&vm, "vnc"), SECRET, NULL);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->width, 800);

	/* The guest changes its mode: the client follows. */
	vm_type(&vm, "mode 640x480\n");
	end = harness_now_ms() + WAIT_MS;
	while (c->width != 640 && harness_now_ms() < end)
		ck_assert(pump(c, 100));
	ck_assert_int_eq(c->width, 640);
	ck_assert_int_eq(c->height, 480);
	ck_assert_msg(wait_equal_to_screendump(&vm, c) == 0, "picture wrong after the resize");

	/* The client asks for a size (SetDesktopSize): the guest follows its EDID. */
	ck_assert(SendExtDesktopSize(c, 1024, 768));
	end = harness_now_ms() + WAIT_MS;
	while (c->width != 1024 && harness_now_ms() < end)
		ck_assert(pump(c, 100));
	ck_assert_int_eq(c->width, 1024);
	ck_assert_int_eq(c->height, 768);
	ck_assert_msg(vm_wait_serial(&vm, "EDID asks for 1024x768", 1, WAIT_MS) == 0,
	              "the guest did not see the request:\n%s", vm_serial(&vm));
	vnc_close(c);
	vm_cleanup(&vm);
}
END_TEST

/* --vnc unix:PATH, as the broker's gateway uses it: same tickets, same picture. */
START_TEST(unix_socket_listener)
{
	struct vm vm;
	char path[300], arg[310];
	const char *args[] = { "--resolution", "800x600", "--spice", "none", "--vnc", arg, NULL };
	rfbClient *c;
	json_t *ok, *srv;

	memset(&vm, 0, sizeof(vm));
	snprintf(path, sizeof(path), "/tmp/vdi-it-vnc-%d.sock", (int)getpid());
	snprintf(arg, sizeof(arg), "unix:%s", path);
	ck_assert_int_eq(vm_start(&vm, "vnc8", args), 0);
	ck_assert_int_eq(vm_wait_serial(&vm, "desktop: ready", 1, BOOT_TIMEOUT_MS), 0);
	ok = vm_ok(&vm, "query-displays", NULL);
	srv = json_array_get(json_object_get(ok, "servers"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(srv, "address")), path);
	ck_assert_ptr_null(json_object_get(srv, "port"));
	json_decref(ok);

	set_ticket(&vm, SECRET, 0, NULL);
	c = vnc_connect(path, 0, SECRET, NULL);
	ck_assert_msg(c != NULL, "could not connect over %s", path);
	ck_assert_msg(wait_equal_to_screendump(&vm, c) == 0,
	              "picture differs over the unix socket");
	vnc_close(c);
	/* The socket file goes with the process. */
	json_decref(vm_ok(&vm, "quit", NULL));
	ck_assert_int_eq(vm_wait_exit(&vm, 30000), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	vm_cleanup(&vm);
}
END_TEST

/* vncsnapshot, a client nobody here wrote, saves what it sees as JPEG. */
START_TEST(vncsnapshot_sees_the_desktop)
{
	struct vm vm;
	char pw[300], shot[300], png[300], cmd[2048];
	unsigned int w, h, sw, sh;
	uint32_t *ref, *got;
	unsigned long bad = 0;
	int port;

	boot(&vm, "vnc7");
	port = vm_display_port(&vm, "vnc");
	set_ticket(&vm, SECRET, 0, NULL);
	snprintf(pw, sizeof(pw), "%s/passwd", vm.dir);
	snprintf(shot, sizeof(shot), "%s/shot.jpg", vm.dir);
	snprintf(png, sizeof(png), "%s/shot.png", vm.dir);
	snprintf(cmd, sizeof(cmd), "echo %s | vncpasswd -f > %s", SECRET, pw);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
	         "timeout 60 vncsnapshot -quality 100 -passwd %s 127.0.0.1::%d %s >%s/snap.log 2>&1"
	         " && convert %s %s",
	         pw, port, shot, vm.dir, shot, png);
	ck_assert_msg(system(cmd) == 0, "vncsnapshot failed");
	ref = vm_screendump(&vm, &w, &h);
	ck_assert_ptr_nonnull(ref);
	ck_assert_int_eq(png_load(png, &got, &sw, &sh), 0);
	ck_assert_uint_eq(sw, w);
	ck_assert_uint_eq(sh, h);
	/* JPEG blurs edges a little: count pixels off by more than a JPEG would be. */
	for (size_t i = 0; i < (size_t)w * h; i++) {
		int dr = (int)(ref[i] >> 16) - (int)(got[i] >> 16);
		int dg = (int)(ref[i] >> 8 & 0xff) - (int)(got[i] >> 8 & 0xff);
		int db = (int)(ref[i] & 0xff) - (int)(got[i] & 0xff);

		bad += abs(dr) + abs(dg) + abs(db) > 96;
	}
	/* The clock may have ticked between the two pictures: a few dozen pixels. */
	ck_assert_msg(bad < (unsigned long)w * h / 200, "%lu of %u pixels differ", bad, w * h);
	free(ref);
	free(got);
	vm_cleanup(&vm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_vnc");
	TCase *tc = tcase_create("vnc");

	harness_require_kvm();
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, picture_equals_screendump);
	tcase_add_test(tc, tickets_are_required_and_single_use);
	tcase_add_test(tc, new_ticket_can_disconnect);
	tcase_add_test(tc, keys_reach_the_guest);
	tcase_add_test(tc, pointer_clicks_the_button);
	tcase_add_test(tc, mode_changes_resize_the_client);
	tcase_add_test(tc, unix_socket_listener);
	tcase_add_test(tc, vncsnapshot_sees_the_desktop);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
