/* term.c - text cells, scrolling, line editing and the built-in commands. */
#include "term.h"

#include "desktop.h"
#include "font.h"
#include "guest.h"
#include "input.h"
#include "lib.h"
#include "power.h"
#include "rtc.h"
#include "serial.h"

#define LINE_MAX 120
#define HIST_MAX 8
#define CURSOR_COLOR RGB(0xd8, 0xde, 0xe9)

struct cell {
	char ch;
	uint8_t attr;
};

static const uint32_t attr_color[] = {
	[TERM_NORMAL] = RGB(0xd8, 0xde, 0xe9), [TERM_PROMPT] = RGB(0xa3, 0xbe, 0x8c),
	[TERM_ERROR] = RGB(0xe0, 0x7a, 0x82),  [TERM_ACCENT] = RGB(0x88, 0xc0, 0xd0),
	[TERM_DIM] = RGB(0x8a, 0x93, 0xa6),
};

static struct cell cells[TERM_ROWS_MAX][TERM_COLS_MAX];

static struct {
	int x, y;
	int cols, rows;
	int cx, cy; /* cx == cols: the next character wraps first */
	bool cursor_on;
	bool ready; /* cells initialised */
	char line[LINE_MAX];
	int len;
	char hist[HIST_MAX][LINE_MAX];
	int nhist, hist_pos;
} t = { .cols = TERM_COLS_MAX, .rows = TERM_ROWS_MAX };

static void clear_rows(int from, int to)
{
	int r, c;

	for (r = from; r < to; r++)
		for (c = 0; c < TERM_COLS_MAX; c++)
			cells[r][c] = (struct cell){ ' ', TERM_NORMAL };
}

static void draw_cell(int col, int row, bool cursor)
{
	const struct cell *c = &cells[row][col];

	gfx_glyph(t.x + col * FONT_W, t.y + row * FONT_H, (unsigned char)c->ch,
	          cursor ? TERM_BG : attr_color[c->attr], cursor ? CURSOR_COLOR : TERM_BG, true);
}

static void cursor_hide(void)
{
	if (t.cursor_on && t.cx < t.cols)
		draw_cell(t.cx, t.cy, false);
	t.cursor_on = false;
}

static void cursor_show(void)
{
	if (!t.cursor_on && t.cx < t.cols)
		draw_cell(t.cx, t.cy, true);
	t.cursor_on = true;
}

void term_set_area(int x, int y, int cols, int rows)
{
	int shift, r;

	if (!t.ready) {
		clear_rows(0, TERM_ROWS_MAX);
		t.ready = true;
	}
	cols = MIN(MAX(cols, 1), TERM_COLS_MAX);
	rows = MIN(MAX(rows, 1), TERM_ROWS_MAX);
	shift = t.cy >= rows ? t.cy - rows + 1 : 0;
	if (shift) {
		memmove(cells[0], cells[shift], sizeof(cells[0]) * (size_t)(TERM_ROWS_MAX - shift));
		t.cy -= shift;
	}
	clear_rows(rows, TERM_ROWS_MAX);
	/* Cut lines stay cut: growing again must not bring back stale text. */
	for (r = 0; r < rows; r++) {
		int c;

		for (c = cols; c < TERM_COLS_MAX; c++)
			cells[r][c] = (struct cell){ ' ', TERM_NORMAL };
	}
	t.cx = MIN(t.cx, cols);
	t.x = x;
	t.y = y;
	t.cols = cols;
	t.rows = rows;
	t.cursor_on = false;
}

void term_redraw(void)
{
	int r, c;

	gfx_fill(t.x, t.y, t.cols * FONT_W, t.rows * FONT_H, TERM_BG);
	/* Only ink is drawn over the fill: blank cells cost nothing. */
	for (r = 0; r < t.rows; r++)
		for (c = 0; c < t.cols; c++)
			if (cells[r][c].ch != ' ')
				gfx_glyph(t.x + c * FONT_W, t.y + r * FONT_H,
				          (unsigned char)cells[r][c].ch,
				          attr_color[cells[r][c].attr], TERM_BG, false);
	t.cursor_on = false;
	cursor_show();
}

/* Move the text up one row: the framebuffer block moves, only the new row is drawn. */
static void scroll(void)
{
	memmove(cells[0], cells[1], sizeof(cells[0]) * (size_t)(t.rows - 1));
	clear_rows(t.rows - 1, t.rows);
	gfx_copy(t.x, t.y, t.x, t.y + FONT_H, t.cols * FONT_W, (t.rows - 1) * FONT_H);
	gfx_fill(t.x, t.y + (t.rows - 1) * FONT_H, t.cols * FONT_W, FONT_H, TERM_BG);
}

