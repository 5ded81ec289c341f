// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SPICE server: libspice-server driven from the display thread.
 *
 * spice-server has a "core" (the thread that called spice_server_init(),
 * here the display thread) that runs the main and inputs channels through
 * the SpiceCoreInterface we give it, and a worker thread per QXL instance
 * that runs the display and cursor channels with its own GLib loop. The
 * core interface maps onto the display loop: a SpiceWatch is a loop watch,
 * a SpiceTimer a loop timer. Channel events of the worker reach us on the
 * core thread too: spice-server 0.14+ forwards them through its main
 * dispatcher.
 *
 * The display is shown the way QEMU shows a non-QXL adapter over SPICE
 * (ui/spice-display.c): a primary surface of the guest's size whose memory
 * is ours but which only the worker draws into, and for every damage
 * rectangle a QXL_DRAW_COPY command whose bitmap is a copy of those pixels.
 * Commands wait in a queue (under @lock) until the worker asks for them
 * with get_command(); the worker hands each back with release_resource()
 * when it no longer needs it, from its own thread. A stalled client makes
 * the worker stop fetching; past MAX_QUEUED commands or a surface's worth
 * of bytes the queue is replaced by one full-surface command, so memory
 * stays bounded. The QXL "physical" addresses in commands are our own
 * pointers: one memory slot spans the whole address space.
 *
 * Connections: we listen and accept ourselves, keep a duplicate of each
 * socket until the client has authenticated (so a client that stalls the
 * handshake can be cut off) and hand the socket to spice-server, which
 * checks the ticket. spice-server reports a channel as INITIALIZED once it
 * is authenticated; a connection that is DISCONNECTED before that failed.
 * A SPICE session is several connections (main, display, inputs, cursor)
 * that each present the ticket, so a ticket is used up only once the
 * session's channels have linked or SESSION_GRACE_MS passed.
 */
#include "vmm/spice.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <spice.h>
#include <spice/protocol.h>

#include "proto/keymap.h"
#include "proto/log.h"

#define MAX_QUEUED 64          /* draw commands waiting for the worker before we coalesce */
#define MAX_LINKS 16           /* connections still logging in */
#define MAX_LINKS_PER_HOST 8   /* of them from one address */
#define LINK_TIMEOUT_MS 20000  /* to finish the handshake and present the ticket */
#define LINK_REAP_MS 5000      /* after cutting a connection off, to hear it closed */
#define SESSION_GRACE_MS 20000 /* for a session's channels to join its main channel */
#define PENALTY_SLOTS 16
#define PENALTY_MAX_S 60
#define ADDRESS_MAX 64
#define RETRY_MS 100     /* after running out of memory for a screen update */
#define SURFACE_MAX 8192 /* edge of a surface we will create; the adapter stops at 1920 */

/* All of spice-server's view of our memory is one slot of group 0. */
#define MEMSLOT_GROUP 0
#define MEMSLOT_ID 0
#define MEMSLOT_BITS 8

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000ULL

/* Channels a client's session links besides its main channel. */
#define SESSION_CHANNELS \
	(1u << SPICE_CHANNEL_DISPLAY | 1u << SPICE_CHANNEL_INPUTS | 1u << SPICE_CHANNEL_CURSOR)

/* One draw command and the pixels it carries; freed by release_resource(). */
struct update {
	struct update *next;                  /* in the queue */
	struct update *live_prev, *live_next; /* every update not yet released */
	size_t bytes;
	QXLCommandExt ext;
	QXLDrawable drawable;
	QXLImage image;
	uint8_t pixels[];
};

/* A connection we accepted that has not authenticated yet. */
struct link {
	bool used;
	bool cut; /* timed out: we shut it down */
	int fd;   /* our duplicate of the socket */
	char address[ADDRESS_MAX];
	uint64_t deadline_ns;
};

struct penalty {
	char host[ADDRESS_MAX];
	unsigned int failures;
	uint64_t until_ns;
};

struct vmm_spice {
	struct vmm_display *d;
	char name[VMM_NAME_MAX + 1];
	pthread_t thread; /* the display thread, spice-server's core thread */
	SpiceServer *server;
	QXLInstance qxl;
	SpiceKbdInstance kbd;
	SpiceTabletInstance tablet;
	bool qxl_added;
	struct vmm_display_listener listener;
	bool listening;
	bool closing;

	int listen_fd;
	struct vmm_loop_watch *listen_watch;
	char host[64];
	int port, tls_port;

	/* The picture, display thread. */
	const struct vmm_display_surface *surf;
	uint8_t *primary_mem;
	bool primary;
	size_t surface_bytes;
	uint32_t next_image_id;
	bool want_full; /* a copy failed for lack of memory: send everything next time */
	bool oom_logged;
	bool behind; /* commands were coalesced since the queue was last empty */
	struct vmm_loop_timer *retry_timer;

	/* Shared with the worker thread. */
	pthread_mutex_t lock;
	struct update *queue_head, **queue_tail;
	size_t queued, queued_bytes;
	struct update *live;

	/* Input, display thread. */
	unsigned int kbd_prefix; /* 0xe000 after an 0xe0 byte */
	unsigned int kbd_e1;     /* bytes still expected after 0xe1 (Pause) */
	uint8_t kbd_e1_buf[2];
	int logical_w, logical_h;
	unsigned int ptr_x, ptr_y;

	/* Clients and tickets, display thread. */
	int clients;
	struct link links[MAX_LINKS];
	struct vmm_loop_timer *link_timer;
	bool link_timer_armed;
	struct penalty penalties[PENALTY_SLOTS];
	char secret[VMM_TICKET_SECRET_MAX + 1];
	unsigned int ticket_gen;
	bool ticket_open;
	const char *closed_why; /* why nobody can log in while !ticket_open */
	struct vmm_loop_timer *expiry_timer;
	struct vmm_loop_timer *session_timer;
	struct {
		bool active;
		uint32_t connection_id;
		unsigned int gen, linked;
	} session;
};

/*
 * spice-server's core interface carries no context of ours, so the one
 * server of the process is global. Set and cleared on the display thread.
 */
static struct vmm_spice *the_spice;
static struct vmm_loop *core_loop;
static pthread_mutex_t the_spice_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * spice-server 0.15 never frees the keyboard's state (SpiceKbdState, 272
 * bytes, allocated by spice_server_add_interface()): a keyboard cannot be
 * removed and spice_server_destroy() forgets it. We keep a pointer to it so
 * that LeakSanitizer does not count it as lost; it is never dereferenced.
 */
static void *volatile kbd_state_kept;

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* ---- spice-server's core interface on the display loop ---- */

struct SpiceTimer {
	struct vmm_loop_timer *t;
	SpiceTimerFunc func;
	void *opaque;
	struct SpiceTimer *prev, *next;
};

