#!/bin/bash
# test_cli.sh - snitch extract as a user meets it: usage errors, bad and
# truncated captures, output-file safety, several files as one capture,
# pcapng, standard output, --min-flows, eviction, interruption.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. tests/integration/lib.sh
S="$work/s.pcap"
"$SNITCH" synth -o "$S" --flows 400 --classes 8 --seed 11 2>/dev/null || { echo "FAIL synth"; echo "0 passed, 1 failed"; exit 1; }

expect help 0 "$SNITCH" extract --help
has help-mentions-min-flows "$work/out" "min-flows"
expect no-command 2 "$SNITCH"
expect unknown-command 2 "$SNITCH" frobnicate
expect no-output 2 "$SNITCH" extract -r "$S"
expect no-input 2 "$SNITCH" extract -o "$work/x.csv"
expect bad-features 2 "$SNITCH" extract -r "$S" -o "$work/x.csv" --features stats,bogus
expect window-not-combined 2 "$SNITCH" extract -r "$S" -o "$work/x.csv" --features stats,window
expect bad-number 2 "$SNITCH" extract -r "$S" -o "$work/x.csv" --min-flows 12x
expect bad-label 2 "$SNITCH" extract -r "$S" -o "$work/x.csv" --label nonsense
printf 'www.example.com good\n*.bad*.com x\n' >"$work/rules.txt"
expect bad-rule 2 "$SNITCH" extract -r "$S" -o "$work/x.csv" --label "rules:$work/rules.txt"
has bad-rule-names-line "$work/err" "rules.txt:2"
[ ! -e "$work/x.csv" ] && ok "no-output-on-usage-error" || bad "no-output-on-usage-error"

expect missing-input 1 "$SNITCH" extract -r "$work/none.pcap" -o "$work/x.csv"
has missing-input-named "$work/err" "none.pcap"
head -c 3000 /dev/urandom >"$work/garbage.pcap"
expect corrupt-file 1 "$SNITCH" extract -r "$work/garbage.pcap" -o "$work/x.csv"
has corrupt-file-named "$work/err" "garbage.pcap"
expect unwritable-output 1 "$SNITCH" extract -r "$S" -o "$work/no/such/dir/x.csv"
has unwritable-output-named "$work/err" "no/such/dir/x.csv"

# a pcap record whose length field is absurd, after 5 good packets
python3 - "$S" "$work/badrec.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off = 24
for _ in range(5):
    caplen = struct.unpack_from('<I', d, off + 8)[0]
    off += 16 + caplen
bad = d[:off] + struct.pack('<IIII', 1, 0, 0x7fffffff, 0x7fffffff) + d[off + 16:]
open(sys.argv[2], 'wb').write(bad)
# PPP link type: not supported
hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 9)
open(sys.argv[2] + '.ppp', 'wb').write(hdr + struct.pack('<IIII', 1, 0, 4, 4) + b'\xff\x03\x00\x21')
PY
expect corrupt-record 1 "$SNITCH" extract -r "$work/badrec.pcap" -o "$work/x.csv"
has corrupt-record-names-packet "$work/err" "badrec.pcap: packet 6"
expect unknown-linktype 1 "$SNITCH" extract -r "$work/badrec.pcap.ppp" -o "$work/x.csv"
has unknown-linktype-named "$work/err" "badrec.pcap.ppp: packet 1: link type 9"

# truncated capture (tcpdump killed mid-write): complete packets + warning
"$SNITCH" extract -q -r "$S" -o "$work/full.csv" --all-flows 2>/dev/null
size=$(stat -c %s "$S")
head -c $((size - 7)) "$S" >"$work/trunc.pcap"
expect truncated-capture 0 "$SNITCH" extract -r "$work/trunc.pcap" -o "$work/trunc.csv" --all-flows
has truncated-warns "$work/err" "warning: .*trunc.pcap: truncated"
n_full=$(grep -oE '[0-9]+ read' <("$SNITCH" extract -r "$S" -o /dev/null 2>&1) | grep -oE '[0-9]+')
n_trunc=$(grep -oE '[0-9]+ read' "$work/err" | grep -oE '[0-9]+')
[ "$n_trunc" -eq $((n_full - 1)) ] && ok "truncated-keeps-complete-packets" || bad "truncated-keeps-complete-packets ($n_trunc vs $n_full)"

# output safety
echo "precious" >"$work/keep.csv"
expect existing-output-refused 1 "$SNITCH" extract -r "$S" -o "$work/keep.csv"
[ "$(cat "$work/keep.csv")" = precious ] && ok "existing-output-untouched" || bad "existing-output-untouched"
expect force-replaces 0 "$SNITCH" extract -q -r "$S" -o "$work/keep.csv" --force
head -1 "$work/keep.csv" | grep -q '^flow_id,src_ip' && ok "force-wrote-csv" || bad "force-wrote-csv"
ls "$work" | grep -q '\.tmp\.' && bad "no-temp-files-left" || ok "no-temp-files-left"