static void newline(void)
{
	t.cx = 0;
	if (++t.cy == t.rows) {
		scroll();
		t.cy = t.rows - 1;
	}
}

static void put(char ch, enum term_attr attr)
{
	if (ch == '\n') {
		newline();
		return;
	}
	if (ch == '\t') {
		do
			put(' ', attr);
		while (t.cx % 8 && t.cx < t.cols);
		return;
	}
	if (t.cx >= t.cols)
		newline();
	cells[t.cy][t.cx] = (struct cell){ ch, (uint8_t)attr };
	draw_cell(t.cx, t.cy, false);
	t.cx++;
}

void term_write(const char *s, enum term_attr attr)
{
	const char *p;

	if (!t.ready)
		term_set_area(0, 0, TERM_COLS_MAX, TERM_ROWS_MAX);
	serial_term_write(s, strlen(s));
	cursor_hide();
	for (p = s; *p; p++) {
		bool printable = (unsigned char)*p >= 32 && (unsigned char)*p < 127;

		put(printable || *p == '\n' || *p == '\t' ? *p : '?', attr);
	}
	cursor_show();
}

void term_printf(enum term_attr attr, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	term_write(buf, attr);
}

static void prompt(void)
{
	term_printf(TERM_PROMPT, "%s$ ", guest.name);
}

/* Take back the last character typed on screen and on serial. */
static void erase_back(void)
{
	cursor_hide();
	if (t.cx == 0 && t.cy > 0) {
		t.cy--;
		t.cx = t.cols;
	}
	if (t.cx > 0) {
		t.cx--;
		cells[t.cy][t.cx] = (struct cell){ ' ', TERM_NORMAL };
		draw_cell(t.cx, t.cy, false);
	}
	cursor_show();
	serial_term_write("\b \b", 3);
}

static void replace_line(const char *s)
{
	while (t.len) {
		t.len--;
		erase_back();
	}
	for (; *s && t.len < LINE_MAX - 1; s++)
		t.line[t.len++] = *s;
	t.line[t.len] = '\0';
	term_write(t.line, TERM_NORMAL);
}

/* Commands */

static void cmd_help(const char *args);
static void cmd_clear(const char *args);

static void cmd_echo(const char *args)
{
	term_printf(TERM_NORMAL, "%s\n", args);
}

static void cmd_date(const char *args)
{
	struct rtc_time tm;

	(void)args;
	rtc_read(&tm);
	term_printf(TERM_NORMAL, "%04d-%02d-%02d %02d:%02d:%02d\n", tm.year, tm.mon, tm.day,
	            tm.hour, tm.min, tm.sec);
}

static void cmd_uname(const char *args)
{
	(void)args;
	term_write("vdi-guest " GUEST_VERSION " x86_64\n", TERM_NORMAL);
}

static void cmd_mem(const char *args)
{
	(void)args;
	if (guest.ram_bytes)
		term_printf(TERM_NORMAL, "memory: %lu MiB\n",
		            (unsigned long)(guest.ram_bytes >> 20));
	else
		term_write("memory: unknown (no memory map from the loader)\n", TERM_ERROR);
}

static void cmd_mode(const char *args)
{
	uint32_t w, h;

	if (*args) {
		if (!parse_size(args, &w, &h)) {
			term_write("usage: mode [WIDTHxHEIGHT]\n", TERM_ERROR);
			return;
		}
		cursor_hide();
		if (desk_set_mode(w, h) != 0) {
			term_write("mode: no display\n", TERM_ERROR);
			return;
		}
	}
	desk_mode(&w, &h);
	term_printf(TERM_NORMAL, "display: %ux%u\n", w, h);
}

static void cmd_reboot(const char *args)
{
	(void)args;
	term_write("rebooting\n", TERM_NORMAL);
	power_reboot();
}

static void cmd_poweroff(const char *args)
{
	(void)args;
	term_write("powering off\n", TERM_NORMAL);
	power_off();
}

static const struct command {
	const char *name;
	const char *usage;
	const char *help;
	void (*fn)(const char *args);
} commands[] = {
	{ "help", "", "list the commands", cmd_help },
	{ "clear", "", "clear the terminal", cmd_clear },
	{ "echo", "TEXT", "print TEXT", cmd_echo },
	{ "date", "", "show the date and time (RTC)", cmd_date },
	{ "uname", "", "show the system name and version", cmd_uname },
	{ "mem", "", "show the total RAM", cmd_mem },
	{ "mode", "[WxH]", "show or set the display mode", cmd_mode },
	{ "reboot", "", "restart the machine", cmd_reboot },
	{ "poweroff", "", "switch the machine off", cmd_poweroff },
};

