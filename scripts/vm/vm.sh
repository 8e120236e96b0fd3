#!/bin/bash
# The QEMU guest harness of the vm suite, built from Debian packages only.
#
#   vm.sh image
#       Builds the guest image once and caches it; prints its directory.
#       The image is Debian's cloud kernel (linux-image-*-cloud-amd64, unpacked
#       with dpkg -x), an initramfs of busybox-static, the kernel modules the
#       tests load (with their dependencies), the vDPA simulator modules built
#       out of tree from linux-source-6.1 against the matching linux-headers,
#       and iproute2's vdpa tool. Cache: $VSWITCH_VM_CACHE, else
#       /var/cache/vswitch-vm (root) or ~/.cache/vswitch-vm, one directory per
#       kernel version and hash of this folder's files.
#
#   vm.sh run [-m MODULE]... [-f FILE]... [-q QEMU_ARG]... [-M MIB] [-s]
#             [-t SECONDS] [-n NAME] -- COMMAND...
#       Boots a guest that loads MODULEs (with their dependencies), runs the
#       shell command COMMAND in /tmp, reports its exit status and powers off.
#       -f copies a host file (and, for an ELF binary, the shared libraries
#       ldd lists) into the guest at the same path. -q appends one QEMU
#       argument. -M sets the guest memory (default 256 MiB); -s backs it with
#       a shared memfd (memory-backend-memfd share=on), as vhost-user needs.
#       -t bounds the whole QEMU run (default 300 s); -n names the run.
#       The serial console goes to stdout; the guest prints "VT-BEGIN" before
#       COMMAND and "VT-EXIT <status>" after it. Exit status: COMMAND's, 124
#       on timeout, 125 for a harness error, 77 when QEMU or the packages
#       cannot be had (the reason on stderr, starting with "SKIP:").
#
# Environment: VT_VM_ACCEL=kvm|tcg forces the accelerator (default: KVM only
# where a probe boot succeeds, else TCG); VT_VM_RUNDIR is where run
# directories go (default $TMPDIR or /tmp).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EX_SKIP=77
EX_HARNESS=125

# Modules an image can load, by the name given to run -m; each is staged
# with its dependencies in load order. The vDPA ones are built here. A NIC
# needs its transport too: -m virtio_pci -m virtio_net.
GUEST_MODULES=(virtio_pci virtio_net tun tap vhost_net vhost_vsock vsock vmw_vsock_virtio_transport
	vsock_loopback vhost_vdpa vdpa_sim_net)
VDPA_MODULES=(vringh vhost_vdpa vdpa vdpa_sim vdpa_sim_net)

say() { echo "vm.sh: $*" >&2; }
die() {
	say "error: $*"
	exit $EX_HARNESS
}
skip() {
	echo "SKIP: $*" >&2
	exit $EX_SKIP
}

cache_root() {
	if [ -n "${VSWITCH_VM_CACHE:-}" ]; then
		echo "$VSWITCH_VM_CACHE"
	elif [ "$(id -u)" = 0 ]; then
		echo /var/cache/vswitch-vm
	else
		echo "${XDG_CACHE_HOME:-$HOME/.cache}/vswitch-vm"
	fi
}

# The kernel: the candidate of the linux-image-cloud-amd64 meta package;
# headers and source of exactly that version are used with it.
resolve_kernel() {
	local meta=linux-image-cloud-amd64 dep
	KVER=$(apt-cache policy "$meta" 2>/dev/null | awk '/Candidate:/ {print $2}')
	if { [ -z "$KVER" ] || [ "$KVER" = "(none)" ]; } && [ "$(id -u)" = 0 ]; then
		apt-get update -q >/dev/null 2>&1 || true
		KVER=$(apt-cache policy "$meta" 2>/dev/null | awk '/Candidate:/ {print $2}')
	fi
	if [ -z "$KVER" ] || [ "$KVER" = "(none)" ]; then
		skip "no candidate for $meta in the apt lists (run apt-get update as root)"
	fi
	dep=$(apt-cache depends "$meta=$KVER" 2>/dev/null |
		awk '/Depends: linux-image-/ {print $2; exit}')
	[ -n "$dep" ] || skip "cannot resolve the kernel package behind $meta=$KVER"
	KREL=${dep#linux-image-}
}

pkg_installed() { # name [version]
	local st
	st=$(dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null) || return 1
	case "$st" in
	"install ok installed "*) [ -z "${2:-}" ] || [ "${st##* }" = "$2" ] ;;
	*) return 1 ;;
	esac
}

