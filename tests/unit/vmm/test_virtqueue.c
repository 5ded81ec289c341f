// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devices/virtqueue.h"

/* Fake guest RAM: 8 MiB at 64 KiB; rings at its start, buffers from 1 MiB. */
#define RAM_GPA 0x10000ULL
#define RAM_SIZE (8u << 20)
#define QSIZE 16
#define DESC_GPA (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x1000)
#define USED_GPA (RAM_GPA + 0x2000)
#define TABLE_GPA (RAM_GPA + 0x4000) /* indirect tables */
#define BUF_GPA (RAM_GPA + 0x100000)

struct fixture {
	uint8_t *ram;
	struct vmm_mem mem;
	struct vmm_vq vq;
	struct vmm_vq_chain chain;
	int broken_calls;
	uint16_t avail_idx;
};

static void on_broken(void *opaque)
{
	struct fixture *f = opaque;

	f->broken_calls++;
}

static struct fixture *setup(bool event_idx, bool indirect)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	ck_assert_ptr_nonnull(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	f->mem.region[0] = (struct vmm_mem_region){ RAM_GPA, RAM_SIZE, f->ram };
	f->mem.nr_regions = 1;
	f->mem.ram_size = RAM_SIZE;
	vmm_vq_init(&f->vq, &f->mem, "test", 0, on_broken, f);
	ck_assert_int_eq(
	        vmm_vq_setup(&f->vq, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, event_idx, indirect), 0);
	return f;
}

static void teardown(struct fixture *f)
{
	free(f->ram);
	free(f);
}

static void *host(struct fixture *f, uint64_t gpa)
{
	return f->ram + (gpa - RAM_GPA);
}

static void set_desc(struct fixture *f, uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
	struct vmm_vring_desc d = { addr, len, flags, next };

	memcpy(host(f, table + 16 * i), &d, sizeof(d));
}

static uint16_t *avail16(struct fixture *f, unsigned int off)
{
	return (uint16_t *)host(f, AVAIL_GPA + off);
}

static void make_available(struct fixture *f, uint16_t head)
{
	avail16(f, 4)[f->avail_idx % QSIZE] = head;
	f->avail_idx++;
	*avail16(f, 2) = f->avail_idx;
}

static uint16_t used_idx(struct fixture *f)
{
	return *(uint16_t *)host(f, USED_GPA + 2);
}

static struct vmm_vring_used_elem used_elem(struct fixture *f, unsigned int i)
{
	struct vmm_vring_used_elem e;

	memcpy(&e, host(f, USED_GPA + 4 + 8 * (i % QSIZE)), sizeof(e));
	return e;
}

/* The queue is broken: pop and push refuse, the owner was told exactly once. */
static void assert_broken(struct fixture *f)
{
	ck_assert(f->vq.broken);
	ck_assert_int_eq(f->broken_calls, 1);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), -EIO);
	ck_assert_int_eq(vmm_vq_push(&f->vq, 0, 0), -EIO);
	ck_assert(!vmm_vq_should_notify(&f->vq));
	ck_assert_int_eq(f->broken_calls, 1);
}

START_TEST(setup_checks_size_and_rings)
{
	struct fixture *f = setup(false, false);
	static const unsigned int bad_sizes[] = { 0, 3, 24, 2048, 65536 };

	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		f->broken_calls = 0;
		ck_assert_int_eq(vmm_vq_setup(&f->vq, bad_sizes[i], DESC_GPA, AVAIL_GPA, USED_GPA,
		                              false, false),
		                 -EINVAL);
		ck_assert(!f->vq.ready);
		assert_broken(f);
	}
	/* Outside RAM, below it, and a used ring whose last bytes run past its end. */
	f->broken_calls = 0;
	ck_assert_int_eq(vmm_vq_setup(&f->vq, QSIZE, 0x1000, AVAIL_GPA, USED_GPA, false, false),
	                 -EFAULT);
	assert_broken(f);
	f->broken_calls = 0;
	ck_assert_int_eq(vmm_vq_setup(&f->vq, QSIZE, DESC_GPA, AVAIL_GPA,
	                              RAM_GPA + RAM_SIZE - VMM_VRING_USED_BYTES(QSIZE) + 4, false,
	                              false),
	                 -EFAULT);
	assert_broken(f);
	f->broken_calls = 0;
	ck_assert_int_eq(vmm_vq_setup(&f->vq, QSIZE, ~0ULL - 8, AVAIL_GPA, USED_GPA, false, false),
	                 -EFAULT);
	assert_broken(f);
	/* Misaligned rings. */
	f->broken_calls = 0;
	ck_assert_int_eq(
	        vmm_vq_setup(&f->vq, QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA, false, false),
	        -EINVAL);
	assert_broken(f);
	f->broken_calls = 0;
	ck_assert_int_eq(
	        vmm_vq_setup(&f->vq, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2, false, false),
	        -EINVAL);
	assert_broken(f);
	/* The largest size, and a fresh setup clears the broken state. */
	ck_assert_int_eq(vmm_vq_setup(&f->vq, VMM_VQ_MAX_SIZE, DESC_GPA, RAM_GPA + 0x10000,
	                              RAM_GPA + 0x20000, false, false),
	                 0);
	ck_assert(f->vq.ready && !f->vq.broken);
	teardown(f);
}
END_TEST

