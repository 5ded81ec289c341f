// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-bench-vnc-client: the measuring VNC client of bench/vnc_display.py.
 *
 * It connects to one VNC server (vdi-vmm's or QEMU's), asks for exactly one
 * encoding plus the DesktopSize and LastRect pseudo-encodings (see
 * send_encodings), and keeps an incremental FramebufferUpdateRequest
 * outstanding (libvncclient sends the next one as soon as an update ends).
 *
 * Frames mode (--frames N) measures the reference guest's benchmark
 * (vmm/guest/bench.c, command line "bench=N"). The guest ends each frame
 * by drawing the frame number at the top-left corner of the screen
 * (16 cells of 4x4 pixels, most significant bit first, white 1, black 0)
 * and then writing "frame N" on its serial port. A thread tails the serial
 * port and timestamps every "frame N" line; the main thread timestamps the
 * end of every FramebufferUpdate message and decodes the marker from its
 * own copy of the framebuffer. Both use CLOCK_MONOTONIC, so:
 *
 *   latency(N) = time the marker first reads >= N - time "frame N" was read
 *
 * It is negative when the pixels beat the serial line; it is recorded as
 * is. Bytes are the kernel's count of bytes received on the socket
 * (TCP_INFO tcpi_bytes_received), sampled at the same moments, so no proxy
 * is needed and the figure includes all RFB framing.
 *
 * Frames whose serial line came before the client had received its first
 * complete update are not measured: the client may connect while the guest
 * is already drawing. The report says how many frames were measured.
 *
 * Idle mode (--idle S) waits until the desktop is up ("desktop: ready" on
 * serial, when a serial port is given, then one more second), prints
 * "idle: start", stays connected S seconds requesting updates, prints
 * "idle: end" and reports the bytes and updates it received meanwhile. The
 * driver samples the monitor's CPU time at those two lines.
 *
 * Results go to --out as JSON; a summary goes to stdout. Exit status 0 on
 * a complete run, 1 on an incomplete one (the JSON still says what was
 * seen), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The kernel's struct tcp_info: glibc's copy stops before tcpi_bytes_received. */
#include <linux/tcp.h>

#include <rfb/rfbclient.h>

/* The frame marker, as vmm/guest/bench.h draws it. */
#define MARK_BITS 16
#define MARK_CELL 4

#define FRAMES_MAX 10000
#define SERIAL_LINE_MAX 256
#define DEFAULT_FRAMES 60
#define DEFAULT_TIMEOUT_S 150.0
/* After "bench: done", how long to wait for the last marker to arrive. */
#define DONE_GRACE_S 10.0
/* Idle mode: time for the first desktop to reach the client before measuring. */
#define IDLE_SETTLE_S 1.0

/* RFB encoding numbers (RFC 6143 and the community registry). */
static const struct encoding {
	const char *name;
	int32_t code;
} encodings[] = {
	{ "raw", rfbEncodingRaw },         { "rre", rfbEncodingRRE },
	{ "corre", rfbEncodingCoRRE },     { "hextile", rfbEncodingHextile },
	{ "zlib", rfbEncodingZlib },       { "tight", rfbEncodingTight },
	{ "zlibhex", rfbEncodingZlibHex }, { "trle", rfbEncodingTRLE },
	{ "zrle", rfbEncodingZRLE },       { "zywrle", rfbEncodingZYWRLE },
};

struct options {
	const char *host;
	int port;
	const char *password;
	const struct encoding *encoding;
	int compress; /* tight/zlib compression level 0-9, or -1: not requested */
	int quality;  /* JPEG quality level 0-9, or -1: not requested (lossless) */
	const char *serial_path;
	bool serial_fifo;
	unsigned frames; /* frames mode */
	double idle_s;   /* idle mode when > 0 */
	const char *out;
	double timeout_s;
	double wait_s; /* wait this long for the port to accept connections */
	bool verbose;
};

struct bench {
	struct options opt;
	rfbClient *cl;
	int sock;
	double start_t;   /* the client started; every time in the report is relative to it */
	double connect_t; /* RFB handshake done */

	/*
	 * Written by the serial thread, read by the main thread; under lock.
	 * Times are CLOCK_MONOTONIC seconds; 0 means not seen; STALE means
	 * the line was already in the file when the client started.
	 */
	pthread_mutex_t lock;
	pthread_t serial_thread;
	bool serial_running;
	bool stop;
	double *serial_t; /* [frames + 1], "frame N" */
	double ready_t;   /* "desktop: ready" */
	double bench_start_t, bench_done_t;
	char serial_error[160];

