#!/bin/bash
# agree_one.sh WORK PCAP MODE [EXTRA_ARGS...] - one feature comparison:
# snitch extract and ../shared/ref/ref_extract.py on PCAP in MODE (stats,
# seq or window); compare_features.py must report every column equal.
# Prints "ok ..." or "FAIL ...".  EXTRA_ARGS go to both extractors
# (--packets, --label, --n take the same form in both).
set -u
work="$1"; pcap="$2"; mode="$3"; shift 3
name="$(basename "$pcap").$mode$(echo "$*" | tr -c 'a-zA-Z0-9' _)"
ours="$work/$name.ours.csv"; ref="$work/$name.ref.csv"
"$SNITCH" extract -q -r "$pcap" -o "$ours" --force --all-flows --features "$mode" "$@" 2>"$work/$name.ours.err"
rc=$?
/usr/bin/python3 "$SHARED/ref/ref_extract.py" "$pcap" --out "$ref" --mode "$mode" "$@" 2>"$work/$name.ref.err"
rr=$?
if [ $rr -ne 0 ]; then echo "FAIL $name: reference failed: $(tail -1 "$work/$name.ref.err")"; exit; fi
if [ $rc -ne 0 ]; then
    # An unsupported link type is an error for snitch; the reference skips
    # such packets silently.  Consistent when the reference found no flow.
    if grep -q "link type .* is not supported" "$work/$name.ours.err" && [ "$(wc -l <"$ref")" -le 1 ]; then
        echo "ok $name (unsupported link type: error here, no flows in the reference)"; exit
    fi
    echo "FAIL $name: snitch failed ($rc): $(tail -1 "$work/$name.ours.err")"; exit
fi
if [ "$mode" = window ]; then
    # Packet rows are joined by (ts, dir, size, occurrence): put ours in the
    # reference's flow order so equal keys in two flows pair up the same way.
    { head -1 "$ours"; tail -n +2 "$ours" | sort -t, -k1,1n -s; } >"$ours.sorted" && mv "$ours.sorted" "$ours"
fi
if /usr/bin/python3 "$SHARED/ref/compare_features.py" "$ours" "$ref" >"$work/$name.cmp" 2>&1; then
    echo "ok $name"
    rm -f "$ours" "$ref"
else
    echo "FAIL $name: $(grep -v '^NOTE' "$work/$name.cmp" | head -4 | tr '\n' ' ')"
fi
