// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VNC server: libvncserver driven from the display thread's loop.
 *
 * We accept connections ourselves (TCP or unix socket) and hand each socket
 * to libvncserver with rfbNewClient(); each client socket is a loop watch
 * that calls rfbProcessClientMessage() when readable. Damage from the
 * display core is marked with rfbMarkRectAsModified() and sent at once
 * with rfbUpdateClient() to every client that asked for an update, which
 * gives libvncserver's encoders (Tight, ZRLE, Hextile, ...) the work.
 *
 * libvncserver closes a client's socket itself when the client misbehaves
 * or a write fails; after every call into it we look for such clients
 * ("reap") and finish them with rfbClientConnectionGone().
 *
 * Security: every client must pass VNC authentication with the one-time
 * ticket secret set over the control socket. A remote address that fails
 * is refused for a while, doubling with each failure in a row.
 */
#include "vmm/vnc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <rfb/rfb.h>

#include "proto/keymap.h"
#include "proto/log.h"

#define BLANK_W 640 /* shown while the guest has no display mode */
#define BLANK_H 480
#define PENALTY_SLOTS 16
#define PENALTY_MAX_S 60
#define CLIENT_WAIT_MS 5000 /* longest a write may wait on a slow client */

/* QEMU's client message type and its extended key event (RFB community spec). */
#define QEMU_CLIENT_MSG 255
#define QEMU_EXT_KEY_EVENT 0
#define QEMU_EXT_KEY_LEN 12

/* Buttons in a VNC pointer event. */
#define VNC_BUTTONS 0x07 /* left, middle, right */
#define VNC_WHEEL_UP 0x08
#define VNC_WHEEL_DOWN 0x10

struct penalty {
	char address[64];
	unsigned int failures;
	uint64_t until_ns;
};

struct vmm_vnc {
	struct vmm_display *d;
	rfbScreenInfoPtr screen;
	struct vmm_display_listener listener;
	int listen_fd;
	struct vmm_loop_watch *listen_watch;
	char unix_path[108];
	char name[128];
	uint32_t *blank;
	uint64_t surface_serial;
	struct penalty penalties[PENALTY_SLOTS];
	/* While a new client is being set up, for the new-client hook. */
	const char *accepting_address;
};

/* Our state for one connection, in cl->clientData. */
struct vnc_client {
	struct vmm_vnc *v;
	struct vmm_loop_watch *watch;
	char address[64]; /* "host:port", for logs and events */
	char host[64];    /* failed authentication penalises the host */
	bool authenticated;
	bool ext_keys;        /* the client announced QEMU's extended key event */
	bool ext_keys_acked;  /* and we confirmed it */
	bool shift_down;      /* a shift key is held, by keysym */
	uint16_t synth_key;   /* key pressed with a synthesised shift, or 0 */
	unsigned int buttons; /* last button mask, for wheel edges */
};

static void reap(struct vmm_vnc *v, rfbClientPtr cl);
static void peer_host(const char *address, char *buf, size_t size);

/* ---- logging: libvncserver's messages go to our log ---- */

