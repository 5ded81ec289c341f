// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/virtqueue.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/log.h"

/* Offsets inside the avail ("driver area") and used ("device area") rings. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING 4

void vmm_vq_init(struct vmm_vq *vq, const struct vmm_mem *mem, const char *name, unsigned int index,
                 void (*broken_fn)(void *opaque), void *opaque)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->name = name;
	vq->index = index;
	vq->broken_fn = broken_fn;
	vq->opaque = opaque;
}

void vmm_vq_reset(struct vmm_vq *vq)
{
	vmm_vq_init(vq, vq->mem, vq->name, vq->index, vq->broken_fn, vq->opaque);
}

__attribute__((format(printf, 2, 3))) static int mark_broken(struct vmm_vq *vq, const char *fmt,
                                                             ...)
{
	char why[160];
	va_list ap;

	if (vq->broken)
		return -EIO;
	vq->broken = true;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Once per queue and reset: a guest cannot flood the log with bad chains. */
	log_warn("dev=%s vq=%u guest error: %s; queue stopped until device reset", vq->name,
	         vq->index, why);
	if (vq->broken_fn)
		vq->broken_fn(vq->opaque);
	return -EIO;
}

static bool is_pow2(unsigned int v)
{
	return v && !(v & (v - 1));
}

static bool aligned(uint64_t gpa, const void *host, unsigned int align)
{
	return !(gpa & (align - 1)) && !((uintptr_t)host & (align - 1));
}

int vmm_vq_setup(struct vmm_vq *vq, unsigned int size, uint64_t desc_gpa, uint64_t avail_gpa,
                 uint64_t used_gpa, bool event_idx, bool indirect)
{
	void *desc, *avail, *used;

	vmm_vq_reset(vq);
	if (!is_pow2(size) || size > VMM_VQ_MAX_SIZE) {
		mark_broken(vq, "queue size %u", size);
		return -EINVAL;
	}
	desc = vmm_mem_ptr(vq->mem, desc_gpa, VMM_VRING_DESC_BYTES(size));
	avail = vmm_mem_ptr(vq->mem, avail_gpa, VMM_VRING_AVAIL_BYTES(size));
	used = vmm_mem_ptr(vq->mem, used_gpa, VMM_VRING_USED_BYTES(size));
	if (!desc || !avail || !used) {
		mark_broken(vq, "rings at 0x%" PRIx64 "/0x%" PRIx64 "/0x%" PRIx64 " outside RAM",
		            desc_gpa, avail_gpa, used_gpa);
		return -EFAULT;
	}
	/* The spec's alignments (2.7), which also keep our atomic accesses aligned. */
	if (!aligned(desc_gpa, desc, 16) || !aligned(avail_gpa, avail, 2) ||
	    !aligned(used_gpa, used, 4)) {
		mark_broken(vq, "misaligned rings 0x%" PRIx64 "/0x%" PRIx64 "/0x%" PRIx64, desc_gpa,
		            avail_gpa, used_gpa);
		return -EINVAL;
	}
	vq->size = (uint16_t)size;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->ready = true;
	return 0;
}

static uint16_t *avail_field(const struct vmm_vq *vq, unsigned int off)
{
	return (uint16_t *)(void *)(vq->avail + off);
}

static uint16_t *used_field16(const struct vmm_vq *vq, unsigned int off)
{
	return (uint16_t *)(void *)(vq->used + off);
}

static uint16_t load_avail_idx(const struct vmm_vq *vq)
{
	/* Acquire: the ring entries and descriptors the driver wrote before idx are visible. */
	return le16toh(__atomic_load_n(avail_field(vq, AVAIL_IDX), __ATOMIC_ACQUIRE));
}

/* used->avail_event: with EVENT_IDX, the avail index whose arrival the driver must signal. */
static void set_avail_event(struct vmm_vq *vq, uint16_t v)
{
	__atomic_store_n(used_field16(vq, USED_RING + 8u * vq->size), htole16(v), __ATOMIC_RELAXED);
}

/*
 * Read one descriptor exactly once: the guest may rewrite it while we look,
 * so every check and use below works on this private copy. The fence stops
 * the compiler from re-reading guest memory in place of the copy.
 */
