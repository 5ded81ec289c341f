// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/vmmctl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto/log.h"

struct pending {
	int64_t id;
	int64_t sent_ms;
	broker_vmmctl_reply_fn fn;
	void *opaque;
};

struct broker_vmmctl {
	int fd;
	int err; /* 0 while connected, then why it ended */
	pid_t peer_pid;
	struct proto_linebuf lb;
	char *out;
	size_t out_len, out_cap;
	int64_t next_id;
	struct pending *pend;
	size_t nr_pend, cap_pend;
	broker_vmmctl_event_fn on_event;
	void *opaque;
	int64_t answered; /* id of the last reply dispatched, for wait() */
};

int64_t broker_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int broker_vmmctl_connect(const char *path, broker_vmmctl_event_fn on_event, void *opaque,
                          struct broker_vmmctl **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct broker_vmmctl *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->next_id = 1;
	c->answered = -1;
	c->on_event = on_event;
	c->opaque = opaque;
	r = proto_linebuf_init(&c->lb, PROTO_CTL_MAX_LINE);
	if (r < 0)
		goto out_free;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		r = -errno;
		goto out_lb;
	}
	/* A unix socket connects at once or not at all (EAGAIN: backlog full). */
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out_close;
	}
	c->peer_pid = -1;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.pid > 0)
		c->peer_pid = cred.pid;
	*ret = c;
	return 0;

out_close:
	close(c->fd);
out_lb:
	proto_linebuf_free(&c->lb);
out_free:
	free(c);
	return r;
}

/* Take pending request @i out of the table and answer it. */
static void answer(struct broker_vmmctl *c, size_t i, int err, const struct proto_ctl_msg *msg)
{
	struct pending p = c->pend[i];

	memmove(&c->pend[i], &c->pend[i + 1], (c->nr_pend - i - 1) * sizeof(*c->pend));
	c->nr_pend--;
	c->answered = p.id;
	if (p.fn)
		p.fn(p.opaque, err, msg);
}

static void fail_all(struct broker_vmmctl *c, int err)
{
	while (c->nr_pend)
		answer(c, 0, err, NULL);
}

void broker_vmmctl_free(struct broker_vmmctl *c)
{
	if (!c)
		return;
	fail_all(c, -ECANCELED);
	close(c->fd);
	proto_linebuf_free(&c->lb);
	free(c->out);
	free(c->pend);
	free(c);
}

int broker_vmmctl_fd(const struct broker_vmmctl *c)
{
	return c->fd;
}

short broker_vmmctl_poll_events(const struct broker_vmmctl *c)
{
	return c->out_len && !c->err ? POLLIN | POLLOUT : POLLIN;
}

pid_t broker_vmmctl_peer_pid(const struct broker_vmmctl *c)
{
	return c->peer_pid;
}

bool broker_vmmctl_closed(const struct broker_vmmctl *c)
{
	return c->err != 0;
}

/* The connection ended: remember why and fail what waits. */
static int end(struct broker_vmmctl *c, int err)
{
	if (!c->err) {
		c->err = err;
		log_debug("vmmctl fd=%d closed: %s", c->fd, strerror(-err));
		shutdown(c->fd, SHUT_RDWR);
	}
	fail_all(c, -ECONNRESET);
	return c->err;
}

static int flush(struct broker_vmmctl *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
	}
	return 0;
}

static int dispatch_line(struct broker_vmmctl *c, const char *line, size_t len)
{
	struct proto_ctl_msg msg;
	int r;

	r = proto_ctl_decode(line, len, &msg);
	if (r < 0) {
		log_debug("vmmctl fd=%d bad line from the vmm: %s", c->fd, msg.err_desc);
		return r == -ENOMEM ? r : -EPROTO;
	}
	switch (msg.kind) {
	case PROTO_CTL_EVENT:
		if (c->on_event)
			c->on_event(c->opaque, msg.name, msg.body);
		break;
	case PROTO_CTL_REPLY_OK:
	case PROTO_CTL_REPLY_ERROR:
		for (size_t i = 0; i < c->nr_pend; i++)
			if (c->pend[i].id == msg.id) {
				answer(c, i, msg.kind == PROTO_CTL_REPLY_OK ? 0 : -EREMOTEIO, &msg);
				break;
			}
		/* A reply to nothing we wait for (timed out, or id null): dropped. */
		break;
	case PROTO_CTL_REQUEST:
		/* The vmm does not send requests; ignore rather than guess. */
		break;
	}
	proto_ctl_msg_clear(&msg);
	return 0;
}

int broker_vmmctl_handle(struct broker_vmmctl *c, short revents)
{
	char buf[16384];
	int r;

	if (c->err)
		return end(c, c->err);
	if (revents & POLLOUT) {
		r = flush(c);
		if (r < 0)
			return end(c, r);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	/* Bounded, so one chatty vmm cannot starve the others. */
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		const char *line;
		size_t len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return end(c, -errno);
		}
		if (n == 0)
			return end(c, -ECONNRESET);
		r = proto_linebuf_append(&c->lb, buf, (size_t)n);
		if (r < 0)
			return end(c, r);
		while (proto_linebuf_next(&c->lb, &line, &len) == 1) {
			r = dispatch_line(c, line, len);
			if (r < 0)
				return end(c, r);
			if (c->err)
				return c->err;
		}
	}
	return 0;
}

void broker_vmmctl_tick(struct broker_vmmctl *c, int64_t now_ms)
{
	for (size_t i = 0; i < c->nr_pend;) {
		if (now_ms - c->pend[i].sent_ms >= BROKER_VMMCTL_TIMEOUT_MS)
			answer(c, i, -ETIMEDOUT, NULL);
		else
			i++;
	}
}