	/* Main thread only: what the VNC connection delivered. */
	double first_update_t;
	uint64_t first_update_bytes;
	unsigned long updates; /* FramebufferUpdate messages received */
	uint64_t rects;        /* rectangles with pixels (not pseudo-encodings) */
	uint64_t pixels;       /* their total area: how precise the server's damage is */
	unsigned marker_last;  /* highest marker decoded so far */
	double *marker_t;      /* [frames + 1], when the marker first read >= N */
	uint64_t *marker_bytes;
	uint64_t *marker_pixels;
	unsigned long bad_markers; /* markers that were not clean black and white */
};

#define STALE (-1.0)

static int client_tag; /* its address keys our data in the rfbClient */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Bytes the kernel has received on @fd so far, or -errno. */
static int64_t tcp_bytes(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	/* Kernels before 4.1 return a shorter struct without the counter. */
	if (len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return -ENOSYS;
	return (int64_t)ti.tcpi_bytes_received;
}

/* ---- serial port: a thread that timestamps each line as it is written ---- */

static void serial_line(struct bench *b, char *line, double t)
{
	size_t len = strlen(line);
	char *end;

	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		line[--len] = '\0';
	pthread_mutex_lock(&b->lock);
	if (strncmp(line, "frame ", 6) == 0) {
		unsigned long n = strtoul(line + 6, &end, 10);

		if (*end == '\0' && n >= 1 && n <= b->opt.frames && !b->serial_t[n])
			b->serial_t[n] = t;
	} else if (strncmp(line, "bench: start", 12) == 0) {
		b->bench_start_t = t;
	} else if (strcmp(line, "bench: done") == 0) {
		b->bench_done_t = t;
	} else if (strncmp(line, "desktop: ready", 14) == 0) {
		b->ready_t = t;
	}
	pthread_mutex_unlock(&b->lock);
}

static bool serial_should_stop(struct bench *b)
{
	bool stop;

	pthread_mutex_lock(&b->lock);
	stop = b->stop;
	pthread_mutex_unlock(&b->lock);
	return stop;
}

static void serial_fail(struct bench *b, const char *what, int err)
{
	pthread_mutex_lock(&b->lock);
	snprintf(b->serial_error, sizeof(b->serial_error), "%s %s: %s", what, b->opt.serial_path,
	         strerror(err));
	pthread_mutex_unlock(&b->lock);
}

/*
 * Tail the guest's serial port. A regular file is read to its end, then
 * followed with inotify (plus a 10 ms poll timeout as a safety net); what
 * was in it before the client started is marked STALE. A FIFO is polled
 * directly and has no history.
 */
static void *serial_main(void *arg)
{
	struct bench *b = arg;
	char buf[4096], line[SERIAL_LINE_MAX];
	size_t line_len = 0;
	bool caught_up = b->opt.serial_fifo;
	int fd = -1, ino = -1;

	while (fd < 0 && !serial_should_stop(b)) {
		fd = open(b->opt.serial_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT) {
			serial_fail(b, "open", errno);
			return NULL;
		}
		if (fd < 0)
			sleep_s(0.01); /* the monitor has not created it yet */
	}
	if (!b->opt.serial_fifo) {
		ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (ino < 0 || inotify_add_watch(ino, b->opt.serial_path, IN_MODIFY) < 0) {
			serial_fail(b, "inotify", errno);
			goto out;
		}
	}

	while (!serial_should_stop(b)) {
		struct pollfd p = { ino >= 0 ? ino : fd, POLLIN, 0 };
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			double t = caught_up ? now() : STALE;

			for (ssize_t i = 0; i < n; i++) {
				if (line_len < sizeof(line) - 1)
					line[line_len++] = buf[i];
				if (buf[i] == '\n') {
					line[line_len] = '\0';
					serial_line(b, line, t);
					line_len = 0;
				}
			}
			continue; /* there may be more */
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			serial_fail(b, "read", errno);
			break;
		}
		caught_up = true;
		if (b->opt.serial_fifo && n == 0) {
			sleep_s(0.002); /* no writer (yet, or any more): poll would spin */
			continue;
		}
		if (poll(&p, 1, 10) > 0 && ino >= 0) {
			while (read(ino, buf, sizeof(buf)) > 0)
				; /* drain the events; the data is read above */
		}
	}
out:
	if (ino >= 0)
		close(ino);
	close(fd);
	return NULL;
}

/* ---- VNC side ---- */

static struct bench *bench_of(rfbClient *cl)
{
	return rfbClientGetClientData(cl, &client_tag);
}

/*
 * The frame number at the top-left corner of the client's framebuffer, 0
 * when the screen is too small, or -1 when a cell is neither clearly black
 * nor clearly white (no marker drawn there yet, or a lossy encoding).
 */
