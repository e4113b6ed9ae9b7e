#!/usr/bin/env python3
"""The Linux reference machine: an independent oracle for moat's tests and benchmarks.

boot_linux() boots a Debian kernel with a busybox initramfs (build.py) on exactly the QEMU
machine moat's runs use (harness.qemu_argv, with the boot medium replaced by
-kernel/-initrd/-append), and returns what Linux saw: PCI functions, IOMMU groups, VFs, and
the wall time from QEMU's start to the final line. The check_* factories make host-side
checks for tests/emu/matrix.py that compare moat's serial listing with Linux's answer; each
topology boots Linux once per test session.

  tests/linuxref/linuxref.py [--topology reference] [--boot mb2|uefi] [--repeat N]
      boots Linux (N times) and prints its answer (and the median wall time)
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "emu"))
sys.path.insert(0, HERE)
import build  # noqa: E402
import harness  # noqa: E402

# no_timer_check: on a loaded host TCG can miss the kernel's IO-APIC timer probe, and with
# interrupt remapping on that is a panic ("timer doesn't work through Interrupt-remapped IO-APIC").
CMDLINE = "console=ttyS0 intel_iommu=on iommu=strict quiet panic=-1 no_timer_check"
LINE_RE = re.compile(r"linuxref: (.*)$")
BDF_RE = r"(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]"


class BootFailed(Exception):
    """The reference was built but Linux did not report; str() says what happened."""


class Reference:
    """What Linux reported on one machine."""

    def __init__(self, lines):
        self.devices = {}   # bdf -> ("vvvv:dddd", "cccccc")
        self.groups = {}    # group number -> [bdf, ...]
        self.vfs = {}       # PF bdf -> [VF bdf, ...]
        self.sriov = []     # "0000:01:00.0 numvfs 2 of 7"
        self.errors = []
        self.release = None
        self.uptime = None
        self.done = False
        self.wall = None    # seconds from QEMU start to the final line (set by boot_linux)
        self.rerun = None   # QEMU's message if the first boot aborted on its own
        for ln in lines:
            m = LINE_RE.search(ln)
            if not m:
                continue
            kind, _, rest = m.group(1).partition(" ")
            f = rest.split()
            if kind == "dev" and len(f) == 4:
                self.devices[f[0]] = (f[1], f[3])
            elif kind == "group" and f:
                self.groups[int(f[0].rstrip(":"))] = f[1:]
            elif kind == "vf" and len(f) == 2:
                self.vfs.setdefault(f[0], []).append(f[1])
            elif kind == "sriov":
                self.sriov.append(rest)
            elif kind == "error":
                self.errors.append(rest)
            elif kind == "start":
                self.release = rest
            elif kind == "uptime":
                self.uptime = float(f[0])
            elif kind == "done":
                self.done = True


def kernel_boot(argv, kernel, initrd, append):
    """argv with its boot medium (-cdrom ISO or the fat: ESP drive) replaced by a direct
    kernel boot; firmware (SeaBIOS or OVMF pflash) and the machine are left as they are."""
    out, i, dropped = [], 0, 0
    while i < len(argv):
        if argv[i] == "-cdrom" or (argv[i] == "-drive" and "file=fat:" in argv[i + 1]):
            i, dropped = i + 2, dropped + 1
            continue
        out.append(argv[i])
        i += 1
    if dropped != 1:
        raise BootFailed(f"expected one boot medium in harness.qemu_argv, found {dropped}: {argv}")
    return out + ["-kernel", kernel, "-initrd", initrd, "-append", append]


def boot_linux(topology, boot="mb2", timeout=120, numvfs=2, name=None):
    """Boots the reference on `topology` (a harness topology name). Returns a Reference;
    raises build.Unavailable if it cannot be built, BootFailed if Linux did not finish.
    QEMU aborting on its own (harness.emulator_crash) costs one rerun, noted in the
    Reference's `rerun`; a second abort is a BootFailed naming QEMU's message."""
    first = None
    while True:
        ref, crash = boot_linux_once(topology, boot, timeout, numvfs, name)
        if not crash:
            ref.rerun = first
            return ref
        if first is not None:
            raise BootFailed(f"Linux reference on {topology} ({boot}): QEMU aborted again after a "
                             f"rerun (first: {first}): {crash} (log {ref.log})")
        first = crash


def boot_linux_once(topology, boot, timeout, numvfs, name):
    """One boot: (Reference, None), or (Reference so far, QEMU's message) if QEMU aborted."""
    info = build.build()
    r = harness.Run(name or f"linuxref-{topology}-{boot}-vf{numvfs}")
    sock = os.path.join(r.dir, "monitor.sock")
    argv = kernel_boot(harness.qemu_argv(boot, topology, r.dir, f"file:{r.serial_path}", sock),
                       info["kernel"], info["initrd"], f"{CMDLINE} linuxref.numvfs={numvfs}")
    with open(os.path.join(r.dir, "cmdline"), "w") as f:
        f.write(" ".join(argv) + "\n")
    wall = None
    with open(os.path.join(r.dir, "qemu.stderr"), "w") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                             start_new_session=True)
        try:
            while True:
                exited = p.poll() is not None  # before reading: the final line may come last
                if wall is None and os.path.exists(r.serial_path):
                    with open(r.serial_path, "rb") as f:
                        if b"linuxref: done" in f.read():
                            wall = time.monotonic() - t0
                now = time.monotonic() - t0
                if exited or now >= timeout or (wall is not None and now > wall + 10):
                    break
                time.sleep(0.05)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    r.elapsed = time.monotonic() - t0
    if os.path.exists(r.serial_path):
        r.read_serial()
    ref = Reference(r.lines)
    ref.wall, ref.log = wall, r.serial_path
    crash = harness.emulator_crash("QEMU", p.returncode,
                                   harness.read_text(os.path.join(r.dir, "qemu.stderr")),
                                   stopped_by_us=wall is not None or r.elapsed >= timeout)
    if crash and not ref.done:
        kept = r.dir + ".crash"
        shutil.rmtree(kept, ignore_errors=True)
        os.rename(r.dir, kept)
        ref.log = os.path.join(kept, "qemu.stderr")
        return ref, crash
    if not ref.done:
        why = f"timed out after {timeout} s" if r.elapsed >= timeout else f"QEMU exited {p.returncode}"
        panic = [ln for ln in r.lines if "Kernel panic" in ln]
        seen = panic[:1] or r.lines[-3:] or ["no serial output"]
        raise BootFailed(f"Linux reference on {topology} ({boot}) did not finish: {why}; "
                         f"serial: {' | '.join(seen)} (log {r.serial_path})")
    if ref.errors:
        raise BootFailed(f"Linux reference on {topology} ({boot}): {'; '.join(ref.errors)}")
    return ref, None


