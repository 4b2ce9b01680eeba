#!/bin/bash
# test_report.sh - `snitch report` on a real run directory built here from
# snitch's own commands (synth -> extract -> cv at three thresholds for two
# models -> train; results.json assembled from the cv JSON the way
# docs/experiment.md lays it out, standing in for `snitch experiment`):
# the page is written with every section and figure, its tables agree with
# the numbers, the optional pieces degrade to a note, every error names
# its file, and headless Chromium renders it, sees a figure in each
# section, and records no network request.
set -u
cd "$(dirname "$0")/../.."
SNITCH="${SNITCH:-$PWD/build/rel/snitch}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
. tests/integration/lib.sh

if ! command -v gnuplot >/dev/null; then
    echo "SKIP: gnuplot is not installed (Debian package gnuplot-nox): the report cannot draw"
    summary; exit
fi

# ---- the run directory ---------------------------------------------------
R="$work/run"
mkdir -p "$R/cells"
"$SNITCH" synth -o "$work/cap.pcap" --flows 800 --classes 24 --seed 5 2>/dev/null
"$SNITCH" extract -q -r "$work/cap.pcap" --features stats,seq --label clean -o "$R/flows.csv"
"$SNITCH" extract -q -r "$work/cap.pcap" --features window --label clean -o "$R/packets.csv"
for t in 25 30 35; do
    "$SNITCH" cv "$R/flows.csv" --min-flows $t --trees 20 --folds 5 --seed 1 -q \
        --json "$work/B_$t.json" --confusion "$R/cells/B_$t.confusion.csv" >/dev/null
    "$SNITCH" cv "$R/flows.csv" --min-flows $t --trees 20 --max-depth 3 --folds 5 --seed 1 -q \
        --json "$work/S_$t.json" --confusion "$R/cells/S_$t.confusion.csv" >/dev/null
done
"$SNITCH" train "$R/flows.csv" -o "$R/forest.snm" --trees 20 --min-flows 35 --seed 1 -q
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
models = [{"id": "B", "name": "Random Forest", "spec": "rf"},
          {"id": "S", "name": "Random Forest, depth 3", "spec": "rf"}]
thr, cells = {}, []
for t in (25, 30, 35):
    for m in ("B", "S"):
        res = json.load(open(f"{w}/{m}_{t}.json"))["results"][0]
        thr[t] = {"min_flows": t, "classes": res["classes"], "flows": res["flows"]}
        cell = {"model": m, "min_flows": t, "status": "done",
                "confusion": f"cells/{m}_{t}.confusion.csv"}
        for k in ("accuracy", "macro_precision", "macro_recall", "macro_f1",
                  "fit_seconds", "predict_seconds", "per_class"):
            cell[k] = res[k]
        cells.append(cell)
doc = {"tool": "snitch", "version": "test", "kind": "flows", "captures": ["cap.pcap"],
       "options": "--trees 20 --folds 5 --seed 1",
       "label": "clean", "folds": 5, "seed": 1, "table": "flows.csv",
       "packets_table": "packets.csv", "forest_model": "forest.snm",
       "models": models, "thresholds": [thr[t] for t in sorted(thr)], "cells": cells}
json.dump(doc, open(f"{w}/run/results.json", "w"), indent=2)
PY
[ -s "$R/results.json" ] && ok "fixture-run-directory" || bad "fixture-run-directory"
# a variant without the optional pieces: no packet table, no forest model
R2="$work/run2"
cp -r "$R" "$R2"
python3 - "$R2/results.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
del d["packets_table"], d["forest_model"]
for c in d["cells"]:
    if c["min_flows"] == 35:
        del c["confusion"]
json.dump(d, open(sys.argv[1], "w"))
PY

# ---- the page ------------------------------------------------------------
H="$work/report.html"
expect report 0 "$SNITCH" report "$R" -o "$H"
[ -s "$H" ] && ok "report-written" || bad "report-written"
has report-says-written "$work/err" "report.html written \(7 figures\)"
for s in metrics accuracy perclass confusion features importance tree; do
    python3 - "$H" "$s" <<'PY' && ok "section-$s-has-figure" || bad "section-$s-has-figure"
