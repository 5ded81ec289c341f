// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/options.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/log.h"
#include "proto/vv.h"
#include "viewer/https.h"

#define PASSWORD_FILE_MAX 4096 /* bytes of a password file we read */

#ifndef VIEWER_DEFAULT_BRANDING
#define VIEWER_DEFAULT_BRANDING "/usr/share/vdi/kiosk"
#endif

static const char *const hotkey_names[VIEWER_HK_COUNT] = {
	[VIEWER_HK_RELEASE_CURSOR] = "release-cursor",
	[VIEWER_HK_TOGGLE_FULLSCREEN] = "toggle-fullscreen",
	[VIEWER_HK_SECURE_ATTENTION] = "secure-attention",
	[VIEWER_HK_OVERLAY] = "overlay",
	[VIEWER_HK_LOGOUT] = "logout",
	[VIEWER_HK_QUIT] = "quit",
};

static const char *const hotkey_defaults[VIEWER_HK_COUNT] = {
	[VIEWER_HK_RELEASE_CURSOR] = "ctrl+alt",       [VIEWER_HK_TOGGLE_FULLSCREEN] = "f11",
	[VIEWER_HK_SECURE_ATTENTION] = "ctrl+alt+end", [VIEWER_HK_OVERLAY] = "f12",
	[VIEWER_HK_LOGOUT] = "ctrl+alt+shift+l",       [VIEWER_HK_QUIT] = "",
};

enum {
	OPT_PASSWORD_FILE = 0x100,
	OPT_PASSWORD_STDIN,
	OPT_TITLE,
	OPT_SPICE_CA_FILE,
	OPT_SPICE_HOST_SUBJECT,
	OPT_HOTKEYS,
	OPT_NO_RESIZE_GUEST,
	OPT_NO_GRAB,
	OPT_QUALITY,
	OPT_RETRIES,
	OPT_OVERLAY,
	OPT_LOG_LEVEL,
	OPT_VERSION,
	OPT_BROKER,
	OPT_KIOSK,
	OPT_CA,
	OPT_FINGERPRINT,
	OPT_PROTOCOL,
	OPT_IDLE_TIMEOUT,
	OPT_ALLOW_QUIT,
	OPT_BRANDING,
};

