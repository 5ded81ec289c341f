// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/mem.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *vmm_mem_ptr(const struct vmm_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct vmm_mem_region *r = &mem->region[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		/* Written so that gpa + len cannot overflow. */
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int vmm_mem_read(const struct vmm_mem *mem, uint64_t gpa, void *buf, size_t len)
{
	void *p = vmm_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int vmm_mem_write(const struct vmm_mem *mem, uint64_t gpa, const void *buf, size_t len)
{
	void *p = vmm_mem_ptr(mem, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

static int map_region(struct vmm_mem *mem, uint64_t gpa, uint64_t size)
{
	struct vmm_mem_region *r = &mem->region[mem->nr_regions];
	void *host;

	host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	            -1, 0);
	if (host == MAP_FAILED)
		return -errno;
	/* Let the host back large guests with huge pages where it can. */
	madvise(host, size, MADV_HUGEPAGE);
	madvise(host, size, MADV_DONTDUMP);
	r->gpa = gpa;
	r->size = size;
	r->host = host;
	mem->nr_regions++;
	mem->ram_size += size;
	return 0;
}

int vmm_mem_init(struct vmm_mem *mem, uint64_t size)
{
	uint64_t low = size < VMM_MEM_HOLE_START ? size : VMM_MEM_HOLE_START;
	int r;

	memset(mem, 0, sizeof(*mem));
	if (size < (1u << 20) || size % 4096)
		return -EINVAL;
	r = map_region(mem, 0, low);
	if (r < 0)
		return r;
	if (size > low) {
		r = map_region(mem, VMM_MEM_HIGH_START, size - low);
		if (r < 0) {
			vmm_mem_exit(mem);
			return r;
		}
	}
	return 0;
}

void vmm_mem_exit(struct vmm_mem *mem)
{
	for (unsigned int i = 0; i < mem->nr_regions; i++)
		munmap(mem->region[i].host, mem->region[i].size);
	memset(mem, 0, sizeof(*mem));
}

int vmm_parse_size(const char *s, uint64_t *ret_size)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')
		end += (end[0] == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*ret_size = v * mult;
	return 0;
}