struct SpiceWatch {
	struct vmm_loop_watch *w; /* NULL while the mask is empty */
	int fd, mask;
	SpiceWatchFunc func;
	void *opaque;
	struct SpiceWatch *prev, *next;
};

/* Every timer and watch spice-server holds, to free what it forgets at teardown. */
static pthread_mutex_t core_lock = PTHREAD_MUTEX_INITIALIZER;
static struct SpiceTimer *core_timers;
static struct SpiceWatch *core_watches;

#define LIST_ADD(head, e)                   \
	do {                                \
		(e)->prev = NULL;           \
		(e)->next = (head);         \
		if (head)                   \
			(head)->prev = (e); \
		(head) = (e);               \
	} while (0)

#define LIST_DEL(head, e)                            \
	do {                                         \
		if ((e)->prev)                       \
			(e)->prev->next = (e)->next; \
		else                                 \
			(head) = (e)->next;          \
		if ((e)->next)                       \
			(e)->next->prev = (e)->prev; \
	} while (0)

static void timer_fire(void *opaque)
{
	struct SpiceTimer *t = opaque;

	t->func(t->opaque);
}

static SpiceTimer *core_timer_add(SpiceTimerFunc func, void *opaque)
{
	struct SpiceTimer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->func = func;
	t->opaque = opaque;
	t->t = vmm_loop_timer_new(core_loop, timer_fire, t);
	if (!t->t) {
		free(t);
		return NULL;
	}
	pthread_mutex_lock(&core_lock);
	LIST_ADD(core_timers, t);
	pthread_mutex_unlock(&core_lock);
	return t;
}

static void core_timer_start(SpiceTimer *t, uint32_t ms)
{
	vmm_loop_timer_arm(t->t, (uint64_t)ms * NS_PER_MS);
}

static void core_timer_cancel(SpiceTimer *t)
{
	vmm_loop_timer_disarm(t->t);
}

static void core_timer_remove(SpiceTimer *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&core_lock);
	LIST_DEL(core_timers, t);
	pthread_mutex_unlock(&core_lock);
	vmm_loop_timer_free(t->t);
	free(t);
}

static unsigned int poll_events(int mask)
{
	return (mask & SPICE_WATCH_EVENT_READ ? POLLIN : 0) |
	       (mask & SPICE_WATCH_EVENT_WRITE ? POLLOUT : 0);
}

static void watch_fire(void *opaque, int fd, unsigned int revents)
{
	struct SpiceWatch *w = opaque;
	int ev = 0;

	/* An error or hang-up is for whoever reads (or, failing that, writes) to find. */
	if ((w->mask & SPICE_WATCH_EVENT_READ) && (revents & (POLLIN | POLLHUP | POLLERR)))
		ev |= SPICE_WATCH_EVENT_READ;
	if ((w->mask & SPICE_WATCH_EVENT_WRITE) &&
	    ((revents & POLLOUT) ||
	     (!(w->mask & SPICE_WATCH_EVENT_READ) && (revents & (POLLHUP | POLLERR)))))
		ev |= SPICE_WATCH_EVENT_WRITE;
	if (ev)
		w->func(fd, ev, w->opaque); /* may remove (and free) @w */
}

static void core_watch_update_mask(SpiceWatch *w, int mask)
{
	mask &= SPICE_WATCH_EVENT_READ | SPICE_WATCH_EVENT_WRITE;
	w->mask = mask;
	if (!mask) {
		/* poll(2) reports a hang-up even for no events: stop watching altogether. */
		vmm_loop_watch_remove(w->w);
		w->w = NULL;
	} else if (!w->w) {
		w->w = vmm_loop_watch_add(core_loop, w->fd, poll_events(mask), watch_fire, w);
		if (!w->w)
			log_err("spice: out of memory watching fd %d; its connection stalls",
			        w->fd);
	} else {
		vmm_loop_watch_update(w->w, poll_events(mask));
	}
}

static SpiceWatch *core_watch_add(int fd, int mask, SpiceWatchFunc func, void *opaque)
{
	struct SpiceWatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = fd;
	w->func = func;
	w->opaque = opaque;
	mask &= SPICE_WATCH_EVENT_READ | SPICE_WATCH_EVENT_WRITE;
	w->mask = mask;
	if (mask) {
		w->w = vmm_loop_watch_add(core_loop, fd, poll_events(mask), watch_fire, w);
		if (!w->w) {
			free(w);
			return NULL;
		}
	}
	pthread_mutex_lock(&core_lock);
	LIST_ADD(core_watches, w);
	pthread_mutex_unlock(&core_lock);
	return w;
}

static void core_watch_remove(SpiceWatch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&core_lock);
	LIST_DEL(core_watches, w);
	pthread_mutex_unlock(&core_lock);
	vmm_loop_watch_remove(w->w);
	free(w);
}

static void core_channel_event(int event, SpiceChannelEventInfo *info);

static SpiceCoreInterface core_interface = {
	.base = {
		.type = SPICE_INTERFACE_CORE,
		.description = "vdi-vmm display loop",
		.major_version = SPICE_INTERFACE_CORE_MAJOR,
		.minor_version = SPICE_INTERFACE_CORE_MINOR,
	},
	.timer_add = core_timer_add,
	.timer_start = core_timer_start,
	.timer_cancel = core_timer_cancel,
	.timer_remove = core_timer_remove,
	.watch_add = core_watch_add,
	.watch_update_mask = core_watch_update_mask,
	.watch_remove = core_watch_remove,
	.channel_event = core_channel_event,
};

/* Free what spice-server left registered (after spice_server_destroy()). */
static void core_forget_all(void)
{
	unsigned int n = 0;

	pthread_mutex_lock(&core_lock);
	while (core_timers) {
		struct SpiceTimer *t = core_timers;

		LIST_DEL(core_timers, t);
		vmm_loop_timer_free(t->t);
		free(t);
		n++;
	}
	while (core_watches) {
		struct SpiceWatch *w = core_watches;

		LIST_DEL(core_watches, w);
		vmm_loop_watch_remove(w->w);
		free(w);
		n++;
	}
	pthread_mutex_unlock(&core_lock);
	if (n)
		log_debug("spice: %u timers and watches left behind by spice-server", n);
}

/* ---- addresses and penalties ---- */

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
		snprintf(buf, size, "unknown");
	}
}

/* "host" of "host:port" or "[v6]:port": what penalties are kept for. */
static void peer_host(const char *address, char *buf, size_t size)
{
	const char *colon = strrchr(address, ':');
	size_t n = colon ? (size_t)(colon - address) : strlen(address);

	snprintf(buf, size, "%.*s", (int)n, address);
}

static void event_address(const SpiceChannelEventInfo *info, char *buf, size_t size)
{
	if (info->flags & SPICE_CHANNEL_EVENT_FLAG_ADDR_EXT)
		describe_peer(&info->paddr_ext, buf, size);
	else
		snprintf(buf, size, "unknown");
}

