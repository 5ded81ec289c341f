// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/devices/virtio_blk.h"

#define RAM_GPA 0x100000ULL
#define RAM_SIZE (8u << 20)
#define QSIZE 16
#define DESC_GPA (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x1000)
#define USED_GPA (RAM_GPA + 0x2000)
#define HDR_GPA (RAM_GPA + 0x8000)
#define STATUS_GPA (RAM_GPA + 0x9000)
#define DATA_GPA (RAM_GPA + 0x100000)
#define DISK_SECTORS 2048

struct fixture {
	uint8_t *ram;
	struct vmm_mem mem;
	char path[64];
	int fd; /* our own handle on the image, to check what the device did */
	struct vmm_virtio_blk *blk;
	uint16_t avail_idx;
};

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512);
}

static void *host(struct fixture *f, uint64_t gpa)
{
	return f->ram + (gpa - RAM_GPA);
}

static uint32_t rd(struct fixture *f, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	vmm_virtio_pci_bar_io(&f->blk->vp, off, &v, size, false);
	return v;
}

static void wr(struct fixture *f, unsigned int off, unsigned int size, uint32_t v)
{
	vmm_virtio_pci_bar_io(&f->blk->vp, off, &v, size, true);
}

static void wr64(struct fixture *f, unsigned int off, uint64_t v)
{
	wr(f, off, 4, (uint32_t)v);
	wr(f, off + 4, 4, (uint32_t)(v >> 32));
}

static void bring_up(struct fixture *f)
{
	f->avail_idx = 0;
	memset(f->ram, 0, 0x4000);
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0);
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 3);
	wr(f, VMM_VIRTIO_PCI_GFSELECT, 4, 1);
	wr(f, VMM_VIRTIO_PCI_GF, 4, 1);
	wr(f, VMM_VIRTIO_PCI_GFSELECT, 4, 0);
	wr(f, VMM_VIRTIO_PCI_GF, 4,
	   1u << VMM_VIRTIO_BLK_F_FLUSH | 1u << VMM_VIRTIO_F_INDIRECT_DESC);
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0x0b);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), 0x0b);
	wr(f, VMM_VIRTIO_PCI_Q_SELECT, 2, 0);
	wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, QSIZE);
	wr64(f, VMM_VIRTIO_PCI_Q_DESC, DESC_GPA);
	wr64(f, VMM_VIRTIO_PCI_Q_DRIVER, AVAIL_GPA);
	wr64(f, VMM_VIRTIO_PCI_Q_DEVICE, USED_GPA);
	wr(f, VMM_VIRTIO_PCI_Q_ENABLE, 2, 1);
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0x0f);
}

static void open_disk(struct fixture *f, bool read_only)
{
	ck_assert_int_eq(vmm_virtio_blk_new(&f->mem, f->path, read_only, &f->blk), 0);
	bring_up(f);
}

static struct fixture *setup(bool read_only)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint8_t *img = malloc(DISK_SECTORS * 512);

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(img);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	memset(f->ram, 0, RAM_SIZE);
	f->mem.region[0] = (struct vmm_mem_region){ RAM_GPA, RAM_SIZE, f->ram };
	f->mem.nr_regions = 1;
	snprintf(f->path, sizeof(f->path), "/tmp/test-virtio-blk-image-XXXXXX");
	f->fd = mkstemp(f->path);
	ck_assert_int_ge(f->fd, 0);
	for (unsigned int i = 0; i < DISK_SECTORS * 512; i++)
		img[i] = pattern(i);
	ck_assert_int_eq(pwrite(f->fd, img, DISK_SECTORS * 512, 0), DISK_SECTORS * 512);
	free(img);
	open_disk(f, read_only);
	return f;
}

static void teardown(struct fixture *f)
{
	vmm_virtio_blk_free(f->blk);
	close(f->fd);
	unlink(f->path);
	free(f->ram);
	free(f);
}

