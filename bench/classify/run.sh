#!/bin/bash
# bench/classify/run.sh - snitch classify -r with a 200-tree forest on a
# >= 1 GB capture, against a bare libpcap pcap_next_ex loop measured in the
# same run, both pinned to one core; plus verdict latency (packets and
# capture time from a flow's first packet to its verdict), at flow end and
# with --after 10.
#   bench/classify/run.sh [SIZE]     (default 1G)
set -eu
cd "$(dirname "$0")/../.."
size="${1:-1G}"
out="${BENCH_DIR:-bench/out}"
mkdir -p "$out/classify"
make -s snitch
cc -O2 -Wall -Wextra -Werror -o "$out/bare_loop" bench/extract/bare_loop.c -lpcap
cap="$out/bench-$size.pcap"
[ -f "$cap" ] || ./snitch synth -o "$cap" --size "$size" --seed 42 --classes 50
d="$out/classify"
# a 200-tree forest trained on another synthetic capture of the same services
./snitch synth -o "$d/train.pcap" --flows 20000 --classes 50 --seed 7 --force 2>/dev/null
./snitch extract -q -r "$d/train.pcap" -o "$d/train.csv" --force
./snitch extract -q -r "$d/train.pcap" --first 10 -o "$d/train10.csv" --force
./snitch train "$d/train.csv" -o "$d/m.snm" --trees 200 --force -q
./snitch train "$d/train10.csv" -o "$d/m10.snm" --trees 200 --force -q
cat "$cap" >/dev/null
run() {  # NAME CMD...
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$d/time.$name" taskset -c 0 "$@" >"$d/out.$name" 2>"$d/err.$name"
}
run bare "$out/bare_loop" "$cap"
run end ./snitch classify -m "$d/m.snm" -r "$cap" -o "$d/verdicts.jsonl" --force
run after ./snitch classify -m "$d/m10.snm" -r "$cap" --after 10 -o "$d/verdicts10.jsonl" --force
run bare2 "$out/bare_loop" "$cap"
npk=$(sed -E 's/.*packets=([0-9]+).*/\1/' "$d/out.bare")
echo "capture: $cap, $(stat -c %s "$cap") bytes, $npk packets"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
printf '%-52s %8s %12s %8s %8s\n' "one core" "seconds" "packets/s" "vs bare" "max RSS"
for k in bare bare2 end after; do
    read -r w m <"$d/time.$k"
    case $k in
    bare) l="bare libpcap pcap_next_ex loop" ;;
    bare2) l="bare loop again" ;;
    end) l="snitch classify, 200-tree forest, verdict at flow end" ;;
    after) l="snitch classify --after 10, 200-tree forest" ;;
    esac
    read -r wb _ <"$d/time.bare"
    awk -v l="$l" -v w="$w" -v b="$wb" -v n="$npk" -v m="$m" \
        'BEGIN { printf "%-52s %8.2f %12.0f %8.3f %5.0f MB\n", l, w, n / w, b / w, m / 1024 }'
done
echo
for k in end after; do
    echo "[$k] $(grep -E 'packets in|latency|agrees' "$d/err.$k" | sed 's/^ *//' | tr '\n' ' ')"
done
