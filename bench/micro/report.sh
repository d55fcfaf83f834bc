#!/bin/sh
# bench/micro/report.sh -- run build/micro_bench and write a Markdown report
# (one table per data set) to bench/results/<date>-micro.md (or $1).
#
#   bench/micro/report.sh [OUT.md]
#
# Environment: MICRO_REPS (repetitions, default 3), LI_MICRO_BIG=1 (adds the
# 10M-key data sets),
# LI_MICRO_MIN_TIME (seconds per benchmark, default 0.1), MICRO_FILTER (a
# --benchmark_filter regex, e.g. 'debian').
# Needs python3 (standard library only) to format the JSON output.
set -eu
cd "$(dirname "$0")/../.."

OUT=${1:-bench/results/$(date +%F)-micro.md}
REPS=${MICRO_REPS:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

make -s build/micro_bench

# sample the load average every 2 s while the benchmark runs (noisy machine)
cat /proc/loadavg > "$TMP/load_before"
( while :; do cut -d' ' -f1 /proc/loadavg; sleep 2; done ) > "$TMP/load_samples" &
SAMPLER=$!
START=$(date +%s)
build/micro_bench --benchmark_format=console \
	--benchmark_repetitions="$REPS" --benchmark_display_aggregates_only=true \
	--benchmark_out="$TMP/out.json" --benchmark_out_format=json \
	${MICRO_FILTER:+--benchmark_filter="$MICRO_FILTER"}
END=$(date +%s)
kill "$SAMPLER"
cat /proc/loadavg > "$TMP/load_after"

{
	echo "model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
	echo "cpus=$(nproc)"
	echo "lscpu_cpus=$(lscpu | sed -n 's/^CPU(s): *//p' | head -1)"
	echo "compiler=$(${CXX:-g++} --version | head -1)"
	echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench/micro || echo ' (+ uncommitted changes in src/ or bench/micro/)')"
	echo "load_before=$(cut -d' ' -f1-3 "$TMP/load_before")"
	echo "load_after=$(cut -d' ' -f1-3 "$TMP/load_after")"
	echo "wall=$((END - START))"
	echo "reps=$REPS"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "benchlib=$(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null || echo '?')"
} > "$TMP/meta"

python3 - "$TMP/out.json" "$TMP/meta" "$TMP/load_samples" > "$OUT" <<'EOF'
import json, re, sys, statistics
from collections import OrderedDict

out = json.load(open(sys.argv[1]))
meta = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[2]) if "=" in l)
samples = [float(x) for x in open(sys.argv[3]).read().split()]

# name: kind/ds/size[/eps:E]/min_time:...; one entry per repetition
# (run_type "iteration"); aggregates are recomputed here
runs = OrderedDict()          # (kind, ds, size, eps) -> [benchmark dicts]
for b in out["benchmarks"]:
    if b.get("run_type") != "iteration" or b.get("error_occurred"):
        continue
    parts = b["run_name"].split("/")
    eps = None
    for q in parts[3:]:
        if q.startswith("eps:"):
            eps = int(q[4:])
    unit = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    b["cpu_ns"] = b["cpu_time"] * unit
    runs.setdefault((parts[0], parts[1], parts[2], eps), []).append(b)

rows = OrderedDict()          # (ds, size) -> {"std": ns, eps -> {...}}
nfallback = 0
for (kind, ds, size, eps), bs in runs.items():
    d = rows.setdefault((ds, size), OrderedDict())
    best = min(bs, key=lambda b: b["cpu_ns"])     # best (least disturbed) repetition
    if kind == "lookup_std":
        d["std"] = best["cpu_ns"]
        continue
    e = d.setdefault(eps, {})
    if kind == "fit":
        e["fit_kps"] = best["items_per_second"]
        e["segments"] = best["segments"]
        e["max_error"] = best["max_error"]
        d["distinct"] = best["distinct"]
    elif kind == "lookup_learned":
        e["learned"] = best["cpu_ns"]
        e["fallbacks"] = max(b.get("fallbacks", 0) for b in bs)
        nfallback += e["fallbacks"]
    elif kind == "lookup_miss":
        e["miss"] = best["cpu_ns"]
        e["miss_fallbacks"] = max(b.get("fallbacks", 0) for b in bs)
        nfallback += e["miss_fallbacks"]
    elif kind == "find_segment":
        e["findseg"] = best["cpu_ns"]
    elif kind == "paired":
        e["p_learned"] = statistics.median(b["learned_ns"] for b in bs)
        e["p_std"] = statistics.median(b["std_ns"] for b in bs)
        e["p_ratio"] = statistics.median(b["ratio"] for b in bs)