static void vnc_log_at(int level, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

static void vnc_log_at(int level, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	vdi_log_at(level, "vnc: %s", buf);
}

static void vnc_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnc_log_at(VDI_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

static void vnc_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnc_log_at(VDI_LOG_WARN, fmt, ap);
	va_end(ap);
}

/* ---- failed-authentication penalties, per remote address ---- */

static struct penalty *penalty_find(struct vmm_vnc *v, const char *address, bool create)
{
	struct penalty *oldest = &v->penalties[0];

	for (int i = 0; i < PENALTY_SLOTS; i++) {
		struct penalty *p = &v->penalties[i];

		if (p->address[0] && strcmp(p->address, address) == 0)
			return p;
		if (p->until_ns < oldest->until_ns)
			oldest = p;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->address, sizeof(oldest->address), "%s", address);
	return oldest;
}

/* Seconds @address must still wait before trying again, or 0. */
static unsigned int penalty_left(struct vmm_vnc *v, const char *address)
{
	struct penalty *p = penalty_find(v, address, false);
	uint64_t now = vmm_now_ns();

	if (!p || p->until_ns <= now)
		return 0;
	return (unsigned int)((p->until_ns - now + 999999999ULL) / 1000000000ULL);
}

static void penalty_add(struct vmm_vnc *v, const char *address)
{
	struct penalty *p = penalty_find(v, address, true);
	unsigned int secs = p->failures < 6 ? 1u << p->failures : PENALTY_MAX_S;

	if (secs > PENALTY_MAX_S)
		secs = PENALTY_MAX_S;
	p->failures++;
	p->until_ns = vmm_now_ns() + secs * 1000000000ULL;
	log_warn("vm=%s vnc: authentication failed from %s (%u in a row); refusing it for %u s",
	         v->name, address, p->failures, secs);
}

static void penalty_clear(struct vmm_vnc *v, const char *address)
{
	struct penalty *p = penalty_find(v, address, false);

	if (p)
		memset(p, 0, sizeof(*p));
}

/* ---- authentication ---- */

struct vnc_auth {
	rfbClientPtr cl;
	const char *response;
	int len;
};

/* Does the client's response equal the challenge encrypted with @secret? */
static bool response_matches(void *opaque, const char *secret)
{
	struct vnc_auth *a = opaque;
	unsigned char expect[CHALLENGESIZE];
	char passwd[MAXPWLEN + 1];
	bool ok;

	snprintf(passwd, sizeof(passwd), "%s", secret);
	memcpy(expect, a->cl->authChallenge, CHALLENGESIZE);
	rfbEncryptBytes(expect, passwd);
	ok = a->len == CHALLENGESIZE && CRYPTO_memcmp(expect, a->response, CHALLENGESIZE) == 0;
	OPENSSL_cleanse(passwd, sizeof(passwd));
	OPENSSL_cleanse(expect, sizeof(expect));
	return ok;
}

static rfbBool check_password(rfbClientPtr cl, const char *response, int len)
{
	struct vnc_client *c = cl->clientData;
	struct vmm_vnc *v = c->v;
	struct vnc_auth a = { cl, response, len };
	int r = vmm_display_ticket_verify(v->d, VMM_PROTOCOL_VNC, response_matches, &a);

	if (r < 0) {
		log_warn("vm=%s vnc: refused %s: %s", v->name, c->address,
		         r == -ENOENT        ? "no ticket is set"
		         : r == -EALREADY    ? "the ticket was already used"
		         : r == -EKEYEXPIRED ? "the ticket expired"
		                             : "wrong ticket");
		penalty_add(v, c->host);
		return FALSE;
	}
	penalty_clear(v, c->host);
	c->authenticated = true;
	log_info("vm=%s vnc: %s authenticated", v->name, c->address);
	vmm_display_clients(v->d, 1);
	vmm_display_client_event(v->d, VMM_PROTOCOL_VNC, true, c->address);
	return TRUE;
}

/* ---- input ---- */

static void key_event(struct vnc_client *c, unsigned int evdev, bool down)
{
	vmm_display_key(c->v->d, evdev, down);
}

/*
 * A keysym from a client without extended key events. Symbols that need
 * shift on a US layout get a synthesised shift when the client did not
 * send one (some clients send the symbol alone).
 */
static void keysym_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	const struct proto_key *k;
	bool shifted = false;

	if (!c->authenticated)
		return;
	k = proto_key_by_keysym((uint32_t)keysym, &shifted);
	if (!k) {
		log_debug("vm=%s vnc: keysym 0x%x has no key", c->v->name, (unsigned int)keysym);
		return;
	}
	if (k->evdev == KEY_LEFTSHIFT || k->evdev == KEY_RIGHTSHIFT)
		c->shift_down = down;
	if (down && shifted && !c->shift_down) {
		key_event(c, KEY_LEFTSHIFT, true);
		key_event(c, k->evdev, true);
		c->synth_key = k->evdev;
		return;
	}
	if (!down && c->synth_key == k->evdev) {
		key_event(c, k->evdev, false);
		key_event(c, KEY_LEFTSHIFT, false);
		c->synth_key = 0;
		return;
	}
	key_event(c, k->evdev, down);
}

static void pointer_event(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	const struct vmm_display_surface *s = vmm_display_surface(c->v->d);
	unsigned int pressed = (unsigned int)mask & ~c->buttons;
	int wheel = 0;

	if (!c->authenticated || !s->pixels)
		return;
	if (pressed & VNC_WHEEL_UP)
		wheel++;
	if (pressed & VNC_WHEEL_DOWN)
		wheel--;
	c->buttons = (unsigned int)mask;
	x = x < 0 ? 0 : x >= (int)s->width ? (int)s->width - 1 : x;
	y = y < 0 ? 0 : y >= (int)s->height ? (int)s->height - 1 : y;
	vmm_display_pointer(c->v->d, (unsigned int)x, (unsigned int)y,
	                    (unsigned int)mask & VNC_BUTTONS, wheel);
}

