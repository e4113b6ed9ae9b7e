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
# linuxguest.idle=N (make bench): only the init lines, N seconds idle, power-off.
say() { echo "linuxguest: $*"; }
say "init $(uname -r)"
say "run-init $(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init .*/\1/p' | head -n 1)"

idle=
for arg in $(cat /proc/cmdline); do
	case "$arg" in linuxguest.idle=*) idle="${arg#linuxguest.idle=}" ;; esac
done
if [ -n "$idle" ]; then
	say "idle $idle"
	sleep "$idle"
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
