// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/https.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DEFAULT_TIMEOUT_MS 15000

static int fail(char *err, size_t err_size, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_size, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return r;
}

int viewer_https_parse_url(const char *url, struct viewer_https_target *t, char *err,
                           size_t err_size)
{
	const char *p, *host, *end;
	size_t hlen;
	long port = 443;

	if (strncasecmp(url, "https://", 8) != 0)
		return fail(err, err_size, -EINVAL, "'%s' is not an https:// address", url);
	p = url + 8;
	if (*p == '[') {
		host = p + 1;
		end = strchr(host, ']');
		if (!end)
			return fail(err, err_size, -EINVAL, "'%s': no ']' after the IPv6 address",
			            url);
		hlen = (size_t)(end - host);
		p = end + 1;
	} else {
		host = p;
		hlen = strcspn(p, ":/?#");
		p += hlen;
	}
	if (hlen == 0 || hlen > VIEWER_URL_HOST_MAX)
		return fail(err, err_size, -EINVAL, "'%s' has no usable host name", url);
	if (*p == ':') {
		char *e;

		errno = 0;
		port = strtol(p + 1, &e, 10);
		if (e == p + 1 || errno || port < 1 || port > 65535)
			return fail(err, err_size, -EINVAL, "'%s' has a bad port", url);
		p = e;
	}
	if (*p && strcmp(p, "/") != 0)
		return fail(err, err_size, -EINVAL,
		            "'%s': give only https://HOST[:PORT], without a path", url);
	for (size_t i = 0; i < hlen; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".-_:", host[i]))
			return fail(err, err_size, -EINVAL, "'%s' has a bad host name", url);
	memcpy(t->host, host, hlen);
	t->host[hlen] = '\0';
	t->port = (int)port;
	return 0;
}

int viewer_https_parse_fingerprint(const char *text, uint8_t out[VIEWER_FINGERPRINT_LEN])
{
	uint8_t fp[VIEWER_FINGERPRINT_LEN];
	size_t n = 0;
	const char *p = text;

	if (strncasecmp(p, "sha256:", 7) == 0 || strncasecmp(p, "sha256=", 7) == 0)
		p += 7;
	while (*p) {
		int hi, lo;

		if (*p == ':' && n > 0) {
			p++;
			continue;
		}
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]) ||
		    n >= VIEWER_FINGERPRINT_LEN)
			return -EINVAL;
		hi = isdigit((unsigned char)p[0]) ? p[0] - '0'
		                                  : tolower((unsigned char)p[0]) - 'a' + 10;
		lo = isdigit((unsigned char)p[1]) ? p[1] - '0'
		                                  : tolower((unsigned char)p[1]) - 'a' + 10;
		fp[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (*p && *p != ':' && !isxdigit((unsigned char)*p))
			return -EINVAL;
	}
	if (n != VIEWER_FINGERPRINT_LEN)
		return -EINVAL;
	memcpy(out, fp, sizeof(fp));
	return 0;
}

/* ---- the connection ---- */

/* How one request waits: its socket, the descriptor that abandons it, how long each step may take.
 */
struct io {
	int fd;
	int cancel_fd; /* -1: none (poll() skips a negative descriptor) */
	int timeout_ms;
};

/*
 * Wait until @io's socket is ready for @events: 0, -ETIMEDOUT when the
 * step's time is up, -ECANCELED once the cancel descriptor is readable.
 */