import re, sys
html = open(sys.argv[1]).read()
m = re.search(r'<section id="sec-%s">(.*?)</section>' % sys.argv[2], html, re.S)
assert m, "no section"
assert re.search(r'<figure id="fig-%s">\s*<div class="plot">\s*<svg' % sys.argv[2], m.group(1)), "no inline svg"
assert "Not shown" not in m.group(1)
PY
done
# self-contained: no script, no reference outside the page, the CSP
python3 - "$H" <<'PY' && ok "no-external-references" || bad "no-external-references"
import re, sys
html = open(sys.argv[1]).read()
assert "<script" not in html.lower()
assert "http://" not in html and "https://" not in html, "a URL in the page"
refs = re.findall(r'''\b(?:src|href|xlink:href)\s*=\s*["']([^"']*)["']''', html)
bad = [r for r in refs if not (r.startswith("#") or r.startswith("data:"))]
assert not bad, bad
assert re.search(r'<link\b', html) is None and "@import" not in html and "url(http" not in html
assert "Content-Security-Policy" in html and "default-src 'none'" in html
PY
# Table 1 layout: every metric table's columns are the thresholds and each
# column lists the models best first with the numbers of results.json
python3 - "$H" "$R/results.json" <<'PY' && ok "metric-tables-match-results" || bad "metric-tables-match-results"
import json, re, sys
html = open(sys.argv[1]).read(); res = json.load(open(sys.argv[2]))
keys = ["accuracy", "macro_precision", "macro_recall", "macro_f1"]
for i, key in enumerate(keys, 1):
    t = re.search(r'<table class="t1" id="table-%d">(.*?)</table>' % i, html, re.S).group(1)
    heads = re.findall(r"<th>([^<]*)</th>", t)
    assert heads == ["%d / %d" % (x["min_flows"], x["classes"]) for x in res["thresholds"]], heads
    rows = [re.findall(r"<td[^>]*>([^<]*)</td>", r) for r in re.findall(r"<tr><td.*?</tr>", t)]
    for col, th in enumerate(res["thresholds"]):
        cells = sorted((c for c in res["cells"] if c["min_flows"] == th["min_flows"]),
                       key=lambda c: -c[key])
        want = ["%.1f%% %s" % (100 * c[key], c["model"]) for c in cells]
        got = [r[col] for r in rows]
        assert got == want, (key, th, got, want)
PY
has per-class-all-classes "$H" "All 7 classes, largest first"
has confusion-best-model "$H" "most accurate model at the largest threshold, B: Random Forest"
has histogram-from-packets "$H" "Packets received \(server to client\) in the 10 ms before each packet"
has importance-top-20 "$H" "The 20 most important of the forest&#39;s 42 features"
has tree-depth-3 "$H" "its first 3 levels"
has run-options "$H" "<th>options</th><td><code>--trees 20 --folds 5 --seed 1</code>"
grep -q '(\.\.\.)' "$H" && ok "tree-marks-cut-subtrees" || bad "tree-marks-cut-subtrees"

# options: fewer classes, a deeper tree; --force; standard output
expect exists-needs-force 1 "$SNITCH" report "$R" -o "$H"
has exists-message "$work/err" "report.html' exists; use --force"
expect force 0 "$SNITCH" report "$R" -o "$H" --force --max-classes 4 --tree-depth 2 --top-features 5
has per-class-capped "$H" "The 4 largest of the 7 classes \(by flows\) are shown"
has confusion-capped "$H" "The 4 largest of the 7 classes are shown"
has importance-top-5 "$H" "The 5 most important"
has tree-depth-2 "$H" "its first 2 levels"
expect stdout 0 "$SNITCH" report "$R" -o -
grep -q '</html>' "$work/out" && ok "stdout-page" || bad "stdout-page"
expect default-output 0 "$SNITCH" report "$R" -q
[ -s "$R/report.html" ] && ok "default-output-in-run-dir" || bad "default-output-in-run-dir"
expect bad-option 2 "$SNITCH" report "$R" --max-classes 0
expect no-run-dir-arg 2 "$SNITCH" report

