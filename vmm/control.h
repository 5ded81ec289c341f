/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket: JSON lines on a unix socket (proto/control.h), any
 * number of clients up to VMM_CONTROL_MAX_CLIENTS, each request answered
 * in order, events broadcast to every client. This is how the broker (or
 * a person with socat) drives a vdi-vmm.
 *
 * Commands: query-status, query-displays, stop, cont, reset, quit,
 * screendump {path}, send-key {keys, down?}, pointer {x, y, buttons?},
 * set-ticket {protocol, secret, expires_in?, connected?}.
 *
 * A bad line gets an error reply and the connection stays usable; a line
 * longer than PROTO_CTL_MAX_LINE, or a client that stops reading while
 * more than VMM_CONTROL_MAX_PENDING bytes wait for it, is disconnected.
 * Everything runs on the loop thread.
 */
#ifndef VDI_VMM_CONTROL_H
#define VDI_VMM_CONTROL_H

#include <jansson.h>

#define VMM_CONTROL_MAX_CLIENTS 32
#define VMM_CONTROL_MAX_PENDING (1u << 20)

struct vmm_machine;
struct vmm_control;

/*
 * Listen on @path (mode 0600). A stale socket left by a dead process is
 * replaced; a live one gives -EADDRINUSE. Returns 0 or -errno.
 */
int vmm_control_new(struct vmm_machine *m, const char *path, struct vmm_control **ret);

/* Close every client and the listener and remove the socket file; NULL is a no-op. */
void vmm_control_free(struct vmm_control *c);

/* Send {"event":@name,"data":@data} to every client; takes ownership of @data. */
void vmm_control_broadcast(struct vmm_control *c, const char *name, json_t *data);

#endif
