// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the split virtqueue engine. The input is a ring
 * configuration followed by the contents of guest RAM (two regions, so
 * chains can straddle a hole) and then "racing guest" writes applied between
 * pops. Every chain the engine hands out must lie inside guest RAM; ASan
 * catches any access outside the exactly sized host buffers.
 *
 * Input layout:
 *   0      log2 of the queue size (0..11; above 10 is refused)
 *   1      bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 keep addresses raw
 *   2..7   desc, avail, used ring offsets (le16) into region A
 *   8..    region A (64 KiB), then region B (16 KiB), then writes
 *          (le16 offset into region A, one byte value) applied after each pop
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "vmm/devices/virtqueue.h"

#define REGION_A_GPA 0x0ULL
#define REGION_A_SIZE 0x10000u
#define REGION_B_GPA 0x20000ULL
#define REGION_B_SIZE 0x4000u
#define MAX_ROUNDS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vmm_vq_chain chain;

static void check_inside(const struct vmm_mem *mem, const void *p, size_t len)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const uint8_t *base = mem->region[i].host;

		if ((const uint8_t *)p >= base && len <= mem->region[i].size &&
		    (size_t)((const uint8_t *)p - base) <= mem->region[i].size - len)
			return;
	}
	abort();
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_mem mem = { 0 };
	struct vmm_vq vq;
	uint8_t *a, *b, scratch[64];
	uint64_t desc, avail, used;
	unsigned int qsize;
	size_t pos, n;
	bool raw;

	vdi_log_level = VDI_LOG_ERR; /* broken queues log a warning each */
	if (size < 8)
		return 0;
	a = calloc(1, REGION_A_SIZE);
	b = calloc(1, REGION_B_SIZE);
	if (!a || !b)
		abort();
	mem.region[0] = (struct vmm_mem_region){ REGION_A_GPA, REGION_A_SIZE, a };
	mem.region[1] = (struct vmm_mem_region){ REGION_B_GPA, REGION_B_SIZE, b };
	mem.nr_regions = 2;
	mem.ram_size = REGION_A_SIZE + REGION_B_SIZE;

	qsize = 1u << (data[0] % 12);
	raw = data[1] & 4;
	desc = REGION_A_GPA + le16(data + 2);
	avail = REGION_A_GPA + le16(data + 4);
	used = REGION_A_GPA + le16(data + 6);
	if (!raw) {
		desc &= ~15ULL;
		avail &= ~1ULL;
		used &= ~3ULL;
	}
	pos = 8;
	n = size - pos < REGION_A_SIZE ? size - pos : REGION_A_SIZE;
	memcpy(a, data + pos, n);
	pos += n;
	n = size - pos < REGION_B_SIZE ? size - pos : REGION_B_SIZE;
	memcpy(b, data + pos, n);
	pos += n;

	vmm_vq_init(&vq, &mem, "fuzz", 0, NULL, NULL);
	if (vmm_vq_setup(&vq, qsize, desc, avail, used, data[1] & 1, data[1] & 2) < 0)
		goto out;
	for (unsigned int round = 0; round < MAX_ROUNDS; round++) {
		int r = vmm_vq_pop(&vq, &chain);
		uint32_t total = 0;

		if (r <= 0)
			break;
		if (chain.head >= qsize || chain.nr_segs > VMM_VQ_MAX_SEGS ||
		    chain.nr_readable > chain.nr_segs)
			abort();
		for (unsigned int i = 0; i < chain.nr_segs; i++) {
			check_inside(&mem, chain.seg[i].iov_base, chain.seg[i].iov_len);
			total += (uint32_t)chain.seg[i].iov_len;
		}
		if (total != chain.readable_bytes + chain.writable_bytes ||
		    total > VMM_VQ_MAX_CHAIN_BYTES)
			abort();
		vmm_vq_chain_read(&chain, 0, scratch, sizeof(scratch));
		vmm_vq_chain_write(&chain, chain.writable_bytes / 2, scratch, sizeof(scratch));
		if (vmm_vq_push(&vq, chain.head, chain.writable_bytes) < 0)
			abort();
		vmm_vq_should_notify(&vq);
		/* The guest scribbles on its rings while we work. */
		if (size - pos >= 3) {
			a[le16(data + pos) % REGION_A_SIZE] = data[pos + 2];
			pos += 3;
		}
	}
out:
	free(a);
	free(b);
	return 0;
}