/* ---- QEMU's extended key event, as a libvncserver protocol extension ---- */

static int ext_key_encodings[] = { (int)rfbEncodingQemuExtendedKeyEvent, 0 };

static rfbBool ext_new_client(rfbClientPtr cl, void **data)
{
	return TRUE;
}

/*
 * The client announced the pseudo-encoding. We confirm it with an empty
 * rectangle of that encoding, after which the client sends scan codes, but
 * only once libvncserver has sent its SupportedMessages list: that list
 * does not name QEMU's message and would make the client forget our
 * confirmation. See ext_keys_confirm().
 */
static rfbBool ext_enable(rfbClientPtr cl, void **data, int encoding)
{
	struct vnc_client *c = cl->clientData;

	if (encoding != (int)rfbEncodingQemuExtendedKeyEvent)
		return FALSE;
	c->ext_keys = true;
	return TRUE;
}

/* After each exchange with a client: confirm extended key events when due. */
static void ext_keys_confirm(rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	unsigned char msg[16] = { rfbFramebufferUpdate, 0, 0, 1 };
	uint32_t enc = htonl((uint32_t)rfbEncodingQemuExtendedKeyEvent);

	if (!c || !c->ext_keys || c->ext_keys_acked || cl->sock == RFB_INVALID_SOCKET ||
	    cl->enableSupportedMessages)
		return;
	memcpy(msg + 12, &enc, 4);
	c->ext_keys_acked = true;
	if (rfbWriteExact(cl, (const char *)msg, sizeof(msg)) < 0)
		rfbCloseClient(cl);
}

static rfbBool ext_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *msg)
{
	struct vnc_client *c = cl->clientData;
	unsigned char buf[QEMU_EXT_KEY_LEN];
	const struct proto_key *k;
	uint32_t keysym, code;
	uint16_t down;

	if (msg->type != QEMU_CLIENT_MSG)
		return FALSE;
	/* The type byte is read; the rest is subtype, down, keysym, keycode. */
	if (rfbReadExact(cl, (char *)buf + 1, 1) <= 0)
		goto gone;
	if (buf[1] != QEMU_EXT_KEY_EVENT) {
		log_warn("vm=%s vnc: %s sent unknown QEMU message %u; disconnecting", c->v->name,
		         c->address, buf[1]);
		rfbCloseClient(cl);
		return TRUE;
	}
	if (rfbReadExact(cl, (char *)buf + 2, QEMU_EXT_KEY_LEN - 2) <= 0)
		goto gone;
	if (!c->authenticated)
		return TRUE;
	memcpy(&down, buf + 2, 2);
	memcpy(&keysym, buf + 4, 4);
	memcpy(&code, buf + 8, 4);
	down = ntohs(down);
	keysym = ntohl(keysym);
	code = ntohl(code);
	/* QEMU numbers E0-prefixed keys as 0x80 | code; the table uses 0xe0XX. */
	k = proto_key_by_xt(code & 0x80 ? 0xe000 | (code & 0x7f) : code);
	if (k) {
		key_event(c, k->evdev, down != 0);
	} else {
		/* No scan code we know: fall back to the keysym. */
		keysym_event(down != 0, keysym, cl);
	}
	return TRUE;
gone:
	rfbCloseClient(cl);
	return TRUE;
}

static rfbProtocolExtension ext_keys = {
	.newClient = ext_new_client,
	.pseudoEncodings = ext_key_encodings,
	.enablePseudoEncoding = ext_enable,
	.handleMessage = ext_message,
};

/* ---- desktop size requests (ExtendedDesktopSize) ---- */

static int set_desktop_size(int w, int h, int nr_screens, struct rfbExtDesktopScreen *screens,
                            rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;

	if (!c->authenticated)
		return rfbExtDesktopSize_ResizeProhibited;
	if (nr_screens != 1 || w <= 0 || h <= 0)
		return rfbExtDesktopSize_InvalidScreenLayout;
	if (vmm_display_request_size(c->v->d, (unsigned int)w, (unsigned int)h) < 0)
		return rfbExtDesktopSize_OutOfResources;
	return rfbExtDesktopSize_Success;
}