# Host tools and the headers the module build needs; installed as root.
ensure_packages() {
	local need=() p
	for p in qemu-system-x86 busybox-static cpio kmod iproute2 make gcc xz-utils \
		linux-compiler-gcc-12-x86 linux-kbuild-6.1; do
		pkg_installed "$p" || need+=("$p")
	done
	pkg_installed "linux-headers-$KREL" "$KVER" || need+=("linux-headers-$KREL=$KVER")
	[ ${#need[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || skip "missing Debian packages ${need[*]} (run scripts/setup.sh as root)"
	say "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" \
		>"$1/apt.log" 2>&1 || {
		tail -20 "$1/apt.log" >&2
		skip "apt-get install ${need[*]} failed"
	}
}

download() { # dir package=version...
	local dir=$1
	shift
	(cd "$dir" && apt-get download -q "$@" >apt-download.log 2>&1) || {
		tail -5 "$dir/apt-download.log" >&2
		skip "apt-get download $* failed"
	}
}

# Copies FILE to ROOT at the same path, plus the shared libraries and the
# program interpreter ldd lists for it (copied under the names ldd shows).
copy_with_libs() { # root file
	local root=$1 f=$2 lib
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
	if file_is_dynamic "$f"; then
		for lib in $(ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\t\/.* \(0x/ {print $1}'); do
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	fi
}

file_is_dynamic() {
	# ELF magic, then the presence of a program interpreter.
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] &&
		ldd "$1" >/dev/null 2>&1
}

build_vdpa_modules() { # work-dir
	local w=$1 src=$1/src mod=$1/vdpa-mod kdir=/usr/src/linux-headers-$KREL
	local t=linux-source-6.1
	mkdir -p "$src" "$mod"
	dpkg-deb --fsys-tarfile "$w"/debs/linux-source-6.1_*.deb |
		tar -x -C "$src" "./usr/src/$t.tar.xz"
	tar -xJf "$src/usr/src/$t.tar.xz" -C "$src" \
		"$t/drivers/vhost/vringh.c" "$t/drivers/vhost/vdpa.c" "$t/drivers/vhost/vhost.h" \
		"$t/drivers/vdpa/vdpa.c" "$t/drivers/vdpa/vdpa_sim/vdpa_sim.c" \
		"$t/drivers/vdpa/vdpa_sim/vdpa_sim.h" "$t/drivers/vdpa/vdpa_sim/vdpa_sim_net.c"
	# Debian's config has CONFIG_VDPA unset, so the upstream Makefiles
	# build nothing: one flat Kbuild names the modules instead. Two files
	# are called vdpa.c; the vhost one becomes vhost_vdpa.c.
	cp "$src/$t/drivers/vhost/vringh.c" "$src/$t/drivers/vhost/vhost.h" "$mod/"
	cp "$src/$t/drivers/vhost/vdpa.c" "$mod/vhost_vdpa.c"
	cp "$src/$t/drivers/vdpa/vdpa.c" "$mod/vdpa.c"
	cp "$src/$t/drivers/vdpa/vdpa_sim/"vdpa_sim{.c,.h,_net.c} "$mod/"
	echo "obj-m := ${VDPA_MODULES[*]/%/.o}" >"$mod/Kbuild"
	rm -rf "$src/usr"
	make -C "$kdir" M="$mod" modules >"$w/vdpa-build.log" 2>&1 || {
		tail -30 "$w/vdpa-build.log" >&2
		die "building the vDPA modules failed (log: $w/vdpa-build.log)"
	}
}

# Stages the modules of GUEST_MODULES and their dependencies into ROOT and
# writes ROOT/vt/modlists/NAME: "name path" lines in load order.
stage_modules() { # work-dir root
	local w=$1 root=$2 kmods=$1/kimg/lib/modules/$KREL m line ko name
	mkdir -p "$kmods/extra"
	cp "$w/vdpa-mod/"*.ko "$kmods/extra/"
	depmod -b "$w/kimg" "$KREL"
	mkdir -p "$root/vt/modlists"
	for m in "${GUEST_MODULES[@]}"; do
		modprobe -d "$w/kimg" -S "$KREL" --show-depends "$m" >"$w/dep.$m" ||
			die "modprobe cannot resolve $m"
		: >"$root/vt/modlists/$m"
		while read -r line; do
			case "$line" in
			insmod\ *) ko=$(echo "$line" | awk '{print $2}') ;;
			*) continue ;;
			esac
			name=$(basename "$ko" .ko)
			mkdir -p "$root/lib/modules/$KREL"
			cp "$ko" "$root/lib/modules/$KREL/$name.ko"
			echo "${name//-/_} /lib/modules/$KREL/$name.ko" >>"$root/vt/modlists/$m"
		done <"$w/dep.$m"
	done
}

build_image() { # work-dir
	local w=$1 root=$1/root a
	mkdir -p "$w/debs" "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,vt}
	download "$w/debs" "linux-image-$KREL=$KVER" "linux-source-6.1=$KVER"
	dpkg -x "$w"/debs/linux-image-*.deb "$w/kimg"
	cp "$w/kimg/boot/vmlinuz-$KREL" "$w/vmlinuz"

	local t0=$SECONDS
	build_vdpa_modules "$w"
	echo "$((SECONDS - t0))" >"$w/vdpa-build-seconds"
	stage_modules "$w" "$root"

	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	# iproute2's vdpa (busybox has no equivalent) with its libraries.
	copy_with_libs "$root" "$(command -v vdpa || echo /sbin/vdpa)"
	cp "$HERE/init" "$root/init"
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$w/base.cpio"
	rm -rf "$w/kimg" "$w/src" "$w/debs" "$root"
}

# Prints the directory of a complete image, building it when needed.
image_dir() {
	local root key hash dir w
	root=$(cache_root)
	resolve_kernel
	hash=$(cat "$HERE/vm.sh" "$HERE/init" | sha256sum | cut -c1-12)
	key="$KREL-$KVER-$hash"
	dir=$root/$key
	if [ -f "$dir/complete" ]; then
		touch "$dir/complete" 2>/dev/null || true # last use, for pruning
		echo "$dir"
		return 0
	fi
	mkdir -p "$root" || skip "cannot create the image cache $root"
	# One builder at a time per cache (engineers and suites share it).
	exec 9>"$root/.lock"
	flock 9
	if [ ! -f "$dir/complete" ]; then
		local t0=$SECONDS
		w=$(mktemp -d "$root/.build.XXXXXX")
		# A failed or interrupted build leaves nothing behind.
		trap 'rm -rf "$w"' EXIT
		say "building the guest image $key in $w"
		ensure_packages "$w"
		build_image "$w"
		echo "$((SECONDS - t0))" >"$w/build-seconds"
		rm -rf "$dir"
		touch "$w/complete"
		mv "$w" "$dir"
		trap - EXIT
		# Images of other kernels or script versions unused for two days.
		find "$root" -mindepth 2 -maxdepth 2 -name complete -mtime +2 -printf '%h\n' |
			xargs -r rm -rf
		say "guest image ready in $((SECONDS - t0)) s (vDPA modules: $(cat "$dir/vdpa-build-seconds") s)"
	fi
	flock -u 9
	exec 9>&-
	echo "$dir"
}

# KVM only where it is real hardware virtualisation and a probe boot works:
# /dev/kvm may exist without VMX/SVM (kvm_pvm), where a stock kernel does not
# boot and QEMU hangs instead of exiting (see PLATFORM.md).
choose_accel() { # image-dir
	local img=$1 probe
	case "${VT_VM_ACCEL:-}" in
	kvm | tcg)
		echo "$VT_VM_ACCEL"
		return
		;;
	esac
	if [ ! -w /dev/kvm ] || ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo tcg
		return
	fi
	probe=$img/kvm-probe-$(uname -r)
	if [ ! -f "$probe" ]; then
		if VT_VM_ACCEL=kvm bash "$HERE/vm.sh" run -t 60 -n kvm-probe -- true >"$img/kvm-probe.log" 2>&1; then
			echo kvm >"$probe"
		else
			echo tcg >"$probe"
		fi
	fi
	cat "$probe"
}

