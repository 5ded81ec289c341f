// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto/control.h"
#include "proto/keymap.h"
#include "proto/log.h"
#include "vmm/control-cmds.h"
#include "vmm/loop.h"
#include "vmm/machine.h"

struct client {
	struct vmm_control *ctl;
	int fd;
	struct vmm_loop_watch *watch;
	struct proto_linebuf in;
	char *out;
	size_t out_len, out_cap;
	bool closing; /* flush what is queued, then close */
};

struct vmm_control {
	struct vmm_machine *m;
	char path[108];
	int listen_fd;
	struct vmm_loop_watch *listen_watch;
	struct client *clients[VMM_CONTROL_MAX_CLIENTS];
};

static void client_free(struct client *c)
{
	struct vmm_control *ctl = c->ctl;

	for (unsigned int i = 0; i < VMM_CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i] == c)
			ctl->clients[i] = NULL;
	vmm_loop_watch_remove(c->watch);
	close(c->fd);
	proto_linebuf_free(&c->in);
	free(c->out);
	free(c);
}

/* Write what is queued; false when the client is gone. */
static bool client_flush(struct client *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	vmm_loop_watch_update(c->watch, POLLIN | (c->out_len ? POLLOUT : 0));
	return !(c->closing && c->out_len == 0);
}

/* Queue @line (NUL-terminated, ends in '\n'); false when the client must go. */
static bool client_send(struct client *c, const char *line)
{
	size_t n;

	if (!line)
		return true; /* out of memory building it: drop this one message */
	n = strlen(line);
	if (c->out_len + n > VMM_CONTROL_MAX_PENDING) {
		log_warn("control: client not reading, %zu bytes pending: disconnecting",
		         c->out_len);
		return false;
	}
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + n)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return false;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, n);
	c->out_len += n;
	return client_flush(c);
}

static bool send_and_free(struct client *c, char *line)
{
	bool ok = client_send(c, line);

	free(line);
	return ok;
}

/* Run one request line; false when the client must be closed. */
static bool handle_line(struct client *c, const char *line, size_t len)
{
	struct vmm_control *ctl = c->ctl;
	struct proto_ctl_msg msg;
	struct vmm_cmd_result res = { 0 };
	int r;

	r = proto_ctl_decode(line, len, &msg);
	if (r < 0)
		return send_and_free(c,
		                     proto_ctl_encode_error(-1, PROTO_CTL_ERR_BAD_REQUEST,
		                                            msg.err_desc[0] ? msg.err_desc
		                                                            : "malformed request"));
	if (msg.kind != PROTO_CTL_REQUEST) {
		proto_ctl_msg_clear(&msg);
		return send_and_free(c, proto_ctl_encode_error(-1, PROTO_CTL_ERR_BAD_REQUEST,
		                                               "expected a request"));
	}
	vmm_control_run(ctl->m, msg.name, msg.body, &res);
	if (res.err_class)
		r = send_and_free(c, proto_ctl_encode_error(msg.id, res.err_class, res.err_desc));
	else
		r = send_and_free(c, proto_ctl_encode_ok(msg.id, res.ok));
	json_decref(res.ok);
	proto_ctl_msg_clear(&msg);
	if (r && res.quit) {
		/* Answer first, then stop: the client learns its quit was accepted. */
		client_flush(c);
		vmm_machine_quit(ctl->m, 0);
	}
	return r;
}

static void client_io(void *opaque, int fd, unsigned int revents)
{
	struct client *c = opaque;
	char buf[4096];
	const char *line;
	size_t len;
	ssize_t n;
	int r;

	if ((revents & POLLOUT) && !client_flush(c))
		goto out_close;
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		goto out_close;
	if (proto_linebuf_append(&c->in, buf, (size_t)n) < 0)
		goto out_too_long;
	while ((r = proto_linebuf_next(&c->in, &line, &len)) > 0)
		if (!handle_line(c, line, len))
			goto out_close;
	if (r < 0)
		goto out_too_long;
	return;

out_too_long:
	log_warn("control: request line over %u bytes: closing that connection",
	         PROTO_CTL_MAX_LINE);
	client_send(c, proto_ctl_encode_error(-1, PROTO_CTL_ERR_BAD_REQUEST, "line too long"));
	client_flush(c);
out_close:
	client_free(c);
}

static void on_accept(void *opaque, int fd, unsigned int revents)
{
	struct vmm_control *ctl = opaque;
	struct client *c;
	unsigned int slot;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	for (slot = 0; slot < VMM_CONTROL_MAX_CLIENTS && ctl->clients[slot]; slot++)
		;
	c = slot < VMM_CONTROL_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		static const char busy[] = "{\"error\":{\"class\":\"busy\",\"desc\":\"too many "
		                           "control clients\"}}\n";

		if (send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			(void)0;
		close(cfd);
		return;
	}
	c->ctl = ctl;
	c->fd = cfd;
	if (proto_linebuf_init(&c->in, PROTO_CTL_MAX_LINE) < 0) {
		close(cfd);
		free(c);
		return;
	}
	c->watch = vmm_loop_watch_add(ctl->m->loop, cfd, POLLIN, client_io, c);
	if (!c->watch) {
		proto_linebuf_free(&c->in);
		close(cfd);
		free(c);
		return;
	}
	ctl->clients[slot] = c;
}

/* Remove a stale socket file; -EADDRINUSE if something still listens there. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	return unlink(sa->sun_path) < 0 ? -errno : 0;
}

int vmm_control_new(struct vmm_machine *m, const char *path, struct vmm_control **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vmm_control *ctl;
	mode_t old_umask;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->m = m;
	strcpy(ctl->path, path);
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->listen_fd < 0) {
		r = -errno;
		goto out_free;
	}
	r = clear_stale(&sa);
	if (r < 0)
		goto out_close;
	/* Only the owner (the broker's user) may drive this VM. */
	old_umask = umask(0077);
	r = bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_umask);
	if (r < 0 || listen(ctl->listen_fd, 16) < 0) {
		r = -errno;
		goto out_close;
	}
	ctl->listen_watch = vmm_loop_watch_add(m->loop, ctl->listen_fd, POLLIN, on_accept, ctl);
	if (!ctl->listen_watch) {
		r = -ENOMEM;
		goto out_unlink;
	}
	*ret = ctl;
	return 0;

out_unlink:
	unlink(path);
out_close:
	close(ctl->listen_fd);
out_free:
	free(ctl);
	return r;
}

void vmm_control_free(struct vmm_control *ctl)
{
	if (!ctl)
		return;
	for (unsigned int i = 0; i < VMM_CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i]) {
			client_flush(ctl->clients[i]);
			client_free(ctl->clients[i]);
		}
	vmm_loop_watch_remove(ctl->listen_watch);
	close(ctl->listen_fd);
	unlink(ctl->path);
	free(ctl);
}

void vmm_control_broadcast(struct vmm_control *ctl, const char *name, json_t *data)
{
	char *line;

	if (!data)
		data = json_object();
	json_object_set_new(data, "timestamp", json_real((double)time(NULL)));
	line = proto_ctl_encode_event(name, data);
	json_decref(data);
	if (!line)
		return;
	for (unsigned int i = 0; i < VMM_CONTROL_MAX_CLIENTS; i++) {
		struct client *c = ctl->clients[i];

		if (c && !client_send(c, line))
			client_free(c);
	}
	free(line);
}