START_TEST(pop_and_push)
{
	struct fixture *f = setup(false, false);
	struct vmm_vring_used_elem e;
	uint8_t out[12];

	/* A request: two readable buffers, then a writable one. */
	memcpy(host(f, BUF_GPA), "hello ", 6);
	memcpy(host(f, BUF_GPA + 0x100), "world!", 6);
	set_desc(f, DESC_GPA, 3, BUF_GPA, 6, VMM_VRING_DESC_F_NEXT, 7);
	set_desc(f, DESC_GPA, 7, BUF_GPA + 0x100, 6, VMM_VRING_DESC_F_NEXT, 1);
	set_desc(f, DESC_GPA, 1, BUF_GPA + 0x200, 100, VMM_VRING_DESC_F_WRITE, 0);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 0);
	make_available(f, 3);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
	ck_assert_uint_eq(f->chain.head, 3);
	ck_assert_uint_eq(f->chain.nr_segs, 3);
	ck_assert_uint_eq(f->chain.nr_readable, 2);
	ck_assert_uint_eq(f->chain.readable_bytes, 12);
	ck_assert_uint_eq(f->chain.writable_bytes, 100);
	ck_assert_ptr_eq(f->chain.seg[0].iov_base, host(f, BUF_GPA));
	ck_assert_ptr_eq(f->chain.seg[2].iov_base, host(f, BUF_GPA + 0x200));
	ck_assert(!vmm_vq_seg_writable(&f->chain, 1));
	ck_assert(vmm_vq_seg_writable(&f->chain, 2));
	/* Reading across segment boundaries, and writing into the writable part only. */
	ck_assert_uint_eq(vmm_vq_chain_read(&f->chain, 0, out, sizeof(out)), 12);
	ck_assert_mem_eq(out, "hello world!", 12);
	ck_assert_uint_eq(vmm_vq_chain_read(&f->chain, 4, out, sizeof(out)), 8);
	ck_assert_mem_eq(out, "o world!", 8);
	ck_assert_uint_eq(vmm_vq_chain_write(&f->chain, 10, "abc", 3), 3);
	ck_assert_mem_eq(host(f, BUF_GPA + 0x20a), "abc", 3);
	ck_assert_uint_eq(vmm_vq_chain_write(&f->chain, 98, "abc", 3), 2);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 0);

	ck_assert_int_eq(vmm_vq_push(&f->vq, 3, 13), 0);
	ck_assert_uint_eq(used_idx(f), 1);
	e = used_elem(f, 0);
	ck_assert_uint_eq(e.id, 3);
	ck_assert_uint_eq(e.len, 13);
	ck_assert_int_eq(vmm_vq_push(&f->vq, QSIZE, 0), -EINVAL);
	ck_assert(!f->vq.broken);
	teardown(f);
}
END_TEST

START_TEST(indices_wrap_around)
{
	struct fixture *f = setup(false, false);

	set_desc(f, DESC_GPA, 0, BUF_GPA, 8, VMM_VRING_DESC_F_WRITE, 0);
	for (unsigned int i = 0; i < 70000; i++) {
		make_available(f, 0);
		ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
		ck_assert_int_eq(vmm_vq_push(&f->vq, 0, 8), 0);
	}
	ck_assert_uint_eq(used_idx(f), (uint16_t)70000);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 0);
	teardown(f);
}
END_TEST

START_TEST(empty_descriptors_are_skipped)
{
	struct fixture *f = setup(false, false);

	/* A zero-length descriptor, even at an address outside RAM, carries nothing. */
	set_desc(f, DESC_GPA, 0, 0xdead0000ULL, 0, VMM_VRING_DESC_F_NEXT, 1);
	set_desc(f, DESC_GPA, 1, BUF_GPA, 4, 0, 0);
	make_available(f, 0);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
	ck_assert_uint_eq(f->chain.nr_segs, 1);
	ck_assert_uint_eq(f->chain.readable_bytes, 4);
	teardown(f);
}
END_TEST

