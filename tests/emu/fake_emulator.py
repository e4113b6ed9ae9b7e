#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64 or bochs in the harness's own tests
(test_emulator_crash.py). Each start takes the next word of the plan file named by
$FAKE_EMU_PLAN (one word per line, consumed in order) and plays it:

  abort        print a QEMU-style assertion on stderr and abort (SIGABRT)
  segv         die of SIGSEGV without a word
  pass         moat passes: TAP lines and its summary on the serial port, exit status 1
  moat-fail    moat fails a test: exit status 3 (what isa-debug-exit gives)
  fail-abort   moat fails a test, then the emulator aborts
  triple       moat triple-faults: the serial log stops, QEMU exits 0 (-no-reboot)
  linux        the Linux reference finishes (linuxref: done), exit status 0
"""
import os
import signal
import sys


def serial_path(argv):
    for i, a in enumerate(argv):
        if a == "-serial" and argv[i + 1].startswith("file:"):
            return argv[i + 1][5:]
        if a == "-f":  # bochs: the serial file is in the bochsrc
            with open(argv[i + 1]) as f:
                for ln in f:
                    if ln.startswith("com1:"):
                        return ln.split("dev=")[1].strip()
    sys.exit("fake emulator: no serial file in argv")


def next_step(plan):
    with open(plan) as f:
        steps = [ln.strip() for ln in f if ln.strip()]
    with open(plan, "w") as f:
        f.write("\n".join(steps[1:]) + "\n")
    return steps[0] if steps else "pass"


def main():
    step = next_step(os.environ["FAKE_EMU_PLAN"])
    with open(serial_path(sys.argv[1:]), "w") as out:
        def say(*lines):
            out.write("".join(ln + "\n" for ln in lines))
            out.flush()
        say("moat: moat hypervisor starting (fake boot), command line \"\"")
        if step in ("abort", "segv"):
            say("ok 1 - boot: fake-first")
            if step == "segv":
                os.kill(os.getpid(), signal.SIGSEGV)
            sys.stderr.write("qemu-system-x86_64: ../../system/physmem.c:2678: iotlb_to_section: "
                             "Assertion `section_index < d->map.sections_nb' failed.\n")
            sys.stderr.flush()
            os.abort()
        if step == "pass":
            say("ok 1 - boot: fake-first", "ok 2 - boot: fake-second", "moat: 2 passed, 0 failed, 0 skipped")
            sys.exit(1)
        if step == "moat-fail":
            say("ok 1 - boot: fake-first", "not ok 2 - boot: fake-second", "# fake.c:1: it broke",
                "moat: 1 passed, 1 failed, 0 skipped")
            sys.exit(3)
        if step == "fail-abort":
            say("not ok 1 - boot: fake-first", "# fake.c:1: it broke")
            sys.stderr.write("qemu-system-x86_64: fake.c:1: f: Assertion `0' failed.\n")
            sys.stderr.flush()
            os.abort()
        if step == "triple":
            say("ok 1 - boot: fake-first")
            sys.exit(0)
        if step == "linux":
            say("linuxref: start fake", "linuxref: done")
            sys.exit(0)
        sys.exit(f"fake emulator: unknown step {step!r}")


if __name__ == "__main__":
    main()
