// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devices/virtio_input.h"

#define RAM_GPA 0x100000ULL
#define RAM_SIZE (1u << 20)
#define QSIZE 8
#define QBASE(q) (RAM_GPA + (q)*0x4000ULL) /* desc, avail +0x1000, used +0x2000 */
#define BUF_GPA(q) (RAM_GPA + 0x10000 + (q)*0x1000ULL)

#define EV_SYN 0
#define EV_KEY 1
#define EV_REL 2
#define EV_ABS 3
#define EV_LED 0x11
#define EV_REP 0x14

struct fixture {
	uint8_t *ram;
	struct vmm_mem mem;
	struct vmm_irq_chip chip;
	int level;
	struct vmm_virtio_input *vi;
	uint16_t avail_idx[2];
	uint16_t next_desc[2];
	uint16_t seen_used[2];
};

static void set_level(void *opaque, unsigned int gsi, int level)
{
	struct fixture *f = opaque;

	f->level = level;
}

static struct fixture *setup(enum vmm_virtio_input_kind kind)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	memset(f->ram, 0, RAM_SIZE);
	f->mem.region[0] = (struct vmm_mem_region){ RAM_GPA, RAM_SIZE, f->ram };
	f->mem.nr_regions = 1;
	f->chip = (struct vmm_irq_chip){ set_level, f };
	ck_assert_int_eq(vmm_virtio_input_new(&f->mem, kind, &f->vi), 0);
	/* What vmm_pci_bus_add() would wire. */
	vmm_virtio_input_pci(f->vi)->irq = (struct vmm_irq_line){ &f->chip, 5 };
	return f;
}

static void teardown(struct fixture *f)
{
	vmm_virtio_input_free(f->vi);
	free(f->ram);
	free(f);
}

static void *host(struct fixture *f, uint64_t gpa)
{
	return f->ram + (gpa - RAM_GPA);
}

static uint32_t rd(struct fixture *f, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	vmm_virtio_pci_bar_io(&f->vi->vp, off, &v, size, false);
	return v;
}

static void wr(struct fixture *f, unsigned int off, unsigned int size, uint32_t v)
{
	vmm_virtio_pci_bar_io(&f->vi->vp, off, &v, size, true);
}

static void wr64(struct fixture *f, unsigned int off, uint64_t v)
{
	wr(f, off, 4, (uint32_t)v);
	wr(f, off + 4, 4, (uint32_t)(v >> 32));
}

static unsigned int cfg_select(struct fixture *f, uint8_t select, uint8_t subsel)
{
	wr(f, VMM_VIRTIO_PCI_DEVICE_OFF + 0, 1, select);
	wr(f, VMM_VIRTIO_PCI_DEVICE_OFF + 1, 1, subsel);
	return rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 2, 1);
}

static uint8_t cfg_byte(struct fixture *f, unsigned int i)
{
	return (uint8_t)rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + VMM_VIRTIO_INPUT_CFG_DATA + i, 1);
}

static uint32_t cfg_le32(struct fixture *f, unsigned int i)
{
	return rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + VMM_VIRTIO_INPUT_CFG_DATA + i, 4);
}

static bool cfg_bit(struct fixture *f, unsigned int bit)
{
	return cfg_byte(f, bit / 8) & (1u << (bit % 8));
}

static void bring_up(struct fixture *f)
{
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0);
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, VMM_VIRTIO_STATUS_ACKNOWLEDGE | VMM_VIRTIO_STATUS_DRIVER);
	wr(f, VMM_VIRTIO_PCI_GFSELECT, 4, 1);
	wr(f, VMM_VIRTIO_PCI_GF, 4, 1);
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0x0b);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), 0x0b);
	for (unsigned int q = 0; q < 2; q++) {
		wr(f, VMM_VIRTIO_PCI_Q_SELECT, 2, q);
		ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_Q_SIZE, 2), 64);
		wr(f, VMM_VIRTIO_PCI_Q_SIZE, 2, QSIZE);
		wr64(f, VMM_VIRTIO_PCI_Q_DESC, QBASE(q));
		wr64(f, VMM_VIRTIO_PCI_Q_DRIVER, QBASE(q) + 0x1000);
		wr64(f, VMM_VIRTIO_PCI_Q_DEVICE, QBASE(q) + 0x2000);
		wr(f, VMM_VIRTIO_PCI_Q_ENABLE, 2, 1);
	}
	wr(f, VMM_VIRTIO_PCI_STATUS, 1, 0x0f);
}