static int read_marker(rfbClient *cl)
{
	const rfbPixelFormat *f = &cl->format;
	const uint32_t *fb = (const uint32_t *)(void *)cl->frameBuffer;
	int value = 0;

	if (!fb || f->bitsPerPixel != 32 || !f->redMax || !f->greenMax || !f->blueMax ||
	    cl->width < MARK_BITS * MARK_CELL || cl->height < MARK_CELL)
		return 0;
	for (int bit = 0; bit < MARK_BITS; bit++) {
		/* The middle of the cell, away from edges a lossy codec blurs. */
		uint32_t px = fb[(MARK_CELL / 2) * cl->width + bit * MARK_CELL + MARK_CELL / 2];
		unsigned r = (px >> f->redShift & f->redMax) * 255 / f->redMax;
		unsigned g = (px >> f->greenShift & f->greenMax) * 255 / f->greenMax;
		unsigned bl = (px >> f->blueShift & f->blueMax) * 255 / f->blueMax;

		if (r >= 0xa0 && g >= 0xa0 && bl >= 0xa0)
			value |= 1 << (MARK_BITS - 1 - bit);
		else if (r > 0x60 || g > 0x60 || bl > 0x60)
			return -1;
	}
	return value;
}

/* libvncclient calls this after decoding each rectangle that carries pixels. */
static void on_rect(rfbClient *cl, int x, int y, int w, int h)
{
	struct bench *b = bench_of(cl);

	(void)x;
	(void)y;
	b->rects++;
	b->pixels += (uint64_t)w * (uint64_t)h;
}

/* libvncclient calls this at the end of every FramebufferUpdate message. */
static void on_update_done(rfbClient *cl)
{
	struct bench *b = bench_of(cl);
	double t = now();
	int64_t bytes = tcp_bytes(b->sock);
	int m = read_marker(cl);

	b->updates++;
	if (!b->first_update_t) {
		b->first_update_t = t;
		b->first_update_bytes = (uint64_t)bytes;
	}
	if (!b->opt.frames)
		return; /* idle mode: no markers */
	if (m < 0) {
		b->bad_markers++;
		return;
	}
	/* Frames the server coalesced all complete now: N, N+1, ... M. */
	if (b->opt.frames && m > (int)b->marker_last && m <= (int)b->opt.frames) {
		for (unsigned k = b->marker_last + 1; k <= (unsigned)m; k++) {
			b->marker_t[k] = t;
			b->marker_bytes[k] = (uint64_t)bytes;
			b->marker_pixels[k] = b->pixels;
		}
		b->marker_last = (unsigned)m;
	}
}

/* The pointer is freed by libvncclient. */
static char *get_password(rfbClient *cl)
{
	struct bench *b = bench_of(cl);

	if (!b->opt.password) {
		fprintf(stderr, "vnc-client: the server asks for a password; pass --password\n");
		return NULL;
	}
	return strdup(b->opt.password);
}

/*
 * libvncclient's log, kept quiet: the last few lines are remembered and
 * printed only when the connection fails (they say why: refused, wrong
 * password, unsupported security type...).
 */
#define LOG_KEEP 4
static char log_lines[LOG_KEEP][160];
static unsigned log_count;

static void log_keep(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void log_keep(const char *format, ...)
{
	char *line = log_lines[log_count++ % LOG_KEEP];
	va_list ap;

	va_start(ap, format);
	vsnprintf(line, sizeof(log_lines[0]), format, ap);
	va_end(ap);
	line[strcspn(line, "\n")] = '\0';
}

static void log_dump(void)
{
	for (unsigned i = log_count > LOG_KEEP ? log_count - LOG_KEEP : 0; i < log_count; i++)
		fprintf(stderr, "vnc-client:   libvncclient: %s\n", log_lines[i % LOG_KEEP]);
}

/*
 * Replace libvncclient's long encoding list (it also asks for cursors,
 * keyboard LEDs, xvp and more) with exactly the encoding under test and
 * the pseudo-encodings every viewer sends: DesktopSize and LastRect.
 *
 * Not ExtendedDesktopSize: libvncclient 0.9.14 ignores such a rect when
 * its screen id is 0, which is what QEMU sends, so it would keep the old
 * size when the guest sets its mode and then drop the connection on the
 * first rect outside it ("Rect too large"). Servers fall back to plain
 * DesktopSize, which it handles.
 */
static bool send_encodings(struct bench *b)
{
	uint8_t msg[4 + 5 * 4];
	uint32_t codes[5];
	unsigned n = 0;

	codes[n++] = (uint32_t)b->opt.encoding->code;
	if (b->opt.compress >= 0)
		codes[n++] = rfbEncodingCompressLevel0 + (uint32_t)b->opt.compress;
	if (b->opt.quality >= 0)
		codes[n++] = rfbEncodingQualityLevel0 + (uint32_t)b->opt.quality;
	codes[n++] = rfbEncodingNewFBSize;
	codes[n++] = rfbEncodingLastRect;

	msg[0] = rfbSetEncodings;
	msg[1] = 0;
	msg[2] = (uint8_t)(n >> 8);
	msg[3] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint32_t be = htonl(codes[i]);

		memcpy(msg + 4 + 4 * i, &be, 4);
	}
	return WriteToRFBServer(b->cl, (char *)msg, 4 + 4 * n);
}

