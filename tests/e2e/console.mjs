// SPDX-License-Identifier: GPL-2.0-or-later
// End-to-end test of the web pages and the console gateway in headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core). Started
// by tests/integration/test_gateway.c, which runs the broker and a VM and
// passes, in the environment:
//
//   VDI_URL           https://127.0.0.1:PORT
//   VDI_USER, VDI_PASSWORD, VDI_POOL
//   VDI_VM_CONTROL    the VM's control socket (screendump, dropping clients)
//   VDI_VM_SERIAL     the VM's serial log (what the guest's terminal prints)
//   VDI_TOTP_USER, VDI_TOTP_SECRET   a user enrolled in TOTP (base32 secret),
//                     with the same password as VDI_USER
//   VDI_LOCK_USER     a user this test locks out with wrong passwords
//   VDI_OUT           a directory for screenshots
//   VDI_E2E_PART      "all" (the default), or "gateway": only open the console
//                     through the gateway on its own at VDI_GATEWAY_URL
//
// Exit 0 when everything held, 1 with the reason otherwise.
import { chromium } from "playwright-core";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const env = (k) => {
	const v = process.env[k];
	if (!v) {
		console.error(`console.mjs: ${k} is not set`);
		process.exit(2);
	}
	return v;
};
const URL = env("VDI_URL"), USER = env("VDI_USER"), PASSWORD = env("VDI_PASSWORD");
const POOL = env("VDI_POOL"), CONTROL = env("VDI_VM_CONTROL"), SERIAL = env("VDI_VM_SERIAL");
const OUT = env("VDI_OUT");
const TOTP_USER = env("VDI_TOTP_USER"), TOTP_SECRET = env("VDI_TOTP_SECRET");
const LOCK_USER = env("VDI_LOCK_USER");

function log(...a) {
	console.log("e2e:", ...a);
}

// One request on the VM's control socket; the "ok" object.
function control(cmd, args) {
	return new Promise((resolve, reject) => {
		const s = net.createConnection(CONTROL);
		let buf = "";
		const timer = setTimeout(() => { s.destroy(); reject(new Error(`${cmd}: no answer`)); }, 10000);
		s.on("connect", () => s.write(JSON.stringify({ id: 7, cmd, args }) + "\n"));
		s.on("data", (d) => {
			buf += d.toString();
			let nl;
			while ((nl = buf.indexOf("\n")) >= 0) {
				const line = buf.slice(0, nl);
				buf = buf.slice(nl + 1);
				const m = JSON.parse(line);
				if (m.id === 7) {
					clearTimeout(timer);
					s.end();
					if (m.ok)
						resolve(m.ok);
					else
						reject(new Error(`${cmd}: ${JSON.stringify(m.error)}`));
				}
			}
		});
		s.on("error", reject);
	});
}

async function until(what, fn, ms = 30000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error(`timed out waiting for ${what}`);
		await new Promise((r) => setTimeout(r, 200));
	}
}

const serialCount = (text) => fs.readFileSync(SERIAL, "utf8").split(text).length - 1;

// Log in on the login page (the form as a person fills it).
async function login(page, password, user = USER) {
	await page.fill("#user", user);
	await page.fill("#password", password);
	await page.click("#submit");
}

// Wait for the console page to connect through the broker's connect call.
async function connected(page) {
	await page.waitForFunction(() => ["connected", "disconnected"].includes(document.body.dataset.state),
	                           null, { timeout: 60000 });
	if (await page.evaluate(() => document.body.dataset.state) !== "connected")
		throw new Error(`the console did not connect: ${(await page.textContent("#status")).trim()}`);
}

// The current code of an authenticator app holding @secret (RFC 6238: SHA-1, 30 s, 6 digits).
function totpCode(secret) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	let bits = "";
	for (const c of secret.replace(/=+$/, ""))
		bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
	const key = Buffer.alloc(Math.floor(bits.length / 8));
	for (let i = 0; i < key.length; i++)
		key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
	const counter = Buffer.alloc(8);
	counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
	const h = crypto.createHmac("sha1", key).update(counter).digest();
	const o = h[h.length - 1] & 0x0f;
	return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, "0");
}

