// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devices/virtio_pci.h"

#define RAM_GPA 0x100000ULL
#define RAM_SIZE (1u << 20)
#define QSIZE 8
#define DESC_GPA (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x1000)
#define USED_GPA (RAM_GPA + 0x2000)
#define BUF_GPA (RAM_GPA + 0x10000)
#define GSI 11
#define F_TEST_A (1ULL << 0)
#define F_TEST_B (1ULL << 40)

/* The guest's view: RAM and the PCI bus, and a dummy backend with two queues. */
struct fixture {
	uint8_t *ram;
	struct vmm_mem mem;
	struct vmm_bus bus;
	struct vmm_pci_bus pci;
	struct vmm_irq_chip chip;
	int level, raises;
	struct vmm_virtio_pci vp;
	int slot;
	uint64_t bar;
	unsigned int cap[6]; /* config offset of each virtio cap type */
	/* backend */
	uint64_t accepted;
	bool refuse_features;
	int notifies[2], resets;
	uint8_t config[8];
	struct vmm_vq_chain chain;
	uint16_t avail_idx;
};

static void set_level(void *opaque, unsigned int gsi, int level)
{
	struct fixture *f = opaque;

	ck_assert_uint_eq(gsi, GSI);
	if (level && !f->level)
		f->raises++;
	f->level = level;
}

static uint64_t be_get_features(void *backend)
{
	return F_TEST_A | F_TEST_B | 1ULL << VMM_VIRTIO_F_EVENT_IDX;
}

static int be_set_features(void *backend, uint64_t features)
{
	struct fixture *f = backend;

	if (f->refuse_features)
		return -EINVAL;
	f->accepted = features;
	return 0;
}

static void be_config_read(void *backend, unsigned int off, void *data, unsigned int size)
{
	struct fixture *f = backend;

	ck_assert_uint_le(off + size, sizeof(f->config));
	memcpy(data, &f->config[off], size);
}

static void be_config_write(void *backend, unsigned int off, const void *data, unsigned int size)
{
	struct fixture *f = backend;

	ck_assert_uint_le(off + size, sizeof(f->config));
	memcpy(&f->config[off], data, size);
}

/* Complete every available chain with its writable length. */
static void be_queue_notify(void *backend, unsigned int qidx)
{
	struct fixture *f = backend;
	struct vmm_vq *vq = vmm_virtio_pci_queue(&f->vp, qidx);
	bool pushed = false;

	f->notifies[qidx]++;
	while (vq && vmm_vq_pop(vq, &f->chain) > 0) {
		ck_assert_int_eq(vmm_vq_push(vq, f->chain.head, f->chain.writable_bytes), 0);
		pushed = true;
	}
	if (pushed)
		vmm_virtio_pci_signal_used(&f->vp, qidx);
}

static void be_reset(void *backend)
{
	struct fixture *f = backend;

	f->resets++;
}

static const struct vmm_virtio_ops ops = {
	.get_features = be_get_features,
	.set_features = be_set_features,
	.config_read = be_config_read,
	.config_write = be_config_write,
	.queue_notify = be_queue_notify,
	.reset = be_reset,
	.config_size = 8,
};

static uint32_t cfg_read(struct fixture *f, unsigned int off, unsigned int size)
{
	return vmm_pci_conf_read(&f->pci, (unsigned int)f->slot, off, size);
}

static void cfg_write(struct fixture *f, unsigned int off, unsigned int size, uint32_t v)
{
	vmm_pci_conf_write(&f->pci, (unsigned int)f->slot, off, size, v);
}

static uint32_t rd(struct fixture *f, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_MMIO, f->bar + off, &v, size, false), 0);
	return v;
}

static void wr(struct fixture *f, unsigned int off, unsigned int size, uint32_t v)
{
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_MMIO, f->bar + off, &v, size, true), 0);
}

