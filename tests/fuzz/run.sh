#!/bin/sh
# Build the libFuzzer targets with clang under ASan/UBSan and run each for a
# short budget on its corpus. Usage: tests/fuzz/run.sh [SECONDS] [BUILDDIR]
# A crash leaves its input in tests/fuzz/crash-* : copy it into the target's
# corpus directory so the normal test suite replays it from then on.
set -eu
secs=${1:-30}
top=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${2:-$top/build-fuzz}
if [ ! -d "$bdir" ]; then
	CC=clang CFLAGS=-fsanitize=fuzzer-no-link meson setup "$bdir" "$top" -Dfuzz=true -Dintegration=false \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$bdir" >/dev/null
status=0
for f in "$bdir"/tests/fuzz/fuzz-*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=${f##*/fuzz-}
	corpus=$top/tests/fuzz/corpus/$name
	work=$(mktemp -d)
	echo "fuzz $name for ${secs}s"
	if ! UBSAN_OPTIONS=halt_on_error=1 "$f" -max_total_time="$secs" \
	    -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
	    -artifact_prefix="$top/tests/fuzz/" "$work" "$corpus" \
	    >"$work.log" 2>&1; then
		echo "fuzz $name FAILED:"; tail -40 "$work.log"; status=1
	else
		grep -E '^(#[0-9]+ *DONE|Done)' "$work.log" | tail -1 || true
	fi
	rm -rf "$work" "$work.log"
done
exit $status
