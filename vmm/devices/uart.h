/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A 16550A UART, as PC COM ports have it, enough for Linux's 8250 driver
 * (which probes the FIFO bits of IIR, the scratch register and loopback
 * through MSR) and the reference guest.
 *
 * Transmission is instantaneous: every byte the guest writes to THR goes
 * straight to the tx callback and THR is empty again at once. Reception is
 * flow-controlled instead of lossy: bytes from the host wait in an internal
 * buffer (VMM_UART_RX_BUFFER) and move into the 16-byte RX FIFO as the
 * guest drains it, so nothing overruns; when the buffer is full
 * vmm_uart_receive() takes fewer bytes and the caller retries later.
 *
 * The interrupt line is driven high while IIR reports a pending interrupt,
 * as QEMU does it: MCR.OUT2 does not gate it (on real PCs it does; guests
 * that skip OUT2 still get interrupts here). A receive-data interrupt is
 * raised as soon as data is in the FIFO: when it holds fewer bytes than the
 * trigger level, IIR reports a character timeout right away rather than
 * after four character times.
 */
#ifndef VDI_VMM_DEVICES_UART_H
#define VDI_VMM_DEVICES_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define VMM_UART_FIFO 16
/* Host bytes buffered behind the RX FIFO. */
#define VMM_UART_RX_BUFFER 4096

struct vmm_uart;

/* Bytes the guest transmitted; called on the vCPU thread, without the uart lock held. */
typedef void (*vmm_uart_tx_fn)(void *opaque, const uint8_t *buf, size_t len);

/*
 * A UART at I/O ports @base..@base+7 on @bus, interrupting on @irq. @tx
 * (may be NULL: output is dropped) gets what the guest sends, in order;
 * calls for one UART never overlap. Returns 0 and the UART in *@ret,
 * -ENOMEM, or the error of vmm_bus_register() (-EEXIST: ports taken).
 * Before the guest runs.
 */
int vmm_uart_new(struct vmm_bus *bus, uint16_t base, struct vmm_irq_line irq, vmm_uart_tx_fn tx,
                 void *opaque, struct vmm_uart **ret);

/*
 * Host to guest: queue up to @len bytes of @buf. Returns how many were
 * taken (0 when the buffer is full; retry later). Thread-safe.
 */
size_t vmm_uart_receive(struct vmm_uart *u, const uint8_t *buf, size_t len);

/* True when vmm_uart_receive() would take at least one byte. Thread-safe. */
bool vmm_uart_can_receive(struct vmm_uart *u);

/* Power-on state: registers reset, buffered input dropped. Any thread. */
void vmm_uart_reset(struct vmm_uart *u);

/* Unregister from the bus and free (vCPUs stopped); NULL is a no-op. */
void vmm_uart_free(struct vmm_uart *u);

#endif
