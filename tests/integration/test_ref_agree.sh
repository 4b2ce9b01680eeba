#!/bin/bash
# test_ref_agree.sh - snitch extract and the independent Python reference
# (../shared/ref/ref_extract.py) agree on every column of every flow, in the
# stats, seq and window modes, on all public captures and on a synthetic
# capture (also with --packets all, --label clean and --n 10).
set -u
cd "$(dirname "$0")/../.."
export SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
export SHARED="${SHARED:-$PWD/../shared}"
if [ ! -f "$SHARED/ref/ref_extract.py" ]; then
    echo "SKIP ref-agree: $SHARED/ref not found (a user's clone has no ../shared)"
    echo "0 passed, 0 failed"; exit 0
fi
if ! /usr/bin/python3 -c 'import dpkt, cryptography' 2>/dev/null; then
    echo "SKIP ref-agree: /usr/bin/python3 lacks dpkt or cryptography (apt-get install python3-dpkt python3-cryptography)"
    echo "0 passed, 0 failed"; exit 0
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
jobs="$work/jobs"
synth="$work/synth.pcap"
if "$SNITCH" synth -o "$synth" --flows 1500 --classes 12 --seed 7 2>"$work/synth.err"; then
    for m in stats seq window; do echo "$synth $m"; done >>"$jobs"
    echo "$synth stats --packets all" >>"$jobs"
    echo "$synth seq --packets all --n 10" >>"$jobs"
    echo "$synth stats --label clean" >>"$jobs"
    echo "$synth stats --label domain" >>"$jobs"
else
    echo "FAIL synth: $(tail -1 "$work/synth.err")"
fi
for f in "$SHARED"/data/public/pcap/*; do
    for m in stats seq window; do echo "$f $m"; done
done >>"$jobs"
# shellcheck disable=SC2016
xargs -P 2 -L 1 bash tests/integration/agree_one.sh "$work" <"$jobs" >"$work/results"
grep -v '^ok' "$work/results"
p=$(grep -c '^ok' "$work/results"); f=$(grep -vc '^ok' "$work/results")
[ -s "$work/synth.err" ] && grep -q FAIL "$work/synth.err" && f=$((f + 1))
echo "NOTE ref-agree: $(wc -l <"$jobs") comparisons ($(ls "$SHARED"/data/public/pcap | wc -l) public captures x 3 modes, synthetic x 7)"
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
