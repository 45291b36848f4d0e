#!/bin/sh
# The whole petrel test suite in one command, on a fresh Debian 12 machine as
# root: installs what is needed, then
#   1. builds petrel (build-test/) and runs the unit tests, the fuzz corpus
#      replays and the integration tests against private Dovecot instances;
#   2. builds again with ASan and UBSan (build-asan/) and runs the same tests;
#   3. builds the libFuzzer targets with clang (build-fuzz/) and runs each one
#      for a short budget (PETREL_FUZZ_SECONDS, default 10).
# Exits non-zero when anything fails. Logs of failed tests are printed.
#
# usage: scripts/test.sh [--quick]   (--quick: step 1 only)
set -eu

cd "$(dirname "$0")/.."
top=$PWD
quick=no
[ "${1:-}" = "--quick" ] && quick=yes

sh scripts/deps.sh --test

jobs=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)

run_suite() {
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
	if ! meson test -C "$dir" --num-processes "$jobs" --print-errorlogs \
	    --suite unit --suite integration; then
		echo "test.sh: tests failed in $dir (logs: $dir/meson-logs/testlog.txt)" >&2
		exit 1
	fi
}

echo "== build and test (build-test)"
run_suite build-test --werror

if [ "$quick" = no ]; then
	echo "== ASan/UBSan build and test (build-asan)"
	# Leaks are reported by LeakSanitizer; UBSan findings are fatal.
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	run_suite build-asan --werror -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dbuildtype=debug

	echo "== libFuzzer targets (build-fuzz)"
	sh tests/fuzz/run.sh "${PETREL_FUZZ_SECONDS:-10}" "$top/build-fuzz"
fi

echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
