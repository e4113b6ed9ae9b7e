#!/usr/bin/env python3
"""The host checks of qemu-uefi-linux-ping-moat (tests/emu/linux_peer.py) on sample logs:
they pass on a clean run and fail on a lossy one, a short count or a missing line."""
import os
import sys
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linux_peer  # noqa: E402

GOOD = [
    "[peer] vf ping: answering ARP and ICMP echo as 10.0.0.3: at least 100 echo requests, until 60 s "
    "without one after them or 480 s in all",
    "[web] linuxguest: peer-ready 1 1",
    "[web] linuxguest: ping 1 100 100",
    "[web] linuxguest: reload 2 rmmod+flr+modprobe",
    "[web] linuxguest: peer-ready 2 2",
    "[web] linuxguest: ping 2 10 10"] + [
    f"[web] linuxguest: {x}" for k in range(3, 7) for x in (f"peer-ready {k} 1", f"ping {k} 10 10")] + [
    "[web] linuxguest: net-done",
    "[peer] vf ping: answered 157 echo requests (the last id 0x90 seq 9) and 2 ARP requests as 10.0.0.3 "
    "in 92511 ms",
    "[peer] ok 20 - vf: vf-ping-answered",
    "vmm: stats peer: shut down; cpu 2, 102617 ms; exits: cpuid=24; io denied 0, msr refused 15, "
    "hypercalls 43; results 20 passed, 0 failed, 0 skipped"]


def run(lines):
    r = types.SimpleNamespace(name="r", lines=lines, timed_out=False, elapsed=1)
    return {x[0].split("host: ")[1]: x[1] for x in linux_peer.check_ping(r)}


class PingChecks(unittest.TestCase):
    def test_clean_run_passes(self):
        self.assertEqual(set(run(GOOD).values()), {"ok"})

    def test_sent_counts_every_peer_ready_try(self):
        self.assertEqual(linux_peer.linux_pings({"peer-ready": ["1 1", "2 2"], "ping": ["1 100 100", "2 10 10"]}),
                         (113, 112, {"1": (100, 100), "2": (10, 10)}))

    def test_a_lost_reply_fails(self):
        res = run([ln.replace("ping 1 100 100", "ping 1 100 99") for ln in GOOD])
        self.assertEqual(res["linux-pinged-moat-guest-none-lost"], "fail")

    def test_unanswered_echo_fails(self):
        res = run([ln.replace("answered 157", "answered 156") for ln in GOOD])
        self.assertEqual(res["moat-guest-answered-every-echo"], "fail")

    def test_a_missing_round_fails(self):
        res = run([ln for ln in GOOD if "ping 5 10 10" not in ln])
        self.assertEqual(res["linux-pinged-moat-guest-none-lost"], "fail")

    def test_net_fail_or_no_net_done_fails(self):
        res = run([ln for ln in GOOD if "net-done" not in ln])
        self.assertEqual(res["linux-pinged-moat-guest-none-lost"], "fail")
        res = run(GOOD + ["[web] linuxguest: net-fail sync bye: x"])
        self.assertEqual(res["linux-pinged-moat-guest-none-lost"], "fail")

    def test_missing_lines_fail(self):
        res = run([ln for ln in GOOD if not ln.startswith("[peer] ok")])
        self.assertEqual(res["moat-guest-vf-ping-answered-passed"], "fail")
        res = run([ln for ln in GOOD if "answered 157" not in ln])
        self.assertEqual(res["moat-guest-answered-every-echo"], "fail")


if __name__ == "__main__":
    unittest.main(verbosity=2)
