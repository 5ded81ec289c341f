// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/conn.h"

#include <stddef.h>

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

int viewer_conn_open(const struct viewer_session *s, const struct viewer_conn_params *p,
                     const struct viewer_conn_events *ev, void *opaque, struct viewer_conn **ret)
{
	if (s->protocol == VIEWER_PROTO_SPICE)
		return viewer_conn_spice_open(s, p, ev, opaque, ret);
	return viewer_conn_vnc_open(s, p, ev, opaque, ret);
}

void viewer_conn_free(struct viewer_conn *c)
{
	if (c)
		c->ops->free(c);
}

bool viewer_tcp_stats(int fd, uint64_t *bytes_received, int64_t *rtt_us)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return false;
	*bytes_received = ti.tcpi_bytes_received;
	/*
	 * The smoothed RTT counts the peer's delayed ACKs when it has nothing to
	 * send; the minimum seen is the path's own round trip.
	 */
	*rtt_us = len >= offsetof(struct tcp_info, tcpi_min_rtt) + sizeof(ti.tcpi_min_rtt) &&
	                          ti.tcpi_min_rtt && ti.tcpi_min_rtt != ~0u
	                  ? ti.tcpi_min_rtt
	                  : ti.tcpi_rtt;
	return true;
}
