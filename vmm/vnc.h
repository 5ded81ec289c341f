/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The built-in VNC server (libvncserver), a listener of the display core.
 *
 * It runs on the display thread: the listening socket and every client
 * socket are watches on the display loop, and libvncserver is driven
 * without threads of its own. Clients authenticate with the one-time
 * ticket set over the control socket (VNC authentication, the ticket
 * secret as password); without a ticket nobody gets in. Keys arrive as
 * X11 keysyms (mapped through proto/keymap) or, from clients that speak
 * QEMU's extended key event, as PC scan codes; the pointer is absolute.
 */
#ifndef VDI_VMM_VNC_H
#define VDI_VMM_VNC_H

#include "vmm/config.h"
#include "vmm/display.h"

struct vmm_vnc;

/*
 * Listen as @listen says (TCP host and port, port 0 for any free one, or a
 * unix socket) and serve the display of @d. Main thread. Returns 0 or
 * -errno with a reason in @err.
 */
int vmm_vnc_new(struct vmm_display *d, const struct vmm_listen *listen, const char *vm_name,
                struct vmm_vnc **ret, char *err, size_t err_size);

/* Disconnect every client and stop listening; NULL is a no-op. Main thread. */
void vmm_vnc_free(struct vmm_vnc *v);

#endif