START_TEST(notification_suppression)
{
	struct fixture *f = setup(false, false);

	set_desc(f, DESC_GPA, 0, BUF_GPA, 8, VMM_VRING_DESC_F_WRITE, 0);
	make_available(f, 0);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
	ck_assert_int_eq(vmm_vq_push(&f->vq, 0, 8), 0);
	ck_assert(vmm_vq_should_notify(&f->vq));
	*avail16(f, 0) = VMM_VRING_AVAIL_F_NO_INTERRUPT;
	ck_assert(!vmm_vq_should_notify(&f->vq));
	teardown(f);
}
END_TEST

START_TEST(event_idx)
{
	struct fixture *f = setup(true, false);
	uint16_t *used_event = avail16(f, 4 + 2 * QSIZE);
	uint16_t *avail_event = (uint16_t *)host(f, USED_GPA + 4 + 8 * QSIZE);

	for (unsigned int i = 0; i < 4; i++)
		set_desc(f, DESC_GPA, i, BUF_GPA + 64 * i, 8, VMM_VRING_DESC_F_WRITE, 0);
	/* Nothing there: the device asks to hear about entry 0. */
	*avail_event = 0xffff;
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 0);
	ck_assert_uint_eq(*avail_event, 0);
	for (unsigned int i = 0; i < 4; i++)
		make_available(f, (uint16_t)i);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
	ck_assert_uint_eq(*avail_event, 1);
	ck_assert_int_eq(vmm_vq_push(&f->vq, f->chain.head, 8), 0);
	/* The first notification always goes out. */
	*used_event = 5;
	ck_assert(vmm_vq_should_notify(&f->vq));
	/* used idx 1 -> 2 does not cross used_event 5 ... */
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
	ck_assert_int_eq(vmm_vq_push(&f->vq, f->chain.head, 8), 0);
	ck_assert(!vmm_vq_should_notify(&f->vq));
	/* ... but used idx 2 -> 4 steps over used_event 2. */
	*used_event = 2;
	for (unsigned int i = 0; i < 2; i++) {
		ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
		ck_assert_int_eq(vmm_vq_push(&f->vq, f->chain.head, 8), 0);
	}
	ck_assert(vmm_vq_should_notify(&f->vq));
	ck_assert(!vmm_vq_should_notify(&f->vq));
	teardown(f);
}
END_TEST

START_TEST(indirect_table)
{
	struct fixture *f = setup(false, true);

	set_desc(f, TABLE_GPA, 0, BUF_GPA, 16, VMM_VRING_DESC_F_NEXT, 2);
	set_desc(f, TABLE_GPA, 2, BUF_GPA + 0x100, 512, VMM_VRING_DESC_F_NEXT, 1);
	set_desc(f, TABLE_GPA, 1, BUF_GPA + 0x400, 1, VMM_VRING_DESC_F_WRITE, 0);
	/* The WRITE flag of the indirect descriptor itself is ignored. */
	set_desc(f, DESC_GPA, 5, TABLE_GPA, 3 * 16,
	         VMM_VRING_DESC_F_INDIRECT | VMM_VRING_DESC_F_WRITE, 0);
	make_available(f, 5);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
	ck_assert_uint_eq(f->chain.head, 5);
	ck_assert_uint_eq(f->chain.nr_segs, 3);
	ck_assert_uint_eq(f->chain.nr_readable, 2);
	ck_assert_uint_eq(f->chain.readable_bytes, 528);
	ck_assert_ptr_eq(f->chain.seg[2].iov_base, host(f, BUF_GPA + 0x400));
	ck_assert_int_eq(vmm_vq_push(&f->vq, 5, 1), 0);

	/* A direct chain may end in an indirect table. */
	set_desc(f, DESC_GPA, 6, BUF_GPA + 0x800, 4, VMM_VRING_DESC_F_NEXT, 5);
	make_available(f, 6);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
	ck_assert_uint_eq(f->chain.nr_segs, 4);
	ck_assert_uint_eq(f->chain.readable_bytes, 532);
	ck_assert_int_eq(f->broken_calls, 0);
	teardown(f);
}
END_TEST

