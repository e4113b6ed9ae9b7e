#!/bin/busybox sh
# /init of the Linux reference initramfs (tests/linuxref/build.py packs it).
# Loads igb, enables SR-IOV on every igb PF, prints what Linux sees with the prefix
# "linuxref: " (parsed by tests/linuxref/linuxref.py), then powers off.
# Kernel command line: linuxref.numvfs=N (default 2); the word `linuxguest` runs
# /guest.sh instead (a Linux guest of moat: tests/linuxref/guest.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for arg in $(cat /proc/cmdline); do
	[ "$arg" = linuxguest ] && exec /bin/busybox sh /guest.sh
done
say() { echo "linuxref: $*"; }
say "start $(uname -r)"

numvfs=2
for arg in $(cat /proc/cmdline); do
	case "$arg" in linuxref.numvfs=*) numvfs="${arg#linuxref.numvfs=}" ;; esac
done

for m in $(cat /modules.list); do
	insmod "/lib/modules/$m" || say "error insmod $m"
done

for d in /sys/bus/pci/devices/*; do
	[ "$(readlink "$d/driver")" != "" ] || continue
	[ "$(basename "$(readlink "$d/driver")")" = igb ] || continue
	[ -e "$d/sriov_numvfs" ] || { say "error $(basename "$d") has no sriov_numvfs"; continue; }
	echo 0 > "$d/sriov_drivers_autoprobe"
	if echo "$numvfs" > "$d/sriov_numvfs"; then
		say "sriov $(basename "$d") numvfs $(cat "$d/sriov_numvfs") of $(cat "$d/sriov_totalvfs")"
	else
		say "error sriov $(basename "$d") numvfs $numvfs refused"
	fi
done

hex() { v=$(cat "$1"); echo "${v#0x}"; }
for d in /sys/bus/pci/devices/*; do
	say "dev $(basename "$d") $(hex "$d/vendor"):$(hex "$d/device") class $(hex "$d/class")"
done
for g in /sys/kernel/iommu_groups/*; do
	[ -d "$g/devices" ] || continue
	say "group $(basename "$g"):" $(ls "$g/devices")
done
for d in /sys/bus/pci/devices/*; do
	for v in "$d"/virtfn*; do
		[ -e "$v" ] && say "vf $(basename "$d") $(basename "$(readlink "$v")")"
	done
done
say "uptime $(cut -d' ' -f1 /proc/uptime)"
say "done"
poweroff -f
