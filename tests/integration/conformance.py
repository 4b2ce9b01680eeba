#!/usr/bin/python3
"""conformance.py - snitch extract against the SNI ground truth.

Every row of SHARED/data/public/sni_truth.tsv whose scope is `contract`
must be found: a flow with the same client/server 5-tuple and transport,
whose sni column equals the truth.  Rows marked `beyond` need what the
contract leaves out (STARTTLS, proxies, PPP links, gQUIC...): they are
counted and reported, not required.

usage: conformance.py SNITCH SHARED WORKDIR
Prints one line per missed contract row, a NOTE for the beyond rows, and
"N passed, M failed" (one test per contract row).
"""
import csv
import ipaddress
import os
import subprocess
import sys
from collections import defaultdict


def norm(ip):
    try:
        return ipaddress.ip_address(ip).compressed
    except ValueError:
        return ip


def main():
    snitch, shared, work = sys.argv[1:4]
    base = os.path.join(shared, 'data', 'public')
    truth = os.path.join(base, 'sni_truth.tsv')
    rows = list(csv.DictReader(open(truth, newline=''), delimiter='\t'))
    files = sorted({r['file'] for r in rows})
    flows = {}
    errors = {}
    for f in files:
        out = os.path.join(work, os.path.basename(f) + '.csv')
        p = subprocess.run([snitch, 'extract', '-q', '-r', os.path.join(base, f), '--all-flows',
                            '--force', '-o', out], capture_output=True, text=True)
        seen = defaultdict(set)
        if p.returncode == 0:
            for r in csv.DictReader(open(out, newline='', encoding='utf-8', errors='replace')):
                proto = 'tcp' if r['proto'] == '6' else 'udp' if r['proto'] == '17' else r['proto']
                key = (norm(r['src_ip']), r['src_port'], norm(r['dst_ip']), r['dst_port'], proto)
                seen[key].add(r['sni'])
        else:
            errors[f] = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else 'exit %d' % p.returncode
        flows[f] = seen
    passed = failed = 0
    beyond = defaultdict(lambda: [0, 0])
    per_transport = defaultdict(lambda: [0, 0])
    for r in rows:
        key = (norm(r['client_ip']), r['client_port'], norm(r['server_ip']), r['server_port'],
               r['transport'])
        snis = flows[r['file']].get(key)
        found = snis is not None and r['sni'] in snis
        scope = r['scope']
        if scope == 'contract':
            per_transport[r['transport']][1] += 1
            if found:
                passed += 1
                per_transport[r['transport']][0] += 1
            else:
                failed += 1
                why = ('snitch failed: ' + errors[r['file']]) if r['file'] in errors else \
                      'no flow on tuple' if snis is None else 'sni %r' % sorted(snis)
                print('FAIL %s %s:%s -> %s:%s %s want %r: %s' % (
                    r['file'], r['client_ip'], r['client_port'], r['server_ip'], r['server_port'],
                    r['transport'], r['sni'], why))
        else:
            kind = 'beyond' if scope.startswith('beyond') else scope
            beyond[(kind, r['transport'])][1] += 1
            if found:
                beyond[(kind, r['transport'])][0] += 1
    for t, (ok, n) in sorted(per_transport.items()):
        print('NOTE contract %s rows: %d/%d found' % (t, ok, n))
    for (kind, t), (ok, n) in sorted(beyond.items()):
        print('NOTE %s %s rows (not required): %d/%d found' % (kind, t, ok, n))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
