#!/usr/bin/env python3
"""An emulator aborting on its own costs one rerun, says so, and never hides a moat failure:
matrix.run (the harness's runs), bench.timed_boot and linuxref.boot_linux, each with a fake
emulator (fake_emulator.py) following a plan of what each start does."""
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import matrix  # noqa: E402
import bench  # noqa: E402  (matrix put tests/bench on the path)
import linuxref  # noqa: E402

FAKE = os.path.join(HERE, "fake_emulator.py")


class FakeEmulator(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="moat-fake-emu-")
        self.saved = (harness.LOGS, harness.QEMU, harness.BOCHS, os.environ.get("FAKE_EMU_PLAN"))
        harness.LOGS = os.path.join(self.tmp, "logs")
        harness.QEMU = harness.BOCHS = FAKE
        self.plan_path = os.path.join(self.tmp, "plan")
        os.environ["FAKE_EMU_PLAN"] = self.plan_path

    def tearDown(self):
        harness.LOGS, harness.QEMU, harness.BOCHS, plan = self.saved
        if plan is None:
            os.environ.pop("FAKE_EMU_PLAN", None)
        else:
            os.environ["FAKE_EMU_PLAN"] = plan
        shutil.rmtree(self.tmp, ignore_errors=True)

    def plan(self, *steps):
        with open(self.plan_path, "w") as f:
            f.write("\n".join(steps) + "\n")

    def left(self):
        with open(self.plan_path) as f:
            return [ln.strip() for ln in f if ln.strip()]

    def run_spec(self, emulator="qemu"):
        spec = dict(name="fake-run", emulator=emulator, boot="mb2", topology="plain", timeout=30)
        return matrix.run(spec)

    @staticmethod
    def failed(run):
        return [(n, d) for n, st, d in run["results"] if st == "fail"]


class CrashMessage(unittest.TestCase):
    def test_abort_named(self):
        m = harness.emulator_crash("QEMU", -6, "qemu-system-x86_64: a.c:1: f: Assertion `x' failed.\n")
        self.assertIn("QEMU died of signal SIGABRT (status -6)", m)
        self.assertIn("Assertion `x' failed", m)

    def test_signal_without_words(self):
        self.assertIn("SIGSEGV", harness.emulator_crash("Bochs", -11, ""))

    def test_assertion_with_exit_status(self):
        self.assertIn("exited 1", harness.emulator_crash("QEMU", 1, "ERROR:../hw/x.c:12:f: assertion failed: (y)\n"))

    def test_moat_outcomes_are_not_crashes(self):
        self.assertIsNone(harness.emulator_crash("QEMU", 1, ""))   # moat passed
        self.assertIsNone(harness.emulator_crash("QEMU", 3, ""))   # moat failed
        self.assertIsNone(harness.emulator_crash("QEMU", 0, ""))   # triple fault, -no-reboot
        self.assertIsNone(harness.emulator_crash("QEMU", -9, "", stopped_by_us=True))  # time-out


class MatrixRun(FakeEmulator):
    def test_abort_then_pass_is_rerun_once(self):
        self.plan("abort", "pass")
        run = self.run_spec()
        self.assertEqual(self.failed(run), [])
        self.assertIn("rerun once", run["note"])
        self.assertIn("iotlb_to_section", run["note"])
        self.assertTrue(os.path.isdir(os.path.join(harness.LOGS, "fake-run.crash1")))
        self.assertEqual(self.left(), [])

    def test_signal_then_pass_is_rerun_once(self):
        self.plan("segv", "pass")
        run = self.run_spec()
        self.assertEqual(self.failed(run), [])
        self.assertIn("SIGSEGV", run["note"])

    def test_second_abort_fails_with_the_message(self):
        self.plan("abort", "abort", "pass")
        run = self.run_spec()
        alive = [d for n, d in self.failed(run) if n == "fake-run: run: emulator-alive"]
        self.assertEqual(len(alive), 1)
        self.assertIn("again after a rerun", alive[0])
        self.assertIn("Assertion `section_index < d->map.sections_nb' failed", alive[0])
        self.assertIn("crashed again", run["note"])
        self.assertEqual(self.left(), ["pass"])

    def test_abort_after_moat_failure_is_not_rerun(self):
        self.plan("fail-abort", "pass")
        run = self.run_spec()
        names = [n for n, _d in self.failed(run)]
        self.assertIn("fake-run: boot: fake-first", names)
        self.assertIn("fake-run: run: emulator-alive", names)
        self.assertEqual(run["note"], "")
        self.assertEqual(self.left(), ["pass"])

    def test_moat_failure_is_not_rerun(self):
        self.plan("moat-fail", "pass")
        run = self.run_spec()
        self.assertIn("fake-run: boot: fake-second", [n for n, _d in self.failed(run)])
        self.assertEqual(self.left(), ["pass"])

    def test_triple_fault_is_not_rerun(self):
        self.plan("triple", "pass")
        run = self.run_spec()
        self.assertIn("fake-run: run: summary-line", [n for n, _d in self.failed(run)])
        self.assertEqual(self.left(), ["pass"])

    def test_bochs_abort_is_rerun(self):
        self.plan("abort", "pass")
        run = self.run_spec(emulator="bochs")
        self.assertEqual(self.failed(run), [])
        self.assertIn("Bochs died of signal SIGABRT", run["note"])


class Bench(FakeEmulator):
    def argv(self, d, serial):
        return [harness.QEMU, "-serial", serial]

    def setUp(self):
        super().setUp()
        del bench.RERUNS[:]

    def test_abort_then_pass(self):
        self.plan("abort", "pass")
        wall, lines = bench.timed_boot("fake-bench", self.argv, r"^moat: \d+ passed", 30)
        self.assertIn("moat: 2 passed, 0 failed, 0 skipped", lines)
        self.assertEqual(len(bench.RERUNS), 1)
        self.assertIn("SIGABRT", bench.RERUNS[0][1])

    def test_second_abort_is_missing(self):
        self.plan("abort", "abort", "pass")
        with self.assertRaises(bench.Missing) as e:
            bench.timed_boot("fake-bench", self.argv, r"^moat: \d+ passed", 30)
        self.assertIn("aborted again after a rerun", str(e.exception))
        self.assertIn("iotlb_to_section", str(e.exception))

    def test_moat_failure_then_abort_is_not_rerun(self):
        self.plan("fail-abort", "pass")
        with self.assertRaises(bench.Missing) as e:
            bench.timed_boot("fake-bench", self.argv, r"^moat: \d+ passed", 30)
        self.assertIn("after a moat failure", str(e.exception))
        self.assertEqual(self.left(), ["pass"])


class LinuxReference(FakeEmulator):
    def setUp(self):
        super().setUp()
        self.saved_build = linuxref.build.build
        linuxref.build.build = lambda: {"kernel": "fake-bzImage", "initrd": "fake-initrd"}

    def tearDown(self):
        linuxref.build.build = self.saved_build
        super().tearDown()

    def test_abort_then_done(self):
        self.plan("abort", "linux")
        ref = linuxref.boot_linux("plain", timeout=30, name="fake-linux")
        self.assertTrue(ref.done)
        self.assertIn("SIGABRT", ref.rerun)

    def test_second_abort_fails(self):
        self.plan("abort", "abort", "linux")
        with self.assertRaises(linuxref.BootFailed) as e:
            linuxref.boot_linux("plain", timeout=30, name="fake-linux")
        self.assertIn("aborted again after a rerun", str(e.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