# several files = one continuous capture (rotated files split flows)
python3 - "$S" "$work/part1.pcap" "$work/part2.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, recs = 24, []
while off < len(d):
    caplen = struct.unpack_from('<I', d, off + 8)[0]
    recs.append(d[off:off + 16 + caplen]); off += 16 + caplen
h = len(recs) // 2
open(sys.argv[2], 'wb').write(d[:24] + b''.join(recs[:h]))
open(sys.argv[3], 'wb').write(d[:24] + b''.join(recs[h:]))
PY
"$SNITCH" extract -q -r "$work/part1.pcap" -r "$work/part2.pcap" -o "$work/parts.csv" --all-flows
cmp -s "$work/parts.csv" "$work/full.csv" && ok "split-files-equal-whole" || bad "split-files-equal-whole"
"$SNITCH" extract -q -r "$work/part1.pcap" -o "$work/p1.csv" --all-flows
cmp -s "$work/p1.csv" "$work/full.csv" && bad "half-file-differs" || ok "half-file-differs"
# reading ahead in a second thread (--threads 2): the same rows, and the
# same warnings and errors, at the same places, as reading in one thread
for t in 1 2; do
    expect threads$t-files 0 "$SNITCH" extract -r "$work/part1.pcap" -r "$work/trunc.pcap" \
        -r "$work/part2.pcap" -o "$work/threads$t.csv" --all-flows --threads $t
    grep -v 'packets/s' "$work/err" >"$work/threads$t.err"
    expect threads$t-corrupt 1 "$SNITCH" extract -r "$work/part1.pcap" -r "$work/badrec.pcap" \
        -o "$work/x.csv" --threads $t
    grep -v 'packets/s' "$work/err" >"$work/corrupt$t.err"
done
cmp -s "$work/threads1.csv" "$work/threads2.csv" && ok "threads2-same-rows" || bad "threads2-same-rows"
has threads2-warns "$work/threads2.err" "warning: .*trunc.pcap: truncated"
cmp -s "$work/threads1.err" "$work/threads2.err" && ok "threads2-same-messages" \
    || bad "threads2-same-messages"
has threads2-corrupt-names-packet "$work/corrupt2.err" "badrec.pcap: packet 6"
cmp -s "$work/corrupt1.err" "$work/corrupt2.err" && ok "threads2-same-error" || bad "threads2-same-error"
expect threads3-refused 2 "$SNITCH" extract -r "$S" -o "$work/x.csv" --threads 3
# Bare packets (no payload) are counted, not kept, when only data packets
# are described; --first keeps them (they count towards N): an N no flow
# reaches gives the same rows
"$SNITCH" extract -q -r "$S" -o "$work/first_big.csv" --all-flows --features stats,seq --first 1000000
"$SNITCH" extract -q -r "$S" -o "$work/stats_seq.csv" --all-flows --features stats,seq
[ -s "$work/stats_seq.csv" ] && cmp -s "$work/first_big.csv" "$work/stats_seq.csv" \
    && ok "bare-packets-counted-not-kept" || bad "bare-packets-counted-not-kept"
# the same on a real capture whose timestamps go backwards (first and last
# time of a flow: its earliest and latest packet, bare ones included)
Y="${SHARED:-$PWD/../shared}/data/public/pcap/ndpi__yandex.pcapng"
if [ -f "$Y" ]; then
    "$SNITCH" extract -q -r "$Y" -o "$work/y_first.csv" --all-flows --first 1000000
    "$SNITCH" extract -q -r "$Y" -o "$work/y.csv" --all-flows
    [ -s "$work/y.csv" ] && cmp -s "$work/y_first.csv" "$work/y.csv" \
        && ok "bare-packets-out-of-order" || bad "bare-packets-out-of-order"
else
    echo "SKIP bare-packets-out-of-order: $Y not found"
fi
# standard input as a capture
"$SNITCH" extract -q -r - -o "$work/stdin.csv" --all-flows <"$S"
cmp -s "$work/stdin.csv" "$work/full.csv" && ok "stdin-capture" || bad "stdin-capture"

# pcapng and nanosecond pcap give the same table
if command -v editcap >/dev/null; then
    editcap -F pcapng "$S" "$work/s.pcapng" && "$SNITCH" extract -q -r "$work/s.pcapng" -o "$work/ng.csv" --all-flows
    cmp -s "$work/ng.csv" "$work/full.csv" && ok "pcapng-equal-pcap" || bad "pcapng-equal-pcap"
    editcap -F pcap --set-snaplen 0 -F nsecpcap "$S" "$work/ns.pcap" 2>/dev/null && \
        "$SNITCH" extract -q -r "$work/ns.pcap" -o "$work/ns.csv" --all-flows && \
        { cmp -s "$work/ns.csv" "$work/full.csv" && ok "nsec-pcap-equal-pcap" || bad "nsec-pcap-equal-pcap"; }