static const struct option options[] = {
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "fullscreen", no_argument, NULL, 'f' },
	{ "spice-ca-file", required_argument, NULL, OPT_SPICE_CA_FILE },
	{ "spice-host-subject", required_argument, NULL, OPT_SPICE_HOST_SUBJECT },
	{ "hotkeys", required_argument, NULL, OPT_HOTKEYS },
	{ "no-resize-guest", no_argument, NULL, OPT_NO_RESIZE_GUEST },
	{ "no-grab", no_argument, NULL, OPT_NO_GRAB },
	{ "quality", required_argument, NULL, OPT_QUALITY },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "overlay", no_argument, NULL, OPT_OVERLAY },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "broker", required_argument, NULL, OPT_BROKER },
	{ "kiosk", no_argument, NULL, OPT_KIOSK },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "fingerprint", required_argument, NULL, OPT_FINGERPRINT },
	{ "protocol", required_argument, NULL, OPT_PROTOCOL },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "allow-quit", no_argument, NULL, OPT_ALLOW_QUIT },
	{ "branding", required_argument, NULL, OPT_BRANDING },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void viewer_options_usage(FILE *f)
{
	fprintf(f,
	        "Usage: vdi-viewer [options] vnc://HOST[:PORT]\n"
	        "       vdi-viewer [options] spice://HOST[:PORT][?tls-port=PORT]\n"
	        "       vdi-viewer [options] FILE.vv | -\n"
	        "       vdi-viewer --broker https://HOST[:PORT] [--kiosk] [broker options]\n"
	        "\n"
	        "Show a virtual desktop over VNC or SPICE. A .vv file (or - to read one from\n"
	        "standard input) is a remote-viewer connection file, as the broker hands out.\n"
	        "With --broker, a login screen signs in to vdi-broker and opens the user's\n"
	        "desktop; reconnecting asks the broker for a new one-time ticket.\n"
	        "\n"
	        "The password is never given on the command line; vdi-viewer takes it from\n"
	        "  --password-file FILE     the first line of FILE\n"
	        "  --password-stdin         the first line of standard input\n"
	        "  VDI_PASSWORD             the environment (removed once read)\n"
	        "  or the .vv file, in this order.\n"
	        "\n"
	        "Options:\n"
	        "  --title TEXT             window title (default: the desktop's name)\n"
	        "  -f, --fullscreen         start full screen\n"
	        "  --spice-ca-file FILE     CA certificates (PEM) that sign the SPICE TLS port's\n"
	        "  --spice-host-subject S   subject the server certificate must have,\n"
	        "                           \"C=XX,O=Example,CN=host\"\n"
	        "  --hotkeys LIST           NAME=KEYS,... for release-cursor (default ctrl+alt),\n"
	        "                           toggle-fullscreen (f11), secure-attention\n"
	        "                           (ctrl+alt+end, sends Ctrl+Alt+Del) and overlay (f12,\n"
	        "                           the status overlay); an empty KEYS turns one off\n"
	        "  --no-resize-guest        keep the guest's resolution when the window is\n"
	        "                           resized, and scale the picture instead\n"
	        "  --no-grab                do not grab the keyboard while the window has focus\n"
	        "  --quality Q              VNC picture: lossless, 0-9 (JPEG quality) or auto\n"
	        "                           (default: lossless to this machine, 8 otherwise)\n"
	        "  --retries N              reconnect attempts after a lost connection, 0-%d\n"
	        "                           (default 10, waiting 1 s, 2 s, 4 s ... 30 s between)\n"
	        "  --overlay                start with the status overlay shown\n"
	        "  --log-level LEVEL        err, warn, info or debug (default warn)\n"
	        "  -h, --help, --version\n"
	        "\n"
	        "Broker options:\n"
	        "  --broker URL             sign in to the broker at https://HOST[:PORT]\n"
	        "  --ca FILE                CA certificates (PEM) the broker's must chain to\n"
	        "                           (default: the system's)\n"
	        "  --fingerprint SHA256     or trust exactly the certificate with this SHA-256\n"
	        "                           fingerprint (AB:CD:..., as the broker prints it)\n"
	        "  --protocol vnc|spice     how to show the desktop (default vnc)\n"
	        "  --kiosk                  a thin client: full screen, cannot be quit from the\n"
	        "                           keyboard, back to the login screen after a\n"
	        "                           disconnect, a sign-out or the idle timeout\n"
	        "  --allow-quit             kiosk: let the quit hotkey (default ctrl+alt+q) and\n"
	        "                           closing the window end the viewer\n"
	        "  --idle-timeout SECONDS   sign out after this long without input (0: never)\n"
	        "  --branding DIR           the login screen's title (DIR/title) and logo\n"
	        "                           (DIR/logo.png); default " VIEWER_DEFAULT_BRANDING "\n"
	        "  Hotkeys also: logout (ctrl+alt+shift+l) and quit (off).\n"
	        "\n"
	        "Exit status:\n"
	        "  0  the window was closed\n"
	        "  1  an error: no display, out of memory\n"
	        "  2  bad arguments, or an unreadable or bad .vv or password file\n"
	        "  3  the server refused the password\n"
	        "  4  could not connect, or the connection was lost and reconnecting failed\n"
	        "  5  the server's TLS certificate was not trusted\n",
	        VIEWER_RETRIES_MAX);
}

