#!/bin/bash
# tests/bench/table.sh [--markdown]: the one table of make bench, from the
# rows the scripts appended to $BENCH_RESULTS (default .bench/results.tsv):
# aligned text for the terminal, or with --markdown a table to paste into
# README.md; each row's note below it, by number. Writes both forms to
# .bench/table.txt and .bench/table.md and prints the one asked for.
set -euo pipefail
cd "$(dirname "$0")/../.."
results=${BENCH_RESULTS:-.bench/results.tsv}
form=text
case ${1:-} in
--markdown) form=markdown ;;
"") ;;
*) echo "usage: $0 [--markdown]" >&2; exit 2 ;;
esac
[ -s "$results" ] || { echo "bench: no results in $results (run tests/bench/run.sh)" >&2; exit 1; }
mkdir -p .bench
/usr/bin/python3 - "$results" "$form" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)" <<'PY'
import datetime, sys

path, form, rev, cpus = sys.argv[1:5]
keys = ("id label value unit anchor anchor_value ratio target met rss rounds note cpu").split()
rows = [dict(zip(keys, line.rstrip("\n").split("\t"))) for line in open(path, encoding="utf-8") if line.strip()]
for r in rows:
    r.setdefault("cpu", "-")  # rows of a run before the CPU column
# In the suite's order, whichever script ran last (a row id is its script's
# name, or starts with it and "-"; the longest such name wins).
suite = ["read", "views", "migrate", "vcd-glance", "vsphere-glance", "cache", "fuse", "list"]
def script(r):
    names = [s for s in suite if r["id"] == s or r["id"].startswith(s + "-")]
    return suite.index(max(names, key=len)) if names else len(suite)
rows.sort(key=script)

def num(v, unit):
    return f"{float(v):.2f} s" if unit == "s" else f"{float(v):.0f} {unit}"

rounds = sorted({r["rounds"] for r in rows})
head = ["#", "measurement", "cloudfs", "anchor", "anchor's", "ratio", "target", "met", "RSS MiB", "CPU cloudfs / anchor"]
if len(rounds) > 1:
    head.append("runs")
cells = []
for i, r in enumerate(rows, 1):
    c = [str(i), r["label"], num(r["value"], r["unit"]), r["anchor"], num(r["anchor_value"], r["unit"]),
         f"{float(r['ratio']):.2f}×", r["target"], r["met"], r["rss"] if r["rss"] == "-" else f"{float(r['rss']):.1f}",
         r["cpu"]]
    if len(rounds) > 1:
        c.append(r["rounds"])
    cells.append(c)
right = {0, 2, 4, 5, 8, 10}
title = (f"make bench, {datetime.datetime.now():%Y-%m-%d %H:%M}, {rev}, {cpus} cores: "
         + (f"medians of {rounds[0]} round(s)" if len(rounds) == 1 else "medians") +
         "; ratio = how many times better than the anchor (its time / cloudfs's)")

def text():
    w = [max(len(x[k]) for x in [head] + cells) for k in range(len(head))]
    line = lambda c: "  ".join(v.rjust(w[k]) if k in right else v.ljust(w[k]) for k, v in enumerate(c)).rstrip()
    out = [title, "", line(head), line(["-" * n for n in w])]
    out += [line(c) for c in cells]
    out += ["", "notes:"] + [f"{i:>{w[0]}}  {r['note']}" for i, r in enumerate(rows, 1) if r["note"]]
    return "\n".join(out) + "\n"

def markdown():
    esc = lambda v: v.replace("|", "\\|")
    out = [title, "", "| " + " | ".join(head) + " |",
           "| " + " | ".join("---:" if k in right else "---" for k in range(len(head))) + " |"]
    out += ["| " + " | ".join(esc(v) for v in c) + " |" for c in cells]
    out += [""] + [f"- {i}: {esc(r['note'])}" for i, r in enumerate(rows, 1) if r["note"]]
    return "\n".join(out) + "\n"

forms = {"text": text(), "markdown": markdown()}
open(".bench/table.txt", "w", encoding="utf-8").write(forms["text"])
open(".bench/table.md", "w", encoding="utf-8").write(forms["markdown"])
sys.stdout.write(forms[form])
PY
