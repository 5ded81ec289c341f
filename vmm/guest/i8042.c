/* i8042.c - i8042 controller setup and scan code set 1 decoding. */
#include "i8042.h"

#include "arch.h"
#include "input.h"
#include "irq.h"
#include "lib.h"
#include "serial.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64
#define I8042_STATUS 0x64
#define STATUS_OUT_FULL 0x01
#define STATUS_IN_FULL 0x02
#define STATUS_AUX 0x20

#define CMD_READ_CONFIG 0x20
#define CMD_WRITE_CONFIG 0x60
#define CMD_DISABLE_AUX 0xa7
#define CMD_DISABLE_KBD 0xad
#define CMD_ENABLE_KBD 0xae
#define CMD_PULSE_RESET 0xfe

#define CONFIG_KBD_IRQ 0x01
#define CONFIG_AUX_IRQ 0x02
#define CONFIG_KBD_DISABLE 0x10
#define CONFIG_AUX_DISABLE 0x20
#define CONFIG_TRANSLATE 0x40

#define KBD_ENABLE_SCANNING 0xf4
#define KBD_IRQ 1
#define SPINS 100000

static uint8_t ring[64];
static volatile uint8_t head, tail;

static bool wait_write(void)
{
	unsigned i;

	for (i = 0; i < SPINS; i++)
		if (!(inb(I8042_STATUS) & STATUS_IN_FULL))
			return true;
	return false;
}

static bool wait_read(void)
{
	unsigned i;

	for (i = 0; i < SPINS; i++)
		if (inb(I8042_STATUS) & STATUS_OUT_FULL)
			return true;
	return false;
}

static void flush(void)
{
	unsigned i;

	for (i = 0; i < 32 && (inb(I8042_STATUS) & STATUS_OUT_FULL); i++)
		inb(I8042_DATA);
}

static void command(uint8_t cmd)
{
	wait_write();
	outb(I8042_CMD, cmd);
}

static void i8042_irq(void *arg)
{
	unsigned n;

	(void)arg;
	for (n = 0; n < 16; n++) {
		uint8_t st = inb(I8042_STATUS), b;

		if (!(st & STATUS_OUT_FULL))
			break;
		b = inb(I8042_DATA);
		if (st & STATUS_AUX)
			continue;
		/* On overflow the newest codes are dropped. */
		if (((head + 1) & (sizeof(ring) - 1)) != tail) {
			ring[head] = b;
			head = (uint8_t)((head + 1) & (sizeof(ring) - 1));
		}
	}
}

int i8042_init(void)
{
	uint8_t config;

	if (inb(I8042_STATUS) == 0xff)
		return -ENODEV;
	command(CMD_DISABLE_KBD);
	command(CMD_DISABLE_AUX);
	flush();
	command(CMD_READ_CONFIG);
	if (!wait_read()) {
		serial_log("i8042: no answer from the controller");
		return -ENODEV;
	}
	config = inb(I8042_DATA);
	config |= CONFIG_KBD_IRQ | CONFIG_TRANSLATE | CONFIG_AUX_DISABLE;
	config &= (uint8_t) ~(CONFIG_AUX_IRQ | CONFIG_KBD_DISABLE);
	command(CMD_WRITE_CONFIG);
	wait_write();
	outb(I8042_DATA, config);
	command(CMD_ENABLE_KBD);
	/* Firmware may have left scanning off; the ACK (0xfa) is dropped by the decoder. */
	wait_write();
	outb(I8042_DATA, KBD_ENABLE_SCANNING);
	flush();
	return irq_register(KBD_IRQ, false, i8042_irq, NULL);
}

bool i8042_pending(void)
{
	return head != tail;
}

/* Set 1 codes after an 0xe0 prefix, as Linux key codes. */
static unsigned e0_code(uint8_t sc)
{
	switch (sc) {
	case 0x1c:
		return KEY_KPENTER;
	case 0x1d:
		return KEY_RIGHTCTRL;
	case 0x35:
		return KEY_KPSLASH;
	case 0x38:
		return KEY_RIGHTALT;
	case 0x47:
		return KEY_HOME;
	case 0x48:
		return KEY_UP;
	case 0x49:
		return KEY_PAGEUP;
	case 0x4b:
		return KEY_LEFT;
	case 0x4d:
		return KEY_RIGHT;
	case 0x4f:
		return KEY_END;
	case 0x50:
		return KEY_DOWN;
	case 0x51:
		return KEY_PAGEDOWN;
	case 0x52:
		return KEY_INSERT;
	case 0x53:
		return KEY_DELETE;
	case 0x5b:
		return KEY_LEFTMETA;
	case 0x5c:
		return KEY_RIGHTMETA;
	case 0x5d:
		return KEY_COMPOSE;
	default:
		return 0; /* includes the fake shifts 0x2a/0x36 around navigation keys */
	}
}

void i8042_poll(void)
{
	static bool e0;
	static unsigned e1_skip;

	while (tail != head) {
		uint8_t b = ring[tail];
		unsigned code;

		barrier();
		tail = (uint8_t)((tail + 1) & (sizeof(ring) - 1));

		/* Controller and keyboard replies: ACK, resend, echo, errors. */
		if (b == 0xfa || b == 0xfe || b == 0xee || b == 0x00 || b == 0xff)
			continue;
		/* Pause sends e1 1d 45 e1 9d c5 and has no key of its own here. */
		if (e1_skip) {
			e1_skip--;
			continue;
		}
		if (b == 0xe1) {
			e1_skip = 2;
			continue;
		}
		if (b == 0xe0) {
			e0 = true;
			continue;
		}
		/* Without a prefix, set 1 codes 0x01..0x58 equal Linux key codes. */
		code = e0 ? e0_code(b & 0x7f) : (b & 0x7f) <= 0x58 ? (b & 0x7f) : 0;
		e0 = false;
		if (code)
			input_key(code, b & 0x80 ? 0 : 1);
	}
}

void i8042_reset_cpu(void)
{
	if (inb(I8042_STATUS) == 0xff)
		return;
	command(CMD_PULSE_RESET);
}
