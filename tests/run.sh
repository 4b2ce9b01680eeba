#!/bin/bash
# run.sh - the whole test suite: unit tests (plain and ASan+UBSan builds),
# integration tests, valgrind, fuzzing.  Every part prints its own
# "N passed, M failed" line; this script adds them up and ends with one
# such line.  A part that dies without its line counts as one failure.
#
#   tests/run.sh [--unit-only] [--no-fuzz]
# Environment: FUZZ_SECONDS (default 60), SHARED (default ../shared).
set -u
cd "$(dirname "$0")/.."
UNIT_ONLY=0; FUZZ=1
for a in "$@"; do
    case "$a" in
    --unit-only) UNIT_ONLY=1 ;;
    --no-fuzz) FUZZ=0 ;;
    esac
done
export SNITCH="$PWD/build/rel/snitch"
export SHARED="${SHARED:-$PWD/../shared}"
LOG=build/test-logs
mkdir -p "$LOG"
total_p=0; total_f=0; failed_parts=""

# run NAME CMD...: run one part, add its counts.
run() {
    local name="$1"; shift
    local log="$LOG/$(echo "$name" | tr '/ ' '__').log"
    "$@" >"$log" 2>&1
    local rc=$?
    local line
    line=$(grep -E '^[A-Za-z_-]*:? ?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    local p f
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/.*([^0-9]|^)([0-9]+) passed.*/\2/')
        f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    else
        p=0; f=0
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    total_p=$((total_p + p)); total_f=$((total_f + f))
    if [ "$f" -ne 0 ]; then
        failed_parts="$failed_parts $name"
        printf '%-44s %4d passed, %d failed   FAIL (log: %s)\n' "$name" "$p" "$f" "$log"
        grep -E 'FAIL|not ok|ERROR|error' "$log" | head -15 | sed 's/^/    /'
    else
        printf '%-44s %4d passed, %d failed\n' "$name" "$p" "$f"
        grep -E '^SKIP|^NOTE' "$log" | sed 's/^/    /'
    fi
}

for t in build/rel/tests/test_*; do
    [ -x "$t" ] && run "unit/$(basename "$t")" "$t"
done
for t in build/san/tests/test_*; do
    [ -x "$t" ] && run "asan+ubsan/$(basename "$t")" env ASAN_OPTIONS=detect_leaks=1 "$t"
done

if [ "$UNIT_ONLY" -eq 0 ]; then
    for t in tests/integration/test_*.sh; do
        run "integration/$(basename "$t" .sh)" bash "$t"
    done
    if [ "$FUZZ" -eq 1 ]; then
        run "fuzz" bash tests/fuzz.sh "${FUZZ_SECONDS:-60}"
    fi
fi

echo
[ -n "$failed_parts" ] && echo "failed:$failed_parts"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
