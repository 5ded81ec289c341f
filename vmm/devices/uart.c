// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/uart.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"

/* Register offsets (DLAB selects the divisor latch at 0 and 1). */
#define UART_RBR 0 /* read */
#define UART_THR 0 /* write */
#define UART_IER 1
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_NR_PORTS 8

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI 0x08  /* modem status */
#define IER_MASK 0x0f

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_CTI 0x0c /* character timeout */
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE 0x01
#define FCR_CLEAR_RCVR 0x02
#define FCR_CLEAR_XMIT 0x04
#define FCR_DMA_SELECT 0x08
#define FCR_TRIGGER_MASK 0xc0

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_DELTAS 0x0f

/* 115200 / 12: 9600 baud, what a PC BIOS leaves behind. */
#define DEFAULT_DIVISOR 12

struct vmm_uart {
	pthread_mutex_t lock; /* guards everything below but tx */
	/* Held across a THR write and its tx call, so output stays in order. */
	pthread_mutex_t tx_lock;
	struct vmm_bus *bus;
	uint16_t base;
	struct vmm_irq_line irq;
	vmm_uart_tx_fn tx;
	void *opaque;

	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t lsr_errors; /* OE and friends until LSR is read; DR/THRE/TEMT are computed */
	uint8_t msr;
	uint16_t divisor;
	uint8_t last_rx; /* what RBR reads when the FIFO is empty */
	bool thr_ipending;
	bool irq_level;

	uint8_t fifo[VMM_UART_FIFO];
	unsigned int fifo_head, fifo_count;
	uint8_t buf[VMM_UART_RX_BUFFER];
	unsigned int buf_head, buf_count;
};

static unsigned int fifo_trigger(const struct vmm_uart *u)
{
	static const unsigned int level[4] = { 1, 4, 8, 14 };

	return level[(u->fcr & FCR_TRIGGER_MASK) >> 6];
}

static unsigned int fifo_capacity(const struct vmm_uart *u)
{
	/* With the FIFO off, a single receive holding register. */
	return (u->fcr & FCR_ENABLE) ? VMM_UART_FIFO : 1;
}

static uint8_t compute_iir(const struct vmm_uart *u)
{
	if ((u->ier & IER_RLSI) && (u->lsr_errors & LSR_ERRORS))
		return IIR_RLSI;
	if ((u->ier & IER_RDI) && u->fifo_count) {
		/* Below the trigger level: a timeout, at once rather than 4 characters later. */
		if ((u->fcr & FCR_ENABLE) && u->fifo_count < fifo_trigger(u))
			return IIR_CTI;
		return IIR_RDI;
	}
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Drive the line from IIR. Lock held. */
static void update_irq(struct vmm_uart *u)
{
	bool level = !(compute_iir(u) & IIR_NO_INT);

	if (level != u->irq_level) {
		u->irq_level = level;
		vmm_irq_set(&u->irq, level);
	}
}

static void fifo_push(struct vmm_uart *u, uint8_t b)
{
	u->fifo[(u->fifo_head + u->fifo_count) % VMM_UART_FIFO] = b;
	u->fifo_count++;
}

/* Move buffered host bytes into the FIFO; the wire is cut in loopback. Lock held. */
static void refill(struct vmm_uart *u)
{
	if (u->mcr & MCR_LOOP)
		return;
	while (u->buf_count && u->fifo_count < fifo_capacity(u)) {
		fifo_push(u, u->buf[u->buf_head]);
		u->buf_head = (u->buf_head + 1) % VMM_UART_RX_BUFFER;
		u->buf_count--;
	}
}

/* Modem status inputs: wired to MCR outputs in loopback, a connected modem otherwise. */
static void update_msr(struct vmm_uart *u)
{
	uint8_t old = u->msr & 0xf0, now, delta = 0;

	if (u->mcr & MCR_LOOP) {
		now = (u->mcr & MCR_RTS ? MSR_CTS : 0) | (u->mcr & MCR_DTR ? MSR_DSR : 0) |
		      (u->mcr & MCR_OUT1 ? MSR_RI : 0) | (u->mcr & MCR_OUT2 ? MSR_DCD : 0);
	} else {
		now = MSR_CTS | MSR_DSR | MSR_DCD;
	}
	if ((old ^ now) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ now) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		delta |= MSR_TERI;
	if ((old ^ now) & MSR_DCD)
		delta |= MSR_DDCD;
	u->msr = (uint8_t)(now | (u->msr & MSR_DELTAS) | delta);
}

static void clear_rx_fifo(struct vmm_uart *u)
{
	u->fifo_head = u->fifo_count = 0;
}

static void write_fcr(struct vmm_uart *u, uint8_t val)
{
	/* Switching the FIFOs on or off empties them. */
	if ((val ^ u->fcr) & FCR_ENABLE)
		clear_rx_fifo(u);
	if (!(val & FCR_ENABLE)) {
		u->fcr = 0;
	} else {
		if (val & FCR_CLEAR_RCVR)
			clear_rx_fifo(u);
		/* The TX FIFO is always empty: nothing to clear. */
		u->fcr = val & (FCR_ENABLE | FCR_DMA_SELECT | FCR_TRIGGER_MASK);
	}
	refill(u);
}

/*
 * One register write. A byte for the wire is returned in *@txb (true
 * returned) for the caller to send once the lock is dropped. Lock held.
 */
static bool reg_write(struct vmm_uart *u, unsigned int reg, uint8_t val, uint8_t *txb)
{
	bool send = false;

	switch (reg) {
	case UART_THR:
		if (u->lcr & LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0xff00) | val);
			break;
		}
		if (u->mcr & MCR_LOOP) {
			if (u->fifo_count < fifo_capacity(u))
				fifo_push(u, val);
			else
				u->lsr_errors |= LSR_OE;
		} else {
			*txb = val;
			send = true;
		}
		/* The byte left at once: THR is empty again. */
		u->thr_ipending = true;
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | val << 8);
			break;
		}
		/* Enabling THRI while THR is empty interrupts at once; Linux tests for it. */
		if ((u->ier ^ val) & IER_THRI)
			u->thr_ipending = val & IER_THRI;
		u->ier = val & IER_MASK;
		break;
	case UART_FCR:
		write_fcr(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & MCR_MASK;
		update_msr(u);
		refill(u);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Read-only (factory test writes on some parts): ignored. */
		break;
	case UART_SCR:
		u->scr = val;
		break;
	}
	return send;
}

