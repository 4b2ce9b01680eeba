#!/bin/bash
# test_classify.sh - snitch classify: verdicts equal what predict says for
# the same features (extract --first N), every flow gets one, JSON lines and
# CSV are well formed, ECH is reported, a SYN flood stays within
# --max-flows, and a per-packet model is refused.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
SHARED="${SHARED:-$PWD/../shared}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. tests/integration/lib.sh
S="$work/s.pcap"
"$SNITCH" synth -o "$S" --flows 1200 --classes 6 --seed 9 2>/dev/null
"$SNITCH" extract -q -r "$S" --features stats,seq --n 8 --first 8 --label clean -o "$work/first8.csv"
"$SNITCH" train "$work/first8.csv" -o "$work/m.snm" --trees 30 --features all --label-mode clean -q
expect classify-after 0 "$SNITCH" classify -m "$work/m.snm" -r "$S" --after 8 -o "$work/v.jsonl"
has summary-agreement "$work/err" "the model agrees on [0-9]+ \([0-9.]+%\)"
has summary-latency "$work/err" "latency +[0-9.]+ packets"
"$SNITCH" predict "$work/m.snm" "$work/first8.csv" -o "$work/p.csv" -q
"$SNITCH" extract -q -r "$S" --features stats --all-flows -o "$work/all.csv"
python3 - "$work/v.jsonl" "$work/p.csv" "$work/all.csv" <<'PY' && ok "verdicts-equal-predict-on-first-n" || bad "verdicts-equal-predict-on-first-n"
import csv, json, sys
v = [json.loads(l) for l in open(sys.argv[1])]
p = {r['flow_id']: r for r in csv.DictReader(open(sys.argv[2]))}
allf = list(csv.DictReader(open(sys.argv[3])))
assert len(v) == len(allf), (len(v), len(allf))          # one verdict per flow
assert len({x['flow_id'] for x in v}) == len(v)
keys = {'flow_id', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'proto', 'first_ts', 'decision_ts',
        'packets', 'early', 'sni', 'tls_version', 'ech', 'label', 'probability', 'top3', 'sni_label',
        'agrees'}
matched = 0
for x in v:
    assert set(x) == keys, set(x) ^ keys
    assert x['packets'] <= 8 and (x['early'] == (x['packets'] == 8))
    assert len(x['top3']) == 3 and x['top3'][0]['label'] == x['label']
    if x['sni'] is None:
        assert x['agrees'] is None and x['sni_label'] is None
    else:
        assert x['agrees'] == (x['label'] == x['sni_label'])
    r = p.get(str(x['flow_id']))
    if r:
        assert r['predicted'] == x['label'] and abs(float(r['probability']) - x['probability']) < 1e-12
        matched += 1
assert matched == len(p), (matched, len(p))
PY
expect classify-csv 0 "$SNITCH" classify -m "$work/m.snm" -r "$S" --format csv -o "$work/v.csv"
python3 - "$work/v.csv" "$work/all.csv" <<'PY' && ok "csv-verdicts-at-flow-end" || bad "csv-verdicts-at-flow-end"
import csv, sys
v = list(csv.DictReader(open(sys.argv[1])))
a = {r['flow_id']: r for r in csv.DictReader(open(sys.argv[2]))}
assert len(v) == len(a)
for r in v:
    assert r['early'] == '0'
    assert r['first_ts'] == a[r['flow_id']]['first_ts'] and r['decision_ts'] == a[r['flow_id']]['last_ts']
    assert r['agrees'] in ('0', '1', '')
PY
# A second thread predicting batch after batch (7 flows each, so it is
# handed hundreds) writes exactly what one thread writes, in the same order,
# in both formats.
for fmt in jsonl csv; do
    "$SNITCH" classify -m "$work/m.snm" -r "$S" --format $fmt --threads 1 -q -o "$work/t1.$fmt"
    expect threads2-$fmt 0 "$SNITCH" classify -m "$work/m.snm" -r "$S" --format $fmt --threads 2 \
        --batch 7 -q -o "$work/t2.$fmt"
    if [ -s "$work/t1.$fmt" ] && cmp -s "$work/t1.$fmt" "$work/t2.$fmt"; then
        ok "threads2-$fmt-same-verdicts"
    else
        bad "threads2-$fmt-same-verdicts"
    fi
done
cmp -s "$work/t1.csv" "$work/v.csv" && ok "threads1-csv-equals-default" || bad "threads1-csv-equals-default"
# Batches of 1 to 3 flows: every slot of the worker's in turn, the packet
# loop predicting whenever none is free; verdicts still in flow order.
for b in 1 2 3; do
    "$SNITCH" classify -m "$work/m.snm" -r "$S" --threads 2 --batch $b -q -o "$work/t2b$b.jsonl"
    cmp -s "$work/t1.jsonl" "$work/t2b$b.jsonl" && ok "threads2-batch$b-same-verdicts" \
        || bad "threads2-batch$b-same-verdicts"
done
# Deciding at flow end, bare packets (no payload) are counted but not kept;
# with --after they are kept (they count towards N).  An N no flow reaches
# decides every flow at its end from every packet: the same verdicts.
expect after-unreached 0 "$SNITCH" classify -m "$work/m.snm" -r "$S" --format csv --after 1000000 \
    -q -o "$work/after_big.csv"
if [ -s "$work/t1.csv" ] && cmp -s "$work/t1.csv" "$work/after_big.csv"; then
    ok "bare-packets-counted-not-kept"
else
    bad "bare-packets-counted-not-kept"
