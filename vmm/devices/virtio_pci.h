/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The modern virtio-pci transport (virtio 1.x, section 4.1), without the
 * legacy interface and without MSI-X: interrupts are INTx, acknowledged by
 * reading the ISR status.
 *
 * One 16 KiB 64-bit memory BAR (BAR4) holds the four structures the vendor
 * capabilities point at; a fifth capability (VIRTIO_PCI_CAP_PCI_CFG) gives
 * a window onto the BAR through config space for firmware.
 *
 *   0x0000 common configuration   0x2000 device-specific configuration
 *   0x1000 ISR status             0x3000 notifications (queue N at N * 4)
 *
 * A backend (virtio-input, virtio-blk) fills a struct vmm_virtio_ops and
 * calls vmm_virtio_pci_init(); the machine then plugs vp->pci into the PCI
 * bus with vmm_pci_bus_add().
 *
 * Locking: one mutex per device (vp->lock) protects the transport and the
 * backend's queues. Every ops callback is called with it held, on the
 * thread that caused it (a vCPU for guest accesses, the caller of
 * vmm_virtio_pci_reset()). Backends entered from elsewhere (an injection
 * API on the loop thread) take it with vmm_virtio_pci_lock(). Functions
 * marked "locked" below must be called with it held. Lock order: the PCI
 * bus lock before vp->lock (config window accesses); never the reverse.
 */
#ifndef VDI_VMM_DEVICES_VIRTIO_PCI_H
#define VDI_VMM_DEVICES_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/devices/pci.h"
#include "vmm/devices/virtqueue.h"
#include "vmm/mem.h"

#define VMM_VIRTIO_PCI_VENDOR 0x1af4
#define VMM_VIRTIO_PCI_DEVICE_BASE 0x1040 /* + virtio device id */

/* Virtio device ids used here. */
#define VMM_VIRTIO_ID_BLOCK 2
#define VMM_VIRTIO_ID_INPUT 18

/* Device status bits (2.1). */
#define VMM_VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VMM_VIRTIO_STATUS_DRIVER 0x02
#define VMM_VIRTIO_STATUS_DRIVER_OK 0x04
#define VMM_VIRTIO_STATUS_FEATURES_OK 0x08
#define VMM_VIRTIO_STATUS_NEEDS_RESET 0x40
#define VMM_VIRTIO_STATUS_FAILED 0x80

/* Reserved feature bits (6); bit numbers. */
#define VMM_VIRTIO_F_INDIRECT_DESC 28
#define VMM_VIRTIO_F_EVENT_IDX 29
#define VMM_VIRTIO_F_VERSION_1 32

/* ISR status bits (4.1.4.5). */
#define VMM_VIRTIO_ISR_QUEUE 0x1
#define VMM_VIRTIO_ISR_CONFIG 0x2

/* Capabilities (4.1.4). */
#define VMM_VIRTIO_PCI_CAP_COMMON_CFG 1
#define VMM_VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VMM_VIRTIO_PCI_CAP_ISR_CFG 3
#define VMM_VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VMM_VIRTIO_PCI_CAP_PCI_CFG 5

/* BAR layout. */
#define VMM_VIRTIO_PCI_BAR 4
#define VMM_VIRTIO_PCI_BAR_SIZE 0x4000
#define VMM_VIRTIO_PCI_COMMON_OFF 0x0000
#define VMM_VIRTIO_PCI_COMMON_LEN 0x38
#define VMM_VIRTIO_PCI_ISR_OFF 0x1000
#define VMM_VIRTIO_PCI_DEVICE_OFF 0x2000
#define VMM_VIRTIO_PCI_DEVICE_MAX 0x1000
#define VMM_VIRTIO_PCI_NOTIFY_OFF 0x3000
#define VMM_VIRTIO_PCI_NOTIFY_MULT 4

/* Common configuration registers (4.1.4.3). */
#define VMM_VIRTIO_PCI_DFSELECT 0x00
#define VMM_VIRTIO_PCI_DF 0x04
#define VMM_VIRTIO_PCI_GFSELECT 0x08
#define VMM_VIRTIO_PCI_GF 0x0c
#define VMM_VIRTIO_PCI_MSIX_CONFIG 0x10
#define VMM_VIRTIO_PCI_NUM_QUEUES 0x12
#define VMM_VIRTIO_PCI_STATUS 0x14
#define VMM_VIRTIO_PCI_CFG_GENERATION 0x15
#define VMM_VIRTIO_PCI_Q_SELECT 0x16
#define VMM_VIRTIO_PCI_Q_SIZE 0x18
#define VMM_VIRTIO_PCI_Q_MSIX 0x1a
#define VMM_VIRTIO_PCI_Q_ENABLE 0x1c
#define VMM_VIRTIO_PCI_Q_NOFF 0x1e
#define VMM_VIRTIO_PCI_Q_DESC 0x20
#define VMM_VIRTIO_PCI_Q_DRIVER 0x28
#define VMM_VIRTIO_PCI_Q_DEVICE 0x30

#define VMM_VIRTIO_NO_VECTOR 0xffff
/* Most queues one device has. */
#define VMM_VIRTIO_PCI_MAX_QUEUES 8
/* Queue size offered unless the backend sets another. */
#define VMM_VIRTIO_PCI_DEFAULT_QUEUE_SIZE 256

/*
 * What a device backend provides. Every callback runs with vp->lock held
 * and receives the @backend pointer given to vmm_virtio_pci_init().
 */