/*
 * Wait until @host:@port accepts a TCP connection, for at most @seconds.
 * For a serial FIFO the monitor blocks opening it until this client has
 * started, so the VNC port only opens afterwards. A bare connection is
 * harmless: servers penalise failed authentication, not this.
 */
static int wait_port(const char *host, int port, double seconds)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	double deadline = now() + seconds;
	char service[16];
	int r;

	snprintf(service, sizeof(service), "%d", port);
	r = getaddrinfo(host, service, &hints, &ai);
	if (r) {
		fprintf(stderr, "vnc-client: %s: %s\n", host, gai_strerror(r));
		return -EINVAL;
	}
	for (;;) {
		for (a = ai; a; a = a->ai_next) {
			int fd =
			        socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);

			r = fd >= 0 ? connect(fd, a->ai_addr, a->ai_addrlen) : -1;
			if (fd >= 0)
				close(fd);
			if (r == 0) {
				freeaddrinfo(ai);
				return 0;
			}
		}
		if (now() > deadline)
			break;
		sleep_s(0.02);
	}
	freeaddrinfo(ai);
	fprintf(stderr, "vnc-client: %s:%d does not accept connections after %.0f s\n", host, port,
	        seconds);
	return -ETIMEDOUT;
}

static int vnc_connect(struct bench *b)
{
	rfbClient *cl = rfbGetClient(8, 3, 4); /* 32-bit pixels */
	int64_t bytes;

	if (!cl)
		return -ENOMEM;
	if (b->opt.wait_s > 0 && wait_port(b->opt.host, b->opt.port, b->opt.wait_s) < 0) {
		rfbClientCleanup(cl);
		return -ETIMEDOUT;
	}
	cl->serverHost = strdup(b->opt.host);
	cl->serverPort = b->opt.port;
	cl->GetPassword = get_password;
	cl->GotFrameBufferUpdate = on_rect;
	cl->FinishedFrameBufferUpdate = on_update_done;
	cl->canHandleNewFBSize = TRUE;
	/* Make libvncclient's own first SetEncodings agree with ours. */
	cl->appData.encodingsString = b->opt.encoding->name;
	cl->appData.compressLevel = b->opt.compress;
	cl->appData.enableJPEG = b->opt.quality >= 0;
	cl->appData.qualityLevel = b->opt.quality;
	cl->appData.useRemoteCursor = FALSE;
	rfbClientSetClientData(cl, &client_tag, b);

	/* On failure rfbInitClient has already freed cl. */
	if (!rfbInitClient(cl, NULL, NULL)) {
		fprintf(stderr, "vnc-client: cannot connect to %s:%d\n", b->opt.host, b->opt.port);
		log_dump();
		return -ECONNREFUSED;
	}
	b->cl = cl;
	b->sock = cl->sock;
	b->connect_t = now();
	bytes = tcp_bytes(b->sock);
	if (bytes < 0) {
		fprintf(stderr, "vnc-client: TCP_INFO has no byte counter here: %s\n",
		        strerror((int)-bytes));
		return (int)bytes;
	}
	if (!send_encodings(b))
		return -EIO;
	return 0;
}

/*
 * Read and handle one server message if one arrives within @timeout_ms.
 * Returns false when the connection is gone.
 */
static bool vnc_pump(struct bench *b, int timeout_ms)
{
	/* libvncclient may already hold a whole message in its buffer. */
	if (b->cl->buffered == 0) {
		struct pollfd p = { b->sock, POLLIN, 0 };
		int r = poll(&p, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			return true;
		if (r < 0) {
			perror("vnc-client: poll");
			return false;
		}
		if (r == 0)
			return true;
	}
	if (!HandleRFBServerMessage(b->cl)) {
		fprintf(stderr, "vnc-client: connection lost\n");
		log_dump();
		return false;
	}
	return true;
}

/* ---- reporting ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Percentile @p (0-100) of @n sorted values, linear between ranks; NAN if none. */
static double percentile(const double *sorted, unsigned n, double p)
{
	double pos;
	unsigned lo;

	if (!n)
		return NAN;
	pos = p / 100.0 * (n - 1);
	lo = (unsigned)pos;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]);
}

static void json_num(FILE *f, double v, int decimals)
{
	if (isnan(v))
		fputs("null", f);
	else
		fprintf(f, "%.*f", decimals, v);
}

/* Milliseconds since the client started, or NAN for "not seen". */
static double rel_ms(const struct bench *b, double t)
{
	return t > 0 ? (t - b->start_t) * 1e3 : NAN;
}

