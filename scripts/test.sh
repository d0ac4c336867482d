#!/bin/sh
# The test command: install what is missing, build with -Werror, run every
# test (unit, integration against a real SMTP server the tests start
# themselves), then the whole suite again under ASan+UBSan, then the extra
# checks (fuzz smoke run, manual-page lint, valgrind) that exist.
# Usage: scripts/test.sh            (everything)
#        QUICK=1 scripts/test.sh    (one build, no sanitizer pass)
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh

build_and_test() {
	dir=$1
	shift
	cmake -S "$ROOT" -B "$dir" -DCHANCERY_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j "$JOBS"
	ctest --test-dir "$dir" --output-on-failure -j "$JOBS"
	summarise "$dir/Testing/Temporary/LastTest.log"
}

# ctest hides the output of passing tests; print the lines worth seeing:
# the Mustache spec's pass count and the cmocka totals.
summarise() {
	grep -h "mustache spec:" "$1" || true
	grep -h "^\[  PASSED  \]" "$1" |
		awk '{ n += $4; p++ } END { printf "cmocka: %d unit tests passed in %d programs\n", n, p }'
}

echo "== build and test (RelWithDebInfo)"
build_and_test build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo

if [ "${QUICK:-0}" != 1 ]; then
	echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		build_and_test build/asan -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_C_COMPILER=clang -DCHANCERY_SANITIZE=ON
fi

for extra in scripts/check-*.sh; do
	[ -x "$extra" ] || continue
	echo "== $extra"
	"$extra"
done
echo "== all tests passed"
