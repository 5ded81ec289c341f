// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/virtio_pci.h"

#include <errno.h>
#include <string.h>

#include "proto/log.h"

#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_CAP_LEN 16
#define VIRTIO_NOTIFY_CAP_LEN 20
#define VIRTIO_PCI_CFG_CAP_LEN 20
/* Fields of a virtio_pci_cap, relative to the capability. */
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_PCI_CFG_DATA 16

/* Registers of the common configuration, to split odd-sized accesses by field. */
static const struct {
	uint8_t off, size;
} common_fields[] = {
	{ VMM_VIRTIO_PCI_DFSELECT, 4 },     { VMM_VIRTIO_PCI_DF, 4 },
	{ VMM_VIRTIO_PCI_GFSELECT, 4 },     { VMM_VIRTIO_PCI_GF, 4 },
	{ VMM_VIRTIO_PCI_MSIX_CONFIG, 2 },  { VMM_VIRTIO_PCI_NUM_QUEUES, 2 },
	{ VMM_VIRTIO_PCI_STATUS, 1 },       { VMM_VIRTIO_PCI_CFG_GENERATION, 1 },
	{ VMM_VIRTIO_PCI_Q_SELECT, 2 },     { VMM_VIRTIO_PCI_Q_SIZE, 2 },
	{ VMM_VIRTIO_PCI_Q_MSIX, 2 },       { VMM_VIRTIO_PCI_Q_ENABLE, 2 },
	{ VMM_VIRTIO_PCI_Q_NOFF, 2 },       { VMM_VIRTIO_PCI_Q_DESC, 4 },
	{ VMM_VIRTIO_PCI_Q_DESC + 4, 4 },   { VMM_VIRTIO_PCI_Q_DRIVER, 4 },
	{ VMM_VIRTIO_PCI_Q_DRIVER + 4, 4 }, { VMM_VIRTIO_PCI_Q_DEVICE, 4 },
	{ VMM_VIRTIO_PCI_Q_DEVICE + 4, 4 },
};

static uint64_t device_features(const struct vmm_virtio_pci *vp)
{
	uint64_t f = 1ULL << VMM_VIRTIO_F_VERSION_1;

	if (vp->ops->get_features)
		f |= vp->ops->get_features(vp->backend);
	return f;
}

static bool running(const struct vmm_virtio_pci *vp)
{
	return (vp->status & (VMM_VIRTIO_STATUS_DRIVER_OK | VMM_VIRTIO_STATUS_NEEDS_RESET)) ==
	       VMM_VIRTIO_STATUS_DRIVER_OK;
}

/*
 * Drive INTA# from the ISR: asserted while any ISR bit is pending, unless
 * the driver masked INTx in the command register. The PCI bus writes the
 * command register under its own lock, which we must not take here (lock
 * order), so it is read with a single atomic load. The interrupt status bit
 * is ours alone to change.
 */
static void update_irq(struct vmm_virtio_pci *vp)
{
	uint8_t cmd_hi = __atomic_load_n(&vp->pci.cfg[PCI_COMMAND + 1], __ATOMIC_RELAXED);
	bool pending = vp->isr != 0;
	bool level = pending && !(cmd_hi & (PCI_COMMAND_INTX_DISABLE >> 8));

	if (pending)
		__atomic_fetch_or(&vp->pci.cfg[PCI_STATUS], PCI_STATUS_INTERRUPT, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&vp->pci.cfg[PCI_STATUS], (uint8_t)~PCI_STATUS_INTERRUPT,
		                   __ATOMIC_RELAXED);
	if (level != vp->irq_level) {
		vp->irq_level = level;
		vmm_irq_set(&vp->pci.irq, level);
	}
}

static void raise_isr(struct vmm_virtio_pci *vp, uint8_t bits)
{
	vp->isr |= bits;
	update_irq(vp);
}

static void device_reset(struct vmm_virtio_pci *vp)
{
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		struct vmm_virtio_pci_queue *q = &vp->queue[i];

		q->enabled = false;
		q->size = q->max_size;
		q->desc = q->driver = q->device = 0;
		vmm_vq_reset(&q->vq);
	}
	if (vp->ops->reset)
		vp->ops->reset(vp->backend);
	vp->status = 0;
	vp->features = vp->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
	vp->isr = 0;
	update_irq(vp);
}