# ---- missing optional pieces: a note, not a failure -----------------------
expect optional-missing 0 "$SNITCH" report "$R2" -o "$work/r2.html"
has note-forest "$work/err" "note: importances: results.json names no forest_model"
has note-confusion "$work/err" "note: confusion: the best model at min flows 35 \(B: Random Forest\) has no confusion matrix"
has r2-says-incomplete "$work/err" "some sections incomplete"
python3 - "$work/r2.html" <<'PY' && ok "r2-sections-say-what-is-missing" || bad "r2-sections-say-what-is-missing"
import re, sys
html = open(sys.argv[1]).read()
sec = dict(re.findall(r'<section id="sec-(\w+)">(.*?)</section>', html, re.S))
assert set(sec) == {"metrics", "accuracy", "perclass", "confusion", "features", "importance", "tree"}
for s in ("importance", "tree", "confusion"):
    assert 'class="missing">Not shown:' in sec[s] and "<svg" not in sec[s], s
for s in ("metrics", "accuracy", "perclass", "features"):
    assert "<svg" in sec[s], s
# no packet table: the flow statistics instead of packets per 10 ms
assert "Distributions of flow statistics per class" in sec["features"]
assert "pkt_bwd_num" in sec["features"]
PY

# ---- without Graphviz: the tree beside the page, linked --------------------
expect no-dot 0 "$SNITCH" report "$R" -o "$work/nodot.html" --dot /nonexistent/dot
[ -s "$work/nodot.tree0.dot" ] && head -1 "$work/nodot.tree0.dot" | grep -q '^digraph' \
    && ok "no-dot-file-beside" || bad "no-dot-file-beside"
has no-dot-link "$work/nodot.html" '<a href="nodot.tree0.dot">'
has no-dot-note "$work/err" "Graphviz dot is not installed: the tree is in nodot.tree0.dot"
if command -v dot >/dev/null; then
    dot -Tsvg "$work/nodot.tree0.dot" -o "$work/t.svg" && ok "no-dot-file-renders" || bad "no-dot-file-renders"
fi

# ---- errors name the file --------------------------------------------------
expect missing-dir 1 "$SNITCH" report "$work/nope" -o "$work/x.html"
has missing-dir-named "$work/err" "^snitch report: $work/nope: No such file or directory"
ls "$work"/x.html* >/dev/null 2>&1 && bad "missing-dir-leaves-nothing" || ok "missing-dir-leaves-nothing"
mkdir "$work/empty"
expect no-results 1 "$SNITCH" report "$work/empty" -o "$work/x.html"
has no-results-named "$work/err" "$work/empty/results.json: No such file or directory"
B="$work/broken"; cp -r "$R" "$B"
head -c 300 "$R/results.json" >"$B/results.json"
expect broken-json 1 "$SNITCH" report "$B" -o "$work/x.html"
has broken-json-named "$work/err" "^snitch report: $B/results.json:[0-9]+:[0-9]+: "
python3 - "$R/results.json" "$B/results.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["cells"][2]["accuracy"] = "0.9"
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY
expect wrong-type 1 "$SNITCH" report "$B" -o "$work/x.html"
has wrong-type-named "$work/err" "$B/results.json:[0-9]+:[0-9]+: cells\[2\]\.accuracy: expected a number or null, found a string"
cp "$R/results.json" "$B/results.json"; rm "$B/cells/S_30.confusion.csv"
expect missing-referenced 1 "$SNITCH" report "$B" -o "$work/x.html"
has missing-referenced-named "$work/err" "cells\[3\]\.confusion: $B/cells/S_30.confusion.csv: No such file or directory"
cp "$R/cells/S_30.confusion.csv" "$B/cells/"; rm "$B/forest.snm"
expect missing-model 1 "$SNITCH" report "$B" -o "$work/x.html"
has missing-model-named "$work/err" "forest_model: $B/forest.snm: No such file or directory"
printf 'not a model' >"$B/forest.snm"
expect damaged-model 1 "$SNITCH" report "$B" -o "$work/x.html"
has damaged-model-named "$work/err" "^snitch report: $B/forest.snm: "
cp "$R/forest.snm" "$B/"; printf 'true\\predicted,a,b\na,1\n' >"$B/cells/B_35.confusion.csv"
expect damaged-confusion 1 "$SNITCH" report "$B" -o "$work/x.html"
has damaged-confusion-named "$work/err" "$B/cells/B_35.confusion.csv:2: 2 fields, the header has 3"
ls "$work"/x.html* >/dev/null 2>&1 && bad "errors-leave-no-page" || ok "errors-leave-no-page"
expect no-gnuplot 1 "$SNITCH" report "$R" -o "$work/x.html" --gnuplot /nonexistent/gnuplot
has no-gnuplot-named "$work/err" "/nonexistent/gnuplot: not found: .*gnuplot-nox"
mkdir -p "$work/bin"; ln -s "$(command -v dot || echo /nonexistent)" "$work/bin/dot"
PATH="$work/bin" "$SNITCH" report "$R" -o "$work/x.html" >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && grep -q "gnuplot: not found" "$work/err" && ok "no-gnuplot-on-path" || bad "no-gnuplot-on-path"

