// SPDX-License-Identifier: GPL-2.0-or-later
// The login page: user, password and (when the account has it) a TOTP code.
// In kiosk mode (?kiosk=1) a good login goes straight to the desktop.
import { api, describe, kiosk, setToken, ApiError } from "./api.js";

const form = document.getElementById("login");
const message = document.getElementById("message");
const totpRow = document.getElementById("totp-row");
const totp = document.getElementById("totp");
const submit = document.getElementById("submit");

function say(text) {
	message.textContent = text;
}

// The pool a kiosk connects to: the user's only pool, else the one holding
// their desktop, else the first.
async function kioskPool() {
	const pools = (await api("GET", "/api/v1/pools")).pools || [];
	if (pools.length === 0)
		throw new ApiError(404, "no_pool", "No desktop is set up for you.");
	if (pools.length === 1)
		return pools[0].name;
	const desktops = (await api("GET", "/api/v1/desktops")).desktops || [];
	const held = desktops.find((d) => pools.some((p) => p.name === d.pool));
	return held ? held.pool : pools[0].name;
}

form.addEventListener("submit", async (ev) => {
	ev.preventDefault();
	const body = { user: form.user.value, password: form.password.value };
	if (!totpRow.hidden && totp.value)
		body.totp = totp.value;
	submit.disabled = true;
	say("Logging in…");
	try {
		const r = await api("POST", "/api/v1/login", body);
		setToken(r.token);
		if (kiosk()) {
			const pool = await kioskPool();
			location.assign("console.html?pool=" + encodeURIComponent(pool));
		} else {
			location.assign("desktops.html");
		}
	} catch (e) {
		if (e instanceof ApiError && (e.code === "totp_required" || e.code === "totp_bad")) {
			totpRow.hidden = false;
			totp.value = "";
			totp.focus();
		} else if (e instanceof ApiError && e.code === "no_pool") {
			say(e.message);
			submit.disabled = false;
			return;
		}
		say(describe(e));
		submit.disabled = false;
	}
});

kiosk(); // remember ?kiosk=1 for this tab
if (new URLSearchParams(location.search).get("reason") === "ended")
	say("The desktop session ended.");
form.user.focus();