static void wr64(struct fixture *f, unsigned int off, uint64_t v)
{
	wr(f, off, 4, (uint32_t)v);
	wr(f, off + 4, 4, (uint32_t)(v >> 32));
}

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	unsigned int p;

	ck_assert_ptr_nonnull(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	memset(f->ram, 0, RAM_SIZE);
	f->mem.region[0] = (struct vmm_mem_region){ RAM_GPA, RAM_SIZE, f->ram };
	f->mem.nr_regions = 1;
	f->chip = (struct vmm_irq_chip){ set_level, f };
	vmm_bus_init(&f->bus, "t");
	ck_assert_int_eq(vmm_pci_bus_init(&f->pci, &f->bus, &f->chip), 0);
	ck_assert_int_eq(
	        vmm_virtio_pci_init(&f->vp, "virtio-test", 5, 0x028000, &ops, f, &f->mem, 2), 0);
	ck_assert_int_eq(vmm_virtio_pci_set_queue_max(&f->vp, 0, QSIZE), 0);
	f->slot = vmm_pci_bus_add(&f->pci, &f->vp.pci, GSI);
	ck_assert_int_gt(f->slot, 0);
	ck_assert_int_eq(vmm_pci_bus_assign(&f->pci, 0xc0000000, 0xfec00000, 0xc000, 0x10000), 0);
	f->bar = (cfg_read(f, PCI_BAR0 + 16, 4) & ~0xfULL) | (uint64_t)cfg_read(f, PCI_BAR0 + 20, 4)
	                                                             << 32;
	/* Find the capabilities as a driver does. */
	for (p = cfg_read(f, PCI_CAPABILITY_LIST, 1); p; p = cfg_read(f, p + 1, 1)) {
		ck_assert_uint_eq(cfg_read(f, p, 1), 0x09);
		ck_assert_uint_ge(p, 0x40);
		f->cap[cfg_read(f, p + 3, 1)] = p;
	}
	return f;
}

static void teardown(struct fixture *f)
{
	vmm_pci_bus_exit(&f->pci);
	vmm_bus_exit(&f->bus);
	vmm_virtio_pci_exit(&f->vp);
	free(f->ram);
	free(f);
}

static void *host(struct fixture *f, uint64_t gpa)
{
	return f->ram + (gpa - RAM_GPA);
}

/* Reset, acknowledge and negotiate @features; returns the status read back. */
static uint8_t negotiate(struct fixture *f, uint64_t features)
{
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0);
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, VMM_VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, VMM_VIRTIO_STATUS_ACKNOWLEDGE | VMM_VIRTIO_STATUS_DRIVER);
	wr(f, VMM_VIRTIO_PCI_GFSELECT, 4, 0);
	wr(f, VMM_VIRTIO_PCI_GF, 4, (uint32_t)features);
	wr(f, VMM_VIRTIO_PCI_GFSELECT, 4, 1);
	wr(f, VMM_VIRTIO_PCI_GF, 4, (uint32_t)(features >> 32));
	wr(f, VMM_VIRTIO_PCI_STATUS, 1,
	   VMM_VIRTIO_STATUS_ACKNOWLEDGE | VMM_VIRTIO_STATUS_DRIVER |
	           VMM_VIRTIO_STATUS_FEATURES_OK);
	return (uint8_t)rd(f, VMM_VIRTIO_PCI_STATUS, 1);
}

static void setup_queue(struct fixture *f, unsigned int q)
{
	wr(f, VMM_VIRTIO_PCI_Q_SELECT, 2, q);
	wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, QSIZE);
	wr64(f, VMM_VIRTIO_PCI_Q_DESC, DESC_GPA + q * 0x4000);
	wr64(f, VMM_VIRTIO_PCI_Q_DRIVER, AVAIL_GPA + q * 0x4000);
	wr64(f, VMM_VIRTIO_PCI_Q_DEVICE, USED_GPA + q * 0x4000);
	wr(f, VMM_VIRTIO_PCI_Q_ENABLE, 2, 1);
}

static void driver_ok(struct fixture *f)
{
	wr(f, VMM_VIRTIO_PCI_STATUS, 1,
	   rd(f, VMM_VIRTIO_PCI_STATUS, 1) | VMM_VIRTIO_STATUS_DRIVER_OK);
}

