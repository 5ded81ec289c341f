// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * PVH boot: load the PT_LOAD segments of an ELF image, find the
 * XEN_ELFNOTE_PHYS32_ENTRY note, and build struct hvm_start_info with the
 * memory map, the command line and the initrd as module 0.
 */
#include "vmm/boot.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578
#define ELF_MAX_PHDRS 64

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* One program header, whichever the ELF class. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static bool read_phdr(const struct vmm_boot_file *k, bool is64, uint64_t off, struct phdr *ret)
{
	if (is64) {
		Elf64_Phdr ph;

		if (off > k->size || k->size - off < sizeof(ph))
			return false;
		memcpy(&ph, k->data + off, sizeof(ph));
		*ret = (struct phdr){ ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz };
	} else {
		Elf32_Phdr ph;

		if (off > k->size || k->size - off < sizeof(ph))
			return false;
		memcpy(&ph, k->data + off, sizeof(ph));
		*ret = (struct phdr){ ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz };
	}
	return true;
}

/* Look for the PVH entry in one PT_NOTE segment; returns 0 if absent. */
static uint64_t find_pvh_entry(const struct vmm_boot_file *k, const struct phdr *ph)
{
	uint64_t pos = ph->offset, end;

	if (ph->offset > k->size || ph->filesz > k->size - ph->offset)
		return 0;
	end = ph->offset + ph->filesz;
	while (end - pos >= 12) {
		uint32_t namesz, descsz, type;
		uint64_t name_off, desc_off, next;

		memcpy(&namesz, k->data + pos, 4);
		memcpy(&descsz, k->data + pos + 4, 4);
		memcpy(&type, k->data + pos + 8, 4);
		name_off = pos + 12;
		desc_off = name_off + (((uint64_t)namesz + 3) & ~3ULL);
		next = desc_off + (((uint64_t)descsz + 3) & ~3ULL);
		if (next > end || next <= pos)
			return 0;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    memcmp(k->data + name_off, "Xen", 4) == 0) {
			if (descsz == 4) {
				uint32_t e;

				memcpy(&e, k->data + desc_off, 4);
				return e;
			}
			if (descsz == 8) {
				uint64_t e;

				memcpy(&e, k->data + desc_off, 8);
				return e;
			}
		}
		pos = next;
	}
	return 0;
}

int vmm_boot_pvh(const struct vmm_boot_params *p, const struct vmm_boot_file *k,
                 struct vmm_boot_entry *ret, char *err, size_t err_size)
{
	const uint8_t *id = k->data;
	bool is64;
	uint64_t phoff, entry = 0;
	unsigned int phnum, phentsize;
	struct hvm_start_info si = { .magic = HVM_START_MAGIC, .version = 1 };
	struct hvm_memmap_entry mm[VMM_E820_MAX];
	struct vmm_e820 e820[VMM_E820_MAX];
	unsigned int nr_e820;
	uint64_t kernel_end = 0;
	int r;