/* Submit one chain and let the device run it; returns the used length. */
static uint32_t submit(struct fixture *f, const struct seg *s, unsigned int n)
{
	uint16_t *avail = host(f, AVAIL_GPA);
	uint16_t used_before = *(uint16_t *)host(f, USED_GPA + 2);
	struct vmm_vring_used_elem e;

	for (unsigned int i = 0; i < n; i++) {
		struct vmm_vring_desc d = { s[i].gpa, s[i].len,
			                    (uint16_t)((s[i].write ? VMM_VRING_DESC_F_WRITE : 0) |
			                               (i + 1 < n ? VMM_VRING_DESC_F_NEXT : 0)),
			                    (uint16_t)(i + 1) };

		memcpy(host(f, DESC_GPA + 16 * i), &d, sizeof(d));
	}
	avail[2 + f->avail_idx % QSIZE] = 0;
	f->avail_idx++;
	avail[1] = f->avail_idx;
	wr(f, VMM_VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	ck_assert_uint_eq(*(uint16_t *)host(f, USED_GPA + 2), (uint16_t)(used_before + 1));
	memcpy(&e, host(f, USED_GPA + 4 + 8 * (used_before % QSIZE)), sizeof(e));
	ck_assert_uint_eq(e.id, 0);
	return e.len;
}

static void set_header(struct fixture *f, uint32_t type, uint64_t sector)
{
	uint8_t *h = host(f, HDR_GPA);

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	*(uint8_t *)host(f, STATUS_GPA) = 0xee;
}

/* The usual three-part request; returns the status byte, the used length in *used. */
static uint8_t request(struct fixture *f, uint32_t type, uint64_t sector, uint32_t len,
                       uint32_t *used)
{
	struct seg s[3] = {
		{ HDR_GPA, 16, false },
		{ DATA_GPA, len, type != VMM_VIRTIO_BLK_T_OUT },
		{ STATUS_GPA, 1, true },
	};
	uint32_t u;

	set_header(f, type, sector);
	if (len) {
		u = submit(f, s, 3);
	} else {
		s[1] = s[2];
		u = submit(f, s, 2);
	}
	if (used)
		*used = u;
	return *(uint8_t *)host(f, STATUS_GPA);
}

static bool disk_matches_pattern(struct fixture *f, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len);
	bool ok = pread(f->fd, buf, len, (off_t)off) == (ssize_t)len;

	for (size_t i = 0; ok && i < len; i++)
		ok = buf[i] == pattern(off + i);
	free(buf);
	return ok;
}

START_TEST(config_and_features)
{
	struct fixture *f = setup(false);
	uint32_t df;

	ck_assert_uint_eq(vmm_pci_cfg_get16(vmm_virtio_blk_pci(f->blk), PCI_DEVICE_ID), 0x1042);
	ck_assert_uint_eq(vmm_virtio_blk_capacity(f->blk), DISK_SECTORS);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 0, 4), DISK_SECTORS);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 4, 4), 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 8, 4), VMM_VIRTIO_BLK_SIZE_MAX);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 12, 4), VMM_VIRTIO_BLK_SEG_MAX);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 20, 4), 512);
	/* SIZE_MAX x SEG_MAX stays within what one request may carry. */
	ck_assert_uint_le((uint64_t)VMM_VIRTIO_BLK_SIZE_MAX * VMM_VIRTIO_BLK_SEG_MAX,
	                  VMM_VIRTIO_BLK_MAX_DATA);
	wr(f, VMM_VIRTIO_PCI_DFSELECT, 4, 0);
	df = rd(f, VMM_VIRTIO_PCI_DF, 4);
	ck_assert(df & 1u << VMM_VIRTIO_BLK_F_FLUSH);
	ck_assert(df & 1u << VMM_VIRTIO_BLK_F_SEG_MAX);
	ck_assert(df & 1u << VMM_VIRTIO_BLK_F_BLK_SIZE);
	ck_assert(!(df & 1u << VMM_VIRTIO_BLK_F_RO));
	teardown(f);
}
END_TEST

START_TEST(read_and_write)
{
	struct fixture *f = setup(false);
	uint32_t used;
	uint8_t buf[1024];

	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, 3, 1024, &used), VMM_VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, 1025);
	for (unsigned int i = 0; i < 1024; i++)
		ck_assert_uint_eq(((uint8_t *)host(f, DATA_GPA))[i], pattern(3 * 512 + i));

	memset(host(f, DATA_GPA), 0x5a, 1024);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_OUT, 10, 1024, &used), VMM_VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, 1);
	ck_assert_int_eq(pread(f->fd, buf, sizeof(buf), 10 * 512), sizeof(buf));
	for (unsigned int i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0x5a);
	ck_assert(disk_matches_pattern(f, 9 * 512, 512));
	ck_assert(disk_matches_pattern(f, 12 * 512, 512));
	/* The last sector, and an empty transfer. */
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, NULL),
	                  VMM_VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, 0, 0, &used), VMM_VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_FLUSH, 0, 0, &used), VMM_VIRTIO_BLK_S_OK);
	ck_assert_int_eq(vmm_virtio_blk_flush(f->blk), 0);
	teardown(f);
}
END_TEST

