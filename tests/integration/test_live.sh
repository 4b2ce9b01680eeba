#!/bin/bash
# test_live.sh - live capture: snitch extract -i lo sees TLS handshakes made
# with openssl s_client against a local openssl s_server, and writes their
# flows with the SNI when it is interrupted.  Skips (with the reason) where
# capturing is not permitted or openssl is missing.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
if ! command -v openssl >/dev/null; then
    echo "SKIP live: openssl not installed"; echo "0 passed, 0 failed"; exit 0
fi
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cleanup() { kill "$srv" "$cap" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -out "$work/c.pem" -days 1 \
    -subj /CN=test 2>/dev/null
openssl s_server -accept "$port" -cert "$work/c.pem" -key "$work/k.pem" -www -quiet >/dev/null 2>&1 &
srv=$!
"$SNITCH" extract -i lo -f "tcp port $port" --features stats,seq -o "$work/live.csv" 2>"$work/err" &
cap=$!
sleep 1
if ! kill -0 "$cap" 2>/dev/null; then
    echo "SKIP live: cannot capture on lo here: $(tail -1 "$work/err")"; echo "0 passed, 0 failed"; exit 0
fi
for i in 1 2 3; do
    echo | timeout 5 openssl s_client -connect "127.0.0.1:$port" -servername "live$i.example.org" >/dev/null 2>&1
done
sleep 1
kill -INT "$cap"; wait "$cap"; rc=$?
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok $1"; else fail=$((fail + 1)); echo "FAIL $1"; cat "$work/err"; fi; }
check "exit-0-on-sigint" "[ $rc -eq 0 ]"
for i in 1 2 3; do
    check "flow-live$i" "grep -q ',live$i.example.org,live$i.example.org,tls1\.[23],' '$work/live.csv'"
done
check "server-side-is-dst" "cut -d, -f5 '$work/live.csv' | tail -n +2 | grep -qx '$port'"
check "drops-reported" "grep -q 'dropped by the kernel' '$work/err'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
