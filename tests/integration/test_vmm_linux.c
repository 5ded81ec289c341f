// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Booting Debian's own kernel (linux-image-amd64) with a busybox initramfs
 * built by tools/mk-linux-initrd.sh: the kernel must reach userspace,
 * print on the serial console and register vesafb on our framebuffer.
 *
 * A Linux boot needs a guest running near native speed: decompressing and
 * starting Debian's kernel costs a few billion guest instructions. On nested
 * KVM (a few million instructions per second) that would take hours, so the
 * test first measures how fast KVM runs guest code here and skips, saying
 * why, when a boot could not finish within its time limit.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/*
 * Debian's kernel with this initramfs runs about 5 billion guest
 * instructions to userspace; with 120 s to do it KVM must manage 50 million
 * per second. Native KVM runs thousands of millions.
 */
#define LINUX_MIN_MIPS 50.0
#define LINUX_BOOT_TIMEOUT_MS 120000

static const char *find_kernel(void)
{
	static char path[512];
	glob_t g;

	if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	return path;
}

START_TEST(linux_boots_to_userspace)
{
	const char *kernel = find_kernel();
	char initrd[512], cmd[1024];
	double mips;
	struct vm vm;
	const char *argv[32];
	int n = 0;

	if (!kernel) {
		printf("SKIP: no /boot/vmlinuz-* (install linux-image-amd64)\n");
		exit(SKIP_EXIT);
	}
	mips = harness_kvm_mips();
	if (mips < LINUX_MIN_MIPS) {
		printf("SKIP: KVM here runs guest code at %.1f million instructions per second; "
		       "a Linux boot within %d s needs %.0f (nested virtualization is this "
		       "slow)\n",
		       mips, LINUX_BOOT_TIMEOUT_MS / 1000, LINUX_MIN_MIPS);
		exit(SKIP_EXIT);
	}
	printf("KVM runs guest code at %.0f million instructions per second\n", mips);

	memset(&vm, 0, sizeof(vm));
	vm.ctl = -1;
	vm.events = json_array();
	snprintf(vm.dir, sizeof(vm.dir), "/tmp/vdi-it-linux-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(vm.dir));
	snprintf(vm.sock, sizeof(vm.sock), "%s/ctl.sock", vm.dir);
	snprintf(vm.serial, sizeof(vm.serial), "%s/serial.log", vm.dir);
	snprintf(vm.log, sizeof(vm.log), "%s/vmm.log", vm.dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd.cpio.gz", vm.dir);
	snprintf(cmd, sizeof(cmd), "%s/tools/mk-linux-initrd.sh %s", getenv("VDI_SOURCE_DIR"),
	         initrd);
	ck_assert_int_eq(system(cmd), 0);

	{
		static char serial_arg[400];

		snprintf(serial_arg, sizeof(serial_arg), "file:%s", vm.serial);
		argv[n++] = harness_build_path("vmm/vdi-vmm");
		argv[n++] = "--name";
		argv[n++] = "linux";
		argv[n++] = "--memory";
		argv[n++] = "512M";
		argv[n++] = "--kernel";
		argv[n++] = kernel;
		argv[n++] = "--initrd";
		argv[n++] = initrd;
		argv[n++] = "--cmdline";
		argv[n++] = "console=ttyS0 panic=-1 quiet loglevel=6";
		argv[n++] = "--control";
		argv[n++] = vm.sock;
		argv[n++] = "--serial";
		argv[n++] = serial_arg;
		argv[n] = NULL;
	}
	ck_assert_int_gt(vm_spawn(&vm, argv), 0);
	ck_assert_msg(vm_wait_serial(&vm, "vdi-linux: done", 1, LINUX_BOOT_TIMEOUT_MS) == 0,
	              "Linux did not reach userspace:\n%s", vm_serial(&vm));
	ck_assert_msg(vm_serial_count(&vm, "VESA VGA") >= 1, "vesafb not registered:\n%s",
	              vm_serial(&vm));
	vm_cleanup(&vm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_linux");
	TCase *tc = tcase_create("linux");

	harness_require_kvm();
	/* Skips must reach CTest as exit 77, so this suite runs in-process. */
	setenv("CK_FORK", "no", 1);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, linux_boots_to_userspace);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