static int bad(char *err, size_t err_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *viewer_hotkey_action_name(enum viewer_hotkey_action a)
{
	return a < VIEWER_HK_COUNT ? hotkey_names[a] : "?";
}

void viewer_ui_defaults(struct viewer_ui *ui)
{
	memset(ui, 0, sizeof(*ui));
	ui->resize_guest = true;
	ui->grab_keyboard = true;
	ui->retries = 10;
	ui->quality = VIEWER_QUALITY_AUTO;
	ui->log_level = VDI_LOG_WARN;
	for (int i = 0; i < VIEWER_HK_COUNT; i++)
		viewer_hotkey_parse(hotkey_defaults[i], &ui->hotkeys[i]);
}

static int hotkey_by_name(const char *s, size_t n)
{
	for (int i = 0; i < VIEWER_HK_COUNT; i++)
		if (strlen(hotkey_names[i]) == n && strncmp(hotkey_names[i], s, n) == 0)
			return i;
	return -1;
}

int viewer_hotkeys_apply(struct viewer_ui *ui, const char *list, char *err, size_t err_size)
{
	struct viewer_hotkey hk[VIEWER_HK_COUNT];
	const char *p = list;

	memcpy(hk, ui->hotkeys, sizeof(hk));
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		char keys[VIEWER_HOTKEY_MAX_LEN + 1];
		size_t klen;
		int a;

		if (!eq || (a = hotkey_by_name(p, (size_t)(eq - p))) < 0)
			return bad(err, err_size,
			           "--hotkeys: '%.*s' is not NAME=KEYS with NAME one of "
			           "release-cursor, toggle-fullscreen, secure-attention, overlay, "
			           "logout, quit",
			           (int)(n > 60 ? 60 : n), p);
		klen = n - (size_t)(eq + 1 - p);
		if (klen > VIEWER_HOTKEY_MAX_LEN)
			return bad(err, err_size, "--hotkeys: the keys of %s are too long",
			           hotkey_names[a]);
		memcpy(keys, eq + 1, klen);
		keys[klen] = '\0';
		if (klen == 0)
			hk[a] = (struct viewer_hotkey){ 0, 0 }; /* turned off */
		else if (viewer_hotkey_parse(keys, &hk[a]) < 0)
			return bad(err, err_size,
			           "--hotkeys: '%s' is not a hotkey like ctrl+alt+end for %s", keys,
			           hotkey_names[a]);
		if (!comma)
			break;
		p = comma + 1;
	}
	memcpy(ui->hotkeys, hk, sizeof(hk));
	return 0;
}

/* Read all of @fd, at most @max bytes; -EMSGSIZE beyond. The buffer ends with a NUL. */
static int read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nbuf;

			if (cap > max + 1) {
				explicit_bzero(buf, len);
				free(buf);
				return -EMSGSIZE;
			}
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				explicit_bzero(buf, len);
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			explicit_bzero(buf, len);
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		explicit_bzero(buf, len);
		free(buf);
		return -EMSGSIZE;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int read_path(const char *path, size_t max, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = read_all(fd, max, ret, ret_len);
	close(fd);
	return r;
}

