// SPDX-License-Identifier: GPL-2.0-or-later
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <png.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/keymap.h"

int64_t harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void harness_require_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("SKIP: /dev/kvm is not usable here (%s); these tests need KVM\n",
		       strerror(errno));
		exit(SKIP_EXIT);
	}
	close(fd);
}

/* Run @iterations of "dec ecx; jnz" in @vcpu; seconds spent in KVM_RUN, or -1. */
static double run_counted_loop(int vcpu, struct kvm_run *run, uint8_t *code, uint32_t iterations)
{
	/* mov ecx, imm32; l: dec ecx; jnz l; hlt  (16-bit code, 0x66 = 32-bit operand) */
	static const uint8_t loop[] = { 0x66, 0xb9, 0, 0, 0, 0, 0x66, 0x49, 0x75, 0xfc, 0xf4 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
	int64_t t0, t1;
	struct timespec ts;

	memcpy(code, loop, sizeof(loop));
	memcpy(code + 2, &iterations, 4);
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0 && errno != EINTR)
			return -1;
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_INTR)
			return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	return (double)(t1 - t0) / 1e9;
}

double harness_kvm_mips(void)
{
	int kvm = -1, vmfd = -1, vcpu = -1;
	uint8_t *mem = MAP_FAILED;
	struct kvm_run *run = MAP_FAILED;
	long run_size;
	double mips = -1, secs;
	uint32_t iterations = 250000;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		goto out;
	vmfd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vmfd < 0)
		goto out;
	mem = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		goto out;
	{
		struct kvm_userspace_memory_region region = {
			.slot = 0,
			.guest_phys_addr = 0,
			.memory_size = 0x10000,
			.userspace_addr = (uintptr_t)mem,
		};

		if (ioctl(vmfd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			goto out;
	}
	vcpu = ioctl(vmfd, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0)
		goto out;
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		goto out;
	/* Grow the loop until it runs long enough to time (a tenth of a second). */
	for (;;) {
		secs = run_counted_loop(vcpu, run, mem + 0x1000, iterations);
		if (secs < 0)
			goto out;
		if (secs >= 0.1 || iterations >= 1u << 30)
			break;
		iterations = secs < 0.001 ? iterations * 64 : iterations * 4;
	}
	mips = 2.0 * iterations / secs / 1e6;
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (vcpu >= 0)
		close(vcpu);
	if (mem != MAP_FAILED)
		munmap(mem, 0x10000);
	if (vmfd >= 0)
		close(vmfd);
	if (kvm >= 0)
		close(kvm);
	return mips;
}

const char *harness_build_path(const char *rel)
{
	static char path[4][1024];
	static int next;
	const char *dir = getenv("VDI_BUILD_DIR");
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/%s", dir ? dir : ".", rel);
	return p;
}

int vm_connect(struct vm *vm)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (strlen(vm->sock) >= sizeof(sa.sun_path)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, vm->sock, strlen(vm->sock) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

pid_t vm_spawn(struct vm *vm, const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(vm->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		setpgid(0, 0);
		/* A test that dies (timeout, crash) takes its vdi-vmm with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	vm->pid = pid;
	return pid;
}

int vm_start(struct vm *vm, const char *name, const char *const *extra)
{
	const char *argv[64];
	char cmdline[128];
	int n = 0, fd = -1;
	int64_t deadline;

	memset(vm, 0, sizeof(*vm));
	vm->ctl = -1;
	vm->next_id = 1;
	vm->events = json_array();
	snprintf(vm->dir, sizeof(vm->dir), "/tmp/vdi-it-%s-XXXXXX", name);
	if (!mkdtemp(vm->dir))
		return -errno;
	snprintf(vm->sock, sizeof(vm->sock), "%s/ctl.sock", vm->dir);
	snprintf(vm->serial, sizeof(vm->serial), "%s/serial.log", vm->dir);
	snprintf(vm->log, sizeof(vm->log), "%s/vmm.log", vm->dir);
	snprintf(cmdline, sizeof(cmdline), "name=%s", name);
	{
		static char serial_arg[400];

		snprintf(serial_arg, sizeof(serial_arg), "file:%s", vm->serial);
		argv[n++] = harness_build_path("vmm/vdi-vmm");
		argv[n++] = "--name";
		argv[n++] = name;
		argv[n++] = "--memory";
		argv[n++] = "64M";
		argv[n++] = "--kernel";
		argv[n++] = harness_build_path("vmm/guest/vdi-guest.elf");
		argv[n++] = "--cmdline";
		argv[n++] = cmdline;
		argv[n++] = "--control";
		argv[n++] = vm->sock;
		argv[n++] = "--serial";
		argv[n++] = serial_arg;
	}
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if (vm_spawn(vm, argv) < 0)
		return -errno;
	/* The socket appears once the machine is built. */
	deadline = harness_now_ms() + 20000;
	while (harness_now_ms() < deadline) {
		fd = vm_connect(vm);
		if (fd >= 0)
			break;
		if (waitpid(vm->pid, NULL, WNOHANG) == vm->pid) {
			vm->pid = 0;
			return -ECHILD;
		}
		usleep(20000);
	}
	if (fd < 0)
		return -ETIMEDOUT;
	vm->ctl = fd;
	return 0;
}

char *vm_serial(struct vm *vm)
{
	FILE *f = fopen(vm->serial, "rb");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	n = (long)fread(buf, 1, (size_t)n, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int vm_serial_count(struct vm *vm, const char *text)
{
	char *s = vm_serial(vm), *p = s;
	int count = 0;

	while ((p = strstr(p, text))) {
		count++;
		p += strlen(text);
	}
	free(s);
	return count;
}

int vm_wait_serial(struct vm *vm, const char *text, int count, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;

	do {
		if (vm_serial_count(vm, text) >= count)
			return 0;
		usleep(20000);
	} while (harness_now_ms() < deadline);
	return -ETIMEDOUT;
}

int vm_send_raw(struct vm *vm, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(vm->ctl, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

json_t *vm_read_msg(struct vm *vm, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(vm->buf, '\n', vm->len);
		struct pollfd pfd = { .fd = vm->ctl, .events = POLLIN };
		int64_t left;
		ssize_t n;

		if (nl) {
			size_t line = (size_t)(nl - vm->buf);
			json_t *msg = json_loadb(vm->buf, line, 0, NULL);

			memmove(vm->buf, nl + 1, vm->len - line - 1);
			vm->len -= line + 1;
			return msg ? msg : json_string("<unparseable line>");
		}
		left = deadline - harness_now_ms();
		if (left <= 0 || vm->len == sizeof(vm->buf))
			return NULL;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = recv(vm->ctl, vm->buf + vm->len, sizeof(vm->buf) - vm->len, 0);
		if (n <= 0)
			return NULL;
		vm->len += (size_t)n;
	}
}

json_t *vm_cmd(struct vm *vm, const char *cmd, json_t *args)
{
	int id = vm->next_id++;
	json_t *req = json_pack("{s:i, s:s, s:o}", "id", id, "cmd", cmd, "args",
	                        args ? args : json_object());
	char *line = json_dumps(req, JSON_COMPACT);
	int64_t deadline = harness_now_ms() + 30000;
	json_t *msg;

	json_decref(req);
	vm_send_raw(vm, line, strlen(line));
	vm_send_raw(vm, "\n", 1);
	free(line);
	while (harness_now_ms() < deadline) {
		msg = vm_read_msg(vm, (int)(deadline - harness_now_ms()));
		if (!msg)
			return NULL;
		if (json_object_get(msg, "event")) {
			json_array_append_new(vm->events, msg);
			continue;
		}
		if (json_integer_value(json_object_get(msg, "id")) == id)
			return msg;
		json_decref(msg);
	}
	return NULL;
}

json_t *vm_ok(struct vm *vm, const char *cmd, json_t *args)
{
	json_t *msg = vm_cmd(vm, cmd, args), *ok;
	char *s;

	ck_assert_msg(msg != NULL, "no reply to %s", cmd);
	ok = json_object_get(msg, "ok");
	s = json_dumps(msg, JSON_COMPACT);
	ck_assert_msg(ok != NULL, "%s failed: %s", cmd, s);
	free(s);
	json_incref(ok);
	json_decref(msg);
	return ok;
}

json_t *vm_wait_event(struct vm *vm, const char *name, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	size_t i;
	json_t *e;

	json_array_foreach (vm->events, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "event")), name) == 0) {
			json_incref(e);
			json_array_remove(vm->events, i);
			return e;
		}
	}
	while (harness_now_ms() < deadline) {
		json_t *msg = vm_read_msg(vm, (int)(deadline - harness_now_ms()));
		const char *ev;

		if (!msg)
			return NULL;
		ev = json_string_value(json_object_get(msg, "event"));
		if (ev && strcmp(ev, name) == 0)
			return msg;
		if (ev)
			json_array_append_new(vm->events, msg);
		else
			json_decref(msg);
	}
	return NULL;
}

void vm_type(struct vm *vm, const char *text)
{
	for (const char *p = text; *p; p++) {
		const struct proto_key *k = NULL;
		bool shifted = false;
		json_t *keys;

		if (*p == '\n')
			k = proto_key_by_name("ret");
		else
			k = proto_key_by_keysym((uint32_t)(unsigned char)*p, &shifted);
		ck_assert_msg(k != NULL, "cannot type '%c'", *p);
		keys = shifted ? json_pack("[s,s]", "shift", k->name) : json_pack("[s]", k->name);
		json_decref(vm_ok(vm, "send-key", json_pack("{s:o}", "keys", keys)));
	}
}

int vm_wait_exit(struct vm *vm, int timeout_ms)
{
	int64_t deadline = harness_now_ms() + timeout_ms;
	int status;

	if (!vm->pid)
		return -ECHILD;
	while (harness_now_ms() < deadline) {
		pid_t r = waitpid(vm->pid, &status, WNOHANG);

		if (r == vm->pid) {
			vm->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		usleep(10000);
	}
	return -ETIMEDOUT;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

void vm_cleanup(struct vm *vm)
{
	if (vm->pid > 0) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, NULL, 0);
		vm->pid = 0;
	}
	if (vm->ctl >= 0)
		close(vm->ctl);
	vm->ctl = -1;
	json_decref(vm->events);
	vm->events = NULL;
	if (vm->dir[0] && !getenv("VDI_KEEP_TEST_FILES"))
		nftw(vm->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int png_load(const char *path, uint32_t **ret, unsigned int *w, unsigned int *h)
{
	png_image img = { .version = PNG_IMAGE_VERSION };
	uint8_t *rgb;
	uint32_t *px;

	if (!png_image_begin_read_from_file(&img, path))
		return -EIO;
	img.format = PNG_FORMAT_RGB;
	rgb = malloc(PNG_IMAGE_SIZE(img));
	if (!rgb || !png_image_finish_read(&img, NULL, rgb, 0, NULL)) {
		free(rgb);
		png_image_free(&img);
		return -EIO;
	}
	px = malloc((size_t)img.width * img.height * 4);
	for (size_t i = 0; i < (size_t)img.width * img.height; i++)
		px[i] = (uint32_t)rgb[3 * i] << 16 | (uint32_t)rgb[3 * i + 1] << 8 | rgb[3 * i + 2];
	free(rgb);
	*ret = px;
	*w = img.width;
	*h = img.height;
	return 0;
}

uint32_t *vm_screendump(struct vm *vm, unsigned int *w, unsigned int *h)
{
	char path[400];
	uint32_t *px = NULL;
	json_t *ok;

	snprintf(path, sizeof(path), "%s/screen-%d.png", vm->dir, vm->next_id);
	ok = vm_ok(vm, "screendump", json_pack("{s:s}", "path", path));
	json_decref(ok);
	if (png_load(path, &px, w, h) < 0)
		return NULL;
	return px;
}

int vm_layout(struct vm *vm, const char *key, int r[4])
{
	char *log = vm_serial(vm), *line = NULL, *p = log, *k;
	char pat[32];
	int found = -ENOENT;

	while ((p = strstr(p, "desktop: layout ")))
		line = p++;
	snprintf(pat, sizeof(pat), " %s=", key);
	if (line && (k = strstr(line, pat)) && (!strchr(line, '\n') || k < strchr(line, '\n')) &&
	    sscanf(k + strlen(pat), "%d,%d,%d,%d", &r[0], &r[1], &r[2], &r[3]) == 4)
		found = 0;
	free(log);
	return found;
}

unsigned long px_count(const uint32_t *px, unsigned int w, const int r[4], uint32_t rgb)
{
	unsigned long n = 0;

	for (int y = r[1]; y < r[1] + r[3]; y++)
		for (int x = r[0]; x < r[0] + r[2]; x++)
			n += px[(size_t)y * w + (size_t)x] == rgb;
	return n;
}

int vm_display_port(struct vm *vm, const char *protocol)
{
	json_t *ok = vm_ok(vm, "query-displays", NULL);
	json_t *servers = json_object_get(ok, "servers"), *srv;
	size_t i;
	int port = -1;

	json_array_foreach (servers, i, srv) {
		const char *p = json_string_value(json_object_get(srv, "protocol"));

		if (p && strcmp(p, protocol) == 0 && json_is_integer(json_object_get(srv, "port")))
			port = (int)json_integer_value(json_object_get(srv, "port"));
	}
	json_decref(ok);
	return port;
}

int harness_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* ---- SPICE / X helpers ---- */

pid_t harness_spawn(const char *const *argv, const char *const *env, const char *log_path)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		int fd = open(log_path ? log_path : "/dev/null",
		              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		/* Die with the test: a failed check must not leave X servers behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		setpgid(0, 0);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

void harness_stop(pid_t pid, int grace_ms)
{
	int64_t deadline = harness_now_ms() + grace_ms;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (harness_now_ms() < deadline) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int xvfb_start(struct xvfb *x, unsigned int w, unsigned int h, const char *log_path)
{
	char screen[32], fdarg[16], buf[16] = "";
	const char *argv[] = { "Xvfb", "-displayfd", fdarg, "-screen",  "0",
		               screen, "-nolisten",  "tcp", "-noreset", NULL };
	int p[2];
	size_t len = 0;
	int64_t deadline = harness_now_ms() + 20000;

	memset(x, 0, sizeof(*x));
	if (pipe(p) < 0)
		return -errno;
	snprintf(screen, sizeof(screen), "%ux%ux24", w, h);
	snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
	/* Xvfb picks a free display number and writes it to the pipe once it is ready. */
	x->pid = harness_spawn(argv, NULL, log_path);
	close(p[1]);
	if (x->pid < 0) {
		close(p[0]);
		return -ECHILD;
	}
	while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len) && harness_now_ms() < deadline) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	buf[len] = '\0';
	if (!memchr(buf, '\n', len) || sscanf(buf, "%d", &x->display) != 1) {
		harness_stop(x->pid, 1000);
		x->pid = 0;
		return -ETIMEDOUT;
	}
	snprintf(x->name, sizeof(x->name), ":%d", x->display);
	return 0;
}

void xvfb_stop(struct xvfb *x)
{
	harness_stop(x->pid, 2000);
	x->pid = 0;
}

uint32_t *xvfb_screenshot(const struct xvfb *x, const char *path, unsigned int *w, unsigned int *h)
{
	const char *argv[] = { "import", "-display", x->name, "-window", "root", path, NULL };
	uint32_t *px = NULL;
	pid_t pid = harness_spawn(argv, NULL, NULL);
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return NULL;
	if (png_load(path, &px, w, h) < 0)
		return NULL;
	return px;
}

unsigned long px_diff_at(const uint32_t *img, unsigned int iw, const uint32_t *sub, unsigned int sw,
                         unsigned int sh, unsigned int ox, unsigned int oy)
{
	unsigned long n = 0;

	for (unsigned int y = 0; y < sh; y++)
		for (unsigned int x = 0; x < sw; x++)
			n += (img[(size_t)(oy + y) * iw + ox + x] & 0xffffff) !=
			     (sub[(size_t)y * sw + x] & 0xffffff);
	return n;
}

int px_find(const uint32_t *img, unsigned int iw, unsigned int ih, const uint32_t *sub,
            unsigned int sw, unsigned int sh, unsigned int *ret_x, unsigned int *ret_y,
            unsigned long *ret_diff)
{
	enum {
		GRID = 8,
		SAMPLE_MISSES = 3
	};
	unsigned long best = ~0UL;

	if (sw > iw || sh > ih)
		return -ENOENT;
	for (unsigned int oy = 0; oy + sh <= ih && best; oy++) {
		for (unsigned int ox = 0; ox + sw <= iw && best; ox++) {
			unsigned int misses = 0;
			unsigned long d;

			/* A grid of samples first; a clock that ticked may spoil a few. */
			for (unsigned int gy = 0; gy < GRID && misses <= SAMPLE_MISSES; gy++) {
				for (unsigned int gx = 0; gx < GRID; gx++) {
					unsigned int sx = (sw - 1) * gx / (GRID - 1);
					unsigned int sy = (sh - 1) * gy / (GRID - 1);

					misses += (img[(size_t)(oy + sy) * iw + ox + sx] &
					           0xffffff) !=
					          (sub[(size_t)sy * sw + sx] & 0xffffff);
				}
			}
			if (misses > SAMPLE_MISSES)
				continue;
			d = px_diff_at(img, iw, sub, sw, sh, ox, oy);
			if (d < best) {
				best = d;
				*ret_x = ox;
				*ret_y = oy;
			}
		}
	}
	if (best == ~0UL)
		return -ENOENT;
	*ret_diff = best;
	return 0;
}