struct vmm_virtio_ops {
	/* Device feature bits offered; the transport adds VERSION_1. */
	uint64_t (*get_features)(void *backend);
	/*
	 * The driver accepted @features (a validated subset of the offer,
	 * VERSION_1 included) by setting FEATURES_OK. Return 0, or -errno to
	 * refuse (FEATURES_OK then reads back clear). May be NULL.
	 */
	int (*set_features)(void *backend, uint64_t features);
	/* Device-specific config, @off + @size <= config_size (checked). */
	void (*config_read)(void *backend, unsigned int off, void *data, unsigned int size);
	void (*config_write)(void *backend, unsigned int off, const void *data, unsigned int size);
	/* The driver notified queue @qidx (enabled, after DRIVER_OK). */
	void (*queue_notify)(void *backend, unsigned int qidx);
	/* Device reset: forget all device state; the transport resets the queues. */
	void (*reset)(void *backend);
	/* Bytes of device-specific config, at most VMM_VIRTIO_PCI_DEVICE_MAX. */
	unsigned int config_size;
};

struct vmm_virtio_pci_queue {
	uint16_t max_size; /* what the device offers */
	uint16_t size;     /* what the driver chose */
	bool enabled;
	uint64_t desc, driver, device; /* ring addresses as programmed */
	struct vmm_vq vq;
};

struct vmm_virtio_pci {
	struct vmm_pci_dev pci; /* plug into the bus with vmm_pci_bus_add() */
	pthread_mutex_t lock;
	const char *name;
	unsigned int device_id;
	const struct vmm_virtio_ops *ops;
	void *backend;
	const struct vmm_mem *mem;
	unsigned int nr_queues;
	unsigned int pci_cfg_cap; /* config offset of the PCI_CFG window */

	/* Transport state below: vp->lock. */
	uint32_t dfselect, gfselect;
	uint64_t driver_features; /* as written by the driver */
	uint64_t features;        /* accepted with FEATURES_OK */
	uint8_t status;
	uint8_t config_generation;
	uint16_t queue_select;
	uint8_t isr;
	bool irq_level; /* what we drive INTA# to now */
	struct vmm_virtio_pci_queue queue[VMM_VIRTIO_PCI_MAX_QUEUES];
};

/*
 * Set up @vp as virtio device @device_id (PCI id 0x1040 + @device_id) with
 * PCI class @class_code, @nr_queues queues (1..VMM_VIRTIO_PCI_MAX_QUEUES)
 * of VMM_VIRTIO_PCI_DEFAULT_QUEUE_SIZE entries, guest RAM @mem. @name, @ops,
 * @backend and @mem are kept, not copied. Returns 0 or -EINVAL. Call
 * vmm_virtio_pci_exit() to undo. Not thread-safe: before the guest runs.
 */
int vmm_virtio_pci_init(struct vmm_virtio_pci *vp, const char *name, unsigned int device_id,
                        uint32_t class_code, const struct vmm_virtio_ops *ops, void *backend,
                        const struct vmm_mem *mem, unsigned int nr_queues);

/* Release what init took. The device must be off the PCI bus or the bus gone. */
void vmm_virtio_pci_exit(struct vmm_virtio_pci *vp);

/*
 * Offer queue @qidx with at most @size entries (a power of two up to
 * VMM_VQ_MAX_SIZE). Returns 0 or -EINVAL. Before the guest runs.
 */
int vmm_virtio_pci_set_queue_max(struct vmm_virtio_pci *vp, unsigned int qidx, unsigned int size);

/* Take and release vp->lock, for backend entry points outside the callbacks. */
void vmm_virtio_pci_lock(struct vmm_virtio_pci *vp);
void vmm_virtio_pci_unlock(struct vmm_virtio_pci *vp);

/*
 * Locked. The queue @qidx when the driver has enabled it and the device is
 * running (DRIVER_OK, no reset needed), else NULL.
 */
struct vmm_vq *vmm_virtio_pci_queue(struct vmm_virtio_pci *vp, unsigned int qidx);

/*
 * Locked. Used buffers were pushed on queue @qidx: if the driver wants to
 * know, set ISR bit 0 and assert INTx. Call once per batch.
 */
void vmm_virtio_pci_signal_used(struct vmm_virtio_pci *vp, unsigned int qidx);

/* Locked. The device-specific config changed: new generation, ISR bit 1, INTx. */
void vmm_virtio_pci_config_changed(struct vmm_virtio_pci *vp);

/*
 * Locked. Something went wrong that only a device reset can cure: set
 * DEVICE_NEEDS_RESET and tell the driver with a config change interrupt.
 * Broken queues call this on their own.
 */
void vmm_virtio_pci_set_needs_reset(struct vmm_virtio_pci *vp);

/* Locked. True when the driver has set DRIVER_OK and no reset is needed. */
bool vmm_virtio_pci_driver_ok(const struct vmm_virtio_pci *vp);

/*
 * Reset the device as a system reset does (status 0, queues off, INTx
 * released, backend reset). Takes vp->lock; any thread but a callback.
 */
void vmm_virtio_pci_reset(struct vmm_virtio_pci *vp);

/*
 * The BAR4 access handler, as registered on the I/O bus; exposed for tests.
 * Takes vp->lock. 1, 2 and 4-byte accesses; 8-byte ones are split in two.
 */
void vmm_virtio_pci_bar_io(void *opaque, uint64_t offset, void *data, unsigned int size,
                           bool is_write);

#endif
