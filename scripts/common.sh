# shellcheck shell=bash
# shellcheck disable=SC2034  # variables are used by the scripts sourcing this
#
# scripts/common.sh -- helpers shared by scripts/test.sh and scripts/demo.sh.
#
# Source it; it defines functions and variables and runs nothing else.
#
#   li_install_deps      install the Debian 12 packages we need (root: apt-get;
#                        otherwise print what is missing and fail)
#   li_build             make LI_ASSERT=1 (warnings are errors)
#   li_make_install      make install (directly as root, else through sudo)
#   li_setup_user        choose the unprivileged user PostgreSQL runs as
#   li_as_user CMD...    run CMD as that user ($LI_ASU: the same as an argv
#                        prefix ending in env, for li_run)
#   li_run SECS CMD...   run CMD with a time limit, interruptible
#   li_copy_tree DEST    copy the working tree for the tests, owned by the user
#   li_make_tmp PREFIX   throwaway directory owned by that user -> $LI_TMP
#   li_cluster_start DIR PORT [EXTRA_CONF]
#                        initdb DIR/data, start it listening only on a unix
#                        socket in DIR/sock
#   li_cluster_stop DIR  stop it (no-op if not running)
#   li_cleanup           stop every cluster under $LI_TMP and remove $LI_TMP
#                        unless KEEP_TMP=1 (call from an EXIT trap)
#
# Environment knobs (all optional):
#   PG_CONFIG   pg_config of the PostgreSQL to build against
#               (default /usr/lib/postgresql/15/bin/pg_config)
#   LI_PG_USER  user to run PostgreSQL as when we are root (default postgres)
#   KEEP_TMP=1  keep the throwaway directory (and print where it is)
#   LI_JOBS     parallel make jobs (default: nproc)
#   LI_TMPDIR   where throwaway directories go (default /tmp; keep it short,
#               unix socket paths are limited to ~100 bytes)

LI_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LI_PG_MAJOR=15
: "${PG_CONFIG:=/usr/lib/postgresql/$LI_PG_MAJOR/bin/pg_config}"
: "${LI_JOBS:=$(nproc 2>/dev/null || echo 2)}"

# Debian 12 packages needed to build, test, fuzz and demo.
LI_PACKAGES=(
	build-essential
	g++
	make
	perl
	clang-14
	libclang-rt-14-dev
	postgresql-15
	postgresql-client-15
	postgresql-server-dev-15
	libgtest-dev
	libbenchmark-dev
	libipc-run-perl
	python3
)

if [ -t 1 ]; then
	LI_BOLD=$'\033[1m' LI_RED=$'\033[31m' LI_GREEN=$'\033[32m'
	LI_YELLOW=$'\033[33m' LI_RESET=$'\033[0m'
else
	LI_BOLD='' LI_RED='' LI_GREEN='' LI_YELLOW='' LI_RESET=''
fi

li_log() { printf '%s==> %s%s\n' "$LI_BOLD" "$*" "$LI_RESET"; }
li_warn() { printf '%sWARNING: %s%s\n' "$LI_YELLOW" "$*" "$LI_RESET" >&2; }
li_err() { printf '%sERROR: %s%s\n' "$LI_RED" "$*" "$LI_RESET" >&2; }

li_is_root() { [ "$(id -u)" -eq 0 ]; }

# Packages from LI_PACKAGES that are not installed, one per line.
li_missing_packages() {
	local p
	for p in "${LI_PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed'; then
			echo "$p"
		fi
	done
}

li_install_deps() {
	local missing
	if ! command -v dpkg-query >/dev/null 2>&1; then
		li_err "dpkg-query not found: these scripts expect Debian 12"
		return 1
	fi
	missing=$(li_missing_packages | tr '\n' ' ')
	missing=${missing% }
	if [ -z "$missing" ]; then
		li_log "all required packages are installed"
		return 0
	fi
	local asroot=()
	if ! li_is_root; then
		if ! command -v sudo >/dev/null 2>&1; then
			li_err "missing packages: $missing"
			echo "Install them as root with:" >&2
			echo "  apt-get install -y $missing" >&2
			return 1
		fi
		asroot=(sudo DEBIAN_FRONTEND=noninteractive)
	fi
	li_log "installing packages: $missing"
	export DEBIAN_FRONTEND=noninteractive
	"${asroot[@]}" apt-get update -q || return 1
	"${asroot[@]}" apt-get install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef \
		-o Dpkg::Options::=--force-confold \
		"${LI_PACKAGES[@]}" || return 1
	missing=$(li_missing_packages | tr '\n' ' ')
	if [ -n "$missing" ]; then
		li_err "still missing after apt-get install: $missing"
		return 1
	fi
}