/* The first line of @buf (no CR/LF) as the session's password. */
static int take_password(struct viewer_session *s, char *buf, size_t len, const char *from,
                         char *err, size_t err_size)
{
	size_t n = strcspn(buf, "\r\n");
	int r = 0;

	if (memchr(buf, '\0', len))
		r = bad(err, err_size, "the password from %s contains a NUL byte", from);
	else if (n == 0)
		r = bad(err, err_size, "the password from %s is empty", from);
	else if (n > VIEWER_PASSWORD_MAX)
		r = bad(err, err_size, "the password from %s is longer than %d bytes", from,
		        VIEWER_PASSWORD_MAX);
	if (r == 0) {
		buf[n] = '\0';
		viewer_session_set_password(s, buf);
	}
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

static void vv_hotkey(struct viewer_ui *ui, enum viewer_hotkey_action a, const char *keys)
{
	struct viewer_hotkey hk;

	if (!keys)
		return;
	if (!*keys)
		ui->hotkeys[a] = (struct viewer_hotkey){ 0, 0 };
	else if (viewer_hotkey_parse(keys, &hk) == 0)
		ui->hotkeys[a] = hk;
	else /* remote-viewer ignores a hotkey it cannot read; so do we, with a word */
		log_warn("the .vv file's %s '%s' is not a hotkey; keeping the default",
		         hotkey_names[a], keys);
}

static int load_vv(struct viewer_options *o, const char *target, char *err, size_t err_size)
{
	bool from_stdin = strcmp(target, "-") == 0;
	const char *what = from_stdin ? "standard input" : target;
	char reason[256] = "";
	struct proto_vv vv;
	size_t len;
	char *data;
	int r;

	r = from_stdin ? read_all(STDIN_FILENO, PROTO_VV_MAX_SIZE, &data, &len)
	               : read_path(target, PROTO_VV_MAX_SIZE, &data, &len);
	if (r == -EMSGSIZE)
		return bad(err, err_size, "%s: a .vv file is at most %d bytes", what,
		           PROTO_VV_MAX_SIZE);
	if (r < 0)
		return bad(err, err_size, "cannot read %s: %s", what, strerror(-r));
	r = proto_vv_parse(data, len, &vv, reason, sizeof(reason));
	explicit_bzero(data, len);
	free(data);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return bad(err, err_size, "%s is not a usable .vv file: %s", what, reason);
	r = viewer_session_from_vv(&o->session, &vv, reason, sizeof(reason));
	if (r == 0) {
		if (vv.fullscreen == 1)
			o->ui.fullscreen = true;
		vv_hotkey(&o->ui, VIEWER_HK_RELEASE_CURSOR, vv.release_cursor);
		vv_hotkey(&o->ui, VIEWER_HK_TOGGLE_FULLSCREEN, vv.toggle_fullscreen);
		vv_hotkey(&o->ui, VIEWER_HK_SECURE_ATTENTION, vv.secure_attention);
		if (vv.proxy && o->session.protocol != VIEWER_PROTO_SPICE)
			log_warn("the .vv file's proxy is for SPICE only; connecting to VNC "
			         "directly");
		if (!from_stdin) {
			o->vv_path = strdup(target);
			if (!o->vv_path)
				r = -ENOMEM;
			o->delete_vv = vv.delete_this_file == 1;
		}
	}
	if (vv.password)
		explicit_bzero(vv.password, strlen(vv.password));
	proto_vv_clear(&vv);
	if (r == -EINVAL)
		return bad(err, err_size, "%s: %s", what, reason);
	return r;
}

static int parse_int(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* The rest of the command line in broker mode. */
static int broker_options(struct viewer_options *o, int argc, char **argv, const char *url,
                          const char *ca, const char *fingerprint, const char *branding,
                          bool fullscreen, const char *hotkeys, char *err, size_t err_size)
{
	struct viewer_https_target t = { 0 };
	uint8_t fp[VIEWER_FINGERPRINT_LEN];
	int r;

	if (!url)
		return bad(err, err_size,
		           "--kiosk, --ca, --fingerprint, --branding, --allow-quit and "
		           "--idle-timeout go with --broker URL");
	if (optind < argc)
		return bad(err, err_size, "unexpected argument with --broker: %s", argv[optind]);
	if (viewer_https_parse_url(url, &t, err, err_size) < 0)
		return -EINVAL;
	if (ca && fingerprint)
		return bad(err, err_size, "--ca and --fingerprint exclude each other");
	if (ca && access(ca, R_OK) < 0)
		return bad(err, err_size, "--ca: cannot read %s: %s", ca, strerror(errno));
	if (fingerprint && viewer_https_parse_fingerprint(fingerprint, fp) < 0)
		return bad(err, err_size,
		           "--fingerprint: '%.80s' is not a SHA-256 fingerprint (64 hex digits, "
		           "AB:CD:...)",
		           fingerprint);
	if (getenv("VDI_PASSWORD"))
		unsetenv("VDI_PASSWORD"); /* people type theirs on the login screen */
	if (o->broker.kiosk) {
		/* A kiosk stays full screen, and only quits when told it may. */
		o->ui.hotkeys[VIEWER_HK_TOGGLE_FULLSCREEN] = (struct viewer_hotkey){ 0, 0 };
		if (o->broker.allow_quit)
			viewer_hotkey_parse("ctrl+alt+q", &o->ui.hotkeys[VIEWER_HK_QUIT]);
	}
	if (fullscreen || o->broker.kiosk)
		o->ui.fullscreen = true;
	if (hotkeys && (r = viewer_hotkeys_apply(&o->ui, hotkeys, err, err_size)) < 0)
		return r;
	if (o->broker.kiosk && !o->broker.allow_quit)
		o->ui.hotkeys[VIEWER_HK_QUIT] = (struct viewer_hotkey){ 0, 0 };
	o->broker.url = strdup(url);
	o->broker.ca_file = ca ? strdup(ca) : NULL;
	o->broker.fingerprint = fingerprint ? strdup(fingerprint) : NULL;
	o->broker.branding = strdup(branding ? branding : VIEWER_DEFAULT_BRANDING);
	if (!o->broker.url || (ca && !o->broker.ca_file) ||
	    (fingerprint && !o->broker.fingerprint) || !o->broker.branding) {
		viewer_options_clear(o);
		return -ENOMEM;
	}
	return 0;
}

int viewer_options_parse(struct viewer_options *o, int argc, char **argv, char *err,
                         size_t err_size)
{
	const char *password_file = NULL, *title = NULL, *ca_file = NULL, *subject = NULL;
	const char *hotkeys = NULL, *target;
	const char *broker = NULL, *ca = NULL, *fingerprint = NULL, *branding = NULL;
	bool password_stdin = false, fullscreen = false;
	const char *env;
	char *buf;
	size_t len;
	long v;
	int opt, r;

	memset(o, 0, sizeof(*o));
	viewer_session_init(&o->session);
	viewer_ui_defaults(&o->ui);

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "fh", options, NULL)) != -1) {
		const char *a = optarg;

		switch (opt) {
		case OPT_PASSWORD_FILE:
			password_file = a;
			break;
		case OPT_PASSWORD_STDIN:
			password_stdin = true;
			break;
		case OPT_TITLE:
			if (strlen(a) > VIEWER_TITLE_MAX)
				return bad(err, err_size, "--title: longer than %d bytes",
				           VIEWER_TITLE_MAX);
			title = a;
			break;
		case 'f':
			fullscreen = true;
			break;
		case OPT_SPICE_CA_FILE:
			ca_file = a;
			break;
		case OPT_SPICE_HOST_SUBJECT:
			if (strlen(a) > VIEWER_SUBJECT_MAX)
				return bad(err, err_size,
				           "--spice-host-subject: longer than %d bytes",
				           VIEWER_SUBJECT_MAX);
			subject = a;
			break;
		case OPT_HOTKEYS:
			hotkeys = a;
			break;
		case OPT_NO_RESIZE_GUEST:
			o->ui.resize_guest = false;
			break;
		case OPT_NO_GRAB:
			o->ui.grab_keyboard = false;
			break;
		case OPT_QUALITY:
			if (strcmp(a, "auto") == 0)
				o->ui.quality = VIEWER_QUALITY_AUTO;
			else if (strcmp(a, "lossless") == 0)
				o->ui.quality = VIEWER_QUALITY_LOSSLESS;
			else if (parse_int(a, 0, 9, &v) == 0)
				o->ui.quality = (int)v;
			else
				return bad(err, err_size,
				           "--quality: '%s' is not lossless, auto or 0-9", a);
			break;
		case OPT_RETRIES:
			if (parse_int(a, 0, VIEWER_RETRIES_MAX, &v) < 0)
				return bad(err, err_size,
				           "--retries: '%s' is not a number from 0 to %d", a,
				           VIEWER_RETRIES_MAX);
			o->ui.retries = (int)v;
			break;
		case OPT_OVERLAY:
			o->ui.overlay = true;
			break;
		case OPT_LOG_LEVEL:
			r = vdi_log_level_parse(a);
			if (r < 0)
				return bad(err, err_size,
				           "--log-level: '%s' is not err, warn, info or debug", a);
			o->ui.log_level = r;
			break;
		case OPT_BROKER:
			broker = a;
			break;
		case OPT_KIOSK:
			o->broker.kiosk = true;
			break;
		case OPT_CA:
			ca = a;
			break;
		case OPT_FINGERPRINT:
			fingerprint = a;
			break;
		case OPT_BRANDING:
			branding = a;
			break;
		case OPT_ALLOW_QUIT:
			o->broker.allow_quit = true;
			break;
		case OPT_PROTOCOL:
			if (strcmp(a, "vnc") == 0)
				o->broker.protocol = VIEWER_PROTO_VNC;
			else if (strcmp(a, "spice") == 0)
				o->broker.protocol = VIEWER_PROTO_SPICE;
			else
				return bad(err, err_size, "--protocol: '%s' is not vnc or spice",
				           a);
			break;
		case OPT_IDLE_TIMEOUT:
			if (parse_int(a, 0, VIEWER_IDLE_TIMEOUT_MAX, &v) < 0)
				return bad(err, err_size,
				           "--idle-timeout: '%s' is not a number of seconds from 0 "
				           "to %d",
				           a, VIEWER_IDLE_TIMEOUT_MAX);
			o->broker.idle_timeout = (int)v;
			break;
		case 'h':
			viewer_options_usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("vdi-viewer %s\n", VDI_VERSION);
			return 1;
		default:
			if (optopt >= 0x100 || optopt == 'f' || optopt == 'h')
				return bad(err, err_size, "%s needs a value", argv[optind - 1]);
			if (optopt)
				return bad(err, err_size, "unknown option: -%c", optopt);
			return bad(err, err_size, "unknown option: %s", argv[optind - 1]);
		}
	}
	if (broker || o->broker.kiosk || ca || fingerprint || branding || o->broker.allow_quit ||
	    o->broker.idle_timeout)
		return broker_options(o, argc, argv, broker, ca, fingerprint, branding, fullscreen,
		                      hotkeys, err, err_size);
	if (optind >= argc)
		return bad(err, err_size, "give a vnc:// or spice:// URI, a .vv file or -");
	if (optind + 1 < argc)
		return bad(err, err_size, "unexpected argument: %s", argv[optind + 1]);
	target = argv[optind];
	if (password_file && password_stdin)
		return bad(err, err_size,
		           "--password-file and --password-stdin exclude each other");
	if (password_stdin && strcmp(target, "-") == 0)
		return bad(err, err_size,
		           "--password-stdin and a .vv file on standard input exclude each other");

	if (strstr(target, "://")) {
		r = viewer_session_from_uri(&o->session, target, err, err_size);
		if (r < 0)
			return r;
		if (o->session.has_password) {
			viewer_options_clear(o);
			return bad(
			        err, err_size,
			        "a password in the URI would be visible to every user of this "
			        "machine; use --password-file, --password-stdin or VDI_PASSWORD");
		}
	} else {
		r = load_vv(o, target, err, err_size);
		if (r < 0) {
			viewer_options_clear(o);
			return r;
		}
	}

	/* The password: explicit options, then the environment, then the .vv file. */
	env = getenv("VDI_PASSWORD");
	if (password_file) {
		r = read_path(password_file, PASSWORD_FILE_MAX, &buf, &len);
		if (r == 0)
			r = take_password(&o->session, buf, len, password_file, err, err_size);
		else if (r == -EMSGSIZE)
			r = bad(err, err_size, "--password-file: %s is larger than %d bytes",
			        password_file, PASSWORD_FILE_MAX);
		else
			r = bad(err, err_size, "--password-file: cannot read %s: %s", password_file,
			        strerror(-r));
	} else if (password_stdin) {
		r = read_all(STDIN_FILENO, PASSWORD_FILE_MAX, &buf, &len);
		if (r == 0)
			r = take_password(&o->session, buf, len, "standard input", err, err_size);
		else
			r = bad(err, err_size, "--password-stdin: cannot read standard input: %s",
			        strerror(-r));
	} else if (env && *env) {
		buf = strdup(env);
		r = buf ? take_password(&o->session, buf, strlen(buf), "VDI_PASSWORD", err,
		                        err_size)
		        : -ENOMEM;
	}
	if (env) {
		explicit_bzero((char *)env, strlen(env));
		unsetenv("VDI_PASSWORD");
	}
	if (r < 0) {
		viewer_options_clear(o);
		return r;
	}

	/* Options override the .vv file. */
	if (title)
		snprintf(o->session.title, sizeof(o->session.title), "%s", title);
	if (fullscreen)
		o->ui.fullscreen = true;
	if (subject)
		snprintf(o->session.host_subject, sizeof(o->session.host_subject), "%s", subject);
	if (ca_file && o->session.protocol == VIEWER_PROTO_SPICE) {
		if (access(ca_file, R_OK) < 0) {
			r = bad(err, err_size, "--spice-ca-file: cannot read %s: %s", ca_file,
			        strerror(errno));
			viewer_options_clear(o);
			return r;
		}
		free(o->session.ca);
		o->session.ca = NULL;
		o->session.ca_file = strdup(ca_file);
		if (!o->session.ca_file) {
			viewer_options_clear(o);
			return -ENOMEM;
		}
	}
	if (hotkeys && (r = viewer_hotkeys_apply(&o->ui, hotkeys, err, err_size)) < 0) {
		viewer_options_clear(o);
		return r;
	}
	return 0;
}

void viewer_options_clear(struct viewer_options *o)
{
	if (!o)
		return;
	viewer_session_clear(&o->session);
	free(o->vv_path);
	o->vv_path = NULL;
	o->delete_vv = false;
	free(o->broker.url);
	free(o->broker.ca_file);
	free(o->broker.fingerprint);
	free(o->broker.branding);
	memset(&o->broker, 0, sizeof(o->broker));
}