static void write_status(struct vmm_virtio_pci *vp, uint8_t val)
{
	uint8_t old = vp->status;

	if (!val) {
		device_reset(vp);
		return;
	}
	if ((val & VMM_VIRTIO_STATUS_FEATURES_OK) && !(old & VMM_VIRTIO_STATUS_FEATURES_OK)) {
		uint64_t f = vp->driver_features;
		bool ok = !(f & ~device_features(vp)) && (f & (1ULL << VMM_VIRTIO_F_VERSION_1));

		if (ok && vp->ops->set_features && vp->ops->set_features(vp->backend, f) < 0)
			ok = false;
		if (ok) {
			vp->features = f;
		} else {
			log_debug("dev=%s driver features 0x%llx refused", vp->name,
			          (unsigned long long)f);
			val &= (uint8_t)~VMM_VIRTIO_STATUS_FEATURES_OK;
		}
	}
	/* DEVICE_NEEDS_RESET is the device's to set; only a reset clears it. */
	vp->status = (uint8_t)(val | (old & VMM_VIRTIO_STATUS_NEEDS_RESET));
	if (!(old & VMM_VIRTIO_STATUS_DRIVER_OK) && running(vp)) {
		/* Buffers a driver queued before DRIVER_OK were left for now. */
		for (unsigned int i = 0; i < vp->nr_queues && running(vp); i++)
			if (vp->queue[i].enabled && vp->ops->queue_notify)
				vp->ops->queue_notify(vp->backend, i);
	}
}

static struct vmm_virtio_pci_queue *selected_queue(struct vmm_virtio_pci *vp)
{
	return vp->queue_select < vp->nr_queues ? &vp->queue[vp->queue_select] : NULL;
}

static uint32_t common_field_read(struct vmm_virtio_pci *vp, unsigned int off)
{
	struct vmm_virtio_pci_queue *q = selected_queue(vp);

	switch (off) {
	case VMM_VIRTIO_PCI_DFSELECT:
		return vp->dfselect;
	case VMM_VIRTIO_PCI_DF:
		return vp->dfselect < 2 ? (uint32_t)(device_features(vp) >> (32 * vp->dfselect))
		                        : 0;
	case VMM_VIRTIO_PCI_GFSELECT:
		return vp->gfselect;
	case VMM_VIRTIO_PCI_GF:
		return vp->gfselect < 2 ? (uint32_t)(vp->driver_features >> (32 * vp->gfselect))
		                        : 0;
	case VMM_VIRTIO_PCI_MSIX_CONFIG:
		return VMM_VIRTIO_NO_VECTOR;
	case VMM_VIRTIO_PCI_NUM_QUEUES:
		return vp->nr_queues;
	case VMM_VIRTIO_PCI_STATUS:
		return vp->status;
	case VMM_VIRTIO_PCI_CFG_GENERATION:
		return vp->config_generation;
	case VMM_VIRTIO_PCI_Q_SELECT:
		return vp->queue_select;
	}
	if (!q)
		return 0;
	switch (off) {
	case VMM_VIRTIO_PCI_Q_SIZE:
		return q->size;
	case VMM_VIRTIO_PCI_Q_MSIX:
		return VMM_VIRTIO_NO_VECTOR;
	case VMM_VIRTIO_PCI_Q_ENABLE:
		return q->enabled;
	case VMM_VIRTIO_PCI_Q_NOFF:
		return vp->queue_select;
	case VMM_VIRTIO_PCI_Q_DESC:
	case VMM_VIRTIO_PCI_Q_DESC + 4:
		return (uint32_t)(q->desc >> (off & 4 ? 32 : 0));
	case VMM_VIRTIO_PCI_Q_DRIVER:
	case VMM_VIRTIO_PCI_Q_DRIVER + 4:
		return (uint32_t)(q->driver >> (off & 4 ? 32 : 0));
	case VMM_VIRTIO_PCI_Q_DEVICE:
	case VMM_VIRTIO_PCI_Q_DEVICE + 4:
		return (uint32_t)(q->device >> (off & 4 ? 32 : 0));
	}
	return 0;
}

static void set_half(uint64_t *v, unsigned int off, uint32_t val)
{
	if (off & 4)
		*v = (*v & 0xffffffffULL) | (uint64_t)val << 32;
	else
		*v = (*v & ~0xffffffffULL) | val;
}

