/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueues (virtio 1.x, section 2.7) seen from the device side,
 * independent of any transport so that it can be unit tested and fuzzed.
 *
 * The driver (the guest) owns the rings and is hostile: every address it
 * gives goes through vmm_mem_ptr() with its full length, every index and
 * length is checked against a named maximum, and a chain that breaks a rule
 * marks the queue broken. A broken queue logs once, calls the owner's
 * broken() hook (the transport sets DEVICE_NEEDS_RESET) and refuses all
 * further work until vmm_vq_reset(); it never crashes or loops.
 *
 * Locking: a queue has no lock of its own. Its owner serialises every call
 * (virtio-pci holds the device mutex). The guest writes the rings
 * concurrently; the engine reads each shared field once and orders its
 * accesses as the spec asks (acquire on avail->idx, release on used->idx,
 * a full fence before it looks at the driver's notification suppression).
 */
#ifndef VDI_VMM_DEVICES_VIRTQUEUE_H
#define VDI_VMM_DEVICES_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/mem.h"

/* Largest queue a device offers and the driver may configure (power of two). */
#define VMM_VQ_MAX_SIZE 1024
/* Most descriptors in one indirect table (16 bytes each). */
#define VMM_VQ_MAX_INDIRECT 1024
/* Most buffers (non-empty descriptors) in one chain, direct and indirect together. */
#define VMM_VQ_MAX_SEGS 1024
/* Most bytes a chain may describe in total. */
#define VMM_VQ_MAX_CHAIN_BYTES (64u << 20)

/* Ring layout (virtio 1.x 2.7.5 - 2.7.8). */
#define VMM_VRING_DESC_F_NEXT 1
#define VMM_VRING_DESC_F_WRITE 2
#define VMM_VRING_DESC_F_INDIRECT 4
#define VMM_VRING_AVAIL_F_NO_INTERRUPT 1
#define VMM_VRING_USED_F_NO_NOTIFY 1

struct vmm_vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vmm_vring_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Bytes of each ring part for a queue of @size entries, event fields included. */
#define VMM_VRING_DESC_BYTES(size) (16ULL * (size))
#define VMM_VRING_AVAIL_BYTES(size) (6ULL + 2ULL * (size))
#define VMM_VRING_USED_BYTES(size) (6ULL + 8ULL * (size))

/*
 * One popped descriptor chain: seg[0 .. nr_readable) are buffers the device
 * may only read (driver to device), seg[nr_readable .. nr_segs) buffers it
 * may only write. Every segment lies wholly inside guest RAM; empty
 * descriptors are left out. The pointers stay valid for the life of guest
 * RAM, but the guest may change the contents at any time.
 */
struct vmm_vq_chain {
	uint16_t head; /* give back to vmm_vq_push() */
	unsigned int nr_segs;
	unsigned int nr_readable;
	uint32_t readable_bytes;
	uint32_t writable_bytes;
	struct iovec seg[VMM_VQ_MAX_SEGS];
};

static inline bool vmm_vq_seg_writable(const struct vmm_vq_chain *c, unsigned int i)
{
	return i >= c->nr_readable;
}

struct vmm_vq {
	const struct vmm_mem *mem;
	const char *name;   /* device name for log lines, kept not copied */
	unsigned int index; /* queue number, for log lines */
	/* Called once when the queue turns broken; may be NULL. */
	void (*broken_fn)(void *opaque);
	void *opaque;

	bool ready;     /* set up and enabled */
	bool broken;    /* a rule was broken: no more processing until reset */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;  /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint16_t size;
	uint8_t *desc; /* host views of the rings, checked at setup */
	uint8_t *avail;
	uint8_t *used;
	uint16_t last_avail;     /* next avail ring entry to take */
	uint16_t used_idx;       /* our copy of used->idx */
	uint16_t signalled_used; /* used_idx when the driver was last notified */
	bool signalled_valid;
};

/*
 * Prepare @vq (queue @index of device @name), disabled, for rings in @mem
 * (both kept, not copied). @broken_fn,
 * if not NULL, is called with @opaque when the queue turns broken, from the
 * thread that called the failing vmm_vq_* function.
 */
void vmm_vq_init(struct vmm_vq *vq, const struct vmm_mem *mem, const char *name, unsigned int index,
                 void (*broken_fn)(void *opaque), void *opaque);

/*
 * Enable the queue with @size entries and the guest-physical ring addresses
 * the driver programmed. @event_idx and @indirect say which ring features
 * were negotiated. Returns 0, or -EINVAL for a size that is not a power of
 * two in 1..VMM_VQ_MAX_SIZE or a misaligned ring, -EFAULT for a ring not
 * wholly in RAM; on error the queue is marked broken (the driver asked for
 * something impossible) and stays disabled.
 */
int vmm_vq_setup(struct vmm_vq *vq, unsigned int size, uint64_t desc_gpa, uint64_t avail_gpa,
                 uint64_t used_gpa, bool event_idx, bool indirect);

/* Back to the state after vmm_vq_init(): disabled, not broken. */
void vmm_vq_reset(struct vmm_vq *vq);

/*
 * Take the next available chain into @chain. Returns 1 with @chain filled,
 * 0 when the driver has made nothing available (or the queue is not
 * enabled), -EIO when the queue is broken (now or before). A chain that is
 * taken must be given back with vmm_vq_push().
 */
int vmm_vq_pop(struct vmm_vq *vq, struct vmm_vq_chain *chain);

/*
 * Return chain @head to the driver with @len bytes written into its
 * writable buffers, and publish it. Returns 0, -EIO when the queue is
 * broken, -EINVAL for a head that is not a descriptor index.
 */
int vmm_vq_push(struct vmm_vq *vq, uint16_t head, uint32_t len);

/*
 * After one or more pushes: does the driver want a used buffer
 * notification (VRING_AVAIL_F_NO_INTERRUPT, or used_event with
 * VIRTIO_F_EVENT_IDX)? Records that it was asked, so call it once per batch
 * and notify when it says true.
 */
bool vmm_vq_should_notify(struct vmm_vq *vq);

/*
 * Copy @len bytes into the writable buffers of @chain, starting @off bytes
 * into them. Returns the bytes copied (less than @len when the buffers are
 * too small).
 */
size_t vmm_vq_chain_write(const struct vmm_vq_chain *chain, size_t off, const void *buf,
                          size_t len);

/* Copy up to @len bytes out of the readable buffers of @chain from @off; returns the count. */
size_t vmm_vq_chain_read(const struct vmm_vq_chain *chain, size_t off, void *buf, size_t len);

#endif
