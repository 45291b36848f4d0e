#!/bin/sh
# Install the Debian 12 packages petrel needs to build, to run its tests and
# the demo (shared by scripts/demo.sh and the test script). Run as root; does
# nothing when everything is already there. Benchmark-only tools (neomutt,
# mutt) are installed by bench/sync-bench.py itself when asked for.
set -eu

PKGS="meson ninja-build gcc libc6-dev pkg-config libncurses-dev
libgnutls28-dev libsqlite3-dev zlib1g-dev dovecot-imapd dovecot-pop3d
dovecot-lmtpd postfix openssl python3 tmux sqlite3 w3m mailcap faketime"
# The test suite also builds the libFuzzer targets and the sanitizer build.
if [ "${1:-}" = "--test" ]; then
	PKGS="$PKGS clang libclang-rt-14-dev"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q ' installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: need root to apt-get install:$missing" >&2
	exit 1
fi

# The tests run their own private Dovecot and Postfix: keep the packages'
# system services from being started by the install (policy-rc.d is
# honoured by invoke-rc.d and deb-systemd-invoke), unless the machine
# already has a policy of its own.
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=yes
	trap 'rm -f "$policy"' EXIT INT TERM
fi

export DEBIAN_FRONTEND=noninteractive
# Postfix asks what kind of mail system this is: none (the tests configure
# their own private instances; the system one is never used).
echo "postfix postfix/main_mailer_type select No configuration" |
	debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
echo "deps.sh: installing$missing"
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing

if [ "$made_policy" = yes ]; then
	rm -f "$policy"
	trap - EXIT INT TERM
fi