/* Bring the device up the way Linux does, with queue 0 ready. */
static void bring_up(struct fixture *f, uint64_t features)
{
	ck_assert_uint_eq(negotiate(f, features) & VMM_VIRTIO_STATUS_FEATURES_OK,
	                  VMM_VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, 0);
	driver_ok(f);
}

/* Queue 0: make a one-descriptor chain available (desc @i -> @len writable bytes). */
static void post_buffer(struct fixture *f, uint16_t i, uint32_t len, uint16_t flags)
{
	struct vmm_vring_desc d = { BUF_GPA + 0x100 * i, len, flags, 0 };
	uint16_t *avail = host(f, AVAIL_GPA);

	memcpy(host(f, DESC_GPA + 16 * i), &d, sizeof(d));
	avail[2 + f->avail_idx % QSIZE] = i;
	f->avail_idx++;
	avail[1] = f->avail_idx;
}

static uint16_t used_idx(struct fixture *f)
{
	return *(uint16_t *)host(f, USED_GPA + 2);
}

static void notify(struct fixture *f, unsigned int q)
{
	wr(f, VMM_VIRTIO_PCI_NOTIFY_OFF + q * VMM_VIRTIO_PCI_NOTIFY_MULT, 2, q);
}

START_TEST(identity_and_capabilities)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(cfg_read(f, PCI_VENDOR_ID, 2), 0x1af4);
	ck_assert_uint_eq(cfg_read(f, PCI_DEVICE_ID, 2), 0x1045);
	ck_assert_uint_eq(cfg_read(f, PCI_REVISION_ID, 1), 1);
	ck_assert_uint_eq(cfg_read(f, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	ck_assert_uint_eq(cfg_read(f, PCI_SUBSYSTEM_ID, 2), 0x1045);
	ck_assert_uint_eq(cfg_read(f, PCI_REVISION_ID, 4) >> 8, 0x028000);
	ck_assert_uint_eq(cfg_read(f, PCI_INTERRUPT_PIN, 1), 1);
	ck_assert_uint_eq(cfg_read(f, PCI_INTERRUPT_LINE, 1), GSI);
	ck_assert(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* BAR4: 64-bit, not prefetchable, 16 KiB. */
	ck_assert_uint_eq(cfg_read(f, PCI_BAR0 + 16, 4) & 0xf, VMM_PCI_BAR_MEM64);
	ck_assert(f->bar && !(f->bar & (VMM_VIRTIO_PCI_BAR_SIZE - 1)));
	for (unsigned int t = 1; t <= 5; t++) {
		ck_assert_uint_ne(f->cap[t], 0);
		ck_assert_uint_eq(cfg_read(f, f->cap[t] + 4, 1), VMM_VIRTIO_PCI_BAR);
	}
	ck_assert_uint_eq(cfg_read(f, f->cap[1] + 2, 1), 16);
	ck_assert_uint_eq(cfg_read(f, f->cap[1] + 8, 4), VMM_VIRTIO_PCI_COMMON_OFF);
	ck_assert_uint_ge(cfg_read(f, f->cap[1] + 12, 4), 0x38);
	ck_assert_uint_eq(cfg_read(f, f->cap[2] + 2, 1), 20);
	ck_assert_uint_eq(cfg_read(f, f->cap[2] + 8, 4), VMM_VIRTIO_PCI_NOTIFY_OFF);
	ck_assert_uint_eq(cfg_read(f, f->cap[2] + 16, 4), VMM_VIRTIO_PCI_NOTIFY_MULT);
	ck_assert_uint_ge(cfg_read(f, f->cap[2] + 12, 4), 2 * VMM_VIRTIO_PCI_NOTIFY_MULT);
	ck_assert_uint_eq(cfg_read(f, f->cap[3] + 8, 4), VMM_VIRTIO_PCI_ISR_OFF);
	ck_assert_uint_eq(cfg_read(f, f->cap[4] + 8, 4), VMM_VIRTIO_PCI_DEVICE_OFF);
	ck_assert_uint_eq(cfg_read(f, f->cap[4] + 12, 4), 8);
	ck_assert_uint_eq(cfg_read(f, f->cap[5] + 2, 1), 20);
	/* The read-only parts of a capability stay put. */
	cfg_write(f, f->cap[1] + 8, 4, 0x1234);
	ck_assert_uint_eq(cfg_read(f, f->cap[1] + 8, 4), VMM_VIRTIO_PCI_COMMON_OFF);
	ck_assert_int_eq(vmm_virtio_pci_init(&f->vp, "x", 1, 0, &ops, f, &f->mem, 0), -EINVAL);
	ck_assert_int_eq(vmm_virtio_pci_init(&f->vp, "x", 1, 0, &ops, f, &f->mem, 9), -EINVAL);
	teardown(f);
}
END_TEST

START_TEST(feature_negotiation)
{
	struct fixture *f = setup();

	wr(f, VMM_VIRTIO_PCI_DFSELECT, 4, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DF, 4),
	                  (uint32_t)(F_TEST_A | 1ULL << VMM_VIRTIO_F_EVENT_IDX));
	wr(f, VMM_VIRTIO_PCI_DFSELECT, 4, 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DF, 4), (uint32_t)(F_TEST_B >> 32) | 1);
	wr(f, VMM_VIRTIO_PCI_DFSELECT, 4, 2);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DF, 4), 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DFSELECT, 4), 2);

	/* No VERSION_1: refused. */
	ck_assert_uint_eq(negotiate(f, F_TEST_A) & VMM_VIRTIO_STATUS_FEATURES_OK, 0);
	/* A bit that was not offered: refused. */
	ck_assert_uint_eq(negotiate(f, 1ULL << 32 | 1ULL << 3) & VMM_VIRTIO_STATUS_FEATURES_OK, 0);
	/* The backend may refuse too. */
	f->refuse_features = true;
	ck_assert_uint_eq(negotiate(f, 1ULL << 32) & VMM_VIRTIO_STATUS_FEATURES_OK, 0);
	f->refuse_features = false;
	/* A subset with VERSION_1: accepted, and fixed from then on. */
	ck_assert_uint_eq(negotiate(f, 1ULL << 32 | F_TEST_B),
	                  VMM_VIRTIO_STATUS_ACKNOWLEDGE | VMM_VIRTIO_STATUS_DRIVER |
	                          VMM_VIRTIO_STATUS_FEATURES_OK);
	ck_assert_uint_eq(f->accepted, 1ULL << 32 | F_TEST_B);
	wr(f, VMM_VIRTIO_PCI_GFSELECT, 4, 0);
	wr(f, VMM_VIRTIO_PCI_GF, 4, 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_GF, 4), 0);
	wr(f, VMM_VIRTIO_PCI_GFSELECT, 4, 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_GF, 4), 1 | (uint32_t)(F_TEST_B >> 32));
	teardown(f);
}
END_TEST

