// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/virtio_blk.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/log.h"

#define PCI_CLASS_STORAGE_SCSI 0x010000
#define BLK_HDR_BYTES 16

/* Offsets in struct virtio_blk_config. */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_NUM_QUEUES 34

__attribute__((format(printf, 2, 3))) static void req_error(struct vmm_virtio_blk *blk,
                                                            const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	/* Once per device: a guest looping on bad requests must not flood the log. */
	if (blk->error_logged)
		return;
	blk->error_logged = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("dev=%s bad request: %s (further ones not logged)", blk->vp.name, msg);
}

/*
 * Collect @len bytes of segments [@first, @end) of the chain, starting
 * @skip bytes in, into blk->iov. Returns the number of iovecs.
 */
static int gather(struct vmm_virtio_blk *blk, unsigned int first, unsigned int end, size_t skip,
                  size_t len)
{
	const struct vmm_vq_chain *c = &blk->chain;
	int n = 0;

	for (unsigned int i = first; i < end && len; i++) {
		size_t seg_len = c->seg[i].iov_len, take;

		if (skip >= seg_len) {
			skip -= seg_len;
			continue;
		}
		take = seg_len - skip;
		if (take > len)
			take = len;
		blk->iov[n].iov_base = (uint8_t *)c->seg[i].iov_base + skip;
		blk->iov[n].iov_len = take;
		n++;
		len -= take;
		skip = 0;
	}
	return n;
}