START_TEST(get_id_and_unsupported)
{
	struct fixture *f = setup(false);
	uint32_t used;
	char id[21] = { 0 };

	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_GET_ID, 0, 20, &used), VMM_VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(used, 21);
	memcpy(id, host(f, DATA_GPA), 20);
	/* "vdi-" and the image's name, cut at 20 bytes. */
	ck_assert_str_eq(id, "vdi-test-virtio-blk-");
	ck_assert_uint_eq(request(f, 11 /* DISCARD */, 0, 0, &used), VMM_VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(request(f, 0xdeadbeef, 0, 512, NULL), VMM_VIRTIO_BLK_S_UNSUPP);
	teardown(f);
}
END_TEST

START_TEST(read_only_disk)
{
	struct fixture *f = setup(true);
	uint32_t used;

	wr(f, VMM_VIRTIO_PCI_DFSELECT, 4, 0);
	ck_assert(rd(f, VMM_VIRTIO_PCI_DF, 4) & 1u << VMM_VIRTIO_BLK_F_RO);
	memset(host(f, DATA_GPA), 0x5a, 512);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_OUT, 0, 512, &used), VMM_VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(used, 1);
	ck_assert(disk_matches_pattern(f, 0, 512));
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, 0, 512, NULL), VMM_VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_FLUSH, 0, 0, NULL), VMM_VIRTIO_BLK_S_OK);
	teardown(f);
}
END_TEST

START_TEST(beyond_capacity)
{
	struct fixture *f = setup(false);
	uint32_t used;

	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, DISK_SECTORS, 512, &used),
	                  VMM_VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024, NULL),
	                  VMM_VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, 1024, NULL),
	                  VMM_VIRTIO_BLK_S_IOERR);
	/* sector * 512 and sector + count would wrap. */
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, UINT64_MAX, 512, NULL),
	                  VMM_VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, NULL),
	                  VMM_VIRTIO_BLK_S_IOERR);
	ck_assert(disk_matches_pattern(f, 0, DISK_SECTORS * 512));
	/* Still serving. */
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, 0, 512, NULL), VMM_VIRTIO_BLK_S_OK);
	teardown(f);
}
END_TEST

START_TEST(bad_requests)
{
	struct fixture *f = setup(false);
	struct seg s[12];
	uint32_t used;

	/* Not a whole number of sectors. */
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, 0, 100, &used), VMM_VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(used, 1);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_OUT, 0, 513, NULL), VMM_VIRTIO_BLK_S_IOERR);
	/* A short header. */
	set_header(f, VMM_VIRTIO_BLK_T_IN, 0);
	s[0] = (struct seg){ HDR_GPA, 8, false };
	s[1] = (struct seg){ STATUS_GPA, 1, true };
	ck_assert_uint_eq(submit(f, s, 2), 1);
	ck_assert_uint_eq(*(uint8_t *)host(f, STATUS_GPA), VMM_VIRTIO_BLK_S_IOERR);
	/* No status byte: nothing written, chain handed back with length 0. */
	set_header(f, VMM_VIRTIO_BLK_T_OUT, 0);
	s[0] = (struct seg){ HDR_GPA, 16, false };
	s[1] = (struct seg){ DATA_GPA, 512, false };
	ck_assert_uint_eq(submit(f, s, 2), 0);
	ck_assert(disk_matches_pattern(f, 0, 512));
	/* Oversized: 9 x 4 MiB to read (the same guest buffer each time). */
	set_header(f, VMM_VIRTIO_BLK_T_IN, 0);
	s[0] = (struct seg){ HDR_GPA, 16, false };
	for (unsigned int i = 1; i <= 9; i++)
		s[i] = (struct seg){ DATA_GPA, 4u << 20, true };
	s[10] = (struct seg){ STATUS_GPA, 1, true };
	ck_assert_uint_eq(submit(f, s, 11), 1);
	ck_assert_uint_eq(*(uint8_t *)host(f, STATUS_GPA), VMM_VIRTIO_BLK_S_IOERR);
	/* The device is fine after all that. */
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), 0x0f);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, 1, 512, NULL), VMM_VIRTIO_BLK_S_OK);
	teardown(f);
}
END_TEST

