#!/bin/bash
# test_live_netns.sh - snitch classify on a live interface: a veth pair
# between the host and a network namespace this test creates; openssl
# s_server listens inside it, openssl s_client connects from the host with
# three SNIs; SIGTERM must flush every open flow's verdict.  Traffic stays
# on the veth pair.  Skips (with the reason) where namespaces or capture
# are not permitted.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
ns="snitch-test-$$"; va="snv$$a"; vb="snv$$b"
skip() { echo "SKIP live-netns: $1"; echo "0 passed, 0 failed"; exit 0; }
command -v ip >/dev/null || skip "ip (iproute2) not installed"
command -v openssl >/dev/null || skip "openssl not installed"
work=$(mktemp -d)
cleanup() {
    [ -n "${cap:-}" ] && kill "$cap" 2>/dev/null
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    ip link del "$va" 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns" 2>"$work/err" || skip "cannot create a network namespace: $(cat "$work/err")"
ip link add "$va" type veth peer name "$vb" 2>"$work/err" || skip "cannot create veth: $(cat "$work/err")"
ip link set "$vb" netns "$ns"
ip addr add 10.213.77.1/30 dev "$va"
ip link set "$va" up
ip netns exec "$ns" ip addr add 10.213.77.2/30 dev "$vb"
ip netns exec "$ns" ip link set "$vb" up
ip netns exec "$ns" ip link set lo up
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/k.pem" -out "$work/c.pem" -days 1 -subj /CN=t 2>/dev/null
ip netns exec "$ns" openssl s_server -accept 4433 -cert "$work/c.pem" -key "$work/k.pem" -www -quiet >/dev/null 2>&1 &

# a small model that knows the three services
"$SNITCH" synth -o "$work/s.pcap" --flows 300 --classes 3 --seed 2 2>/dev/null
"$SNITCH" extract -q -r "$work/s.pcap" -o "$work/t.csv"
"$SNITCH" train "$work/t.csv" -o "$work/m.snm" --trees 10 -q
"$SNITCH" classify -m "$work/m.snm" -i "$va" -f 'tcp port 4433' -o "$work/v.jsonl" 2>"$work/err" &
cap=$!
sleep 1
kill -0 "$cap" 2>/dev/null || skip "cannot capture on $va: $(tail -1 "$work/err")"
for i in 1 2 3; do
    echo | timeout 5 openssl s_client -connect 10.213.77.2:4433 -servername "svc$i.netns.test" >/dev/null 2>&1
done
sleep 1
kill -TERM "$cap"; wait "$cap"; rc=$?; cap=""
pass=0; fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok $1"; else fail=$((fail + 1)); echo "FAIL $1"; head -5 "$work/err"; fi; }
check exit-0-on-sigterm "[ $rc -eq 0 ]"
for i in 1 2 3; do
    check "verdict-svc$i" "grep -q '\"sni\":\"svc$i.netns.test\"' '$work/v.jsonl'"
done
check "client-is-host" "grep -c '\"src_ip\":\"10.213.77.1\".*\"dst_ip\":\"10.213.77.2\",\"dst_port\":4433' '$work/v.jsonl' | grep -qx 3"
check "verdicts-valid-json" "python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' '$work/v.jsonl'"
check "drops-in-summary" "grep -q 'dropped by the kernel' '$work/err'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
