# shellcheck shell=sh
# Shared by the project's scripts: find the tree, install what is missing,
# configure and build. Everything here is idempotent and quick when nothing
# changed.

VDI_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export VDI_ROOT

vdi_say() { printf '==> %s\n' "$*" >&2; }
vdi_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

vdi_as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		vdi_die "need root to run: $*"
	fi
}

# Install the Debian packages listed in scripts/debian-packages.txt that are
# not installed yet. One dpkg-query for the whole list keeps this quick.
vdi_ensure_packages() {
	wanted=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$VDI_ROOT/scripts/debian-packages.txt")
	# shellcheck disable=SC2086
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $wanted 2>/dev/null |
		awk '$2 == "installed" { print $1 }')
	missing=""
	for p in $wanted; do
		echo "$installed" | grep -qx "$p" || missing="$missing $p"
	done
	# Node.js may come from elsewhere with its own npm; Debian's npm
	# conflicts with such a nodejs, so only ask for it when npm is absent.
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
	if [ -n "$missing" ]; then
		vdi_say "installing Debian packages:$missing"
		vdi_as_root apt-get update -q
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive vdi_as_root apt-get install -y -q \
			--no-install-recommends $missing
	fi
}

# Install the npm packages of one folder from its lockfile, only when the
# lockfile changed since the last install.
vdi_ensure_npm() {
	dir=$1
	[ -f "$dir/package-lock.json" ] || return 0
	stamp="$dir/node_modules/.vdi-lock-stamp"
	if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
		return 0
	fi
	vdi_say "installing npm packages in ${dir#"$VDI_ROOT"/}"
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	cp "$dir/package-lock.json" "$stamp"
}

vdi_ensure_all_npm() {
	for lock in "$VDI_ROOT"/assets/web/package-lock.json "$VDI_ROOT"/tests/e2e/package-lock.json; do
		[ -f "$lock" ] && vdi_ensure_npm "$(dirname "$lock")"
	done
	return 0
}

# vdi_build <build-dir> [cmake options...]
vdi_build() {
	bdir=$1
	shift
	if [ ! -f "$bdir/build.ninja" ]; then
		cmake -S "$VDI_ROOT" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	else
		cmake "$bdir" "$@" >/dev/null
	fi
	cmake --build "$bdir"
}