static void queue_enable(struct vmm_virtio_pci *vp, struct vmm_virtio_pci_queue *q)
{
	uint64_t f = vp->features;

	q->enabled = true;
	/* A failed setup marks the queue broken, which asks the driver for a reset. */
	vmm_vq_setup(&q->vq, q->size, q->desc, q->driver, q->device,
	             f & (1ULL << VMM_VIRTIO_F_EVENT_IDX),
	             f & (1ULL << VMM_VIRTIO_F_INDIRECT_DESC));
}

static void common_field_write(struct vmm_virtio_pci *vp, unsigned int off, uint32_t val)
{
	struct vmm_virtio_pci_queue *q = selected_queue(vp);

	switch (off) {
	case VMM_VIRTIO_PCI_DFSELECT:
		vp->dfselect = val;
		return;
	case VMM_VIRTIO_PCI_GFSELECT:
		vp->gfselect = val;
		return;
	case VMM_VIRTIO_PCI_GF:
		/* Features are fixed once accepted. */
		if (vp->gfselect < 2 && !(vp->status & VMM_VIRTIO_STATUS_FEATURES_OK))
			set_half(&vp->driver_features, vp->gfselect ? 4 : 0, val);
		return;
	case VMM_VIRTIO_PCI_STATUS:
		write_status(vp, (uint8_t)val);
		return;
	case VMM_VIRTIO_PCI_Q_SELECT:
		vp->queue_select = (uint16_t)val;
		return;
	}
	/* A queue's configuration is frozen while it is enabled. */
	if (!q || q->enabled)
		return;
	switch (off) {
	case VMM_VIRTIO_PCI_Q_SIZE:
		if (val && !(val & (val - 1)) && val <= q->max_size)
			q->size = (uint16_t)val;
		else
			log_debug("dev=%s vq=%u queue size %u refused", vp->name, vp->queue_select,
			          val);
		return;
	case VMM_VIRTIO_PCI_Q_ENABLE:
		/* Writing 0 is not allowed to a driver without VIRTIO_F_RING_RESET. */
		if (val == 1)
			queue_enable(vp, q);
		return;
	case VMM_VIRTIO_PCI_Q_DESC:
	case VMM_VIRTIO_PCI_Q_DESC + 4:
		set_half(&q->desc, off, val);
		return;
	case VMM_VIRTIO_PCI_Q_DRIVER:
	case VMM_VIRTIO_PCI_Q_DRIVER + 4:
		set_half(&q->driver, off, val);
		return;
	case VMM_VIRTIO_PCI_Q_DEVICE:
	case VMM_VIRTIO_PCI_Q_DEVICE + 4:
		set_half(&q->device, off, val);
		return;
	}
	/* MSI-X vectors, read-only fields: ignored. */
}

/*
 * The spec has drivers use each field's natural width; other widths are
 * handled byte by byte, a write becoming a read-modify-write of each field
 * it touches.
 */
static void common_access(struct vmm_virtio_pci *vp, unsigned int off, uint8_t *data,
                          unsigned int size, bool is_write)
{
	for (size_t i = 0; i < sizeof(common_fields) / sizeof(common_fields[0]); i++) {
		unsigned int fo = common_fields[i].off, fs = common_fields[i].size;
		uint32_t v;

		if (fo + fs <= off || fo >= off + size)
			continue;
		v = common_field_read(vp, fo);
		for (unsigned int b = 0; b < fs; b++) {
			unsigned int o = fo + b;

			if (o < off || o >= off + size)
				continue;
			if (is_write) {
				v &= ~(0xffu << (8 * b));
				v |= (uint32_t)data[o - off] << (8 * b);
			} else {
				data[o - off] = (uint8_t)(v >> (8 * b));
			}
		}
		if (is_write)
			common_field_write(vp, fo, v);
	}
}

static void isr_access(struct vmm_virtio_pci *vp, unsigned int off, uint8_t *data, bool is_write)
{
	/* Reading acknowledges: the line drops until the next event. */
	if (off || is_write)
		return;
	data[0] = vp->isr;
	vp->isr = 0;
	update_irq(vp);
}