static int io_wait(const struct io *io, short events)
{
	struct pollfd pfd[2] = {
		{ .fd = io->fd, .events = events },
		{ .fd = io->cancel_fd, .events = POLLIN },
	};
	int r;

	do
		r = poll(pfd, 2, io->timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (pfd[1].revents)
		return -ECANCELED;
	return r == 0 ? -ETIMEDOUT : 0;
}

/* The reason for an io_wait() failure, for a person. */
static int io_fail(char *err, size_t err_size, int r, const struct viewer_https_target *t)
{
	if (r == -ECANCELED)
		return fail(err, err_size, r, "the call to the broker was abandoned");
	if (r == -ETIMEDOUT)
		return fail(err, err_size, r, "no answer from the broker at %s port %d", t->host,
		            t->port);
	return fail(err, err_size, r, "the connection to the broker failed: %s", strerror(-r));
}

/* A connected non-blocking TCP socket to @t, each address tried within the timeout; fd or -errno.
 */
static int tcp_connect(const struct viewer_https_target *t, const struct io *how, char *err,
                       size_t err_size)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	char port[8];
	int r, last = -EHOSTUNREACH;

	snprintf(port, sizeof(port), "%d", t->port);
	r = getaddrinfo(t->host, port, &hints, &res);
	if (r != 0)
		return fail(err, err_size, r == EAI_NONAME ? -ENOENT : -EHOSTUNREACH,
		            "cannot find %s: %s", t->host, gai_strerror(r));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct io io = *how;
		socklen_t len = sizeof(r);

		io.fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		               ai->ai_protocol);
		if (io.fd < 0) {
			last = -errno;
			continue;
		}
		if (connect(io.fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			last = -errno;
			close(io.fd);
			continue;
		}
		r = io_wait(&io, POLLOUT);
		if (r == -ECANCELED) {
			close(io.fd);
			freeaddrinfo(res);
			return io_fail(err, err_size, r, t);
		}
		if (r == 0 && getsockopt(io.fd, SOL_SOCKET, SO_ERROR, &r, &len) < 0)
			r = errno;
		if (r != 0) {
			last = r > 0 ? -r : r;
			close(io.fd);
			continue;
		}
		freeaddrinfo(res);
		return io.fd;
	}
	freeaddrinfo(res);
	return fail(err, err_size, last, "cannot reach %s port %d: %s", t->host, t->port,
	            strerror(-last));
}

/*
 * After an SSL call on @io's non-blocking socket returned @n <= 0: 0 once
 * it may be called again (it had only to wait), else -ETIMEDOUT,
 * -ECANCELED, or -EIO with SSL_get_error()'s code in *@ssl_err.
 */
static int ssl_wait(SSL *ssl, int n, const struct io *io, int *ssl_err)
{
	int e = SSL_get_error(ssl, n);

	*ssl_err = e;
	if (e == SSL_ERROR_WANT_READ)
		return io_wait(io, POLLIN);
	if (e == SSL_ERROR_WANT_WRITE)
		return io_wait(io, POLLOUT);
	return -EIO;
}

static bool is_ip(const char *host)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void fingerprint_text(const uint8_t *fp, char *out, size_t size)
{
	size_t o = 0;

	for (int i = 0; i < VIEWER_FINGERPRINT_LEN && o + 3 < size; i++)
		o += (size_t)snprintf(out + o, size - o, i ? ":%02X" : "%02X", fp[i]);
}

/* Whether the leaf certificate's SHA-256 is @want; the one seen in @seen. */
static bool pin_matches(SSL *ssl, const uint8_t *want, char *seen, size_t seen_size)
{
	X509 *x = SSL_get1_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	bool ok;

	seen[0] = '\0';
	if (!x)
		return false;
	ok = X509_digest(x, EVP_sha256(), md, &n) == 1 && n == VIEWER_FINGERPRINT_LEN;
	X509_free(x);
	if (!ok)
		return false;
	fingerprint_text(md, seen, seen_size);
	return CRYPTO_memcmp(md, want, VIEWER_FINGERPRINT_LEN) == 0;
}

/* An SSL over @io's socket with the handshake done and the certificate checked; NULL and a reason.
 */
