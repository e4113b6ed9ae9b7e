#!/usr/bin/env bash
# Checks (and, as root on Debian, installs) everything moat needs to build and test.
# Usage: scripts/deps.sh [--check] [--build] [--fuzz]
#   --check  only reports, never installs
#   --build  only what compiling needs (make, make usb, make unit), not the emulators
#   --fuzz   also what `make fuzz` needs (clang with libFuzzer and the sanitizer runtimes,
#            llvm-profdata and llvm-cov for `make fuzz-cov`)
# QEMU >= 8 is needed (igb); Debian 12 ships 7.2, so its bookworm-backports suite is added
# from the archive URI already configured on this machine (no host name is written here).
set -u

PKGS_BUILD="gcc make nasm binutils gnu-efi mtools dosfstools xorriso grub-common grub-pc-bin grub-efi-amd64-bin libcmocka-dev python3"
PKGS_EMU="ovmf bochs bochsbios vgabios"
# The Linux reference (tests/linuxref): depmod for the downloaded kernel's modules.dep.
PKGS_LINUXREF="kmod"
# ACPICA's disassembler judges the ACPI tables moat builds for OS guests.
PKGS_CHECK="acpica-tools"
# make fuzz: clang, its compiler-rt (libFuzzer, ASan, UBSan) and llvm's coverage tools.
PKGS_FUZZ="clang libclang-rt-dev llvm"
check_only=0
build_only=0
fuzz=0
for a in "$@"; do
	case "$a" in
	--check) check_only=1 ;;
	--build) build_only=1 ;;
	--fuzz) fuzz=1 ;;
	*) echo "usage: scripts/deps.sh [--check] [--build] [--fuzz]" >&2; exit 2 ;;
	esac
done

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }
if [ $build_only -eq 1 ]; then
	for p in $PKGS_BUILD; do need "$p"; done
else
	for p in $PKGS_BUILD $PKGS_EMU $PKGS_LINUXREF $PKGS_CHECK; do need "$p"; done
fi
if [ $fuzz -eq 1 ]; then
	for p in $PKGS_FUZZ; do need "$p"; done
fi

qemu_ok=0
if [ $build_only -eq 1 ]; then
	qemu_ok=1
elif command -v qemu-system-x86_64 >/dev/null 2>&1; then
	v=$(qemu-system-x86_64 --version | head -1 | grep -oE '[0-9]+\.[0-9]+' | head -1)
	[ "${v%%.*}" -ge 8 ] 2>/dev/null && qemu_ok=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $qemu_ok -eq 1 ]; then
	exit 0
fi

codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
archive_uri() {
	# The first Debian archive URI configured in apt's sources (deb822 or one-line format).
	local u
	u=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
	[ -n "$u" ] || u=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | awk '{print $2}' | head -1)
	echo "$u"
}

cmd="apt-get update && apt-get install -y ${missing[*]}"
bp=""
if [ $qemu_ok -eq 0 ] && [ "$codename" = "bookworm" ]; then
	bp="bookworm-backports"
	cmd="$cmd && apt-get install -y -t bookworm-backports qemu-system-x86"
elif [ $qemu_ok -eq 0 ]; then
	cmd="$cmd && apt-get install -y qemu-system-x86"
fi

if [ $check_only -eq 1 ] || [ "$(id -u)" -ne 0 ]; then
	echo "moat: missing build/test dependencies: ${missing[*]} $([ $qemu_ok -eq 0 ] && echo 'qemu-system-x86 (>= 8)')" >&2
	if [ -n "$bp" ]; then
		echo "moat: QEMU >= 8 comes from bookworm-backports; as root, add it with:" >&2
		echo "  echo \"deb $(archive_uri) bookworm-backports main\" > /etc/apt/sources.list.d/backports.list" >&2
	fi
	echo "moat: then run as root:" >&2
	echo "  $cmd" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$bp" ] && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
	uri=$(archive_uri)
	[ -n "$uri" ] || { echo "moat: no Debian archive URI found in apt sources" >&2; exit 1; }
	echo "deb $uri bookworm-backports main" > /etc/apt/sources.list.d/moat-backports.list
fi
apt-get update -q || exit 1
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${missing[@]}" || exit 1
fi
if [ $qemu_ok -eq 0 ]; then
	if [ -n "$bp" ]; then
		apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-x86 || exit 1
	else
		apt-get install -y -q --no-install-recommends qemu-system-x86 || exit 1
	fi
fi
exit 0