static struct penalty *penalty_find(struct vmm_spice *s, const char *host, bool create)
{
	struct penalty *oldest = &s->penalties[0];

	for (int i = 0; i < PENALTY_SLOTS; i++) {
		struct penalty *p = &s->penalties[i];

		if (p->host[0] && strcmp(p->host, host) == 0)
			return p;
		if (p->until_ns < oldest->until_ns)
			oldest = p;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->host, sizeof(oldest->host), "%s", host);
	return oldest;
}

/* Seconds @host must still wait before it may try again, or 0. */
static unsigned int penalty_left(struct vmm_spice *s, const char *host)
{
	struct penalty *p = penalty_find(s, host, false);
	uint64_t now = vmm_now_ns();

	if (!p || p->until_ns <= now)
		return 0;
	return (unsigned int)((p->until_ns - now + NS_PER_S - 1) / NS_PER_S);
}

static unsigned int penalty_add(struct vmm_spice *s, const char *host)
{
	struct penalty *p = penalty_find(s, host, true);
	unsigned int secs = p->failures < 6 ? 1u << p->failures : PENALTY_MAX_S;

	if (secs > PENALTY_MAX_S)
		secs = PENALTY_MAX_S;
	p->failures++;
	p->until_ns = vmm_now_ns() + secs * (uint64_t)NS_PER_S;
	return secs;
}

static void penalty_clear(struct vmm_spice *s, const char *host)
{
	struct penalty *p = penalty_find(s, host, false);

	if (p)
		memset(p, 0, sizeof(*p));
}

/* ---- tickets ---- */

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Nobody may log in until the next set-ticket; @why says so in the log of refusals. */
static void ticket_close(struct vmm_spice *s, const char *why, bool disconnect)
{
	/* No password: spice-server refuses everyone ("no password is set"). */
	spice_server_set_ticket(s->server, NULL, 0, 0, disconnect);
	s->ticket_open = false;
	s->closed_why = why;
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	vmm_loop_timer_disarm(s->expiry_timer);
}

static void on_ticket(void *opaque, const struct vmm_ticket *t, bool disconnect)
{
	struct vmm_spice *s = opaque;
	size_t len = t->set ? strnlen(t->secret, sizeof(t->secret)) : 0;
	int64_t left_ns = 0;
	int lifetime = 0;

	/* A session still linking on the old ticket keeps nothing of it. */
	s->ticket_gen++;
	s->session.active = false;
	vmm_loop_timer_disarm(s->session_timer);
	vmm_loop_timer_disarm(s->expiry_timer);
	if (!len) {
		ticket_close(s, "no ticket is set", disconnect);
		return;
	}
	if (len > SPICE_MAX_PASSWORD_LENGTH) {
		log_err("vm=%s spice: the ticket has %zu characters, SPICE allows %d; nobody "
		        "can log in until a shorter one is set",
		        s->name, len, SPICE_MAX_PASSWORD_LENGTH);
		ticket_close(s, "the ticket is too long for SPICE", disconnect);
		return;
	}
	if (t->expires) {
		left_ns = t->expires * NS_PER_S - realtime_ns();
		if (left_ns <= 0) {
			log_warn("vm=%s spice: the new ticket has already expired", s->name);
			ticket_close(s, "the ticket expired", disconnect);
			return;
		}
		/* spice-server counts whole seconds; our timer closes the ticket on time. */
		lifetime =
		        left_ns / NS_PER_S + 1 > INT_MAX ? INT_MAX : (int)(left_ns / NS_PER_S + 1);
	}
	memcpy(s->secret, t->secret, len);
	s->secret[len] = '\0';
	if (spice_server_set_ticket(s->server, s->secret, lifetime, 0, disconnect) < 0) {
		log_err("vm=%s spice: spice-server refused the ticket", s->name);
		ticket_close(s, "the ticket was refused by spice-server", false);
		return;
	}
	s->ticket_open = true;
	if (t->expires)
		vmm_loop_timer_arm(s->expiry_timer, (uint64_t)left_ns);
}

static void ticket_expired(void *opaque)
{
	struct vmm_spice *s = opaque;

	/* A session that logged in in time finishes linking; it closes the ticket. */
	if (!s->ticket_open || s->session.active)
		return;
	log_info("vm=%s spice: ticket expired", s->name);
	ticket_close(s, "the ticket expired", false);
}

/* A client authenticated its main channel: hold the ticket open for its other channels. */
static void session_start(struct vmm_spice *s, uint32_t connection_id)
{
	if (!s->ticket_open)
		return;
	s->session.active = true;
	s->session.connection_id = connection_id;
	s->session.gen = s->ticket_gen;
	s->session.linked = 0;
	/* No expiry while they link: they were let in before it. */
	vmm_loop_timer_disarm(s->expiry_timer);
	spice_server_set_ticket(s->server, s->secret, 0, 0, 0);
	vmm_loop_timer_arm(s->session_timer, SESSION_GRACE_MS * NS_PER_MS);
}

/* The session linked its channels, timed out or went away: the ticket is used. */
static void session_end(struct vmm_spice *s)
{
	if (!s->session.active)
		return;
	s->session.active = false;
	vmm_loop_timer_disarm(s->session_timer);
	if (s->session.gen == s->ticket_gen && s->ticket_open) {
		ticket_close(s, "the ticket was already used", false);
		log_debug("vm=%s spice: ticket used", s->name);
	}
}

static void session_grace_over(void *opaque)
{
	session_end(opaque);
}

/* ---- connections ---- */

static struct link *link_find(struct vmm_spice *s, const char *address)
{
	for (int i = 0; i < MAX_LINKS; i++)
		if (s->links[i].used && strcmp(s->links[i].address, address) == 0)
			return &s->links[i];
	return NULL;
}