li_check_pg() {
	if [ ! -x "$PG_CONFIG" ]; then
		li_err "$PG_CONFIG not found (is postgresql-client-$LI_PG_MAJOR installed?)"
		return 1
	fi
	LI_PGBIN=$("$PG_CONFIG" --bindir)
	LI_PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)
	LI_PGXS_DIR="$LI_PKGLIBDIR/pgxs"
	LI_PG_REGRESS="$LI_PGXS_DIR/src/test/regress/pg_regress"
	LI_PG_PERL="$LI_PGXS_DIR/src/test/perl"
	if [ ! -x "$LI_PGBIN/initdb" ]; then
		li_err "$LI_PGBIN/initdb not found (is postgresql-$LI_PG_MAJOR installed?)"
		return 1
	fi
}

# Under 'sudo', build as the invoking user when that user owns the tree, so
# that no root-owned build products are left in it; only 'make install'
# runs as root. LI_BUILD_ASU is the argv prefix for that.
LI_BUILD_ASU=()
if li_is_root && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ] &&
	[ "$(stat -c %U "$LI_REPO" 2>/dev/null)" = "$SUDO_USER" ]; then
	LI_BUILD_ASU=(runuser -u "$SUDO_USER" --)
fi

li_make() {
	"${LI_BUILD_ASU[@]}" make -C "$LI_REPO" PG_CONFIG="$PG_CONFIG" "$@"
}

# -B: make does not track flags, so objects left by a plain 'make' would
# otherwise be reused without Asserts. (Only the extension is rebuilt; the
# unit-test binaries are separate targets.)
li_build() {
	li_log "building: make -B LI_ASSERT=1 -j$LI_JOBS${LI_BUILD_ASU:+ (as $SUDO_USER)}"
	li_make -B LI_ASSERT=1 -j"$LI_JOBS"
}

li_make_install() {
	if li_is_root; then
		li_log "installing: make install"
		make -C "$LI_REPO" PG_CONFIG="$PG_CONFIG" LI_ASSERT=1 install
	elif command -v sudo >/dev/null 2>&1; then
		li_log "installing: sudo make install"
		sudo make -C "$LI_REPO" PG_CONFIG="$PG_CONFIG" LI_ASSERT=1 install
	else
		li_err "make install needs root and sudo is not available"
		return 1
	fi
}

# PostgreSQL refuses to run as root: as root we run it as $LI_PG_USER
# (the 'postgres' system user that postgresql-15 creates; created here if
# absent), otherwise as ourselves.
li_setup_user() {
	if li_is_root; then
		LI_USER=${LI_PG_USER:-postgres}
		if ! id -u "$LI_USER" >/dev/null 2>&1; then
			li_log "creating system user $LI_USER"
			useradd --system --user-group --create-home --home-dir /var/lib/postgresql \
				--shell /bin/bash "$LI_USER" || return 1
		fi
	else
		LI_USER=$(id -un)
	fi
	li_user_argv
}

# li_as_user CMD...: run CMD as $LI_USER with the current environment
# (runuser resets only HOME, SHELL, USER and LOGNAME), in the current
# directory.
li_as_user() {
	if li_is_root; then
		runuser -u "$LI_USER" -- "$@"
	else
		"$@"
	fi
}

# li_user_argv: sets LI_ASU to the argv prefix that runs a command as
# $LI_USER through env(1), so that VAR=value and -C DIR may follow.
li_user_argv() {
	if li_is_root; then
		LI_ASU=(runuser -u "$LI_USER" -- env)
	else
		LI_ASU=(env)
	fi
}

# li_run SECONDS CMD...: run CMD (an executable, not a function) with a time
# limit. It runs in the background and we wait for it, so that a TERM or INT
# sent to the script is handled at once (li_on_signal) instead of after CMD.
# timeout(1) puts CMD in its own process group and forwards signals to all
# of it.
LI_CHILD=""
li_run() {
	local secs=$1 rc
	shift
	timeout -k 30 "$secs" "$@" &
	LI_CHILD=$!
	wait "$LI_CHILD"
	rc=$?
	LI_CHILD=""
	if [ $rc -eq 124 ]; then
		li_err "timed out after ${secs}s: $*"
	fi
	return $rc
}

