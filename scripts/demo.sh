#!/bin/bash
# The petrel demo in one command, on a fresh Debian 12 machine as root:
# installs what is needed, builds petrel in build/, starts a throwaway
# private Dovecot seeded with sample mail (tests/integration/harness.py
# serve), points petrel at it and runs the demo session. The server and
# its data are removed on exit.
#
# usage: scripts/demo.sh [--shell]
#   --shell   after the demo, open a shell with PETREL_CONFIG etc. set
#             (the server stays up until you leave the shell)
set -euo pipefail

cd "$(dirname "$0")/.."
SRC=$PWD
BUILD=${PETREL_BUILD:-build}
SHELL_AFTER=no
for a in "$@"; do
	case $a in
	--shell) SHELL_AFTER=yes ;;
	*) echo "usage: scripts/demo.sh [--shell]" >&2; exit 2 ;;
	esac
done

# The demo itself: the TUI on the demo account when there is a terminal
# (q leaves it), else the headless commands, which show the same cache.
demo_session() {
	if [ -t 0 ] && [ -t 1 ]; then
		echo "Opening the TUI: j/k move, Enter reads, ? lists the keys," \
		    "y shows the folders, q quits."
		sleep 1
		"$PETREL"
		return
	fi
	"$PETREL" sync
	"$PETREL" folders
	# (head may close the pipe early: SIGPIPE is not a failure here)
	{ "$PETREL" list || [ $? -eq 141 ]; } | head -n 40
}

sh "$SRC/scripts/deps.sh"

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD"
fi
ninja -C "$BUILD"
PETREL=$SRC/$BUILD/petrel
export PETREL_BUILD_DIR=$SRC/$BUILD

RUN=$(mktemp -d /tmp/petrel-demo.XXXXXX)
SERVE_PID=
cleanup() {
	if [ -n "$SERVE_PID" ]; then
		kill -TERM "$SERVE_PID" 2>/dev/null || true
		wait "$SERVE_PID" 2>/dev/null || true
	fi
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 "$SRC/tests/integration/harness.py" serve --demo \
    --env-file "$RUN/env" >"$RUN/serve.log" 2>&1 &
SERVE_PID=$!

# Wait for the server to be up and seeded (it writes the env file then).
for _ in $(seq 1 600); do
	[ -f "$RUN/env" ] && break
	if ! kill -0 "$SERVE_PID" 2>/dev/null; then
		cat "$RUN/serve.log" >&2
		echo "demo: the private Dovecot did not start" >&2
		exit 1
	fi
	sleep 0.1
done
if [ ! -f "$RUN/env" ]; then
	cat "$RUN/serve.log" >&2
	echo "demo: timed out waiting for the private Dovecot" >&2
	exit 1
fi
cat "$RUN/serve.log"
set -a
# shellcheck disable=SC1091
. "$RUN/env"
set +a

echo
echo "== petrel demo (petrel = $PETREL) =="
demo_session

if [ "$SHELL_AFTER" = yes ]; then
	echo
	echo "A shell with PETREL_CONFIG and XDG_CACHE_HOME set; try"
	echo "  $PETREL (the TUI); $PETREL list --json | head; $PETREL show INBOX 1"
	echo "Leave it (exit) to stop the server."
	PATH=$SRC/$BUILD:$PATH "${SHELL:-/bin/bash}" -i || true
fi
