// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The running broker, or a console gateway on its own; see server.h.
 * Start-up order: TLS identity (made on first start), the gateway ticket
 * key, the HTTPS server, then the loop.
 */
#include "broker/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "broker/api.h"
#include "broker/cli.h"
#include "broker/desktops.h"
#include "broker/gateway.h"
#include "broker/http.h"
#include "broker/tlsgen.h"
#include "proto/log.h"
#include "proto/ticket.h"

#define TICKET_KEY_FILE "ticket.key"
#define TICKET_KEY_LEN 32

/*
 * The key that signs the gateway's tickets, kept in the data directory
 * (mode 0600) so a restart does not invalidate tickets just handed out. A
 * new key is written aside and linked into place, so a broker and a
 * gateway on its own starting together end up with the same one.
 */
static int load_ticket_key(const struct broker_config *cfg, uint8_t key[TICKET_KEY_LEN])
{
	char path[BROKER_PATH_MAX + 1], tmp[BROKER_PATH_MAX + 32];
	ssize_t n;
	int fd, r;

	r = broker_config_data_path(cfg, TICKET_KEY_FILE, path, sizeof(path));
	if (r < 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	for (int attempt = 0; attempt < 3; attempt++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, key, TICKET_KEY_LEN);
			close(fd);
			if (n == TICKET_KEY_LEN)
				return 0;
			log_warn("%s is damaged; making a new ticket key", path);
			unlink(path);
		}
		if (RAND_bytes(key, TICKET_KEY_LEN) != 1)
			return -EIO;
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		n = write(fd, key, TICKET_KEY_LEN);
		r = n == TICKET_KEY_LEN && fsync(fd) == 0 ? 0 : -EIO;
		close(fd);
		if (r == 0 && link(tmp, path) < 0)
			r = -errno;
		unlink(tmp);
		if (r != -EEXIST) /* else another process made one just now: read it */
			return r;
	}
	return -EIO;
}

static gboolean on_signal(gpointer data)
{
	log_info("stopping");
	broker_http_stop(data);
	return G_SOURCE_CONTINUE;
}

/* A gateway on its own answers nothing but the console. */
static void gateway_only_handle(void *opaque, const struct broker_http_request *req,
                                struct broker_http_response *res)
{
	broker_http_error(res, 404, "not_found",
	                  "this is a console gateway: it serves only wss://…%s", BROKER_GW_PATH);
}

/* The certificate and key paths, the certificate made on first start. */
static int tls_identity(const struct broker_config *cfg, char cert[BROKER_PATH_MAX + 1],
                        char key[BROKER_PATH_MAX + 1])
{
	char err[512], fingerprint[BROKER_FINGERPRINT_LEN + 1], dir[BROKER_PATH_MAX + 1], *slash;
	int r;

	if (broker_config_data_path(cfg, cfg->tls_cert, cert, BROKER_PATH_MAX + 1) < 0 ||
	    broker_config_data_path(cfg, cfg->tls_key, key, BROKER_PATH_MAX + 1) < 0) {
		log_err("TLS file paths too long");
		return -ENAMETOOLONG;
	}
	/* The default files live in data_dir/tls/. */
	snprintf(dir, sizeof(dir), "%s", cert);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	r = broker_tls_ensure(cert, key, cfg->listen_host, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		return r;
	}
	if (r == 1)
		log_info("made a self-signed TLS certificate: %s", cert);
	if (broker_tls_fingerprint(cert, fingerprint) == 0) {
		printf("TLS certificate SHA-256 fingerprint: %s\n", fingerprint);
		fflush(stdout);
	}
	return 0;
}

/* The console gateway with the configured limits and origins. */
static int make_gateway(const struct broker_config *cfg, struct broker_store *store,
                        struct broker_auth *auth, const uint8_t *ticket_key,
                        struct broker_gateway **ret)
{
	gchar **origins = g_strsplit_set(cfg->origins, " ", -1);
	const char *list[BROKER_ORIGINS_MAX + 1];
	size_t n = 0;
	int r;

