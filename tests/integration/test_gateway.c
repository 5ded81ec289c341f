// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The browser console gateway against the real vdi-broker and a real
 * vdi-vmm: a WebSocket client over TLS (written here, speaking RFB as noVNC
 * does) reaches the guest's desktop through /api/v1/console, and every
 * refusal the gateway promises is checked: no ticket, a forged, expired or
 * reused one, one for somebody else's VM, a wrong Origin, a text frame, an
 * oversized message.
 *
 * VM supervision is not needed: the test starts the vmm itself, writes its
 * row into the broker's database (assigned to the test user) and signs
 * tickets with the broker's key from its data directory, as connect does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "broker/store.h"
#include "broker_harness.h"
#include "harness.h"
#include "proto/ticket.h"

#define BOOT_TIMEOUT_MS 90000
#define WAIT_MS 30000
#define VM_NAME "gw-1"

static struct broker b;
static struct vm vm;
static uint8_t key[32];
static char conf[300];
static char carol_totp[80]; /* carol's TOTP secret (base32) */

/* ---- a small WebSocket client (RFC 6455 over TLS, HTTP/1.1) ---- */

struct ws {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	uint8_t in[1 << 18]; /* received, not yet parsed */
	size_t in_len;
	uint8_t rfb[1 << 18]; /* payload of binary frames, not yet consumed */
	size_t rfb_len;
	int close_code; /* from the server's close frame, or -1 */
};

static int ws_fill(struct ws *w)
{
	int n;

	if (w->in_len == sizeof(w->in))
		return -ENOBUFS;
	n = SSL_read(w->ssl, w->in + w->in_len, (int)(sizeof(w->in) - w->in_len));
	if (n <= 0)
		return -EIO;
	w->in_len += (size_t)n;
	return 0;
}

/*
 * Connect and ask for the upgrade with @query ("?ticket=...") and @origin
 * (NULL: no Origin header), subprotocol @proto (NULL: none). Returns the
 * HTTP status (101 when upgraded) or 0 when the server closed without one.
 */
