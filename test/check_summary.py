#!/usr/bin/env python3
"""Check bench/summary against the Markdown report bench/run wrote from the same JSON.

    test/check_summary.py bench/results/quick-latest.json bench/results/quick-latest.md

For the index-size and index-only point-lookup tables, the learned/btree ratio
bench/run printed for each data set must be the one bench/summary prints, every
data set of the JSON must be a column, and --plot must write a PNG (when
gnuplot is installed; the test command does not install it).  Exit 1 on any
difference.  Run by scripts/test.sh after `bench/run --quick`.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SUMMARY = os.path.join(HERE, "..", "bench", "summary")

# report section heading (start) -> bench/summary row label
SECTIONS = {
    "### Index size": "index size",
    "### Point lookups, index-only (`point_ios`)": "point lookups, index-only",
}


def md_table_after(lines, start):
    """Rows (lists of cells) of the first Markdown table after the heading line `start`."""
    i = next(k for k, l in enumerate(lines) if l.startswith(start))
    while not lines[i].startswith("|"):
        i += 1
    rows = []
    while i < len(lines) and lines[i].startswith("|"):
        rows.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
        i += 1
    return rows[0], [r for r in rows[2:]]


def main():
    js, md = sys.argv[1], sys.argv[2]
    png = os.path.join(tempfile.mkdtemp(), "summary.png") if shutil.which("gnuplot") else None
    out = subprocess.run([SUMMARY] + (["--plot", png] if png else []) + [js], check=True, text=True,
                         stdout=subprocess.PIPE).stdout.splitlines()
    errors = []
    if png and not (os.path.exists(png) and os.path.getsize(png) > 0):
        errors.append("no plot written")
    header = [c.strip() for c in out[0].strip().strip("|").split("|")][1:]
    srows = {}
    for l in out[2:]:
        if not l.startswith("|"):
            break
        cells = [c.strip() for c in l.strip().strip("|").split("|")]
        srows[cells[0]] = dict(zip(header, cells[1:]))
    lines = open(md).read().splitlines()
    for start, label in SECTIONS.items():
        mh, mrows = md_table_after(lines, start)
        col = mh.index("learned/btree")
        if label not in srows:
            errors.append("summary has no row %r" % label)
            continue
        for r in mrows:
            ds = r[0]
            if ds not in header:
                errors.append("data set %s of the report is not a summary column" % ds)
            elif srows[label][ds] != r[col]:
                errors.append("%s, %s: report %s, summary %s" % (label, ds, r[col], srows[label][ds]))
        if len(mrows) != len(header):
            errors.append("%s: %d report rows, %d summary columns" % (label, len(mrows), len(header)))
    for e in errors:
        print("check_summary: " + e, file=sys.stderr)
    print("check_summary: %s (%d data sets)" % ("FAIL" if errors else "ok", len(header)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
