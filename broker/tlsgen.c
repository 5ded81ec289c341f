// SPDX-License-Identifier: GPL-2.0-or-later
/* A self-signed certificate for the broker's first start; see tlsgen.h. */
#include "broker/tlsgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define VALID_DAYS 3650

static bool is_loopback(const char *host)
{
	return !host[0] || strcmp(host, "127.0.0.1") == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}

/* subjectAltName: DNS:localhost, IP:127.0.0.1, IP:::1 and @host. */
static int add_san(X509 *x, const char *host)
{
	char san[256];
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	struct in6_addr a6;
	struct in_addr a4;
	int r;

	if (is_loopback(host))
		snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1");
	else if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1)
		snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1,IP:%s", host);
	else
		snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:%s", host);
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
	if (!ext)
		return -EINVAL;
	r = X509_add_ext(x, ext, -1) ? 0 : -EINVAL;
	X509_EXTENSION_free(ext);
	return r;
}

static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	char tmp[4200];
	FILE *f;
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	         : PEM_write_X509(f, cert);
	if (fclose(f) != 0 || !ok) {
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		return -e;
	}
	return 0;
}

int broker_tls_ensure(const char *cert_path, const char *key_path, const char *host, char *err,
                      size_t err_size)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	int r = -EIO;

	if (access(cert_path, F_OK) == 0 && access(key_path, F_OK) == 0)
		return 0;
	if (access(cert_path, F_OK) == 0 || access(key_path, F_OK) == 0) {
		snprintf(
		        err, err_size,
		        "only one of the TLS certificate and key exists (%s): give both or neither",
		        cert_path);
		return -EEXIST;
	}
	key = EVP_EC_gen("P-256");
	x = X509_new();
	if (!key || !x)
		goto out;
	X509_set_version(x, 2);
	{
		unsigned char serial[16];
		BIGNUM *bn;

		if (RAND_bytes(serial, sizeof(serial)) != 1)
			goto out;
		serial[0] &= 0x7f; /* positive */
		bn = BN_bin2bn(serial, sizeof(serial), NULL);
		if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
			BN_free(bn);
			goto out;
		}
		BN_free(bn);
	}
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)VALID_DAYS * 24 * 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"vdi", -1, -1,
	                           0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                           (const unsigned char *)(is_loopback(host) ? "localhost" : host),
	                           -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (add_san(x, host) < 0 || !X509_sign(x, key, EVP_sha256()))
		goto out;
	r = write_pem(key_path, 0600, key, NULL);
	if (r == 0)
		r = write_pem(cert_path, 0644, NULL, x);
	if (r < 0) {
		unlink(key_path);
		snprintf(err, err_size, "cannot write the TLS certificate %s: %s", cert_path,
		         strerror(-r));
		goto done;
	}
	r = 1;
	goto done;
out:
	snprintf(err, err_size, "cannot make a TLS certificate: OpenSSL failed");
done:
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

int broker_tls_fingerprint(const char *cert_path, char out[BROKER_FINGERPRINT_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	FILE *f = fopen(cert_path, "re");
	X509 *x;

	if (!f)
		return -errno;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return -EINVAL;
	if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32) {
		X509_free(x);
		return -EIO;
	}
	X509_free(x);
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + i * 3, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
	return 0;
}