# ---- headless Chromium ------------------------------------------------------
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    echo "SKIP: chromium is not installed: the rendering checks did not run"
    summary; exit
fi
"$SNITCH" report "$R" -o "$H" --force -q 2>/dev/null
# One run dumps the DOM and logs every network request (NetLog).  Names
# are never resolved (MAP * ~NOTFOUND), so even a stray request would not
# leave the machine.
chrome() {
    "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --disable-component-update --disable-dev-shm-usage --user-data-dir="$work/chrome" \
        --host-resolver-rules='MAP * ~NOTFOUND' "$@" 2>>"$work/chrome.log"
}
chrome --log-net-log="$work/net.json" --dump-dom "file://$H" >"$work/dom.html"
python3 - "$work/dom.html" <<'PY' && ok "chromium-every-section-has-its-figure" || bad "chromium-every-section-has-its-figure"
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.stack = []; s.found = {}
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            s.stack.append(a.get("id")); s.found.setdefault(a.get("id"), set())
        elif tag in ("svg", "img") and s.stack:
            s.found[s.stack[-1]].add(tag)
        if tag == "figure" and s.stack:
            s.found[s.stack[-1]].add("figure#" + a.get("id", ""))
    def handle_endtag(s, tag):
        if tag == "section" and s.stack:
            s.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read())
want = ["metrics", "accuracy", "perclass", "confusion", "features", "importance", "tree"]
assert sorted(p.found) == sorted("sec-" + w for w in want), p.found
for w in want:
    f = p.found["sec-" + w]
    assert "figure#fig-" + w in f and ("svg" in f or "img" in f), (w, f)
PY
# The check must be able to fail: a page with one outside image is caught.
printf '<!DOCTYPE html><html><body><img src="http://snitch-canary.invalid/x.png"></body></html>' >"$work/canary.html"
chrome --log-net-log="$work/net-canary.json" --dump-dom "file://$work/canary.html" >/dev/null
cat >"$work/netcheck.py" <<'PY'
import json, sys
# Requests made for a file:// page carry initiator "null" and a file://
# network isolation key; Chromium's own background requests ("not an
# origin") are left aside.
d = json.load(open(sys.argv[1]))
types = {v: k for k, v in d["constants"]["logEventTypes"].items()}
page = set()
for ev in d["events"]:
    p = ev.get("params")
    if types.get(ev["type"]) != "URL_REQUEST_START_JOB" or not isinstance(p, dict):
        continue
    if p.get("initiator") == "null" or "file://" in p.get("network_isolation_key", ""):
        page.add(p.get("url"))
print("\n".join(sorted(page)))
PY
if [ -s "$work/net.json" ] && [ -s "$work/net-canary.json" ]; then
    python3 "$work/netcheck.py" "$work/net-canary.json" | grep -q 'snitch-canary.invalid' \
        && ok "netlog-detects-a-fetch" || bad "netlog-detects-a-fetch"
    reqs=$(python3 "$work/netcheck.py" "$work/net.json")
    [ $? -eq 0 ] && [ -z "$reqs" ] && ok "chromium-no-network-request" || bad "chromium-no-network-request ($reqs)"
else
    bad "netlog-written"
fi
chrome --hide-scrollbars --screenshot="$work/shot.png" --window-size=1400,4000 "file://$H" >/dev/null
python3 - "$work/shot.png" <<'PY' && ok "chromium-screenshot" || bad "chromium-screenshot"
import struct, sys, os
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (1400, 4000), (w, h)
# a blank page compresses to a few kilobytes; figures and text do not
assert os.path.getsize(sys.argv[1]) > 60000, os.path.getsize(sys.argv[1])
PY

summary