/*
 * The benchmark's three phases, computed as vmm/guest/bench.c does:
 * scrolling text, a moving window, a photo-like picture.
 */
struct phase {
	const char *name;
	unsigned first, last;
};

static void phases_of(unsigned frames, struct phase ph[3])
{
	unsigned p1 = (frames + 2) / 3, p2 = (frames + 1) / 3;

	ph[0] = (struct phase){ "text", 1, p1 };
	ph[1] = (struct phase){ "window", p1 + 1, p1 + p2 };
	ph[2] = (struct phase){ "photo", p1 + p2 + 1, frames };
}

/* Latency and bytes of the frames in [first, last]. */
struct stats {
	unsigned measured; /* frames with a latency */
	double p50_ms, p99_ms, min_ms, max_ms;
	unsigned byte_frames; /* frames with a byte count */
	uint64_t bytes, pixels;
};

/* Frame @k is measured if its serial line came after the first full update and its marker arrived.
 */
static bool frame_measured(const struct bench *b, unsigned k)
{
	return b->serial_t[k] > 0 && b->first_update_t && b->serial_t[k] >= b->first_update_t &&
	       b->marker_t[k] > 0;
}

/*
 * Bytes and rectangle pixels of frame @k: those received between the
 * moments markers k-1 and k appeared. Frame 1 has no such baseline (before
 * it the server may still be sending the benchmark's background), so it
 * has no byte count. Frames a server coalesced count 0 and their bytes go
 * to the last of them.
 */
static bool frame_bytes(const struct bench *b, unsigned k, uint64_t *ret_bytes,
                        uint64_t *ret_pixels)
{
	if (k < 2 || !frame_measured(b, k) || !(b->marker_t[k - 1] > 0))
		return false;
	*ret_bytes = b->marker_bytes[k] - b->marker_bytes[k - 1];
	*ret_pixels = b->marker_pixels[k] - b->marker_pixels[k - 1];
	return true;
}

static void compute_stats(const struct bench *b, unsigned first, unsigned last, struct stats *s)
{
	double *lat = calloc(last - first + 1, sizeof(*lat));
	uint64_t bytes, pixels;

	memset(s, 0, sizeof(*s));
	for (unsigned k = first; lat && k <= last; k++) {
		if (frame_measured(b, k))
			lat[s->measured++] = (b->marker_t[k] - b->serial_t[k]) * 1e3;
		if (frame_bytes(b, k, &bytes, &pixels)) {
			s->byte_frames++;
			s->bytes += bytes;
			s->pixels += pixels;
		}
	}
	if (lat)
		qsort(lat, s->measured, sizeof(*lat), cmp_double);
	s->p50_ms = percentile(lat, s->measured, 50);
	s->p99_ms = percentile(lat, s->measured, 99);
	s->min_ms = s->measured ? lat[0] : NAN;
	s->max_ms = s->measured ? lat[s->measured - 1] : NAN;
	free(lat);
}

static void json_stats(FILE *f, const struct stats *s)
{
	fprintf(f, "\"measured\": %u, \"latency_ms\": {\"p50\": ", s->measured);
	json_num(f, s->p50_ms, 2);
	fputs(", \"p99\": ", f);
	json_num(f, s->p99_ms, 2);
	fputs(", \"min\": ", f);
	json_num(f, s->min_ms, 2);
	fputs(", \"max\": ", f);
	json_num(f, s->max_ms, 2);
	fprintf(f, "}, \"byte_frames\": %u, \"bytes\": %" PRIu64 ", \"bytes_per_frame\": ",
	        s->byte_frames, s->bytes);
	json_num(f, s->byte_frames ? (double)s->bytes / s->byte_frames : NAN, 0);
	fputs(", \"pixels_per_frame\": ", f);
	json_num(f, s->byte_frames ? (double)s->pixels / s->byte_frames : NAN, 0);
}