int broker_vmmctl_request(struct broker_vmmctl *c, const char *cmd, json_t *args,
                          broker_vmmctl_reply_fn fn, void *opaque, int64_t *ret_id)
{
	char *line;
	size_t len;
	int64_t id;
	int r;

	if (c->err)
		return -ENOTCONN;
	if (c->nr_pend >= BROKER_VMMCTL_PENDING_MAX)
		return -ENOBUFS;
	id = c->next_id;
	line = proto_ctl_encode_request(id, cmd, args);
	if (!line)
		return -errno;
	len = strlen(line);
	if (c->out_len + len > BROKER_VMMCTL_OUT_MAX) {
		free(line);
		return -ENOBUFS;
	}
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		while (cap < c->out_len + len)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			free(line);
			return -ENOMEM;
		}
		c->out = p;
		c->out_cap = cap;
	}
	if (c->nr_pend == c->cap_pend) {
		size_t cap = c->cap_pend ? c->cap_pend * 2 : 8;
		struct pending *p = realloc(c->pend, cap * sizeof(*p));

		if (!p) {
			free(line);
			return -ENOMEM;
		}
		c->pend = p;
		c->cap_pend = cap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	free(line);
	c->pend[c->nr_pend++] = (struct pending){ id, broker_monotonic_ms(), fn, opaque };
	c->next_id = id + 1 < PROTO_CTL_ID_MAX ? id + 1 : 1;
	/* Usually the whole line goes now; a failure shows up on the next handle(). */
	r = flush(c);
	if (r < 0 && !c->err)
		c->err = r;
	if (ret_id)
		*ret_id = id;
	return 0;
}

static bool is_pending(const struct broker_vmmctl *c, int64_t id)
{
	for (size_t i = 0; i < c->nr_pend; i++)
		if (c->pend[i].id == id)
			return true;
	return false;
}

void broker_vmmctl_cancel(struct broker_vmmctl *c, int64_t id)
{
	for (size_t i = 0; i < c->nr_pend; i++)
		if (c->pend[i].id == id) {
			memmove(&c->pend[i], &c->pend[i + 1],
			        (c->nr_pend - i - 1) * sizeof(*c->pend));
			c->nr_pend--;
			return;
		}
}

int broker_vmmctl_wait(struct broker_vmmctl *c, int64_t id, int timeout_ms)
{
	int64_t deadline = broker_monotonic_ms() + timeout_ms;

	while (is_pending(c, id)) {
		struct pollfd pfd = { .fd = c->fd, .events = broker_vmmctl_poll_events(c) };
		int64_t left = deadline - broker_monotonic_ms();
		int n, r;

		if (c->err)
			return end(c, c->err);
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		r = broker_vmmctl_handle(c, pfd.revents);
		if (r < 0)
			return r;
	}
	return 0;
}

int broker_vmmctl_query_status(struct broker_vmmctl *c, broker_vmmctl_reply_fn fn, void *opaque,
                               int64_t *ret_id)
{
	return broker_vmmctl_request(c, "query-status", NULL, fn, opaque, ret_id);
}

int broker_vmmctl_query_displays(struct broker_vmmctl *c, broker_vmmctl_reply_fn fn, void *opaque,
                                 int64_t *ret_id)
{
	return broker_vmmctl_request(c, "query-displays", NULL, fn, opaque, ret_id);
}

int broker_vmmctl_reset(struct broker_vmmctl *c, broker_vmmctl_reply_fn fn, void *opaque,
                        int64_t *ret_id)
{
	return broker_vmmctl_request(c, "reset", NULL, fn, opaque, ret_id);
}

int broker_vmmctl_quit(struct broker_vmmctl *c, broker_vmmctl_reply_fn fn, void *opaque,
                       int64_t *ret_id)
{
	return broker_vmmctl_request(c, "quit", NULL, fn, opaque, ret_id);
}

int broker_vmmctl_set_ticket(struct broker_vmmctl *c, const char *protocol, const char *secret,
                             unsigned int expires_in, bool disconnect, broker_vmmctl_reply_fn fn,
                             void *opaque, int64_t *ret_id)
{
	json_t *args;
	int r;

	args = json_pack("{s:s, s:s, s:s}", "protocol", protocol, "secret", secret, "connected",
	                 disconnect ? "disconnect" : "keep");
	if (!args)
		return -EINVAL;
	if (expires_in && json_object_set_new(args, "expires_in", json_integer(expires_in)) < 0) {
		json_decref(args);
		return -ENOMEM;
	}
	r = broker_vmmctl_request(c, "set-ticket", args, fn, opaque, ret_id);
	json_decref(args);
	return r;
}

int broker_vmm_parse_displays(json_t *ok, struct broker_vmm_display *vnc,
                              struct broker_vmm_display *spice)
{
	json_t *servers = json_object_get(ok, "servers"), *s;
	size_t i;

	if (!json_is_array(servers))
		return -EINVAL;
	memset(vnc, 0, sizeof(*vnc));
	memset(spice, 0, sizeof(*spice));
	json_array_foreach (servers, i, s) {
		const char *proto = json_string_value(json_object_get(s, "protocol"));
		const char *addr = json_string_value(json_object_get(s, "address"));
		json_t *port = json_object_get(s, "port");
		struct broker_vmm_display *d;

		if (!proto || !addr)
			return -EINVAL;
		if (strcmp(proto, "vnc") == 0)
			d = vnc;
		else if (strcmp(proto, "spice") == 0)
			d = spice;
		else
			continue;
		if (strlen(addr) >= sizeof(d->host))
			return -EINVAL;
		strcpy(d->host, addr);
		if (json_is_integer(port) && json_integer_value(port) > 0 &&
		    json_integer_value(port) <= 65535)
			d->port = (int)json_integer_value(port);
	}
	return 0;
}
