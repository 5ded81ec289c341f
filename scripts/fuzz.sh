#!/bin/sh
# Build the libFuzzer targets with clang and run each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]    default 15 seconds per target
#
# Each target starts from the seed corpus in tests/fuzz/seeds/<target>/ and
# keeps what it learns in build-fuzz/corpus/<target>/.
set -eu
. "$(dirname "$0")/lib.sh"

seconds=${1:-15}
vdi_ensure_packages
bdir="$VDI_ROOT/build-fuzz"
CC=clang vdi_build "$bdir" -DVDI_FUZZ=ON -DCMAKE_C_COMPILER=clang

for bin in "$bdir"/tests/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	corpus="$bdir/corpus/$name"
	mkdir -p "$corpus"
	seeds="$VDI_ROOT/tests/fuzz/seeds/$name"
	[ -d "$seeds" ] || seeds=""
	vdi_say "fuzzing $name for ${seconds}s"
	# shellcheck disable=SC2086
	(cd "$bdir" && ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$seconds" \
		-max_len=8192 -timeout=10 -print_final_stats=0 "$corpus" $seeds 2>"$bdir/$name.log") ||
		{ tail -n 60 "$bdir/$name.log"; vdi_die "$name found a bug (see above)"; }
done