static int do_io(int fd, bool write, struct iovec *iov, int cnt, off_t off, size_t len)
{
	while (len) {
		ssize_t n = write ? pwritev(fd, iov, cnt, off) : preadv(fd, iov, cnt, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* the image shrank under us */
		off += n;
		len -= (size_t)n;
		while (n && cnt) {
			if ((size_t)n >= iov->iov_len) {
				n -= (ssize_t)iov->iov_len;
				iov++;
				cnt--;
			} else {
				iov->iov_base = (uint8_t *)iov->iov_base + n;
				iov->iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
	return 0;
}

/* Serve one request; returns the bytes written into the chain's writable buffers. */
static uint32_t handle_request(struct vmm_virtio_blk *blk)
{
	const struct vmm_vq_chain *c = &blk->chain;
	uint8_t hdr[BLK_HDR_BYTES], *status;
	const struct iovec *last;
	uint32_t type, data_len, used = 1;
	uint64_t sector;
	uint8_t st = VMM_VIRTIO_BLK_S_OK;
	bool write;
	int cnt, r;

	if (!c->writable_bytes) {
		/* Nowhere to put a status: give the chain back untouched. */
		req_error(blk, "chain at head %u has no status byte", c->head);
		return 0;
	}
	last = &c->seg[c->nr_segs - 1];
	status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (vmm_vq_chain_read(c, 0, hdr, sizeof(hdr)) < sizeof(hdr)) {
		req_error(blk, "header of %" PRIu32 " bytes", c->readable_bytes);
		*status = VMM_VIRTIO_BLK_S_IOERR;
		return 1;
	}
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	type = le32toh(type);
	sector = le64toh(sector);

	switch (type) {
	case VMM_VIRTIO_BLK_T_IN:
	case VMM_VIRTIO_BLK_T_OUT:
		write = type == VMM_VIRTIO_BLK_T_OUT;
		data_len = write ? c->readable_bytes - BLK_HDR_BYTES : c->writable_bytes - 1;
		if (write && blk->read_only) {
			req_error(blk, "write to a read-only disk");
			st = VMM_VIRTIO_BLK_S_IOERR;
			break;
		}
		if (data_len % VMM_VIRTIO_BLK_SECTOR || data_len > VMM_VIRTIO_BLK_MAX_DATA) {
			req_error(blk, "data length %" PRIu32, data_len);
			st = VMM_VIRTIO_BLK_S_IOERR;
			break;
		}
		if (sector > blk->capacity ||
		    data_len / VMM_VIRTIO_BLK_SECTOR > blk->capacity - sector) {
			req_error(blk, "sectors %" PRIu64 "+%" PRIu32 " beyond %" PRIu64, sector,
			          data_len / VMM_VIRTIO_BLK_SECTOR, blk->capacity);
			st = VMM_VIRTIO_BLK_S_IOERR;
			break;
		}
		if (write)
			cnt = gather(blk, 0, c->nr_readable, BLK_HDR_BYTES, data_len);
		else
			cnt = gather(blk, c->nr_readable, c->nr_segs, 0, data_len);
		r = do_io(blk->fd, write, blk->iov, cnt, (off_t)(sector * VMM_VIRTIO_BLK_SECTOR),
		          data_len);
		if (r < 0) {
			log_debug("dev=%s %s at sector %" PRIu64 ": %s", blk->vp.name,
			          write ? "write" : "read", sector, strerror(-r));
			st = VMM_VIRTIO_BLK_S_IOERR;
		} else if (!write) {
			used += data_len;
		}
		break;
	case VMM_VIRTIO_BLK_T_FLUSH:
		if (fdatasync(blk->fd) < 0) {
			log_debug("dev=%s flush: %s", blk->vp.name, strerror(errno));
			st = VMM_VIRTIO_BLK_S_IOERR;
		}
		break;
	case VMM_VIRTIO_BLK_T_GET_ID:
		data_len = c->writable_bytes - 1;
		if (data_len > VMM_VIRTIO_BLK_ID_BYTES)
			data_len = VMM_VIRTIO_BLK_ID_BYTES;
		used += (uint32_t)vmm_vq_chain_write(c, 0, blk->id, data_len);
		break;
	default:
		st = VMM_VIRTIO_BLK_S_UNSUPP;
		break;
	}
	*status = st;
	return used;
}

static void blk_queue_notify(void *backend, unsigned int qidx)
{
	struct vmm_virtio_blk *blk = backend;
	struct vmm_vq *vq = vmm_virtio_pci_queue(&blk->vp, qidx);
	bool pushed = false;

	if (!vq || qidx)
		return;
	while (vmm_vq_pop(vq, &blk->chain) > 0) {
		uint32_t used = handle_request(blk);

		if (vmm_vq_push(vq, blk->chain.head, used) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		vmm_virtio_pci_signal_used(&blk->vp, qidx);
}

static uint64_t blk_get_features(void *backend)
{
	struct vmm_virtio_blk *blk = backend;
	uint64_t f = 1ULL << VMM_VIRTIO_BLK_F_SIZE_MAX | 1ULL << VMM_VIRTIO_BLK_F_SEG_MAX |
	             1ULL << VMM_VIRTIO_BLK_F_BLK_SIZE | 1ULL << VMM_VIRTIO_BLK_F_FLUSH |
	             1ULL << VMM_VIRTIO_F_INDIRECT_DESC | 1ULL << VMM_VIRTIO_F_EVENT_IDX;

	if (blk->read_only)
		f |= 1ULL << VMM_VIRTIO_BLK_F_RO;
	return f;
}

static void blk_config_read(void *backend, unsigned int off, void *data, unsigned int size)
{
	struct vmm_virtio_blk *blk = backend;

	memcpy(data, &blk->cfg[off], size);
}

static const struct vmm_virtio_ops blk_ops = {
	.get_features = blk_get_features,
	.config_read = blk_config_read,
	/* Nothing is writable without VIRTIO_BLK_F_CONFIG_WCE. */
	.queue_notify = blk_queue_notify,
	.config_size = VMM_VIRTIO_BLK_CFG_SIZE,
};

static void put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int image_size(int fd, uint64_t *ret_size)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return -errno;
	} else {
		return -EINVAL;
	}
	*ret_size = size;
	return 0;
}

int vmm_virtio_blk_new(const struct vmm_mem *mem, const char *path, bool read_only,
                       struct vmm_virtio_blk **ret)
{
	struct vmm_virtio_blk *blk;
	const char *base;
	char id[VMM_VIRTIO_BLK_ID_BYTES + 1];
	uint64_t size = 0;
	int r;

	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	blk->read_only = read_only;
	blk->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd < 0) {
		r = -errno;
		goto out_free;
	}
	/* Two guests writing one image corrupt it; readers may share. */
	if (flock(blk->fd, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		r = -EBUSY;
		goto out_close;
	}
	r = image_size(blk->fd, &size);
	if (r < 0)
		goto out_close;
	blk->capacity = size / VMM_VIRTIO_BLK_SECTOR;
	if (!blk->capacity) {
		r = -EINVAL;
		goto out_close;
	}
	if (size % VMM_VIRTIO_BLK_SECTOR)
		log_debug("dev=virtio-blk %s: last %" PRIu64 " bytes are not a whole sector", path,
		          size % VMM_VIRTIO_BLK_SECTOR);

	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(id, sizeof(id), "vdi-%s", base);
	memcpy(blk->id, id, strlen(id)); /* up to 20 bytes, NUL only when shorter */

	put_le(&blk->cfg[CFG_CAPACITY], blk->capacity, 8);
	put_le(&blk->cfg[CFG_SIZE_MAX], VMM_VIRTIO_BLK_SIZE_MAX, 4);
	put_le(&blk->cfg[CFG_SEG_MAX], VMM_VIRTIO_BLK_SEG_MAX, 4);
	put_le(&blk->cfg[CFG_BLK_SIZE], VMM_VIRTIO_BLK_SECTOR, 4);
	put_le(&blk->cfg[CFG_NUM_QUEUES], 1, 2);

	r = vmm_virtio_pci_init(&blk->vp, "virtio-blk", VMM_VIRTIO_ID_BLOCK, PCI_CLASS_STORAGE_SCSI,
	                        &blk_ops, blk, mem, 1);
	if (r < 0)
		goto out_close;
	vmm_virtio_pci_set_queue_max(&blk->vp, 0, VMM_VIRTIO_BLK_QUEUE_SIZE);
	*ret = blk;
	return 0;

out_close:
	close(blk->fd);
out_free:
	free(blk);
	return r;
}

void vmm_virtio_blk_free(struct vmm_virtio_blk *blk)
{
	if (!blk)
		return;
	vmm_virtio_pci_exit(&blk->vp);
	close(blk->fd);
	free(blk);
}

struct vmm_pci_dev *vmm_virtio_blk_pci(struct vmm_virtio_blk *blk)
{
	return &blk->vp.pci;
}

void vmm_virtio_blk_reset(struct vmm_virtio_blk *blk)
{
	vmm_virtio_pci_reset(&blk->vp);
}

int vmm_virtio_blk_flush(struct vmm_virtio_blk *blk)
{
	if (fsync(blk->fd) < 0)
		return -errno;
	return 0;
}

uint64_t vmm_virtio_blk_capacity(const struct vmm_virtio_blk *blk)
{
	return blk->capacity;
}
