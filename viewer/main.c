// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-viewer: show a virtual desktop over VNC or SPICE in an SDL2 window.
 * The exit status is listed by --help (enum viewer_exit).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto/log.h"
#include "viewer/app.h"
#include "viewer/options.h"

int main(int argc, char **argv)
{
	struct viewer_options o;
	char err[512] = "", message[640] = "";
	int r;

	vdi_log_init("vdi-viewer", VDI_LOG_WARN);
	r = viewer_options_parse(&o, argc, argv, err, sizeof(err));
	if (r > 0)
		return VIEWER_EXIT_OK;
	if (r == -ENOMEM) {
		fprintf(stderr, "vdi-viewer: out of memory\n");
		return VIEWER_EXIT_ERROR;
	}
	if (r < 0) {
		fprintf(stderr, "vdi-viewer: %s (see --help)\n", err);
		return VIEWER_EXIT_USAGE;
	}
	vdi_log_init(NULL, o.ui.log_level);
	/* remote-viewer's delete-this-file: the secret inside is read, the file goes. */
	if (o.delete_vv && unlink(o.vv_path) < 0)
		log_warn("cannot delete %s as it asks: %s", o.vv_path, strerror(errno));

	r = viewer_app_run(&o, message, sizeof(message));
	if (r != VIEWER_EXIT_OK && message[0])
		fprintf(stderr, "vdi-viewer: %s\n", message);
	viewer_options_clear(&o);
	return r;
}
