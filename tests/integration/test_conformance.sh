#!/bin/bash
# test_conformance.sh - every `contract` row of the public SNI truth file is
# found by snitch extract (same 5-tuple, same SNI).  Needs ../shared.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
SHARED="${SHARED:-$PWD/../shared}"
if [ ! -f "$SHARED/data/public/sni_truth.tsv" ]; then
    echo "SKIP conformance: $SHARED/data/public/sni_truth.tsv not found (a user's clone has no ../shared)"
    echo "0 passed, 0 failed"; exit 0
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 tests/integration/conformance.py "$SNITCH" "$SHARED" "$work"