/* Queue @q: make a one-descriptor buffer of @len bytes available (not notified). */
static uint16_t post(struct fixture *f, unsigned int q, uint32_t len, uint16_t flags)
{
	uint16_t i = f->next_desc[q]++ % QSIZE;
	struct vmm_vring_desc d = { BUF_GPA(q) + 16 * i, len, flags, 0 };
	uint16_t *avail = host(f, QBASE(q) + 0x1000);

	memcpy(host(f, QBASE(q) + 16 * i), &d, sizeof(d));
	avail[2 + f->avail_idx[q] % QSIZE] = i;
	f->avail_idx[q]++;
	avail[1] = f->avail_idx[q];
	return i;
}

static void notify(struct fixture *f, unsigned int q)
{
	wr(f, VMM_VIRTIO_PCI_NOTIFY_OFF + 4 * q, 2, q);
}

static uint16_t used_idx(struct fixture *f, unsigned int q)
{
	return *(uint16_t *)host(f, QBASE(q) + 0x2002);
}

/* The next event the device returned on the event queue. */
static struct virtio_input_event next_event(struct fixture *f)
{
	struct vmm_vring_used_elem e;
	struct virtio_input_event ev;

	ck_assert_uint_ne(used_idx(f, 0), f->seen_used[0]);
	memcpy(&e, host(f, QBASE(0) + 0x2004 + 8 * (f->seen_used[0]++ % QSIZE)), sizeof(e));
	ck_assert_uint_eq(e.len, 8);
	memcpy(&ev, host(f, BUF_GPA(0) + 16 * e.id), sizeof(ev));
	return ev;
}

static void expect_event(struct fixture *f, uint16_t type, uint16_t code, uint32_t value)
{
	struct virtio_input_event ev = next_event(f);

	ck_assert_uint_eq(ev.type, type);
	ck_assert_uint_eq(ev.code, code);
	ck_assert_uint_eq(ev.value, value);
}

START_TEST(keyboard_config)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_KEYBOARD);
	const struct vmm_pci_dev *d = vmm_virtio_input_pci(f->vi);
	char name[64] = { 0 };
	unsigned int n;

	ck_assert_uint_eq(vmm_pci_cfg_get16(d, PCI_VENDOR_ID), 0x1af4);
	ck_assert_uint_eq(vmm_pci_cfg_get16(d, PCI_DEVICE_ID), 0x1052);
	ck_assert_uint_eq(vmm_pci_cfg_get8(d, PCI_REVISION_ID), 1);
	n = cfg_select(f, VMM_VIRTIO_INPUT_CFG_ID_NAME, 0);
	ck_assert_uint_eq(n, strlen("VDI Virtio Keyboard"));
	for (unsigned int i = 0; i < n; i++)
		name[i] = (char)cfg_byte(f, i);
	ck_assert_str_eq(name, "VDI Virtio Keyboard");
	ck_assert_uint_gt(cfg_select(f, VMM_VIRTIO_INPUT_CFG_ID_SERIAL, 0), 0);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_ID_DEVIDS, 0), 8);
	ck_assert_uint_eq(cfg_le32(f, 0), 0x06270006u);
	ck_assert_uint_eq(cfg_le32(f, 4), 0x00010001u);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_PROP_BITS, 0), 0);
	/* Keys: the normal ones, without KEY_RESERVED and the holes. */
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_KEY), 32);
	ck_assert(!cfg_bit(f, 0));
	ck_assert(cfg_bit(f, 1));   /* KEY_ESC */
	ck_assert(cfg_bit(f, 30));  /* KEY_A */
	ck_assert(cfg_bit(f, 58));  /* KEY_CAPSLOCK */
	ck_assert(!cfg_bit(f, 84)); /* unassigned */
	ck_assert(cfg_bit(f, 125)); /* KEY_LEFTMETA */
	ck_assert(cfg_bit(f, 248)); /* KEY_MICMUTE */
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_REP), 1);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_LED), 1);
	ck_assert_uint_eq(cfg_byte(f, 0), 0x07);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_ABS), 0);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_REL), 0);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_ABS_INFO, 0), 0);
	ck_assert_uint_eq(cfg_select(f, 0x77, 0), 0);
	ck_assert_uint_eq(cfg_byte(f, 0), 0);
	/* size and u[] are the device's. */
	cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_LED);
	wr(f, VMM_VIRTIO_PCI_DEVICE_OFF + 2, 1, 99);
	wr(f, VMM_VIRTIO_PCI_DEVICE_OFF + 8, 1, 99);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_DEVICE_OFF + 2, 1), 1);
	ck_assert_uint_eq(cfg_byte(f, 0), 0x07);
	teardown(f);
}
END_TEST

