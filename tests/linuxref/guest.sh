#!/bin/busybox sh
# /init's Linux-guest mode (init.sh runs it when the kernel command line holds the word
# `linuxguest`): what a Linux guest of moat shows, each line prefixed "linuxguest: "
# (parsed by tests/emu/linux_guest.py and tests/bench/bench.py), then `poweroff -f`.
#   linuxguest: init <release>          /init reached
#   linuxguest: run-init <seconds>      Linux's clock at its "Run /init" message (dmesg)
#   linuxguest: nproc <n>               CPUs online (nproc)
#   linuxguest: cpuinfo <n>             processors listed in /proc/cpuinfo
#   linuxguest: online <list>           /sys/devices/system/cpu/online (the three again after
#                                     the timer lines)
#   linuxguest: uptime <k> <seconds>    /proc/uptime, k = 1, 2 (2 s apart)
#   linuxguest: interrupts <k> <line>   the timer lines of /proc/interrupts (IRQ 0, LOC)
#   linuxguest: poweroff                just before poweroff -f
# linuxguest.idle=N (make bench): only the init lines, N seconds idle, power-off; for N > 0
# the idle seconds lie between two exit marks:
#   linuxguest: exits-mark <k> <seconds>  /proc/uptime, then byte k written to port 0x5e0
#                                         (/dev/port): moat's test image prints the guest's
#                                         exits so far, `vmm: exits <guest>: mark <k>: ...`
#
# Network mode (issue 16), when the command line holds linuxguest.ip=ADDR/PREFIX: after the
# lines above, the guest's VF (Debian's igbvf) is brought up and exercised:
#   linuxguest.ip=10.0.0.1/24    its address (network mode on)
#   linuxguest.peer=10.0.0.2     the peer it pings
#   linuxguest.role=ping         (default) ping the peer only: a peer that answers ICMP echo
#                                (a moat test guest) or another Linux guest
#   linuxguest.role=listen|send  two Linux guests: besides the pings, `send` moves
#                                linuxguest.mib=N MiB (default 4) over TCP (busybox nc, port
#                                5000) to `listen`; barriers over TCP (ports 5001, 5002, the
#                                sender connects with bounded retries) keep them in step
#   linuxguest.pings=N           pings in round 1 (default 100; 10 in each later round)
#   linuxguest.rounds=K,K,...    the rounds after the first (default flr,plain,flr,down,mtu,
#                                as tests/emu/linux_guest.py RESET_ROUNDS): each puts igbvf
#                                through one of its reset paths, brings the link up again
#                                and pings the peer 10 times:
#                                  flr    rmmod igbvf, the VF's function level reset through
#                                         sysfs (moat's emulated FLR), modprobe igbvf
#                                  plain  rmmod igbvf, modprobe igbvf
#                                  down   ip link set down, ip link set up (igbvf_close
#                                         resets the VF, reset handshake included, and frees
#                                         its vectors: masked; igbvf_open configures it again
#                                         and requests them: unmasked)
#                                  mtu    ip link set mtu linuxguest.mtu (default 9000): igbvf
#                                         goes down and up and asks the PF for the longest
#                                         frame (SET_LPE)
#   linuxguest.jumbo=S           after an mtu round, also 5 pings of S data bytes (the peer
#                                must have the same MTU: two Linux guests)
#   linuxguest.exits=1           (make bench) the TCP transfer lies between two exit marks on
#                                each side: /proc/uptime, the VF interface's rx_packets and
#                                tx_packets and its MSI-X interrupts (/proc/interrupts, all
#                                vectors and CPUs) are read, then byte 11 (before) or 12
#                                (after) is written to port 0x5e0 as mark() does, but nothing
#                                is printed until the transfer is over (console output is
#                                exits too)
# Lines (each "linuxguest: " + ...), in order; a failed step prints `net-fail <step>: <why>`
# and goes on to power off:
#   net-driver <how>                  igbvf loaded (modprobe) or already there
#   net-iface <if> <pci address>      the interface igbvf made
#   mac <aa:bb:..>                    its MAC (the one moat's PF assigned)
#   link <k> up <seconds>             carrier up after `ip link set up` in round k (1: the
#                                     first, 2.. those of linuxguest.rounds), bounded by 60 s
#   addr <k> <addr/prefix>
#   mac-refused <mac> <ip's message>  `ip link set address 02:6d:6f:61:74:01` refused (moat's
#                                     PF NACKs any MAC but the assigned one); the MAC after
#   msix <k>b|<k>a <line of /proc/interrupts>  the VF's vectors before (b) and after (a)
#                                     round k's traffic
#   affinity <vector> <from> <to>     several CPUs: tx and rx each moved to the next CPU,
#                                     after msix 1b
#   peer-ready <k> <tries>            the peer answered a ping (1 s each, at most 240 tries)
#   ping <k> <transmitted> <received> round k's ping statistics (k = 1: N pings, then 10)
#   jumbo <k> <transmitted> <received> <tx bytes> <tx packets> <rx bytes> <rx packets>
#                                     linuxguest.jumbo=S after an mtu round: the pings of S
#                                     bytes and the interface's counters over them (bytes
#                                     per packet above 1514: the frames were not fragmented)
#   tx-sha256 <hash> <bytes> / rx-sha256 <hash> <bytes>  what was sent, what arrived
#   xfer-mark <k> <uptime> <rx packets> <tx packets> <VF interrupts>  with linuxguest.exits=1:
#                                     what was read at mark k (11, 12), after the transfer
#   sync <name> <tries>               a barrier passed
#   reload <k> <how>                  round k: rmmod igbvf, (flr) the VF's reset through sysfs
#                                     (its reset method: flr), modprobe igbvf:
#                                     rmmod+flr+modprobe or rmmod+modprobe
#   down-up <k>                       round k: ip link set down and up done
#   mtu <k> <mtu>                     round k: the interface's MTU after ip link set mtu
#   net-done                          every step ran
say() { echo "linuxguest: $*"; }
mark() {
	say "exits-mark $1 $(cut -d' ' -f1 /proc/uptime)"
	printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=$((0x5e0)) count=1 2>/dev/null
}
say "init $(uname -r)"
say "run-init $(dmesg | sed -n 's/^\[ *\([0-9.]*\)\] Run \/init .*/\1/p' | head -n 1)"

