/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI: a host bridge on bus 0 reached through configuration mechanism #1
 * (ports 0xCF8/0xCFC), and the config space, BARs and INTx line of every
 * device on it. Devices embed a struct vmm_pci_dev, describe their header,
 * capabilities and BARs, and are added to the bus; the bus keeps the I/O
 * bus in step with what the guest programs into the BARs and the command
 * register, so a BAR the guest moves or disables is moved or dropped.
 *
 * There is no firmware: vmm_pci_bus_assign() places every BAR and enables
 * decoding before the guest starts, as a BIOS would. Guests that reassign
 * BARs (Linux may) are followed.
 *
 * Locking: config accesses run under the bus's own lock. BAR handlers run
 * without it. A RAM-backed BAR's remap callback runs under it, so it must
 * not call back into the PCI bus.
 */
#ifndef VDI_VMM_DEVICES_PCI_H
#define VDI_VMM_DEVICES_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define VMM_PCI_MAX_SLOTS 32
#define VMM_PCI_CFG_SIZE 256

/* Standard config header offsets. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CAP_START 0x40

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_STATUS_INTERRUPT 0x08

/* BAR flags, as they read back in the low bits of the BAR. */
#define VMM_PCI_BAR_IO 0x1
#define VMM_PCI_BAR_MEM64 0x4
#define VMM_PCI_BAR_PREFETCH 0x8

struct vmm_pci_bus;
struct vmm_pci_dev;

struct vmm_pci_bar {
	uint64_t size;      /* power of two, at least 16 (memory) or 4 (I/O); 0: no BAR */
	unsigned int flags; /* VMM_PCI_BAR_* */
	uint64_t addr;      /* as programmed by the guest (or by vmm_pci_bus_assign) */
	uint64_t mapped;    /* where it decodes now; 0: nowhere */
	/* Trapped BAR: accesses go to @io through the I/O bus. */
	vmm_io_fn io;
	void *opaque;
	/*
	 * RAM-backed BAR (a framebuffer): instead of trapping, the owner maps
	 * memory at @new_addr, or unmaps it from @old_addr when @new_addr is
	 * 0. Called under the PCI bus lock, from the vCPU thread that wrote
	 * the config register or from vmm_pci_bus_assign().
	 */
	void (*remap)(void *opaque, uint64_t old_addr, uint64_t new_addr);
};

struct vmm_pci_dev {
	const char *name;
	uint8_t cfg[VMM_PCI_CFG_SIZE];
	uint8_t wmask[VMM_PCI_CFG_SIZE]; /* bits the guest may change */
	struct vmm_pci_bar bar[6];
	struct vmm_irq_line irq; /* INTA#, wired by vmm_pci_bus_add() */
	uint8_t slot;
	uint16_t cap_end; /* next free byte for capabilities */
	struct vmm_pci_bus *pci;
	/*
	 * Optional hooks for device-specific config registers (at or above
	 * PCI_CAP_START): cfg_read may refresh bytes before a read is answered,
	 * cfg_write sees a write after it was stored under wmask. Both run
	 * under the PCI bus lock on a vCPU thread.
	 */
	void (*cfg_read)(struct vmm_pci_dev *d, unsigned int off, unsigned int size);
	void (*cfg_write)(struct vmm_pci_dev *d, unsigned int off, unsigned int size);
	void *opaque;
};

struct vmm_pci_bus {
	struct vmm_bus *bus;
	const struct vmm_irq_chip *irqchip;
	pthread_mutex_t lock;
	uint32_t conf_addr;
	struct vmm_pci_dev *slot[VMM_PCI_MAX_SLOTS];
	struct vmm_pci_dev host_bridge;
	/* Port 0xCF9 "reset control": the guest asked for a reset. */
	void (*reset_request)(void *opaque);
	void *reset_opaque;
};

/*
 * Fill @d's header: IDs, class (class << 16 | subclass << 8 | prog_if),
 * revision, subsystem IDs, standard write masks, INTA#. BARs and
 * capabilities are added after this. @name is kept, not copied.
 */
void vmm_pci_dev_init(struct vmm_pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
                      uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
                      uint16_t subsys_id);

/*
 * Append a capability of @len bytes (the first two bytes, ID and next
 * pointer, are filled in by this call except the ID, @cap[0]). @wmask, if
 * not NULL, gives the guest-writable bits of the capability. Returns the
 * config offset of the capability, or -ENOSPC.
 */
int vmm_pci_dev_add_cap(struct vmm_pci_dev *d, const void *cap, unsigned int len,
                        const void *wmask);

/* Declare BAR @idx as trapped (@io handles accesses). A 64-bit BAR uses idx+1 too. */
void vmm_pci_dev_set_bar(struct vmm_pci_dev *d, int idx, uint64_t size, unsigned int flags,
                         vmm_io_fn io, void *opaque);

/* Declare BAR @idx as RAM-backed; @remap maps or unmaps the memory. */
void vmm_pci_dev_set_ram_bar(struct vmm_pci_dev *d, int idx, uint64_t size, unsigned int flags,
                             void (*remap)(void *opaque, uint64_t old_addr, uint64_t new_addr),
                             void *opaque);

/* Config space accessors for devices' own hooks and for tests (no locking). */
static inline uint8_t vmm_pci_cfg_get8(const struct vmm_pci_dev *d, unsigned int off)
{
	return d->cfg[off];
}
static inline uint16_t vmm_pci_cfg_get16(const struct vmm_pci_dev *d, unsigned int off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}
static inline uint32_t vmm_pci_cfg_get32(const struct vmm_pci_dev *d, unsigned int off)
{
	return (uint32_t)d->cfg[off] | (uint32_t)d->cfg[off + 1] << 8 |
	       (uint32_t)d->cfg[off + 2] << 16 | (uint32_t)d->cfg[off + 3] << 24;
}
void vmm_pci_cfg_set16(struct vmm_pci_dev *d, unsigned int off, uint16_t v);
void vmm_pci_cfg_set32(struct vmm_pci_dev *d, unsigned int off, uint32_t v);

/*
 * Set up the host bridge at slot 0 and claim ports 0xCF8-0xCFF on @bus.
 * INTx lines are driven through @chip. Returns 0 or -errno.
 */
int vmm_pci_bus_init(struct vmm_pci_bus *pb, struct vmm_bus *bus, const struct vmm_irq_chip *chip);
void vmm_pci_bus_exit(struct vmm_pci_bus *pb);

/*
 * Plug @d into the next free slot with INTA# wired to @gsi (0: no
 * interrupt). Returns the slot number, or -ENOSPC.
 */
int vmm_pci_bus_add(struct vmm_pci_bus *pb, struct vmm_pci_dev *d, unsigned int gsi);

/*
 * Do the firmware's job: place every BAR, largest first and naturally
 * aligned, memory BARs in [mmio_base, mmio_end) and I/O BARs in
 * [io_base, io_end), and enable decoding and bus mastering. Returns 0 or
 * -ENOSPC when the windows are too small.
 */
int vmm_pci_bus_assign(struct vmm_pci_bus *pb, uint64_t mmio_base, uint64_t mmio_end,
                       uint32_t io_base, uint32_t io_end);

/* Config mechanism #1 access to bus 0, as the guest makes it (thread-safe). */
uint32_t vmm_pci_conf_read(struct vmm_pci_bus *pb, unsigned int slot, unsigned int off,
                           unsigned int size);
void vmm_pci_conf_write(struct vmm_pci_bus *pb, unsigned int slot, unsigned int off,
                        unsigned int size, uint32_t val);

#endif
