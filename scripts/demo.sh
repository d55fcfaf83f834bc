#!/usr/bin/env bash
#
# scripts/demo.sh -- btree vs learned index on 1M keys, side by side.
#
#   scripts/demo.sh            # as root, or as a user with sudo
#
# Installs the packages (as root, if missing), builds and installs the
# extension, starts a throwaway PostgreSQL cluster as the 'postgres' user
# (or as yourself when not root), runs scripts/demo.sql there and stops and
# removes the cluster. For two data sets -- uniform random bigint keys and
# keys shaped like data/debian-installed-size.txt -- it shows index sizes,
# CREATE INDEX times, EXPLAIN (ANALYZE, BUFFERS) of a point lookup, the time
# of a nested-loop join doing 100k index probes, and learned_index_stats().
#
# Environment:
#   LI_DEMO_KEYS=1000000   rows per table
#   LI_DEMO_PROBES=100000  probes in the nested-loop lookup
#   LI_DEMO_REPS=3         timed runs per measurement (the best is kept)
#   LI_DEMO_AM=learned     access method compared with btree
#   LI_DEMO_PORT=54330     port (unix socket only, in the throwaway directory)
#   LI_DEMO_CONF           extra postgresql.conf lines
#   LI_SKIP_BUILD=1        use the extension already installed
#   KEEP_TMP=1             keep the cluster directory (stopped)
#   PG_CONFIG, LI_PG_USER, LI_JOBS, LI_TMPDIR: see scripts/common.sh

set -uo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${LI_DEMO_KEYS:=1000000}"
: "${LI_DEMO_PROBES:=100000}"
: "${LI_DEMO_REPS:=3}"
: "${LI_DEMO_AM:=learned}"
: "${LI_DEMO_PORT:=54330}"
: "${LI_DEMO_CONF:=}"

case "${1:-}" in
	-h | --help)
		sed -n '/^#$/,/^$/s/^# \{0,1\}//p' "$0"
		exit 0
		;;
esac

DATAFILE="$LI_REPO/data/debian-installed-size.txt"

die() {
	li_err "$*"
	exit 1
}

trap li_cleanup EXIT
trap li_on_signal INT TERM HUP

li_install_deps || die "required packages are missing"
li_check_pg || die "PostgreSQL $LI_PG_MAJOR is not usable"
li_setup_user || die "could not set up the user to run PostgreSQL as"
[ -r "$DATAFILE" ] || die "$DATAFILE is missing"

if [ "${LI_SKIP_BUILD:-0}" = 1 ]; then
	li_log "LI_SKIP_BUILD=1: using the installed extension"
else
	li_build ||
		die "the extension does not build (see the compiler output above); nothing to demo"
	li_make_install || die "make install failed (see above)"
fi

li_make_tmp li-demo || die "mktemp failed"
DEMO="$LI_TMP/demo"
li_as_user mkdir -p "$DEMO" || die "mkdir $DEMO failed"
# the server reads the sample (COPY FROM), so give $LI_USER its own copy
for f in "$LI_REPO/scripts/demo.sql" "$LI_REPO/scripts/demo_compare.sql" \
	"$DATAFILE"; do
	cp "$f" "$DEMO/" || die "could not copy $f to $DEMO"
	if li_is_root; then
		chown "$LI_USER:" "$DEMO/${f##*/}" || die "chown failed"
	fi
done

CONF="shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 4GB
checkpoint_timeout = 30min
jit = off
$LI_DEMO_CONF"
li_cluster_start "$LI_TMP/cluster" "$LI_DEMO_PORT" "$CONF" ||
	die "could not start the demo cluster"

li_log "running scripts/demo.sql ($LI_DEMO_KEYS keys, $LI_DEMO_PROBES probes, btree vs $LI_DEMO_AM)"
T0=$SECONDS
rc=0
li_run 3600 "${LI_ASU[@]}" -C "$DEMO" "$LI_PGBIN/psql" -X \
	-h "$LI_PGHOST" -p "$LI_PGPORT" -d postgres \
	-v ON_ERROR_STOP=1 \
	-v nkeys="$LI_DEMO_KEYS" -v nprobes="$LI_DEMO_PROBES" \
	-v reps="$LI_DEMO_REPS" -v am="$LI_DEMO_AM" \
	-v datafile="$DEMO/${DATAFILE##*/}" \
	-f demo.sql || rc=$?

if [ $rc -ne 0 ]; then
	echo "--- server log (last 30 lines) ---" >&2
	tail -30 "$LI_TMP/cluster/server.log" >&2
	li_cluster_stop "$LI_TMP/cluster"
	die "the demo SQL failed (psql exit status $rc; see the error above)"
fi
li_cluster_stop "$LI_TMP/cluster"
li_log "demo finished in $((SECONDS - T0)) s; cluster stopped"
