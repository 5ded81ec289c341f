/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The built-in SPICE server (libspice-server), a listener of the display
 * core.
 *
 * Everything of spice-server's "core" runs on the display thread: its
 * timers and fd watches are timers and watches of the display loop, and
 * the listening socket is ours (we accept, then hand each connection to
 * spice-server). The display channel is fed the way a non-QXL adapter is
 * shown over SPICE: a primary surface the size of the guest's mode, and a
 * QXL draw-copy command per damage rectangle carrying a copy of its pixels.
 * spice-server's worker thread takes those commands and frees them.
 *
 * Security: clients authenticate with the ticket set over the control
 * socket (spice_server_set_ticket). Before any ticket nobody gets in. A
 * ticket serves one session: once a client's channels are linked (or a
 * grace period passed) it is used up. Connections that close before they
 * authenticate are logged and their address refused for a while, doubling
 * with each failure in a row, as for VNC.
 */
#ifndef VDI_VMM_SPICE_H
#define VDI_VMM_SPICE_H

#include <stddef.h>

#include "vmm/config.h"
#include "vmm/display.h"

struct vmm_spice;

/*
 * Listen on @cfg->spice (TCP host and port, port 0 for any free one), and
 * on @cfg->spice_tls_port with the certificates in @cfg->spice_tls_cert if
 * that port is not -1, and serve the display of @d; publish the ports for
 * query-displays. Only one SPICE server may exist in a process. Main
 * thread. Returns 0 or -errno with a one-line reason in @err.
 */
int vmm_spice_new(struct vmm_display *d, const struct vmm_config *cfg, struct vmm_spice **ret,
                  char *err, size_t err_size);

/* Disconnect every client, stop listening and free; NULL is a no-op. Main thread. */
void vmm_spice_free(struct vmm_spice *s);

#endif