# trap li_on_signal INT TERM HUP: stop the running child, then exit (the
# EXIT trap does the cleanup).
li_on_signal() {
	trap '' INT TERM HUP
	echo >&2
	li_err "interrupted"
	if [ -n "$LI_CHILD" ]; then
		kill -TERM "$LI_CHILD" 2>/dev/null
		wait "$LI_CHILD" 2>/dev/null
	fi
	exit 130
}

# li_make_tmp PREFIX: create $LI_TMP owned by $LI_USER.
li_make_tmp() {
	# Not $TMPDIR: it may be private to the invoking user, and socket paths
	# must stay short.
	LI_TMP=$(mktemp -d "${LI_TMPDIR:-/tmp}/$1.XXXXXX") || return 1
	chmod 0755 "$LI_TMP"
	if li_is_root; then
		chown "$LI_USER:" "$LI_TMP" || return 1
	fi
	li_as_user mkdir -p "$LI_TMP/tmp" || return 1
}

# li_copy_tree DEST: copy the working tree (what the tests may read: sql/,
# expected/, test/, data/, ...) without .git and build products, owned by
# $LI_USER.
li_copy_tree() {
	local dest=$1
	mkdir -p "$dest" || return 1
	tar -C "$LI_REPO" -cf - \
		--exclude=./.git --exclude=./build --exclude=./results \
		--exclude=./tmp_check --exclude=./log \
		--exclude='*.o' --exclude='*.so' --exclude='*.bc' --exclude='*.a' \
		--exclude=./regression.diffs --exclude=./regression.out \
		. | tar -C "$dest" -xf - || return 1
	if li_is_root; then
		chown -R "$LI_USER:" "$dest" || return 1
	fi
}

# li_cluster_start DIR PORT [EXTRA_CONF]: initdb DIR/data and start it.
# It listens on no TCP address, only on a unix socket in DIR/sock, so the
# port only names the socket file and cannot clash with another server.
li_cluster_start() {
	local dir=$1 port=$2 extra=${3:-}
	local data="$dir/data" sock="$dir/sock"
	li_as_user mkdir -p "$sock" || return 1
	li_log "initdb $data (as $LI_USER)"
	if ! li_as_user "$LI_PGBIN/initdb" -D "$data" -U "$LI_USER" \
		--auth=trust --locale=C --encoding=UTF8 --no-sync \
		>"$dir/initdb.log" 2>&1; then
		cat "$dir/initdb.log" >&2
		li_err "initdb failed"
		return 1
	fi
	li_as_user sh -c "cat >> '$data/postgresql.conf'" <<-EOF || return 1
		# added by scripts/common.sh
		listen_addresses = ''
		unix_socket_directories = '$sock'
		port = $port
		fsync = off
		full_page_writes = on
		logging_collector = off
		log_min_messages = warning
		max_connections = 30
		$extra
	EOF
	li_log "starting PostgreSQL on socket $sock port $port"
	if ! li_as_user "$LI_PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" \
		-w -t 60 start >/dev/null; then
		tail -50 "$dir/server.log" >&2
		li_err "could not start the cluster in $data"
		return 1
	fi
	LI_PGHOST=$sock
	LI_PGPORT=$port
}

li_cluster_stop() {
	local data="$1/data"
	[ -f "$data/postmaster.pid" ] || return 0
	li_as_user "$LI_PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop \
		>/dev/null 2>&1 ||
		li_as_user "$LI_PGBIN/pg_ctl" -D "$data" -m immediate -w stop \
			>/dev/null 2>&1 || true
}

# li_cleanup: stop every server still running from $LI_TMP (ours, and any
# left behind by a TAP test that died), then remove $LI_TMP unless KEEP_TMP=1.
li_cleanup() {
	local pidfile data
	[ -n "${LI_TMP:-}" ] && [ -d "$LI_TMP" ] || return 0
	while IFS= read -r pidfile; do
		data=$(dirname "$pidfile")
		li_as_user "$LI_PGBIN/pg_ctl" -D "$data" -m immediate -w -t 30 stop \
			>/dev/null 2>&1 || true
	done < <(find "$LI_TMP" -name postmaster.pid 2>/dev/null)
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		li_log "KEEP_TMP=1: keeping $LI_TMP"
	else
		rm -rf "$LI_TMP"
	fi
}
