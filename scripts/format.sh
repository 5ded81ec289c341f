#!/bin/sh
# Format the C sources with the tree's .clang-format.
#   scripts/format.sh           rewrite files in place
#   scripts/format.sh --check   fail when a file is not formatted (CI)
set -eu
. "$(dirname "$0")/lib.sh"
cd "$VDI_ROOT"
files=$(git ls-files '*.c' '*.h' | grep -v '^vmm/guest/font' || true)
[ -n "$files" ] || exit 0
if [ "${1:-}" = "--check" ]; then
	# shellcheck disable=SC2086
	clang-format --dry-run --Werror $files
else
	# shellcheck disable=SC2086
	clang-format -i $files
fi