START_TEST(tablet_config)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_TABLET);
	char name[64] = { 0 };
	unsigned int n;

	n = cfg_select(f, VMM_VIRTIO_INPUT_CFG_ID_NAME, 0);
	for (unsigned int i = 0; i < n; i++)
		name[i] = (char)cfg_byte(f, i);
	ck_assert_str_eq(name, "VDI Virtio Tablet");
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_ID_DEVIDS, 0), 8);
	ck_assert_uint_eq(cfg_le32(f, 4), 0x00010003u);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_PROP_BITS, 0), 0);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_KEY), 0x114 / 8 + 1);
	for (unsigned int b = 0x110; b <= 0x114; b++)
		ck_assert(cfg_bit(f, b));
	ck_assert(!cfg_bit(f, 30));
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_ABS), 1);
	ck_assert_uint_eq(cfg_byte(f, 0), 0x03);
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_REL), 2);
	ck_assert(cfg_bit(f, 8)); /* REL_WHEEL */
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_EV_BITS, EV_LED), 0);
	for (unsigned int axis = 0; axis < 2; axis++) {
		ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_ABS_INFO, (uint8_t)axis), 20);
		ck_assert_uint_eq(cfg_le32(f, 0), 0);
		ck_assert_uint_eq(cfg_le32(f, 4), 32767);
		ck_assert_uint_eq(cfg_le32(f, 8), 0);
		ck_assert_uint_eq(cfg_le32(f, 12), 0);
		ck_assert_uint_eq(cfg_le32(f, 16), 0);
	}
	ck_assert_uint_eq(cfg_select(f, VMM_VIRTIO_INPUT_CFG_ABS_INFO, 2), 0);
	teardown(f);
}
END_TEST

START_TEST(ready_follows_driver)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_KEYBOARD);

	ck_assert(!vmm_virtio_input_ready(f->vi));
	bring_up(f);
	ck_assert(vmm_virtio_input_ready(f->vi));
	vmm_virtio_input_reset(f->vi);
	ck_assert(!vmm_virtio_input_ready(f->vi));
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_STATUS, 1), 0);
	teardown(f);
}
END_TEST

START_TEST(key_events)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_KEYBOARD);

	bring_up(f);
	for (unsigned int i = 0; i < 4; i++)
		post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_int_eq(f->level, 0);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 30, true), 0);
	ck_assert_int_eq(f->level, 1);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 30, false), 0);
	expect_event(f, EV_KEY, 30, 1);
	expect_event(f, EV_SYN, 0, 0);
	expect_event(f, EV_KEY, 30, 0);
	expect_event(f, EV_SYN, 0, 0);
	ck_assert_uint_eq(rd(f, VMM_VIRTIO_PCI_ISR_OFF, 1), VMM_VIRTIO_ISR_QUEUE);
	ck_assert_int_eq(f->level, 0);
	/* Bad calls. */
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 0, true), -EINVAL);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 0x300, true), -EINVAL);
	ck_assert_int_eq(vmm_virtio_input_abs(f->vi, 1, 1, 0, 0), -EOPNOTSUPP);
	ck_assert_int_eq(vmm_virtio_input_send(f->vi, NULL, 0), -EINVAL);
	teardown(f);
}
END_TEST