_cache = {}
_lock = threading.Lock()


def reference(topology, boot="mb2", numvfs=2):
    """Linux's answer for a topology, booted once per session (an exception is cached too)."""
    key = (topology, boot, numvfs)
    with _lock:
        if key not in _cache:
            try:
                _cache[key] = boot_linux(topology, boot, numvfs=numvfs)
            except (build.Unavailable, BootFailed) as e:
                _cache[key] = e
    if isinstance(_cache[key], Exception):
        raise _cache[key]
    return _cache[key]


# ---------------------------------------------------------------------------------------
# moat's serial listing (DESIGN.md serial contract: lines tagged "pci: ").
MOAT_DEV_RE = re.compile(rf"^pci: ({BDF_RE}) ([0-9a-f]{{4}}:[0-9a-f]{{4}})\b(?:.*?\bclass ([0-9a-f]{{6}}))?", re.I)
MOAT_GROUP_RE = re.compile(rf"^pci: group (\d+):((?: {BDF_RE})+)(?: \((.*)\))?\s*$", re.I)


def full_bdf(b):
    b = b.lower()
    return b if b.count(":") == 2 else "0000:" + b


def parse_moat_devices(lines):
    """{bdf: (vendor:device, class or None)} from `pci: 0000:01:00.0 8086:10c9 class 020000 ...`."""
    out = {}
    for ln in lines:
        m = MOAT_DEV_RE.match(ln)
        if m:
            out[full_bdf(m.group(1))] = (m.group(2).lower(), m.group(3) and m.group(3).lower())
    return out


def parse_moat_groups(lines):
    """[(frozenset of bdfs, reason or "")] from `pci: group 3: 0000:00:02.0 0000:01:00.0 (reason)`."""
    return [(frozenset(full_bdf(b) for b in m.group(2).split()), m.group(3) or "")
            for m in map(MOAT_GROUP_RE.match, lines) if m]


def compare_devices(moat, linux):
    """Differences between two {bdf: (vendor:device, class)} maps, as sentences."""
    diffs = []
    for b in sorted(set(moat) | set(linux)):
        if b not in moat:
            diffs.append(f"{b} {linux[b][0]} only in Linux")
        elif b not in linux:
            diffs.append(f"{b} {moat[b][0]} only in moat")
        elif moat[b][0] != linux[b][0]:
            diffs.append(f"{b} is {moat[b][0]} in moat, {linux[b][0]} in Linux")
        elif moat[b][1] and moat[b][1] != linux[b][1]:
            diffs.append(f"{b} class {moat[b][1]} in moat, {linux[b][1]} in Linux")
    return diffs


