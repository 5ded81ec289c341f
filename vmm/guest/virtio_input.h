/*
 * virtio_input.h - modern virtio-pci input devices (1af4:1052): keyboards
 * feed input_key(), tablets feed desk_pointer().
 */
#ifndef GUEST_VIRTIO_INPUT_H
#define GUEST_VIRTIO_INPUT_H

#include <stdbool.h>

/*
 * Bring up every virtio-input function on bus 0 that is a keyboard or a
 * tablet, with its event queue filled and its INTx line registered.
 * Returns how many are running.
 */
int vinput_init(void);

/* True when some device is a tablet (the desktop then shows a pointer). */
bool vinput_have_tablet(void);

/* Consume used event buffers and re-post them. Main loop only. */
void vinput_poll(void);

/* True when an interrupt reported new events since the last poll. */
bool vinput_pending(void);

#endif