static uint8_t reg_read(struct vmm_uart *u, unsigned int reg)
{
	uint8_t v = 0xff;

	switch (reg) {
	case UART_RBR:
		if (u->lcr & LCR_DLAB) {
			v = (uint8_t)u->divisor;
			break;
		}
		if (u->fifo_count) {
			u->last_rx = u->fifo[u->fifo_head];
			u->fifo_head = (u->fifo_head + 1) % VMM_UART_FIFO;
			u->fifo_count--;
			refill(u);
		}
		v = u->last_rx;
		break;
	case UART_IER:
		v = (u->lcr & LCR_DLAB) ? (uint8_t)(u->divisor >> 8) : u->ier;
		break;
	case UART_IIR:
		v = compute_iir(u);
		/* Reading IIR while it reports THRE acknowledges that interrupt. */
		if (v == IIR_THRI)
			u->thr_ipending = false;
		if (u->fcr & FCR_ENABLE)
			v |= IIR_FIFO_ENABLED;
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = (uint8_t)(u->lsr_errors | LSR_THRE | LSR_TEMT | (u->fifo_count ? LSR_DR : 0));
		u->lsr_errors = 0;
		break;
	case UART_MSR:
		v = u->msr;
		u->msr &= (uint8_t)~MSR_DELTAS;
		break;
	case UART_SCR:
		v = u->scr;
		break;
	}
	return v;
}

/* Registers are bytes; a wider access touches consecutive registers in order. */
static void uart_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_uart *u = opaque;
	uint8_t *p = data, out[UART_NR_PORTS];
	size_t nout = 0;

	if (offset >= UART_NR_PORTS || size > UART_NR_PORTS - offset)
		return;
	if (!is_write) {
		pthread_mutex_lock(&u->lock);
		for (unsigned int i = 0; i < size; i++)
			p[i] = reg_read(u, (unsigned int)offset + i);
		update_irq(u);
		pthread_mutex_unlock(&u->lock);
		return;
	}
	pthread_mutex_lock(&u->tx_lock);
	pthread_mutex_lock(&u->lock);
	for (unsigned int i = 0; i < size; i++)
		if (reg_write(u, (unsigned int)offset + i, p[i], &out[nout]))
			nout++;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	if (nout && u->tx)
		u->tx(u->opaque, out, nout);
	pthread_mutex_unlock(&u->tx_lock);
}

static void reset_locked(struct vmm_uart *u)
{
	u->ier = u->lcr = u->mcr = u->scr = u->fcr = 0;
	u->lsr_errors = 0;
	u->msr = 0;
	update_msr(u);
	u->msr &= (uint8_t)~MSR_DELTAS;
	u->divisor = DEFAULT_DIVISOR;
	u->last_rx = 0;
	u->thr_ipending = false;
	clear_rx_fifo(u);
	u->buf_head = u->buf_count = 0;
	update_irq(u);
}

int vmm_uart_new(struct vmm_bus *bus, uint16_t base, struct vmm_irq_line irq, vmm_uart_tx_fn tx,
                 void *opaque, struct vmm_uart **ret)
{
	struct vmm_uart *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	pthread_mutex_init(&u->lock, NULL);
	pthread_mutex_init(&u->tx_lock, NULL);
	u->bus = bus;
	u->base = base;
	u->irq = irq;
	u->tx = tx;
	u->opaque = opaque;
	reset_locked(u);
	r = vmm_bus_register(bus, VMM_BUS_PIO, base, UART_NR_PORTS, uart_io, u, "uart");
	if (r < 0)
		goto out_free;
	*ret = u;
	return 0;

out_free:
	pthread_mutex_destroy(&u->tx_lock);
	pthread_mutex_destroy(&u->lock);
	free(u);
	return r;
}

size_t vmm_uart_receive(struct vmm_uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	while (n < len) {
		if (u->buf_count == VMM_UART_RX_BUFFER) {
			refill(u);
			if (u->buf_count == VMM_UART_RX_BUFFER)
				break;
		}
		u->buf[(u->buf_head + u->buf_count) % VMM_UART_RX_BUFFER] = buf[n++];
		u->buf_count++;
	}
	refill(u);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

bool vmm_uart_can_receive(struct vmm_uart *u)
{
	bool ok;

	pthread_mutex_lock(&u->lock);
	ok = u->buf_count < VMM_UART_RX_BUFFER;
	pthread_mutex_unlock(&u->lock);
	return ok;
}

void vmm_uart_reset(struct vmm_uart *u)
{
	pthread_mutex_lock(&u->lock);
	reset_locked(u);
	pthread_mutex_unlock(&u->lock);
}

void vmm_uart_free(struct vmm_uart *u)
{
	if (!u)
		return;
	vmm_bus_unregister(u->bus, VMM_BUS_PIO, u->base, u);
	if (u->irq_level)
		vmm_irq_set(&u->irq, 0);
	pthread_mutex_destroy(&u->tx_lock);
	pthread_mutex_destroy(&u->lock);
	free(u);
}