static void link_free(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

/* Look at the connections still logging in once a second while there are any. */
static void link_timer_arm(struct vmm_spice *s)
{
	/* Not re-armed on every accept: a stream of connections must not hold it off. */
	if (s->link_timer_armed)
		return;
	s->link_timer_armed = true;
	vmm_loop_timer_arm(s->link_timer, 1000 * NS_PER_MS);
}

static void link_tick(void *opaque)
{
	struct vmm_spice *s = opaque;
	uint64_t now = vmm_now_ns();
	bool any = false;

	s->link_timer_armed = false;
	for (int i = 0; i < MAX_LINKS; i++) {
		struct link *l = &s->links[i];

		if (!l->used)
			continue;
		if (now >= l->deadline_ns && !l->cut) {
			/* spice-server waits forever: make its next read fail. */
			shutdown(l->fd, SHUT_RDWR);
			l->cut = true;
			l->deadline_ns = now + LINK_REAP_MS * NS_PER_MS;
		} else if (now >= l->deadline_ns) {
			log_debug("vm=%s spice: %s never reported closed", s->name, l->address);
			link_free(l);
		}
		any |= l->used;
	}
	if (any)
		link_timer_arm(s);
}

/* A connection authenticated (@ok) or closed before it did. */
static void link_done(struct vmm_spice *s, const char *address, bool ok, bool tls)
{
	struct link *l = link_find(s, address);
	bool cut = l && l->cut;
	char host[ADDRESS_MAX];
	unsigned int secs;

	if (l)
		link_free(l);
	peer_host(address, host, sizeof(host));
	if (ok) {
		penalty_clear(s, host);
		return;
	}
	if (s->closing)
		return;
	secs = penalty_add(s, host);
	log_warn("vm=%s spice: refused %s%s: %s; refusing it for %u s", s->name, address,
	         tls ? " (TLS)" : "",
	         cut               ? "it did not log in in time"
	         : !s->ticket_open ? s->closed_why
	                           : "wrong ticket, or not a SPICE client",
	         secs);
}

static void on_accept(void *opaque, int fd, unsigned int revents)
{
	struct vmm_spice *s = opaque;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char address[ADDRESS_MAX], host[ADDRESS_MAX];
	struct link *l = NULL;
	unsigned int wait;
	int same_host = 0;
	int c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);

	if (c < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("vm=%s spice: accept: %s", s->name, strerror(errno));
		return;
	}
	describe_peer(&ss, address, sizeof(address));
	peer_host(address, host, sizeof(host));
	wait = penalty_left(s, host);
	if (wait) {
		log_warn("vm=%s spice: refusing %s for another %u s after a failed login", s->name,
		         address, wait);
		close(c);
		return;
	}
	for (int i = 0; i < MAX_LINKS; i++) {
		char other[ADDRESS_MAX];

		if (!s->links[i].used) {
			l = l ? l : &s->links[i];
			continue;
		}
		peer_host(s->links[i].address, other, sizeof(other));
		same_host += strcmp(other, host) == 0;
	}
	if (!l || same_host >= MAX_LINKS_PER_HOST) {
		log_warn("vm=%s spice: refusing %s: %d connections%s are still logging in", s->name,
		         address, l ? same_host : MAX_LINKS, l ? " from there" : "");
		close(c);
		return;
	}
	l->fd = fcntl(c, F_DUPFD_CLOEXEC, 0);
	if (l->fd < 0) {
		log_warn("vm=%s spice: refusing %s: %s", s->name, address, strerror(errno));
		l->fd = -1;
		close(c);
		return;
	}
	l->used = true;
	l->cut = false;
	snprintf(l->address, sizeof(l->address), "%s", address);
	l->deadline_ns = vmm_now_ns() + LINK_TIMEOUT_MS * NS_PER_MS;
	log_debug("vm=%s spice: connection from %s", s->name, address);
	/* spice-server owns @c from here, and closes it. */
	if (spice_server_add_client(s->server, c, 0) < 0) {
		log_warn("vm=%s spice: could not set up the connection from %s", s->name, address);
		close(c);
		link_free(l);
		return;
	}
	link_timer_arm(s);
}

static void core_channel_event(int event, SpiceChannelEventInfo *info)
{
	struct vmm_spice *s = the_spice;
	char address[ADDRESS_MAX];
	bool tls;

	if (!s || !info)
		return;
	if (!pthread_equal(pthread_self(), s->thread)) {
		/* spice-server forwards worker events to its core thread; never expected. */
		log_debug("vm=%s spice: channel event %d off the display thread ignored", s->name,
		          event);
		return;
	}
	event_address(info, address, sizeof(address));
	tls = info->flags & SPICE_CHANNEL_EVENT_FLAG_TLS;
	switch (event) {
	case SPICE_CHANNEL_EVENT_CONNECTED:
		break;
	case SPICE_CHANNEL_EVENT_INITIALIZED:
		log_debug("vm=%s spice: %s linked channel %d:%d", s->name, address, info->type,
		          info->id);
		link_done(s, address, true, tls);
		if (s->closing)
			break;
		if (info->type == SPICE_CHANNEL_MAIN) {
			s->clients++;
			vmm_display_clients(s->d, 1);
			vmm_display_client_event(s->d, VMM_PROTOCOL_SPICE, true, address);
			session_start(s, (uint32_t)info->connection_id);
		} else if (s->session.active &&
		           (uint32_t)info->connection_id == s->session.connection_id &&
		           info->type < 32) {
			s->session.linked |= 1u << info->type;
			if ((s->session.linked & SESSION_CHANNELS) == SESSION_CHANNELS)
				session_end(s);
		}
		break;
	case SPICE_CHANNEL_EVENT_DISCONNECTED:
		if (info->type == 0) {
			/* Closed before spice-server knew its channel: it never logged in. */
			link_done(s, address, false, tls);
			break;
		}
		if (info->type != SPICE_CHANNEL_MAIN || s->closing || s->clients <= 0)
			break;
		s->clients--;
		vmm_display_clients(s->d, -1);
		vmm_display_client_event(s->d, VMM_PROTOCOL_SPICE, false, address);
		if (s->session.active && (uint32_t)info->connection_id == s->session.connection_id)
			session_end(s);
		break;
	}
}

/* ---- the display: QXL commands from damage ---- */

static void update_free_locked(struct vmm_spice *s, struct update *u)
{
	if (u->live_prev)
		u->live_prev->live_next = u->live_next;
	else
		s->live = u->live_next;
	if (u->live_next)
		u->live_next->live_prev = u->live_prev;
	free(u);
}

/* Drop every command the worker has not taken. */
static void queue_drop_locked(struct vmm_spice *s)
{
	struct update *u = s->queue_head;

	while (u) {
		struct update *next = u->next;

		update_free_locked(s, u);
		u = next;
	}
	s->queue_head = NULL;
	s->queue_tail = &s->queue_head;
	s->queued = 0;
	s->queued_bytes = 0;
}

/* A draw-copy of rectangle @r of the surface, or NULL without memory. */
static struct update *update_new(struct vmm_spice *s, const struct vmm_display_rect *r)
{
	const struct vmm_display_surface *surf = s->surf;
	size_t row = (size_t)r->w * 4, bytes = row * r->h;
	struct update *u = malloc(sizeof(*u) + bytes);
	QXLDrawable *dr;
	QXLImage *im;

	if (!u)
		return NULL;
	memset(u, 0, sizeof(*u));
	u->bytes = bytes;
	for (unsigned int y = 0; y < r->h; y++)
		memcpy(u->pixels + y * row,
		       (const uint8_t *)surf->pixels + (size_t)(r->y + y) * surf->stride +
		               (size_t)r->x * 4,
		       row);

