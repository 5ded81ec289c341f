// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int vmm_boot_fail(char *err, size_t err_size, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return r;
}

int vmm_boot_read_file(const char *path, size_t max, struct vmm_boot_file *ret, char *err,
                       size_t err_size)
{
	struct stat st;
	void *data;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return vmm_boot_fail(err, err_size, r, "%s: %s", path, strerror(-r));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vmm_boot_fail(err, err_size, -EINVAL, "%s: not a regular file", path);
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return vmm_boot_fail(err, err_size, -EFBIG, "%s: size %lld is outside 1..%zu bytes",
		                     path, (long long)st.st_size, max);
	}
	/* A private mapping: if the file changes under us we keep the pages we saw. */
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	r = -errno;
	close(fd);
	if (data == MAP_FAILED)
		return vmm_boot_fail(err, err_size, r, "%s: %s", path, strerror(-r));
	ret->data = data;
	ret->size = (size_t)st.st_size;
	return 0;
}

void vmm_boot_file_free(struct vmm_boot_file *f)
{
	if (f->data)
		munmap((void *)f->data, f->size);
	f->data = NULL;
	f->size = 0;
}

unsigned int vmm_boot_e820(const struct vmm_mem *mem, struct vmm_e820 *map)
{
	unsigned int n = 0;

	/* Conventional memory, the EBDA (MP table) and the BIOS area, as on a PC. */
	map[n++] = (struct vmm_e820){ 0, VMM_BOOT_EBDA, 1 };
	map[n++] = (struct vmm_e820){ VMM_BOOT_EBDA, 0xa0000 - VMM_BOOT_EBDA, 2 };
	map[n++] = (struct vmm_e820){ 0xf0000, 0x10000, 2 };
	for (unsigned int i = 0; i < mem->nr_regions && n < VMM_E820_MAX; i++) {
		const struct vmm_mem_region *r = &mem->region[i];
		uint64_t start = r->gpa < 0x100000 ? 0x100000 : r->gpa;

		if (r->gpa + r->size > start)
			map[n++] = (struct vmm_e820){ start, r->gpa + r->size - start, 1 };
	}
	return n;
}

int vmm_boot_place_initrd(const struct vmm_boot_params *p, uint64_t min_addr, uint64_t max_addr,
                          uint64_t *ret_addr, uint64_t *ret_size, char *err, size_t err_size)
{
	const struct vmm_mem_region *low = &p->mem->region[0];
	struct vmm_boot_file f = { 0 };
	uint64_t top, addr;
	void *dst;
	int r;

	r = vmm_boot_read_file(p->initrd_path, VMM_BOOT_MAX_INITRD, &f, err, err_size);
	if (r < 0)
		return r;
	top = low->gpa + low->size;
	if (top > max_addr)
		top = max_addr;
	if (f.size > top) {
		vmm_boot_file_free(&f);
		return vmm_boot_fail(err, err_size, -ENOMEM,
		                     "initrd of %zu bytes does not fit in RAM", f.size);
	}
	/* As high as possible, 2 MiB aligned, above the kernel. */
	addr = (top - f.size) & ~((2ULL << 20) - 1);
	dst = vmm_mem_ptr(p->mem, addr, f.size);
	if (addr < min_addr || !dst) {
		vmm_boot_file_free(&f);
		return vmm_boot_fail(err, err_size, -ENOMEM,
		                     "initrd of %zu bytes does not fit above the kernel", f.size);
	}
	memcpy(dst, f.data, f.size);
	*ret_addr = addr;
	*ret_size = f.size;
	vmm_boot_file_free(&f);
	return 0;
}

int vmm_boot_load(const struct vmm_boot_params *p, struct vmm_boot_entry *ret, char *err,
                  size_t err_size)
{
	struct vmm_boot_file k = { 0 };
	int r;

	if (p->cmdline && strlen(p->cmdline) >= VMM_BOOT_MAX_CMDLINE)
		return vmm_boot_fail(err, err_size, -E2BIG, "command line longer than %d bytes",
		                     VMM_BOOT_MAX_CMDLINE - 1);
	r = vmm_boot_read_file(p->kernel_path, VMM_BOOT_MAX_KERNEL, &k, err, err_size);
	if (r < 0)
		return r;
	if (k.size >= 4 && memcmp(k.data, "\177ELF", 4) == 0)
		r = vmm_boot_pvh(p, &k, ret, err, err_size);
	else if (k.size >= 0x206 && memcmp(k.data + 0x202, "HdrS", 4) == 0)
		r = vmm_boot_linux(p, &k, ret, err, err_size);
	else
		r = vmm_boot_fail(err, err_size, -ENOEXEC,
		                  "%s: neither an ELF with a PVH note nor a Linux bzImage",
		                  p->kernel_path);
	vmm_boot_file_free(&k);
	return r;
}