START_TEST(common_config_registers)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_MSIX_CONFIG, 2), VMM_VIRTIO_NO_VECTOR);
	wr(f, VMM_VIRTIO_PCI_MSIX_CONFIG, 2, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_MSIX_CONFIG, 2), VMM_VIRTIO_NO_VECTOR);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_NUM_QUEUES, 2), 2);
	/* Queue 0 offers QSIZE, queue 1 the default. */
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), QSIZE);
	wr(f, VMM_VIRTIO_PCI_Q_SELECT, 2, 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), VMM_VIRTIO_PCI_DEFAULT_QUEUE_SIZE);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_NOFF, 2), 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_MSIX, 2), VMM_VIRTIO_NO_VECTOR);
	/* The driver may shrink a queue, only to a power of two, never grow it. */
	wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, 100);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), VMM_VIRTIO_PCI_DEFAULT_QUEUE_SIZE);
	wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, 512);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), VMM_VIRTIO_PCI_DEFAULT_QUEUE_SIZE);
	wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), VMM_VIRTIO_PCI_DEFAULT_QUEUE_SIZE);
	wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, 32);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), 32);
	/* 64-bit addresses as two halves, as one 8-byte access, and read back. */
	wr64(f, VMM_VIRTIO_PCI_Q_DESC, 0x123456789abcdef0ULL);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_DESC, 4), 0x9abcdef0u);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_DESC + 4, 4), 0x12345678u);
	{
		uint64_t v = 0x1122334455667788ULL, back = 0;

		vmm_bus_access(&f->bus, VMM_BUS_MMIO, f->bar + VMM_VIRTIO_PCI_Q_DEVICE, &v, 8,
		               true);
		vmm_bus_access(&f->bus, VMM_BUS_MMIO, f->bar + VMM_VIRTIO_PCI_Q_DEVICE, &back, 8,
		               false);
		ck_assert_uint_eq(back, v);
	}
	/* Odd widths work byte by byte: a 1-byte write to the low half of queue_select. */
	wr(f, VMM_VIRTIO_PCI_Q_SELECT, 1, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SELECT, 2), 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 1), QSIZE);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_NUM_QUEUES, 4), 2); /* + status, generation 0 */
	/* An out-of-range queue reads as nothing and ignores writes. */
	wr(f, VMM_VIRTIO_PCI_Q_SELECT, 2, 7);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SELECT, 2), 7);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_ENABLE, 2), 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_MSIX, 2), 0);
	wr(f, VMM_VIRTIO_PCI_Q_ENABLE, 2, 1);
	wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, 4);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), 0);
	/* Past the common registers: zeros. */
	ck_assert_uint_eq(rd(f, 0x38, 4), 0);
	ck_assert_uint_eq(rd(f, 0x800, 4), 0);
	teardown(f);
}
END_TEST