	dr = &u->drawable;
	dr->release_info.id = (uintptr_t)u;
	dr->surface_id = 0;
	dr->effect = QXL_EFFECT_OPAQUE;
	dr->type = QXL_DRAW_COPY;
	dr->bbox.left = (int32_t)r->x;
	dr->bbox.top = (int32_t)r->y;
	dr->bbox.right = (int32_t)(r->x + r->w);
	dr->bbox.bottom = (int32_t)(r->y + r->h);
	dr->clip.type = SPICE_CLIP_TYPE_NONE;
	dr->mm_time = (uint32_t)(vmm_now_ns() / NS_PER_MS);
	dr->surfaces_dest[0] = dr->surfaces_dest[1] = dr->surfaces_dest[2] = -1;
	dr->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
	dr->u.copy.src_bitmap = (uintptr_t)&u->image;
	dr->u.copy.src_area.right = (int32_t)r->w;
	dr->u.copy.src_area.bottom = (int32_t)r->h;

	im = &u->image;
	QXL_SET_IMAGE_ID(im, QXL_IMAGE_GROUP_DEVICE, s->next_image_id++);
	im->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
	im->descriptor.width = r->w;
	im->descriptor.height = r->h;
	im->bitmap.format = SPICE_BITMAP_FMT_32BIT;
	im->bitmap.flags = QXL_BITMAP_DIRECT | QXL_BITMAP_TOP_DOWN;
	im->bitmap.x = r->w;
	im->bitmap.y = r->h;
	im->bitmap.stride = (uint32_t)row;
	im->bitmap.data = (uintptr_t)u->pixels;

	u->ext.cmd.type = QXL_CMD_DRAW;
	u->ext.cmd.data = (uintptr_t)&u->drawable;
	u->ext.group_id = MEMSLOT_GROUP;
	return u;
}

static void want_full(struct vmm_spice *s);

/* Queue the commands in @list (linked by ->next), or if too much waits, one full update. */
static void queue_commands(struct vmm_spice *s, struct update *list, size_t n, size_t bytes)
{
	struct update *full = NULL;
	bool coalesce;

	pthread_mutex_lock(&s->lock);
	coalesce = s->queued + n > MAX_QUEUED || s->queued_bytes + bytes > s->surface_bytes;
	if (!s->queued)
		s->behind = false;
	pthread_mutex_unlock(&s->lock);
	if (coalesce) {
		/* The worker is not keeping up: everything it has not taken becomes one frame. */
		struct vmm_display_rect all = { 0, 0, s->surf->width, s->surf->height };

		if (!s->behind)
			log_info("vm=%s spice: the client is not keeping up; sending whole frames",
			         s->name);
		s->behind = true;
		full = update_new(s, &all);
		if (!full)
			want_full(s);
	}
	pthread_mutex_lock(&s->lock);
	if (coalesce) {
		for (struct update *u = list; u;) {
			struct update *next = u->next;

			free(u); /* never linked anywhere */
			u = next;
		}
		queue_drop_locked(s);
		list = full;
		n = full ? 1 : 0;
		bytes = full ? full->bytes : 0;
	}
	for (struct update *u = list; u; u = u->next) {
		u->live_next = s->live;
		if (s->live)
			s->live->live_prev = u;
		s->live = u;
	}
	if (list) {
		*s->queue_tail = list;
		while (*s->queue_tail)
			s->queue_tail = &(*s->queue_tail)->next;
	}
	s->queued += n;
	s->queued_bytes += bytes;
	pthread_mutex_unlock(&s->lock);
	if (n)
		spice_qxl_wakeup(&s->qxl);
}

static void send_rects(struct vmm_spice *s, const struct vmm_display_rect *rects, size_t n)
{
	struct update *list = NULL, **tail = &list;
	size_t count = 0, bytes = 0;
	unsigned int W = s->surf->width, H = s->surf->height;

	for (size_t i = 0; i < n; i++) {
		struct vmm_display_rect r = rects[i];
		struct update *u;

		/* The display core's rectangles lie in the surface; make sure of it. */
		if (r.x >= W || r.y >= H || !r.w || !r.h)
			continue;
		if (r.w > W - r.x)
			r.w = W - r.x;
		if (r.h > H - r.y)
			r.h = H - r.y;
		u = update_new(s, &r);
		if (!u) {
			while (list) {
				struct update *next = list->next;

				free(list);
				list = next;
			}
			want_full(s);
			return;
		}
		*tail = u;
		tail = &u->next;
		count++;
		bytes += u->bytes;
	}
	if (count)
		queue_commands(s, list, count, bytes);
}

/* Out of memory for a copy: send the whole screen again a little later. */
static void want_full(struct vmm_spice *s)
{
	if (!s->oom_logged)
		log_err("vm=%s spice: out of memory for screen updates; the whole screen is sent "
		        "again when memory allows",
		        s->name);
	s->oom_logged = true;
	s->want_full = true;
	vmm_loop_timer_arm(s->retry_timer, RETRY_MS * NS_PER_MS);
}

static void send_full(struct vmm_spice *s)
{
	struct vmm_display_rect all = { 0, 0, s->surf->width, s->surf->height };

	s->want_full = false;
	send_rects(s, &all, 1);
}

static void primary_destroy(struct vmm_spice *s)
{
	pthread_mutex_lock(&s->lock);
	queue_drop_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (s->primary) {
		/* Synchronous: the worker lets go of the surface and the commands drawn on it. */
		spice_qxl_destroy_primary_surface(&s->qxl, 0);
		s->primary = false;
	}
	free(s->primary_mem);
	s->primary_mem = NULL;
	s->surface_bytes = 0;
}

static void on_surface(void *opaque, const struct vmm_display_surface *surf)
{
	struct vmm_spice *s = opaque;
	QXLDevSurfaceCreate c;
	size_t bytes;

	primary_destroy(s);
	s->surf = surf;
	s->want_full = false;
	if (!surf->pixels || !surf->width || !surf->height)
		return; /* no mode: clients keep no primary surface */
	if (surf->width > SURFACE_MAX || surf->height > SURFACE_MAX ||
	    surf->stride < (size_t)surf->width * 4) {
		log_err("vm=%s spice: cannot show a %ux%u surface", s->name, surf->width,
		        surf->height);
		return;
	}
	bytes = (size_t)surf->width * surf->height * 4;
	s->primary_mem = calloc(1, bytes);
	if (!s->primary_mem) {
		log_err("vm=%s spice: no memory for a %ux%u surface; SPICE clients see no display",
		        s->name, surf->width, surf->height);
		return;
	}
	s->surface_bytes = bytes;
	memset(&c, 0, sizeof(c));
	c.format = SPICE_SURFACE_FMT_32_xRGB;
	c.width = surf->width;
	c.height = surf->height;
	c.stride = -(int32_t)(surf->width * 4); /* bottom-up, as QEMU's simple display does */
	c.mouse_mode = 1;                       /* we have a tablet: client mouse mode */
	c.mem = (uintptr_t)s->primary_mem;
	c.group_id = MEMSLOT_GROUP;
	spice_qxl_create_primary_surface(&s->qxl, 0, &c);
	s->primary = true;
	send_full(s);
}

static void retry_full(void *opaque)
{
	struct vmm_spice *s = opaque;

	if (s->primary && s->want_full)
		send_full(s);
}