/* One broken chain at head 0 of a fresh queue. */
static void expect_broken_chain(bool indirect, void (*build)(struct fixture *f))
{
	struct fixture *f = setup(false, indirect);

	build(f);
	make_available(f, 0);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), -EIO);
	assert_broken(f);
	ck_assert_uint_eq(used_idx(f), 0);
	/* Only a reset brings the queue back. */
	vmm_vq_reset(&f->vq);
	ck_assert(!f->vq.broken && !f->vq.ready);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 0);
	teardown(f);
}

static void build_loop(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, BUF_GPA, 8, VMM_VRING_DESC_F_NEXT, 1);
	set_desc(f, DESC_GPA, 1, BUF_GPA, 8, VMM_VRING_DESC_F_NEXT, 0);
}

static void build_self_loop(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, 0, 0, VMM_VRING_DESC_F_NEXT, 0);
}

static void build_out_of_ram(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, RAM_GPA + RAM_SIZE - 4, 8, VMM_VRING_DESC_F_WRITE, 0);
}

static void build_wrapping_addr(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, ~0ULL - 3, 8, 0, 0);
}

static void build_huge_len(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, BUF_GPA, 0xffffffffu, VMM_VRING_DESC_F_WRITE, 0);
}

static void build_too_many_bytes(struct fixture *f)
{
	/* 16 x 4 MiB + 1: every buffer in RAM, the total over the cap. */
	for (unsigned int i = 0; i < QSIZE - 1; i++)
		set_desc(f, DESC_GPA, i, BUF_GPA, 4u << 20, VMM_VRING_DESC_F_NEXT,
		         (uint16_t)(i + 1));
	set_desc(f, DESC_GPA, QSIZE - 1, BUF_GPA, (4u << 20) + 1, 0, 0);
}

static void build_next_out_of_range(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, BUF_GPA, 8, VMM_VRING_DESC_F_NEXT, QSIZE);
}

static void build_read_after_write(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, BUF_GPA, 8, VMM_VRING_DESC_F_WRITE | VMM_VRING_DESC_F_NEXT, 1);
	set_desc(f, DESC_GPA, 1, BUF_GPA, 8, 0, 0);
}