static void write_frames_report(const struct bench *b, FILE *f, bool complete)
{
	struct phase ph[3];
	struct stats all, ps;
	uint64_t bytes, pixels;
	bool have;

	phases_of(b->opt.frames, ph);
	compute_stats(b, 1, b->opt.frames, &all);
	fprintf(f,
	        "{\n \"mode\": \"frames\",\n \"encoding\": \"%s\",\n \"compress\": %d,\n"
	        " \"quality\": %d,\n \"frames\": %u,\n \"complete\": %s,\n",
	        b->opt.encoding->name, b->opt.compress, b->opt.quality, b->opt.frames,
	        complete ? "true" : "false");
	fprintf(f,
	        " \"updates\": %lu,\n \"rects\": %" PRIu64 ",\n \"bad_markers\": %lu,\n"
	        " \"marker_last\": %u,\n",
	        b->updates, b->rects, b->bad_markers, b->marker_last);
	fprintf(f, " \"first_update_ms\": ");
	json_num(f, rel_ms(b, b->first_update_t), 1);
	fprintf(f, ",\n \"first_update_bytes\": %" PRIu64 ",\n \"connect_ms\": ",
	        b->first_update_bytes);
	json_num(f, rel_ms(b, b->connect_t), 1);
	fprintf(f, ",\n \"bench_start_ms\": ");
	json_num(f, rel_ms(b, b->bench_start_t), 1);
	fprintf(f, ",\n \"bench_done_ms\": ");
	json_num(f, rel_ms(b, b->bench_done_t), 1);
	fputs(",\n ", f);
	json_stats(f, &all);
	fputs(",\n \"phases\": [\n", f);
	for (int i = 0; i < 3; i++) {
		compute_stats(b, ph[i].first, ph[i].last, &ps);
		fprintf(f, "  {\"name\": \"%s\", \"first\": %u, \"last\": %u, ", ph[i].name,
		        ph[i].first, ph[i].last);
		json_stats(f, &ps);
		fprintf(f, "}%s\n", i < 2 ? "," : "");
	}
	fputs(" ],\n \"per_frame\": [\n", f);
	for (unsigned k = 1; k <= b->opt.frames; k++) {
		fprintf(f, "  {\"frame\": %u, \"serial_ms\": ", k);
		json_num(f, rel_ms(b, b->serial_t[k]), 2);
		fputs(", \"marker_ms\": ", f);
		json_num(f, rel_ms(b, b->marker_t[k]), 2);
		fputs(", \"latency_ms\": ", f);
		json_num(f, frame_measured(b, k) ? (b->marker_t[k] - b->serial_t[k]) * 1e3 : NAN,
		         2);
		have = frame_bytes(b, k, &bytes, &pixels);
		fputs(", \"bytes\": ", f);
		json_num(f, have ? (double)bytes : NAN, 0);
		fputs(", \"pixels\": ", f);
		json_num(f, have ? (double)pixels : NAN, 0);
		fprintf(f, "}%s\n", k < b->opt.frames ? "," : "");
	}
	fputs(" ]\n}\n", f);
}

static void print_frames_summary(const struct bench *b)
{
	struct phase ph[3];
	struct stats all, ps;

	phases_of(b->opt.frames, ph);
	compute_stats(b, 1, b->opt.frames, &all);
	printf("%s: %u/%u frames measured, latency p50 %.1f ms p99 %.1f ms, "
	       "%.0f bytes/frame over %u frames, %lu updates\n",
	       b->opt.encoding->name, all.measured, b->opt.frames, all.p50_ms, all.p99_ms,
	       all.byte_frames ? (double)all.bytes / all.byte_frames : NAN, all.byte_frames,
	       b->updates);
	for (int i = 0; i < 3; i++) {
		compute_stats(b, ph[i].first, ph[i].last, &ps);
		printf("  %-6s frames %2u-%-2u p50 %6.1f ms  %8.0f bytes/frame  %8.0f "
		       "pixels/frame\n",
		       ph[i].name, ph[i].first, ph[i].last, ps.p50_ms,
		       ps.byte_frames ? (double)ps.bytes / ps.byte_frames : NAN,
		       ps.byte_frames ? (double)ps.pixels / ps.byte_frames : NAN);
	}
}

/* ---- the two modes ---- */

/* Frames mode: run until the guest said "bench: done" and the last marker arrived. */
static bool run_frames(struct bench *b)
{
	double deadline = b->start_t + b->opt.timeout_s;

	for (;;) {
		double t = now(), done_t;
		char err[sizeof(b->serial_error)];

		pthread_mutex_lock(&b->lock);
		done_t = b->bench_done_t;
		memcpy(err, b->serial_error, sizeof(err));
		pthread_mutex_unlock(&b->lock);

		if (err[0]) {
			fprintf(stderr, "vnc-client: serial: %s\n", err);
			return false;
		}
		if (done_t && b->marker_last >= b->opt.frames)
			return true;
		if (done_t && t > done_t + DONE_GRACE_S) {
			fprintf(stderr,
			        "vnc-client: the guest finished but the last marker seen is %u of "
			        "%u\n",
			        b->marker_last, b->opt.frames);
			return false;
		}
		if (t > deadline) {
			fprintf(stderr,
			        "vnc-client: timed out after %.0f s (marker %u of %u, %s)\n",
			        b->opt.timeout_s, b->marker_last, b->opt.frames,
			        done_t ? "guest done" : "guest not done");
			return false;
		}
		if (!vnc_pump(b, 20))
			return false;
	}
}

