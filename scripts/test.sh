#!/bin/sh
# Install what is missing, build, and run every test.
#
#   scripts/test.sh              build in build/ and run all tests
#   scripts/test.sh --sanitize   build in build-asan/ with ASan+UBSan, run unit and integration tests
#   scripts/test.sh -R REGEX     only the tests whose name matches (passed to ctest)
#
# VDI_WERROR=1 turns warnings into errors (CI sets it).
set -eu
. "$(dirname "$0")/lib.sh"

mode=all
if [ "${1:-}" = "--sanitize" ]; then
	mode=sanitize
	shift
fi

vdi_ensure_packages
vdi_ensure_all_npm

werror=OFF
[ "${VDI_WERROR:-0}" = 1 ] && werror=ON

if [ $mode = sanitize ]; then
	bdir="$VDI_ROOT/build-asan"
	vdi_build "$bdir" -DVDI_WERROR=$werror -DVDI_SANITIZE=ON
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		LSAN_OPTIONS=suppressions="$VDI_ROOT/tests/lsan.supp":print_suppressions=0 \
		ctest --test-dir "$bdir" --output-on-failure "$@"
else
	bdir="$VDI_ROOT/build"
	vdi_build "$bdir" -DVDI_WERROR=$werror
	ctest --test-dir "$bdir" --output-on-failure -j2 "$@"
fi