static void read_desc(const uint8_t *p, struct vmm_vring_desc *d)
{
	memcpy(d, p, sizeof(*d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static int walk_chain(struct vmm_vq *vq, uint16_t head, struct vmm_vq_chain *c)
{
	const uint8_t *table = vq->desc;
	unsigned int table_len = vq->size, limit = vq->size, steps = 0, idx = head;
	bool in_indirect = false, seen_write = false;
	uint64_t total = 0;

	c->head = head;
	c->nr_segs = c->nr_readable = 0;
	c->readable_bytes = c->writable_bytes = 0;
	for (;;) {
		struct vmm_vring_desc d;
		void *p;

		/* Chains are at most as long as their table: more steps means a loop. */
		if (++steps > limit)
			return mark_broken(vq, "chain at head %u longer than %u descriptors%s",
			                   head, limit, in_indirect ? " (indirect)" : "");
		read_desc(table + 16u * idx, &d);
		if (d.flags & VMM_VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return mark_broken(vq, "indirect descriptor not negotiated");
			if (in_indirect)
				return mark_broken(vq, "nested indirect descriptor at head %u",
				                   head);
			if (d.flags & VMM_VRING_DESC_F_NEXT)
				return mark_broken(vq, "indirect descriptor with NEXT at head %u",
				                   head);
			if (!d.len || d.len % 16 || d.len / 16 > VMM_VQ_MAX_INDIRECT)
				return mark_broken(vq, "indirect table of %" PRIu32 " bytes",
				                   d.len);
			table = vmm_mem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return mark_broken(
				        vq, "indirect table 0x%" PRIx64 "+%" PRIu32 " outside RAM",
				        d.addr, d.len);
			table_len = limit = d.len / 16;
			steps = 0;
			idx = 0;
			in_indirect = true;
			continue;
		}
		if (d.flags & VMM_VRING_DESC_F_WRITE)
			seen_write = true;
		else if (seen_write)
			return mark_broken(
			        vq, "readable descriptor after a writable one at head %u", head);
		if (d.len) {
			if (c->nr_segs == VMM_VQ_MAX_SEGS)
				return mark_broken(vq, "chain at head %u has over %u buffers", head,
				                   VMM_VQ_MAX_SEGS);
			total += d.len;
			if (total > VMM_VQ_MAX_CHAIN_BYTES)
				return mark_broken(vq, "chain at head %u over %u bytes", head,
				                   VMM_VQ_MAX_CHAIN_BYTES);
			p = vmm_mem_ptr(vq->mem, d.addr, d.len);
			if (!p)
				return mark_broken(vq,
				                   "buffer 0x%" PRIx64 "+%" PRIu32 " outside RAM",
				                   d.addr, d.len);
			c->seg[c->nr_segs].iov_base = p;
			c->seg[c->nr_segs].iov_len = d.len;
			c->nr_segs++;
			if (d.flags & VMM_VRING_DESC_F_WRITE) {
				c->writable_bytes += d.len;
			} else {
				c->nr_readable++;
				c->readable_bytes += d.len;
			}
		}
		if (!(d.flags & VMM_VRING_DESC_F_NEXT))
			return 0;
		idx = d.next;
		if (idx >= table_len)
			return mark_broken(vq, "next index %u beyond the %s table of %u", idx,
			                   in_indirect ? "indirect" : "descriptor", table_len);
	}
}

int vmm_vq_pop(struct vmm_vq *vq, struct vmm_vq_chain *chain)
{
	uint16_t avail_idx, pending, head;
	int r;

	if (vq->broken)
		return -EIO;
	if (!vq->ready)
		return 0;
	avail_idx = load_avail_idx(vq);
	pending = (uint16_t)(avail_idx - vq->last_avail);
	if (!pending && vq->event_idx) {
		/*
		 * Ask to be told about the next buffer, then look again: one
		 * made available between our load and the store would
		 * otherwise go unnoticed until the next one.
		 */
		set_avail_event(vq, vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load_avail_idx(vq);
		pending = (uint16_t)(avail_idx - vq->last_avail);
	}
	if (!pending)
		return 0;
	if (pending > vq->size)
		return mark_broken(vq, "avail idx %u is %u entries ahead of %u", avail_idx, pending,
		                   vq->last_avail);
	head = le16toh(__atomic_load_n(
	        avail_field(vq, AVAIL_RING + 2u * (vq->last_avail % vq->size)), __ATOMIC_RELAXED));
	if (head >= vq->size)
		return mark_broken(vq, "head %u out of range %u", head, vq->size);
	r = walk_chain(vq, head, chain);
	if (r < 0)
		return r;
	vq->last_avail++;
	if (vq->event_idx)
		set_avail_event(vq, vq->last_avail);
	return 1;
}

int vmm_vq_push(struct vmm_vq *vq, uint16_t head, uint32_t len)
{
	uint32_t *elem;

	if (vq->broken || !vq->ready)
		return -EIO;
	if (head >= vq->size)
		return -EINVAL;
	elem = (uint32_t *)(void *)(vq->used + USED_RING + 8u * (vq->used_idx % vq->size));
	__atomic_store_n(&elem[0], htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&elem[1], htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the element and the data written into the buffers come first. */
	__atomic_store_n(used_field16(vq, USED_IDX), htole16(vq->used_idx), __ATOMIC_RELEASE);
	return 0;
}

bool vmm_vq_should_notify(struct vmm_vq *vq)
{
	uint16_t old, event;
	bool valid;

	if (!vq->ready || vq->broken)
		return false;
	/* Our used->idx store must be visible before we read what the driver asked for. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(le16toh(__atomic_load_n(avail_field(vq, AVAIL_FLAGS), __ATOMIC_RELAXED)) &
		         VMM_VRING_AVAIL_F_NO_INTERRUPT);
	event = le16toh(
	        __atomic_load_n(avail_field(vq, AVAIL_RING + 2u * vq->size), __ATOMIC_RELAXED));
	old = vq->signalled_used;
	valid = vq->signalled_valid;
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	/* Did used idx step over used_event since we last notified? (2.7.10) */
	return (uint16_t)(vq->used_idx - event - 1) < (uint16_t)(vq->used_idx - old);
}

size_t vmm_vq_chain_write(const struct vmm_vq_chain *chain, size_t off, const void *buf, size_t len)
{
	const uint8_t *src = buf;
	size_t done = 0;

	for (unsigned int i = chain->nr_readable; i < chain->nr_segs && done < len; i++) {
		size_t seg_len = chain->seg[i].iov_len, n;

		if (off >= seg_len) {
			off -= seg_len;
			continue;
		}
		n = seg_len - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)chain->seg[i].iov_base + off, src + done, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vmm_vq_chain_read(const struct vmm_vq_chain *chain, size_t off, void *buf, size_t len)
{
	uint8_t *dst = buf;
	size_t done = 0;

	for (unsigned int i = 0; i < chain->nr_readable && done < len; i++) {
		size_t seg_len = chain->seg[i].iov_len, n;

		if (off >= seg_len) {
			off -= seg_len;
			continue;
		}
		n = seg_len - off;
		if (n > len - done)
			n = len - done;
		memcpy(dst + done, (const uint8_t *)chain->seg[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}