ctx = out.get("context", {})
p = print
p("# C++ core micro-benchmark (%s)" % meta["date"])
p()
p("`bench/micro/report.sh` (build/micro_bench, Google Benchmark %s from Debian), "
  "in memory, no PostgreSQL. **Noisy numbers:** the machine was shared with other "
  "benchmark runs (see the load average below, on %s CPUs); each benchmark ran "
  "%s times (repetitions) for ~0.1 s. Wall time was up to ~2x the CPU time "
  "(the process was descheduled), and separate benchmarks of the same code varied "
  "by up to ~2x between repetitions and runs, so compare learned vs std::lower_bound "
  "with the **paired** columns (both interleaved in the same loop, see below), not "
  "the separate ones."
  % (meta["benchlib"], meta["cpus"], meta["reps"]))
p()
p("| | |")
p("|---|---|")
p("| machine | %s, %s CPUs (lscpu), %s MHz (Google Benchmark) |" % (meta["model"], meta["lscpu_cpus"], ctx.get("mhz_per_cpu", "?")))
caches = ", ".join("L%d%s %d KiB" % (c["level"], {"Data": "d", "Instruction": "i", "Unified": ""}.get(c["type"], ""), c["size"] // 1024)
                   for c in ctx.get("caches", []))
if caches:
    p("| caches | %s |" % caches)
p("| compiler | %s, `-O2 -std=c++17` |" % meta["compiler"])
p("| git commit | %s |" % meta["commit"])
if samples:
    p("| load average (1 min) | before %s; during: min %.2f, median %.2f, max %.2f (%d samples every 2 s); after %s |"
      % (meta["load_before"].split()[0], min(samples), statistics.median(samples), max(samples), len(samples), meta["load_after"].split()[0]))
p("| run time | %s s (%s repetitions) |" % (meta["wall"], meta["reps"]))
p()
p("Columns: **segments** and **max_error** (`li_max_error`, max |prediction - "
  "position| over the distinct keys) of `li_fit_sorted`; **fit keys/s** = n / CPU "
  "time of one `li_fit_sorted` over the whole sorted array. Lookups are of random "
  "existing keys (a pre-generated array of 2^20 probes), independent of each other "
  "(throughput, not latency), all over the same sorted array of n uint64 keys in "
  "memory. **learned ns** = `li_predict` + `li_lower_bound_window` with window "
  "[floor(pred-eps), ceil(pred+eps)+1); **miss ns** = the same for random absent "
  "keys (half of them right after an existing key, half anywhere in the gap after "
  "it); **std ns** = `std::lower_bound` over the whole "
  "array (one benchmark per data set, so the same number on each epsilon row); "
  "**ratio** = std ns / learned ns (> 1: the learned lookup is faster); "
  "**find_segment ns** = `li_find_segment` alone (the binary search over the "
  "segments that `li_predict` does first). These separate benchmarks show the "
  "**best (least CPU time) of the repetitions**. **paired ...**: benchmark `paired`, "
  "which alternates blocks of 256 learned and 256 std::lower_bound lookups "
  "(different probes) in one loop and times each block (wall clock); median over "
  "the blocks, then median over the repetitions; paired ratio = paired std / "
  "paired learned. %s"
  % ("No learned lookup needed the full-array fallback (counter `fallbacks` = 0 everywhere)."
     if not nfallback else "Some learned lookups fell back to a full binary search (see the learned ns column)."))
p()
def fmt_rate(x):
    return "%.1f M" % (x / 1e6)
for (ds, size), d in rows.items():
    p("## %s, %s keys (%s distinct)" % (ds, size, "{:,}".format(int(d.get("distinct", 0)))))
    p()
    p("| epsilon | segments | max_error | fit keys/s | learned ns | miss ns | std ns | ratio | find_segment ns | paired learned ns | paired std ns | paired ratio |")
    p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    std = d.get("std")
    for eps, e in d.items():
        if not isinstance(eps, int):
            continue
        learned = e.get("learned")
        fb = e.get("fallbacks", 0)
        num = lambda k, f: (f % e[k]) if k in e else "-"
        mfb = e.get("miss_fallbacks", 0)
        p("| %d | %s | %s | %s | %s%s | %s%s | %s | %s | %s | %s | %s | %s |" % (
            eps, "{:,}".format(int(e["segments"])) if "segments" in e else "-",
            num("max_error", "%.1f"),
            fmt_rate(e["fit_kps"]) if "fit_kps" in e else "-",
            "%.0f" % learned if learned else "-",
            " (%d fallbacks)" % fb if fb else "",
            num("miss", "%.0f"), " (%d fallbacks)" % mfb if mfb else "",
            "%.0f" % std if std else "-",
            "%.2f" % (std / learned) if std and learned else "-",
            num("findseg", "%.0f"), num("p_learned", "%.0f"), num("p_std", "%.0f"),
            num("p_ratio", "%.2f")))
    p()
EOF
echo "wrote $OUT (${REPS} repetitions, $((END - START)) s)"