static void cmd_help(const char *args)
{
	size_t i;

	(void)args;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		char head[24];

		snprintf(head, sizeof(head), "%s %s", commands[i].name, commands[i].usage);
		term_printf(TERM_ACCENT, "  %-16s", head);
		term_printf(TERM_NORMAL, "%s\n", commands[i].help);
	}
}

static void cmd_clear(const char *args)
{
	(void)args;
	clear_rows(0, TERM_ROWS_MAX);
	t.cx = t.cy = 0;
	term_redraw();
}

static void run_line(void)
{
	char *p = t.line, *args;
	size_t i;

	while (*p == ' ')
		p++;
	if (!*p)
		return;
	args = p;
	while (*args && *args != ' ')
		args++;
	if (*args)
		*args++ = '\0';
	while (*args == ' ')
		args++;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(p, commands[i].name) == 0) {
			commands[i].fn(args);
			return;
		}
	}
	term_printf(TERM_ERROR, "%s: command not found: %s\n", guest.name, p);
}

static void remember(void)
{
	if (!t.len || (t.nhist && strcmp(t.hist[(t.nhist - 1) % HIST_MAX], t.line) == 0))
		return;
	memcpy(t.hist[t.nhist % HIST_MAX], t.line, sizeof(t.line));
	t.nhist++;
}

/* Tab: complete a unique command name, or list the candidates. */
static void complete(void)
{
	const struct command *match = NULL;
	size_t i, n = 0;

	for (i = 0; i < (size_t)t.len; i++)
		if (t.line[i] == ' ')
			return;
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strncmp(commands[i].name, t.line, (size_t)t.len) == 0) {
			match = &commands[i];
			n++;
		}
	}
	if (n == 1) {
		char rest[LINE_MAX];

		snprintf(rest, sizeof(rest), "%s ", match->name + t.len);
		for (i = 0; rest[i] && t.len < LINE_MAX - 1; i++)
			t.line[t.len++] = rest[i];
		t.line[t.len] = '\0';
		term_write(rest, TERM_NORMAL);
	} else if (n > 1) {
		term_write("\n", TERM_NORMAL);
		for (i = 0; i < ARRAY_SIZE(commands); i++)
			if (strncmp(commands[i].name, t.line, (size_t)t.len) == 0)
				term_printf(TERM_ACCENT, "%s  ", commands[i].name);
		term_write("\n", TERM_NORMAL);
		prompt();
		term_write(t.line, TERM_NORMAL);
	}
}

void term_key(int key)
{
	char s[2] = { 0, 0 };

	switch (key) {
	case '\n':
		term_write("\n", TERM_NORMAL);
		t.line[t.len] = '\0';
		remember();
		t.hist_pos = t.nhist;
		run_line();
		t.len = 0;
		prompt();
		return;
	case '\b':
	case 0x7f:
		if (t.len) {
			t.len--;
			erase_back();
		}
		return;
	case '\t':
		t.line[t.len] = '\0';
		complete();
		return;
	case 0x03: /* ctrl-c: drop the line */
		term_write("^C\n", TERM_DIM);
		t.len = 0;
		prompt();
		return;
	case 0x0c: /* ctrl-l */
		t.line[t.len] = '\0';
		cmd_clear("");
		/* Serial cannot be cleared; start the new prompt on its own line. */
		serial_term_write("\n", 1);
		prompt();
		term_write(t.line, TERM_NORMAL);
		return;
	case 0x15: /* ctrl-u */
		replace_line("");
		return;
	case INPUT_KEY_UP:
		if (t.hist_pos > 0 && t.hist_pos > t.nhist - HIST_MAX) {
			t.hist_pos--;
			replace_line(t.hist[t.hist_pos % HIST_MAX]);
		}
		return;
	case INPUT_KEY_DOWN:
		if (t.hist_pos < t.nhist) {
			t.hist_pos++;
			replace_line(t.hist_pos == t.nhist ? "" : t.hist[t.hist_pos % HIST_MAX]);
		}
		return;
	default:
		break;
	}
	if (key < 32 || key >= 127 || t.len >= LINE_MAX - 1)
		return;
	t.line[t.len++] = (char)key;
	s[0] = (char)key;
	term_write(s, TERM_NORMAL);
}

void term_start(void)
{
	term_printf(TERM_DIM,
	            "Welcome to %s (vdi-guest " GUEST_VERSION "). Type 'help' for the commands.\n",
	            guest.name);
	prompt();
}
