// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/boot.h"
#include "vmm/mptable.h"

#define RAM (64ULL << 20)

static char *write_temp(const void *data, size_t len)
{
	char *path = strdup("/tmp/vdi-test-boot-XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* A minimal PVH image: one PT_LOAD at 1 MiB and a PT_NOTE with the entry. */
struct pvh_image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	struct {
		uint32_t namesz, descsz, type;
		char name[4];
		uint32_t entry;
	} note;
	uint8_t code[64];
};

static void make_pvh(struct pvh_image *img, uint32_t entry)
{
	memset(img, 0, sizeof(*img));
	memcpy(img->eh.e_ident, ELFMAG, SELFMAG);
	img->eh.e_ident[EI_CLASS] = ELFCLASS64;
	img->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img->eh.e_ident[EI_VERSION] = EV_CURRENT;
	img->eh.e_type = ET_EXEC;
	img->eh.e_machine = EM_X86_64;
	img->eh.e_phoff = offsetof(struct pvh_image, ph);
	img->eh.e_phentsize = sizeof(Elf64_Phdr);
	img->eh.e_phnum = 2;
	img->ph[0].p_type = PT_LOAD;
	img->ph[0].p_offset = offsetof(struct pvh_image, code);
	img->ph[0].p_paddr = 0x100000;
	img->ph[0].p_filesz = sizeof(img->code);
	img->ph[0].p_memsz = 4096; /* the rest is .bss and must be zeroed */
	img->ph[1].p_type = PT_NOTE;
	img->ph[1].p_offset = offsetof(struct pvh_image, note);
	img->ph[1].p_filesz = sizeof(img->note);
	img->note.namesz = 4;
	img->note.descsz = 4;
	img->note.type = 18;
	memcpy(img->note.name, "Xen", 4);
	img->note.entry = entry;
	memset(img->code, 0x90, sizeof(img->code));
}

static int load(struct vmm_mem *mem, const void *img, size_t len, const char *cmdline,
                struct vmm_boot_entry *e, char *err)
{
	char *path = write_temp(img, len);
	struct vmm_boot_params p = { .mem = mem, .kernel_path = path, .cmdline = cmdline };
	int r = vmm_boot_load(&p, e, err, 256);

	unlink(path);
	free(path);
	return r;
}

START_TEST(pvh_loads_and_fills_start_info)
{
	struct vmm_mem mem;
	struct pvh_image img;
	struct vmm_boot_entry e;
	char err[256] = "";
	uint8_t *k;
	uint32_t si[14];
	uint64_t memmap, cmdline;

	ck_assert_int_eq(vmm_mem_init(&mem, RAM), 0);
	k = vmm_mem_ptr(&mem, 0x100000, 4096);
	memset(k, 0xee, 4096); /* stale memory must be cleared for .bss */
	make_pvh(&img, 0x100010);
	ck_assert_msg(load(&mem, &img, sizeof(img), "name=desk-1", &e, err) == 0, "%s", err);
	ck_assert_int_eq(e.mode, VMM_BOOT_PROTECTED32);
	ck_assert_uint_eq(e.entry, 0x100010);
	ck_assert_uint_eq(e.arg, VMM_BOOT_START_INFO);
	ck_assert_uint_eq(k[0], 0x90);
	ck_assert_uint_eq(k[64], 0);
	ck_assert_uint_eq(k[4095], 0);
	vmm_mem_read(&mem, VMM_BOOT_START_INFO, si, sizeof(si));
	ck_assert_uint_eq(si[0], 0x336ec578);
	ck_assert_uint_eq(si[1], 1);
	memcpy(&cmdline, &si[6], 8);
	memcpy(&memmap, &si[10], 8);
	ck_assert_str_eq((char *)vmm_mem_ptr(&mem, cmdline, 12), "name=desk-1");
	ck_assert_uint_ge(si[12], 4);
	{
		uint64_t last[3];

		/* The last map entry is RAM from 1 MiB to the end of RAM. */
		vmm_mem_read(&mem, memmap + 24 * (si[12] - 1), last, sizeof(last));
		ck_assert_uint_eq(last[0], 0x100000);
		ck_assert_uint_eq(last[0] + last[1], RAM);
		ck_assert_uint_eq((uint32_t)last[2], 1);
	}
	vmm_mem_exit(&mem);
}
END_TEST

START_TEST(pvh_rejects_bad_images)
{
	struct vmm_mem mem;
	struct pvh_image img;
	struct vmm_boot_entry e;
	char err[256];

	ck_assert_int_eq(vmm_mem_init(&mem, RAM), 0);

	make_pvh(&img, 0x100010);
	ck_assert_int_eq(load(&mem, &img, 40, NULL, &e, err), -ENOEXEC); /* truncated */

	make_pvh(&img, 0);
	img.note.type = 1;
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "PVH"));

	make_pvh(&img, 0x100010);
	img.ph[0].p_offset = 1 << 20; /* data beyond the end of the file */
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOEXEC);

	make_pvh(&img, 0x100010);
	img.ph[0].p_filesz = 8192; /* more file bytes than memory */
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOEXEC);

	make_pvh(&img, 0x100010);
	img.ph[0].p_paddr = 0x7000; /* over our boot data */
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOMEM);

	make_pvh(&img, 0x100010);
	img.ph[0].p_paddr = RAM - 16; /* runs off the end of RAM */
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOMEM);

	make_pvh(&img, 0x100010);
	img.ph[0].p_memsz = UINT64_MAX; /* wraps */
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOMEM);

	make_pvh(&img, 0x100010);
	img.eh.e_phnum = 5000;
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOEXEC);

	make_pvh(&img, 0x100010);
	img.note.namesz = 0xfffffff0; /* note running off its segment */
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOEXEC);

	make_pvh(&img, 0x100010);
	img.eh.e_machine = EM_ARM;
	ck_assert_int_eq(load(&mem, &img, sizeof(img), NULL, &e, err), -ENOEXEC);

	ck_assert_int_eq(load(&mem, "MZ not a kernel at all", 22, NULL, &e, err), -ENOEXEC);
	vmm_mem_exit(&mem);
}
END_TEST

