// SPDX-License-Identifier: GPL-2.0-or-later
// The user's pools and desktops; "Open" goes to the console page.
import { api, describe, logout, loginPage, token } from "./api.js";

const list = document.getElementById("pools");
const message = document.getElementById("message");

function el(tag, cls, text) {
	const e = document.createElement(tag);
	if (cls)
		e.className = cls;
	if (text !== undefined)
		e.textContent = text;
	return e;
}

async function load() {
	if (!token()) {
		location.replace(loginPage());
		return;
	}
	try {
		const me = await api("GET", "/api/v1/me");
		document.getElementById("who").textContent = me.user;
		const pools = (await api("GET", "/api/v1/pools")).pools || [];
		const desktops = (await api("GET", "/api/v1/desktops")).desktops || [];
		list.replaceChildren();
		if (pools.length === 0)
			message.textContent = "No desktop is set up for you. Ask your administrator.";
		for (const p of pools) {
			const li = el("li", "pool");
			const mine = desktops.find((d) => d.pool === p.name);
			li.append(el("span", "name", p.name));
			li.append(el("span", "state", mine ? "your desktop: " + mine.state
			                                   : p.type + ", " + p.width + "×" + p.height));
			const open = el("a", "button", "Open");
			open.href = "console.html?pool=" + encodeURIComponent(p.name);
			open.dataset.pool = p.name;
			li.append(open);
			list.append(li);
		}
	} catch (e) {
		if (e.status === 401) {
			location.replace(loginPage());
			return;
		}
		message.textContent = describe(e);
	}
}

document.getElementById("logout").addEventListener("click", async () => {
	await logout();
	location.assign(loginPage());
});
load();
