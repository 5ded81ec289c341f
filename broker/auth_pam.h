/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PAM backend of broker/auth.h: checks a name and password with the PAM
 * service named in [auth] pam_service (an /etc/pam.d/ file). Only
 * authentication and account checks (pam_authenticate, pam_acct_mgmt); no
 * sessions, no credentials. PAM modules may block (pam_unix delays failures
 * by about 2 s), so callers run this off any event loop.
 */
#ifndef VDI_BROKER_AUTH_PAM_H
#define VDI_BROKER_AUTH_PAM_H

struct pam_message;
struct pam_response;

/*
 * A broker_external_fn: @ctx is the service name. Returns 0 when PAM
 * accepts @user with @password, -EACCES when it refuses them, -EIO when PAM
 * itself fails.
 */
int broker_pam_check(void *ctx, const char *user, const char *password);

/*
 * The PAM conversation: answers every PAM_PROMPT_ECHO_OFF with the password
 * in @appdata (a const char *) and PAM_PROMPT_ECHO_ON with an empty string
 * (PAM already has the name); info and error messages get no answer.
 * Returns PAM_SUCCESS with @resp malloc'd for PAM to free, or PAM_CONV_ERR
 * (for a bad count or message style) or PAM_BUF_ERR with nothing allocated.
 */
int broker_pam_conv(int n, const struct pam_message **msg, struct pam_response **resp,
                    void *appdata);

#endif