START_TEST(missing_file_and_long_cmdline)
{
	struct vmm_mem mem;
	struct vmm_boot_entry e;
	struct vmm_boot_params p = { .kernel_path = "/nonexistent/kernel" };
	char err[256], *longcmd = malloc(4096);

	ck_assert_int_eq(vmm_mem_init(&mem, RAM), 0);
	p.mem = &mem;
	ck_assert_int_eq(vmm_boot_load(&p, &e, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/kernel"));
	memset(longcmd, 'a', 4095);
	longcmd[4095] = 0;
	p.cmdline = longcmd;
	ck_assert_int_eq(vmm_boot_load(&p, &e, err, sizeof(err)), -E2BIG);
	free(longcmd);
	vmm_mem_exit(&mem);
}
END_TEST

/* A bzImage-shaped file: setup sectors with a 2.15 header, then a "kernel". */
static uint8_t *make_bzimage(size_t *ret_len)
{
	size_t len = 5 * 512 + 8192;
	uint8_t *b = calloc(1, len);
	uint16_t v16;
	uint32_t v32;

	b[0x1f1] = 4; /* setup_sects */
	v16 = 0xaa55;
	memcpy(b + 0x1fe, &v16, 2);
	b[0x201] = 0x66; /* header runs to 0x268 */
	memcpy(b + 0x202, "HdrS", 4);
	v16 = 0x020f;
	memcpy(b + 0x206, &v16, 2);
	b[0x211] = 0x01; /* LOADED_HIGH */
	v32 = 0x7fffffff;
	memcpy(b + 0x22c, &v32, 4);
	v16 = 0x1; /* XLF_KERNEL_64 */
	memcpy(b + 0x236, &v16, 2);
	v32 = 1 << 20; /* init_size */
	memcpy(b + 0x260, &v32, 4);
	memset(b + 5 * 512, 0xcc, 8192);
	*ret_len = len;
	return b;
}

START_TEST(linux_boot_params)
{
	struct vmm_mem mem;
	struct vmm_boot_entry e;
	size_t len;
	uint8_t *img = make_bzimage(&len);
	char *kpath = write_temp(img, len), *ipath = write_temp("INITRD!!", 8);
	struct vmm_boot_params p = {
		.kernel_path = kpath,
		.initrd_path = ipath,
		.cmdline = "console=ttyS0",
		.fb = { .gpa = 0xc0000000,
		        .size = 16 << 20,
		        .width = 1024,
		        .height = 768,
		        .stride = 4096,
		        .bpp = 32 },
	};
	char err[256] = "";
	uint8_t *zp;
	uint32_t v32;
	uint16_t v16;

	ck_assert_int_eq(vmm_mem_init(&mem, RAM), 0);
	p.mem = &mem;
	ck_assert_msg(vmm_boot_load(&p, &e, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(e.mode, VMM_BOOT_LONG64);
	ck_assert_uint_eq(e.entry, 0x100200);
	ck_assert_uint_eq(e.arg, VMM_BOOT_ZERO_PAGE);
	ck_assert_uint_eq(*(uint8_t *)vmm_mem_ptr(&mem, 0x100000, 1), 0xcc);
	zp = vmm_mem_ptr(&mem, VMM_BOOT_ZERO_PAGE, 4096);
	ck_assert_uint_eq(zp[0x210], 0xff);
	memcpy(&v32, zp + 0x228, 4);
	ck_assert_str_eq((char *)vmm_mem_ptr(&mem, v32, 14), "console=ttyS0");
	memcpy(&v32, zp + 0x218, 4);
	ck_assert_uint_eq(v32 % (2 << 20), 0);
	ck_assert_mem_eq(vmm_mem_ptr(&mem, v32, 8), "INITRD!!", 8);
	memcpy(&v32, zp + 0x21c, 4);
	ck_assert_uint_eq(v32, 8);
	ck_assert_uint_ge(zp[0x1e8], 4);   /* e820 entries */
	ck_assert_uint_eq(zp[0x0f], 0x23); /* VIDEO_TYPE_VLFB */
	memcpy(&v16, zp + 0x12, 2);
	ck_assert_uint_eq(v16, 1024);
	memcpy(&v32, zp + 0x18, 4);
	ck_assert_uint_eq(v32, 0xc0000000);
	/* The identity map covers the framebuffer's 3 GiB too. */
	ck_assert_uint_eq(*(uint64_t *)vmm_mem_ptr(&mem, VMM_BOOT_PD + 3 * 4096, 8) & ~0xfffULL,
	                  3ULL << 30);

	/* An old protocol version is refused. */
	img[0x206] = 0x0b;
	unlink(kpath);
	free(kpath);
	kpath = write_temp(img, len);
	p.kernel_path = kpath;
	ck_assert_int_eq(vmm_boot_load(&p, &e, err, sizeof(err)), -ENOEXEC);
	unlink(kpath);
	unlink(ipath);
	free(kpath);
	free(ipath);
	free(img);
	vmm_mem_exit(&mem);
}
END_TEST

START_TEST(linux_too_big_for_ram)
{
	struct vmm_mem mem;
	struct vmm_boot_entry e;
	size_t len;
	uint8_t *img = make_bzimage(&len);
	uint32_t big = 200u << 20;
	char *kpath, err[256];
	struct vmm_boot_params p = { 0 };

	memcpy(img + 0x260, &big, 4);
	kpath = write_temp(img, len);
	ck_assert_int_eq(vmm_mem_init(&mem, RAM), 0);
	p.mem = &mem;
	p.kernel_path = kpath;
	ck_assert_int_eq(vmm_boot_load(&p, &e, err, sizeof(err)), -ENOMEM);
	ck_assert_ptr_nonnull(strstr(err, "MiB"));
	unlink(kpath);
	free(kpath);
	free(img);
	vmm_mem_exit(&mem);
}
END_TEST

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

START_TEST(mptable_checksums_and_entries)
{
	struct vmm_mem mem;
	struct vmm_mptable_pci_irq pci[2] = { { 2, 10 }, { 3, 11 } };
	uint8_t *mpf, *mpc;
	uint32_t table;
	uint16_t len, count;

	ck_assert_int_eq(vmm_mem_init(&mem, RAM), 0);
	ck_assert_int_eq(
	        vmm_mptable_write(&mem, VMM_BOOT_MPTABLE, 0x10000, 4, 0x806f1, 0x1, pci, 2), 0);
	mpf = vmm_mem_ptr(&mem, VMM_BOOT_MPTABLE, 16);
	ck_assert_mem_eq(mpf, "_MP_", 4);
	ck_assert_uint_eq(sum(mpf, 16), 0);
	memcpy(&table, mpf + 4, 4);
	mpc = vmm_mem_ptr(&mem, table, 44);
	ck_assert_mem_eq(mpc, "PCMP", 4);
	memcpy(&len, mpc + 4, 2);
	memcpy(&count, mpc + 34, 2);
	ck_assert_uint_eq(sum(vmm_mem_ptr(&mem, table, len), len), 0);
	/* 4 CPUs, 2 buses, 1 IOAPIC, 2 PCI, 13 ISA (0-15 minus 2, 10, 11), 2 local. */
	ck_assert_uint_eq(count, 4 + 2 + 1 + 2 + 13 + 2);
	ck_assert_int_eq(vmm_mptable_write(&mem, VMM_BOOT_MPTABLE, 64, 4, 0, 0, pci, 2), -ENOMEM);
	ck_assert_int_eq(vmm_mptable_write(&mem, VMM_BOOT_MPTABLE, 0x10000, 0, 0, 0, pci, 2),
	                 -EINVAL);
	vmm_mem_exit(&mem);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_boot");
	TCase *tc = tcase_create("boot");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, pvh_loads_and_fills_start_info);
	tcase_add_test(tc, pvh_rejects_bad_images);
	tcase_add_test(tc, missing_file_and_long_cmdline);
	tcase_add_test(tc, linux_boot_params);
	tcase_add_test(tc, linux_too_big_for_ram);
	tcase_add_test(tc, mptable_checksums_and_entries);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
