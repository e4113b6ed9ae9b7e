#!/usr/bin/env python3
"""make debug: boots moat in QEMU with its gdbstub waiting (-S, halted before the first
instruction) and gives the gdb command that loads the symbols at the right addresses;
with gdb installed and a terminal, runs it (QEMU is stopped when gdb exits).
docs/debugging.md shows a session.

  scripts/debug.py [--boot uefi|mb2|pvh] [--topology reference] [--image product|test]
                   [--port 1234] [--append "..."] [--modules "..."] [--print-only]

Where the symbols are: moat.elf (or moat-test.elf) is placed at its link addresses
(0x200000) by every boot path: GRUB and QEMU's PVH loader load its PT_LOAD segments there,
and the UEFI loader copies them there (AllocatePages(AllocateAddress), boot/efi/image.c).
So `gdb build/moat.elf` needs no offset. The UEFI loader itself (build/efi/moat.so,
relocated by the firmware) prints `efi: loader image base 0x...`: add-symbol-file its .so
with -o that base. A guest image is linked at its guest-virtual addresses (0x100000):
add-symbol-file build/g/<image>.elf (with debug info; build/guests/ holds the stripped copies the boot media carry).
"""
import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "emu"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import harness  # noqa: E402
import mkcpio  # noqa: E402


def gdb_argv(a):
    rel = lambda p: os.path.relpath(p, os.getcwd())  # noqa: E731
    elf = rel(harness.image_path(a.image, "elf"))
    argv = ["gdb", "-q", elf, "-ex", f"target remote localhost:{a.port}"]
    notes = [f"moat: {elf} at its link addresses on every boot path (no offset)",
             f"a guest: add-symbol-file {rel(os.path.join(harness.BUILD, 'g', 'cpu.elf'))} "
             "(guest-virtual = link addresses; one guest image at a time, they share 0x100000)"]
    if a.boot == "uefi":
        so = rel(os.path.join(harness.BUILD, "efi", os.path.splitext(harness.IMAGES[a.image]["efi"])[0] + ".so"))
        notes.append(f"the UEFI loader: add-symbol-file {so} -o <base from the serial line "
                     "'efi: loader image base 0x...'>")
    return argv, notes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--boot", choices=["uefi", "mb2", "pvh"], default="uefi")
    ap.add_argument("--topology", default="reference")
    ap.add_argument("--image", choices=sorted(harness.IMAGES), default="product")
    ap.add_argument("--port", type=int, default=1234)
    ap.add_argument("--append", default="", help="pvh: moat's command line")
    ap.add_argument("--modules", default="", help="pvh: files packed into the -initrd archive")
    ap.add_argument("--print-only", action="store_true",
                    help="do not start gdb: wait for one (QEMU runs until stopped)")
    a = ap.parse_args()
    run = harness.Run("debug")
    esp = None
    if a.boot == "pvh" and a.modules.split():
        esp = os.path.join(run.dir, "modules.cpio")
        mkcpio.main([esp] + a.modules.split())
    argv = harness.qemu_argv(a.boot, a.topology, run.dir, f"file:{run.serial_path}",
                             os.path.join(run.dir, "monitor.sock"), append=a.append, esp=esp,
                             image=a.image) + ["-gdb", f"tcp::{a.port}", "-S"]
    with open(os.path.join(run.dir, "cmdline"), "w") as f:
        f.write(shlex.join(argv) + "\n")
    gdb, notes = gdb_argv(a)
    print(f"debug: QEMU ({a.boot}, topology {a.topology}, {a.image} image) halted before the "
          f"first instruction, gdbstub on localhost:{a.port}")
    print(f"debug: serial log: tail -f {os.path.relpath(run.serial_path)}")
    print(f"debug: gdb: {shlex.join(gdb)}")
    for n in notes:
        print(f"debug:   {n}")
    # A terminating make (or timeout) ends QEMU too: it runs in its own session.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    err = open(os.path.join(run.dir, "qemu.stderr"), "w")
    q = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                         start_new_session=True)
    try:
        if shutil.which("gdb") and sys.stdin.isatty() and not a.print_only:
            subprocess.run(gdb)
        else:
            print("debug: waiting for gdb (Ctrl-C stops QEMU)", flush=True)
            q.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if q.poll() is None:
            os.killpg(q.pid, signal.SIGKILL)
        q.wait()
        err.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