START_TEST(notify_isr_and_intx)
{
	struct fixture *f = setup();

	bring_up(f, 1ULL << 32);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_ENABLE, 2), 1);
	/* Enabled queues are frozen. */
	wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, 4);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), QSIZE);

	/* DRIVER_OK looked at the enabled queue once already. */
	ck_assert_int_eq(f->notifies[0], 1);
	post_buffer(f, 0, 64, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_int_eq(f->notifies[0], 2);
	ck_assert_uint_eq(used_idx(f), 1);
	ck_assert_int_eq(f->level, 1);
	ck_assert(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Reading the ISR acknowledges and drops the line. */
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_ISR_OFF, 1), VMM_VIRTIO_ISR_QUEUE);
	ck_assert_int_eq(f->level, 0);
	ck_assert(!(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT));
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_ISR_OFF, 1), 0);
	/* The driver does not want interrupts: none. */
	*(uint16_t *)host(f, AVAIL_GPA) = VMM_VRING_AVAIL_F_NO_INTERRUPT;
	post_buffer(f, 1, 64, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_uint_eq(used_idx(f), 2);
	ck_assert_int_eq(f->level, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_ISR_OFF, 1), 0);
	/* Notifying a queue that is not enabled, or that does not exist, does nothing. */
	notify(f, 1);
	wr(f, VMM_VIRTIO_PCI_NOTIFY_OFF + 7 * VMM_VIRTIO_PCI_NOTIFY_MULT, 2, 7);
	ck_assert_int_eq(f->notifies[1], 0);
	teardown(f);
}
END_TEST