static void device_cfg_access(struct vmm_virtio_pci *vp, unsigned int off, uint8_t *data,
                              unsigned int size, bool is_write)
{
	if (off + size > vp->ops->config_size)
		return;
	if (is_write) {
		if (vp->ops->config_write)
			vp->ops->config_write(vp->backend, off, data, size);
	} else if (vp->ops->config_read) {
		vp->ops->config_read(vp->backend, off, data, size);
	}
}

static void notify_access(struct vmm_virtio_pci *vp, unsigned int off, bool is_write)
{
	unsigned int qidx = off / VMM_VIRTIO_PCI_NOTIFY_MULT;

	if (!is_write || qidx >= vp->nr_queues)
		return;
	/* Before DRIVER_OK the buffers wait; the DRIVER_OK transition looks at them. */
	if (vp->queue[qidx].enabled && running(vp) && vp->ops->queue_notify)
		vp->ops->queue_notify(vp->backend, qidx);
}

static void bar_access(struct vmm_virtio_pci *vp, uint64_t offset, uint8_t *data, unsigned int size,
                       bool is_write)
{
	unsigned int off;

	if (!is_write)
		memset(data, 0, size);
	if (size != 1 && size != 2 && size != 4)
		return;
	if (offset >= VMM_VIRTIO_PCI_BAR_SIZE || offset + size > VMM_VIRTIO_PCI_BAR_SIZE)
		return;
	off = (unsigned int)offset;
	pthread_mutex_lock(&vp->lock);
	if (off < VMM_VIRTIO_PCI_ISR_OFF)
		common_access(vp, off, data, size, is_write);
	else if (off < VMM_VIRTIO_PCI_DEVICE_OFF)
		isr_access(vp, off - VMM_VIRTIO_PCI_ISR_OFF, data, is_write);
	else if (off < VMM_VIRTIO_PCI_NOTIFY_OFF)
		device_cfg_access(vp, off - VMM_VIRTIO_PCI_DEVICE_OFF, data, size, is_write);
	else
		notify_access(vp, off - VMM_VIRTIO_PCI_NOTIFY_OFF, is_write);
	/* Also catches a change of the INTx disable bit since the last access. */
	update_irq(vp);
	pthread_mutex_unlock(&vp->lock);
}