	if (k->size < sizeof(Elf64_Ehdr) || id[EI_DATA] != ELFDATA2LSB ||
	    (id[EI_CLASS] != ELFCLASS64 && id[EI_CLASS] != ELFCLASS32))
		return vmm_boot_fail(err, err_size, -ENOEXEC,
		                     "%s: not a little-endian ELF32/ELF64 image", p->kernel_path);
	is64 = id[EI_CLASS] == ELFCLASS64;
	if (is64) {
		Elf64_Ehdr eh;

		memcpy(&eh, k->data, sizeof(eh));
		if (eh.e_machine != EM_X86_64)
			goto bad_machine;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize != sizeof(Elf64_Phdr))
			goto bad_phdrs;
	} else {
		Elf32_Ehdr eh;

		memcpy(&eh, k->data, sizeof(eh));
		if (eh.e_machine != EM_386 && eh.e_machine != EM_X86_64)
			goto bad_machine;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize != sizeof(Elf32_Phdr))
			goto bad_phdrs;
	}
	if (phnum == 0 || phnum > ELF_MAX_PHDRS || phoff > k->size ||
	    (uint64_t)phnum * phentsize > k->size - phoff)
		goto bad_phdrs;

	for (unsigned int i = 0; i < phnum; i++) {
		struct phdr ph;
		uint8_t *dst;

		if (!read_phdr(k, is64, phoff + (uint64_t)i * phentsize, &ph))
			goto bad_phdrs;
		if (ph.type == PT_NOTE && !entry)
			entry = find_pvh_entry(k, &ph);
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (ph.filesz > ph.memsz || ph.offset > k->size || ph.filesz > k->size - ph.offset)
			return vmm_boot_fail(err, err_size, -ENOEXEC,
			                     "%s: segment %u lies outside the file", p->kernel_path,
			                     i);
		/* Below 1 MiB lives our boot data; a segment there would overwrite it. */
		dst = ph.paddr >= VMM_BOOT_KERNEL_ADDR ? vmm_mem_ptr(p->mem, ph.paddr, ph.memsz)
		                                       : NULL;
		if (!dst)
			return vmm_boot_fail(err, err_size, -ENOMEM,
			                     "%s: segment %u (0x%llx+0x%llx) is not in guest RAM "
			                     "above 1 MiB",
			                     p->kernel_path, i, (unsigned long long)ph.paddr,
			                     (unsigned long long)ph.memsz);
		memcpy(dst, k->data + ph.offset, ph.filesz);
		memset(dst + ph.filesz, 0, ph.memsz - ph.filesz);
		if (ph.paddr + ph.memsz > kernel_end)
			kernel_end = ph.paddr + ph.memsz;
	}
	if (!entry || entry >= 0x100000000ULL)
		return vmm_boot_fail(err, err_size, -ENOEXEC,
		                     "%s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)",
		                     p->kernel_path);

	nr_e820 = vmm_boot_e820(p->mem, e820);
	for (unsigned int i = 0; i < nr_e820; i++)
		mm[i] = (struct hvm_memmap_entry){ e820[i].addr, e820[i].size, e820[i].type, 0 };
	si.memmap_paddr = VMM_BOOT_START_INFO + sizeof(si);
	si.memmap_entries = nr_e820;
	if (p->cmdline) {
		r = vmm_mem_write(p->mem, VMM_BOOT_CMDLINE, p->cmdline, strlen(p->cmdline) + 1);
		if (r < 0)
			return vmm_boot_fail(err, err_size, r, "no room for the command line");
		si.cmdline_paddr = VMM_BOOT_CMDLINE;
	}
	if (p->initrd_path) {
		struct hvm_modlist_entry mod = { 0 };

		r = vmm_boot_place_initrd(p, kernel_end, UINT64_MAX, &mod.paddr, &mod.size, err,
		                          err_size);
		if (r < 0)
			return r;
		si.nr_modules = 1;
		si.modlist_paddr = si.memmap_paddr + nr_e820 * sizeof(mm[0]);
		if (vmm_mem_write(p->mem, si.modlist_paddr, &mod, sizeof(mod)) < 0)
			return vmm_boot_fail(err, err_size, -ENOMEM, "no room for the module list");
	}
	if (vmm_mem_write(p->mem, VMM_BOOT_START_INFO, &si, sizeof(si)) < 0 ||
	    vmm_mem_write(p->mem, si.memmap_paddr, mm, nr_e820 * sizeof(mm[0])) < 0)
		return vmm_boot_fail(err, err_size, -ENOMEM, "no room for start_info");

	*ret = (struct vmm_boot_entry){
		.mode = VMM_BOOT_PROTECTED32,
		.entry = entry,
		.arg = VMM_BOOT_START_INFO,
	};
	return 0;

bad_machine:
	return vmm_boot_fail(err, err_size, -ENOEXEC, "%s: not an x86 ELF image", p->kernel_path);
bad_phdrs:
	return vmm_boot_fail(err, err_size, -ENOEXEC, "%s: bad ELF program headers",
	                     p->kernel_path);
}