static int ws_open_at(struct ws *w, int port, const char *query, const char *origin,
                      const char *proto)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 30 };
	char req[2048], *end;
	int status = 0;

	memset(w, 0, sizeof(*w));
	w->close_code = -1;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(w->fd, 0);
	ck_assert_int_eq(connect(w->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	w->ctx = SSL_CTX_new(TLS_client_method());
	w->ssl = SSL_new(w->ctx);
	SSL_set_fd(w->ssl, w->fd);
	ck_assert_int_eq(SSL_connect(w->ssl), 1);
	snprintf(req, sizeof(req),
	         "GET /api/v1/console%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
	         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	         "Sec-WebSocket-Version: 13\r\n%s%s%s%s%s%s\r\n",
	         query, port, proto ? "Sec-WebSocket-Protocol: " : "", proto ? proto : "",
	         proto ? "\r\n" : "", origin ? "Origin: " : "", origin ? origin : "",
	         origin ? "\r\n" : "");
	ck_assert_int_eq(SSL_write(w->ssl, req, (int)strlen(req)), (int)strlen(req));
	for (;;) {
		w->in[w->in_len] = '\0';
		end = strstr((char *)w->in, "\r\n\r\n");
		if (end)
			break;
		if (w->in_len >= 8192 || ws_fill(w) < 0)
			return 0;
	}
	sscanf((char *)w->in, "HTTP/1.1 %d", &status);
	end += 4;
	w->in_len -= (size_t)((uint8_t *)end - w->in);
	memmove(w->in, end, w->in_len);
	return status;
}

/* A console WebSocket to the broker, as a browser opens it; the HTTP status. */
static int ws_open(struct ws *w, const char *query, const char *origin, const char *proto)
{
	return ws_open_at(w, b.port, query, origin, proto);
}

static void ws_close(struct ws *w)
{
	if (w->ssl)
		SSL_free(w->ssl);
	if (w->ctx)
		SSL_CTX_free(w->ctx);
	if (w->fd > 0)
		close(w->fd);
	memset(w, 0, sizeof(*w));
}

/* One frame, masked as a client must; @fin false for a fragment. */
static void ws_send(struct ws *w, int opcode, const void *data, size_t len)
{
	static const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	uint8_t *f = malloc(len + 14);
	size_t h = 0;

	f[h++] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		f[h++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		f[h++] = 0x80 | 126;
		f[h++] = (uint8_t)(len >> 8);
		f[h++] = (uint8_t)len;
	} else {
		f[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			f[h++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	memcpy(f + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < len; i++)
		f[h + i] = ((const uint8_t *)data)[i] ^ mask[i & 3];
	SSL_write(w->ssl, f, (int)(h + len)); /* may fail once the server closed */
	free(f);
}

/* Parse one server frame into w->rfb (binary) or close_code. 0, or -EIO at the end. */
static int ws_frame(struct ws *w)
{
	for (;;) {
		size_t h = 2, len;

		if (w->in_len >= 2) {
			len = w->in[1] & 0x7f;
			if (len == 126 && w->in_len >= 4) {
				len = (size_t)w->in[2] << 8 | w->in[3];
				h = 4;
			} else if (len == 127 && w->in_len >= 10) {
				len = 0;
				for (int i = 0; i < 8; i++)
					len = len << 8 | w->in[2 + i];
				h = 10;
			} else if (len >= 126) {
				h = 0; /* header incomplete */
			}
			if (h && w->in_len >= h + len) {
				int op = w->in[0] & 0x0f;

				ck_assert_msg(!(w->in[1] & 0x80), "the server masked a frame");
				if (op == 2 || op == 0) {
					ck_assert_uint_le(w->rfb_len + len, sizeof(w->rfb));
					memcpy(w->rfb + w->rfb_len, w->in + h, len);
					w->rfb_len += len;
				} else if (op == 8) {
					w->close_code =
					        len >= 2 ? (w->in[h] << 8 | w->in[h + 1]) : 1005;
				} else {
					ck_assert_msg(op == 9 || op == 10, "unexpected opcode %d",
					              op);
				}
				memmove(w->in, w->in + h + len, w->in_len - h - len);
				w->in_len -= h + len;
				return op == 8 ? -EIO : 0;
			}
		}
		if (ws_fill(w) < 0)
			return -EIO;
	}
}

/* @n bytes of the RFB stream from the server. */
static void rfb_read(struct ws *w, void *out, size_t n)
{
	while (w->rfb_len < n)
		ck_assert_msg(ws_frame(w) == 0, "the tunnel ended (close code %d)", w->close_code);
	memcpy(out, w->rfb, n);
	memmove(w->rfb, w->rfb + n, w->rfb_len - n);
	w->rfb_len -= n;
}

/* Read until the server's close frame; its status code (or -1 when none came). */
static int ws_wait_close(struct ws *w)
{
	do
		w->rfb_len = 0; /* what the desktop still sends is not looked at */
	while (ws_frame(w) == 0);
	return w->close_code;
}

/* ---- the broker, the VM and tickets ---- */

static void setup(void)
{
	const char *args[] = { "--config", conf, NULL };
	const char *add[] = { "user", "add", "alice", "--password-stdin", NULL };
	const char *add_bob[] = { "user", "add", "bob", "--password-stdin", NULL };
	const char *add_carol[] = { "user", "add", "carol", "--password-stdin", NULL };
	const char *add_dave[] = { "user", "add", "dave", "--password-stdin", NULL };
	const char *totp_carol[] = { "user", "totp", "carol", NULL };
	const char *entitle[] = { "pool", "set", "gw", "--entitle", "user:alice", NULL };
	static const char *const vm_args[] = { "--resolution", "800x600", "--spice", "none", NULL };
	struct broker_store *s;
	struct broker_pool pool;
	struct broker_user alice;
	struct broker_vm row;
	char path[400], err[256], out[2048];
	const char *p;
	FILE *f;
	int fd;

	/* A pool that keeps no VMs of its own: this test brings its VM. */
	snprintf(conf, sizeof(conf), "/tmp/vdi-it-gateway-%d.conf", (int)getpid());
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	/* Lockout after three failures, and no waits between them (the browser test locks one). */
	fprintf(f, "[auth]\nlockout_failures = 3\nthrottle_base_ms = 0\n"
	           "[pool gw]\nsize = 0\nspares = 0\n");
	fclose(f);
	ck_assert_msg(broker_start(&b, args) == 0, "vdi-broker did not start");
	ck_assert_int_eq(broker_cli(&b, "alice's password\n", add), 0);
	ck_assert_int_eq(broker_cli(&b, "bob's password!\n", add_bob), 0);
	ck_assert_int_eq(broker_cli(&b, "alice's password\n", add_carol), 0);
	ck_assert_int_eq(broker_cli(&b, "alice's password\n", add_dave), 0);
	ck_assert_int_eq(broker_cli_capture(&b, NULL, totp_carol, out, sizeof(out)), 0);
	p = strstr(out, "secret=");
	ck_assert_msg(p && sscanf(p + 7, "%79[A-Z2-7]", carol_totp) == 1, "%s", out);
	ck_assert_int_eq(broker_cli(&b, NULL, entitle), 0);

	ck_assert_int_eq(vm_start(&vm, VM_NAME, vm_args), 0);
	ck_assert_msg(vm_wait_serial(&vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not reach its desktop; serial:\n%s", vm_serial(&vm));

	snprintf(path, sizeof(path), "%s/broker.db", b.dir);
	ck_assert_msg(broker_store_open(path, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(broker_store_pool_get_by_name(s, "gw", &pool), 0);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "alice", &alice), 0);
	/* In one go, running and assigned: the broker's pools may tidy a free, stopped row away. */
	memset(&row, 0, sizeof(row));
	row.pool_id = pool.id;
	snprintf(row.name, sizeof(row.name), VM_NAME);
	row.created = row.last_used = (int64_t)time(NULL);
	row.state = BROKER_VM_RUNNING;
	row.pid = vm.pid;
	snprintf(row.control_path, sizeof(row.control_path), "%s", vm.sock);
	snprintf(row.vnc_host, sizeof(row.vnc_host), "127.0.0.1");
	row.vnc_port = vm_display_port(&vm, "vnc");
	ck_assert_int_gt(row.vnc_port, 0);
	row.user_id = alice.id;
	ck_assert_int_eq(broker_store_vm_add(s, &row), 0);
	broker_store_close(s);

	snprintf(path, sizeof(path), "%s/ticket.key", b.dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, key, sizeof(key)), (int)sizeof(key));
	close(fd);
}

static void teardown(void)
{
	int status = broker_stop(&b);

	if (getenv("VDI_GW_KEEP_LOG")) { /* debugging: keep the broker's output */
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "cat %s >> %s", b.out, getenv("VDI_GW_KEEP_LOG"));
		if (system(cmd) != 0)
			fprintf(stderr, "cannot keep %s\n", b.out);
	}
	broker_cleanup(&b);
	vm_cleanup(&vm);
	unlink(conf);
	/* A clean exit (sanitizer builds: no leak, no error) with tunnels just closed. */
	ck_assert_int_eq(status, 0);
}

/* "?ticket=..." for @user on @vm_name, expiring @ttl seconds from now. */
static const char *ticket(const char *user, const char *vm_name, int ttl)
{
	static char q[PROTO_TICKET_MAX_LEN + 16];
	struct proto_ticket t = { .protocols = PROTO_TICKET_WS | PROTO_TICKET_VNC };

	snprintf(t.vm, sizeof(t.vm), "%s", vm_name);
	snprintf(t.user, sizeof(t.user), "%s", user);
	t.expires = (int64_t)time(NULL) + ttl;
	memcpy(q, "?ticket=", 8);
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), q + 8, sizeof(q) - 8), 0);
	return q;
}

static const char *origin(void)
{
	static char o[64];

	snprintf(o, sizeof(o), "https://127.0.0.1:%d", b.port);
	return o;
}

/* The browser's half of the RFB handshake through the gateway; ServerInit's width, height. */
static void rfb_handshake(struct ws *w, unsigned int *width, unsigned int *height)
{
	uint8_t buf[64];
	uint32_t name_len;

	rfb_read(w, buf, 12);
	ck_assert_mem_eq(buf, "RFB 003.008\n", 12);
	ws_send(w, 2, "RFB 003.008\n", 12);
	rfb_read(w, buf, 2);
	ck_assert_int_eq(buf[0], 1); /* one security type... */
	ck_assert_int_eq(buf[1], 1); /* ...None: the gateway did the VM's authentication */
	ws_send(w, 2, "\x01", 1);
	rfb_read(w, buf, 4);
	ck_assert_mem_eq(buf, "\0\0\0\0", 4);
	ws_send(w, 2, "\x01", 1); /* ClientInit, shared */
	rfb_read(w, buf, 24);
	*width = (unsigned int)buf[0] << 8 | buf[1];
	*height = (unsigned int)buf[2] << 8 | buf[3];
	name_len = (uint32_t)buf[20] << 24 | (uint32_t)buf[21] << 16 | (uint32_t)buf[22] << 8 |
	           buf[23];
	ck_assert_uint_lt(name_len, sizeof(buf));
	rfb_read(w, buf, name_len);
}

static void key_event(struct ws *w, uint32_t keysym)
{
	for (int down = 1; down >= 0; down--) {
		uint8_t m[8] = { 4,
			         (uint8_t)down,
			         0,
			         0,
			         (uint8_t)(keysym >> 24),
			         (uint8_t)(keysym >> 16),
			         (uint8_t)(keysym >> 8),
			         (uint8_t)keysym };

		ws_send(w, 2, m, sizeof(m));
	}
}

/* The audit events written so far, as one string of "event detail" lines (malloc'd). */
static char *audit_text(void)
{
	struct broker_store *s;
	struct broker_audit *a = NULL;
	size_t n = 0, len = 0;
	char path[400], err[256], *text = NULL;
	FILE *f = open_memstream(&text, &len);

	snprintf(path, sizeof(path), "%s/broker.db", b.dir);
	ck_assert_int_eq(broker_store_open(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(broker_store_audit_list(s, 0, 1000, &a, &n), 0);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s user=%s vm=%s %s\n", a[i].event, a[i].user, a[i].vm, a[i].detail);
	fclose(f);
	free(a);
	broker_store_close(s);
	return text;
}

/* ---- tests ---- */

START_TEST(console_reaches_the_guest)
{
	const char *t = ticket("alice", VM_NAME, 30);
	char reused[PROTO_TICKET_MAX_LEN + 16], *audit;
	unsigned int width, height;
	struct ws w;
	json_t *args;
	uint8_t fbreq[10] = { 3, 0, 0, 0, 0, 0, 0x03, 0x20, 0x02, 0x58 }; /* full 800x600 */
	uint8_t hdr[4];

	snprintf(reused, sizeof(reused), "%s", t);
	ck_assert_int_eq(ws_open(&w, t, origin(), "vdi-console"), 101);
	rfb_handshake(&w, &width, &height);
	ck_assert_uint_eq(width, 800);
	ck_assert_uint_eq(height, 600);
	/* A framebuffer update comes back through the tunnel. */
	ws_send(&w, 2, fbreq, sizeof(fbreq));
	rfb_read(&w, hdr, 4);
	ck_assert_int_eq(hdr[0], 0); /* FramebufferUpdate */
	/* Keys typed in the "browser" reach the guest's terminal. */
	key_event(&w, 'h');
	key_event(&w, 'e');
	key_event(&w, 'l');
	key_event(&w, 'p');
	key_event(&w, 0xff0d);
	ck_assert_msg(vm_wait_serial(&vm, "switch the machine off", 1, WAIT_MS) == 0,
	              "help did not reach the guest; serial:\n%s", vm_serial(&vm));

	/* The ticket was good once. */
	{
		struct ws again;

		ck_assert_int_ne(ws_open(&again, reused, origin(), "vdi-console"), 101);
		ws_close(&again);
	}

	/* The VM drops its client (a new ticket with connected: disconnect): a clean close. */
	args = json_pack("{s:s, s:s, s:s}", "protocol", "vnc", "secret", "zz9Yy8Xx", "connected",
	                 "disconnect");
	json_decref(vm_ok(&vm, "set-ticket", args));
	ck_assert_int_eq(ws_wait_close(&w), 1000);
	ws_close(&w);

	/* Opened and closed in the audit log, with bytes each way. */
	for (int i = 0; i < 100; i++) {
		audit = audit_text();
		if (strstr(audit, "console.close"))
			break;
		free(audit);
		audit = NULL;
		usleep(50000);
	}
	ck_assert_ptr_nonnull(audit);
	ck_assert_msg(strstr(audit, "console.open user=alice vm=" VM_NAME), "%s", audit);
	ck_assert_msg(strstr(audit, "console.close user=alice vm=" VM_NAME), "%s", audit);
	ck_assert_msg(strstr(audit, "\"bytes_to_vm\":"), "%s", audit);
	ck_assert_msg(!strstr(audit, "\"bytes_to_browser\":0,"), "%s", audit);
	ck_assert_msg(strstr(audit, "ticket reused"), "%s", audit);
	ck_assert_msg(strstr(audit, "\"reason\":\"the desktop closed the console\""), "%s", audit);
	free(audit);
}
END_TEST

START_TEST(refusals)
{
	struct ws w;
	char forged[PROTO_TICKET_MAX_LEN + 16];
	static uint8_t big[70000];
	struct http_reply r;
	unsigned int width, height;

	/* No ticket, a malformed one, a forged one, an expired one. */
	ck_assert_int_ne(ws_open(&w, "", origin(), "vdi-console"), 101);
	ws_close(&w);
	ck_assert_int_ne(ws_open(&w, "?ticket=v1.abc.def", origin(), "vdi-console"), 101);
	ws_close(&w);
	snprintf(forged, sizeof(forged), "%s", ticket("alice", VM_NAME, 30));
	forged[strlen(forged) - 2] = forged[strlen(forged) - 2] == 'A' ? 'B' : 'A';
	ck_assert_int_ne(ws_open(&w, forged, origin(), "vdi-console"), 101);
	ws_close(&w);
	ck_assert_int_ne(ws_open(&w, ticket("alice", VM_NAME, -1), origin(), "vdi-console"), 101);
	ws_close(&w);
	/* Somebody else's desktop, and one that does not exist. */
	ck_assert_int_ne(ws_open(&w, ticket("bob", VM_NAME, 30), origin(), "vdi-console"), 101);
	ws_close(&w);
	ck_assert_int_ne(ws_open(&w, ticket("alice", "nope", 30), origin(), "vdi-console"), 101);
	ws_close(&w);
	/* Wrong or missing Origin, no or another subprotocol. */
	ck_assert_int_ne(
	        ws_open(&w, ticket("alice", VM_NAME, 30), "https://evil.example", "vdi-console"),
	        101);
	ws_close(&w);
	ck_assert_int_ne(ws_open(&w, ticket("alice", VM_NAME, 30), NULL, "vdi-console"), 101);
	ws_close(&w);
	ck_assert_int_ne(ws_open(&w, ticket("alice", VM_NAME, 30), origin(), NULL), 101);
	ws_close(&w);
	ck_assert_int_ne(ws_open(&w, ticket("alice", VM_NAME, 30), origin(), "binary"), 101);
	ws_close(&w);

	/* A message over the limit ends the tunnel with 1009... */
	ck_assert_int_eq(ws_open(&w, ticket("alice", VM_NAME, 30), origin(), "vdi-console"), 101);
	ws_send(&w, 2, big, sizeof(big));
	ck_assert_int_eq(ws_wait_close(&w), 1009);
	ws_close(&w);
	/* ...a text frame with 1003. */
	ck_assert_int_eq(ws_open(&w, ticket("alice", VM_NAME, 30), origin(), "vdi-console"), 101);
	ws_send(&w, 1, "RFB 003.008\n", 12);
	ck_assert_int_eq(ws_wait_close(&w), 1003);
	ws_close(&w);
	/* A browser that never speaks RFB is closed at the handshake deadline (15 s). */
	ck_assert_int_eq(ws_open(&w, ticket("alice", VM_NAME, 30), origin(), "vdi-console"), 101);
	ck_assert_int_eq(ws_wait_close(&w), 1008);
	ws_close(&w);

	/* After all that the console still works, and the API still answers. */
	ck_assert_int_eq(ws_open(&w, ticket("alice", VM_NAME, 30), origin(), "vdi-console"), 101);
	rfb_handshake(&w, &width, &height);
	ck_assert_uint_eq(width, 800);
	ws_close(&w);
	ck_assert_int_eq(broker_http(&b, "GET", "/api/v1/me", NULL, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 401);
	http_reply_free(&r);
}
END_TEST

static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/*
 * Two consoles on one desktop at once (the gateway sets the VM's one-time
 * secret for one at a time), the cap per user, and back-pressure: a
 * browser that does not read makes the gateway stop reading the VM instead
 * of buffering its updates.
 */
START_TEST(two_tabs_caps_and_backpressure)
{
	struct ws w[5];
	unsigned int width, height;
	/* Non-incremental, full screen: 800x600x4 bytes of Raw each. */
	static const uint8_t fbreq[10] = { 3, 0, 0, 0, 0, 0, 0x03, 0x20, 0x02, 0x58 };
	long before, after;
	size_t got = 0;

	before = rss_kib(b.pid);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(
		        ws_open(&w[i], ticket("alice", VM_NAME, 30), origin(), "vdi-console"), 101);
	/* The fifth console of one user is refused. */
	ck_assert_int_ne(ws_open(&w[4], ticket("alice", VM_NAME, 30), origin(), "vdi-console"),
	                 101);
	ws_close(&w[4]);
	for (int i = 0; i < 2; i++) {
		rfb_handshake(&w[i], &width, &height);
		ck_assert_uint_eq(width, 800);
	}
	/* For the record (not a check: allocators make it noisy): what a tunnel costs. */
	after = rss_kib(b.pid);
	fprintf(stderr, "gateway: broker RSS %ld -> %ld KiB with 4 tunnels open\n", before, after);
	ws_close(&w[2]);
	ws_close(&w[3]);

	/* 100 full frames asked for, none read: about 190 MB if the gateway buffered them. */
	before = rss_kib(b.pid);
	for (int i = 0; i < 100; i++)
		ws_send(&w[0], 2, fbreq, sizeof(fbreq));
	sleep(3);
	after = rss_kib(b.pid);
	/*
	 * Buffered, that would be 190 MB (and the gateway would have closed the
	 * tunnel at BROKER_GW_BUF_MAX); the slack is for allocators (ASan's
	 * quarantine keeps freed memory).
	 */
	ck_assert_msg(after - before < 32 * 1024, "the broker grew from %ld to %ld KiB", before,
	              after);
	/* Reading again, the frames flow: the tunnel was paused, not closed. */
	while (got < 4u * 1024 * 1024) {
		ck_assert_int_eq(ws_frame(&w[0]), 0);
		got += w[0].rfb_len;
		w[0].rfb_len = 0;
	}
	ws_close(&w[0]);
	/* The other tab still works. */
	ws_send(&w[1], 2, fbreq, sizeof(fbreq));
	ck_assert_int_eq(ws_frame(&w[1]), 0);
	ws_close(&w[1]);
	/* Closed tabs end their tunnels, audited. */
	for (int i = 0; i < 100; i++) {
		char *audit = audit_text();
		const char *p = audit;
		int n = 0;

		while ((p = strstr(p, "\"reason\":\"browser closed\""))) {
			n++;
			p++;
		}
		if (n == 4) {
			free(audit);
			break;
		}
		ck_assert_msg(i < 99, "%s", audit);
		free(audit);
		usleep(50000);
	}
}
END_TEST

/*
 * Run tests/e2e/console.mjs in headless Chromium against the broker, the
 * part @part of it ("all", or "gateway": the console through the gateway
 * on its own at @gateway_url); fails the test when the script does.
 */
static void run_browser(const char *part, const char *gateway_url)
{
	const char *src = getenv("VDI_SOURCE_DIR");
	char script[600], modules[600], url[64], e_part[64], e_gateway[200];
	char e_url[128], e_serial[400], e_control[400];
	char out[300], e_out[320], log_path[320], e_totp[120];
	int status;
	pid_t pid;

	ck_assert_msg(src, "VDI_SOURCE_DIR is not set (run through ctest)");
	snprintf(script, sizeof(script), "%s/tests/e2e/console.mjs", src);
	snprintf(modules, sizeof(modules), "%s/tests/e2e/node_modules/playwright-core", src);
	ck_assert_msg(access(modules, R_OK) == 0,
	              "%s is missing: scripts/test.sh installs it (npm ci in tests/e2e)", modules);
	snprintf(modules, sizeof(modules), "%s/assets/web/node_modules/@novnc/novnc/core/rfb.js",
	         src);
	ck_assert_msg(access(modules, R_OK) == 0,
	              "%s is missing: scripts/test.sh installs it (npm ci in assets/web)", modules);
	ck_assert_msg(access("/usr/bin/chromium", X_OK) == 0, "/usr/bin/chromium is missing");

	if (getenv("VDI_E2E_OUT")) {
		snprintf(out, sizeof(out), "%s", getenv("VDI_E2E_OUT"));
		mkdir(out, 0755);
	} else {
		snprintf(out, sizeof(out), "%s/e2e-%s", b.dir, part);
		ck_assert_int_eq(mkdir(out, 0700), 0);
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", b.port);
	snprintf(e_url, sizeof(e_url), "VDI_URL=%s", url);
	snprintf(e_serial, sizeof(e_serial), "VDI_VM_SERIAL=%s", vm.serial);
	snprintf(e_control, sizeof(e_control), "VDI_VM_CONTROL=%s", vm.sock);
	snprintf(e_totp, sizeof(e_totp), "VDI_TOTP_SECRET=%s", carol_totp);
	snprintf(e_out, sizeof(e_out), "VDI_OUT=%s", out);
	snprintf(e_part, sizeof(e_part), "VDI_E2E_PART=%s", part);
	snprintf(e_gateway, sizeof(e_gateway), "VDI_GATEWAY_URL=%s",
	         gateway_url ? gateway_url : "");
	snprintf(log_path, sizeof(log_path), "%s/console-%s.log", out, part);
	{
		const char *argv[] = { "node", script, NULL };
		const char *envp[] = { e_url,
			               "VDI_USER=alice",
			               "VDI_PASSWORD=alice's password",
			               "VDI_POOL=gw",
			               e_serial,
			               e_control,
			               "VDI_TOTP_USER=carol",
			               e_totp,
			               "VDI_LOCK_USER=dave",
			               e_out,
			               e_part,
			               e_gateway,
			               NULL };

		pid = harness_spawn(argv, envp, log_path);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	{
		FILE *f = fopen(log_path, "re");
		char line[1024];

		while (f && fgets(line, sizeof(line), f))
			fputs(line, stderr);
		if (f)
			fclose(f);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "the browser test failed (its output is above)");
}

/*
 * The web pages in headless Chromium: a wrong password, a TOTP account and
 * a locked one told so; log in, open the desktop, compare the canvas with
 * the vmm's screendump, type help, resize the desktop to the window; in
 * kiosk mode go back to the login page when the desktop drops us; a
 * console link (#ticket=) works once.
 */
START_TEST(browser_console)
{
	run_browser("all", NULL);
}
END_TEST

/*
 * The gateway as a process of its own ("vdi-broker gateway", its own port,
 * the broker's data directory), the broker sending browsers there
 * ([console] gateway_url) and serving no consoles itself.
 */
START_TEST(gateway_on_its_own)
{
	const char *args[] = { "--config", conf, NULL };
	char gw_conf[320], gw_origin[64], gateway_url[64], want[128], auth[600];
	const char *gw_args[] = { "--config", gw_conf, NULL };
	const char *web = "{\"protocol\":\"web\"}", *token;
	struct broker g;
	struct http_reply r;
	struct ws w;
	unsigned int width, height;
	json_t *j;
	char ticket_q[PROTO_TICKET_MAX_LEN + 16];
	FILE *f;
	int st;

	/* The gateway lets in pages from the broker's origin. */
	snprintf(gw_conf, sizeof(gw_conf), "%s.gateway", conf);
	f = fopen(gw_conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[console]\norigins = https://portal.example.org %s\n", origin());
	fclose(f);
	ck_assert_msg(broker_start_gateway(&g, &b, gw_args) == 0, "the gateway did not start");
	snprintf(gw_origin, sizeof(gw_origin), "https://127.0.0.1:%d", g.port);
	snprintf(gateway_url, sizeof(gateway_url), "wss://127.0.0.1:%d", g.port);

	/* The broker again, now sending browsers to that gateway. */
	ck_assert_int_eq(broker_stop(&b), 0);
	f = fopen(conf, "a");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[console]\ngateway_url = %s\n", gateway_url);
	fclose(f);
	ck_assert_msg(broker_restart(&b, args) == 0, "the broker did not start again");

	/* connect names the gateway; the broker itself serves no console. */
	token = broker_login(&b, "alice", "alice's password", &st);
	ck_assert_msg(token, "login: %d", st);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	/* (while the restarted broker takes the running VM over: 503, try again) */
	for (int i = 0;; i++) {
		ck_assert_int_eq(broker_http(&b, "POST", "/api/v1/pools/gw/connect", auth, web,
		                             strlen(web), &r),
		                 0);
		if (r.status != 503 || i == 100)
			break;
		http_reply_free(&r);
		usleep(200000);
	}
	ck_assert_msg(r.status == 200, "connect: %d %s", r.status, r.body);
	j = http_json(&r);
	snprintf(want, sizeof(want), "%s/api/v1/console", gateway_url);
	ck_assert_str_eq(json_string_value(json_object_get(j, "url")), want);
	snprintf(ticket_q, sizeof(ticket_q), "?ticket=%s",
	         json_string_value(json_object_get(j, "ticket")));
	json_decref(j);
	http_reply_free(&r);
	ck_assert_int_ne(ws_open(&w, ticket_q, origin(), "vdi-console"), 101);
	ws_close(&w);

	/* At the gateway: a page from elsewhere is refused... */
	ck_assert_int_ne(ws_open_at(&w, g.port, ticket_q, "https://evil.example", "vdi-console"),
	                 101);
	ws_close(&w);
	/* ...the broker's page gets the desktop, keys reach the guest... */
	ck_assert_int_eq(ws_open_at(&w, g.port, ticket_q, origin(), "vdi-console"), 101);
	rfb_handshake(&w, &width, &height);
	ck_assert_uint_eq(width, 800);
	key_event(&w, 'u');
	key_event(&w, 'n');
	key_event(&w, 'a');
	key_event(&w, 'm');
	key_event(&w, 'e');
	key_event(&w, 0xff0d);
	ck_assert_msg(vm_wait_serial(&vm, " x86_64", 1, WAIT_MS) == 0,
	              "uname did not reach the guest; serial:\n%s", vm_serial(&vm));
	ws_close(&w);
	/* ...once; the other configured origin and the gateway's own are allowed. */
	ck_assert_int_ne(ws_open_at(&w, g.port, ticket_q, origin(), "vdi-console"), 101);
	ws_close(&w);
	ck_assert_int_eq(ws_open_at(&w, g.port, ticket("alice", VM_NAME, 30),
	                            "https://portal.example.org", "vdi-console"),
	                 101);
	ws_close(&w);
	ck_assert_int_eq(
	        ws_open_at(&w, g.port, ticket("alice", VM_NAME, 30), gw_origin, "vdi-console"),
	        101);
	ws_close(&w);
	/* Nothing else is served there. */
	{
		struct broker at_gw = b;

		at_gw.port = g.port;
		ck_assert_int_eq(broker_http(&at_gw, "GET", "/", NULL, NULL, 0, &r), 0);
		ck_assert_int_eq(r.status, 404);
		http_reply_free(&r);
		ck_assert_int_eq(broker_http(&at_gw, "POST", "/api/v1/login", NULL,
		                             "{\"user\":\"alice\",\"password\":\"x\"}", 29, &r),
		                 0);
		ck_assert_int_eq(r.status, 404);
		http_reply_free(&r);
	}

	/* And in a browser: the console page opens its WebSocket at the gateway. */
	run_browser("gateway", gateway_url);

	/* Its tunnels are in the broker's audit log. */
	{
		char *audit = audit_text();

		ck_assert_msg(strstr(audit, "console.open user=alice vm=" VM_NAME), "%s", audit);
		free(audit);
	}
	ck_assert_int_eq(broker_stop(&g), 0);
	unlink(g.out);
	unlink(gw_conf);
}
END_TEST

int main(void)
{
	Suite *s;
	TCase *tc;

	harness_require_kvm();
	s = suite_create("gateway");
	tc = tcase_create("gateway");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, console_reaches_the_guest);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, two_tabs_caps_and_backpressure);
	tcase_add_test(tc, browser_console);
	tcase_add_test(tc, gateway_on_its_own);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
