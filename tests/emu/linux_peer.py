"""qemu-uefi-linux-ping-moat (issue 16): a Linux guest with a VF pings a moat test guest with a
VF, so Debian's igbvf and moat's own VF driver (lib/igbvf.c) meet on one wire. The `cpu`
guest answers ARP and ICMP echo as 10.0.0.3 (its command line's vf.ip=,
guests/lib/vf_ping.c); the Linux guest's /init (tests/linuxref/guest.sh, network mode with
role ping) brings its VF up as 10.0.0.1, pings until the peer answers, pings it 100 times,
then puts igbvf through its reset paths (tests/emu/linux_guest.py RESET_ROUNDS: rmmod/modprobe
with and without the VF's FLR, ip link down/up, MTU 9000; no jumbo pings: the cpu guest's
driver takes frames of 1514 bytes at most) with 10 pings after each, and powers off. Judged:
Linux's rounds lost nothing, the cpu guest answered exactly the echo requests Linux sent,
Linux's VF checks (linux_guest.check_linux_vf, round by round) hold, and both ended well."""
import re

import harness
import linux_guest

PEER_NAME, PEER_IP, PINGER_IP = "peer", "10.0.0.3", "10.0.0.1"
PINGS = 100
RELOAD_PINGS = 10  # guest.sh's later rounds, after each reset path
PINGER = linux_guest.LinuxGuest("web", "1", 256, "01:00.0/vf0",
                                dict(ip=f"{PINGER_IP}/24", peer=PEER_IP, role="ping", pings=PINGS))
# The peer answers from the start (Linux boots for 100-160 s first); after the 100th echo it
# waits 60 s for the next (a reset path between the rounds: under load it can take long), 480 s at most.
PEER_CMDLINE = f"vf.ip={PEER_IP} vf.echoes={PINGS} vf.quiet=60 vf.seconds=480"
CONF = (
    "# a Linux guest pings a moat test guest, both with a VF (tests/emu/linux_peer.py)\n"
    + PINGER.conf()
    + f'guest {PEER_NAME} memory=16M cpu=2 image=cpu cmdline="{PEER_CMDLINE}" device=01:00.0/vf1\n')
SMP = 3
TIMEOUT = 600

ANSWERED_RE = re.compile(rf"^\[{PEER_NAME}\] vf ping: answered (\d+) echo requests .* and (\d+) ARP "
                         rf"requests as {re.escape(PEER_IP)} in (\d+) ms$")


def linux_pings(rep):
    """(echo requests Linux sent, replies it received, rounds seen) from guest.sh's
    `peer-ready k <tries>` (one ping each, the last answered) and `ping k <sent> <received>`
    lines."""
    sent = received = 0
    rounds = {}
    for x in rep.get("peer-ready", []):
        k, _, tries = x.partition(" ")
        if tries.isdigit():
            sent, received = sent + int(tries), received + 1
    for kind in ("ping", "jumbo"):  # jumbo: the large pings after an mtu round, if any
        for x in rep.get(kind, []):
            f = x.split()[:3]
            if len(f) == 3 and all(v.isdigit() for v in f):
                if kind == "ping":
                    rounds[f[0]] = (int(f[1]), int(f[2]))
                sent, received = sent + int(f[1]), received + int(f[2])
    return sent, received, rounds


def check_ping(r):
    rep = linux_guest.guest_report(r, PINGER.name)
    where = linux_guest.stopped_at(r, PINGER.name)
    sent, received, rounds = linux_pings(rep)
    out = []
    want = {"1": (PINGS, PINGS)} | {str(k): (RELOAD_PINGS, RELOAD_PINGS) for k in range(2, len(PINGER.rounds) + 2)}
    fails = rep.get("net-fail", [])
    out.append(linux_guest.result(
        r, "linux-pinged-moat-guest-none-lost", rounds == want and "net-done" in rep and not fails,
        f"ping rounds (sent, received) {rounds}, expected {want}; net-fail {fails}; "
        f"net-done {'net-done' in rep}: {where}"))
    m = harness.line_matching(r, ANSWERED_RE.pattern)
    answered = int(ANSWERED_RE.match(m[0]).group(1)) if m else None
    out.append(linux_guest.result(
        r, "moat-guest-answered-every-echo", m and answered == sent and sent >= PINGS,
        f"the cpu guest answered {answered} echo requests, Linux sent {sent} "
        f"(received {received})" if m else f"no '[{PEER_NAME}] vf ping: answered' line"))
    tap = harness.line_matching(r, rf"^\[{PEER_NAME}\] ok \d+ - vf: vf-ping-answered$")
    out.append(linux_guest.result(r, "moat-guest-vf-ping-answered-passed", tap,
                                  f"no passing '[{PEER_NAME}] ... vf: vf-ping-answered' line"))
    peer = harness.line_matching(r, rf"^vmm: stats {PEER_NAME}: shut down; .*results [1-9]\d* passed, "
                                    r"0 failed")
    out.append(linux_guest.result(r, "moat-guest-ended-0-failed", peer,
                                  f"no 'vmm: stats {PEER_NAME}: shut down; ... 0 failed' line"))
    return out


CHECKS = [linux_guest.check_linux_boot(PINGER),
          linux_guest.check_linux_runs(PINGER), linux_guest.check_linux_vf(PINGER), check_ping]
