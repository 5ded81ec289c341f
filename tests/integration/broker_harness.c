// SPDX-License-Identifier: GPL-2.0-or-later
/* A real vdi-broker for integration tests; see broker_harness.h. */
#include "broker_harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "harness.h"

#define START_TIMEOUT_MS 30000
#define REPLY_MAX (8 << 20)

static pid_t spawn_broker(struct broker *b, const char *const *extra, bool append)
{
	const char *argv[48];
	char listen[32];
	int n = 0;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", b->port);
	argv[n++] = harness_build_path("broker/vdi-broker");
	argv[n++] = "--data-dir";
	argv[n++] = b->dir;
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--vmm";
	argv[n++] = harness_build_path("vmm/vdi-vmm");
	argv[n++] = "--guest";
	argv[n++] = harness_build_path("vmm/guest/vdi-guest.elf");
	for (int i = 0; extra && extra[i] && n < 46; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(b->out,
		              O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Wait for "serving https://127.0.0.1:PORT/" after byte @from of the output. */
static int wait_serving(struct broker *b, long from)
{
	int64_t end = harness_now_ms() + START_TIMEOUT_MS;

	while (harness_now_ms() < end) {
		char buf[16384];
		FILE *f = fopen(b->out, "re");
		size_t n = 0;
		const char *s, *p;

		if (f) {
			fseek(f, from, SEEK_SET);
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = '\0';
		p = strstr(buf, "first start: created admin 'admin' with password ");
		if (p)
			sscanf(p + strlen("first start: created admin 'admin' with password "),
			       "%63s", b->admin_password);
		p = strstr(buf, "TLS certificate SHA-256 fingerprint: ");
		if (p)
			sscanf(p + strlen("TLS certificate SHA-256 fingerprint: "), "%99s",
			       b->fingerprint);
		s = strstr(buf, "serving https://127.0.0.1:");
		if (s && strchr(s, '\n')) {
			b->port = atoi(s + strlen("serving https://127.0.0.1:"));
			return 0;
		}
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = 0;
			return -ECHILD;
		}
		usleep(20000);
	}
	return -ETIMEDOUT;
}

int broker_start(struct broker *b, const char *const *extra)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->dir, sizeof(b->dir), "/tmp/vdi-it-broker-XXXXXX");
	if (!mkdtemp(b->dir))
		return -errno;
	snprintf(b->out, sizeof(b->out), "%s.out", b->dir);
	b->pid = spawn_broker(b, extra, false);
	if (b->pid < 0)
		return -errno;
	return wait_serving(b, 0);
}

int broker_start_gateway(struct broker *g, const struct broker *b, const char *const *extra)
{
	const char *args[40];
	int n = 0;

	memset(g, 0, sizeof(*g));
	snprintf(g->dir, sizeof(g->dir), "%s", b->dir);
	snprintf(g->out, sizeof(g->out), "%s.gateway.out", b->dir);
	for (int i = 0; extra && extra[i] && n < 38; i++)
		args[n++] = extra[i];
	args[n++] = "gateway";
	args[n] = NULL;
	g->pid = spawn_broker(g, args, false);
	if (g->pid < 0)
		return -errno;
	return wait_serving(g, 0);
}

int broker_restart(struct broker *b, const char *const *extra)
{
	FILE *f = fopen(b->out, "re");
	long size = 0;

	if (f) {
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
	}
	b->pid = spawn_broker(b, extra, true);
	if (b->pid < 0)
		return -errno;
	return wait_serving(b, size);
}

int broker_stop(struct broker *b)
{
	int status;
	int64_t end = harness_now_ms() + 20000;

	if (b->pid <= 0)
		return -1;
	kill(b->pid, SIGTERM);
	while (harness_now_ms() < end) {
		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			b->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(20000);
	}
	kill(b->pid, SIGKILL);
	waitpid(b->pid, NULL, 0);
	b->pid = 0;
	return -1;
}

/* SIGKILL every process whose command line names a control socket in @dir/run/. */
static void kill_vmms_under(const char *dir)
{
	char want[320];
	DIR *proc = opendir("/proc");
	struct dirent *e;

	if (!proc)
		return;
	snprintf(want, sizeof(want), "%s/run/", dir);
	while ((e = readdir(proc))) {
		char path[64], cmd[4096];
		pid_t pid = (pid_t)atoi(e->d_name);
		ssize_t n;
		int fd;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (n <= 0)
			continue;
		for (ssize_t i = 0; i < n; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		cmd[n] = '\0';
		if (strstr(cmd, "--control ") && strstr(cmd, want))
			kill(pid, SIGKILL);
	}
	closedir(proc);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void broker_cleanup(struct broker *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, NULL, 0);
		b->pid = 0;
	}
	if (b->dir[0]) {
		/* The broker leaves its VMMs running for the next start to adopt: end them. */
		kill_vmms_under(b->dir);
		if (getenv("VDI_KEEP_TEST_FILES")) { /* debugging: keep the data and screenshots */
			fprintf(stderr, "kept %s and %s\n", b->dir, b->out);
			return;
		}
		nftw(b->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		unlink(b->out);
	}
}

/* ---- HTTPS ---- */

static bool fingerprint_matches(SSL *ssl, const char *want)
{
	X509 *x = SSL_get1_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char got[100];

	if (!x)
		return false;
	X509_digest(x, EVP_sha256(), md, &n);
	X509_free(x);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(got + i * 3, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
	return n == 32 && strcmp(got, want) == 0;
}

int broker_http(struct broker *b, const char *method, const char *path, const char *headers,
                const char *body, size_t body_len, struct http_reply *ret)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)b->port) };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	char *req = NULL, *buf = NULL, *sep;
	size_t len = 0, cap = 0;
	int fd = -1, r = -EIO, n;

	memset(ret, 0, sizeof(*ret));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ctx || fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		r = -errno;
		goto out;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "localhost");
	if (SSL_connect(ssl) != 1)
		goto out;
	if (!fingerprint_matches(ssl, b->fingerprint)) {
		r = -EKEYREJECTED;
		goto out;
	}
	n = asprintf(&req,
	             "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
	             "Content-Length: %zu\r\n%s\r\n",
	             method, path, b->port, body ? body_len : 0, headers ? headers : "");
	if (n < 0 || SSL_write(ssl, req, n) != n ||
	    (body && body_len && SSL_write(ssl, body, (int)body_len) != (int)body_len))
		goto out;
	for (;;) {
		if (cap - len < 4096) {
			char *nb;

			if (cap >= REPLY_MAX)
				goto out;
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap + 1);
			if (!nb)
				goto out;
			buf = nb;
		}
		n = SSL_read(ssl, buf + len, (int)(cap - len));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!buf)
		goto out;
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &ret->status) != 1)
		goto out;
	*sep = '\0';
	ret->headers = strdup(buf);
	ret->body_len = len - (size_t)(sep + 4 - buf);
	ret->body = malloc(ret->body_len + 1);
	memcpy(ret->body, sep + 4, ret->body_len);
	ret->body[ret->body_len] = '\0';
	r = 0;