static void on_update(void *opaque, const struct vmm_display_rect *rects, size_t n)
{
	struct vmm_spice *s = opaque;

	if (!s->primary)
		return;
	if (s->want_full)
		send_full(s);
	else
		send_rects(s, rects, n);
}

/* ---- QXLInterface, called from the worker thread ---- */

static void qxl_attached_worker(QXLInstance *qin)
{
}

static void qxl_set_compression_level(QXLInstance *qin, int level)
{
}

static void qxl_get_init_info(QXLInstance *qin, QXLDevInitInfo *info)
{
	memset(info, 0, sizeof(*info));
	info->num_memslots_groups = 1;
	info->num_memslots = 1;
	info->memslot_gen_bits = MEMSLOT_BITS;
	info->memslot_id_bits = MEMSLOT_BITS;
	info->internal_groupslot_id = MEMSLOT_GROUP;
	info->qxl_ram_size = 16 << 20;
	info->n_surfaces = 1;
}

static int qxl_get_command(QXLInstance *qin, struct QXLCommandExt *ext)
{
	struct vmm_spice *s = container_of(qin, struct vmm_spice, qxl);
	struct update *u;

	pthread_mutex_lock(&s->lock);
	u = s->queue_head;
	if (u) {
		s->queue_head = u->next;
		if (!s->queue_head)
			s->queue_tail = &s->queue_head;
		u->next = NULL;
		s->queued--;
		s->queued_bytes -= u->bytes;
		*ext = u->ext;
	}
	pthread_mutex_unlock(&s->lock);
	return u != NULL;
}

static int qxl_req_cmd_notification(QXLInstance *qin)
{
	struct vmm_spice *s = container_of(qin, struct vmm_spice, qxl);
	bool empty;

	/* 1: nothing waits, we will spice_qxl_wakeup() when something does. */
	pthread_mutex_lock(&s->lock);
	empty = s->queue_head == NULL;
	pthread_mutex_unlock(&s->lock);
	return empty;
}

static void qxl_release_resource(QXLInstance *qin, struct QXLReleaseInfoExt release)
{
	struct vmm_spice *s = container_of(qin, struct vmm_spice, qxl);
	struct update *u = (struct update *)(uintptr_t)release.info->id;

	if (!u)
		return;
	pthread_mutex_lock(&s->lock);
	update_free_locked(s, u);
	pthread_mutex_unlock(&s->lock);
}

static int qxl_get_cursor_command(QXLInstance *qin, struct QXLCommandExt *ext)
{
	return 0; /* the guest draws its own pointer */
}

static int qxl_req_cursor_notification(QXLInstance *qin)
{
	return 1;
}

static void qxl_notify_update(QXLInstance *qin, uint32_t update_id)
{
}

static int qxl_flush_resources(QXLInstance *qin)
{
	return 0;
}

static void qxl_async_complete(QXLInstance *qin, uint64_t cookie)
{
}

static void qxl_update_area_complete(QXLInstance *qin, uint32_t surface_id,
                                     struct QXLRect *updated_rects, uint32_t num_updated_rects)
{
}

static void qxl_set_client_capabilities(QXLInstance *qin, uint8_t client_present,
                                        uint8_t caps[SPICE_CAPABILITIES_SIZE])
{
}

static int qxl_client_monitors_config(QXLInstance *qin, VDAgentMonitorsConfig *monitors_config)
{
	return 0; /* sizes come from the guest's mode (the EDID), not from SPICE monitors */
}

static const QXLInterface qxl_interface = {
	.base = {
		.type = SPICE_INTERFACE_QXL,
		.description = "vdi-vmm display",
		.major_version = SPICE_INTERFACE_QXL_MAJOR,
		.minor_version = SPICE_INTERFACE_QXL_MINOR,
	},
	.attached_worker = qxl_attached_worker,
	.set_compression_level = qxl_set_compression_level,
	.get_init_info = qxl_get_init_info,
	.get_command = qxl_get_command,
	.req_cmd_notification = qxl_req_cmd_notification,
	.release_resource = qxl_release_resource,
	.get_cursor_command = qxl_get_cursor_command,
	.req_cursor_notification = qxl_req_cursor_notification,
	.notify_update = qxl_notify_update,
	.flush_resources = qxl_flush_resources,
	.async_complete = qxl_async_complete,
	.update_area_complete = qxl_update_area_complete,
	.set_client_capabilities = qxl_set_client_capabilities,
	.client_monitors_config = qxl_client_monitors_config,
};

/* ---- input, on the core (display) thread ---- */

static void key(struct vmm_spice *s, unsigned int xt, bool down)
{
	const struct proto_key *k = proto_key_by_xt(xt);

	if (!k) {
		log_debug("vm=%s spice: unknown scan code %#x ignored", s->name, xt);
		return;
	}
	vmm_display_key(s->d, k->evdev, down);
}

/* One byte of PC scan code set 1: 0xe0 prefixes, bit 7 releases, 0xe1 1d 45 is Pause. */
static void kbd_push_scan(SpiceKbdInstance *sin, uint8_t frag)
{
	struct vmm_spice *s = container_of(sin, struct vmm_spice, kbd);

	if (s->kbd_e1) {
		s->kbd_e1_buf[2 - s->kbd_e1] = frag;
		if (--s->kbd_e1)
			return;
		if ((s->kbd_e1_buf[0] & 0x7f) == 0x1d && (s->kbd_e1_buf[1] & 0x7f) == 0x45) {
			const struct proto_key *k = proto_key_by_name("pause");

			if (k)
				vmm_display_key(s->d, k->evdev, !(s->kbd_e1_buf[1] & 0x80));
		}
		return;
	}
	switch (frag) {
	case 0xe0:
		s->kbd_prefix = 0xe000;
		return;
	case 0xe1:
		s->kbd_prefix = 0;
		s->kbd_e1 = 2;
		return;
	case 0xe2:
		s->kbd_prefix = 0; /* no keys of ours use it */
		return;
	}
	key(s, s->kbd_prefix | (frag & 0x7fu), !(frag & 0x80));
	s->kbd_prefix = 0;
}

static uint8_t kbd_get_leds(SpiceKbdInstance *sin)
{
	return 0;
}

static const SpiceKbdInterface kbd_interface = {
	.base = {
		.type = SPICE_INTERFACE_KEYBOARD,
		.description = "vdi-vmm keyboard",
		.major_version = SPICE_INTERFACE_KEYBOARD_MAJOR,
		.minor_version = SPICE_INTERFACE_KEYBOARD_MINOR,
	},
	.push_scan_freg = kbd_push_scan,
	.get_leds = kbd_get_leds,
};

