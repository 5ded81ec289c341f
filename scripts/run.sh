#!/bin/sh
# Start the whole stack on this machine with embedded defaults.
#
#   scripts/run.sh
#
# Installs what is missing, builds, then starts vdi-broker, which keeps a
# demo pool of reference-guest desktops running and serves the web login,
# the REST API and the browser console on https://127.0.0.1:8443/.
# State lives in var/ under the source tree. Ctrl+C stops everything.
set -eu
. "$(dirname "$0")/lib.sh"

vdi_ensure_packages
vdi_ensure_all_npm
vdi_build "$VDI_ROOT/build" >/dev/null

bin="$VDI_ROOT/build"
state="$VDI_ROOT/var"
mkdir -p "$state"

missing=""
[ -x "$bin/broker/vdi-broker" ] || missing="$missing vdi-broker"
[ -x "$bin/viewer/vdi-viewer" ] || missing="$missing vdi-viewer"
[ -x "$bin/vmm/vdi-vmm" ] || missing="$missing vdi-vmm"
[ -n "$missing" ] && vdi_say "not built yet:$missing"

if [ -x "$bin/broker/vdi-broker" ]; then
	exec "$bin/broker/vdi-broker" --data-dir "$state" \
		--vmm "$bin/vmm/vdi-vmm" --guest "$bin/vmm/guest/vdi-guest.elf" \
		--web-root "$VDI_ROOT/assets/web"
fi

if [ -x "$bin/vmm/vdi-vmm" ] && [ -f "$bin/vmm/guest/vdi-guest.elf" ]; then
	# Until the broker lands: one desktop, driven through its control socket.
	vdi_say "starting one desktop, demo-1; control socket $state/demo-1.sock"
	vdi_say "serial console below; query its displays with:"
	vdi_say "  echo '{\"id\":1,\"cmd\":\"query-displays\"}' | socat - UNIX-CONNECT:$state/demo-1.sock"
	exec "$bin/vmm/vdi-vmm" --name demo-1 --memory 128M \
		--kernel "$bin/vmm/guest/vdi-guest.elf" --cmdline "name=demo-1" \
		--control "$state/demo-1.sock" --serial stdio
fi
vdi_die "nothing to run yet"
