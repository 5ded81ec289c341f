/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line of vdi-viewer: what to connect to (a URI or a .vv file)
 * and how to show it. Secrets never come from the command line itself:
 * --password-file, --password-stdin, the VDI_PASSWORD environment variable
 * or the .vv file carry them.
 */
#ifndef VDI_VIEWER_OPTIONS_H
#define VDI_VIEWER_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "viewer/hotkey.h"
#include "viewer/session.h"

/* Exit status of vdi-viewer; --help and viewer/README.md list them. */
enum viewer_exit {
	VIEWER_EXIT_OK = 0,      /* the window was closed, or the session ended */
	VIEWER_EXIT_ERROR = 1,   /* no display, out of memory, ... */
	VIEWER_EXIT_USAGE = 2,   /* bad arguments, unreadable or bad .vv / password file */
	VIEWER_EXIT_AUTH = 3,    /* the server refused the password */
	VIEWER_EXIT_CONNECT = 4, /* could not connect, or gave up reconnecting */
	VIEWER_EXIT_TLS = 5,     /* the server's certificate was not trusted */
	VIEWER_EXIT_LOGOUT =
	        6, /* broker mode, internal: the user signed out (never an exit status) */
};

/* The viewer's own keys, in --hotkeys and .vv names. */
enum viewer_hotkey_action {
	VIEWER_HK_RELEASE_CURSOR,
	VIEWER_HK_TOGGLE_FULLSCREEN,
	VIEWER_HK_SECURE_ATTENTION,
	VIEWER_HK_OVERLAY,
	VIEWER_HK_LOGOUT, /* broker mode: sign out, back to the login screen */
	VIEWER_HK_QUIT,   /* end the viewer (off by default in kiosk mode) */
	VIEWER_HK_COUNT,
};

#define VIEWER_QUALITY_AUTO (-1)     /* lossless to a loopback server, JPEG 8 otherwise */
#define VIEWER_QUALITY_LOSSLESS (-2) /* no JPEG */
#define VIEWER_RETRIES_MAX 1000

struct viewer_ui {
	bool fullscreen;
	bool resize_guest; /* ask the guest for the window's size */
	bool overlay;      /* start with the status overlay shown */
	bool grab_keyboard;
	struct viewer_hotkey hotkeys[VIEWER_HK_COUNT];
	int retries; /* reconnect attempts after a failure, 0..VIEWER_RETRIES_MAX */
	int quality; /* VNC JPEG quality 0..9 or VIEWER_QUALITY_* */
	int log_level;
};

#define VIEWER_IDLE_TIMEOUT_MAX 86400

/* Broker mode: --broker and what goes with it. */
struct viewer_broker_options {
	char *url;         /* "https://host:port" (malloc'd), NULL: not a broker client */
	char *ca_file;     /* --ca (malloc'd), or NULL */
	char *fingerprint; /* --fingerprint as given (malloc'd; checked), or NULL */
	char *branding;    /* --branding directory with title and logo.png (malloc'd) */
	enum viewer_protocol protocol; /* --protocol, default VNC */
	bool kiosk;                    /* full screen, no quitting, back to the login screen */
	bool allow_quit;  /* --allow-quit: kiosk may be quit (window close, quit hotkey) */
	int idle_timeout; /* seconds without input before signing out, 0: never */
};

struct viewer_options {
	struct viewer_session session;
	struct viewer_ui ui;
	struct viewer_broker_options broker;
	char *vv_path;  /* the .vv file that was read (malloc'd), NULL for a URI or stdin */
	bool delete_vv; /* it said delete-this-file=1 */
};

/* Defaults: grab the keyboard, resize the guest, 10 retries, the default hotkeys. */
void viewer_ui_defaults(struct viewer_ui *ui);

/* The --hotkeys / .vv name of @a ("release-cursor", ...). */
const char *viewer_hotkey_action_name(enum viewer_hotkey_action a);

/*
 * Apply "name=keys,name=keys" (remote-viewer's --hotkeys syntax) to @ui.
 * Returns 0, or -EINVAL with a reason in @err (unknown name, bad keys).
 */
int viewer_hotkeys_apply(struct viewer_ui *ui, const char *list, char *err, size_t err_size);

/*
 * Parse argv into @o: reads the .vv file, the password file, standard
 * input or VDI_PASSWORD as the arguments say (and removes VDI_PASSWORD
 * from the environment). Returns 0; 1 when --help or --version was printed
 * (exit 0); -EINVAL with a one-line message in @err (exit 2); -ENOMEM.
 * Main thread, before other threads start (it touches the environment).
 */
int viewer_options_parse(struct viewer_options *o, int argc, char **argv, char *err,
                         size_t err_size);

/* Free what viewer_options_parse() allocated and wipe the password. NULL is a no-op. */
void viewer_options_clear(struct viewer_options *o);

/* The --help text. */
void viewer_options_usage(FILE *f);

#endif