/* Idle mode: wait for the desktop, then measure a still screen for opt.idle_s. */
static bool run_idle(struct bench *b, FILE *out)
{
	double deadline = b->start_t + b->opt.timeout_s, ready_t = 0, t0 = 0, t1 = 0;
	unsigned long updates0 = 0;
	uint64_t pixels0 = 0;
	int64_t bytes0 = 0, bytes1;

	for (;;) {
		double t = now();

		if (!ready_t) {
			pthread_mutex_lock(&b->lock);
			if (b->first_update_t && (!b->opt.serial_path || b->ready_t))
				ready_t = t;
			pthread_mutex_unlock(&b->lock);
		}
		if (ready_t && !t0 && t >= ready_t + IDLE_SETTLE_S) {
			t0 = t;
			bytes0 = tcp_bytes(b->sock);
			updates0 = b->updates;
			pixels0 = b->pixels;
			printf("idle: start\n");
			fflush(stdout);
		}
		if (t0 && t >= t0 + b->opt.idle_s)
			break;
		if (!t0 && t > deadline) {
			fprintf(stderr, "vnc-client: no desktop within %.0f s\n", b->opt.timeout_s);
			return false;
		}
		if (!vnc_pump(b, 20))
			return false;
	}
	t1 = now();
	bytes1 = tcp_bytes(b->sock);
	printf("idle: end\n");
	printf("idle: %.1f s, %" PRId64 " bytes, %lu updates, %" PRIu64 " pixels\n", t1 - t0,
	       bytes1 - bytes0, b->updates - updates0, b->pixels - pixels0);
	fflush(stdout);
	if (out) {
		fprintf(out, "{\n \"mode\": \"idle\",\n \"encoding\": \"%s\",\n",
		        b->opt.encoding->name);
		fprintf(out, " \"seconds\": %.3f,\n \"bytes\": %" PRId64 ",\n", t1 - t0,
		        bytes1 - bytes0);
		fprintf(out, " \"updates\": %lu,\n \"pixels\": %" PRIu64 ",\n",
		        b->updates - updates0, b->pixels - pixels0);
		fprintf(out, " \"bytes_per_second\": %.1f\n}\n",
		        (double)(bytes1 - bytes0) / (t1 - t0));
	}
	return true;
}

static void serial_stop(struct bench *b)
{
	if (!b->serial_running)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->serial_thread, NULL);
	b->serial_running = false;
}

/* ---- command line ---- */

static void usage(FILE *f)
{
	fputs("usage: vdi-bench-vnc-client --host H --port P [--password PW] [--encoding E]\n"
	      "         (--serial-file PATH | --serial-fifo PATH) [--frames N] [--out FILE]\n"
	      "       vdi-bench-vnc-client --host H --port P ... --idle S [--serial-file PATH]\n"
	      "\n"
	      "  --encoding E     raw, rre, corre, hextile, zlib, tight, zlibhex, trle, zrle,\n"
	      "                   zywrle (default tight); the only one offered to the server\n"
	      "  --compress L     also send the compression level pseudo-encoding (0-9)\n"
	      "  --quality L      also send the JPEG quality pseudo-encoding (0-9; lossy)\n"
	      "  --frames N       the guest's bench=N (default 60)\n"
	      "  --idle SECONDS   still-screen mode instead of frames\n"
	      "  --timeout S      give up after S seconds (default 150)\n"
	      "  --wait S         first wait up to S seconds for the port to accept connections\n"
	      "  --out FILE       write the results as JSON\n"
	      "  --verbose        show libvncclient's log\n",
	      f);
}

static bool parse_int(const char *s, long lo, long hi, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

static bool parse_seconds(const char *s, double *ret)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v > 0) || v > 3600)
		return false;
	*ret = v;
	return true;
}

