// SPDX-License-Identifier: GPL-2.0-or-later
// The console page: asks the broker for a one-time console ticket for the
// pool in ?pool=, and shows the desktop with noVNC through the broker's
// gateway (wss://<this host>/api/v1/console). Text from the desktop (its
// name, the clipboard) is only ever put in textContent or a textarea.
import RFB from "../node_modules/@novnc/novnc/core/rfb.js";
import { api, describe, kiosk, logout, loginPage, token } from "./api.js";

const $ = (id) => document.getElementById(id);
const pool = new URLSearchParams(location.search).get("pool") || "";
const isKiosk = kiosk();
let rfb = null;
let leaving = false;

function state(s, text) {
	document.body.dataset.state = s;
	$("status").textContent = text;
	$("reconnect").disabled = s !== "disconnected";
}

function applyView() {
	if (!rfb)
		return;
	const v = $("view").value;
	rfb.scaleViewport = v === "scale";
	rfb.resizeSession = v === "resize";
	rfb.clipViewport = v === "none";
}

async function goLogin(reason) {
	leaving = true;
	await logout();
	location.assign(loginPage() + (reason ? (isKiosk ? "&" : "?") + "reason=" + reason : ""));
}

function fullScreen() {
	if (!document.fullscreenElement && document.documentElement.requestFullscreen)
		document.documentElement.requestFullscreen().catch(() => {});
}

// A ticket handed over in the fragment (#ticket=..., never sent to a server),
// good once; otherwise one from the broker for this pool, waiting while the
// desktop starts.
let given = new URLSearchParams(location.hash.slice(1)).get("ticket");
if (given)
	history.replaceState(null, "", location.pathname + location.search);

async function ticket() {
	if (given) {
		const t = { ticket: given, vm: "your desktop" };
		given = null;
		return t;
	}
	for (let attempt = 0; ; attempt++) {
		try {
			return await api("POST", "/api/v1/pools/" + encodeURIComponent(pool) + "/connect",
			                 { protocol: "web" });
		} catch (e) {
			if (e.code === "unavailable" && e.retryAfter && attempt < 30) {
				state("connecting", "Your desktop is starting…");
				await new Promise((r) => setTimeout(r, e.retryAfter * 1000));
				continue;
			}
			throw e;
		}
	}
}

async function connect() {
	if (!token() && !given) {
		location.replace(loginPage());
		return;
	}
	state("connecting", "Connecting…");
	let t;
	try {
		t = await ticket();
	} catch (e) {
		if (e.status === 401) {
			location.replace(loginPage());
			return;
		}
		state("disconnected", describe(e));
		return;
	}
	// The broker's own gateway, or the one it names ([console] gateway_url).
	const gateway = typeof t.url === "string" && /^wss:\/\/[^/?#]+\/api\/v1\/console$/.test(t.url) ?
		t.url : "wss://" + location.host + "/api/v1/console";
	const url = gateway + "?ticket=" + encodeURIComponent(t.ticket);
	$("screen").replaceChildren();
	rfb = new RFB($("screen"), url, { wsProtocols: ["vdi-console"] });
	rfb.focusOnClick = true;
	rfb.background = "#202124";
	applyView();
	let reached = false;
	rfb.addEventListener("connect", () => {
		reached = true;
		state("connected", "Connected to " + t.vm);
		rfb.focus();
		if (isKiosk)
			fullScreen();
	});
	rfb.addEventListener("disconnect", (e) => {
		rfb = null;
		if (leaving)
			return;
		if (isKiosk) {
			goLogin("ended");
			return;
		}
		if (!reached)
			state("disconnected", "The console was refused: its ticket was already used, " +
			      "has expired, or the desktop is not running.");
		else
			state("disconnected", e.detail.clean ? "Disconnected." :
			      "The connection to the desktop was lost. Reconnect gets a fresh one.");
	});
	rfb.addEventListener("securityfailure", () => {
		state("disconnected", "The desktop refused the connection.");
	});
	rfb.addEventListener("desktopname", (e) => {
		document.title = "vdi — " + String(e.detail.name);
		if (document.body.dataset.state === "connected")
			$("status").textContent = "Connected to " + String(e.detail.name);
	});
	rfb.addEventListener("clipboard", (e) => {
		$("clip-text").value = String(e.detail.text);
	});
}

$("cad").addEventListener("click", () => rfb && rfb.sendCtrlAltDel());
$("full").addEventListener("click", fullScreen);
$("view").addEventListener("change", applyView);
$("clip-toggle").addEventListener("click", () => {
	const c = $("clip");
	c.hidden = !c.hidden;
	$("clip-toggle").setAttribute("aria-expanded", String(!c.hidden));
});
$("clip-send").addEventListener("click", () => rfb && rfb.clipboardPasteFrom($("clip-text").value));
$("reconnect").addEventListener("click", connect);
$("disconnect").addEventListener("click", () => {
	if (rfb)
		rfb.disconnect();
	if (isKiosk)
		goLogin("ended");
});
$("logout").addEventListener("click", () => {
	leaving = true;
	if (rfb)
		rfb.disconnect();
	goLogin();
});
if (isKiosk) {
	document.body.classList.add("kiosk");
	$("view").value = "scale";
	// Browsers allow full screen only after a gesture: take the first one.
	document.addEventListener("pointerdown", fullScreen, { once: true });
	document.addEventListener("keydown", fullScreen, { once: true });
}
connect();