/* Client coordinate @v on an axis of @logical points to a pixel of @size. */
static unsigned int axis(int v, int logical, unsigned int size)
{
	if (v < 0)
		v = 0;
	if (logical > 1 && (unsigned int)logical != size) {
		if (v > logical - 1)
			v = logical - 1;
		return (unsigned int)((uint64_t)v * (size - 1) / (unsigned int)(logical - 1));
	}
	return (unsigned int)v < size ? (unsigned int)v : size - 1;
}

/* spice-server's button mask (left 1, right 2, middle 4) to ours (left, middle, right). */
static unsigned int buttons_of(uint32_t b)
{
	return (b & 1) | (b & 4 ? 2 : 0) | (b & 2 ? 4 : 0);
}

static void tablet_set_logical_size(SpiceTabletInstance *t, int w, int h)
{
	struct vmm_spice *s = container_of(t, struct vmm_spice, tablet);

	s->logical_w = w > 0 ? w : 0;
	s->logical_h = h > 0 ? h : 0;
}

static bool pointer_ok(struct vmm_spice *s)
{
	return s->surf && s->surf->width && s->surf->height;
}

static void tablet_position(SpiceTabletInstance *t, int x, int y, uint32_t buttons)
{
	struct vmm_spice *s = container_of(t, struct vmm_spice, tablet);

	if (!pointer_ok(s))
		return;
	s->ptr_x = axis(x, s->logical_w, s->surf->width);
	s->ptr_y = axis(y, s->logical_h, s->surf->height);
	vmm_display_pointer(s->d, s->ptr_x, s->ptr_y, buttons_of(buttons), 0);
}

static void tablet_wheel(SpiceTabletInstance *t, int motion, uint32_t buttons)
{
	struct vmm_spice *s = container_of(t, struct vmm_spice, tablet);

	/* Also called for every button press, with no motion. SPICE's up is -1. */
	if (pointer_ok(s))
		vmm_display_pointer(s->d, s->ptr_x, s->ptr_y, buttons_of(buttons),
		                    motion < 0   ? 1
		                    : motion > 0 ? -1
		                                 : 0);
}

static void tablet_buttons(SpiceTabletInstance *t, uint32_t buttons)
{
	struct vmm_spice *s = container_of(t, struct vmm_spice, tablet);

	if (pointer_ok(s))
		vmm_display_pointer(s->d, s->ptr_x, s->ptr_y, buttons_of(buttons), 0);
}

static const SpiceTabletInterface tablet_interface = {
	.base = {
		.type = SPICE_INTERFACE_TABLET,
		.description = "vdi-vmm tablet",
		.major_version = SPICE_INTERFACE_TABLET_MAJOR,
		.minor_version = SPICE_INTERFACE_TABLET_MINOR,
	},
	.set_logical_size = tablet_set_logical_size,
	.position = tablet_position,
	.wheel = tablet_wheel,
	.buttons = tablet_buttons,
};

/* ---- setting up and tearing down ---- */

static int parse_host(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
		*len = sizeof(struct sockaddr_in6);
		return AF_INET6;
	}
	return -EINVAL;
}

/*
 * A TCP socket bound to @host:@port (0: any free one), listening if
 * @backlog > 0. Returns the fd and the port in *@ret_port, or -errno.
 */
static int bind_tcp(const char *host, int port, int backlog, int *ret_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, e;

	if (parse_host(host, port, &ss, &len) < 0)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (backlog && listen(fd, backlog) < 0))
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail;
	*ret_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}

struct setup {
	struct vmm_spice *s;
	const struct vmm_config *cfg;
	char *err;
	size_t err_size;
	int r;
};

static int setup_fail(struct setup *st, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int setup_fail(struct setup *st, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, st->err_size, fmt, ap);
	va_end(ap);
	st->r = r;
	return r;
}

/*
 * TLS: spice-server binds the TLS port itself. For "any free port" we bind
 * one first and keep it (not listening, SO_REUSEADDR like spice-server's)
 * until spice-server has bound it too, so no other program takes it between.
 * Returns 0 and the held socket in *@hold (or -1), or -errno.
 */
static int setup_tls(struct setup *st, int *hold)
{
	struct vmm_spice *s = st->s;
	const char *dir = st->cfg->spice_tls_cert;
	static const char *const names[] = { "ca-cert.pem", "server-cert.pem", "server-key.pem" };
	char paths[3][PATH_MAX];
	int port = st->cfg->spice_tls_port;
	struct sockaddr_storage ss;
	socklen_t len;
	int family;

	*hold = -1;
	if (!dir)
		return setup_fail(st, -EINVAL, "spice: TLS needs a certificate directory");
	for (int i = 0; i < 3; i++) {
		if ((size_t)snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, names[i]) >=
		    sizeof(paths[i]))
			return setup_fail(st, -ENAMETOOLONG, "spice: TLS directory name too long");
		if (access(paths[i], R_OK) < 0)
			return setup_fail(st, -errno, "spice: cannot read %s: %s", paths[i],
			                  strerror(errno));
	}
	family = parse_host(s->host, 0, &ss, &len);
	if (family < 0)
		return setup_fail(st, -EINVAL, "spice: '%s' is not a numeric address", s->host);
	if (port == 0) {
		*hold = bind_tcp(s->host, 0, 0, &port);
		if (*hold < 0)
			return setup_fail(st, *hold, "spice: no free TLS port on %s: %s", s->host,
			                  strerror(-*hold));
	}
	spice_server_set_addr(s->server, s->host,
	                      family == AF_INET ? SPICE_ADDR_FLAG_IPV4_ONLY
	                                        : SPICE_ADDR_FLAG_IPV6_ONLY);
	if (spice_server_set_tls(s->server, port, paths[0], paths[1], paths[2], NULL, NULL, NULL) <
	    0)
		return setup_fail(st, -EINVAL, "spice: bad TLS port %d", port);
	s->tls_port = port;
	return 0;
}

