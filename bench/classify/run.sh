#!/bin/bash
# bench/classify/run.sh - snitch classify -r with a 200-tree forest on a
# >= 1 GB capture, against a bare libpcap pcap_next_ex loop measured in the
# same run, both pinned to one core; plus verdict latency (packets and
# capture time from a flow's first packet to its verdict), at flow end and
# with --after 10.
#   bench/classify/run.sh [SIZE]     (default 1G)
# Environment: BENCH_DIR (default bench/out); SNITCH, the binary to time
# (default ./snitch, built first); RUNS (default 1), rounds of the four
# measurements, each round with its own bare loops, so that on a busy
# machine the spread shows.
#
# Each round times: the bare loop, classify at flow end, classify
# --after 10, the bare loop again, and classify at flow end with --threads 2
# on two cores (its second thread reads the model's trees while the packet
# loop starts, then computes features, predicts and writes verdicts; the
# packet loop predicts too when flows end faster than one thread predicts;
# a third, the capture's, reads the file ahead with libpcap):
# "vs bare" for it still divides by the one-core bare loop.  "vs bare" divides the mean of the
# round's two bare loops by classify's wall time, so a slow moment of the
# machine during one of them weighs half.  Wall times include everything
# classify does: loading the model (tens of MB), reading, predicting,
# writing the verdicts.  The target (issue 6): >= 1 M packets/s and >= 0.5
# of the bare loop at flow end.
set -eu
cd "$(dirname "$0")/../.."
size="${1:-1G}"
out="${BENCH_DIR:-bench/out}"
runs="${RUNS:-1}"
if [ -z "${SNITCH:-}" ]; then
    make -s snitch
    SNITCH=./snitch
fi
mkdir -p "$out/classify"
cc -O2 -Wall -Wextra -Werror -o "$out/bare_loop" bench/extract/bare_loop.c -lpcap
cap="$out/bench-$size.pcap"
[ -f "$cap" ] || "$SNITCH" synth -o "$cap" --size "$size" --seed 42 --classes 50
d="$out/classify"
# a 200-tree forest trained on another synthetic capture of the same services
"$SNITCH" synth -o "$d/train.pcap" --flows 20000 --classes 50 --seed 7 --force 2>/dev/null
"$SNITCH" extract -q -r "$d/train.pcap" -o "$d/train.csv" --force
"$SNITCH" extract -q -r "$d/train.pcap" --first 10 -o "$d/train10.csv" --force
"$SNITCH" train "$d/train.csv" -o "$d/m.snm" --trees 200 --force -q
"$SNITCH" train "$d/train10.csv" -o "$d/m10.snm" --trees 200 --force -q
cat "$cap" >/dev/null
run() {  # NAME CMD...
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$d/time.$name" taskset -c 0 "$@" >"$d/out.$name" 2>"$d/err.$name"
}
run2() {  # NAME CMD...: on cores 0 and 1
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$d/time.$name" taskset -c 0,1 "$@" >"$d/out.$name" 2>"$d/err.$name"
}
npk=$("$out/bare_loop" "$cap" | sed -E 's/.*packets=([0-9]+).*/\1/')
echo "capture: $cap, $(stat -L -c %s "$cap") bytes, $npk packets; model $(stat -c %s "$d/m.snm") bytes"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "snitch: $SNITCH"
summary=""
ratios1=""
ratios2=""
for round in $(seq "$runs"); do
    run bare "$out/bare_loop" "$cap"
    run end "$SNITCH" classify -m "$d/m.snm" -r "$cap" -o "$d/verdicts.jsonl" --force
    run after "$SNITCH" classify -m "$d/m10.snm" -r "$cap" --after 10 -o "$d/verdicts10.jsonl" --force
    run bare2 "$out/bare_loop" "$cap"
    if [ "$(nproc)" -ge 2 ]; then
        run2 two "$SNITCH" classify -m "$d/m.snm" -r "$cap" --threads 2 -o "$d/verdicts2.jsonl" --force
        cmp -s "$d/verdicts.jsonl" "$d/verdicts2.jsonl" || echo "warning: --threads 2 verdicts differ"
    fi
    read -r wb _ <"$d/time.bare"
    read -r wb2 _ <"$d/time.bare2"
    echo
    [ "$runs" -gt 1 ] && echo "round $round"
    printf '%-52s %8s %12s %8s %8s\n' "one core" "seconds" "packets/s" "vs bare" "max RSS"
    for k in bare bare2 end after two; do
        [ -f "$d/time.$k" ] || continue
        read -r w m <"$d/time.$k"
        case $k in
        bare) l="bare libpcap pcap_next_ex loop" ;;
        bare2) l="bare loop again" ;;
        end) l="snitch classify, 200-tree forest, verdict at flow end" ;;
        after) l="snitch classify --after 10, 200-tree forest" ;;
        two) l="two cores: classify --threads 2, flow end" ;;
        esac
        awk -v l="$l" -v w="$w" -v b="$wb" -v b2="$wb2" -v n="$npk" -v m="$m" \
            'BEGIN { printf "%-52s %8.2f %12.0f %8.3f %5.0f MB\n", l, w, n / w, (b + b2) / 2 / w, m / 1024 }'
    done
    for k in end after; do
        echo "[$k] $(grep -E 'packets in|latency|agrees' "$d/err.$k" | sed 's/^ *//' | tr '\n' ' ')"
    done
    read -r we _ <"$d/time.end"
    summary="$summary$(awk -v r="$round" -v w="$we" -v b="$wb" -v b2="$wb2" -v n="$npk" \
        'BEGIN { printf "round %d: flow end %.2f s, %.2f M packets/s, %.3f of the bare loop (%.2f / %.2f s)%s\n", r, w, n / w / 1e6, (b + b2) / 2 / w, b, b2, (n / w >= 1e6 && (b + b2) / 2 / w >= 0.5) ? ": target met on one core" : ": target not met on one core" }')
"
    if [ -f "$d/time.two" ]; then
        read -r wt _ <"$d/time.two"
        summary="$summary$(awk -v r="$round" -v w="$wt" -v b="$wb" -v b2="$wb2" -v n="$npk" \
            'BEGIN { printf "round %d: two cores %.2f s, %.2f M packets/s, %.3f of the bare loop%s\n", r, w, n / w / 1e6, (b + b2) / 2 / w, ((b + b2) / 2 / w >= 0.5) ? ": half the bare loop reached" : ": below half the bare loop" }')
"
        ratios2="$ratios2 $(awk -v w="$wt" -v b="$wb" -v b2="$wb2" 'BEGIN { printf "%.3f", (b + b2) / 2 / w }')"
    fi
    ratios1="$ratios1 $(awk -v w="$we" -v b="$wb" -v b2="$wb2" 'BEGIN { printf "%.3f", (b + b2) / 2 / w }')"
done
echo
printf '%s' "$summary"
# The median round: one slow moment of a shared machine moves it less.
median() { echo "$@" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
if [ "$runs" -gt 1 ]; then
    echo "median of $runs rounds, vs bare loop: one core $(median $ratios1)${ratios2:+, two cores $(median $ratios2)}"
fi