	for (size_t i = 0; origins[i] && n < BROKER_ORIGINS_MAX; i++)
		if (origins[i][0])
			list[n++] = origins[i];
	list[n] = NULL;
	{
		struct broker_gateway_config gc = { .store = store,
			                            .auth = auth,
			                            .ticket_key = ticket_key,
			                            .ticket_key_len = TICKET_KEY_LEN,
			                            .origins = list,
			                            .max_tunnels = cfg->max_tunnels,
			                            .max_per_user = cfg->max_tunnels_per_user };

		r = broker_gateway_new(&gc, ret);
	}
	g_strfreev(origins);
	return r;
}

int broker_server_run(const struct broker_config *cfg, struct broker_store *store,
                      struct broker_auth *auth, enum broker_serve what)
{
	char cert[BROKER_PATH_MAX + 1], key[BROKER_PATH_MAX + 1], err[512];
	uint8_t ticket_key[TICKET_KEY_LEN];
	struct broker_http_config hc;
	struct broker_http *http = NULL;
	struct broker_api *api = NULL;
	struct broker_gateway *gw = NULL;        /* the browser console (gateway.h) */
	struct broker_desktops *desktops = NULL; /* VM supervision and pools */
	bool serve_console = what == BROKER_SERVE_GATEWAY || !cfg->gateway_url[0];
	int r = 0, status = BROKER_EXIT_FAIL;
	guint sig_term = 0, sig_int = 0;

	if (tls_identity(cfg, cert, key) < 0)
		return BROKER_EXIT_FAIL;
	r = load_ticket_key(cfg, ticket_key);
	if (r < 0) {
		log_err("cannot make the console ticket key: %s", strerror(-r));
		return BROKER_EXIT_FAIL;
	}
	if (what == BROKER_SERVE_ALL)
		r = broker_api_new(cfg, store, auth, NULL, ticket_key, sizeof(ticket_key), &api);
	/* The console gateway; its VNC secrets: see broker_gateway_set_ticket(). */
	if (r == 0 && serve_console)
		r = make_gateway(cfg, store, auth, ticket_key, &gw);
	OPENSSL_cleanse(ticket_key, sizeof(ticket_key));
	if (r < 0) {
		log_err("cannot set up the API or the console gateway: %s", strerror(-r));
		goto out;
	}
	memset(&hc, 0, sizeof(hc));
	hc.host = cfg->listen_host;
	hc.port = cfg->listen_port;
	hc.cert_path = cert;
	hc.key_path = key;
	if (what == BROKER_SERVE_ALL) {
		hc.web_root = cfg->web_root;
		hc.handler = broker_api_handle;
		hc.opaque = api;
	} else {
		hc.handler = gateway_only_handle;
	}
	hc.extra_protocols = gw ? broker_gateway_protocols(gw) : NULL;
	r = broker_http_new(&hc, &http, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		goto out;
	}
	if (gw)
		broker_gateway_attach(gw, http);
	if (what == BROKER_SERVE_ALL) {
		struct broker_api_desktops hooks;

		r = broker_desktops_new(cfg, store, http, &desktops);
		if (r < 0) {
			log_err("cannot start supervising desktops: %s", strerror(-r));
			goto out;
		}
		broker_desktops_api(desktops, &hooks);
		broker_api_set_desktops(api, &hooks);
		/* The gateway sets the VM's VNC secret for each tunnel the same way. */
		if (gw)
			broker_gateway_set_ticket(gw, hooks.set_ticket, hooks.opaque);
		else
			log_info("browser consoles go to the gateway at %s", cfg->gateway_url);
	} /* else the gateway sets VNC secrets over the VMs' control sockets itself */
	printf("vdi-broker: %s https://%s%s%s:%d/\n",
	       what == BROKER_SERVE_GATEWAY ? "console gateway serving" : "serving",
	       strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
	       strchr(cfg->listen_host, ':') ? "]" : "", broker_http_port(http));
	fflush(stdout);
	sig_term = g_unix_signal_add(SIGTERM, on_signal, http);
	sig_int = g_unix_signal_add(SIGINT, on_signal, http);
	broker_http_run(http);
	status = BROKER_EXIT_OK;
out:
	if (sig_term)
		g_source_remove(sig_term);
	if (sig_int)
		g_source_remove(sig_int);
	broker_desktops_free(desktops); /* VMMs keep running, to be adopted next start */
	broker_http_free(http);
	broker_gateway_free(gw); /* after the server, whose close callbacks end the tunnels */
	broker_api_free(api);
	return status;
}