START_TEST(intx_disable)
{
	struct fixture *f = setup();

	bring_up(f, 1ULL << 32);
	cfg_write(f, PCI_COMMAND, 2, cfg_read(f, PCI_COMMAND, 2) | PCI_COMMAND_INTX_DISABLE);
	post_buffer(f, 0, 64, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_int_eq(f->level, 0);
	/* Pending all the same, as the status register says. */
	ck_assert(cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_write(f, PCI_COMMAND, 2, cfg_read(f, PCI_COMMAND, 2) & ~PCI_COMMAND_INTX_DISABLE);
	/* The next access to the device sees the unmasked line. */
	rd(f, VMM_VIRTIO_PCI_STATUS, 1);
	ck_assert_int_eq(f->level, 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_ISR_OFF, 1), VMM_VIRTIO_ISR_QUEUE);
	ck_assert_int_eq(f->level, 0);
	teardown(f);
}
END_TEST

START_TEST(notify_before_driver_ok_waits)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(negotiate(f, 1ULL << 32) & VMM_VIRTIO_STATUS_FEATURES_OK,
	                  VMM_VIRTIO_STATUS_FEATURES_OK);
	setup_queue(f, 0);
	post_buffer(f, 0, 64, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_int_eq(f->notifies[0], 0);
	ck_assert_uint_eq(used_idx(f), 0);
	ck_assert(!vmm_virtio_pci_driver_ok(&f->vp));
	driver_ok(f);
	ck_assert(vmm_virtio_pci_driver_ok(&f->vp));
	ck_assert_int_eq(f->notifies[0], 1);
	ck_assert_int_eq(f->notifies[1], 0);
	ck_assert_uint_eq(used_idx(f), 1);
	teardown(f);
}
END_TEST

START_TEST(device_reset)
{
	struct fixture *f = setup();
	int resets;

	bring_up(f, 1ULL << 32);
	post_buffer(f, 0, 64, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_int_eq(f->level, 1);
	resets = f->resets;
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0);
	ck_assert_int_eq(f->resets, resets + 1);
	ck_assert_int_eq(f->level, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_ISR_OFF, 1), 0);
	wr(f, VMM_VIRTIO_PCI_Q_SELECT, 2, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_ENABLE, 2), 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_DESC, 4), 0);
	ck_assert_ptr_null(vmm_virtio_pci_queue(&f->vp, 0));
	/* A system reset does the same. */
	bring_up(f, 1ULL << 32);
	ck_assert_ptr_nonnull(vmm_virtio_pci_queue(&f->vp, 0));
	resets = f->resets;
	vmm_virtio_pci_reset(&f->vp);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), 0);
	ck_assert_int_eq(f->resets, resets + 1);
	ck_assert_ptr_null(vmm_virtio_pci_queue(&f->vp, 0));
	teardown(f);
}
END_TEST

START_TEST(bad_chain_needs_reset)
{
	struct fixture *f = setup();

	bring_up(f, 1ULL << 32);
	/* A buffer outside RAM. */
	post_buffer(f, 0, 64, VMM_VRING_DESC_F_WRITE);
	*(uint64_t *)host(f, DESC_GPA) = 0x10;
	notify(f, 0);
	ck_assert_uint_eq(used_idx(f), 0);
	ck_assert(rd(f, VMM_VIRTIO_PCI_STATUS, 1) & VMM_VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_int_eq(f->level, 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_ISR_OFF, 1), VMM_VIRTIO_ISR_CONFIG);
	/* The driver cannot clear the bit, and notifies are ignored now. */
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0x0f);
	ck_assert(rd(f, VMM_VIRTIO_PCI_STATUS, 1) & VMM_VIRTIO_STATUS_NEEDS_RESET);
	notify(f, 0);
	ck_assert_int_eq(f->notifies[0], 2);
	ck_assert(!vmm_virtio_pci_driver_ok(&f->vp));
	/* A reset brings it back. */
	memset(f->ram, 0, 0x10000);
	f->avail_idx = 0;
	bring_up(f, 1ULL << 32);
	post_buffer(f, 0, 64, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_uint_eq(used_idx(f), 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1) & VMM_VIRTIO_STATUS_NEEDS_RESET, 0);
	teardown(f);
}
END_TEST

START_TEST(bad_ring_addresses_need_reset)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(negotiate(f, 1ULL << 32) & VMM_VIRTIO_STATUS_FEATURES_OK,
	                  VMM_VIRTIO_STATUS_FEATURES_OK);
	wr(f, VMM_VIRTIO_PCI_Q_SELECT, 2, 0);
	wr64(f, VMM_VIRTIO_PCI_Q_DESC, 0xfffff000);
	wr64(f, VMM_VIRTIO_PCI_Q_DRIVER, AVAIL_GPA);
	wr64(f, VMM_VIRTIO_PCI_Q_DEVICE, USED_GPA);
	wr(f, VMM_VIRTIO_PCI_Q_ENABLE, 2, 1);
	ck_assert(rd(f, VMM_VIRTIO_PCI_STATUS, 1) & VMM_VIRTIO_STATUS_NEEDS_RESET);
	/* Not DRIVER_OK yet: no interrupt. */
	ck_assert_int_eq(f->level, 0);
	driver_ok(f);
	ck_assert_int_eq(f->notifies[0], 0);
	teardown(f);
}
END_TEST