const message = (page) => page.textContent("#message");

// Compare the noVNC canvas with the vmm's own screendump, pixel by pixel.
async function compareWithScreendump(page) {
	const png = path.join(OUT, "screendump.png");
	const dump = await control("screendump", { path: png });
	const data = fs.readFileSync(png).toString("base64");
	const r = await page.evaluate(async (b64) => {
		const canvas = document.querySelector("#screen canvas");
		const img = new Image();
		img.src = "data:image/png;base64," + b64;
		await img.decode();
		const ref = document.createElement("canvas");
		ref.width = img.width;
		ref.height = img.height;
		const rc = ref.getContext("2d");
		rc.drawImage(img, 0, 0);
		if (canvas.width !== img.width || canvas.height !== img.height)
			return { w: canvas.width, h: canvas.height, rw: img.width, rh: img.height, diff: -1 };
		const a = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
		const b = rc.getImageData(0, 0, img.width, img.height).data;
		let diff = 0;
		for (let i = 0; i < a.length; i += 4)
			if (Math.abs(a[i] - b[i]) > 8 || Math.abs(a[i + 1] - b[i + 1]) > 8 || Math.abs(a[i + 2] - b[i + 2]) > 8)
				diff++;
		return { w: canvas.width, h: canvas.height, rw: img.width, rh: img.height, diff };
	}, data);
	log(`canvas ${r.w}x${r.h}, screendump ${dump.width}x${dump.height}, ${r.diff} pixels differ`);
	if (r.diff < 0)
		throw new Error(`canvas is ${r.w}x${r.h}, the desktop ${r.rw}x${r.rh}`);
	return r.diff / (r.w * r.h);
}

const browser = await chromium.launch({
	executablePath: "/usr/bin/chromium",
	args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
	       "--disable-component-update", "--disable-sync", "--no-first-run",
	       "--ignore-certificate-errors"],
});
let failed = false;
const pages = [];

// The console through a gateway running on its own: the page's WebSocket
// goes to the gateway's address, and the desktop answers.
async function throughGateway() {
	const gateway = env("VDI_GATEWAY_URL");
	const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1024, height: 768 } });
	const page = await ctx.newPage();
	const sockets = [];
	page.on("websocket", (ws) => sockets.push(ws.url()));
	pages.push({ page, problems: [] });
	await page.goto(`${URL}/`);
	await login(page, PASSWORD);
	await page.waitForURL(/desktops\.html/);
	await page.click(`a[data-pool="${POOL}"]`);
	await connected(page);
	if (!sockets.length || !sockets[0].startsWith(`${gateway}/api/v1/console?ticket=`))
		throw new Error(`the console's WebSocket went to ${sockets.join(", ") || "nowhere"}`);
	const before = serialCount("switch the machine off");
	await page.keyboard.type("help");
	await page.keyboard.press("Enter");
	await until("help to reach the guest", () => serialCount("switch the machine off") > before);
	await page.screenshot({ path: path.join(OUT, "gateway.png") });
	log("console through the gateway at", gateway, ": the guest answered");
	await ctx.close();
}

