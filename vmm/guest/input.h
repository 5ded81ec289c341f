/*
 * input.h - keyboard events to characters (US layout).
 *
 * Both keyboards speak Linux input key codes: virtio-input sends them as
 * they are, and the i8042 driver converts scan code set 1 to them.
 */
#ifndef GUEST_INPUT_H
#define GUEST_INPUT_H

/* Keys the terminal understands beyond characters (which are < 0x100). */
#define INPUT_KEY_UP 0x101
#define INPUT_KEY_DOWN 0x102
#define INPUT_KEY_LEFT 0x103
#define INPUT_KEY_RIGHT 0x104
#define INPUT_KEY_HOME 0x105
#define INPUT_KEY_END 0x106
#define INPUT_KEY_DELETE 0x107
#define INPUT_KEY_PAGEUP 0x108
#define INPUT_KEY_PAGEDOWN 0x109

/* Linux key codes this module and the i8042 driver refer to by name. */
#define KEY_ESC 1
#define KEY_BACKSPACE 14
#define KEY_TAB 15
#define KEY_ENTER 28
#define KEY_LEFTCTRL 29
#define KEY_LEFTSHIFT 42
#define KEY_RIGHTSHIFT 54
#define KEY_LEFTALT 56
#define KEY_CAPSLOCK 58
#define KEY_KPENTER 96
#define KEY_RIGHTCTRL 97
#define KEY_KPSLASH 98
#define KEY_RIGHTALT 100
#define KEY_HOME 102
#define KEY_UP 103
#define KEY_PAGEUP 104
#define KEY_LEFT 105
#define KEY_RIGHT 106
#define KEY_END 107
#define KEY_DOWN 108
#define KEY_PAGEDOWN 109
#define KEY_INSERT 110
#define KEY_DELETE 111
#define KEY_LEFTMETA 125
#define KEY_RIGHTMETA 126
#define KEY_COMPOSE 127
#define KEY_MAX_CODE 0x2ff

/*
 * A key changed: value 1 press, 2 autorepeat, 0 release. Updates the
 * modifier state and hands typed characters to the terminal.
 */
void input_key(unsigned code, int value);

#endif