START_TEST(events_wait_for_buffers)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_KEYBOARD);

	bring_up(f);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 2, true), 0);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 2, false), 0);
	ck_assert_uint_eq(used_idx(f, 0), 0);
	ck_assert_int_eq(f->level, 0);
	/* The guest posts three buffers: three events go, one stays. */
	for (unsigned int i = 0; i < 3; i++)
		post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_int_eq(f->level, 1);
	expect_event(f, EV_KEY, 2, 1);
	expect_event(f, EV_SYN, 0, 0);
	expect_event(f, EV_KEY, 2, 0);
	ck_assert_uint_eq(used_idx(f, 0), 3);
	post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	expect_event(f, EV_SYN, 0, 0);
	teardown(f);
}
END_TEST

START_TEST(full_ring_drops_oldest)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_TABLET);
	struct virtio_input_event ev = { EV_REL, 8, 0 };

	bring_up(f);
	for (unsigned int i = 0; i < VMM_VIRTIO_INPUT_RING + 44; i++) {
		ev.value = i;
		ck_assert_int_eq(vmm_virtio_input_send(f->vi, &ev, 1), 0);
	}
	ck_assert_uint_eq(f->vi->count, VMM_VIRTIO_INPUT_RING);
	ck_assert_uint_eq(f->vi->dropped, 44);
	for (unsigned int i = 0; i < QSIZE; i++)
		post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	for (unsigned int i = 0; i < QSIZE; i++)
		expect_event(f, EV_REL, 8, 44 + i);
	teardown(f);
}
END_TEST

START_TEST(tablet_sends_changes)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_TABLET);

	/* No driver: nothing is kept. */
	ck_assert_int_eq(vmm_virtio_input_abs(f->vi, 5, 5, 1, 0), 0);
	ck_assert_uint_eq(f->vi->count, 0);
	bring_up(f);
	for (unsigned int i = 0; i < QSIZE; i++)
		post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_int_eq(vmm_virtio_input_abs(f->vi, 100, 40000, 0, 0), 0);
	expect_event(f, EV_ABS, 0, 100);
	expect_event(f, EV_ABS, 1, 32767);
	expect_event(f, EV_SYN, 0, 0);
	/* Same again: nothing. */
	ck_assert_int_eq(vmm_virtio_input_abs(f->vi, 100, 32767, 0, 0), 0);
	ck_assert_uint_eq(used_idx(f, 0), 3);
	/* Left then right button; the position stays. */
	ck_assert_int_eq(vmm_virtio_input_abs(f->vi, 100, 32767, 1, 0), 0);
	expect_event(f, EV_KEY, 0x110, 1);
	expect_event(f, EV_SYN, 0, 0);
	ck_assert_int_eq(vmm_virtio_input_abs(f->vi, 101, 32767, 4, -1), 0);
	expect_event(f, EV_ABS, 0, 101);
	expect_event(f, EV_KEY, 0x110, 0);
	expect_event(f, EV_KEY, 0x111, 1);
	/* Out of buffers: the rest waits. */
	ck_assert_uint_eq(used_idx(f, 0), QSIZE);
	for (unsigned int i = 0; i < QSIZE; i++)
		post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	expect_event(f, EV_REL, 8, (uint32_t)-1);
	expect_event(f, EV_SYN, 0, 0);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 30, true), -EOPNOTSUPP);
	teardown(f);
}
END_TEST

