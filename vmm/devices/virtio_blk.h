/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk (virtio 1.x, section 5.2) on a raw image file or block device.
 *
 * Requests are served synchronously on the vCPU thread that notified the
 * queue, under the device lock, with preadv/pwritev straight into guest
 * buffers. Every request is checked before any I/O: a 16-byte header, a
 * status byte as the last writable byte, sectors within the capacity, a
 * data length that is a multiple of 512 and at most VMM_VIRTIO_BLK_MAX_DATA.
 * A bad request is answered with VIRTIO_BLK_S_IOERR or _UNSUPP; only a
 * broken ring (see virtqueue.h) stops the device.
 */
#ifndef VDI_VMM_DEVICES_VIRTIO_BLK_H
#define VDI_VMM_DEVICES_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/devices/virtio_pci.h"
#include "vmm/mem.h"

#define VMM_VIRTIO_BLK_SECTOR 512
#define VMM_VIRTIO_BLK_QUEUE_SIZE 256
/* Largest segment and segment count we advertise (SIZE_MAX, SEG_MAX). */
#define VMM_VIRTIO_BLK_SIZE_MAX (256u << 10)
#define VMM_VIRTIO_BLK_SEG_MAX 126
/* Largest data transfer of one request; SIZE_MAX * SEG_MAX stays below it. */
#define VMM_VIRTIO_BLK_MAX_DATA (32u << 20)
/* Bytes of the GET_ID answer. */
#define VMM_VIRTIO_BLK_ID_BYTES 20

/* Feature bits (5.2.3). */
#define VMM_VIRTIO_BLK_F_SIZE_MAX 1
#define VMM_VIRTIO_BLK_F_SEG_MAX 2
#define VMM_VIRTIO_BLK_F_RO 5
#define VMM_VIRTIO_BLK_F_BLK_SIZE 6
#define VMM_VIRTIO_BLK_F_FLUSH 9

/* Request types and status values (5.2.6). */
#define VMM_VIRTIO_BLK_T_IN 0
#define VMM_VIRTIO_BLK_T_OUT 1
#define VMM_VIRTIO_BLK_T_FLUSH 4
#define VMM_VIRTIO_BLK_T_GET_ID 8
#define VMM_VIRTIO_BLK_S_OK 0
#define VMM_VIRTIO_BLK_S_IOERR 1
#define VMM_VIRTIO_BLK_S_UNSUPP 2

/* struct virtio_blk_config up to and including write_zeroes_may_unmap + padding. */
#define VMM_VIRTIO_BLK_CFG_SIZE 60

struct vmm_virtio_blk {
	struct vmm_virtio_pci vp; /* vp.lock guards the queue and the scratch below */
	int fd;
	bool read_only;
	uint64_t capacity; /* in 512-byte sectors */
	char id[VMM_VIRTIO_BLK_ID_BYTES];
	uint8_t cfg[VMM_VIRTIO_BLK_CFG_SIZE];
	bool error_logged;
	struct vmm_vq_chain chain;
	struct iovec iov[VMM_VQ_MAX_SEGS];
};

/*
 * Open @path (O_RDWR, or O_RDONLY when @read_only; O_CLOEXEC) as a disk on
 * guest RAM @mem (kept). The capacity is the size rounded down to whole
 * sectors. Returns 0 and the device in *@ret, or -errno (-EINVAL for an
 * image that is not a regular file or block device, or smaller than one
 * sector). Plug vmm_virtio_blk_pci(*ret) into the PCI bus. Main thread,
 * before the guest runs.
 */
int vmm_virtio_blk_new(const struct vmm_mem *mem, const char *path, bool read_only,
                       struct vmm_virtio_blk **ret);

/* Close the image and free the device (off the bus, vCPUs stopped); NULL is a no-op. */
void vmm_virtio_blk_free(struct vmm_virtio_blk *blk);

/* The PCI function to add to the bus; owned by @blk. */
struct vmm_pci_dev *vmm_virtio_blk_pci(struct vmm_virtio_blk *blk);

/* System reset: back to power-on state. Any thread. */
void vmm_virtio_blk_reset(struct vmm_virtio_blk *blk);

/* fsync() the image, for a clean shutdown. Returns 0 or -errno. Any thread. */
int vmm_virtio_blk_flush(struct vmm_virtio_blk *blk);

/* Capacity in 512-byte sectors. */
uint64_t vmm_virtio_blk_capacity(const struct vmm_virtio_blk *blk);

#endif
