/* input.c - US keyboard layout, modifiers and caps lock. */
#include "input.h"

#include <stdbool.h>

#include "lib.h"
#include "term.h"

static struct {
	bool lshift, rshift, lctrl, rctrl;
	bool caps;
} mods;

/* Characters without and with shift, indexed by key code. */
static const char keymap[][2] = {
	[2] = { '1', '!' },   [3] = { '2', '@' },  [4] = { '3', '#' },   [5] = { '4', '$' },
	[6] = { '5', '%' },   [7] = { '6', '^' },  [8] = { '7', '&' },   [9] = { '8', '*' },
	[10] = { '9', '(' },  [11] = { '0', ')' }, [12] = { '-', '_' },  [13] = { '=', '+' },
	[16] = { 'q', 'Q' },  [17] = { 'w', 'W' }, [18] = { 'e', 'E' },  [19] = { 'r', 'R' },
	[20] = { 't', 'T' },  [21] = { 'y', 'Y' }, [22] = { 'u', 'U' },  [23] = { 'i', 'I' },
	[24] = { 'o', 'O' },  [25] = { 'p', 'P' }, [26] = { '[', '{' },  [27] = { ']', '}' },
	[30] = { 'a', 'A' },  [31] = { 's', 'S' }, [32] = { 'd', 'D' },  [33] = { 'f', 'F' },
	[34] = { 'g', 'G' },  [35] = { 'h', 'H' }, [36] = { 'j', 'J' },  [37] = { 'k', 'K' },
	[38] = { 'l', 'L' },  [39] = { ';', ':' }, [40] = { '\'', '"' }, [41] = { '`', '~' },
	[43] = { '\\', '|' }, [44] = { 'z', 'Z' }, [45] = { 'x', 'X' },  [46] = { 'c', 'C' },
	[47] = { 'v', 'V' },  [48] = { 'b', 'B' }, [49] = { 'n', 'N' },  [50] = { 'm', 'M' },
	[51] = { ',', '<' },  [52] = { '.', '>' }, [53] = { '/', '?' },  [55] = { '*', '*' },
	[57] = { ' ', ' ' },  [71] = { '7', '7' }, [72] = { '8', '8' },  [73] = { '9', '9' },
	[74] = { '-', '-' },  [75] = { '4', '4' }, [76] = { '5', '5' },  [77] = { '6', '6' },
	[78] = { '+', '+' },  [79] = { '1', '1' }, [80] = { '2', '2' },  [81] = { '3', '3' },
	[82] = { '0', '0' },  [83] = { '.', '.' }, [86] = { '\\', '|' }, [98] = { '/', '/' },
};

static int special_key(unsigned code)
{
	switch (code) {
	case KEY_ENTER:
	case KEY_KPENTER:
		return '\n';
	case KEY_BACKSPACE:
		return '\b';
	case KEY_TAB:
		return '\t';
	case KEY_ESC:
		return 0x1b;
	case KEY_UP:
		return INPUT_KEY_UP;
	case KEY_DOWN:
		return INPUT_KEY_DOWN;
	case KEY_LEFT:
		return INPUT_KEY_LEFT;
	case KEY_RIGHT:
		return INPUT_KEY_RIGHT;
	case KEY_HOME:
		return INPUT_KEY_HOME;
	case KEY_END:
		return INPUT_KEY_END;
	case KEY_DELETE:
		return INPUT_KEY_DELETE;
	case KEY_PAGEUP:
		return INPUT_KEY_PAGEUP;
	case KEY_PAGEDOWN:
		return INPUT_KEY_PAGEDOWN;
	default:
		return 0;
	}
}

void input_key(unsigned code, int value)
{
	bool down = value != 0;
	bool shift, ctrl;
	int key;
	char ch;

	switch (code) {
	case KEY_LEFTSHIFT:
		mods.lshift = down;
		return;
	case KEY_RIGHTSHIFT:
		mods.rshift = down;
		return;
	case KEY_LEFTCTRL:
		mods.lctrl = down;
		return;
	case KEY_RIGHTCTRL:
		mods.rctrl = down;
		return;
	case KEY_CAPSLOCK:
		if (value == 1)
			mods.caps = !mods.caps;
		return;
	default:
		break;
	}
	if (!down)
		return;

	key = special_key(code);
	if (key) {
		term_key(key);
		return;
	}
	if (code >= ARRAY_SIZE(keymap) || !keymap[code][0])
		return;
	shift = mods.lshift || mods.rshift;
	ctrl = mods.lctrl || mods.rctrl;
	ch = keymap[code][shift];
	if (ch >= 'a' && ch <= 'z' && mods.caps)
		ch = keymap[code][!shift];
	else if (ch >= 'A' && ch <= 'Z' && mods.caps)
		ch = keymap[code][!shift];
	if (ctrl) {
		/* Ctrl+letter is the control character, as on a terminal. */
		if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
			term_key((ch | 0x20) & 0x1f);
		return;
	}
	term_key((unsigned char)ch);
}
