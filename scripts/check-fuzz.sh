#!/bin/sh
# A smoke run of every fuzz target (FUZZ_SECONDS each, default 10): enough
# to catch a parser that crashes on its own seed corpus or on the first
# mutations. The long run is documented in docs/reliability.md.
set -eu
cd "$(dirname "$0")/.."
exec tests/fuzz/run "${FUZZ_SECONDS:-10}"
