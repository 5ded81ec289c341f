// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/pci.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "proto/log.h"

#define PCI_CONF1_ADDR_PORT 0xcf8
#define PCI_CONF1_DATA_PORT 0xcfc
#define PCI_RESET_CONTROL_PORT 0xcf9

void vmm_pci_cfg_set16(struct vmm_pci_dev *d, unsigned int off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

void vmm_pci_cfg_set32(struct vmm_pci_dev *d, unsigned int off, uint32_t v)
{
	vmm_pci_cfg_set16(d, off, (uint16_t)v);
	vmm_pci_cfg_set16(d, off + 2, (uint16_t)(v >> 16));
}

void vmm_pci_dev_init(struct vmm_pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
                      uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
                      uint16_t subsys_id)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	vmm_pci_cfg_set16(d, PCI_VENDOR_ID, vendor);
	vmm_pci_cfg_set16(d, PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION_ID] = revision;
	d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	d->cfg[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	d->cfg[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	vmm_pci_cfg_set16(d, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	vmm_pci_cfg_set16(d, PCI_SUBSYSTEM_ID, subsys_id);
	d->cfg[PCI_INTERRUPT_PIN] = 1; /* INTA# */
	/* Command: I/O, memory, bus master, INTx disable. */
	d->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	d->wmask[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
	d->wmask[0x0c] = 0xff; /* cache line size */
	d->wmask[0x0d] = 0xff; /* latency timer */
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->cap_end = PCI_CAP_START;
}

int vmm_pci_dev_add_cap(struct vmm_pci_dev *d, const void *cap, unsigned int len, const void *wmask)
{
	unsigned int off = d->cap_end, prev;

	if (len < 2 || off + len > VMM_PCI_CFG_SIZE)
		return -ENOSPC;
	memcpy(&d->cfg[off], cap, len);
	if (wmask)
		memcpy(&d->wmask[off], wmask, len);
	d->cfg[off + 1] = 0;
	d->wmask[off] = d->wmask[off + 1] = 0;
	/* Link at the end of the list so capabilities appear in the order added. */
	if (!d->cfg[PCI_CAPABILITY_LIST]) {
		d->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
	} else {
		for (prev = d->cfg[PCI_CAPABILITY_LIST]; d->cfg[prev + 1]; prev = d->cfg[prev + 1])
			;
		d->cfg[prev + 1] = (uint8_t)off;
	}
	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	/* Keep capabilities dword aligned, as the spec requires. */
	d->cap_end = (uint16_t)((off + len + 3) & ~3u);
	return (int)off;
}

static void set_bar(struct vmm_pci_dev *d, int idx, uint64_t size, unsigned int flags)
{
	struct vmm_pci_bar *b = &d->bar[idx];

	b->size = size;
	b->flags = flags;
	vmm_pci_cfg_set32(d, PCI_BAR0 + 4 * idx, flags);
}

void vmm_pci_dev_set_bar(struct vmm_pci_dev *d, int idx, uint64_t size, unsigned int flags,
                         vmm_io_fn io, void *opaque)
{
	set_bar(d, idx, size, flags);
	d->bar[idx].io = io;
	d->bar[idx].opaque = opaque;
}

void vmm_pci_dev_set_ram_bar(struct vmm_pci_dev *d, int idx, uint64_t size, unsigned int flags,
                             void (*remap)(void *opaque, uint64_t old_addr, uint64_t new_addr),
                             void *opaque)
{
	set_bar(d, idx, size, flags);
	d->bar[idx].remap = remap;
	d->bar[idx].opaque = opaque;
}

/* Where BAR @idx should decode given the command register, or 0 for nowhere. */
static uint64_t bar_target(const struct vmm_pci_dev *d, int idx)
{
	const struct vmm_pci_bar *b = &d->bar[idx];
	uint16_t cmd = vmm_pci_cfg_get16(d, PCI_COMMAND);

	if (!b->size || !b->addr)
		return 0;
	if (b->flags & VMM_PCI_BAR_IO) {
		if (!(cmd & PCI_COMMAND_IO) || b->addr + b->size > 0x10000)
			return 0;
	} else {
		if (!(cmd & PCI_COMMAND_MEMORY))
			return 0;
		/*
		 * An all-ones address is a sizing probe; a BAR over the local
		 * APIC/IOAPIC area or wrapping would shadow the chipset.
		 */
		if (b->addr + b->size < b->addr ||
		    (b->addr < 0x100000000ULL && b->addr + b->size > 0xfec00000ULL))
			return 0;
	}
	return b->addr;
}

static void bar_update(struct vmm_pci_dev *d, int idx)
{
	struct vmm_pci_bar *b = &d->bar[idx];
	enum vmm_bus_space space = (b->flags & VMM_PCI_BAR_IO) ? VMM_BUS_PIO : VMM_BUS_MMIO;
	uint64_t target = bar_target(d, idx);
	uint64_t old = b->mapped;

	if (target == old)
		return;
	if (b->remap) {
		b->remap(b->opaque, old, target);
		b->mapped = target;
		return;
	}
	if (old)
		vmm_bus_unregister(d->pci->bus, space, old, b->opaque);
	b->mapped = 0;
	if (!target)
		return;
	if (vmm_bus_register(d->pci->bus, space, target, b->size, b->io, b->opaque, d->name) < 0) {
		/* Overlaps another device: real hardware would decode garbage; we decode nothing.
		 */
		log_debug("dev=%s bar%d at 0x%" PRIx64 " overlaps, left unmapped", d->name, idx,
		          target);
		return;
	}
	b->mapped = target;
}

static void bars_update(struct vmm_pci_dev *d)
{
	for (int i = 0; i < 6; i++)
		if (d->bar[i].size)
			bar_update(d, i);
}

/* A write to the dword holding BAR @idx (or the upper half of a 64-bit BAR). */
static void bar_write(struct vmm_pci_dev *d, int idx, uint32_t val)
{
	struct vmm_pci_bar *b;
	bool upper = false;

	if (idx > 0 && !d->bar[idx].size && (d->bar[idx - 1].flags & VMM_PCI_BAR_MEM64)) {
		idx--;
		upper = true;
	}
	b = &d->bar[idx];
	if (!b->size) {
		vmm_pci_cfg_set32(d, PCI_BAR0 + 4 * (idx + upper), 0);
		return;
	}
	if (upper) {
		b->addr = (b->addr & 0xffffffffULL) | (uint64_t)val << 32;
		b->addr &= ~(b->size - 1);
	} else {
		uint64_t mask = b->flags & VMM_PCI_BAR_IO ? ~3ULL : ~15ULL;

		b->addr = (b->addr & ~0xffffffffULL) | (val & mask & 0xffffffffULL);
		b->addr &= ~(b->size - 1);
		if (!(b->flags & VMM_PCI_BAR_MEM64))
			b->addr &= 0xffffffffULL;
	}
	vmm_pci_cfg_set32(d, PCI_BAR0 + 4 * idx, (uint32_t)b->addr | b->flags);
	if (b->flags & VMM_PCI_BAR_MEM64)
		vmm_pci_cfg_set32(d, PCI_BAR0 + 4 * (idx + 1), (uint32_t)(b->addr >> 32));
	bar_update(d, idx);
}

static uint32_t dev_read(struct vmm_pci_dev *d, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	if (off >= PCI_CAP_START && d->cfg_read)
		d->cfg_read(d, off, size);
	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)d->cfg[off + i] << (8 * i);
	return v;
}

static void dev_write(struct vmm_pci_dev *d, unsigned int off, unsigned int size, uint32_t val)
{
	uint16_t old_cmd = vmm_pci_cfg_get16(d, PCI_COMMAND);

	if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
		/* BARs only take whole-dword writes; others are ignored, as on most chipsets. */
		if (size == 4 && (off & 3) == 0)
			bar_write(d, (int)(off - PCI_BAR0) / 4, val);
		return;
	}
	for (unsigned int i = 0; i < size; i++) {
		uint8_t m = d->wmask[off + i], b = (uint8_t)(val >> (8 * i));

		d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~m) | (b & m));
	}
	if (off < PCI_COMMAND + 2 && off + size > PCI_COMMAND &&
	    vmm_pci_cfg_get16(d, PCI_COMMAND) != old_cmd)
		bars_update(d);
	if (off >= PCI_CAP_START && d->cfg_write)
		d->cfg_write(d, off, size);
}