fi
# With two threads the second reads the forest while packets are read.  A
# forest damaged behind an intact META is found there: the run fails with
# the message a whole read gives, and writes no verdicts file; so it does
# with one thread.  A valid file in another section order takes the whole
# read and answers the same.
python3 - "$work/m.snm" "$work/bad.snm" "$work/swap.snm" <<'PY'
import hashlib, struct, sys
b = bytearray(open(sys.argv[1], 'rb').read())
d = bytearray(b); d[len(d) - 40] ^= 0x10          # inside the last section (FRST)
open(sys.argv[2], 'wb').write(d)
n = struct.unpack_from('<I', b, 12)[0]; off = 16; secs = []
for _ in range(n):
    tag, ln = struct.unpack_from('<4sQ', b, off); secs.append(bytes(b[off:off + 12 + ln])); off += 12 + ln
body = bytes(b[:16]) + b''.join(reversed(secs))
open(sys.argv[3], 'wb').write(body + hashlib.sha256(body).digest())
PY
for t in 1 2; do
    expect damaged-forest-threads$t 1 "$SNITCH" classify -m "$work/bad.snm" -r "$S" --threads $t \
        -q -o "$work/bad$t.jsonl"
    has damaged-forest-threads$t-message "$work/err" "bad.snm: checksum mismatch"
    [ ! -e "$work/bad$t.jsonl" ] && ok "damaged-forest-threads$t-no-output" \
        || bad "damaged-forest-threads$t-no-output"
done
expect swapped-sections 0 "$SNITCH" classify -m "$work/swap.snm" -r "$S" --threads 2 --batch 7 \
    --format csv -q -o "$work/swap.csv"
cmp -s "$work/t1.csv" "$work/swap.csv" && ok "swapped-sections-same-verdicts" \
    || bad "swapped-sections-same-verdicts"
expect threads3-refused 2 "$SNITCH" classify -m "$work/m.snm" -r "$S" --threads 3
expect batch0-refused 2 "$SNITCH" classify -m "$work/m.snm" -r "$S" --batch 0
# A progress line on a terminal (script gives the command one), none with
# -q, none when the verdicts go to that same terminal.
script -qec "'$SNITCH' classify -m '$work/m.snm' -r '$S' -o '$work/tty.jsonl'" /dev/null >"$work/tty1" 2>&1
has progress-on-terminal "$work/tty1" "100\.0%  [0-9.]+ kpackets  [0-9.]+ kflows"
script -qec "'$SNITCH' classify -q -m '$work/m.snm' -r '$S' -o '$work/tty.jsonl' --force" /dev/null >"$work/tty2" 2>&1
grep -q "kpackets" "$work/tty2" && bad "no-progress-with-q" || ok "no-progress-with-q"
script -qec "'$SNITCH' classify -m '$work/m.snm' -r '$S'" /dev/null >"$work/tty3" 2>&1
grep -q '"flow_id"' "$work/tty3" && ! grep -q "kpackets" "$work/tty3" && ok "no-progress-over-verdicts" \
    || bad "no-progress-over-verdicts"
# stdin and a pipe of verdicts into another tool
"$SNITCH" classify -m "$work/m.snm" -r - -q <"$S" | python3 -c 'import json,sys; n=sum(1 for l in sys.stdin if json.loads(l)); assert n > 1000, n' \
    && ok "stdin-and-pipe" || bad "stdin-and-pipe"

# a per-packet (window) model describes packets, not flows
"$SNITCH" extract -q -r "$S" --features window -o "$work/w.csv"
"$SNITCH" train "$work/w.csv" -o "$work/w.snm" --trees 5 -q
expect window-model-refused 1 "$SNITCH" classify -m "$work/w.snm" -r "$S"
has window-model-message "$work/err" "classifies packets, not flows"
expect no-input 2 "$SNITCH" classify -m "$work/m.snm"

# SYN flood: 60000 SYNs from distinct ports; open flows stay <= --max-flows
python3 - "$work/flood.pcap" <<'PY'
import struct, sys
out = open(sys.argv[1], 'wb')
out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
eth = b'\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00'
for i in range(60000):
    src = bytes([10, 7, (i >> 8) & 255, i & 255])
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0, src, bytes([192, 0, 2, 1]))
    tcp = struct.pack('>HHIIBBHHH', 1024 + i % 60000, 443, i * 7919, 0, 0x50, 0x02, 65535, 0, 0)
    pkt = eth + ip + tcp
    out.write(struct.pack('<IIII', 1700000000 + i // 10000, (i % 10000) * 100, len(pkt), len(pkt)) + pkt)
PY
/usr/bin/time -f "%M" -o "$work/rss" "$SNITCH" classify -m "$work/m.snm" -r "$work/flood.pcap" \
    --max-flows 1000 -o "$work/flood.jsonl" 2>"$work/err"
has flood-evictions-reported "$work/err" "warning +59000 flows ended early: more than 1000 open"
has flood-peak-bounded "$work/err" "\(peak 1000 open\)"
[ "$(wc -l <"$work/flood.jsonl")" -eq 60000 ] && ok "flood-every-flow-a-verdict" || bad "flood-every-flow-a-verdict"
rss=$(cat "$work/rss")
[ "$rss" -lt 60000 ] && ok "flood-memory-bounded (${rss} KB)" || bad "flood-memory-bounded (${rss} KB)"

# ECH: reported on real captures whose ClientHello offers it
if [ -f "$SHARED/data/public/pcap/zeek__tls__tls13-ech.pcap" ]; then
    "$SNITCH" classify -m "$work/m.snm" -r "$SHARED/data/public/pcap/zeek__tls__tls13-ech.pcap" -o "$work/ech.jsonl" 2>"$work/err"
    grep -q '"sni":"cloudflare-ech.com".*"ech":true' "$work/ech.jsonl" && ok "ech-reported" || bad "ech-reported"
    has ech-in-summary "$work/err" "[1-9][0-9]* offer ECH"
else
    echo "SKIP ech: $SHARED not found"
fi
summary