cmd_run() {
	local modules=() files=() qargs=() mem=256 shared=0 timeout=300 name=run opt
	OPTIND=1
	while getopts "m:f:q:M:st:n:" opt; do
		case $opt in
		m) modules+=("$OPTARG") ;;
		f) files+=("$OPTARG") ;;
		q) qargs+=("$OPTARG") ;;
		M) mem=$OPTARG ;;
		s) shared=1 ;;
		t) timeout=$OPTARG ;;
		n) name=$OPTARG ;;
		*) die "usage: vm.sh run [-m MODULE]... [-f FILE]... [-q ARG]... [-M MIB] [-s] [-t S] [-n NAME] -- COMMAND" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -gt 0 ] || die "run: no guest command"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (Debian package qemu-system-x86)"

	local img run accel
	img=$(image_dir)
	run=$(mktemp -d "${VT_VM_RUNDIR:-${TMPDIR:-/tmp}}/vswitch-vm.$name.XXXXXX")
	trap 'rm -rf "$run"' EXIT
	trap 'exit 143' TERM INT

	# The per-run payload: appended to the base image as a second cpio
	# archive, which the kernel unpacks over the first.
	local p=$run/payload m f
	mkdir -p "$p/vt"
	: >"$p/vt/modules"
	for m in "${modules[@]}"; do
		echo "$m" >>"$p/vt/modules"
	done
	for f in "${files[@]}"; do
		[ -f "$f" ] || die "run: no file $f"
		copy_with_libs "$p" "$(realpath "$f")"
	done
	printf '%s\n' "$*" >"$p/vt/cmd"
	(cd "$p" && find . | cpio -o -H newc --quiet) >"$run/payload.cpio"
	cat "$img/base.cpio" "$run/payload.cpio" >"$run/initrd"

	accel=$(choose_accel "$img")
	local qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
		-smp 1 -m "$mem" -kernel "$img/vmlinuz" -initrd "$run/initrd"
		-chardev stdio,id=con,signal=off -serial chardev:con
		-append "console=ttyS0 panic=-1 quiet loglevel=4 mitigations=off")
	if [ "$accel" = kvm ]; then
		qemu+=(-enable-kvm -cpu host)
	else
		qemu+=(-accel tcg -cpu max)
	fi
	if [ "$shared" = 1 ]; then
		qemu+=(-object "memory-backend-memfd,id=mem,size=${mem}M,share=on" -numa node,memdev=mem)
	fi
	qemu+=("${qargs[@]}")
	say "booting ($accel, ${timeout} s bound): $*"

	# timeout bounds QEMU on every path; --foreground keeps it in our
	# process group so a caller that kills the group kills QEMU too.
	local rc=0
	timeout --foreground -k 5 "$timeout" "${qemu[@]}" </dev/null | tee "$run/serial.log" || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		say "QEMU did not finish within $timeout s: killed"
		exit 124
	fi
	local st
	st=$(tr -d '\r' <"$run/serial.log" | awk '/^VT-EXIT [0-9]+$/ {s=$2} END {print s}')
	if [ -z "$st" ]; then
		say "the guest reported no exit status (QEMU exit $rc)"
		exit $EX_HARNESS
	fi
	exit "$st"
}

case "${1:-}" in
image)
	image_dir
	;;
run)
	shift
	cmd_run "$@"
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
