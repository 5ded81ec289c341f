/* main.c - PVH start info, command line, device bring-up and the event loop. */
#include "guest.h"

#include "arch.h"
#include "bench.h"
#include "desktop.h"
#include "display.h"
#include "gfx.h"
#include "i8042.h"
#include "input.h"
#include "irq.h"
#include "lib.h"
#include "pci.h"
#include "rtc.h"
#include "serial.h"
#include "term.h"
#include "virtio_input.h"

#define HVM_START_MAGIC 0x336ec578
#define HVM_MEMMAP_RAM 1
#define MEMMAP_MAX 128
#define CMDLINE_MAX 1024
#define DEFAULT_W 1024
#define DEFAULT_H 768

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

struct guest_config guest;
static char cmdline[CMDLINE_MAX];

static void set_name(const char *s, size_t n)
{
	size_t i, len = 0;

	/* Printable ASCII only: the name ends up on screen and in logs. */
	for (i = 0; i < n && len < GUEST_NAME_MAX; i++)
		if (s[i] > ' ' && s[i] < 127)
			guest.name[len++] = s[i];
	guest.name[len] = '\0';
	if (!len)
		memcpy(guest.name, "desktop", sizeof("desktop"));
}

static void parse_option(const char *opt, size_t n)
{
	char tok[64];
	uint32_t v;
	const char *p;

	if (n > 5 && strncmp(opt, "name=", 5) == 0) {
		set_name(opt + 5, n - 5);
		return;
	}
	if (n >= sizeof(tok))
		return;
	memcpy(tok, opt, n);
	tok[n] = '\0';
	if (strncmp(tok, "resolution=", 11) == 0) {
		if (!parse_size(tok + 11, &guest.res_w, &guest.res_h))
			serial_log("guest: ignoring bad option %s", tok);
	} else if (strcmp(tok, "bench") == 0) {
		guest.bench = true;
	} else if (strncmp(tok, "bench=", 6) == 0) {
		p = tok + 6;
		if (parse_u32(&p, GUEST_BENCH_FRAMES_MAX, &v) && !*p && v) {
			guest.bench = true;
			guest.bench_frames = v;
		} else {
			serial_log("guest: ignoring bad option %s", tok);
		}
	}
}

static void parse_cmdline(void)
{
	const char *p = cmdline;

	while (*p) {
		const char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (p > start)
			parse_option(start, (size_t)(p - start));
	}
}

/* Everything the loader handed over is copied or summed before use. */
static void read_start_info(uint32_t pa)
{
	const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)pa;
	uint32_t i;

	set_name("", 0);
	guest.bench_frames = GUEST_BENCH_FRAMES_DEFAULT;
	if (!pa || si->magic != HVM_START_MAGIC) {
		serial_log("guest: no valid hvm_start_info at 0x%x; using defaults", pa);
		return;
	}
	if (si->cmdline_paddr && si->cmdline_paddr < (4ull << 30)) {
		const char *c = (const char *)(uintptr_t)si->cmdline_paddr;

		for (i = 0; i < CMDLINE_MAX - 1 && c[i]; i++)
			cmdline[i] = c[i] >= ' ' && c[i] < 127 ? c[i] : ' ';
		cmdline[i] = '\0';
	}
	if (si->version >= 1 && si->memmap_paddr && si->memmap_paddr < (4ull << 30)) {
		const struct hvm_memmap_entry *e =
		        (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;

		for (i = 0; i < si->memmap_entries && i < MEMMAP_MAX; i++)
			if (e[i].type == HVM_MEMMAP_RAM)
				guest.ram_bytes += e[i].size;
	}
	parse_cmdline();
}

static void log_pci(void)
{
	struct pci_dev *d;
	int i;

	for (i = 0; (d = pci_get(i)); i++)
		serial_log("pci: %02x:%02x.%x %04x:%04x class %02x%02x irq %u", d->bus, d->dev,
		           d->fn, d->vendor, d->device, d->class_code, d->subclass, d->irq);
}

static void choose_mode(uint32_t *w, uint32_t *h)
{
	uint32_t ew, eh;
	bool edid = display_edid_mode(&ew, &eh);

	if (guest.res_w && guest.res_h) {
		*w = guest.res_w;
		*h = guest.res_h;
	} else if (edid) {
		*w = ew;
		*h = eh;
	} else {
		*w = DEFAULT_W;
		*h = DEFAULT_H;
	}
}

/* Bytes typed on the serial console, with CR LF and VT100 arrows folded. */
static void serial_input(void)
{
	static bool last_cr;
	static int esc;
	int c;

	while ((c = serial_getc()) >= 0) {
		if (esc == 1) {
			esc = c == '[' ? 2 : 0;
			continue;
		}
		if (esc == 2) {
			esc = 0;
			if (c == 'A')
				term_key(INPUT_KEY_UP);
			else if (c == 'B')
				term_key(INPUT_KEY_DOWN);
			continue;
		}
		if (c == '\n' && last_cr) {
			last_cr = false;
			continue;
		}
		last_cr = c == '\r';
		if (c == 0x1b)
			esc = 1;
		else if (c == '\r' || c == '\n')
			term_key('\n');
		else if (c == 0x7f || c == '\b')
			term_key('\b');
		else
			term_key(c);
	}
}

static bool work_pending(void)
{
	return serial_pending() || i8042_pending() || vinput_pending() || rtc_pending();
}

void guest_main(uint32_t start_info)
{
	uint32_t w, h, dw, dh;

	serial_init();
	serial_log("guest: vdi-guest " GUEST_VERSION " booting");
	irq_init();
	read_start_info(start_info);
	serial_log("guest: cmdline \"%s\" name %s memory %lu MiB", cmdline, guest.name,
	           (unsigned long)(guest.ram_bytes >> 20));

	pci_scan();
	log_pci();
	if (display_init() != 0)
		serial_log("display: no bochs-vga adapter; terminal on serial only");
	choose_mode(&w, &h);

	if (guest.bench) {
		bench_run(w, h, guest.bench_frames);
		for (;;)
			cpu_idle();
	}

	serial_enable_rx();
	if (i8042_init() == 0)
		serial_log("i8042: keyboard ready");
	vinput_init();
	rtc_init();

	desk_set_mode(w, h);
	term_start();
	desk_mode(&dw, &dh);
	serial_log("desktop: ready %ux%u", dw, dh);

	/*
	 * Everything happens in reaction to an interrupt; in between the CPU
	 * halts, so an idle desktop costs the host nothing.
	 */
	for (;;) {
		serial_input();
		i8042_poll();
		vinput_poll();
		if (rtc_pending())
			desk_tick();
		gfx_cursor_show();

		irq_disable();
		if (work_pending())
			irq_enable();
		else
			cpu_idle();
	}
}