else
    echo "SKIP pcapng: editcap (wireshark-common) not installed"
fi

# standard output, pipes, BPF filter
"$SNITCH" extract -q -r "$S" -o - --all-flows >"$work/stdout.csv"
cmp -s "$work/stdout.csv" "$work/full.csv" && ok "stdout-equal-file" || bad "stdout-equal-file"
"$SNITCH" extract -q -r "$S" -o - --all-flows -f 'ip6' >"$work/v6.csv"
n6=$(tail -n +2 "$work/v6.csv" | wc -l); nall=$(tail -n +2 "$work/full.csv" | wc -l)
[ "$n6" -gt 0 ] && [ "$n6" -lt "$nall" ] && ! cut -d, -f2 "$work/v6.csv" | tail -n +2 | grep -q '^[0-9.]*$' \
    && ok "bpf-filter-ip6" || bad "bpf-filter-ip6 ($n6 of $nall)"
expect bad-filter 1 "$SNITCH" extract -r "$S" -o "$work/y.csv" -f 'tcp portt 443'
has bad-filter-message "$work/err" "bad filter"

# labeled flows only by default; --min-flows keeps labels with enough flows
"$SNITCH" extract -q -r "$S" -o "$work/lab.csv"
! cut -d, -f10 "$work/lab.csv" | tail -n +2 | grep -q '^$' && ok "default-only-labeled" || bad "default-only-labeled"
"$SNITCH" extract -r "$S" -o "$work/min.csv" --min-flows 45 2>"$work/err"
python3 - "$work/min.csv" "$work/lab.csv" 45 <<'PY' && ok "min-flows" || bad "min-flows"
import csv, sys, collections
m = collections.Counter(r['label'] for r in csv.DictReader(open(sys.argv[1])))
a = collections.Counter(r['label'] for r in csv.DictReader(open(sys.argv[2])))
n = int(sys.argv[3])
assert all(c >= n for c in m.values()), m
assert m == {k: v for k, v in a.items() if v >= n}, (m, a)
assert 0 < len(m) < len(a), (m, a)
PY
has min-flows-summary "$work/err" "flows dropped below --min-flows 45"

# stats,seq in one row; window one row per packet
"$SNITCH" extract -q -r "$S" -o "$work/ss.csv" --features stats,seq --n 5
head -1 "$work/ss.csv" | grep -q 'pay_bwd_var,size_0,size_1,size_2,size_3,size_4,payload_0' && ok "stats-seq-header" || bad "stats-seq-header"
"$SNITCH" extract -q -r "$S" -o "$work/w.csv" --features window
head -1 "$work/w.csv" | grep -qx 'flow_id,ts,dir,label,dt_prev,size,rx_bytes,tx_bytes,rx_mean,tx_mean,rx_std,tx_std,rx_pkts,tx_pkts' && ok "window-header" || bad "window-header"

# eviction bounds memory and is reported
"$SNITCH" extract -r "$S" -o "$work/ev.csv" --max-flows 5 --all-flows 2>"$work/err"
has eviction-reported "$work/err" "warning .* ended early"

# interrupted: exit 130, no output file left
mkfifo "$work/fifo"
( cat "$S"; sleep 20 ) >"$work/fifo" &
feeder=$!
"$SNITCH" extract -q -r "$work/fifo" -o "$work/int.csv" 2>"$work/err" &
pid=$!
sleep 1; kill -INT $pid; wait $pid; rc=$?
kill $feeder 2>/dev/null; wait $feeder 2>/dev/null
[ $rc -eq 130 ] && [ ! -e "$work/int.csv" ] && ! ls "$work" | grep -q '^int.csv.tmp' && ok "interrupt-leaves-nothing" || bad "interrupt-leaves-nothing (exit $rc)"

# a progress line on a terminal, but not over rows written to it
script -qec "'$SNITCH' extract -r '$S' -o '$work/tty.csv'" /dev/null >"$work/tty1" 2>&1
has progress-on-terminal "$work/tty1" "100\.0%  [0-9.]+ kpackets"
script -qec "'$SNITCH' extract -r '$S' -o -" /dev/null >"$work/tty2" 2>&1
grep -q "^flow_id," "$work/tty2" && ! grep -q "kpackets" "$work/tty2" && ok "no-progress-over-rows" \
    || bad "no-progress-over-rows"

summary
