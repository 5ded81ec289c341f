// SPDX-License-Identifier: GPL-2.0-or-later
// The broker's REST API from the web pages: the session token lives in
// sessionStorage (this tab only), errors become sentences for people.
// Nothing here builds HTML from text: callers put messages in textContent.

const TOKEN = "vdi.token";
const KIOSK = "vdi.kiosk";

export class ApiError extends Error {
	constructor(status, code, message, retryAfter) {
		super(message);
		this.status = status;
		this.code = code;
		this.retryAfter = retryAfter;
	}
}

export function token() {
	return sessionStorage.getItem(TOKEN);
}

export function setToken(t) {
	if (t)
		sessionStorage.setItem(TOKEN, t);
	else
		sessionStorage.removeItem(TOKEN);
}

// Kiosk mode: set by ?kiosk=1 on the login page, kept for the tab.
export function kiosk() {
	const q = new URLSearchParams(location.search);
	if (q.has("kiosk"))
		sessionStorage.setItem(KIOSK, q.get("kiosk") === "0" ? "0" : "1");
	return sessionStorage.getItem(KIOSK) === "1";
}

export function loginPage() {
	return kiosk() ? "index.html?kiosk=1" : "index.html";
}

// fetch() one API call; the parsed JSON body, or an ApiError.
export async function api(method, path, body) {
	const headers = { "Accept": "application/json" };
	const t = token();
	let res;

	if (t)
		headers["Authorization"] = "Bearer " + t;
	if (body !== undefined)
		headers["Content-Type"] = "application/json";
	try {
		res = await fetch(path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			cache: "no-store",
			credentials: "omit",
		});
	} catch (e) {
		throw new ApiError(0, "network", "The broker cannot be reached. Check the network and try again.");
	}
	let j = null;
	try {
		j = await res.json();
	} catch (e) {
		j = null;
	}
	if (res.ok)
		return j || {};
	const err = (j && j.error) || {};
	throw new ApiError(res.status, String(err.code || "internal"),
	                   String(err.message || "The broker answered with an error (" + res.status + ")."),
	                   parseInt(res.headers.get("Retry-After") || "0", 10));
}

// A sentence for a failed login or call.
export function describe(e) {
	if (!(e instanceof ApiError))
		return "Something went wrong: " + String(e && e.message ? e.message : e);
	switch (e.code) {
	case "bad_credentials":
		return "Wrong user name or password.";
	case "totp_required":
		return "Enter the six-digit code from your authenticator app.";
	case "totp_bad":
		return "That code is not valid. Wait for the next one and try again.";
	case "locked":
		return "This account is locked after too many failed logins." +
		       (e.retryAfter ? " Try again in " + e.retryAfter + " seconds." : " Try again later.");
	case "throttled":
		return "Too many failed logins from here." +
		       (e.retryAfter ? " Wait " + e.retryAfter + " seconds." : " Wait a moment.");
	case "unauthorized":
		return "Your session has ended. Log in again.";
	case "pool_full":
		return "No desktop is free right now. Try again in a few minutes.";
	case "quota":
		return "You already have as many desktops as you may.";
	case "unavailable":
		return "The desktop is not available yet." + (e.retryAfter ? " Retrying…" : "");
	case "network":
		return e.message;
	default:
		return "The broker had an error (" + e.code + "). Try again, or tell your administrator.";
	}
}

export async function logout() {
	try {
		await api("POST", "/api/v1/logout");
	} catch (e) {
		/* gone already */
	}
	setToken(null);
}
