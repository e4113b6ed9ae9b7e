#!/usr/bin/env python3
"""tests/run_all.py's overview: the table of runs, the failed tests with the first lines of
their diagnostics, skips counted per reason; the TAP stream as before."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import run_all  # noqa: E402

RUNS = [
    dict(name="unit", boot="host", seconds=12.4, note="", results=[
        ["unit: pvh: test_bad_magic", "ok", ""]]),
    dict(name="qemu-pvh-reference", boot="pvh", seconds=61.0,
         note="emulator crashed, rerun once: QEMU died of signal SIGABRT (status -6)", results=[
             ["qemu-pvh-reference: boot: a", "ok", ""],
             ["qemu-pvh-reference: vmx: x", "skip", "no VMX on this CPU"],
             ["qemu-pvh-reference: vmx: y", "skip", "no VMX on this CPU"],
             ["qemu-pvh-reference: vtd: z", "fail", "vtd_selftest.c:212: check failed: st.ok " + "x" * 400]]),
    dict(name="bochs-mb2", boot="bochs-mb2", seconds=118.0, note="", results=[
        ["bochs-mb2: vtd: dmar-present", "skip", "no ACPI DMAR table"],
        ["bochs-mb2: vmx: y", "skip", "no VMX on this CPU"]]),
]


class Report(unittest.TestCase):
    def test_table(self):
        out = run_all.report(RUNS)
        self.assertRegex(out[0], r"^run +boot +passed +failed +skipped +seconds +note$")
        self.assertRegex(out[1], r"^unit +host +1 +0 +0 +12$")
        self.assertRegex(out[2], r"^qemu-pvh-reference +pvh +1 +1 +2 +61 +emulator crashed, "
                                 r"rerun once: QEMU died of signal SIGABRT")
        self.assertRegex(out[3], r"^bochs-mb2 +bochs-mb2 +0 +0 +2 +118$")

    def test_failures_with_diagnostic_head(self):
        out = run_all.report(RUNS, diag_lines=2)
        i = out.index("failed (1):")
        self.assertEqual(out[i + 1], "  qemu-pvh-reference: vtd: z")
        self.assertTrue(out[i + 2].startswith("      vtd_selftest.c:212: check failed"))
        self.assertEqual(out[i + 4], "      ...")

    def test_skips_counted_per_reason(self):
        out = run_all.report(RUNS)
        i = out.index("skipped, by reason (4 tests, 2 reasons):")
        self.assertEqual(out[i + 1:i + 3], ["      3  no VMX on this CPU", "      1  no ACPI DMAR table"])
        self.assertFalse(any("vmx: y" in ln for ln in out))

    def test_tap_stream_unchanged(self):
        tap = run_all.tap_lines([r for run in RUNS for r in run["results"]])
        self.assertIn("ok 3 - qemu-pvh-reference: vmx: x # SKIP no VMX on this CPU", tap)
        self.assertIn("not ok 5 - qemu-pvh-reference: vtd: z", tap)
        self.assertTrue(tap[tap.index("not ok 5 - qemu-pvh-reference: vtd: z") + 1].startswith("#   vtd_selftest"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
