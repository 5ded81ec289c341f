/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration test harness: start real vdi-vmm processes with the reference
 * guest in a temporary directory, drive them over their control socket,
 * and wait for conditions with deadlines instead of sleeping. Every process
 * a test starts is killed and every file removed when the test ends.
 */
#ifndef VDI_TESTS_HARNESS_H
#define VDI_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <check.h>
#include <jansson.h>

#define SKIP_EXIT 77

struct vm {
	pid_t pid;
	char dir[256];
	char sock[320];
	char serial[320];
	char log[320];
	int ctl;
	char buf[1 << 16];
	size_t len;
	json_t *events; /* events seen while waiting for replies */
	int next_id;
};

/* Exit 77 with a message if /dev/kvm cannot be used here. */
void harness_require_kvm(void);

/*
 * Guest instructions per second that KVM executes on this host, measured by
 * running a counted loop in a throwaway VM (real mode, two instructions per
 * iteration). Returns millions of instructions per second, or -1 when KVM
 * cannot be used. Native KVM gives thousands; nested KVM on the build
 * machines gives a few.
 */
double harness_kvm_mips(void);

/* Path of a built file: "vmm/vdi-vmm", "vmm/guest/vdi-guest.elf". */
const char *harness_build_path(const char *rel);

/* Milliseconds on the monotonic clock. */
int64_t harness_now_ms(void);

/*
 * Start vdi-vmm running the reference guest named @name with the extra
 * arguments @extra (NULL-terminated, may be NULL) and connect to its
 * control socket. Returns 0 or -errno.
 */
int vm_start(struct vm *vm, const char *name, const char *const *extra);

/* Like vm_start() with a full argument list after the binary (no defaults). */
pid_t vm_spawn(struct vm *vm, const char *const *argv);

/* Wait until the serial log contains @text (at least @count times); 0 or -ETIMEDOUT. */
int vm_wait_serial(struct vm *vm, const char *text, int count, int timeout_ms);

/* How many times @text appears in the serial log. */
int vm_serial_count(struct vm *vm, const char *text);

/* The serial log as a string (malloc'd). */
char *vm_serial(struct vm *vm);

/*
 * Send a request {"id":N,"cmd":@cmd,"args":@args} (args owned, may be NULL)
 * and return the reply message (owned), or NULL on timeout or a closed
 * socket. Events that arrive meanwhile are kept for vm_wait_event().
 */
json_t *vm_cmd(struct vm *vm, const char *cmd, json_t *args);

/* vm_cmd() that must succeed: returns the "ok" object (owned) or fails the test. */
json_t *vm_ok(struct vm *vm, const char *cmd, json_t *args);

/* Write raw bytes to the control socket (for malformed-input tests). */
int vm_send_raw(struct vm *vm, const void *data, size_t len);

/* Read one line from the control socket as JSON (owned), or NULL. */
json_t *vm_read_msg(struct vm *vm, int timeout_ms);

/* Wait for event @name (owned message), or NULL on timeout. */
json_t *vm_wait_event(struct vm *vm, const char *name, int timeout_ms);

/* Type @text into the guest with send-key, one key per character ('\n' = Enter). */
void vm_type(struct vm *vm, const char *text);

/* Wait for the process to exit; its exit status, or -ETIMEDOUT (then it is killed). */
int vm_wait_exit(struct vm *vm, int timeout_ms);

/* Kill the process if it still runs, remove the temporary directory. */
void vm_cleanup(struct vm *vm);

/* A screendump of @vm as 0xRRGGBB pixels (malloc'd), or NULL. */
uint32_t *vm_screendump(struct vm *vm, unsigned int *w, unsigned int *h);

/* Read a PNG file into 0xRRGGBB pixels (malloc'd); 0 or -errno. */
int png_load(const char *path, uint32_t **ret, unsigned int *w, unsigned int *h);

/* Open a new connection to @vm's control socket; fd or -errno. */
int vm_connect(struct vm *vm);

/*
 * The rectangle @key ("terminal", "text", "button") from the guest's last
 * "desktop: layout" serial line: 0 and @r = {x, y, w, h}, or -ENOENT.
 */
int vm_layout(struct vm *vm, const char *key, int r[4]);

/* Count pixels of @px (width @w) inside rectangle @r that equal @rgb. */
unsigned long px_count(const uint32_t *px, unsigned int w, const int r[4], uint32_t rgb);

/* The TCP port of @vm's display server for @protocol ("vnc", "spice"), or -1. */
int vm_display_port(struct vm *vm, const char *protocol);

/* Run every case of @s (each in its own process) and return the exit status. */
int harness_run(Suite *s);

/* ---- SPICE / X helpers ---- */

/*
 * Start @argv (PATH is searched) with "NAME=value" strings @env (may be
 * NULL) added to the environment and stdout/stderr to @log_path (NULL:
 * /dev/null). The process dies with the test process. Returns the pid.
 */
pid_t harness_spawn(const char *const *argv, const char *const *env, const char *log_path);

/* SIGTERM @pid, SIGKILL it if it has not exited after @grace_ms, and reap it. */
void harness_stop(pid_t pid, int grace_ms);

/* An Xvfb X server of the test. */
struct xvfb {
	pid_t pid;
	int display;
	char name[16]; /* ":N", for DISPLAY */
};

/* Start Xvfb with one @w x @h x 24 screen on a free display number; 0 or -errno. */
int xvfb_start(struct xvfb *x, unsigned int w, unsigned int h, const char *log_path);
void xvfb_stop(struct xvfb *x);

/* The whole X screen as 0xRRGGBB pixels (malloc'd), via import(1) into @path; or NULL. */
uint32_t *xvfb_screenshot(const struct xvfb *x, const char *path, unsigned int *w, unsigned int *h);

/* Pixels of @sub (@sw x @sh) that differ from @img (width @iw) at (@ox, @oy). */
unsigned long px_diff_at(const uint32_t *img, unsigned int iw, const uint32_t *sub, unsigned int sw,
                         unsigned int sh, unsigned int ox, unsigned int oy);

/*
 * Where @sub (@sw x @sh) appears in @img (@iw x @ih), unscaled: the offset
 * with the fewest differing pixels (in *@ret_diff) among those that match a
 * grid of samples. 0, or -ENOENT when nothing looks like it.
 */
int px_find(const uint32_t *img, unsigned int iw, unsigned int ih, const uint32_t *sub,
            unsigned int sw, unsigned int sh, unsigned int *ret_x, unsigned int *ret_y,
            unsigned long *ret_diff);

#endif
