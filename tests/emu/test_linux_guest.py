"""The Linux-guest checks (linux_guest.check_linux_runs) on serial logs shaped like the ones
Linux gives: what tests/linuxref/guest.sh printed under bare Linux in QEMU (2 CPUs), with
the guest's prefix and moat's end line added; each check must fail when its part is
missing or wrong, and say how far Linux got."""
import os
import sys
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linux_guest  # noqa: E402

BOOTED = """\
[web] [    3.741012] Run /init as init process
[web] linuxguest: init 6.1.0-57-amd64
[web] linuxguest: nproc 2
[web] linuxguest: cpuinfo 2
[web] linuxguest: online 0-1
[web] linuxguest: uptime 1 4.15
[web] linuxguest: interrupts 1 0: 129 0 IR-IO-APIC 2-edge timer
[web] linuxguest: interrupts 1 LOC: 706 672 Local timer interrupts
[web] linuxguest: uptime 2 6.25
[web] linuxguest: interrupts 2 0: 129 0 IR-IO-APIC 2-edge timer
[web] linuxguest: interrupts 2 LOC: 749 704 Local timer interrupts
[web] linuxguest: poweroff
[web] [    6.268823] reboot: Power down
vmm: guest web powered off (ACPI S5)
[web] ok 1 - guest: ended
[web] # ACPI S5
vmm: stats web: shut down; cpu 1, 9000 ms; exits: cpuid=600 io=9000; io denied 0, msr refused 5, \
hypercalls 0; results 0 passed, 0 failed, 0 skipped""".splitlines()

STOPPED = """\
[web] [    0.000000] ACPI: Reserving APIC table memory at [mem 0xe01e0-0xe0213]
vmm: guest web stopped: nested page fault at GPA 0xfee00020 (read) rip 0xffffffff81075a32: outside \
its RAM [0, 0x10000000) and devices
vmm: stats web: stopped; cpu 1, 5924 ms; exits: cpuid=578 npf=1; io denied 0, msr refused 5, \
hypercalls 0; results 0 passed, 0 failed, 0 skipped""".splitlines()

WEB2 = linux_guest.LinuxGuest("web", "1-2", 256)


def verdicts(lines, g=WEB2, timed_out=False):
    r = types.SimpleNamespace(name="t", lines=lines, timed_out=timed_out, elapsed=300.0)
    return {name.split("host: ")[1]: (st, diag) for name, st, diag in linux_guest.check_linux_runs(g)(r)}


def without(lines, *parts):
    return [ln for ln in lines if not any(p in ln for p in parts)]


def replace(lines, old, new):
    return [ln.replace(old, new) for ln in lines]


class LinuxRuns(unittest.TestCase):
    def test_booted(self):
        v = verdicts(BOOTED)
        self.assertEqual({k: s for k, (s, _) in v.items()},
                         {"web-reached-init": "ok", "web-cpus-online": "ok",
                          "web-timer-ticking": "ok", "web-powered-off": "ok"})

    def test_vcpus_from_cpu_list(self):
        self.assertEqual(linux_guest.LinuxGuest("a", "1-2", 16).vcpus, 2)
        self.assertEqual(linux_guest.LinuxGuest("a", "3", 16).vcpus, 1)

    def test_one_cpu_fewer(self):
        v = verdicts(replace(BOOTED, "nproc 2", "nproc 1"))
        self.assertEqual(v["web-cpus-online"][0], "fail")
        v = verdicts(BOOTED, g=linux_guest.LinuxGuest("web", "1", 256))
        self.assertEqual(v["web-cpus-online"][0], "fail")
        self.assertEqual(v["web-timer-ticking"][0], "fail")  # two CPUs' counts, one expected

    def test_timer_stuck(self):
        v = verdicts(replace(BOOTED, "LOC: 749 704", "LOC: 749 672"))  # CPU 1 did not tick
        self.assertEqual(v["web-timer-ticking"][0], "fail")
        v = verdicts(replace(BOOTED, "uptime 2 6.25", "uptime 2 4.15"))
        self.assertEqual(v["web-timer-ticking"][0], "fail")
        v = verdicts(without(BOOTED, "interrupts 2"))
        self.assertEqual(v["web-timer-ticking"][0], "fail")

    def test_not_powered_off(self):
        v = verdicts(replace(BOOTED, "stats web: shut down", "stats web: stopped"))
        self.assertEqual(v["web-powered-off"][0], "fail")
        v = verdicts(without(BOOTED, "reboot: Power down"))
        self.assertEqual(v["web-powered-off"][0], "fail")
        v = verdicts(replace(BOOTED, "powered off (ACPI S5)", "reset requested (reset register 0xcf9)"))
        self.assertEqual(v["web-powered-off"][0], "fail")
        v = verdicts(replace(BOOTED, "[web] ok 1 - guest: ended", "[web] not ok 1 - guest: ended"))
        self.assertEqual(v["web-powered-off"][0], "fail")

    def test_other_guest_lines_do_not_count(self):
        v = verdicts(replace(BOOTED, "[web]", "[app]"))
        self.assertTrue(all(s == "fail" for s, _ in v.values()))

    def test_stopped_says_where(self):
        v = verdicts(STOPPED)
        self.assertTrue(all(s == "fail" for s, _ in v.values()))
        diag = v["web-reached-init"][1]
        self.assertIn("Reserving APIC table memory", diag)
        self.assertIn("nested page fault at GPA 0xfee00020", diag)

    def test_init_started_without_output(self):
        v = verdicts([ln for ln in BOOTED if not ln.startswith("[web] linuxguest: ")])
        self.assertIn("Linux started /init", v["web-reached-init"][1])

    def test_timed_out_says_so(self):
        v = verdicts(STOPPED[:1], timed_out=True)
        self.assertIn("timed out after 300 s", v["web-reached-init"][1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