/* ---- clients ---- */

static void client_readable(void *opaque, int fd, unsigned int revents)
{
	rfbClientPtr cl = opaque;
	struct vnc_client *c = cl->clientData;

	if (revents & (POLLIN | POLLHUP | POLLERR))
		rfbProcessClientMessage(cl);
	if (cl->sock != RFB_INVALID_SOCKET)
		rfbUpdateClient(cl);
	ext_keys_confirm(cl);
	reap(c->v, cl);
}

static void client_gone(rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;

	if (!c)
		return;
	vmm_loop_watch_remove(c->watch);
	if (c->authenticated) {
		vmm_display_clients(c->v->d, -1);
		vmm_display_client_event(c->v->d, VMM_PROTOCOL_VNC, false, c->address);
	}
	log_debug("vm=%s vnc: %s gone", c->v->name, c->address);
	free(c);
	cl->clientData = NULL;
}

static enum rfbNewClientAction new_client(rfbClientPtr cl)
{
	struct vmm_vnc *v = cl->screen->screenData;
	struct vnc_client *c = calloc(1, sizeof(*c));

	if (!c)
		return RFB_CLIENT_REFUSE;
	c->v = v;
	snprintf(c->address, sizeof(c->address), "%s", v->accepting_address);
	peer_host(c->address, c->host, sizeof(c->host));
	c->watch =
	        vmm_loop_watch_add(vmm_display_loop(v->d), cl->sock, POLLIN, client_readable, cl);
	if (!c->watch) {
		free(c);
		return RFB_CLIENT_REFUSE;
	}
	cl->clientData = c;
	cl->clientGoneHook = client_gone;
	return RFB_CLIENT_ACCEPT;
}

/* Finish a client whose socket libvncserver closed. */
static void reap(struct vmm_vnc *v, rfbClientPtr cl)
{
	if (cl->sock == RFB_INVALID_SOCKET)
		rfbClientConnectionGone(cl);
}

static void for_each_client(struct vmm_vnc *v, void (*fn)(struct vmm_vnc *v, rfbClientPtr cl))
{
	rfbClientIteratorPtr it = rfbGetClientIterator(v->screen);
	rfbClientPtr cl, next;

	/* Collect first: fn may end a client, which edits the list. */
	cl = rfbClientIteratorNext(it);
	while (cl) {
		next = rfbClientIteratorNext(it);
		fn(v, cl);
		cl = next;
	}
	rfbReleaseClientIterator(it);
}

static void update_one(struct vmm_vnc *v, rfbClientPtr cl)
{
	if (cl->sock != RFB_INVALID_SOCKET)
		rfbUpdateClient(cl);
	ext_keys_confirm(cl);
	reap(v, cl);
}

static void disconnect_one(struct vmm_vnc *v, rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;

	if (c && c->authenticated)
		log_info("vm=%s vnc: disconnecting %s (new ticket)", v->name, c->address);
	if (cl->sock != RFB_INVALID_SOCKET)
		rfbCloseClient(cl);
	reap(v, cl);
}

static void describe_peer(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "unix");
	}
}

/* The part of "host:port" penalties apply to: the host. */
static void peer_host(const char *address, char *buf, size_t size)
{
	const char *colon = strrchr(address, ':');
	size_t n = colon ? (size_t)(colon - address) : strlen(address);

	snprintf(buf, size, "%.*s", (int)n, address);
}

static void on_accept(void *opaque, int fd, unsigned int revents)
{
	struct vmm_vnc *v = opaque;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char address[64], host[64];
	unsigned int wait;
	rfbClientPtr cl;
	int s = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);

	if (s < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("vm=%s vnc: accept: %s", v->name, strerror(errno));
		return;
	}
	describe_peer(&ss, address, sizeof(address));
	peer_host(address, host, sizeof(host));
	wait = penalty_left(v, host);
	if (wait) {
		log_warn("vm=%s vnc: refusing %s for another %u s after failed authentication",
		         v->name, address, wait);
		close(s);
		return;
	}
	v->accepting_address = address;
	cl = rfbNewClient(v->screen, s);
	v->accepting_address = NULL;
	if (!cl) {
		log_warn("vm=%s vnc: could not set up the connection from %s", v->name, address);
		return; /* libvncserver closed the socket */
	}
	log_debug("vm=%s vnc: connection from %s", v->name, address);
	reap(v, cl);
}

