#!/bin/bash
# fuzz.sh SECONDS - run every libFuzzer target in build/fuzz for SECONDS
# each (two at a time: the machines have two cores), starting from the seed
# corpora in fuzz/corpus/NAME.  A target passes when it ran the whole time
# without a crash, leak or sanitizer report.
set -u
cd "$(dirname "$0")/.."
secs="${1:-60}"
pass=0; fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
targets=(build/fuzz/fuzz_*)
pids=()
for t in "${targets[@]}"; do
    [ -x "$t" ] || continue
    name=$(basename "$t"); name=${name#fuzz_}
    mkdir -p "$work/$name"
    [ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/$name/" 2>/dev/null
    ( cd "$work" && "$OLDPWD/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$work/$name" >"$work/$name.log" 2>&1; echo $? >"$work/$name.rc" ) &
    pids+=($!)
    if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait
for t in "${targets[@]}"; do
    [ -x "$t" ] || continue
    name=$(basename "$t"); name=${name#fuzz_}
    rc=$(cat "$work/$name.rc" 2>/dev/null || echo 99)
    runs=$(grep -E 'stat::number_of_executed_units' "$work/$name.log" | awk '{print $2}')
    if [ "$rc" = 0 ]; then
        pass=$((pass + 1)); echo "ok fuzz_$name: ${runs:-?} runs in ${secs}s, no crash"
    else
        fail=$((fail + 1)); echo "FAIL fuzz_$name (exit $rc)"; tail -40 "$work/$name.log"
        mkdir -p build/fuzz-crashes && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* build/fuzz-crashes/ 2>/dev/null
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
