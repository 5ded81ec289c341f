// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-vmm running the reference desktop guest, seen as a user sees it: the
 * desktop on the screen, typed commands answered in the terminal, pointer
 * clicks on the button.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BOOT_TIMEOUT_MS 90000
#define COL_BAR 0x1c2028
#define TERM_BG 0x1f232b
#define BUTTON_FIRST 0x5e81ac
#define BUTTON_SECOND 0xbf616a

static const char *const small_screen[] = { "--resolution", "800x600", NULL };

static void boot(struct vm *vm, const char *name)
{
	ck_assert_int_eq(vm_start(vm, name, small_screen), 0);
	ck_assert_msg(vm_wait_serial(vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not reach its desktop; serial:\n%s", vm_serial(vm));
}

START_TEST(desktop_on_screen)
{
	struct vm vm;
	unsigned int w, h;
	uint32_t *px;
	int bar[4], text[4];
	json_t *st;

	boot(&vm, "desk1");
	ck_assert_int_eq(vm_layout(&vm, "text", text), 0);
	px = vm_screendump(&vm, &w, &h);
	ck_assert_ptr_nonnull(px);
	/* The guest follows the EDID's preferred mode, which is our --resolution. */
	ck_assert_uint_eq(w, 800);
	ck_assert_uint_eq(h, 600);
	/* The top bar: mostly its flat colour (the name and clock are drawn on it). */
	bar[0] = 0, bar[1] = 2, bar[2] = (int)w, bar[3] = 20;
	ck_assert_uint_gt(px_count(px, w, bar, COL_BAR), (unsigned long)w * 20 / 2);
	/* The terminal: its background fills most of its text area, and a prompt is there. */
	ck_assert_uint_gt(px_count(px, w, text, TERM_BG), (unsigned long)text[2] * text[3] / 2);
	ck_assert_uint_lt(px_count(px, w, text, TERM_BG), (unsigned long)text[2] * text[3]);
	free(px);

	st = vm_ok(&vm, "query-status", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "running");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "boots")), 1);
	json_decref(st);
	st = vm_ok(&vm, "query-displays", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(st, "mode"), "width")),
	                 800);
	json_decref(st);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(help_command)
{
	struct vm vm;
	unsigned int w, h;
	uint32_t *before, *after;
	int text[4];
	unsigned long bg_before, bg_after;

	boot(&vm, "desk2");
	ck_assert_int_eq(vm_layout(&vm, "text", text), 0);
	before = vm_screendump(&vm, &w, &h);
	ck_assert_ptr_nonnull(before);
	vm_type(&vm, "help\n");
	ck_assert_msg(vm_wait_serial(&vm, "switch the machine off", 1, 30000) == 0,
	              "no help text on serial:\n%s", vm_serial(&vm));
	/* The serial mirror is written as the terminal draws: give the last row time. */
	ck_assert_int_eq(vm_wait_serial(&vm, "$ ", 2, 10000), 0);
	after = vm_screendump(&vm, &w, &h);
	ck_assert_ptr_nonnull(after);
	bg_before = px_count(before, w, text, TERM_BG);
	bg_after = px_count(after, w, text, TERM_BG);
	/* Nine lines of help text cover a good part of the terminal's background. */
	ck_assert_msg(bg_after + 2000 < bg_before, "terminal did not change: %lu -> %lu", bg_before,
	              bg_after);
	free(before);
	free(after);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(pointer_click)
{
	struct vm vm;
	unsigned int w, h;
	uint32_t *px;
	int b[4], cx, cy, sx, sy;

	boot(&vm, "desk3");
	ck_assert_int_eq(vm_layout(&vm, "button", b), 0);
	ck_assert_msg(vm_wait_serial(&vm, "tablet", 1, 10000) == 0, "no tablet driver:\n%s",
	              vm_serial(&vm));
	cx = b[0] + b[2] / 2;
	cy = b[1] + 4;
	/* Sample the button's colour away from where the pointer (drawn by the guest) goes. */
	sx = b[0] + 6;
	sy = b[1] + b[3] / 2;
	px = vm_screendump(&vm, &w, &h);
	ck_assert_uint_eq(px[(size_t)sy * w + (size_t)sx], BUTTON_FIRST);
	free(px);
	json_decref(vm_ok(&vm, "pointer",
	                  json_pack("{s:i, s:i, s:i}", "x", cx, "y", cy, "buttons", 1)));
	json_decref(vm_ok(&vm, "pointer",
	                  json_pack("{s:i, s:i, s:i}", "x", cx, "y", cy, "buttons", 0)));
	ck_assert_msg(vm_wait_serial(&vm, "button: clicked count=1", 1, 30000) == 0,
	              "click not seen:\n%s", vm_serial(&vm));
	/* The press was reported where we pointed: absolute, no drift. */
	{
		char want[64];

		snprintf(want, sizeof(want), "pointer: press button=1 x=%d y=%d", cx, cy);
		ck_assert_msg(vm_serial_count(&vm, want) == 1, "expected '%s' in:\n%s", want,
		              vm_serial(&vm));
	}
	/* The guest redraws the button before it reports the click. */
	px = vm_screendump(&vm, &w, &h);
	ck_assert_uint_eq(px[(size_t)sy * w + (size_t)sx], BUTTON_SECOND);
	free(px);
	vm_cleanup(&vm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_desktop");
	TCase *tc = tcase_create("desktop");

	harness_require_kvm();
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, desktop_on_screen);
	tcase_add_test(tc, help_command);
	tcase_add_test(tc, pointer_click);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