def compare_groups(moat, linux):
    """(failures, notes) comparing moat's [(set, reason)] with Linux's [set].
    moat looser (splitting a Linux group) fails; moat stricter (one moat group spanning
    several Linux groups) is a note when moat gives a reason, a failure when not."""
    fails, notes = [], []
    moat_of = {b: i for i, (g, _) in enumerate(moat) for b in g}
    linux_of = {b: i for i, g in enumerate(linux) for b in g}
    for b in sorted(set(linux_of) - set(moat_of)):
        fails.append(f"{b} is in Linux's groups but in no moat group")
    for b in sorted(set(moat_of) - set(linux_of)):
        fails.append(f"{b} is in a moat group but in no Linux group")
    for g in linux:
        parts = sorted({moat_of[b] for b in g if b in moat_of})
        if len(parts) > 1:
            fails.append(f"moat looser: Linux group {' '.join(sorted(g))} is split over moat groups "
                         + " | ".join(" ".join(sorted(moat[i][0])) for i in parts))
    for g, reason in moat:
        spans = sorted({linux_of[b] for b in g if b in linux_of})
        if len(spans) > 1:
            desc = f"moat stricter: group {' '.join(sorted(g))} joins {len(spans)} Linux groups"
            if reason:
                notes.append(f"{desc} ({reason})")
            else:
                fails.append(f"{desc} without a reason")
    return fails, notes


def _linux_or_skip(name, topology, boot, numvfs):
    """(Reference, None) or (None, [[name, skip|fail, why]])."""
    try:
        return reference(topology, boot, numvfs), None
    except build.Unavailable as e:
        return None, [[name, "skip", f"Linux reference unavailable: {e}"]]
    except BootFailed as e:
        return None, [[name, "fail", str(e)]]


def check_devices_match_linux(topology, boot="mb2", numvfs=2):
    """A matrix check: moat's PCI listing equals the functions Linux lists (BDF, IDs, class)."""
    def check(r):
        name = f"{r.name}: host: devices-match-linux"
        ref, res = _linux_or_skip(name, topology, boot, numvfs)
        if res:
            return res
        moat = parse_moat_devices(r.lines)
        if not moat:
            return [[name, "fail", "no moat PCI listing (`pci: <BDF> <vendor>:<device> ...`) in the serial log"]]
        diffs = compare_devices(moat, ref.devices)
        return [[name, "fail" if diffs else "ok", "; ".join(diffs)]]
    return check


def check_groups_match_linux(topology, boot="mb2", numvfs=2):
    """A matrix check: moat's isolation groups equal Linux's IOMMU groups (stricter with a reason)."""
    def check(r):
        name = f"{r.name}: host: groups-match-linux"
        ref, res = _linux_or_skip(name, topology, boot, numvfs)
        if res:
            return res
        if not ref.groups:
            return [[name, "skip", f"Linux reports no IOMMU groups on topology {topology} (no IOMMU)"]]
        moat = parse_moat_groups(r.lines)
        if not moat:
            return [[name, "fail", "no moat group lines (`pci: group N: <BDFs>`) in the serial log"]]
        fails, notes = compare_groups(moat, [frozenset(g) for g in ref.groups.values()])
        return [[name, "fail" if fails else "ok", "; ".join(fails + notes)]]
    return check


def main():
    import argparse
    import statistics
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--topology", default="reference")
    ap.add_argument("--boot", choices=["mb2", "uefi"], default="mb2")
    ap.add_argument("--numvfs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=1, help="boot N times and print the wall-time median")
    a = ap.parse_args()
    walls = []
    for _ in range(a.repeat):
        try:
            ref = boot_linux(a.topology, a.boot, a.timeout, a.numvfs)
        except (build.Unavailable, BootFailed) as e:
            sys.exit(f"linuxref: {e}")
        walls.append(ref.wall)
        print(f"linuxref: {a.topology} ({a.boot}): Linux {ref.release}: final line after {ref.wall:.1f} s "
              f"wall, uptime {ref.uptime:.2f} s")
    if a.repeat > 1:
        print(f"linuxref: wall median {statistics.median(walls):.1f} s, min {min(walls):.1f}, max {max(walls):.1f} "
              f"({a.repeat} boots)")
    for b, (ids, cls) in sorted(ref.devices.items()):
        print(f"  dev {b} {ids} class {cls}")
    for n, g in sorted(ref.groups.items()):
        print(f"  group {n}: {' '.join(g)}")
    for pf, vfs in sorted(ref.vfs.items()):
        print(f"  vfs of {pf}: {' '.join(vfs)}")
    for s in ref.sriov:
        print(f"  sriov {s}")


if __name__ == "__main__":
    main()
