#!/bin/sh
# bench/micro/plot_model.sh -- plot the model that li_fit_sorted fits to one
# data set of bench/micro/micro_bench.cpp: position vs key, segment starts
# marked.  Defaults: debian distribution, 1M keys, epsilon 32.
#
#   bench/micro/plot_model.sh [OUT.png]
#
# Environment: DATASET (default debian), N (default 1000000), EPS (default 32).
# Writes the data files to build/micro_model/ (not committed) and the plot to
# bench/results/<date>-model-<dataset>.png (or $1).  Needs gnuplot
# (Debian: apt-get install gnuplot-nox).
set -eu
cd "$(dirname "$0")/../.."

DATASET=${DATASET:-debian}
N=${N:-1000000}
EPS=${EPS:-32}
OUT=${1:-bench/results/$(date +%F)-model-$DATASET.png}
DIR=build/micro_model

make -s build/micro_bench
mkdir -p "$DIR"
build/micro_bench --dump-model="$DIR" --dump-dataset="$DATASET" \
	--dump-n="$N" --dump-eps="$EPS" --dump-points=5000

PTS=$DIR/model-$DATASET.dat
SEGS=$DIR/model-$DATASET-segs.dat
ZOOM=$DIR/model-$DATASET-zoom.dat
# first line of the points file: "# <ds> n=.. eps=.. segments=.. max_error=.. distinct=.."
INFO=$(head -1 "$PTS" | sed 's/^# //; s/_/ /g')
ZLO=$(awk '!/^#/ && NF { print $1; exit }' "$ZOOM")
ZHI=$(awk '!/^#/ && NF { k = $1 } END { print k }' "$ZOOM")
PLO=$(awk '!/^#/ && NF { print $2; exit }' "$ZOOM")
PHI=$(awk '!/^#/ && NF { p = $2 } END { print p }' "$ZOOM")

gnuplot <<GP
set terminal pngcairo size 1400,1100 font "DejaVu Sans,11"
set output "$OUT"
set multiplot layout 2,1 title "li\\\\_fit\\\\_sorted model: $INFO"

# --- whole data set (log key axis), keys downsampled to ~5000 points -----
set title "whole key range (keys downsampled to every n/5000-th position; log key axis)"
set logscale x
set format x "10^{%L}"
set xlabel "key (uint64 code)"
set ylabel "position"
set key top left
set grid
plot "$SEGS" using 1:2 with points pt 6 ps 0.6 lc rgb "#1f77b4" title "segment starts (first\\\\_key, first\\\\_pos)", \\
     "$PTS" using 1:2 with points pt 7 ps 0.3 lc rgb "#999999" title "keys (downsampled)", \\
     "$PTS" using 1:3 with lines lw 1 lc rgb "#d62728" title "model prediction", \\
     "$SEGS" using 1:(0):(0):($N/25) with vectors nohead lw 0.5 lc rgb "#1f77b4" title "segment starts (rug: one tick each)"

# --- zoom: every key around one segment boundary, linear axes -------------
unset logscale x
set format x "%.4g"
set title sprintf("zoom: every key of positions $PLO..$PHI (linear axes); dashed = prediction +/- epsilon, vertical lines = segment starts")
set xrange [$ZLO:$ZHI]
set yrange [$PLO - $EPS - 10:$PHI + $EPS + 10]
plot "$ZOOM" using 1:2 with points pt 7 ps 0.4 lc rgb "#555555" title "keys", \
     "$ZOOM" using 1:3 with lines lw 2 lc rgb "#d62728" title "model prediction (per segment)", \
     "$ZOOM" using 1:(\$3 + $EPS) with lines dt 2 lc rgb "#d62728" notitle, \
     "$ZOOM" using 1:(\$3 - $EPS) with lines dt 2 lc rgb "#d62728" notitle, \
     "$SEGS" using 1:($PLO - $EPS - 10):(0):($PHI - $PLO + 2 * $EPS + 20) with vectors nohead lw 1.5 lc rgb "#1f77b4" title "segment start"
unset multiplot
GP
echo "wrote $OUT"