out:
	free(req);
	free(buf);
	if (ssl)
		SSL_free(ssl);
	if (ctx)
		SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		ret->status = 0;
	return r;
}

void http_reply_free(struct http_reply *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *http_header(const struct http_reply *r, const char *name)
{
	static char value[512];
	size_t n = strlen(name);
	const char *p = r->headers;

	while (p && (p = strstr(p, "\r\n"))) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1, *end = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(value, sizeof(value), "%.*s",
			         (int)(end ? end - v : (long)strlen(v)), v);
			return value;
		}
	}
	return NULL;
}

json_t *http_json(const struct http_reply *r)
{
	return r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
}

const char *broker_login(struct broker *b, const char *user, const char *password, int *status)
{
	static char token[128];
	struct http_reply r;
	json_t *body = json_pack("{s:s, s:s}", "user", user, "password", password), *j;
	char *text = json_dumps(body, JSON_COMPACT);
	const char *t = NULL;

	broker_http(b, "POST", "/api/v1/login", "Content-Type: application/json\r\n", text,
	            strlen(text), &r);
	*status = r.status;
	j = http_json(&r);
	if (r.status == 200 && json_is_string(json_object_get(j, "token"))) {
		snprintf(token, sizeof(token), "%s",
		         json_string_value(json_object_get(j, "token")));
		t = token;
	}
	json_decref(j);
	json_decref(body);
	free(text);
	http_reply_free(&r);
	return t;
}

int broker_cli(struct broker *b, const char *input, const char *const *args)
{
	return broker_cli_capture(b, input, args, NULL, 0);
}

int broker_cli_capture(struct broker *b, const char *input, const char *const *args, char *out,
                       size_t out_size)
{
	char out_path[300];
	const char *argv[32];
	int n = 0, in[2], status;
	pid_t pid;

	argv[n++] = harness_build_path("broker/vdi-broker");
	argv[n++] = "--data-dir";
	argv[n++] = b->dir;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	snprintf(out_path, sizeof(out_path), "%s.cli-out", b->dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(out ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(in[0], STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	if (input && write(in[1], input, strlen(input)) < 0)
		status = -1;
	close(in[1]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (out) {
		FILE *f = fopen(out_path, "re");
		size_t got = f ? fread(out, 1, out_size - 1, f) : 0;

		out[got] = '\0';
		if (f)
			fclose(f);
		unlink(out_path);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