static void setup_on_thread(void *opaque)
{
	struct setup *st = opaque;
	struct vmm_spice *s = st->s;
	const struct vmm_listen *l = &st->cfg->spice;
	struct vmm_display_server_info info = { .protocol = VMM_PROTOCOL_SPICE, .auth = true };
	QXLDevMemSlot slot;
	int hold = -1, fd;

	s->thread = pthread_self();
	pthread_mutex_lock(&the_spice_lock);
	if (the_spice) {
		pthread_mutex_unlock(&the_spice_lock);
		setup_fail(st, -EBUSY, "spice: a SPICE server already runs in this process");
		return;
	}
	the_spice = s;
	core_loop = vmm_display_loop(s->d);
	pthread_mutex_unlock(&the_spice_lock);

	if (l->is_unix) {
		setup_fail(st, -EINVAL, "spice: only TCP addresses are supported");
		return;
	}
	snprintf(s->host, sizeof(s->host), "%s", l->host);
	fd = bind_tcp(l->host, l->port, 16, &s->port);
	if (fd == -EINVAL) {
		setup_fail(st, fd, "spice: '%s' is not a numeric address", l->host);
		return;
	}
	if (fd < 0) {
		setup_fail(st, fd, "spice: cannot listen on %s:%d: %s", l->host, l->port,
		           strerror(-fd));
		return;
	}
	s->listen_fd = fd;

	s->link_timer = vmm_loop_timer_new(core_loop, link_tick, s);
	s->expiry_timer = vmm_loop_timer_new(core_loop, ticket_expired, s);
	s->session_timer = vmm_loop_timer_new(core_loop, session_grace_over, s);
	s->retry_timer = vmm_loop_timer_new(core_loop, retry_full, s);
	s->server = spice_server_new();
	if (!s->link_timer || !s->expiry_timer || !s->session_timer || !s->retry_timer ||
	    !s->server) {
		setup_fail(st, -ENOMEM, "spice: out of memory");
		return;
	}
	spice_server_set_name(s->server, s->name);
	/* Lossless pictures: no lossy video streams, no JPEG on slow links. */
	spice_server_set_streaming_video(s->server, SPICE_STREAM_VIDEO_OFF);
	spice_server_set_jpeg_compression(s->server, SPICE_WAN_COMPRESSION_NEVER);
	spice_server_set_image_compression(s->server, SPICE_IMAGE_COMPRESSION_AUTO_GLZ);
	spice_server_set_agent_mouse(s->server, 0); /* there is no agent; the tablet it is */
	if (st->cfg->spice_tls_port >= 0 && setup_tls(st, &hold) < 0)
		return;
	/* No password yet: spice-server refuses everybody until set-ticket. */
	s->closed_why = "no ticket is set";
	if (spice_server_init(s->server, &core_interface) < 0) {
		if (hold >= 0)
			close(hold);
		if (s->tls_port >= 0)
			setup_fail(
			        st, -EIO,
			        "spice: cannot start the server (TLS port %d or the certificates "
			        "in %s; see the log)",
			        s->tls_port, st->cfg->spice_tls_cert);
		else
			setup_fail(st, -EIO, "spice: cannot start the server (see the log)");
		return;
	}
	if (hold >= 0)
		close(hold);

	s->kbd.base.sif = &kbd_interface.base;
	s->tablet.base.sif = &tablet_interface.base;
	s->qxl.base.sif = &qxl_interface.base;
	s->qxl.id = 0;
	if (spice_server_add_interface(s->server, &s->kbd.base) < 0 ||
	    spice_server_add_interface(s->server, &s->tablet.base) < 0 ||
	    spice_server_add_interface(s->server, &s->qxl.base) < 0) {
		setup_fail(st, -EIO, "spice: spice-server refused our devices");
		return;
	}
	s->qxl_added = true;
	memset(&slot, 0, sizeof(slot));
	slot.slot_group_id = MEMSLOT_GROUP;
	slot.slot_id = MEMSLOT_ID;
	slot.virt_start = 0;
	slot.virt_end = ~(uintptr_t)0;
	spice_qxl_add_memslot(&s->qxl, &slot);
	spice_server_vm_start(s->server);

	s->listen_watch = vmm_loop_watch_add(core_loop, s->listen_fd, POLLIN, on_accept, s);
	if (!s->listen_watch || vmm_display_listener_add(s->d, &s->listener) < 0) {
		setup_fail(st, -ENOMEM, "spice: out of memory");
		return;
	}
	s->listening = true;
	info.address = s->host;
	info.port = s->port;
	info.tls_port = s->tls_port;
	vmm_display_server_info_set(s->d, &info);
	if (s->tls_port >= 0)
		log_info("vm=%s spice: listening on %s:%d, TLS on port %d", s->name, s->host,
		         s->port, s->tls_port);
	else
		log_info("vm=%s spice: listening on %s:%d", s->name, s->host, s->port);
	st->r = 0;
}

static void teardown_on_thread(void *opaque)
{
	struct vmm_spice *s = opaque;

	s->closing = true;
	if (s->listening) {
		vmm_display_listener_remove(s->d, &s->listener);
		vmm_display_server_info_clear(s->d, VMM_PROTOCOL_SPICE);
		s->listening = false;
	}
	vmm_loop_watch_remove(s->listen_watch);
	s->listen_watch = NULL;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	for (int i = 0; i < MAX_LINKS; i++)
		if (s->links[i].used)
			link_free(&s->links[i]);
	if (s->clients > 0)
		vmm_display_clients(s->d, -s->clients);
	s->clients = 0;
	if (s->qxl_added)
		primary_destroy(s);
	if (s->server) {
		kbd_state_kept = s->kbd.st;
		/* Disconnects the clients and joins the worker thread. */
		spice_server_destroy(s->server);
		s->server = NULL;
	}
	/* The worker is gone: whatever it never released is ours to free. */
	pthread_mutex_lock(&s->lock);
	queue_drop_locked(s);
	while (s->live)
		update_free_locked(s, s->live);
	pthread_mutex_unlock(&s->lock);
	free(s->primary_mem);
	s->primary_mem = NULL;
	vmm_loop_timer_free(s->link_timer);
	vmm_loop_timer_free(s->expiry_timer);
	vmm_loop_timer_free(s->session_timer);
	vmm_loop_timer_free(s->retry_timer);
	s->link_timer = s->expiry_timer = s->session_timer = s->retry_timer = NULL;
	OPENSSL_cleanse(s->secret, sizeof(s->secret));
	pthread_mutex_lock(&the_spice_lock);
	if (the_spice == s) {
		core_forget_all();
		the_spice = NULL;
		core_loop = NULL;
	}
	pthread_mutex_unlock(&the_spice_lock);
}

int vmm_spice_new(struct vmm_display *d, const struct vmm_config *cfg, struct vmm_spice **ret,
                  char *err, size_t err_size)
{
	struct vmm_spice *s = calloc(1, sizeof(*s));
	struct setup st = { s, cfg, err, err_size, -EIO };

	if (!s) {
		snprintf(err, err_size, "spice: out of memory");
		return -ENOMEM;
	}
	s->d = d;
	snprintf(s->name, sizeof(s->name), "%s", cfg->name);
	s->listen_fd = -1;
	s->port = s->tls_port = -1;
	for (int i = 0; i < MAX_LINKS; i++)
		s->links[i].fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->queue_tail = &s->queue_head;
	s->listener = (struct vmm_display_listener){ .protocol = VMM_PROTOCOL_SPICE,
		                                     .surface = on_surface,
		                                     .update = on_update,
		                                     .ticket = on_ticket,
		                                     .opaque = s };
	if (vmm_display_call_sync(d, setup_on_thread, &st) < 0)
		setup_fail(&st, -ENOMEM, "spice: out of memory");
	if (st.r < 0) {
		vmm_spice_free(s);
		return st.r;
	}
	*ret = s;
	return 0;
}

void vmm_spice_free(struct vmm_spice *s)
{
	if (!s)
		return;
	vmm_display_call_sync(s->d, teardown_on_thread, s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