START_TEST(status_queue_leds)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_KEYBOARD);
	struct virtio_input_event led = { EV_LED, 1, 1 };
	uint16_t i;

	bring_up(f);
	i = post(f, 1, 8, 0);
	memcpy(host(f, BUF_GPA(1) + 16 * i), &led, sizeof(led));
	led.code = 0;
	i = post(f, 1, 8, 0);
	memcpy(host(f, BUF_GPA(1) + 16 * i), &led, sizeof(led));
	notify(f, 1);
	ck_assert_uint_eq(used_idx(f, 1), 2);
	ck_assert_uint_eq(vmm_virtio_input_leds(f->vi), 3);
	led.value = 0;
	i = post(f, 1, 8, 0);
	memcpy(host(f, BUF_GPA(1) + 16 * i), &led, sizeof(led));
	/* A short status buffer is consumed and ignored. */
	post(f, 1, 4, 0);
	notify(f, 1);
	ck_assert_uint_eq(used_idx(f, 1), 4);
	ck_assert_uint_eq(vmm_virtio_input_leds(f->vi), 2);
	vmm_virtio_input_reset(f->vi);
	ck_assert_uint_eq(vmm_virtio_input_leds(f->vi), 0);
	teardown(f);
}
END_TEST

START_TEST(hostile_guest)
{
	struct fixture *f = setup(VMM_VIRTIO_INPUT_KEYBOARD);
	struct vmm_vring_used_elem e;
	uint16_t i;

	bring_up(f);
	/* Too small for an event: handed back empty, the event waits for the next one. */
	post(f, 0, 4, VMM_VRING_DESC_F_WRITE);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 16, true), 0);
	ck_assert_uint_eq(used_idx(f, 0), 1);
	memcpy(&e, host(f, QBASE(0) + 0x2004), sizeof(e));
	ck_assert_uint_eq(e.len, 0);
	f->seen_used[0] = 1;
	post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	expect_event(f, EV_KEY, 16, 1);
	/* A readable (not writable) buffer on the event queue: too small as well. */
	post(f, 0, 8, 0);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 16, false), 0);
	ck_assert_uint_eq(used_idx(f, 0), 3);
	memcpy(&e, host(f, QBASE(0) + 0x2004 + 8 * 2), sizeof(e));
	ck_assert_uint_eq(e.len, 0);
	f->seen_used[0] = 3;
	/* A buffer outside RAM breaks the device; nothing else happens. */
	i = post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	*(uint64_t *)host(f, QBASE(0) + 16 * i) = 0x10;
	notify(f, 0);
	ck_assert(rd(f, VMM_VIRTIO_PCI_STATUS, 1) & VMM_VIRTIO_STATUS_NEEDS_RESET);
	ck_assert(!vmm_virtio_input_ready(f->vi));
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 16, false), 0);
	ck_assert_uint_eq(used_idx(f, 0), 3);
	/* The driver resets and starts over. */
	memset(f->ram, 0, 0x20000);
	memset(f->avail_idx, 0, sizeof(f->avail_idx));
	memset(f->next_desc, 0, sizeof(f->next_desc));
	f->seen_used[0] = 0;
	bring_up(f);
	post(f, 0, 8, VMM_VRING_DESC_F_WRITE);
	notify(f, 0);
	ck_assert_int_eq(vmm_virtio_input_key(f->vi, 17, true), 0);
	expect_event(f, EV_KEY, 17, 1);
	teardown(f);
}
END_TEST

START_TEST(free_null)
{
	vmm_virtio_input_free(NULL);
	ck_assert_int_eq(vmm_virtio_input_new(NULL, 7, NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_virtio_input");
	TCase *tc = tcase_create("virtio_input");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, keyboard_config);
	tcase_add_test(tc, tablet_config);
	tcase_add_test(tc, ready_follows_driver);
	tcase_add_test(tc, key_events);
	tcase_add_test(tc, events_wait_for_buffers);
	tcase_add_test(tc, full_ring_drops_oldest);
	tcase_add_test(tc, tablet_sends_changes);
	tcase_add_test(tc, status_queue_leds);
	tcase_add_test(tc, hostile_guest);
	tcase_add_test(tc, free_null);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
