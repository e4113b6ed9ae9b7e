#!/bin/busybox sh
# /init's Linux-guest mode (init.sh runs it when the kernel command line holds the word
# `linuxguest`): what a Linux guest of moat shows, each line prefixed "linuxguest: "
# (parsed by tests/emu/linux_guest.py and tests/bench/bench.py), then `poweroff -f`.
#   linuxguest: init <release>          /init reached
#   linuxguest: run-init <seconds>      Linux's clock at its "Run /init" message (dmesg)
#   linuxguest: nproc <n>               CPUs online (nproc)
#   linuxguest: cpuinfo <n>             processors listed in /proc/cpuinfo
#   linuxguest: online <list>           /sys/devices/system/cpu/online
#   linuxguest: uptime <k> <seconds>    /proc/uptime, k = 1, 2 (2 s apart)
#   linuxguest: interrupts <k> <line>   the timer lines of /proc/interrupts (IRQ 0, LOC)
#   linuxguest: poweroff                just before poweroff -f
# linuxguest.idle=N (make bench): only the init lines, N seconds idle, power-off; for N > 0
# the idle seconds lie between two exit marks:
#   linuxguest: exits-mark <k> <seconds>  /proc/uptime, then byte k written to port 0x5e0
#                                         (/dev/port): moat's test image prints the guest's
#                                         exits so far, `vmm: exits <guest>: mark <k>: ...`
say() { echo "linuxguest: $*"; }
mark() {
	say "exits-mark $1 $(cut -d' ' -f1 /proc/uptime)"
	printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=$((0x5e0)) count=1 2>/dev/null
}
say "init $(uname -r)"
say "run-init $(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init .*/\1/p' | head -n 1)"

idle=
for arg in $(cat /proc/cmdline); do
	case "$arg" in linuxguest.idle=*) idle="${arg#linuxguest.idle=}" ;; esac
done
if [ -n "$idle" ]; then
	say "idle $idle"
	[ "$idle" -gt 0 ] && mark 1
	sleep "$idle"
	[ "$idle" -gt 0 ] && mark 2
	say "poweroff"
	poweroff -f
fi

say "nproc $(nproc)"
say "cpuinfo $(grep -c '^processor' /proc/cpuinfo)"
say "online $(cat /sys/devices/system/cpu/online)"
timer() {
	say "uptime $1 $(cut -d' ' -f1 /proc/uptime)"
	grep -E '^ *(0|LOC):' /proc/interrupts | while read -r line; do
		set -- "$1" $line
		say "interrupts $*"
	done
}
timer 1
sleep 2
timer 2
say "poweroff"
poweroff -f