START_TEST(any_framing)
{
	struct fixture *f = setup(false);
	struct seg s[4];
	uint8_t *data = host(f, DATA_GPA);

	/* Header in two pieces; data and status share one buffer. */
	set_header(f, VMM_VIRTIO_BLK_T_IN, 5);
	s[0] = (struct seg){ HDR_GPA, 8, false };
	s[1] = (struct seg){ HDR_GPA + 8, 8, false };
	s[2] = (struct seg){ DATA_GPA, 513, true };
	ck_assert_uint_eq(submit(f, s, 3), 513);
	ck_assert_uint_eq(data[512], VMM_VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 512; i++)
		ck_assert_uint_eq(data[i], pattern(5 * 512 + i));
	/* Header and data in one readable buffer. */
	memcpy(host(f, DATA_GPA - 16), host(f, HDR_GPA), 16);
	((uint8_t *)host(f, DATA_GPA - 16))[0] = VMM_VIRTIO_BLK_T_OUT;
	memset(data, 0xa5, 512);
	s[0] = (struct seg){ DATA_GPA - 16, 528, false };
	s[1] = (struct seg){ STATUS_GPA, 1, true };
	ck_assert_uint_eq(submit(f, s, 2), 1);
	ck_assert_uint_eq(*(uint8_t *)host(f, STATUS_GPA), VMM_VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, 5, 512, NULL), VMM_VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 512; i++)
		ck_assert_uint_eq(data[i], 0xa5);
	teardown(f);
}
END_TEST

START_TEST(broken_ring_then_reset)
{
	struct fixture *f = setup(false);
	struct vmm_vring_desc d = { HDR_GPA, 16, VMM_VRING_DESC_F_NEXT, 0 };
	uint16_t *avail = host(f, AVAIL_GPA);

	/* A descriptor that chains to itself. */
	memcpy(host(f, DESC_GPA), &d, sizeof(d));
	avail[2] = 0;
	avail[1] = 1;
	wr(f, VMM_VIRTIO_PCI_NOTIFY_OFF, 2, 0);
	ck_assert(rd(f, VMM_VIRTIO_PCI_STATUS, 1) & VMM_VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(*(uint16_t *)host(f, USED_GPA + 2), 0);
	vmm_virtio_blk_reset(f->blk);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), 0);
	bring_up(f);
	ck_assert_uint_eq(request(f, VMM_VIRTIO_BLK_T_IN, 0, 512, NULL), VMM_VIRTIO_BLK_S_OK);
	teardown(f);
}
END_TEST

START_TEST(open_errors)
{
	struct fixture *f = setup(false);
	struct vmm_virtio_blk *other = NULL;
	char path[64];
	int fd;

	vmm_virtio_blk_free(NULL);
	ck_assert_int_eq(vmm_virtio_blk_new(&f->mem, "/nonexistent/disk.img", false, &other),
	                 -ENOENT);
	ck_assert_int_eq(vmm_virtio_blk_new(&f->mem, "/tmp", true, &other), -EINVAL);
	/* Already in use by f->blk. */
	ck_assert_int_eq(vmm_virtio_blk_new(&f->mem, f->path, false, &other), -EBUSY);
	ck_assert_int_eq(vmm_virtio_blk_new(&f->mem, f->path, true, &other), -EBUSY);
	ck_assert_ptr_null(other);
	/* Empty, and a partial last sector. */
	snprintf(path, sizeof(path), "/tmp/test-virtio-blk-small-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(vmm_virtio_blk_new(&f->mem, path, false, &other), -EINVAL);
	ck_assert_int_eq(pwrite(fd, "x", 1, 1000), 1);
	ck_assert_int_eq(vmm_virtio_blk_new(&f->mem, path, true, &other), 0);
	ck_assert_uint_eq(vmm_virtio_blk_capacity(other), 1);
	vmm_virtio_blk_free(other);
	close(fd);
	unlink(path);
	teardown(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_virtio_blk");
	TCase *tc = tcase_create("virtio_blk");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, config_and_features);
	tcase_add_test(tc, read_and_write);
	tcase_add_test(tc, get_id_and_unsupported);
	tcase_add_test(tc, read_only_disk);
	tcase_add_test(tc, beyond_capacity);
	tcase_add_test(tc, bad_requests);
	tcase_add_test(tc, any_framing);
	tcase_add_test(tc, broken_ring_then_reset);
	tcase_add_test(tc, open_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