/* ---- the display core's callbacks ---- */

/* Point libvncserver at @pixels, keeping our pixel layout (x8r8g8b8 little-endian). */
static void set_framebuffer(struct vmm_vnc *v, uint32_t *pixels, unsigned int w, unsigned int h)
{
	rfbClientIteratorPtr it;
	rfbClientPtr cl;

	if ((int)w == v->screen->width && (int)h == v->screen->height) {
		v->screen->frameBuffer = (char *)pixels;
		rfbMarkRectAsModified(v->screen, 0, 0, (int)w, (int)h);
		return;
	}
	rfbNewFramebuffer(v->screen, (char *)pixels, (int)w, (int)h, 8, 3, 4);
	/* rfbNewFramebuffer() resets the layout to its default; put ours back. */
	v->screen->serverFormat.redShift = 16;
	v->screen->serverFormat.greenShift = 8;
	v->screen->serverFormat.blueShift = 0;
	it = rfbGetClientIterator(v->screen);
	while ((cl = rfbClientIteratorNext(it)))
		rfbSetTranslateFunction(cl);
	rfbReleaseClientIterator(it);
}

static void on_surface(void *opaque, const struct vmm_display_surface *s)
{
	struct vmm_vnc *v = opaque;

	if (s->pixels)
		set_framebuffer(v, s->pixels, s->width, s->height);
	else
		set_framebuffer(v, v->blank, BLANK_W, BLANK_H);
	v->surface_serial = s->serial;
	for_each_client(v, update_one);
}

static void on_update(void *opaque, const struct vmm_display_rect *rects, size_t n)
{
	struct vmm_vnc *v = opaque;

	for (size_t i = 0; i < n; i++)
		rfbMarkRectAsModified(v->screen, (int)rects[i].x, (int)rects[i].y,
		                      (int)(rects[i].x + rects[i].w),
		                      (int)(rects[i].y + rects[i].h));
	for_each_client(v, update_one);
}

static void on_ticket(void *opaque, const struct vmm_ticket *t, bool disconnect)
{
	struct vmm_vnc *v = opaque;

	if (disconnect)
		for_each_client(v, disconnect_one);
}

/* ---- setting up and tearing down ---- */

static int listen_tcp(const struct vmm_listen *l, int *ret_port, char *err, size_t err_size)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, l->host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)l->port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, l->host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)l->port);
		len = sizeof(struct sockaddr_in6);
	} else {
		snprintf(err, err_size, "vnc: '%s' is not a numeric address", l->host);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0)
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail;
	*ret_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail : {
	int e = errno;

	snprintf(err, err_size, "vnc: cannot listen on %s:%d: %s", l->host, l->port, strerror(e));
	if (fd >= 0)
		close(fd);
	return -e;
}
}

static int listen_unix(const char *path, char *err, size_t err_size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, err_size, "vnc: socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	unlink(path); /* a stale socket from an earlier run */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	snprintf(err, err_size, "vnc: cannot listen on %s: %s", path, strerror(e));
	if (fd >= 0)
		close(fd);
	return -e;
}

struct setup {
	struct vmm_vnc *v;
	const struct vmm_listen *listen;
	char *err;
	size_t err_size;
	int r;
};

static void setup_on_thread(void *opaque)
{
	struct setup *s = opaque;
	struct vmm_vnc *v = s->v;
	struct vmm_display_server_info info = { .protocol = VMM_PROTOCOL_VNC,
		                                .tls_port = -1,
		                                .auth = true };
	int port = -1, fd;

	if (s->listen->is_unix) {
		fd = listen_unix(s->listen->path, s->err, s->err_size);
		if (fd >= 0)
			snprintf(v->unix_path, sizeof(v->unix_path), "%s", s->listen->path);
	} else {
		fd = listen_tcp(s->listen, &port, s->err, s->err_size);
	}
	if (fd < 0) {
		s->r = fd;
		return;
	}
	v->listen_fd = fd;
	v->listen_watch = vmm_loop_watch_add(vmm_display_loop(v->d), fd, POLLIN, on_accept, v);
	if (!v->listen_watch || vmm_display_listener_add(v->d, &v->listener) < 0) {
		snprintf(s->err, s->err_size, "vnc: out of memory");
		s->r = -ENOMEM;
		return;
	}
	info.address = s->listen->is_unix ? s->listen->path : s->listen->host;
	info.port = port;
	vmm_display_server_info_set(v->d, &info);
	if (s->listen->is_unix)
		log_info("vm=%s vnc: listening on %s", v->name, s->listen->path);
	else
		log_info("vm=%s vnc: listening on %s:%d", v->name, s->listen->host, port);
	s->r = 0;
}

