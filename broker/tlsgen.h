/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker's TLS identity on first start: when the configured
 * certificate and key are missing, make a self-signed certificate (ECDSA
 * P-256, valid ten years, subjectAltName localhost, 127.0.0.1, ::1 and the
 * listen address) so HTTPS works out of the box. Clients pin it by its
 * SHA-256 fingerprint, which the broker prints at start-up, or replace it
 * with a real certificate.
 */
#ifndef VDI_BROKER_TLSGEN_H
#define VDI_BROKER_TLSGEN_H

#include <stdbool.h>
#include <stddef.h>

/* "AB:CD:..." of a SHA-256 digest: 32 pairs and 31 colons. */
#define BROKER_FINGERPRINT_LEN 95

/*
 * Make @cert_path and @key_path (mode 0600 for the key) unless both exist.
 * @host is added to the subjectAltName when it is not a loopback address.
 * Returns 1 when it made them, 0 when they existed, -errno with a reason
 * in @err.
 */
int broker_tls_ensure(const char *cert_path, const char *key_path, const char *host, char *err,
                      size_t err_size);

/* The SHA-256 fingerprint of the PEM certificate at @cert_path; 0 or -errno. */
int broker_tls_fingerprint(const char *cert_path, char out[BROKER_FINGERPRINT_LEN + 1]);

#endif
