#!/bin/bash
# bench/extract/run.sh - extraction speed on a >= 1 GB capture, against
# baselines measured in the same run, each pinned to one core:
#   (a) a bare libpcap pcap_next_ex loop (bench/extract/bare_loop.c)
#   (b) snitch extract --features stats,seq
#   (c) tshark -T fields -e tls.handshake.extensions_server_name
#   (d) the Python reference, ../shared/ref/ref_extract.py (stats)
# Prints packets/s, the ratio to (a), and peak memory (max RSS).
#
#   bench/extract/run.sh [SIZE]      SIZE of the generated capture (default 1G)
# Environment: BENCH_DIR (default bench/out), SKIP_SLOW=1 skips (c) and (d),
# SNITCH: the binary to time (default ./snitch, built first).
set -eu
cd "$(dirname "$0")/../.."
size="${1:-1G}"
out="${BENCH_DIR:-bench/out}"
mkdir -p "$out"
SHARED="${SHARED:-../shared}"
if [ -z "${SNITCH:-}" ]; then
    make -s snitch
    SNITCH=./snitch
fi
cc -O2 -Wall -Wextra -Werror -o "$out/bare_loop" bench/extract/bare_loop.c -lpcap
cap="$out/bench-$size.pcap"
if [ ! -f "$cap" ]; then
    echo "generating $cap (snitch synth --size $size --seed 42)" >&2
    "$SNITCH" synth -o "$cap" --size "$size" --seed 42 --classes 50
fi
npk=$("$out/bare_loop" "$cap" | sed -E 's/.*packets=([0-9]+).*/\1/')
bytes=$(stat -L -c %s "$cap")
cat "$cap" >/dev/null   # warm the page cache: every contender reads from memory

# measure NAME CMD...: run on core 0, record wall seconds and max RSS
declare -A wall rss
measure() {
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$out/time.$name" taskset -c 0 "$@" >"$out/out.$name" 2>"$out/err.$name" || {
        echo "$name failed: $(tail -2 "$out/err.$name")" >&2; wall[$name]=NA; rss[$name]=NA; return; }
    read -r w m <"$out/time.$name"
    wall[$name]=$w; rss[$name]=$m
}
measure a "$out/bare_loop" "$cap"
measure b "$SNITCH" extract -q -r "$cap" --features stats,seq --all-flows -o "$out/flows.csv" --force
measure a2 "$out/bare_loop" "$cap"          # again, to show the noise
if [ "${SKIP_SLOW:-0}" != 1 ]; then
    if command -v tshark >/dev/null; then
        measure c tshark -n -r "$cap" -T fields -e tls.handshake.extensions_server_name
    fi
    if [ -f "$SHARED/ref/ref_extract.py" ]; then
        measure d /usr/bin/python3 "$SHARED/ref/ref_extract.py" "$cap" --out "$out/ref.csv" --mode stats
    fi
fi
echo
echo "capture: $cap, $bytes bytes, $npk packets"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo
printf '%-46s %9s %12s %10s %10s\n' "contender (one core)" "seconds" "packets/s" "vs (a)" "max RSS"
row() {
    local k="$1" label="$2"
    [ -n "${wall[$k]:-}" ] || return 0
    if [ "${wall[$k]}" = NA ]; then printf '%-46s %9s\n' "$label" failed; return; fi
    awk -v l="$label" -v w="${wall[$k]}" -v a="${wall[a]}" -v n="$npk" -v m="${rss[$k]}" \
        'BEGIN { printf "%-46s %9.2f %12.0f %10.3f %7.0f MB\n", l, w, n / w, a / w, m / 1024 }'
}
row a "(a) libpcap pcap_next_ex loop"
row a2 "(a) again"
row b "(b) snitch extract --features stats,seq"
row c "(c) tshark -T fields -e ...server_name"
row d "(d) ref_extract.py (Python reference)"
if [ -n "${wall[c]:-}" ] && [ "${wall[c]}" != NA ]; then
    awk -v b="${wall[b]}" -v c="${wall[c]}" 'BEGIN { printf "\nsnitch vs tshark: %.1fx faster\n", c / b }'
fi
if [ -n "${wall[d]:-}" ] && [ "${wall[d]}" != NA ]; then
    awk -v b="${wall[b]}" -v d="${wall[d]}" 'BEGIN { printf "snitch vs Python reference: %.1fx faster\n", d / b }'
fi
