#!/bin/sh
# The main job on the embedded default: install what is missing, build, and
# send this year's anniversary statement to the addressees of the 2025
# statement through the maildir outbox (nothing leaves the machine).
#
# It builds the registry from the statement's own addressee paragraph, adds
# the demo contacts (reserved example domains only), renders the shipped
# template, schedules the campaign for now, lets chanceryd send it, and
# prints the audit. Everything lands in build/demo/ (DEMO_DIR to change).
#
# With --web (or WEB=1) it then makes an admin account with a one-time
# password, starts the console (chancery-web) on 127.0.0.1:8025
# (WEB_LISTEN to change) over the demo's database, prints the address and
# the password, and serves until Ctrl-C. Without it the demo ends by itself.
set -eu
cd "$(dirname "$0")/.."
WEB=${WEB:-0}
for arg in "$@"; do
	case $arg in
	--web) WEB=1 ;;
	*) echo "usage: scripts/demo.sh [--web]" >&2; exit 64 ;;
	esac
done
ROOT=$(pwd)
DEMO=${DEMO_DIR:-$ROOT/build/demo}
JOBS=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j "$JOBS" >/dev/null
PATH=$ROOT/build/release:$PATH

rm -rf "$DEMO"
mkdir -p "$DEMO"
cp docs/demo/chancery.conf "$DEMO/chancery.conf"
chmod 600 "$DEMO/chancery.conf"
export CHANCERY_CONFIG="$DEMO/chancery.conf"

step() { printf '\n$ %s\n' "$*"; "$@"; }

YEAR=$(TZ=Asia/Baku date +%Y)
step chancery init --seed
step chancery registry import-statement \
	tests/data/statements/ombudsman-2025-khojaly-33rd.txt --list khojaly --apply
step chancery registry import-csv docs/demo/contacts.csv
step chancery template add anniversary templates/anniversary.tmpl
step chancery campaign create "khojaly-$YEAR" --template anniversary \
	--list khojaly --now --tz Asia/Baku --event-date 1992-02-26
step chancery campaign schedule "khojaly-$YEAR" --now
step chanceryd --once
step chancery campaign status "khojaly-$YEAR"
step chancery audit campaign "khojaly-$YEAR"
step chancery audit verify
printf '\n%s messages in %s/outbox/new; open one with any mail client.\n' \
	"$(ls "$DEMO/outbox/new" | wc -l)" "$DEMO"

[ "$WEB" = 1 ] || exit 0

# The console on the same database: an admin account whose password is
# generated and shown once, then the server in the foreground. Plain HTTP
# on loopback, so the session cookie goes without its Secure flag.
LISTEN=${WEB_LISTEN:-127.0.0.1:8025}
printf '\n$ chancery user add admin --role admin --generate\n'
chancery user add admin --role admin --generate
printf '\nThe console: http://%s/  (sign in as admin with the password above; Ctrl-C stops it)\n\n' "$LISTEN"
exec chancery-web --config "$DEMO/chancery.conf" --listen "$LISTEN" \
	--insecure-cookie
