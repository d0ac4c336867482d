#!/bin/sh
# Install the Debian 12 packages chancery builds, tests and benchmarks with.
# Does nothing when every package is already present, so it is cheap to call
# from the test command on a warm machine and complete on a bare one.
set -eu

PACKAGES="build-essential cmake pkg-config clang libclang-rt-14-dev \
libsqlite3-dev sqlite3 libconfig-dev libesmtp-dev libgmime-3.0-dev \
libssl-dev libcurl4-openssl-dev libcmocka-dev libicu-dev libidn2-dev libsystemd-dev python3 python3-aiosmtpd \
libmicrohttpd-dev \
postfix tzdata media-types scdoc mandoc man-db valgrind openssl ca-certificates \
systemd git chromium time dovecot-imapd \
libargon2-dev \
python3-websocket"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
echo "deps: installing:$missing" >&2
# postfix asks a question at install time; answer it so the install is
# unattended (we only need its smtp-sink and smtp-source tools). The
# IMAP test starts its own dovecot on loopback; the packaged service is
# not needed.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