// Everything else: logins, the console, kiosk mode, console links.
async function allParts() {
	// ---- a person at a desktop browser ----
	const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	const problems = [];
	page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
	page.on("pageerror", (e) => problems.push(String(e)));
	pages.push({ page, problems });

	await page.goto(`${URL}/`);
	await login(page, "not the password");
	await until("the wrong-password message", async () =>
		/Wrong user name or password/.test(await message(page)));
	log("wrong password: told so");

	// An account with TOTP: the code field appears, a wrong code is told so,
	// the right one lets the person in.
	await login(page, PASSWORD, TOTP_USER);
	await page.waitForSelector("#totp", { state: "visible" });
	await until("the code prompt", async () => /six-digit code/.test(await message(page)));
	await page.fill("#totp", totpCode(TOTP_SECRET) === "000000" ? "111111" : "000000");
	await page.click("#submit");
	await until("the wrong-code message", async () => /code is not valid/.test(await message(page)));
	await page.screenshot({ path: path.join(OUT, "login-totp.png") });
	await page.fill("#totp", totpCode(TOTP_SECRET));
	await page.click("#submit");
	await page.waitForURL(/desktops\.html/);
	log("TOTP: asked for, a wrong code refused, the right one let in");
	await page.click("#logout");
	await page.waitForURL(/index\.html/);

	// Wrong passwords until the account locks: then even the right one is
	// refused, and the page says why.
	for (let i = 0; i < 10 && !/locked/.test(await message(page)); i++) {
		await login(page, i < 5 ? "guess " + i : PASSWORD, LOCK_USER);
		await until("an answer", async () => !(await page.isDisabled("#submit")));
	}
	if (!/This account is locked/.test(await message(page)))
		throw new Error(`no locked-account message: ${await message(page)}`);
	await login(page, PASSWORD, LOCK_USER);
	await until("an answer", async () => !(await page.isDisabled("#submit")));
	if (!/This account is locked/.test(await message(page)))
		throw new Error(`a locked account let in: ${await message(page)}`);
	await page.screenshot({ path: path.join(OUT, "login-locked.png") });
	log("lockout: told the account is locked");

	await login(page, PASSWORD);
	await page.waitForURL(/desktops\.html/);
	await page.waitForSelector(`a[data-pool="${POOL}"]`);
	log("logged in; the desktops page lists", POOL);
	await page.click(`a[data-pool="${POOL}"]`);
	await page.waitForURL(/console\.html/);
	await connected(page);
	log("console opened");

	// Let the first full update land, then compare with the vmm's screendump.
	await new Promise((r) => setTimeout(r, 2000));
	await page.screenshot({ path: path.join(OUT, "console.png") });
	let share = await compareWithScreendump(page);
	if (share > 0.02) { // the clock may tick in between: look once more
		await new Promise((r) => setTimeout(r, 1000));
		share = await compareWithScreendump(page);
	}
	if (share > 0.02)
		throw new Error(`the canvas differs from the desktop in ${(share * 100).toFixed(1)}% of pixels`);

	// Keys typed in the page reach the guest's terminal.
	const before = serialCount("switch the machine off");
	await page.keyboard.type("help");
	await page.keyboard.press("Enter");
	await until("help to reach the guest", () => serialCount("switch the machine off") > before);
	log("typed help: the guest answered");
	await page.screenshot({ path: path.join(OUT, "console-help.png") });

	// "Resize desktop": the guest takes the size of the page's screen area.
	await page.selectOption("#view", "resize");
	const area = await page.evaluate(() => {
		const r = document.querySelector("#screen").getBoundingClientRect();
		return { w: Math.floor(r.width), h: Math.floor(r.height) };
	});
	const resized = await until("the desktop to follow the window", async () => {
		const mode = (await control("query-displays", {})).mode;
		return mode.width !== 800 ? { w: mode.width, h: mode.height } : null;
	});
	if (Math.abs(resized.w - area.w) > 8 || Math.abs(resized.h - area.h) > 8)
		throw new Error(`the desktop became ${resized.w}x${resized.h} for a ${area.w}x${area.h} area`);
	await new Promise((r) => setTimeout(r, 1500));
	await page.screenshot({ path: path.join(OUT, "console-resized.png") });
	log(`resize: the desktop follows the window (${resized.w}x${resized.h})`);
	await page.selectOption("#view", "scale");
	// CSP and the rest: no errors in the page.
	const bad = problems.filter((p) => /Content Security Policy|Refused/.test(p));
	if (bad.length)
		throw new Error(`page errors: ${bad.join(" | ")}`);
	await page.click("#logout");
	await page.waitForURL(/index\.html/);
	log("logged out");
	await ctx.close();

	// ---- kiosk mode: straight to the desktop, back to the login on disconnect ----
	const kctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1024, height: 768 } });
	const kpage = await kctx.newPage();
	const kproblems = [];
	kpage.on("console", (m) => { if (m.type() === "error") kproblems.push(m.text()); });
	kpage.on("pageerror", (e) => kproblems.push(String(e)));
	pages.push({ page: kpage, problems: kproblems });
	await kpage.goto(`${URL}/index.html?kiosk=1`);
	await login(kpage, PASSWORD);
	await kpage.waitForURL(/console\.html/);
	await connected(kpage);
	log("kiosk: console opened");
	await kpage.screenshot({ path: path.join(OUT, "kiosk.png") });
	// The desktop drops its client (as when someone else takes it over).
	await control("set-ticket", { protocol: "vnc", secret: "dr0pP3dX", connected: "disconnect" });
	await kpage.waitForURL(/index\.html\?kiosk=1/, { timeout: 30000 });
	await until("the session-ended message", async () =>
		/session ended/.test(await message(kpage)));
	await kpage.screenshot({ path: path.join(OUT, "kiosk-after.png") });
	log("kiosk: disconnect went back to the login page");
	await kctx.close();

	// ---- a console link: a ticket from the API in the page's fragment ----
	// (what a portal or a script hands a person: console.html#ticket=...)
	const lctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1024, height: 768 } });
	const lpage = await lctx.newPage();
	pages.push({ page: lpage, problems: [] });
	const r = await lctx.request.post(`${URL}/api/v1/login`, { data: { user: USER, password: PASSWORD } });
	if (r.status() !== 200)
		throw new Error(`API login: ${r.status()}`);
	const auth = { Authorization: "Bearer " + (await r.json()).token };
	const c = await lctx.request.post(`${URL}/api/v1/pools/${encodeURIComponent(POOL)}/connect`,
	                                  { headers: auth, data: { protocol: "web" } });
	if (c.status() !== 200)
		throw new Error(`connect: ${c.status()} ${await c.text()}`);
	const link = `${URL}/console.html?pool=${encodeURIComponent(POOL)}#ticket=${encodeURIComponent((await c.json()).ticket)}`;
	await lpage.goto(link);
	await connected(lpage);
	if (lpage.url().includes("ticket="))
		throw new Error("the ticket stayed in the address bar");
	log("console link: connected without a login");
	await lctx.close();
	// The same link a second time: the ticket was good once.
	const rctx = await browser.newContext({ ignoreHTTPSErrors: true });
	const rpage = await rctx.newPage();
	pages.push({ page: rpage, problems: [] });
	await rpage.goto(link);
	await rpage.waitForFunction(() => document.body.dataset.state === "disconnected", null, { timeout: 30000 });
	const said = (await rpage.textContent("#status")).trim();
	if (!/refused/.test(said))
		throw new Error(`a used console link: ${said}`);
	log("console link used twice:", said);
	await rctx.close();
}

try {
	if ((process.env.VDI_E2E_PART || "all") === "gateway")
		await throughGateway();
	else
		await allParts();
} catch (e) {
	console.error("e2e: FAILED:", e.message);
	for (const p of pages) {
		try {
			console.error("e2e: page", p.page.url(), "status:",
			              await p.page.textContent("#status, #message", { timeout: 1000 }));
			await p.page.screenshot({ path: path.join(OUT, "failure.png") });
		} catch (e2) { /* closed */ }
		for (const m of p.problems)
			console.error("e2e: page error:", m);
	}
	failed = true;
} finally {
	await browser.close();
}
process.exit(failed ? 1 : 0);