enum {
	OPT_HOST = 256,
	OPT_PORT,
	OPT_PASSWORD,
	OPT_ENCODING,
	OPT_COMPRESS,
	OPT_QUALITY,
	OPT_SERIAL_FILE,
	OPT_SERIAL_FIFO,
	OPT_FRAMES,
	OPT_IDLE,
	OPT_TIMEOUT,
	OPT_WAIT,
	OPT_OUT,
	OPT_VERBOSE,
	OPT_HELP,
};

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "password", required_argument, NULL, OPT_PASSWORD },
		{ "encoding", required_argument, NULL, OPT_ENCODING },
		{ "compress", required_argument, NULL, OPT_COMPRESS },
		{ "quality", required_argument, NULL, OPT_QUALITY },
		{ "serial-file", required_argument, NULL, OPT_SERIAL_FILE },
		{ "serial-fifo", required_argument, NULL, OPT_SERIAL_FIFO },
		{ "frames", required_argument, NULL, OPT_FRAMES },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *enc = "tight";
	long v;
	int c;

	*o = (struct options){ .port = -1,
		               .compress = -1,
		               .quality = -1,
		               .frames = DEFAULT_FRAMES,
		               .timeout_s = DEFAULT_TIMEOUT_S };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HOST:
			o->host = optarg;
			break;
		case OPT_PORT:
			if (!parse_int(optarg, 1, 65535, &v))
				goto bad;
			o->port = (int)v;
			break;
		case OPT_PASSWORD:
			o->password = optarg;
			break;
		case OPT_ENCODING:
			enc = optarg;
			break;
		case OPT_COMPRESS:
		case OPT_QUALITY:
			if (!parse_int(optarg, 0, 9, &v))
				goto bad;
			*(c == OPT_COMPRESS ? &o->compress : &o->quality) = (int)v;
			break;
		case OPT_SERIAL_FILE:
		case OPT_SERIAL_FIFO:
			o->serial_path = optarg;
			o->serial_fifo = c == OPT_SERIAL_FIFO;
			break;
		case OPT_FRAMES:
			if (!parse_int(optarg, 1, FRAMES_MAX, &v))
				goto bad;
			o->frames = (unsigned)v;
			break;
		case OPT_IDLE:
			if (!parse_seconds(optarg, &o->idle_s))
				goto bad;
			break;
		case OPT_TIMEOUT:
			if (!parse_seconds(optarg, &o->timeout_s))
				goto bad;
			break;
		case OPT_WAIT:
			if (!parse_seconds(optarg, &o->wait_s))
				goto bad;
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
		if (strcmp(enc, encodings[i].name) == 0)
			o->encoding = &encodings[i];
	}
	if (!o->encoding) {
		fprintf(stderr, "vnc-client: unknown encoding '%s'\n", enc);
		return -EINVAL;
	}
	if (optind < argc || !o->host || o->port < 0) {
		usage(stderr);
		return -EINVAL;
	}
	if (!o->idle_s && !o->serial_path) {
		fprintf(stderr, "vnc-client: frames mode needs --serial-file or --serial-fifo\n");
		return -EINVAL;
	}
	if (o->idle_s)
		o->frames = 0; /* no markers to decode */
	return 0;
bad:
	/* longopts lists the options in the order of their OPT_ values. */
	fprintf(stderr, "vnc-client: bad value '%s' for --%s\n", optarg,
	        longopts[c - OPT_HOST].name);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	struct bench b;
	FILE *out = NULL;
	bool ok = false;
	int r;

	memset(&b, 0, sizeof(b));
	if (parse_args(argc, argv, &b.opt) < 0)
		return 2;
	b.start_t = now();
	pthread_mutex_init(&b.lock, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Last resort if a read blocks forever: SIGALRM ends the process. */
	alarm((unsigned)(b.opt.timeout_s + b.opt.wait_s + b.opt.idle_s + 30));
	if (!b.opt.verbose)
		rfbClientLog = rfbClientErr = log_keep;

	b.serial_t = calloc(b.opt.frames + 1, sizeof(*b.serial_t));
	b.marker_t = calloc(b.opt.frames + 1, sizeof(*b.marker_t));
	b.marker_bytes = calloc(b.opt.frames + 1, sizeof(*b.marker_bytes));
	b.marker_pixels = calloc(b.opt.frames + 1, sizeof(*b.marker_pixels));
	if (!b.serial_t || !b.marker_t || !b.marker_bytes || !b.marker_pixels) {
		fprintf(stderr, "vnc-client: out of memory\n");
		goto out_free;
	}
	if (b.opt.out) {
		out = fopen(b.opt.out, "w");
		if (!out) {
			fprintf(stderr, "vnc-client: %s: %s\n", b.opt.out, strerror(errno));
			goto out_free;
		}
	}
	/* Serial first, so no line written after the connection is missed. */
	if (b.opt.serial_path) {
		r = pthread_create(&b.serial_thread, NULL, serial_main, &b);
		if (r) {
			fprintf(stderr, "vnc-client: pthread_create: %s\n", strerror(r));
			goto out_close;
		}
		b.serial_running = true;
	}
	if (vnc_connect(&b) < 0)
		goto out_stop;

	if (b.opt.idle_s > 0) {
		ok = run_idle(&b, out);
	} else {
		ok = run_frames(&b);
		serial_stop(&b); /* the report reads what the thread wrote */
		print_frames_summary(&b);
		if (out)
			write_frames_report(&b, out, ok);
	}

out_stop:
	serial_stop(&b);
	if (b.cl) {
		free(b.cl->frameBuffer); /* rfbClientCleanup leaves it to us */
		rfbClientCleanup(b.cl);
	}
out_close:
	if (out && fclose(out) != 0) {
		fprintf(stderr, "vnc-client: %s: %s\n", b.opt.out, strerror(errno));
		ok = false;
	}
out_free:
	free(b.serial_t);
	free(b.marker_t);
	free(b.marker_bytes);
	free(b.marker_pixels);
	pthread_mutex_destroy(&b.lock);
	return ok ? 0 : 1;
}
