#!/bin/sh
# The daemon's integration tests once under valgrind memcheck: every
# chanceryd run must end with zero errors and no definite leak (issue 9).
# Sanitizer builds cannot run under valgrind, so this uses the plain
# RelWithDebInfo build scripts/test.sh makes first (build/test), or makes
# its own (build/valgrind). test_daemon.py does the checking: see
# CHANCERY_VALGRIND there. Takes about a minute on two cores.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

command -v valgrind >/dev/null || {
	echo "check-valgrind: valgrind is not installed (scripts/deps.sh)" >&2
	exit 1
}

dir=build/test
if [ ! -f "$dir/CMakeCache.txt" ] ||
	grep -q '^CHANCERY_SANITIZE:BOOL=ON' "$dir/CMakeCache.txt"; then
	dir=build/valgrind
	if [ ! -f "$dir/CMakeCache.txt" ]; then
		cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			-DCHANCERY_WERROR=ON >/dev/null
	fi
fi
# Up to date with the sources (a no-op after scripts/test.sh).
cmake --build "$dir" -j 2 --target chancery-cli chanceryd >/dev/null

cd tests/integration
CHANCERY_VALGRIND=1 CHANCERY_BIN_DIR="$ROOT/$dir" CHANCERY_SOURCE_DIR="$ROOT" \
PYTHONDONTWRITEBYTECODE=1 \
	/usr/bin/python3 -m unittest -v test_daemon
