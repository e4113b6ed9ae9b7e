#!/usr/bin/env python3
"""scripts/symbolize.py names the functions in moat's crash dumps, and the harness puts the
function of a run's first dump into its no-cpu-exception diagnostic. Uses a tiny ELF linked
here at moat's address (gcc + ld), not the build."""
import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts"))
import harness  # noqa: E402
import symbolize  # noqa: E402

NM = """\
0000000000200000 T __image_start
0000000000200000 t mb2_header
00000000002001b0 T pvh_start32
0000000000201000 T kmain
0000000000201200 t helper
0000000000203000 R __text_end
0000000000204000 R some_table
"""

SOURCE = """
int first(int x) { return x * 3 + 1; }
int second(int x) { return first(x) ^ 0x55; }
void _start(void) { for (;;) second(1); }
"""


class Lookup(unittest.TestCase):
    def setUp(self):
        self.syms = symbolize.Symbols(NM)

    def test_function_and_offset(self):
        self.assertEqual(self.syms.lookup(0x201234), "helper+0x34")
        self.assertEqual(self.syms.lookup(0x201000), "kmain")
        self.assertEqual(self.syms.lookup(0x2001b5), "pvh_start32+0x5")

    def test_outside_code(self):
        self.assertIsNone(self.syms.lookup(0x1fffff))
        self.assertIsNone(self.syms.lookup(0x203000))   # __text_end: data from here
        self.assertIsNone(self.syms.lookup(0x2f1000))

    def test_annotate(self):
        line = "trap:  rip 0000000000201234 cs 0008 rflags 0000000000000246 rsp 00000000002f1000 ss 0010"
        self.assertEqual(symbolize.annotate(line, self.syms), line + "   [rip = helper+0x34]")
        regs = "trap:  rax 0000000000201000 rbx 0000000000000000 rcx 00000000002001b0 rdx 0000000000000001"
        self.assertTrue(symbolize.annotate(regs, self.syms).endswith("[rax = kmain, rcx = pvh_start32]"))
        for other in ("vmm: guest alpha: rip 0000000000201234", "[alpha] trap:  rip 0000000000201234",
                      "trap: cpu 0: #UD: vector 6 error 0"):
            self.assertEqual(symbolize.annotate(other, self.syms), other)


@unittest.skipUnless(shutil.which("gcc") and shutil.which("ld") and shutil.which("nm"),
                     "needs gcc, ld and nm")
class RealElf(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="moat-symbolize-")
        c = os.path.join(self.tmp, "t.c")
        with open(c, "w") as f:
            f.write(SOURCE)
        o, self.elf = os.path.join(self.tmp, "t.o"), os.path.join(self.tmp, "t.elf")
        subprocess.run(["gcc", "-O1", "-ffreestanding", "-fno-pic", "-c", c, "-o", o], check=True)
        subprocess.run(["ld", "-static", "-Ttext=0x200000", "-o", self.elf, o], check=True)
        nm = subprocess.run(["nm", self.elf], capture_output=True, text=True, check=True).stdout
        self.addr = {f[2]: int(f[0], 16) for f in map(str.split, nm.splitlines()) if len(f) == 3}

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_log_annotated(self):
        rip = self.addr["second"] + 2
        log = os.path.join(self.tmp, "serial.log")
        with open(log, "w") as f:
            f.write(f"moat: hello\ntrap: cpu 1: #GP: vector 13 error 0\n"
                    f"trap:  rip {rip:016x} cs 0008 rflags 0000000000010002 rsp 00000000002f0f00 ss 0010\n")
        out = io.StringIO()
        with redirect_stdout(out):
            symbolize.main(["--elf", self.elf, log])
        lines = out.getvalue().splitlines()
        self.assertEqual(lines[:2], ["moat: hello", "trap: cpu 1: #GP: vector 13 error 0"])
        self.assertTrue(lines[2].endswith("[rip = second+0x2]"), lines[2])

    def test_harness_names_the_function(self):
        r = harness.Run.__new__(harness.Run)
        r.name, r.image, r.timed_out, r.crash, r.exit_status = "fake", "product", False, None, None
        r.lines = ["moat: hello", "trap: cpu 1: #GP: vector 13 error 0",
                   f"trap:  rip {self.addr['first']:016x} cs 0008 rflags 0000000000010002 "
                   "rsp 00000000002f0f00 ss 0010"]
        saved = harness.image_path
        harness.image_path = lambda image, kind: self.elf
        try:
            res = harness.judge(r)
        finally:
            harness.image_path = saved
        trap = [d for n, st, d in res if n == "fake: run: no-cpu-exception"]
        self.assertEqual(trap, ["trap: cpu 1: #GP: vector 13 error 0 (rip at first)"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