uint32_t vmm_pci_conf_read(struct vmm_pci_bus *pb, unsigned int slot, unsigned int off,
                           unsigned int size)
{
	uint32_t v = 0xffffffffu;

	if (slot >= VMM_PCI_MAX_SLOTS || off >= VMM_PCI_CFG_SIZE || off + size > VMM_PCI_CFG_SIZE)
		return size == 4 ? v : v & ((1u << (8 * size)) - 1);
	pthread_mutex_lock(&pb->lock);
	if (pb->slot[slot])
		v = dev_read(pb->slot[slot], off, size);
	else if (size < 4)
		v &= (1u << (8 * size)) - 1;
	pthread_mutex_unlock(&pb->lock);
	return v;
}

void vmm_pci_conf_write(struct vmm_pci_bus *pb, unsigned int slot, unsigned int off,
                        unsigned int size, uint32_t val)
{
	if (slot >= VMM_PCI_MAX_SLOTS || off >= VMM_PCI_CFG_SIZE || off + size > VMM_PCI_CFG_SIZE)
		return;
	pthread_mutex_lock(&pb->lock);
	if (pb->slot[slot])
		dev_write(pb->slot[slot], off, size, val);
	pthread_mutex_unlock(&pb->lock);
}

static uint32_t load_le(const void *data, unsigned int size)
{
	const uint8_t *p = data;
	uint32_t v = 0;

	for (unsigned int i = 0; i < size && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void store_le(void *data, unsigned int size, uint32_t v)
{
	uint8_t *p = data;

	for (unsigned int i = 0; i < size; i++)
		p[i] = i < 4 ? (uint8_t)(v >> (8 * i)) : 0;
}

/* Ports 0xCF8-0xCFF: the address register, reset control, the data window. */
static void conf1_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_pci_bus *pb = opaque;
	uint64_t port = PCI_CONF1_ADDR_PORT + offset;

	if (port == PCI_CONF1_ADDR_PORT && size == 4) {
		pthread_mutex_lock(&pb->lock);
		if (is_write)
			pb->conf_addr = load_le(data, 4) & 0x80fffffcu;
		else
			store_le(data, 4, pb->conf_addr);
		pthread_mutex_unlock(&pb->lock);
		return;
	}
	if (port == PCI_RESET_CONTROL_PORT && size == 1) {
		/* Bit 2 starts the reset that bits 1..3 describe; any kind resets us. */
		if (is_write && (load_le(data, 1) & 0x04) && pb->reset_request)
			pb->reset_request(pb->reset_opaque);
		else if (!is_write)
			store_le(data, 1, 0);
		return;
	}
	if (port >= PCI_CONF1_DATA_PORT && size <= 4 && size != 3) {
		unsigned int byte = (unsigned int)(port - PCI_CONF1_DATA_PORT);
		uint32_t addr, slot, reg;

		pthread_mutex_lock(&pb->lock);
		addr = pb->conf_addr;
		pthread_mutex_unlock(&pb->lock);
		/* Enabled, bus 0, function 0 only; anything else reads as absent. */
		if (!(addr & 0x80000000u) || ((addr >> 16) & 0xff) || ((addr >> 8) & 7) ||
		    byte + size > 4) {
			if (!is_write)
				store_le(data, size, 0xffffffffu);
			return;
		}
		slot = (addr >> 11) & 0x1f;
		reg = (addr & 0xfc) + byte;
		if (is_write)
			vmm_pci_conf_write(pb, slot, reg, size, load_le(data, size));
		else
			store_le(data, size, vmm_pci_conf_read(pb, slot, reg, size));
	}
}

int vmm_pci_bus_init(struct vmm_pci_bus *pb, struct vmm_bus *bus, const struct vmm_irq_chip *chip)
{
	int r;

	memset(pb, 0, sizeof(*pb));
	pb->bus = bus;
	pb->irqchip = chip;
	pthread_mutex_init(&pb->lock, NULL);
	/* An Intel 440FX host bridge: what guests expect to find at 00:00.0. */
	vmm_pci_dev_init(&pb->host_bridge, "pci-host", 0x8086, 0x1237, 0x060000, 2, 0x1af4, 0x1100);
	pb->host_bridge.cfg[PCI_INTERRUPT_PIN] = 0;
	pb->host_bridge.pci = pb;
	pb->slot[0] = &pb->host_bridge;
	r = vmm_bus_register(bus, VMM_BUS_PIO, PCI_CONF1_ADDR_PORT, 8, conf1_io, pb, "pci-conf1");
	if (r < 0)
		pthread_mutex_destroy(&pb->lock);
	return r;
}

void vmm_pci_bus_exit(struct vmm_pci_bus *pb)
{
	vmm_bus_unregister(pb->bus, VMM_BUS_PIO, PCI_CONF1_ADDR_PORT, pb);
	pthread_mutex_destroy(&pb->lock);
}

int vmm_pci_bus_add(struct vmm_pci_bus *pb, struct vmm_pci_dev *d, unsigned int gsi)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&pb->lock);
	for (unsigned int s = 1; s < VMM_PCI_MAX_SLOTS; s++) {
		if (pb->slot[s])
			continue;
		pb->slot[s] = d;
		d->slot = (uint8_t)s;
		d->pci = pb;
		if (gsi) {
			d->irq = (struct vmm_irq_line){ pb->irqchip, gsi };
			d->cfg[PCI_INTERRUPT_LINE] = (uint8_t)gsi;
		} else {
			d->cfg[PCI_INTERRUPT_PIN] = 0;
		}
		ret = (int)s;
		break;
	}
	pthread_mutex_unlock(&pb->lock);
	return ret;
}