static void build_indirect_not_negotiated(struct fixture *f)
{
	set_desc(f, TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	set_desc(f, DESC_GPA, 0, TABLE_GPA, 16, VMM_VRING_DESC_F_INDIRECT, 0);
}

static void build_nested_indirect(struct fixture *f)
{
	set_desc(f, TABLE_GPA, 0, TABLE_GPA + 0x100, 16, VMM_VRING_DESC_F_INDIRECT, 0);
	set_desc(f, TABLE_GPA + 0x100, 0, BUF_GPA, 8, 0, 0);
	set_desc(f, DESC_GPA, 0, TABLE_GPA, 16, VMM_VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_with_next(struct fixture *f)
{
	set_desc(f, TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	set_desc(f, DESC_GPA, 0, TABLE_GPA, 16, VMM_VRING_DESC_F_INDIRECT | VMM_VRING_DESC_F_NEXT,
	         1);
	set_desc(f, DESC_GPA, 1, BUF_GPA, 8, 0, 0);
}

static void build_indirect_odd_len(struct fixture *f)
{
	set_desc(f, TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	set_desc(f, DESC_GPA, 0, TABLE_GPA, 24, VMM_VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_too_long(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, TABLE_GPA, 16 * (VMM_VQ_MAX_INDIRECT + 1),
	         VMM_VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_out_of_ram(struct fixture *f)
{
	set_desc(f, DESC_GPA, 0, RAM_GPA + RAM_SIZE - 16, 32, VMM_VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_next_escapes(struct fixture *f)
{
	/* Entry 1 of a two-entry table points at entry 2, which is outside the table. */
	set_desc(f, TABLE_GPA, 0, BUF_GPA, 8, VMM_VRING_DESC_F_NEXT, 1);
	set_desc(f, TABLE_GPA, 1, BUF_GPA, 8, VMM_VRING_DESC_F_NEXT, 2);
	set_desc(f, TABLE_GPA, 2, BUF_GPA, 8, 0, 0);
	set_desc(f, DESC_GPA, 0, TABLE_GPA, 32, VMM_VRING_DESC_F_INDIRECT, 0);
}

static void build_indirect_loop(struct fixture *f)
{
	set_desc(f, TABLE_GPA, 0, BUF_GPA, 8, VMM_VRING_DESC_F_NEXT, 1);
	set_desc(f, TABLE_GPA, 1, BUF_GPA, 8, VMM_VRING_DESC_F_NEXT, 0);
	set_desc(f, DESC_GPA, 0, TABLE_GPA, 32, VMM_VRING_DESC_F_INDIRECT, 0);
}

static void build_too_many_segments(struct fixture *f)
{
	/* Two direct buffers, then a full indirect table: over VMM_VQ_MAX_SEGS buffers. */
	for (unsigned int i = 0; i < VMM_VQ_MAX_INDIRECT; i++)
		set_desc(f, TABLE_GPA, i, BUF_GPA, 1,
		         i + 1 < VMM_VQ_MAX_INDIRECT ? VMM_VRING_DESC_F_NEXT : 0,
		         (uint16_t)(i + 1));
	set_desc(f, DESC_GPA, 0, BUF_GPA, 1, VMM_VRING_DESC_F_NEXT, 1);
	set_desc(f, DESC_GPA, 1, BUF_GPA, 1, VMM_VRING_DESC_F_NEXT, 2);
	set_desc(f, DESC_GPA, 2, TABLE_GPA, 16 * VMM_VQ_MAX_INDIRECT, VMM_VRING_DESC_F_INDIRECT, 0);
}

START_TEST(descriptor_loops)
{
	expect_broken_chain(false, build_loop);
	expect_broken_chain(false, build_self_loop);
	expect_broken_chain(true, build_indirect_loop);
}
END_TEST

START_TEST(buffers_outside_ram)
{
	expect_broken_chain(false, build_out_of_ram);
	expect_broken_chain(false, build_wrapping_addr);
	expect_broken_chain(true, build_indirect_out_of_ram);
}
END_TEST

START_TEST(huge_lengths)
{
	expect_broken_chain(false, build_huge_len);
	expect_broken_chain(false, build_too_many_bytes);
	expect_broken_chain(true, build_too_many_segments);
}
END_TEST

START_TEST(index_out_of_range)
{
	struct fixture *f = setup(false, false);

	make_available(f, QSIZE);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), -EIO);
	assert_broken(f);
	teardown(f);
	expect_broken_chain(false, build_next_out_of_range);
	expect_broken_chain(true, build_indirect_next_escapes);
}
END_TEST

START_TEST(bad_indirect_tables)
{
	expect_broken_chain(false, build_indirect_not_negotiated);
	expect_broken_chain(true, build_nested_indirect);
	expect_broken_chain(true, build_indirect_with_next);
	expect_broken_chain(true, build_indirect_odd_len);
	expect_broken_chain(true, build_indirect_too_long);
}
END_TEST

START_TEST(readable_after_writable)
{
	expect_broken_chain(false, build_read_after_write);
}
END_TEST

START_TEST(avail_idx_jump)
{
	struct fixture *f = setup(false, false);

	set_desc(f, DESC_GPA, 0, BUF_GPA, 8, 0, 0);
	/* Exactly a queue's worth ahead is fine ... */
	*avail16(f, 2) = QSIZE;
	for (unsigned int i = 0; i < QSIZE; i++) {
		ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 1);
		ck_assert_int_eq(vmm_vq_push(&f->vq, 0, 0), 0);
	}
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 0);
	/* ... more is a driver bug. */
	*avail16(f, 2) = 2 * QSIZE + 1;
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), -EIO);
	assert_broken(f);
	teardown(f);
}
END_TEST

START_TEST(not_ready)
{
	struct fixture *f = setup(false, false);

	vmm_vq_reset(&f->vq);
	make_available(f, 0);
	ck_assert_int_eq(vmm_vq_pop(&f->vq, &f->chain), 0);
	ck_assert_int_eq(vmm_vq_push(&f->vq, 0, 0), -EIO);
	ck_assert(!vmm_vq_should_notify(&f->vq));
	teardown(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_virtqueue");
	TCase *tc = tcase_create("virtqueue");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, setup_checks_size_and_rings);
	tcase_add_test(tc, pop_and_push);
	tcase_add_test(tc, indices_wrap_around);
	tcase_add_test(tc, empty_descriptors_are_skipped);
	tcase_add_test(tc, notification_suppression);
	tcase_add_test(tc, event_idx);
	tcase_add_test(tc, indirect_table);
	tcase_add_test(tc, descriptor_loops);
	tcase_add_test(tc, buffers_outside_ram);
	tcase_add_test(tc, huge_lengths);
	tcase_add_test(tc, index_out_of_range);
	tcase_add_test(tc, bad_indirect_tables);
	tcase_add_test(tc, readable_after_writable);
	tcase_add_test(tc, avail_idx_jump);
	tcase_add_test(tc, not_ready);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