idle= net_ip= net_peer= net_role=ping net_mib=4 net_pings=100 net_exits= net_rounds=flr,plain,flr,down,mtu net_mtu=9000 net_jumbo=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	linuxguest.idle=*) idle="${arg#linuxguest.idle=}" ;;
	linuxguest.ip=*) net_ip="${arg#linuxguest.ip=}" ;;
	linuxguest.peer=*) net_peer="${arg#linuxguest.peer=}" ;;
	linuxguest.role=*) net_role="${arg#linuxguest.role=}" ;;
	linuxguest.mib=*) net_mib="${arg#linuxguest.mib=}" ;;
	linuxguest.pings=*) net_pings="${arg#linuxguest.pings=}" ;;
	linuxguest.exits=*) net_exits="${arg#linuxguest.exits=}" ;;
	linuxguest.rounds=*) net_rounds="${arg#linuxguest.rounds=}" ;;
	linuxguest.mtu=*) net_mtu="${arg#linuxguest.mtu=}" ;;
	linuxguest.jumbo=*) net_jumbo="${arg#linuxguest.jumbo=}" ;;
	esac
done
if [ -n "$idle" ]; then
	say "idle $idle"
	[ "$idle" -gt 0 ] && mark 1
	sleep "$idle"
	[ "$idle" -gt 0 ] && mark 2
	say "poweroff"
	poweroff -f
fi

cpus() {
	say "nproc $(nproc)"
	say "cpuinfo $(grep -c '^processor' /proc/cpuinfo)"
	say "online $(cat /sys/devices/system/cpu/online)"
}
cpus
fail() {
	say "net-fail $*"
	return 1
}