int vmm_pci_bus_assign(struct vmm_pci_bus *pb, uint64_t mmio_base, uint64_t mmio_end,
                       uint32_t io_base, uint32_t io_end)
{
	uint64_t mmio = mmio_base, io = io_base;
	int ret = 0;

	pthread_mutex_lock(&pb->lock);
	/* Largest first keeps every BAR naturally aligned with no holes. */
	for (int shift = 40; shift >= 2 && !ret; shift--) {
		uint64_t size = 1ULL << shift;

		for (unsigned int s = 0; s < VMM_PCI_MAX_SLOTS && !ret; s++) {
			struct vmm_pci_dev *d = pb->slot[s];

			for (int i = 0; d && i < 6; i++) {
				struct vmm_pci_bar *b = &d->bar[i];
				uint64_t *next = b->flags & VMM_PCI_BAR_IO ? &io : &mmio;
				uint64_t end = b->flags & VMM_PCI_BAR_IO ? io_end : mmio_end;
				uint64_t at;

				if (b->size != size)
					continue;
				at = (*next + size - 1) & ~(size - 1);
				if (at + size > end) {
					ret = -ENOSPC;
					break;
				}
				*next = at + size;
				b->addr = at;
				vmm_pci_cfg_set32(d, PCI_BAR0 + 4 * i, (uint32_t)at | b->flags);
				if (b->flags & VMM_PCI_BAR_MEM64)
					vmm_pci_cfg_set32(d, PCI_BAR0 + 4 * (i + 1),
					                  (uint32_t)(at >> 32));
			}
		}
	}
	for (unsigned int s = 1; s < VMM_PCI_MAX_SLOTS && !ret; s++) {
		struct vmm_pci_dev *d = pb->slot[s];

		if (!d)
			continue;
		vmm_pci_cfg_set16(d, PCI_COMMAND,
		                  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		bars_update(d);
	}
	pthread_mutex_unlock(&pb->lock);
	return ret;
}