static SSL *tls_open(const struct viewer_https_target *t, SSL_CTX *ctx, const struct io *io,
                     int *ret, char *err, size_t err_size)
{
	SSL *ssl = SSL_new(ctx);
	char seen[100];
	int n, w = 0, ssl_err;

	if (!ssl) {
		*ret = fail(err, err_size, -ENOMEM, "cannot start TLS");
		return NULL;
	}
	SSL_set_fd(ssl, io->fd);
	if (!is_ip(t->host))
		SSL_set_tlsext_host_name(ssl, t->host);
	if (!t->pinned) {
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

		SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
		if (is_ip(t->host))
			X509_VERIFY_PARAM_set1_ip_asc(param, t->host);
		else
			X509_VERIFY_PARAM_set1_host(param, t->host, 0);
	}
	while ((n = SSL_connect(ssl)) != 1 && (w = ssl_wait(ssl, n, io, &ssl_err)) == 0)
		;
	if (n != 1 && w != -EIO) {
		*ret = io_fail(err, err_size, w, t);
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	if (n != 1) {
		long v = SSL_get_verify_result(ssl);
		unsigned long e = ERR_peek_last_error();

		if (!t->pinned && v != X509_V_OK)
			*ret = fail(err, err_size, -EKEYREJECTED,
			            "the broker's certificate is not trusted: %s",
			            X509_verify_cert_error_string(v));
		else
			*ret = fail(err, err_size, -ECONNRESET, "TLS with %s failed: %s", t->host,
			            e ? ERR_reason_error_string(e) : "the connection closed");
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	if (t->pinned && !pin_matches(ssl, t->fingerprint, seen, sizeof(seen))) {
		*ret = fail(err, err_size, -EKEYREJECTED,
		            "the broker's certificate does not have the expected fingerprint "
		            "(it has %s)",
		            seen[0] ? seen : "none");
		SSL_free(ssl);
		return NULL;
	}
	*ret = 0;
	return ssl;
}

/* 0, or what ssl_wait() said. */
static int write_all(SSL *ssl, const struct io *io, const char *p, size_t len)
{
	while (len > 0) {
		int e, w, n = SSL_write(ssl, p, len > (1u << 30) ? 1 << 30 : (int)len);

		if (n <= 0) {
			w = ssl_wait(ssl, n, io, &e);
			if (w < 0)
				return w;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

long viewer_https_dechunk(char *buf, size_t len)
{
	size_t in = 0, out = 0;

	for (;;) {
		char *end;
		unsigned long n;
		const char *crlf;

		if (in >= len || !isxdigit((unsigned char)buf[in]))
			return -EPROTO;
		errno = 0;
		n = strtoul(buf + in, &end, 16);
		if (errno || end == buf + in)
			return -EPROTO;
		/* chunk extensions are allowed and ignored */
		crlf = memmem(end, len - (size_t)(end - buf), "\r\n", 2);
		if (!crlf)
			return -EPROTO;
		in = (size_t)(crlf - buf) + 2;
		if (n == 0)
			return (long)out;
		if (n > len - in || len - in - n < 2 || buf[in + n] != '\r' ||
		    buf[in + n + 1] != '\n')
			return -EPROTO;
		memmove(buf + out, buf + in, n);
		out += n;
		in += n + 2;
	}
}

/* The value of header @name in the header block @h (NUL terminated), copied into @out. */
static bool header(const char *h, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	for (const char *p = h; (p = strstr(p, "\r\n"));) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			size_t vl;

			while (*v == ' ' || *v == '\t')
				v++;
			vl = strcspn(v, "\r\n");
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			snprintf(out, size, "%.*s", (int)vl, v);
			return true;
		}
	}
	return false;
}

/* Split the raw reply @buf (@len bytes) into *@ret; 0 or -EPROTO. */
static int parse_reply(char *buf, size_t len, struct viewer_https_reply *ret, char *err,
                       size_t err_size)
{
	char *sep = memmem(buf, len, "\r\n\r\n", 4), value[64];
	size_t hlen, blen;
	long cl = -1;

	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &ret->status) != 1 || ret->status < 100 ||
	    ret->status > 599)
		return fail(err, err_size, -EPROTO, "the broker's answer is not HTTP");
	hlen = (size_t)(sep - buf);
	if (hlen > VIEWER_HTTPS_HEADERS_MAX)
		return fail(err, err_size, -EPROTO, "the broker's answer has too long a header");
	*sep = '\0';
	blen = len - hlen - 4;
	ret->retry_after = -1;
	if (header(buf, "Retry-After", value, sizeof(value)))
		ret->retry_after = atoi(value);
	if (header(buf, "Content-Type", ret->content_type, sizeof(ret->content_type)))
		ret->content_type[strcspn(ret->content_type, ";")] = '\0';
	if (header(buf, "Transfer-Encoding", value, sizeof(value)) &&
	    strcasestr(value, "chunked")) {
		long n = viewer_https_dechunk(sep + 4, blen);

		if (n < 0)
			return fail(err, err_size, -EPROTO, "the broker's answer is cut short");
		blen = (size_t)n;
	} else if (header(buf, "Content-Length", value, sizeof(value))) {
		cl = atol(value);
		if (cl < 0 || (size_t)cl > blen)
			return fail(err, err_size, -EPROTO, "the broker's answer is cut short");
		blen = (size_t)cl;
	}
	ret->body = malloc(blen + 1);
	if (!ret->body)
		return fail(err, err_size, -ENOMEM, "out of memory");
	memcpy(ret->body, sep + 4, blen);
	ret->body[blen] = '\0';
	ret->body_len = blen;
	return 0;
}

int viewer_https_request(const struct viewer_https_target *t, int cancel_fd, const char *method,
                         const char *path, const char *headers, const char *body, size_t body_len,
                         struct viewer_https_reply *ret, char *err, size_t err_size)
{
	struct viewer_https_reply reply = { 0 };
	struct io io = { .fd = -1,
		         .cancel_fd = cancel_fd,
		         .timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : DEFAULT_TIMEOUT_MS };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	char *req = NULL, *buf = NULL;
	size_t len = 0, cap = 0;
	int r, n;

	if (!ctx)
		return fail(err, err_size, -ENOMEM, "cannot start TLS");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (!t->pinned) {
		if (t->ca_file ? SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1
		               : SSL_CTX_set_default_verify_paths(ctx) != 1) {
			r = fail(err, err_size, -EKEYREJECTED,
			         "cannot read the CA certificates%s%s", t->ca_file ? " in " : "",
			         t->ca_file ? t->ca_file : "");
			ERR_clear_error();
			goto out;
		}
	}
	io.fd = tcp_connect(t, &io, err, err_size);
	if (io.fd < 0) {
		r = io.fd;
		goto out;
	}
	ssl = tls_open(t, ctx, &io, &r, err, err_size);
	if (!ssl)
		goto out;
	n = asprintf(&req,
	             "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nConnection: close\r\n"
	             "User-Agent: vdi-viewer/" VDI_VERSION "\r\nContent-Length: %zu\r\n%s\r\n",
	             method, path, strchr(t->host, ':') ? "[" : "", t->host,
	             strchr(t->host, ':') ? "]" : "", t->port, body ? body_len : 0,
	             headers ? headers : "");
	if (n < 0) {
		req = NULL;
		r = fail(err, err_size, -ENOMEM, "out of memory");
		goto out;
	}
	r = write_all(ssl, &io, req, (size_t)n);
	if (r == 0 && body && body_len)
		r = write_all(ssl, &io, body, body_len);
	if (r == -EIO) {
		r = fail(err, err_size, -ECONNRESET, "the broker closed the connection");
		goto out;
	}
	if (r < 0) {
		r = io_fail(err, err_size, r, t);
		goto out;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb;

			if (cap >= VIEWER_HTTPS_REPLY_MAX + VIEWER_HTTPS_HEADERS_MAX) {
				r = fail(err, err_size, -EPROTO,
				         "the broker's answer is too large");
				goto out;
			}
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				r = fail(err, err_size, -ENOMEM, "out of memory");
				goto out;
			}
			buf = nb;
		}
		n = SSL_read(ssl, buf + len, (int)(cap - len));
		if (n <= 0) {
			int e, w = ssl_wait(ssl, n, &io, &e);

			if (w == 0)
				continue;
			if (w != -EIO) {
				r = io_fail(err, err_size, w, t);
				goto out;
			}
			if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && len > 0))
				break;
			/* A server that closes without close_notify after a full reply is common.
			 */
			if (len > 0 && memmem(buf, len, "\r\n\r\n", 4))
				break;
			r = fail(err, err_size, -ECONNRESET, "no answer from the broker");
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	r = parse_reply(buf, len, &reply, err, err_size);
	if (r == 0) {
		*ret = reply;
		memset(&reply, 0, sizeof(reply));
	}
out:
	viewer_https_reply_clear(&reply);
	if (req) {
		OPENSSL_cleanse(req, strlen(req));
		free(req);
	}
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	if (io.fd >= 0)
		close(io.fd);
	ERR_clear_error();
	return r;
}

void viewer_https_reply_clear(struct viewer_https_reply *r)
{
	if (!r)
		return;
	if (r->body) {
		OPENSSL_cleanse(r->body, r->body_len);
		free(r->body);
	}
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}
