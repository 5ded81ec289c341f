// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-vmm's SPICE server seen by a real client: spice-client-glib (the
 * library remote-viewer and our own viewer use) in this process. Tickets
 * gate every connection and serve one session; the client's primary
 * surface must equal the screendump; keys and pointer clicks sent on the
 * inputs channel must reach the reference guest; a guest mode change must
 * resize the client; clients show up as events on the control socket; the
 * optional TLS port serves the same desktop.
 *
 * The client runs on this thread's GLib main context, iterated until a
 * condition holds or a deadline passes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spice-client.h>

#include "harness.h"
#include "proto/keymap.h"

#define BOOT_TIMEOUT_MS 90000
#define WAIT_MS 30000
#define SECRET "spice-Ticket-7fQ2"

static const char *const small_screen[] = { "--resolution", "800x600", "--vnc", "none", NULL };

static void boot_with(struct vm *vm, const char *name, const char *const *extra)
{
	ck_assert_int_eq(vm_start(vm, name, extra), 0);
	ck_assert_msg(vm_wait_serial(vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not reach its desktop; serial:\n%s", vm_serial(vm));
}

static void boot(struct vm *vm, const char *name)
{
	boot_with(vm, name, small_screen);
}

static void set_ticket(struct vm *vm, const char *secret, int expires_in, const char *connected)
{
	json_t *args = json_pack("{s:s, s:s}", "protocol", "spice", "secret", secret);

	if (expires_in)
		json_object_set_new(args, "expires_in", json_integer(expires_in));
	if (connected)
		json_object_set_new(args, "connected", json_string(connected));
	json_decref(vm_ok(vm, "set-ticket", args));
}

/* ---- a spice-client-glib session ---- */

struct client {
	SpiceSession *session;
	SpiceChannel *main, *display, *inputs;
	SpiceChannelEvent main_event; /* the last event of the main channel */
	bool inputs_open;
	bool display_open;
	unsigned int primary_creates;
};

static gboolean tick(gpointer data)
{
	return G_SOURCE_CONTINUE; /* wakes the main loop up so deadlines are checked */
}

/* Iterate the main context until @cond holds or @ms pass. */
static bool pump_until(bool (*cond)(struct client *), struct client *c, int ms)
{
	int64_t end = harness_now_ms() + ms;
	guint t = g_timeout_add(20, tick, NULL);
	bool ok;

	while (!(ok = cond(c)) && harness_now_ms() < end)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(t);
	return ok;
}

static bool never(struct client *c)
{
	return false;
}

static void pump(struct client *c, int ms)
{
	pump_until(never, c, ms);
}

static void main_event(SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
	struct client *c = data;

	c->main_event = ev;
}

static void other_event(SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
	struct client *c = data;
	bool open = ev == SPICE_CHANNEL_OPENED;

	if (SPICE_IS_INPUTS_CHANNEL(ch))
		c->inputs_open = open;
	else if (SPICE_IS_DISPLAY_CHANNEL(ch))
		c->display_open = open;
}

static void primary_create(SpiceChannel *ch, gint format, gint width, gint height, gint stride,
                           gint shmid, gpointer imgdata, gpointer data)
{
	struct client *c = data;

	c->primary_creates++;
}

static void channel_new(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
	struct client *c = data;

	if (SPICE_IS_MAIN_CHANNEL(ch)) {
		c->main = ch;
		g_signal_connect(ch, "channel-event", G_CALLBACK(main_event), c);
		return;
	}
	g_signal_connect(ch, "channel-event", G_CALLBACK(other_event), c);
	if (SPICE_IS_DISPLAY_CHANNEL(ch)) {
		c->display = ch;
		g_signal_connect(ch, "display-primary-create", G_CALLBACK(primary_create), c);
	} else if (SPICE_IS_INPUTS_CHANNEL(ch)) {
		c->inputs = ch;
	}
	spice_channel_connect(ch);
}

static bool main_settled(struct client *c)
{
	return c->main_event != SPICE_CHANNEL_NONE;
}

/*
 * Start a session to 127.0.0.1:@port (or @tls_port with @ca_file) with
 * @password and wait for its main channel to open or fail. The event is in
 * c->main_event.
 */
static void client_open_tls(struct client *c, int port, int tls_port, const char *ca_file,
                            const char *password)
{
	char p[16], tp[16];

	memset(c, 0, sizeof(*c));
	c->session = spice_session_new();
	snprintf(p, sizeof(p), "%d", port);
	snprintf(tp, sizeof(tp), "%d", tls_port);
	g_object_set(c->session, "host", "127.0.0.1", "password", password, NULL);
	if (tls_port > 0)
		g_object_set(c->session, "tls-port", tp, "ca-file", ca_file, NULL);
	else
		g_object_set(c->session, "port", p, NULL);
	g_signal_connect(c->session, "channel-new", G_CALLBACK(channel_new), c);
	ck_assert(spice_session_connect(c->session));
	pump_until(main_settled, c, WAIT_MS);
}

static void client_open(struct client *c, int port, const char *password)
{
	client_open_tls(c, port, -1, NULL, password);
}

static void client_close(struct client *c)
{
	if (!c->session)
		return;
	spice_session_disconnect(c->session);
	pump(c, 200);
	g_object_unref(c->session);
	memset(c, 0, sizeof(*c));
}

/*
 * Connect until the server answers the login with @want (it refuses a
 * remote address for a few seconds after each failure, before any login).
 * Returns true when it did; @c stays open when @want is SPICE_CHANNEL_OPENED.
 */
static bool client_login(struct client *c, int port, const char *password, SpiceChannelEvent want)
{
	int64_t end = harness_now_ms() + WAIT_MS;

	for (;;) {
		client_open(c, port, password);
		if (c->main_event == want) {
			if (want != SPICE_CHANNEL_OPENED)
				client_close(c);
			return true;
		}
		/* Another answer to a login is final; a cut connection is worth a retry. */
		if (c->main_event == SPICE_CHANNEL_OPENED ||
		    c->main_event == SPICE_CHANNEL_ERROR_AUTH || harness_now_ms() > end) {
			client_close(c);
			return false;
		}
		client_close(c);
		usleep(300000);
	}
}

static bool have_primary(struct client *c)
{
	SpiceDisplayPrimary p;

	return c->display && spice_display_channel_get_primary(c->display, 0, &p) && p.data;
}

/* Pixels of the client's primary surface that differ from @ref (@w x @h). */
static unsigned long diff_pixels(struct client *c, const uint32_t *ref, unsigned int w,
                                 unsigned int h)
{
	SpiceDisplayPrimary p;
	unsigned long n = 0;

	if (!c->display || !spice_display_channel_get_primary(c->display, 0, &p) || !p.data ||
	    (unsigned int)p.width != w || (unsigned int)p.height != h)
		return (unsigned long)w * h;
	for (unsigned int y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)(p.data + (size_t)y * (size_t)p.stride);

		for (unsigned int x = 0; x < w; x++)
			n += (row[x] & 0xffffff) != ref[(size_t)y * w + x];
	}
	return n;
}

/*
 * Wait until the client shows exactly what screendump shows. The clock in
 * the top bar may tick between the two, so compare again until they agree.
 */
static void expect_same_picture(struct vm *vm, struct client *c)
{
	int64_t end = harness_now_ms() + WAIT_MS;
	unsigned long diff = 0;
	unsigned int w = 0, h = 0;

	ck_assert_msg(pump_until(have_primary, c, WAIT_MS), "no primary surface on the client");
	while (harness_now_ms() < end) {
		uint32_t *ref = vm_screendump(vm, &w, &h);

		ck_assert_ptr_nonnull(ref);
		pump(c, 100);
		diff = diff_pixels(c, ref, w, h);
		free(ref);
		if (!diff)
			return;
		pump(c, 200);
	}
	ck_abort_msg("the client's picture differs from screendump (%ux%u) in %lu pixels", w, h,
	             diff);
}

static void expect_client_event(struct vm *vm, const char *name)
{
	json_t *ev = vm_wait_event(vm, name, WAIT_MS), *data;
	const char *addr;

	ck_assert_msg(ev != NULL, "no %s event", name);
	data = json_object_get(ev, "data");
	ck_assert_str_eq(json_string_value(json_object_get(data, "protocol")), "spice");
	addr = json_string_value(json_object_get(data, "address"));
	ck_assert_msg(addr && strncmp(addr, "127.0.0.1:", 10) == 0, "%s from '%s'", name,
	              addr ? addr : "(none)");
	json_decref(ev);
}

/*
 * Quit vdi-vmm over the control socket and expect a clean exit: the SPICE
 * server is torn down (with a client still connected if there is one), and
 * in a sanitizer build leaks or memory errors make the exit status non-zero.
 */
static void quit_cleanly(struct vm *vm, struct client *c)
{
	json_t *r = vm_cmd(vm, "quit", NULL);
	int status;

	json_decref(r);
	if (c)
		pump(c, 500);
	status = vm_wait_exit(vm, WAIT_MS);
	if (status != 0) {
		FILE *f = fopen(vm->log, "r");
		char line[512];

		while (f && fgets(line, sizeof(line), f))
			fputs(line, stderr);
		if (f)
			fclose(f);
	}
	ck_assert_msg(status == 0, "vdi-vmm exited with %d after quit (log above)", status);
}

/* ---- cases ---- */

START_TEST(tickets)
{
	struct vm vm;
	struct client c, c2;
	int port;

	boot(&vm, "spice1");
	port = vm_display_port(&vm, "spice");
	ck_assert_int_gt(port, 0);

	/* Nobody gets in before a ticket is set. */
	ck_assert_msg(client_login(&c, port, SECRET, SPICE_CHANNEL_ERROR_AUTH),
	              "a client got in without a ticket");
	/* A wrong secret is refused. */
	set_ticket(&vm, SECRET, 0, NULL);
	ck_assert_msg(client_login(&c, port, "not-" SECRET, SPICE_CHANNEL_ERROR_AUTH),
	              "a wrong ticket was accepted");
	/* An expired one too. */
	set_ticket(&vm, SECRET, 1, NULL);
	usleep(2200000);
	ck_assert_msg(client_login(&c, port, SECRET, SPICE_CHANNEL_ERROR_AUTH),
	              "an expired ticket was accepted");

	/* The right one, in time: the client sees the desktop as screendump does. */
	set_ticket(&vm, SECRET, 60, NULL);
	ck_assert_msg(client_login(&c, port, SECRET, SPICE_CHANNEL_OPENED),
	              "a valid ticket was refused");
	expect_client_event(&vm, "client-connected");
	expect_same_picture(&vm, &c);

	/* The ticket served that session: nobody else gets in with it. */
	ck_assert_msg(pump_until(have_primary, &c, WAIT_MS), "no display");
	pump(&c, 500);
	ck_assert_msg(client_login(&c2, port, SECRET, SPICE_CHANNEL_ERROR_AUTH),
	              "a used ticket was accepted again");
	ck_assert_int_eq(c.main_event, SPICE_CHANNEL_OPENED);

	/* connected=keep leaves the client alone; connected=disconnect drops it. */
	set_ticket(&vm, "second-" SECRET, 0, "keep");
	pump(&c, 1000);
	ck_assert_int_eq(c.main_event, SPICE_CHANNEL_OPENED);
	set_ticket(&vm, "third-" SECRET, 0, "disconnect");
	{
		int64_t end = harness_now_ms() + WAIT_MS;

		while (c.main_event == SPICE_CHANNEL_OPENED && harness_now_ms() < end)
			pump(&c, 50);
	}
	ck_assert_msg(c.main_event != SPICE_CHANNEL_OPENED,
	              "the client stayed connected after set-ticket connected=disconnect");
	expect_client_event(&vm, "client-disconnected");
	client_close(&c);

	/* The new ticket works. */
	ck_assert(client_login(&c, port, "third-" SECRET, SPICE_CHANNEL_OPENED));
	expect_client_event(&vm, "client-connected");
	client_close(&c);
	expect_client_event(&vm, "client-disconnected");
	quit_cleanly(&vm, NULL);
	vm_cleanup(&vm);
}
END_TEST

static bool inputs_ready(struct client *c)
{
	int mode = 0;

	if (!c->inputs_open || !c->main)
		return false;
	g_object_get(c->main, "mouse-mode", &mode, NULL);
	return mode == SPICE_MOUSE_MODE_CLIENT;
}

/* Press and release the key that types @ch (with shift if it needs it). */
static void type_char(struct client *c, char ch)
{
	const struct proto_key *k, *shift = proto_key_by_name("shift");
	bool shifted = false;
	unsigned int sc;

	k = ch == '\n' ? proto_key_by_name("ret")
	               : proto_key_by_keysym((uint32_t)(unsigned char)ch, &shifted);
	ck_assert_msg(k != NULL, "cannot type '%c'", ch);
	/* spice-client-glib wants E0-prefixed codes as 0x100 | code. */
	sc = (k->xt & 0xff00) == 0xe000 ? 0x100 | (k->xt & 0xff) : k->xt;
	if (shifted)
		spice_inputs_channel_key_press(SPICE_INPUTS_CHANNEL(c->inputs), shift->xt);
	spice_inputs_channel_key_press(SPICE_INPUTS_CHANNEL(c->inputs), sc);
	spice_inputs_channel_key_release(SPICE_INPUTS_CHANNEL(c->inputs), sc);
	if (shifted)
		spice_inputs_channel_key_release(SPICE_INPUTS_CHANNEL(c->inputs), shift->xt);
	pump(c, 30);
}

static void type_text(struct client *c, const char *text)
{
	for (const char *p = text; *p; p++)
		type_char(c, *p);
}

START_TEST(keys_and_pointer)
{
	struct vm vm;
	struct client c;
	int b[4], cx, cy, port;
	char want[64];

	boot(&vm, "spice2");
	port = vm_display_port(&vm, "spice");
	set_ticket(&vm, SECRET, 0, NULL);
	ck_assert(client_login(&c, port, SECRET, SPICE_CHANNEL_OPENED));
	ck_assert_msg(pump_until(inputs_ready, &c, WAIT_MS),
	              "no inputs channel in client mouse mode (inputs %d)", c.inputs_open);

	/* Keys: the terminal runs "help". */
	type_text(&c, "help\n");
	ck_assert_msg(vm_wait_serial(&vm, "switch the machine off", 1, WAIT_MS) == 0,
	              "no help text on serial:\n%s", vm_serial(&vm));

	/* Pointer: a click on the button, at the pixel we point at. */
	ck_assert_int_eq(vm_layout(&vm, "button", b), 0);
	ck_assert_msg(vm_wait_serial(&vm, "tablet", 1, 10000) == 0, "no tablet driver:\n%s",
	              vm_serial(&vm));
	cx = b[0] + b[2] / 2;
	cy = b[1] + 4;
	spice_inputs_channel_position(SPICE_INPUTS_CHANNEL(c.inputs), cx, cy, 0, 0);
	pump(&c, 100);
	spice_inputs_channel_button_press(SPICE_INPUTS_CHANNEL(c.inputs), SPICE_MOUSE_BUTTON_LEFT,
	                                  SPICE_MOUSE_BUTTON_MASK_LEFT);
	pump(&c, 50);
	spice_inputs_channel_button_release(SPICE_INPUTS_CHANNEL(c.inputs), SPICE_MOUSE_BUTTON_LEFT,
	                                    0);
	pump(&c, 50);
	ck_assert_msg(vm_wait_serial(&vm, "button: clicked count=1", 1, WAIT_MS) == 0,
	              "click not seen:\n%s", vm_serial(&vm));
	snprintf(want, sizeof(want), "pointer: press button=1 x=%d y=%d", cx, cy);
	ck_assert_msg(vm_serial_count(&vm, want) == 1, "expected '%s' in:\n%s", want,
	              vm_serial(&vm));
	/* The right button is the guest's button 3. */
	spice_inputs_channel_button_press(SPICE_INPUTS_CHANNEL(c.inputs), SPICE_MOUSE_BUTTON_RIGHT,
	                                  SPICE_MOUSE_BUTTON_MASK_RIGHT);
	pump(&c, 50);
	spice_inputs_channel_button_release(SPICE_INPUTS_CHANNEL(c.inputs),
	                                    SPICE_MOUSE_BUTTON_RIGHT, 0);
	snprintf(want, sizeof(want), "pointer: press button=3 x=%d y=%d", cx, cy);
	ck_assert_msg(vm_wait_serial(&vm, want, 1, WAIT_MS) == 0, "expected '%s' in:\n%s", want,
	              vm_serial(&vm));
	/* And the picture the client has shows the clicked button as screendump does. */
	expect_same_picture(&vm, &c);
	client_close(&c);
	vm_cleanup(&vm);
}
END_TEST

static bool is_640x480(struct client *c)
{
	SpiceDisplayPrimary p;

	return c->display && spice_display_channel_get_primary(c->display, 0, &p) &&
	       p.width == 640 && p.height == 480;
}

START_TEST(mode_change)
{
	struct vm vm;
	struct client c;
	int port;

	boot(&vm, "spice3");
	port = vm_display_port(&vm, "spice");
	set_ticket(&vm, SECRET, 0, NULL);
	ck_assert(client_login(&c, port, SECRET, SPICE_CHANNEL_OPENED));
	expect_same_picture(&vm, &c);
	ck_assert_msg(pump_until(inputs_ready, &c, WAIT_MS), "no inputs channel");
	type_text(&c, "mode 640x480\n");
	ck_assert_msg(vm_wait_serial(&vm, "display: mode 640x480", 1, WAIT_MS) == 0,
	              "the guest did not change its mode:\n%s", vm_serial(&vm));
	ck_assert_msg(pump_until(is_640x480, &c, WAIT_MS), "the client was not resized");
	ck_assert_uint_ge(c.primary_creates, 2);
	/* The guest reports the new size once it has redrawn the desktop. */
	ck_assert_msg(vm_wait_serial(&vm, "display: 640x480", 1, WAIT_MS) == 0,
	              "no desktop at 640x480:\n%s", vm_serial(&vm));
	expect_same_picture(&vm, &c);
	/* Quitting with a client connected tears the server down under it. */
	quit_cleanly(&vm, &c);
	client_close(&c);
	vm_cleanup(&vm);
}
END_TEST

/* Resident memory of process @pid in KiB, or -1. */
static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

#if defined(__SANITIZE_ADDRESS__)
#define RSS_SLACK_MIB 400 /* AddressSanitizer keeps freed memory in quarantine (256 MiB) */
#else
#define RSS_SLACK_MIB 64
#endif

/*
 * A client that stops reading while the guest redraws its whole screen
 * about as fast as it can (the benchmark mode): the server must not keep
 * every frame for it, and once the client reads again it must catch up
 * with the picture.
 */
START_TEST(stalled_client)
{
	const char *extra[] = { "--resolution",
		                "800x600",
		                "--vnc",
		                "none",
		                "--cmdline",
		                "name=spice5 bench=100000",
		                NULL };
	struct vm vm;
	struct client c;
	long rss0, rss1;
	int frames0, port;
	int64_t end;

	ck_assert_int_eq(vm_start(&vm, "spice5", extra), 0);
	ck_assert_msg(vm_wait_serial(&vm, "bench: start", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not start its benchmark:\n%s", vm_serial(&vm));
	port = vm_display_port(&vm, "spice");
	set_ticket(&vm, SECRET, 0, NULL);
	ck_assert(client_login(&c, port, SECRET, SPICE_CHANNEL_OPENED));
	ck_assert_msg(pump_until(have_primary, &c, WAIT_MS), "no primary surface");
	pump(&c, 1000);

	/* Stall for 100 whole-screen frames (2 MB each), or 40 s on a slow guest. */
	rss0 = rss_kib(vm.pid);
	frames0 = vm_serial_count(&vm, "frame ");
	end = harness_now_ms() + 40000;
	while (vm_serial_count(&vm, "frame ") < frames0 + 100 && harness_now_ms() < end)
		usleep(200000);
	rss1 = rss_kib(vm.pid);
	printf("stalled client: %d frames drawn, vdi-vmm RSS %ld -> %ld KiB%s\n",
	       vm_serial_count(&vm, "frame ") - frames0, rss0, rss1,
	       vm_serial_count(&vm, "frame ") ? "" : " (no frames?)");
	ck_assert_int_gt(rss0, 0);
	ck_assert_msg(rss1 - rss0 < RSS_SLACK_MIB * 1024L,
	              "vdi-vmm grew by %ld KiB while a client did not read", rss1 - rss0);

	/* Reading again, the client catches up with the (now still) picture. */
	json_decref(vm_ok(&vm, "stop", NULL));
	expect_same_picture(&vm, &c);
	quit_cleanly(&vm, &c);
	client_close(&c);
	vm_cleanup(&vm);
}
END_TEST

/* Make a CA and a server certificate for 127.0.0.1 in @dir with the openssl tool. */
static void make_certs(const char *dir)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
	         "(cd '%s' && "
	         "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vdi-test-ca "
	         "-keyout ca-key.pem -out ca-cert.pem && "
	         "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
	         "-keyout server-key.pem -out server.csr && "
	         "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
	         "openssl x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem "
	         "-CAcreateserial -days 2 -extfile ext.cnf -out server-cert.pem) >/dev/null 2>&1",
	         dir);
	ck_assert_msg(system(cmd) == 0, "openssl could not make certificates");
}

START_TEST(tls)
{
	struct vm vm;
	struct client c;
	char certs[] = "/tmp/vdi-it-spice-tls-XXXXXX", ca[512], rm[600];
	const char *extra[] = {
		"--resolution",    "800x600", "--vnc", "none", "--spice-tls-port", "0",
		"--spice-tls-dir", certs,     NULL
	};
	json_t *d, *srv;
	int port = -1, tls_port = -1;
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(certs));
	make_certs(certs);
	snprintf(ca, sizeof(ca), "%s/ca-cert.pem", certs);
	boot_with(&vm, "spice4", extra);
	d = vm_ok(&vm, "query-displays", NULL);
	json_array_foreach (json_object_get(d, "servers"), i, srv) {
		if (strcmp(json_string_value(json_object_get(srv, "protocol")), "spice") == 0) {
			port = (int)json_integer_value(json_object_get(srv, "port"));
			tls_port = (int)json_integer_value(json_object_get(srv, "tls-port"));
		}
	}
	json_decref(d);
	ck_assert_int_gt(port, 0);
	ck_assert_int_gt(tls_port, 0);
	ck_assert_int_ne(port, tls_port);
	set_ticket(&vm, SECRET, 0, NULL);
	client_open_tls(&c, -1, tls_port, ca, SECRET);
	ck_assert_msg(c.main_event == SPICE_CHANNEL_OPENED, "TLS login failed: event %d",
	              c.main_event);
	expect_client_event(&vm, "client-connected");
	expect_same_picture(&vm, &c);
	client_close(&c);
	quit_cleanly(&vm, NULL);
	vm_cleanup(&vm);
	snprintf(rm, sizeof(rm), "rm -rf '%s'", certs);
	ck_assert_int_eq(system(rm), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_spice");
	TCase *tc = tcase_create("spice");

	harness_require_kvm();
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, tickets);
	tcase_add_test(tc, keys_and_pointer);
	tcase_add_test(tc, mode_change);
	tcase_add_test(tc, tls);
	tcase_add_test(tc, stalled_client);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