void vmm_virtio_pci_bar_io(void *opaque, uint64_t offset, void *data, unsigned int size,
                           bool is_write)
{
	struct vmm_virtio_pci *vp = opaque;

	if (size == 8) {
		bar_access(vp, offset, data, 4, is_write);
		bar_access(vp, offset + 4, (uint8_t *)data + 4, 4, is_write);
		return;
	}
	bar_access(vp, offset, data, size, is_write);
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG: the driver picks bar/offset/length in the
 * capability, then reading or writing pci_cfg_data makes the access.
 * These hooks run under the PCI bus lock; bar_access() takes vp->lock
 * after it, the documented order.
 */
static bool window_hit(const struct vmm_virtio_pci *vp, unsigned int off, unsigned int size,
                       uint32_t *ret_off, unsigned int *ret_len)
{
	const struct vmm_pci_dev *d = &vp->pci;
	unsigned int data = vp->pci_cfg_cap + CAP_PCI_CFG_DATA;
	uint32_t bar_off, len;

	if (!vp->pci_cfg_cap || off >= data + 4 || off + size <= data)
		return false;
	bar_off = vmm_pci_cfg_get32(d, vp->pci_cfg_cap + CAP_OFFSET);
	len = vmm_pci_cfg_get32(d, vp->pci_cfg_cap + CAP_LENGTH);
	if (vmm_pci_cfg_get8(d, vp->pci_cfg_cap + CAP_BAR) != VMM_VIRTIO_PCI_BAR ||
	    (len != 1 && len != 2 && len != 4) || bar_off % len ||
	    bar_off > VMM_VIRTIO_PCI_BAR_SIZE - len)
		return false;
	*ret_off = bar_off;
	*ret_len = len;
	return true;
}

static void cfg_read_hook(struct vmm_pci_dev *d, unsigned int off, unsigned int size)
{
	struct vmm_virtio_pci *vp = d->opaque;
	uint32_t bar_off;
	unsigned int len;

	if (window_hit(vp, off, size, &bar_off, &len))
		bar_access(vp, bar_off, &d->cfg[vp->pci_cfg_cap + CAP_PCI_CFG_DATA], len, false);
}

static void cfg_write_hook(struct vmm_pci_dev *d, unsigned int off, unsigned int size)
{
	struct vmm_virtio_pci *vp = d->opaque;
	uint32_t bar_off;
	unsigned int len;

	if (window_hit(vp, off, size, &bar_off, &len)) {
		bar_access(vp, bar_off, &d->cfg[vp->pci_cfg_cap + CAP_PCI_CFG_DATA], len, true);
		return;
	}
	/* Only reached if the PCI bus reports command writes; keeps INTx masking exact. */
	if (off < PCI_COMMAND + 2 && off + size > PCI_COMMAND) {
		pthread_mutex_lock(&vp->lock);
		update_irq(vp);
		pthread_mutex_unlock(&vp->lock);
	}
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int add_virtio_cap(struct vmm_virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
                          unsigned int cap_len, uint32_t extra, const uint8_t *wmask)
{
	uint8_t cap[VIRTIO_PCI_CFG_CAP_LEN] = { 0 };

	cap[0] = PCI_CAP_ID_VNDR;
	cap[2] = (uint8_t)cap_len;
	cap[3] = type;
	cap[CAP_BAR] = VMM_VIRTIO_PCI_BAR;
	put32(&cap[CAP_OFFSET], off);
	put32(&cap[CAP_LENGTH], len);
	if (cap_len > VIRTIO_CAP_LEN)
		put32(&cap[VIRTIO_CAP_LEN], extra);
	return vmm_pci_dev_add_cap(&vp->pci, cap, cap_len, wmask);
}

/* The five virtio capabilities; returns the window's config offset or -errno. */
static int add_caps(struct vmm_virtio_pci *vp)
{
	const struct {
		uint8_t type;
		uint32_t off, len;
		unsigned int cap_len;
		uint32_t extra;
	} caps[] = {
		{ VMM_VIRTIO_PCI_CAP_COMMON_CFG, VMM_VIRTIO_PCI_COMMON_OFF,
		  VMM_VIRTIO_PCI_COMMON_LEN, VIRTIO_CAP_LEN, 0 },
		{ VMM_VIRTIO_PCI_CAP_ISR_CFG, VMM_VIRTIO_PCI_ISR_OFF, 1, VIRTIO_CAP_LEN, 0 },
		{ VMM_VIRTIO_PCI_CAP_DEVICE_CFG, VMM_VIRTIO_PCI_DEVICE_OFF,
		  vp->ops->config_size ? vp->ops->config_size : 1, VIRTIO_CAP_LEN, 0 },
		{ VMM_VIRTIO_PCI_CAP_NOTIFY_CFG, VMM_VIRTIO_PCI_NOTIFY_OFF,
		  vp->nr_queues * VMM_VIRTIO_PCI_NOTIFY_MULT, VIRTIO_NOTIFY_CAP_LEN,
		  VMM_VIRTIO_PCI_NOTIFY_MULT },
		/* Last: its offset is the config window's. */
		{ VMM_VIRTIO_PCI_CAP_PCI_CFG, 0, 0, VIRTIO_PCI_CFG_CAP_LEN, 0 },
	};
	uint8_t window_mask[VIRTIO_PCI_CFG_CAP_LEN] = { 0 };
	int r = -ENOSPC;

	/* bar, offset, length and data of the window are the driver's to write. */
	memset(&window_mask[CAP_BAR], 0xff, 1);
	memset(&window_mask[CAP_OFFSET], 0xff, 4 + 4 + 4);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		r = add_virtio_cap(vp, caps[i].type, caps[i].off, caps[i].len, caps[i].cap_len,
		                   caps[i].extra,
		                   caps[i].type == VMM_VIRTIO_PCI_CAP_PCI_CFG ? window_mask : NULL);
		if (r < 0)
			return r;
	}
	return r;
}

static void vq_broken(void *opaque)
{
	vmm_virtio_pci_set_needs_reset(opaque);
}

int vmm_virtio_pci_init(struct vmm_virtio_pci *vp, const char *name, unsigned int device_id,
                        uint32_t class_code, const struct vmm_virtio_ops *ops, void *backend,
                        const struct vmm_mem *mem, unsigned int nr_queues)
{
	uint16_t pci_id = (uint16_t)(VMM_VIRTIO_PCI_DEVICE_BASE + device_id);
	int r;

	if (!ops || !mem || !nr_queues || nr_queues > VMM_VIRTIO_PCI_MAX_QUEUES ||
	    ops->config_size > VMM_VIRTIO_PCI_DEVICE_MAX || device_id > 0xff)
		return -EINVAL;
	memset(vp, 0, sizeof(*vp));
	vp->name = name;
	vp->device_id = device_id;
	vp->ops = ops;
	vp->backend = backend;
	vp->mem = mem;
	vp->nr_queues = nr_queues;
	vmm_pci_dev_init(&vp->pci, name, VMM_VIRTIO_PCI_VENDOR, pci_id, class_code, 1,
	                 VMM_VIRTIO_PCI_VENDOR, pci_id);
	vp->pci.opaque = vp;
	vp->pci.cfg_read = cfg_read_hook;
	vp->pci.cfg_write = cfg_write_hook;
	vmm_pci_dev_set_bar(&vp->pci, VMM_VIRTIO_PCI_BAR, VMM_VIRTIO_PCI_BAR_SIZE,
	                    VMM_PCI_BAR_MEM64, vmm_virtio_pci_bar_io, vp);

	r = add_caps(vp);
	if (r < 0)
		return r;
	vp->pci_cfg_cap = (unsigned int)r;

	for (unsigned int i = 0; i < nr_queues; i++) {
		struct vmm_virtio_pci_queue *q = &vp->queue[i];

		q->max_size = q->size = VMM_VIRTIO_PCI_DEFAULT_QUEUE_SIZE;
		vmm_vq_init(&q->vq, mem, name, i, vq_broken, vp);
	}
	pthread_mutex_init(&vp->lock, NULL);
	return 0;
}

void vmm_virtio_pci_exit(struct vmm_virtio_pci *vp)
{
	if (vp->irq_level)
		vmm_irq_set(&vp->pci.irq, 0);
	vp->irq_level = false;
	pthread_mutex_destroy(&vp->lock);
}

int vmm_virtio_pci_set_queue_max(struct vmm_virtio_pci *vp, unsigned int qidx, unsigned int size)
{
	if (qidx >= vp->nr_queues || !size || (size & (size - 1)) || size > VMM_VQ_MAX_SIZE)
		return -EINVAL;
	vp->queue[qidx].max_size = vp->queue[qidx].size = (uint16_t)size;
	return 0;
}

void vmm_virtio_pci_lock(struct vmm_virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
}

void vmm_virtio_pci_unlock(struct vmm_virtio_pci *vp)
{
	pthread_mutex_unlock(&vp->lock);
}

struct vmm_vq *vmm_virtio_pci_queue(struct vmm_virtio_pci *vp, unsigned int qidx)
{
	struct vmm_virtio_pci_queue *q;

	if (qidx >= vp->nr_queues || !running(vp))
		return NULL;
	q = &vp->queue[qidx];
	return q->enabled && q->vq.ready && !q->vq.broken ? &q->vq : NULL;
}

void vmm_virtio_pci_signal_used(struct vmm_virtio_pci *vp, unsigned int qidx)
{
	if (qidx >= vp->nr_queues || !running(vp))
		return;
	if (vmm_vq_should_notify(&vp->queue[qidx].vq))
		raise_isr(vp, VMM_VIRTIO_ISR_QUEUE);
}

void vmm_virtio_pci_config_changed(struct vmm_virtio_pci *vp)
{
	vp->config_generation++;
	if (vp->status & VMM_VIRTIO_STATUS_DRIVER_OK)
		raise_isr(vp, VMM_VIRTIO_ISR_CONFIG);
}

void vmm_virtio_pci_set_needs_reset(struct vmm_virtio_pci *vp)
{
	if (vp->status & VMM_VIRTIO_STATUS_NEEDS_RESET)
		return;
	vp->status |= VMM_VIRTIO_STATUS_NEEDS_RESET;
	log_debug("dev=%s device needs reset", vp->name);
	if (vp->status & VMM_VIRTIO_STATUS_DRIVER_OK)
		raise_isr(vp, VMM_VIRTIO_ISR_CONFIG);
}

bool vmm_virtio_pci_driver_ok(const struct vmm_virtio_pci *vp)
{
	return running(vp);
}

void vmm_virtio_pci_reset(struct vmm_virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
	device_reset(vp);
	pthread_mutex_unlock(&vp->lock);
}
