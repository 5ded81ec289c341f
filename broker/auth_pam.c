// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/auth_pam.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <security/pam_appl.h>

#include "proto/log.h"

static void free_responses(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			OPENSSL_cleanse(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

int broker_pam_conv(int n, const struct pam_message **msg, struct pam_response **resp,
                    void *appdata)
{
	const char *password = appdata ? appdata : "";
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG || !msg || !resp)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (!msg[i])
			goto out_conv;
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			r[i].resp = strdup(password);
			if (!r[i].resp)
				goto out_buf;
			break;
		case PAM_PROMPT_ECHO_ON:
			/* The name was given to pam_start; anything else asked is unknown. */
			r[i].resp = strdup("");
			if (!r[i].resp)
				goto out_buf;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			log_debug("auth: pam says: %s", msg[i]->msg ? msg[i]->msg : "");
			break;
		default:
			goto out_conv;
		}
	}
	*resp = r;
	return PAM_SUCCESS;

out_buf:
	free_responses(r, n);
	return PAM_BUF_ERR;
out_conv:
	free_responses(r, n);
	return PAM_CONV_ERR;
}

int broker_pam_check(void *ctx, const char *user, const char *password)
{
	const char *service = ctx;
	struct pam_conv conv = { broker_pam_conv, (void *)password };
	pam_handle_t *h = NULL;
	int rc, r;

	if (!service || !*service || !user || !password)
		return -EINVAL;
	rc = pam_start(service, user, &conv, &h);
	if (rc != PAM_SUCCESS) {
		log_warn("auth: pam_start(%s) failed: %s", service, pam_strerror(h, rc));
		return -EIO;
	}
	rc = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	switch (rc) {
	case PAM_SUCCESS:
		r = 0;
		break;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_MAXTRIES:
	case PAM_CRED_INSUFFICIENT:
	case PAM_ACCT_EXPIRED:
	case PAM_PERM_DENIED:
	case PAM_NEW_AUTHTOK_REQD:
		log_debug("auth: pam service=%s user=%s: %s", service, user, pam_strerror(h, rc));
		r = -EACCES;
		break;
	default:
		log_warn("auth: pam service=%s user=%s: %s", service, user, pam_strerror(h, rc));
		r = -EIO;
		break;
	}
	pam_end(h, rc);
	return r;
}
