#!/bin/bash
# The meson test `install` (suite interop): `meson install` into a DESTDIR
# puts every piece where a package takes it from; the installed vswitch
# starts from the systemd unit's own command line (its EAL arguments swapped
# for test ones, its paths moved into DESTDIR), keeps a port added at run
# time across a restart through save-config; doc/examples builds against the
# installed libvhost.pc and serves the installed vswitch's vhost-user
# front-end port.
#
#   scripts/install-test.sh BUILD_DIR SOURCE_DIR
#
# Exit status: 0 passed, 1 failed, 77 skipped (what it needs is missing).
set -uo pipefail

BUILD=$1
SRC=$2
DEST=$(mktemp -d /tmp/vswitch-install.XXXXXX)
PREFIX=vsinst$$
PIDS=()

say() { echo "install-test: $*"; }
fail() {
	say "FAIL: $*"
	for f in "$DEST"/*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -20 "$f"; }
	done
	exit 1
}
cleanup() {
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$DEST" "/var/run/dpdk/$PREFIX"
}
trap cleanup EXIT

for tool in meson pkg-config cc; do
	command -v "$tool" >/dev/null || { say "SKIP: $tool is missing"; exit 77; }
done

# 1. The install.
DESTDIR=$DEST meson install -C "$BUILD" --no-rebuild --quiet >"$DEST/install.log" 2>&1 ||
	fail "meson install failed"
find_one() { find "$DEST" -path "*$1" -print -quit; }
UNIT=$(find_one /systemd/system/vswitch.service)
CONF=$(find_one /etc/vswitch/vswitch.conf)
VSWITCH=$(find_one /sbin/vswitch)
CTL=$(find_one /bin/vswitchctl)
PC=$(find_one /pkgconfig/libvhost.pc)
for what in UNIT CONF VSWITCH CTL PC; do
	[ -n "${!what}" ] || fail "the install has no $what"
done
for man in vswitch.8 vswitchctl.8; do
	[ -n "$(find_one "/man/man8/$man")" ] || fail "the install has no $man"
done
LIBDIR=$(dirname "$(dirname "$PC")")
say "installed: ${VSWITCH#"$DEST"}, ${CTL#"$DEST"}, ${UNIT#"$DEST"}, ${CONF#"$DEST"}, ${PC#"$DEST"}"
grep -q '^RuntimeDirectory=vswitch$' "$UNIT" || fail "the unit has no RuntimeDirectory"
grep -q '^Restart=on-failure$' "$UNIT" || fail "the unit does not restart on failure"

# 2. The unit's command line, run: $VSWITCH_EAL_ARGS replaced, every absolute
# path that the install holds (or /run/vswitch) moved into DESTDIR.
EXEC=$(sed -n 's/^ExecStart=//p' "$UNIT")
[ -n "$EXEC" ] || fail "the unit has no ExecStart"
EAL="--lcores 0@0,1@1 --no-pci --no-huge -m 256 --single-file-segments --file-prefix $PREFIX"
mkdir -p "$DEST/run/vswitch"
ARGS=()
for word in $EXEC; do
	if [ "$word" = '$VSWITCH_EAL_ARGS' ]; then
		# shellcheck disable=SC2206
		ARGS+=($EAL)
	elif [[ $word == /run/vswitch/* ]] || [ -e "$DEST$word" ]; then
		ARGS+=("$DEST$word")
	else
		ARGS+=("$word")
	fi
done
CTLSOCK=$DEST/run/vswitch/vswitch.ctl
[[ " ${ARGS[*]} " == *" $CTLSOCK "* ]] || fail "the unit's --ctl is not /run/vswitch/vswitch.ctl"
export LD_LIBRARY_PATH=$LIBDIR

start_switch() { # log
	"${ARGS[@]}" >"$DEST/$1" 2>&1 &
	SWPID=$!
	PIDS+=("$SWPID")
	for _ in $(seq 100); do
		grep -q 'vswitch: ready' "$DEST/$1" && return 0
		kill -0 "$SWPID" 2>/dev/null || fail "vswitch exited: $(tail -3 "$DEST/$1")"
		sleep 0.2
	done
	fail "vswitch did not get ready"
}
stop_switch() {
	kill -TERM "$SWPID"
	wait "$SWPID"
	local rc=$?
	[ $rc -eq 0 ] || fail "vswitch exited with $rc on SIGTERM"
}
ctl() { "$CTL" --ctl "$CTLSOCK" "$@"; }

say "starting ${ARGS[*]#"$DEST"}"
start_switch vswitch1.log
ctl show ports >/dev/null || fail "the installed vswitchctl cannot talk to it"
ctl add-port "vhost-user,path=$DEST/run/vswitch/vm9.sock,name=vm9,vlan=9" >/dev/null ||
	fail "add-port"
ctl set-port vm9 vlan=19 admin=down >/dev/null || fail "set-port"
ctl save-config >"$DEST/save.log" 2>&1 || fail "save-config: $(cat "$DEST/save.log")"
grep -q '^port vhost-user,path=.*vm9.sock.*name=vm9,vlan=19,admin=down$' "$CONF" ||
	fail "save-config did not write vm9 as it runs: $(grep '^port' "$CONF")"
stop_switch
say "restarting from the saved configuration"
start_switch vswitch2.log
ctl --json show port vm9 >"$DEST/vm9.json" || fail "vm9 did not survive the restart"
grep -q '"vlan":"19"' "$DEST/vm9.json" && grep -q '"admin":"down"' "$DEST/vm9.json" ||
	fail "vm9 came back different: $(cat "$DEST/vm9.json")"

# 3. doc/examples against the installed library, serving the installed vswitch.
CFLAGS=$(PKG_CONFIG_PATH=$(dirname "$PC") PKG_CONFIG_SYSROOT_DIR=$DEST pkg-config --cflags libvhost)
LIBS=$(PKG_CONFIG_PATH=$(dirname "$PC") PKG_CONFIG_SYSROOT_DIR=$DEST pkg-config --libs libvhost)
# shellcheck disable=SC2086
cc -Wall -Werror -o "$DEST/null-backend" "$SRC/doc/examples/vhost_user_null_backend.c" \
	$CFLAGS $LIBS >"$DEST/cc.log" 2>&1 || fail "the example does not build against libvhost.pc"
ldd "$DEST/null-backend" | grep -q "$LIBDIR/libvhost.so" ||
	fail "the example is not linked to the installed libvhost"
"$DEST/null-backend" "$DEST/null.sock" >"$DEST/null-backend.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	grep -q 'listening on' "$DEST/null-backend.log" && break
	sleep 0.1
done
ctl add-port "vhost-user-frontend,path=$DEST/null.sock,name=up" >/dev/null ||
	fail "add-port vhost-user-frontend"
for _ in $(seq 100); do
	grep -q 'ring 1 started' "$DEST/null-backend.log" && break
	sleep 0.1
done
grep -q 'front-end connected' "$DEST/null-backend.log" ||
	fail "the installed vswitch did not connect to the example"
grep -q 'ring 1 started' "$DEST/null-backend.log" || fail "no ring started in the example"
stop_switch
say "passed"
exit 0