static void teardown_on_thread(void *opaque)
{
	struct vmm_vnc *v = opaque;

	vmm_display_listener_remove(v->d, &v->listener);
	vmm_display_server_info_clear(v->d, VMM_PROTOCOL_VNC);
	vmm_loop_watch_remove(v->listen_watch);
	v->listen_watch = NULL;
	if (v->listen_fd >= 0)
		close(v->listen_fd);
	v->listen_fd = -1;
	if (v->unix_path[0])
		unlink(v->unix_path);
	if (v->screen) {
		for_each_client(v, disconnect_one);
		rfbScreenCleanup(v->screen);
		v->screen = NULL;
	}
}

int vmm_vnc_new(struct vmm_display *d, const struct vmm_listen *listen, const char *vm_name,
                struct vmm_vnc **ret, char *err, size_t err_size)
{
	static bool registered;
	struct vmm_vnc *v = calloc(1, sizeof(*v));
	struct setup s = { v, listen, err, err_size, 0 };

	if (!v)
		return -ENOMEM;
	v->d = d;
	v->listen_fd = -1;
	snprintf(v->name, sizeof(v->name), "%s", vm_name);
	v->blank = calloc((size_t)BLANK_W * BLANK_H, 4);
	if (!v->blank) {
		free(v);
		return -ENOMEM;
	}
	rfbLog = vnc_log;
	rfbErr = vnc_err;
	if (!registered) {
		rfbRegisterProtocolExtension(&ext_keys);
		registered = true;
	}
	v->screen = rfbGetScreen(NULL, NULL, BLANK_W, BLANK_H, 8, 3, 4);
	if (!v->screen) {
		free(v->blank);
		free(v);
		return -ENOMEM;
	}
	v->screen->screenData = v;
	v->screen->desktopName = v->name;
	v->screen->frameBuffer = (char *)v->blank;
	v->screen->serverFormat.redShift = 16;
	v->screen->serverFormat.greenShift = 8;
	v->screen->serverFormat.blueShift = 0;
	/* We accept connections ourselves: libvncserver opens no sockets. */
	v->screen->port = 0;
	v->screen->ipv6port = 0;
	v->screen->autoPort = FALSE;
	v->screen->httpDir = NULL;
	v->screen->alwaysShared = TRUE; /* a second viewer joins instead of kicking */
	v->screen->authPasswdData = v;  /* non-NULL: VNC authentication is required */
	v->screen->passwordCheck = check_password;
	v->screen->newClientHook = new_client;
	v->screen->kbdAddEvent = keysym_event;
	v->screen->ptrAddEvent = pointer_event;
	v->screen->setDesktopSizeHook = set_desktop_size;
	v->screen->deferUpdateTime = 0; /* the display core already batches a scan period */
	v->screen->deferPtrUpdateTime = 0;
	v->screen->maxClientWait = CLIENT_WAIT_MS;
	v->screen->ignoreSIGPIPE = TRUE;
	v->screen->cursor = NULL; /* the guest draws its own pointer */
	rfbInitServer(v->screen);
	v->listener = (struct vmm_display_listener){ .protocol = VMM_PROTOCOL_VNC,
		                                     .surface = on_surface,
		                                     .update = on_update,
		                                     .ticket = on_ticket,
		                                     .opaque = v };
	if (vmm_display_call_sync(d, setup_on_thread, &s) < 0)
		s.r = -ENOMEM;
	if (s.r < 0) {
		vmm_vnc_free(v);
		return s.r;
	}
	*ret = v;
	return 0;
}

void vmm_vnc_free(struct vmm_vnc *v)
{
	if (!v)
		return;
	vmm_display_call_sync(v->d, teardown_on_thread, v);
	free(v->blank);
	free(v);
}