START_TEST(device_config_and_generation)
{
	struct fixture *f = setup();
	uint8_t gen;

	memcpy(f->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF, 4), 0x44332211u);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 6, 2), 0x8877u);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 6, 4), 0); /* past the end */
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 0x100, 1), 0);
	wr(f, VMM_VIRTIO_PCI_DEVICE_OFF + 4, 2, 0xbeef);
	ck_assert_uint_eq(f->config[4], 0xef);
	ck_assert_uint_eq(f->config[5], 0xbe);
	wr(f, VMM_VIRTIO_PCI_DEVICE_OFF + 7, 2, 0xbeef); /* straddles the end: dropped */
	ck_assert_uint_eq(f->config[7], 0x88);

	gen = (uint8_t)rd(f, VMM_VIRTIO_PCI_CFG_GENERATION, 1);
	vmm_virtio_pci_lock(&f->vp);
	vmm_virtio_pci_config_changed(&f->vp);
	vmm_virtio_pci_unlock(&f->vp);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_CFG_GENERATION, 1), (uint8_t)(gen + 1));
	ck_assert_int_eq(f->level, 0); /* no driver yet */
	bring_up(f, 1ULL << 32);
	vmm_virtio_pci_lock(&f->vp);
	vmm_virtio_pci_config_changed(&f->vp);
	vmm_virtio_pci_unlock(&f->vp);
	ck_assert_int_eq(f->level, 1);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_ISR_OFF, 1), VMM_VIRTIO_ISR_CONFIG);
	teardown(f);
}
END_TEST

START_TEST(pci_cfg_window)
{
	struct fixture *f = setup();
	unsigned int c = f->cap[VMM_VIRTIO_PCI_CAP_PCI_CFG];

	/* Read num_queues through config space. */
	cfg_write(f, c + 4, 1, VMM_VIRTIO_PCI_BAR);
	cfg_write(f, c + 8, 4, VMM_VIRTIO_PCI_NUM_QUEUES);
	cfg_write(f, c + 12, 4, 2);
	ck_assert_uint_eq(cfg_read(f, c + 16, 2), 2);
	/* Write the status through it. */
	cfg_write(f, c + 8, 4, VMM_VIRTIO_PCI_STATUS);
	cfg_write(f, c + 12, 4, 1);
	cfg_write(f, c + 16, 1, VMM_VIRTIO_STATUS_ACKNOWLEDGE);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), VMM_VIRTIO_STATUS_ACKNOWLEDGE);
	/* Bad windows do nothing: another BAR, odd length, misaligned, past the BAR. */
	cfg_write(f, c + 4, 1, 0);
	cfg_write(f, c + 16, 1, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), VMM_VIRTIO_STATUS_ACKNOWLEDGE);
	cfg_write(f, c + 4, 1, VMM_VIRTIO_PCI_BAR);
	cfg_write(f, c + 12, 4, 3);
	cfg_write(f, c + 16, 1, 0);
	cfg_write(f, c + 12, 4, 2);
	cfg_write(f, c + 8, 4, VMM_VIRTIO_PCI_STATUS + 1);
	cfg_write(f, c + 16, 2, 0);
	cfg_write(f, c + 8, 4, 0xfffffffe);
	cfg_write(f, c + 16, 2, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), VMM_VIRTIO_STATUS_ACKNOWLEDGE);
	teardown(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_virtio_pci");
	TCase *tc = tcase_create("virtio_pci");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, identity_and_capabilities);
	tcase_add_test(tc, feature_negotiation);
	tcase_add_test(tc, common_config_registers);
	tcase_add_test(tc, notify_isr_and_intx);
	tcase_add_test(tc, intx_disable);
	tcase_add_test(tc, notify_before_driver_ok_waits);
	tcase_add_test(tc, device_reset);
	tcase_add_test(tc, bad_chain_needs_reset);
	tcase_add_test(tc, bad_ring_addresses_need_reset);
	tcase_add_test(tc, device_config_and_generation);
	tcase_add_test(tc, pci_cfg_window);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