# The interface igbvf made (bounded: 20 s).
net_iface() {
	for _ in $(seq 40); do
		for n in /sys/bus/pci/drivers/igbvf/0000:*/net/*; do
			[ -e "$n" ] && { basename "$n"; return 0; }
		done
		sleep 0.5
	done
	return 1
}

# Loads igbvf, brings its interface up with the address, waits for the carrier. $1 = k.
net_up() {
	iface=$(net_iface) || { fail "iface: igbvf bound no interface in 20 s"; return 1; }
	dev=$(basename "$(readlink "/sys/class/net/$iface/device")")
	say "net-iface $iface $dev"
	say "mac $(cat "/sys/class/net/$iface/address")"
	ip link set "$iface" up || { fail "link: ip link set $iface up failed"; return 1; }
	ip addr add "$net_ip" dev "$iface" 2>/dev/null || ip addr show dev "$iface" | grep -q "inet $net_ip" ||
		{ fail "addr: ip addr add $net_ip failed"; return 1; }
	start=$(cut -d' ' -f1 /proc/uptime)
	for _ in $(seq 120); do
		[ "$(cat "/sys/class/net/$iface/carrier" 2>/dev/null)" = 1 ] && break
		sleep 0.5
	done
	[ "$(cat "/sys/class/net/$iface/carrier" 2>/dev/null)" = 1 ] ||
		{ fail "link: $iface has no carrier after 60 s"; return 1; }
	say "link $1 up $(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }')"
	say "addr $1 $net_ip"
}

# The PF refuses any MAC but the one moat assigned: igbvf gets NACK, puts its address back
# and `ip` fails (EADDRNOTAVAIL); the interface keeps working.
net_mac_refused() {
	before=$(cat "/sys/class/net/$iface/address")
	if out=$(ip link set "$iface" address 02:6d:6f:61:74:01 2>&1); then
		fail "mac-refused: ip link set address 02:6d:6f:61:74:01 was accepted"
		return 1
	fi
	say "mac-refused $(cat "/sys/class/net/$iface/address") ${out:-no message}"
	[ "$(cat "/sys/class/net/$iface/address")" = "$before" ] || fail "mac-refused: the address changed"
}

net_msix() {
	grep "$iface" /proc/interrupts | while read -r line; do say "msix $1 $line"; done
}

# Waits until the peer answers a ping (bounded: 240 tries of 1 s). $1 = k.
peer_ready() {
	for t in $(seq 240); do
		if ping -c 1 -W 1 "$net_peer" >/dev/null 2>&1; then
			say "peer-ready $1 $t"
			return 0
		fi
	done
	fail "peer-ready $1: $net_peer did not answer 240 pings"
}

# $1 = k, $2 = count: prints the round's transmitted and received counts.
ping_round() {
	ping_stats "$1" "$2" 56 || return 1
	say "ping $1 $stats"
}

# A barrier: `listen` waits for the sender's token on port $2, `send` connects with bounded
# retries (the listener may not listen yet, or be reloading its driver).
net_sync() {
	if [ "$net_role" = listen ]; then
		# A sender's attempt whose connect timeout fires just as the handshake completes
		# leaves an empty connection: not the token, the next one is awaited.
		for t in $(seq 30); do
			got=$(timeout 240 nc -l -p "$2" 0<&3) || break
			[ -n "$got" ] && break
		done
		[ "$got" = "$1" ] || { fail "sync $1: got '$got' on port $2"; return 1; }
		say "sync $1 $t"
		return 0
	fi
	for t in $(seq 120); do
		if echo "$1" | nc -w 5 "$net_peer" "$2" >/dev/null 2>&1; then
			say "sync $1 $t"
			return 0
		fi
		sleep 1
	done
	fail "sync $1: $net_peer:$2 did not take the token in 120 tries"
}

# linuxguest.exits=1: counters into xfer_<k>, then the mark's port write; xfer_report
# prints them once the transfer is over.
xfer_mark() {
	[ "$net_exits" = 1 ] || return 0
	st=/sys/class/net/$iface/statistics
	irqs=$(grep "$iface" /proc/interrupts |
		awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }')
	eval "xfer_$1=\"$(cut -d' ' -f1 /proc/uptime) $(cat $st/rx_packets) $(cat $st/tx_packets) $irqs\""
	printf "\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=$((0x5e0)) count=1 2>/dev/null
}

xfer_report() {
	[ "$net_exits" = 1 ] || return 0
	say "xfer-mark 11 $xfer_11"
	say "xfer-mark 12 $xfer_12"
}

net_transfer() {
	if [ "$net_role" = listen ]; then
		xfer_mark 11
		for t in $(seq 10); do # an empty connection (see net_sync) is not the transfer
			timeout 300 nc -l -p 5000 0<&3 >/tmp/rx || { fail "transfer: nc -l ended with an error"; return 1; }
			[ -s /tmp/rx ] && break
		done
		xfer_mark 12
		say "rx-sha256 $(sha256sum </tmp/rx | cut -d' ' -f1) $(wc -c </tmp/rx)"
		xfer_report
		rm -f /tmp/rx
		return 0
	fi
	dd if=/dev/urandom of=/tmp/tx bs=1024 count=$((net_mib * 1024)) 2>/dev/null
	say "tx-sha256 $(sha256sum </tmp/tx | cut -d' ' -f1) $(wc -c </tmp/tx)"
	for t in $(seq 120); do
		# a refused connection ends nc at once with an error; a finished one with 0
		xfer_mark 11
		if timeout 300 nc -w 5 "$net_peer" 5000 </tmp/tx; then
			xfer_mark 12
			say "sent $t"
			xfer_report
			rm -f /tmp/tx
			return 0
		fi
		sleep 1
	done
	fail "transfer: $net_peer:5000 refused 120 connections"
}

# Several CPUs: the VF's tx and rx vectors each moved to the next CPU. Linux applies it at
# the vector's next interrupt: entry masked, message rewritten, unmasked (moat takes the
# new message; the interrupt reaches the new vCPU).
net_move_irqs() {
	n=$(nproc)
	[ "$n" -gt 1 ] || return 0
	for v in tx rx; do
		irq=$(grep " $iface-$v-0\$" /proc/interrupts | cut -d: -f1 | tr -d ' ')
		[ -n "$irq" ] || { fail "affinity: no $iface-$v-0 in /proc/interrupts"; return 1; }
		from=$(cat "/proc/irq/$irq/effective_affinity_list")
		to=$(((from + 1) % n))
		echo "$to" >"/proc/irq/$irq/smp_affinity_list" ||
			{ fail "affinity: moving $iface-$v-0 to CPU $to refused"; return 1; }
		say "affinity $iface-$v-0 $from $to"
	done
}

# $1 = k, $2 = count, $3 = data bytes: ping's statistics into $stats ("<transmitted>
# <received>").
ping_stats() {
	out=$(ping -c "$2" -s "$3" -i 0.2 -W 5 "$net_peer" 2>&1)
	stats=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/\1 \2/p')
	[ -n "$stats" ] || { fail "ping $1: no statistics from ping: $(echo "$out" | tail -n 1)"; return 1; }
}

# Round k's pings of linuxguest.jumbo bytes, with the interface's byte and packet counters
# over them. $1 = k.
jumbo_round() {
	st=/sys/class/net/$iface/statistics
	set -- "$1" "$(cat $st/tx_bytes)" "$(cat $st/tx_packets)" "$(cat $st/rx_bytes)" "$(cat $st/rx_packets)"
	ping_stats "$1" 5 "$net_jumbo" || return 1
	say "jumbo $1 $stats $(($(cat $st/tx_bytes) - $2)) $(($(cat $st/tx_packets) - $3))" \
		"$(($(cat $st/rx_bytes) - $4)) $(($(cat $st/rx_packets) - $5))"
}

# rmmod, for `flr` a function level reset of the unbound VF through moat's virtual config
# space (Linux's pcie_flr: the sysfs file exists only with a reset method), modprobe.
# (igbvf never learns of an FLR while bound: docs/igbvf.md.) $1 = k, $2 = flr or plain.
net_reload() {
	rmmod igbvf || { fail "reload $1: rmmod igbvf failed"; return 1; }
	how=rmmod
	if [ "$2" = flr ]; then
		echo 1 >"/sys/bus/pci/devices/$dev/reset" || { fail "reload $1: reset of $dev failed"; return 1; }
		how="$how+$(cat "/sys/bus/pci/devices/$dev/reset_method")"
	fi
	modprobe igbvf || { fail "reload $1: modprobe igbvf failed"; return 1; }
	say "reload $1 $how+modprobe"
}

# Round k (>= 2) of linuxguest.rounds: $1 = k, $2 = its kind.
net_round() {
	case "$2" in
	flr | plain) net_reload "$1" "$2" || return 1 ;;
	down)
		ip link set "$iface" down || { fail "down-up $1: ip link set $iface down failed"; return 1; }
		ip link set "$iface" up || { fail "down-up $1: ip link set $iface up failed"; return 1; }
		say "down-up $1"
		;;
	mtu)
		ip link set "$iface" mtu "$net_mtu" || { fail "mtu $1: ip link set $iface mtu $net_mtu failed"; return 1; }
		say "mtu $1 $(cat "/sys/class/net/$iface/mtu")"
		;;
	*) fail "round $1: unknown kind '$2' in linuxguest.rounds" ; return 1 ;;
	esac
	net_up "$1" || return 1
	case "$net_role" in
	listen | send) net_sync "up-$1" 5001 || return 1 ;;
	esac
	peer_ready "$1" || return 1
	net_msix "$1b"
	ping_round "$1" 10
	[ "$2" = mtu ] && [ -n "$net_jumbo" ] && { jumbo_round "$1" || return 1; }
	net_msix "$1a"
	case "$net_role" in
	listen | send) net_sync "done-$1" 5002 || return 1 ;;
	esac
	return 0
}

network() {
	mkdir -p /tmp && mkfifo /tmp/hold && exec 3<>/tmp/hold # a stdin for nc -l: never data, never EOF
	if [ -d /sys/module/igbvf ]; then
		say "net-driver already-loaded"
	else
		modprobe igbvf || { fail "driver: modprobe igbvf failed"; return; }
		say "net-driver modprobe"
	fi
	net_up 1 || return
	net_mac_refused
	net_msix 1b
	peer_ready 1 || return
	net_move_irqs
	ping_round 1 "$net_pings"
	case "$net_role" in
	listen | send) net_transfer || return ;;
	esac
	net_msix 1a
	k=1
	for kind in $(echo "$net_rounds" | tr , ' '); do
		k=$((k + 1))
		net_round "$k" "$kind" || return
	done
	say "net-done"
}

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
cpus # again: a kernel message printed while the UART drained a line cuts it
[ -n "$net_ip" ] && network
say "poweroff"
poweroff -f
