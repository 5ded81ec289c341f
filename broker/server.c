// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The running broker; see server.h. Start-up order: TLS identity (made on
 * first start), the gateway ticket key, the HTTPS server, then the loop.
 */
#include "broker/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
 * (mode 0600) so a restart does not invalidate tickets just handed out.
 */
static int load_ticket_key(const struct broker_config *cfg, uint8_t key[TICKET_KEY_LEN])
{
	char path[BROKER_PATH_MAX + 1];
	ssize_t n;
	int fd, r;

	r = broker_config_data_path(cfg, TICKET_KEY_FILE, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, key, TICKET_KEY_LEN);
		close(fd);
		if (n == TICKET_KEY_LEN)
			return 0;
		log_warn("%s is damaged; making a new ticket key", path);
	}
	if (RAND_bytes(key, TICKET_KEY_LEN) != 1)
		return -EIO;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	n = write(fd, key, TICKET_KEY_LEN);
	r = n == TICKET_KEY_LEN && fsync(fd) == 0 ? 0 : -EIO;
	close(fd);
	return r;
}

static gboolean on_signal(gpointer data)
{
	log_info("stopping");
	broker_http_stop(data);
	return G_SOURCE_CONTINUE;
}

int broker_server_run(const struct broker_config *cfg, struct broker_store *store,
                      struct broker_auth *auth)
{
	char cert[BROKER_PATH_MAX + 1], key[BROKER_PATH_MAX + 1], err[512];
	char fingerprint[BROKER_FINGERPRINT_LEN + 1];
	uint8_t ticket_key[TICKET_KEY_LEN];
	struct broker_http_config hc;
	struct broker_http *http = NULL;
	struct broker_api *api = NULL;
	struct broker_gateway *gw = NULL;        /* the browser console (gateway.h) */
	struct broker_desktops *desktops = NULL; /* VM supervision and pools */
	int r, status = BROKER_EXIT_FAIL;
	guint sig_term = 0, sig_int = 0;

	if (broker_config_data_path(cfg, cfg->tls_cert, cert, sizeof(cert)) < 0 ||
	    broker_config_data_path(cfg, cfg->tls_key, key, sizeof(key)) < 0) {
		log_err("TLS file paths too long");
		return BROKER_EXIT_FAIL;
	}
	{
		char dir[BROKER_PATH_MAX + 1], *slash;

		/* The default files live in data_dir/tls/. */
		snprintf(dir, sizeof(dir), "%s", cert);
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			mkdir(dir, 0700);
		}
	}
	r = broker_tls_ensure(cert, key, cfg->listen_host, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		return BROKER_EXIT_FAIL;
	}
	if (r == 1)
		log_info("made a self-signed TLS certificate: %s", cert);
	if (broker_tls_fingerprint(cert, fingerprint) == 0) {
		printf("TLS certificate SHA-256 fingerprint: %s\n", fingerprint);
		fflush(stdout);
	}
	r = load_ticket_key(cfg, ticket_key);
	if (r < 0) {
		log_err("cannot make the console ticket key: %s", strerror(-r));
		return BROKER_EXIT_FAIL;
	}
	r = broker_api_new(cfg, store, auth, NULL, ticket_key, sizeof(ticket_key), &api);
	if (r == 0) { /* the console gateway; its VNC secrets: see broker_gateway_set_ticket() */
		struct broker_gateway_config gc = { .store = store,
			                            .auth = auth,
			                            .ticket_key = ticket_key,
			                            .ticket_key_len = sizeof(ticket_key),
			                            .max_tunnels = cfg->max_tunnels,
			                            .max_per_user = cfg->max_tunnels_per_user };

		r = broker_gateway_new(&gc, &gw);
	}
	OPENSSL_cleanse(ticket_key, sizeof(ticket_key));
	if (r < 0) {
		log_err("cannot set up the API: %s", strerror(-r));
		return BROKER_EXIT_FAIL;
	}
	memset(&hc, 0, sizeof(hc));
	hc.host = cfg->listen_host;
	hc.port = cfg->listen_port;
	hc.cert_path = cert;
	hc.key_path = key;
	hc.web_root = cfg->web_root;
	hc.handler = broker_api_handle;
	hc.opaque = api;
	hc.extra_protocols = broker_gateway_protocols(gw);
	r = broker_http_new(&hc, &http, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		goto out;
	}
	broker_gateway_attach(gw, http);
	r = broker_desktops_new(cfg, store, http, &desktops);
	if (r < 0) {
		log_err("cannot start supervising desktops: %s", strerror(-r));
		goto out;
	}
	{
		struct broker_api_desktops hooks;

		broker_desktops_api(desktops, &hooks);
		broker_api_set_desktops(api, &hooks);
		/* The gateway sets the VM's VNC secret for each tunnel the same way. */
		broker_gateway_set_ticket(gw, hooks.set_ticket, hooks.opaque);
	}
	printf("vdi-broker: serving https://%s%s%s:%d/\n", strchr(cfg->listen_host, ':') ? "[" : "",
	       cfg->listen_host, strchr(cfg->listen_host, ':') ? "]" : "", broker_http_port(http));
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
