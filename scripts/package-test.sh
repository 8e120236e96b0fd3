#!/bin/bash
# The Debian packages, end to end (meson test package_install_purge, suite
# package, run by scripts/test.sh):
#
#   scripts/package-test.sh [SOURCE_DIR]
#
# Copies the source (what git tracks, plus untracked files it does not
# ignore) to a temporary directory and builds the packages there
# (dpkg-buildpackage -us -uc -b: its output goes to the copy's parent, never
# into the checkout), runs lintian on them (an error fails the test;
# warnings and notes are printed), installs them with dpkg, checks that the
# installed vswitch and vswitchctl run, that the systemd unit is in place
# but neither enabled nor started, and that the libvhost-dev examples build
# against the installed libvhost.pc (pkg-config) and the null back-end
# listens; then purges them and checks that the machine is as it was: the
# same packages at the same versions and states, not one file or directory
# of the packages left that was not there before, no systemd state of ours.
#
# Needs root (dpkg -i) and dpkg-dev, debhelper, lintian (scripts/setup.sh
# installs them); skips (exit 77) with the reason without them, or when a
# package of ours is installed already (the test would replace the
# operator's). One run at a time per machine (a lock in /run/lock).
set -uo pipefail

SRC=$(cd "${1:-$(dirname "$0")/..}" && pwd)
PKGS=(vswitch libvhost-dev libvhost0 libvirtq0)
say() { echo "package-test: $*"; }
skip() {
	echo "SKIP: $*"
	exit 77
}
fail() {
	say "FAILED: $*"
	exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root to install and purge packages (run as root, as CI does)"
for t in dpkg-buildpackage dh lintian pkg-config cc; do
	command -v "$t" >/dev/null ||
		skip "$t is missing (scripts/setup.sh test installs dpkg-dev, debhelper, lintian)"
done
[ -f "$SRC/debian/control" ] || fail "no debian/ in $SRC"
# The build dependencies, as dpkg-buildpackage would check them, but as a skip.
if ! missing=$(cd "$SRC" && dpkg-checkbuilddeps -P nocheck 2>&1); then
	skip "build dependencies missing: ${missing##*: }"
fi

exec 9>/run/lock/vswitch-package-test.lock
flock -w 900 9 || fail "another package test holds /run/lock/vswitch-package-test.lock"

for p in "${PKGS[@]}"; do
	if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
		skip "package $p is on this machine already ($(dpkg-query -W -f='${Version} ${db:Status-Status}' "$p")): the test would replace it"
	fi
done

work=$(mktemp -d /var/tmp/vswitch-package-test.XXXXXX) || exit 1
installed=0
cleanup() {
	if [ $installed = 1 ]; then
		dpkg --purge "${PKGS[@]}" >"$work/purge.log" 2>&1 || cat "$work/purge.log"
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# The systemd state a package's maintainer scripts may leave.
SYSTEMD_STATE=(/etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled
	/var/lib/systemd/deb-systemd-helper-masked /run/systemd/system)
# What must be the same afterwards: packages, running services, the systemd
# state of ours, and a vswitch process from the package's binary.
snapshot() {
	dpkg-query -W -f='${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n' | sort
	if [ -d /run/systemd/system ]; then
		systemctl list-units --type=service --state=running --no-legend --plain |
			awk '{print "running " $1}' | sort
	fi
	find "${SYSTEMD_STATE[@]}" -name '*vswitch*' 2>/dev/null | sed 's/^/systemd state: /' | sort
	running_from_package | sed 's/^/process: /'
}
running_from_package() {
	local e
	for e in /proc/[0-9]*/exe; do
		[ "$(readlink "$e" 2>/dev/null)" = /usr/sbin/vswitch ] && echo "${e%/exe}"
	done
	return 0
}
snapshot >"$work/before"

total=$SECONDS
start=$SECONDS
mkdir "$work/src"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$SRC" ls-files -z --cached --others --exclude-standard |
		(cd "$SRC" && xargs -0 tar -cf - --no-recursion 2>/dev/null) | tar -xf - -C "$work/src"
else
	tar -C "$SRC" --exclude='./build*' -cf - . | tar -xf - -C "$work/src"
fi
# nocheck: the ABI checks debian/rules runs are in the fast suite already;
# noddebs: no debug symbol packages to build and lint.
say "building the packages (log $work/build.log)"
if ! (cd "$work/src" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck noddebs" \
	DEB_BUILD_PROFILES=nocheck dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	tail -40 "$work/build.log"
	cp "$work/build.log" /var/tmp/vswitch-package-build.log
	fail "dpkg-buildpackage failed (log kept in /var/tmp/vswitch-package-build.log)"
fi
say "built in $((SECONDS - start)) s: $(cd "$work" && echo *.deb)"
debs=()
for p in "${PKGS[@]}"; do
	f=$(ls "$work/${p}_"*.deb 2>/dev/null) || fail "no package $p was built"
	debs+=("$f")
done

# lintian: errors fail, the rest is shown.
start=$SECONDS
lintian --fail-on error --display-info "$work"/*.changes >"$work/lintian.log" 2>&1
lrc=$?
grep -v '^running with root privileges' "$work/lintian.log" | sed 's/^/  /'
say "lintian ($((SECONDS - start)) s): $(grep -c '^E:' "$work/lintian.log") errors, $(grep -c '^W:' "$work/lintian.log") warnings, $(grep -c '^I:' "$work/lintian.log") info"
[ $lrc -eq 0 ] || fail "lintian reports errors (exit $lrc)"

# Every path the packages hold, and which of them were there before.
for d in "${debs[@]}"; do
	dpkg-deb --fsys-tarfile "$d" | tar -t
done | sed 's|^\./|/|; s|/$||' | grep -v '^\.\?$' | sort -u >"$work/paths"
while read -r f; do
	[ -e "$f" ] || [ -L "$f" ] && echo "$f"
done <"$work/paths" >"$work/paths.before"

say "installing ${debs[*]##*/}"
installed=1
dpkg -i "${debs[@]}" >"$work/install.log" 2>&1 || {
	cat "$work/install.log"
	fail "dpkg -i failed"
}

errors=0
check() { # description command...
	local what=$1
	shift
	if "$@" >"$work/check.log" 2>&1; then
		say "ok: $what"
	else
		say "NOT ok: $what"
		sed 's/^/  /' "$work/check.log"
		errors=$((errors + 1))
	fi
}
version=$(dpkg-query -W -f='${Version}' vswitch)
check "/usr/sbin/vswitch --version says ${version%%-*}" \
	sh -c "/usr/sbin/vswitch --version | tee /dev/stderr | grep -qF '${version%%-*}'"
check "vswitchctl --help runs" /usr/bin/vswitchctl --help
check "every library vswitch needs resolves" \
	sh -c "! ldd /usr/sbin/vswitch | grep 'not found'"
check "vswitch runs the installed libvhost" \
	sh -c "ldd /usr/sbin/vswitch | grep -qE ' => (/usr)?/lib/[^ ]*/libvhost.so.0 '"
check "the man pages are there" \
	test -f /usr/share/man/man8/vswitch.8.gz -a -f /usr/share/man/man8/vswitchctl.8.gz
check "/etc/vswitch/vswitch.conf is a conffile" \
	sh -c "dpkg-query -W -f='\${Conffiles}' vswitch | grep -q '/etc/vswitch/vswitch.conf'"
unit_ok() {
	local u=/lib/systemd/system/vswitch.service
	[ -f $u ] || { echo "no $u"; return 1; }
	grep -qx 'ExecStart=/usr/sbin/vswitch .*' $u || { grep ExecStart $u; return 1; }
	# Not enabled: no symlink in any .wants directory, no enable state.
	if find /etc/systemd/system -name vswitch.service 2>/dev/null | grep .; then
		echo "enabled"
		return 1
	fi
	if [ -d /run/systemd/system ]; then
		[ "$(systemctl is-enabled vswitch.service)" = disabled ] || return 1
		! systemctl is-active -q vswitch.service || { echo "active"; return 1; }
	else
		echo "(systemd is not running here: the unit's files are checked, not systemctl)"
	fi
	if [ -n "$(running_from_package)" ]; then
		echo "a vswitch runs from /usr/sbin/vswitch"
		return 1
	fi
}
check "the unit is installed, not enabled, not started" unit_ok

# The examples, built as a user of the -dev package would.
example() {
	local src dir=/usr/share/doc/libvhost-dev/examples ex=$work/null-backend pid ok
	for src in vhost_user_null_backend vhost_user_blk_frontend; do
		[ -f $dir/$src.c ] || { echo "no $dir/$src.c"; return 1; }
	done
	echo "pkg-config: $(pkg-config --cflags --libs libvhost libvirtq)"
	# shellcheck disable=SC2046
	cc -Wall -Wextra -Werror -o "$ex" $dir/vhost_user_null_backend.c \
		$(pkg-config --cflags --libs libvhost) || return 1
	# shellcheck disable=SC2046
	cc -Wall -Wextra -Werror -o "$work/blk-frontend" $dir/vhost_user_blk_frontend.c \
		$(pkg-config --cflags --libs libvhost libvirtq) || return 1
	ldd "$ex" | grep -qE ' => (/usr)?/lib/[^ ]*/libvhost.so.0 ' || {
		ldd "$ex"
		return 1
	}
	# It listens: the socket appears; a front-end is not needed to prove it runs.
	"$ex" "$work/null.sock" &
	pid=$!
	for _ in $(seq 50); do
		[ -S "$work/null.sock" ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	[ -S "$work/null.sock" ]
	ok=$?
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	return $ok
}
check "the examples build against the installed libvhost.pc and the null back-end listens" example

say "purging ${PKGS[*]}"
dpkg --purge "${PKGS[@]}" >"$work/purge.log" 2>&1 || {
	cat "$work/purge.log"
	errors=$((errors + 1))
}
installed=0
snapshot >"$work/after"
check "the machine's packages, services and systemd state are as before" \
	diff "$work/before" "$work/after"
leftover() {
	local f found=0
	while read -r f; do
		if { [ -e "$f" ] || [ -L "$f" ]; } && ! grep -qxF "$f" "$work/paths.before"; then
			echo "left behind: $f"
			found=1
		fi
	done <"$work/paths"
	[ -e /etc/vswitch ] && ! grep -qx /etc/vswitch "$work/paths.before" && {
		echo "left behind: /etc/vswitch"
		found=1
	}
	return $found
}
check "no file or directory of the packages is left ($(wc -l <"$work/paths") paths)" leftover

say "took $((SECONDS - total)) s"
[ $errors -eq 0 ] || fail "$errors check(s) failed"
say "passed"
