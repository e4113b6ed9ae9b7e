#!/usr/bin/env python3
"""make bench: what moat's isolation costs, measured (docs/performance.md).

Runs, one emulator at a time, each under a timeout and killed afterwards:
  - the bench guest under QEMU -icount shift=0 (per-exit cost in instructions, deterministic),
    as a moat guest and as an OS guest (its local APIC), then the same two in Bochs (VMX);
  - the bench guest as an OS guest with a VF under -icount: one MSI-X interrupt of the VF
    (issue 16; QEMU only: Bochs has no IOMMU and no igb);
  - moat on the reference machine, both boot paths, and the Linux reference on the same
    machine (boot to verdict; moat's memory report lines come from the same runs);
  - moat on the reference machine with two bench guests owning VF0 and VF1 (the data path,
    guest to guest), then moat's native VF bench on the same VFs in the same boot;
and counts image sizes and lines of code. Prints a table and writes build/bench.json.
Medians over BENCH_RUNS runs (default 3; data path BENCH_DATA_RUNS, default 5) with
min-max. Numbers are never asserted, but a run that did not produce its numbers (or a data
path transfer that lost or damaged a frame) makes the script exit 1.

  tests/bench/bench.py [--runs N] [--data-runs N] [--skip-linux] [--linux-only]
                       [--linux-vf-only] [--vf-irq-only]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "emu"))
sys.path.insert(0, os.path.join(ROOT, "tests", "linuxref"))
import harness  # noqa: E402
import linux_guest  # noqa: E402
import linuxref  # noqa: E402
import build as linuxref_build  # noqa: E402
import linux_bench  # noqa: E402
import linux_vf_bench  # noqa: E402

BUILD = harness.BUILD
GiB, MiB, KiB = 1 << 30, 1 << 20, 1 << 10
EXIT_KINDS = ["cpuid", "io-com1", "io-denied", "hypercall"]
# The local APIC's, by the bench guest started as an OS guest (guests/bench/apic.c): the
# TSC-deadline write (arming), arming to the handler, EOI of that interrupt through the
# xAPIC page (what Linux uses on moat) and through the x2APIC MSR. A kind it cannot measure
# is a line `bench: exit=<kind> unavailable: <reason>`.
APIC_KINDS = ["apic-timer", "apic-timer-irq", "apic-eoi", "apic-eoi-x2apic"]
BENCH_CONFIG = "config=guest,bench,memory=16M,cpu=1,image=bench exit=qemu"
# The same guest as an OS guest (build/guests/bench.bz) alone on CPU 1 (moat.conf).
BENCH_OS_CONF = "guest bench memory=32M cpu=1 kernel=bench.bz\n"
# -icount: one TSC tick per instruction. x2APIC off: under -icount QEMU 10 aborts ("Bad icount
# read") when moat runs its APIC in x2APIC mode (MSR accesses); in xAPIC mode (MMIO) it runs.
ICOUNT_ARGS = ["-icount", "shift=0,sleep=off", "-cpu", "max,-x2apic"]
HV_DIRS = ["boot", "arch", "acpi", "core", "pci", "iommu", "vmm", "lib"]


class Missing(Exception):
    """A run did not produce the numbers it should have."""


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 3) for v in values]}


# ---------------------------------------------------------------------------------------
# Emulator runs
# Boots rerun because the emulator aborted on its own: [(boot name, message)].
RERUNS = []


def timed_boot(name, make_argv, done_rx, timeout):
    """Starts QEMU with make_argv(run directory, serial file), returns (seconds from start to
    the first serial line matching done_rx, serial lines). QEMU is killed afterwards
    whatever happens. QEMU aborting on its own before that line (harness.emulator_crash)
    costs one rerun (noted in RERUNS and the table), unless the log already shows a moat
    failure; a second abort is a Missing naming the emulator's message."""
    wall, lines, _ = timed_boot_marks(name, make_argv, done_rx, timeout)
    return wall, lines


def timed_boot_marks(name, make_argv, done_rx, timeout, marks=(), allow_timeout=False):
    """timed_boot, and also the seconds from start to the first line matching each regex of
    `marks` ({regex: seconds}, absent if none matched). allow_timeout: no done_rx line
    within the timeout (or QEMU exiting without one) gives wall None instead of Missing."""
    first = None
    while True:
        try:
            return timed_boot_once(name, make_argv, done_rx, timeout, marks, allow_timeout)
        except EmulatorCrash as e:
            if first is not None or harness.moat_failed_before(e.lines):
                raise Missing(f"{name}: " + (f"QEMU aborted again after a rerun (first: {first}): "
                                             if first else "QEMU aborted after a moat failure: ")
                              + f"{e.message} (log {e.log})") from None
            first = e.message
            RERUNS.append((name, e.message))
            print(f"bench: {name}: {e.message}; rerunning once", flush=True)


class EmulatorCrash(Exception):
    def __init__(self, message, lines, log):
        super().__init__(message)
        self.message, self.lines, self.log = message, lines, log


def timed_boot_once(name, make_argv, done_rx, timeout, marks=(), allow_timeout=False):
    r = harness.Run(name)
    argv = make_argv(r.dir, f"file:{r.serial_path}")
    with open(os.path.join(r.dir, "cmdline"), "w") as f:
        f.write(" ".join(argv) + "\n")
    rx = re.compile(done_rx.encode(), re.M)
    mark_rx = {m: re.compile(m.encode(), re.M) for m in marks}
    seen = {}
    wall = None
    with open(os.path.join(r.dir, "qemu.stderr"), "w") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                             start_new_session=True)
        try:
            while time.monotonic() - t0 < timeout:
                exited = p.poll() is not None
                if os.path.exists(r.serial_path):
                    with open(r.serial_path, "rb") as f:
                        text = f.read().replace(b"\r", b"\n")
                    now = time.monotonic() - t0
                    for m, mrx in mark_rx.items():
                        if m not in seen and mrx.search(text):
                            seen[m] = now
                    if rx.search(text):
                        wall = now
                        break
                if exited:
                    break
                time.sleep(0.05)
            if wall is not None:  # let moat's exit (or the last lines) through
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    if os.path.exists(r.serial_path):
        r.read_serial()
    crash = harness.emulator_crash("QEMU", p.returncode,
                                   harness.read_text(os.path.join(r.dir, "qemu.stderr")),
                                   stopped_by_us=wall is not None or time.monotonic() - t0 >= timeout)
    if wall is None and crash:
        kept = r.dir + ".crash"
        shutil.rmtree(kept, ignore_errors=True)
        os.rename(r.dir, kept)
        raise EmulatorCrash(crash, r.lines, os.path.join(kept, "qemu.stderr"))
    if wall is None and not allow_timeout:
        tail = " | ".join(r.lines[-3:]) or "no serial output"
        raise Missing(f"{name}: no line matching {done_rx!r} within {timeout} s "
                      f"(QEMU status {p.returncode}); last lines: {tail} (log {r.serial_path})")
    return wall, r.lines, seen


def moat_boot(name, boot, timeout=300):
    def argv(d, serial):
        return harness.qemu_argv(boot, "reference", d, serial, os.path.join(d, "monitor.sock"))
    return timed_boot(name, argv, r"^moat: \d+ passed, \d+ failed, \d+ skipped$", timeout)


def linux_boot(name, boot, timeout=180):
    """The Linux reference (tests/linuxref) on the same machine: kernel, initramfs enabling
    2 VFs, `linuxref: done` as its final line."""
    info = linuxref_build.build()

    def argv(d, serial):
        return linuxref.kernel_boot(
            harness.qemu_argv(boot, "reference", d, serial, os.path.join(d, "monitor.sock")),
            info["kernel"], info["initrd"], f"{linuxref.CMDLINE} linuxref.numvfs=2")
    return timed_boot(name, argv, r"linuxref: done", timeout)


# ---------------------------------------------------------------------------------------
# 2b. A Linux guest (issue 15): boot to /init against bare, -icount, exits (linux_bench.py)
# The product on the reference machine with one Linux guest; bare: the same kernel,
# initramfs and command line on the identical QEMU machine, nr_cpus= as many CPUs as the
# guest has (the machine's other CPUs stay unused, as moat's CPUs 2-3 do).
LINUX_BENCH_CMDLINE = "console=ttyS0 nokaslr quiet panic=-1 no_timer_check linuxguest"
LINUX_BENCH_VCPUS = 1
LINUX_IDLE_S = 10
# -icount runs every vCPU in one host thread: on the reference machine (4 CPUs) OVMF had not
# printed a line after 4 minutes; `plain` with 2 CPUs boots bare Linux to its power-off in
# about 4 minutes of wall time. The guest and bare boots of the pair both use it.
ICOUNT_MACHINE = dict(topology="plain", smp=2)
LINUX_INIT_RX = rf"^\[{linux_bench.GUEST}\] linuxguest: init "
MOAT_START_RX = r"^moat: moat hypervisor starting"
SUMMARY_RX = r"^moat: \d+ passed, \d+ failed, \d+ skipped$"


def linux_bench_conf(idle):
    return (f"guest {linux_bench.GUEST} memory=256M cpu=1 kernel=vmlinuz initrd=initrd.gz "
            f'cmdline="{LINUX_BENCH_CMDLINE} linuxguest.idle={idle}"\n')


def linux_guest_boot(name, idle=0, extra=(), timeout=300, topology="reference", smp=None,
                     image="product"):
    """moat (the product, or the test image for its exit counter port) with the Linux
    guest; linux_bench.guest_run's figures. A guest that never ends (moat then prints no
    summary) is a run without its later figures, not an error: the reason is in 'where'."""
    try:
        esp = linux_guest.esp_with_linux(f"esp-{name}", linux_bench_conf(idle), image=image)()
    except harness.RunUnavailable as e:
        raise Missing(str(e))

    def argv(d, serial):
        return harness.qemu_argv("uefi", topology, d, serial, os.path.join(d, "monitor.sock"),
                                 smp=smp, esp=esp, extra=extra, image=image)
    wall, lines, marks = timed_boot_marks(name, argv, SUMMARY_RX, timeout,
                                          marks=(LINUX_INIT_RX, MOAT_START_RX), allow_timeout=True)
    r = types.SimpleNamespace(name=name, lines=lines, timed_out=wall is None, elapsed=timeout)
    return linux_bench.guest_run(lines, marks, LINUX_INIT_RX, MOAT_START_RX,
                                 linux_guest.stopped_at(r, linux_bench.GUEST))


def linux_bare_boot(name, extra=(), timeout=240, topology="reference", smp=None):
    """(seconds from QEMU's start to /init, Linux's clock at "Run /init")."""
    try:
        info = linuxref_build.build()
    except linuxref_build.Unavailable as e:
        raise Missing(f"the Linux kernel cannot be had: {e}")

    def argv(d, serial):
        return linuxref.kernel_boot(
            harness.qemu_argv("uefi", topology, d, serial, os.path.join(d, "monitor.sock"),
                              smp=smp, extra=extra),
            info["kernel"], info["initrd"],
            f"{LINUX_BENCH_CMDLINE} linuxguest.idle=0 nr_cpus={LINUX_BENCH_VCPUS}")
    init_rx = r"linuxguest: init "
    _, lines, marks = timed_boot_marks(name, argv, r"linuxguest: poweroff", timeout, marks=(init_rx,))
    if init_rx not in marks:
        raise Missing(f"{name}: bare Linux printed no init line")
    return marks[init_rx], linux_bench.bare_run_init(lines)


def linux_figures(runs):
    """res["linux"] and the errors (runs that gave no numbers at all)."""
    errors, guest_runs, bare_walls = [], [], []
    for i in range(runs):
        print(f"bench: Linux guest to /init, run {i + 1}/{runs}: moat, then bare", flush=True)
        try:
            guest_runs.append(linux_guest_boot(f"bench-linux-guest-{i}"))
        except Missing as e:
            errors.append(f"Linux guest: {e}")
        try:
            bare_walls.append(linux_bare_boot(f"bench-linux-bare-{i}")[0])
        except Missing as e:
            errors.append(f"Linux bare: {e}")
    out = {"cmdline": LINUX_BENCH_CMDLINE, "vcpus": LINUX_BENCH_VCPUS}
    if bare_walls:
        out["bare_to_init"] = stats(bare_walls)
    out["boot"] = linux_bench.boot_figures(guest_runs, bare_walls) if len(bare_walls) == runs \
        else {"not_measured": "the bare boots did not all finish"}
    reached = guest_runs and not linux_bench.not_reached(guest_runs, need_end=False)
    ended = guest_runs and not linux_bench.not_reached(guest_runs)
    idle = None
    if ended:
        print(f"bench: Linux guest idle {LINUX_IDLE_S} s", flush=True)
        try:
            # the test image: it prints the guest's exits at guest.sh's marks around the idle
            idle = linux_guest_boot("bench-linux-guest-idle", idle=LINUX_IDLE_S, image="test",
                                    timeout=420)
        except Missing as e:
            errors.append(f"Linux guest idle: {e}")
    out["exits"] = linux_bench.exit_figures(guest_runs, idle, LINUX_IDLE_S)
    print("bench: Linux to /init under -icount, bare (and as a guest once it gets there)", flush=True)
    bare_ic = guest_ic = None
    try:
        bare_ic = linux_bare_boot("bench-linux-bare-icount", extra=ICOUNT_ARGS, timeout=900,
                                  **ICOUNT_MACHINE)[1]
    except Missing as e:
        errors.append(f"Linux bare -icount: {e}")
    if reached:
        try:
            guest_ic = linux_guest_boot("bench-linux-guest-icount", extra=ICOUNT_ARGS, timeout=1200,
                                        **ICOUNT_MACHINE)
        except Missing as e:
            errors.append(f"Linux guest -icount: {e}")
    out["icount"] = linux_bench.icount_figures(guest_ic, bare_ic) if reached else \
        {"not_measured": linux_bench.not_reached(guest_runs, need_end=False) or "no moat run", "bare_ns":
         bare_ic * 1e9 if bare_ic is not None else None}
    return out, errors


# ---------------------------------------------------------------------------------------
# 2c. The Linux guests' data path (issue 16; linux_vf_bench.py): two Linux guests with a VF
# each (tests/emu/linux_guest.py's VF_WEB, VF_APP: guest.sh's network mode) move
# linuxguest.mib MiB over TCP between exit marks; the test image for its exit counter port.
LINUX_VF_RUN = "bench-linux-vf"
LINUX_VF_SMP = 4  # moat's CPU 0, web's two vCPUs, app's one


def linux_vf_conf():
    guests = [linux_guest.LinuxGuest(g.name, g.cpus, g.mem // MiB, g.device, dict(g.net, exits=1))
              for g in linux_guest.VF_GUESTS]
    return ("# two Linux guests with a VF each, the transfer between exit marks (bench.py)\n"
            + "".join(g.conf() for g in guests))


def linux_data_path(timeout=600):
    """linux_vf_bench.transfer_figures of one boot; a figure it cannot give says why (with
    how far each Linux got)."""
    try:
        esp = linux_guest.esp_with_linux(f"esp-{LINUX_VF_RUN}", linux_vf_conf(), image="test")()
    except harness.RunUnavailable as e:
        return {"not_measured": str(e)}

    def argv(d, serial):
        return harness.qemu_argv("uefi", "reference", d, serial, os.path.join(d, "monitor.sock"),
                                 smp=LINUX_VF_SMP, esp=esp, image="test")
    wall, lines, _ = timed_boot_marks(LINUX_VF_RUN, argv, SUMMARY_RX, timeout, allow_timeout=True)
    sender, receiver = (next(g.name for g in linux_guest.VF_GUESTS if g.net.get("role") == role)
                        for role in ("send", "listen"))
    out = linux_vf_bench.transfer_figures(lines, sender, receiver)
    if "not_measured" in out:
        r = types.SimpleNamespace(name=LINUX_VF_RUN, lines=lines, timed_out=wall is None,
                                  elapsed=timeout)
        out["not_measured"] += "; " + "; ".join(
            f"{g}: {linux_guest.stopped_at(r, g)}" for g in (sender, receiver))
    out.update(sender=sender, receiver=receiver)
    return out


def linux_data_path_errors(lv):
    """A transfer whose bytes arrived damaged is a failure of moat, not a missing figure."""
    return [f"Linux guests' data path: {lv['not_measured']}"] if lv.get("damaged") else []


# ---------------------------------------------------------------------------------------
# 1. Per-exit cost
EXIT_RE = re.compile(r"^\[bench\] bench: exit=(\S+) n=(\d+) min=(\d+) median=(\d+) max=(\d+) "
                     r"raw-median=(\d+) baseline=(\d+)")
UNAVAIL_RE = re.compile(r"^\[bench\] bench: exit=(\S+) unavailable: (.*)$")
NPF_BASE_RE = re.compile(r"^\[bench\] bench: npf-baseline n=\d+ median=(\d+)")
NPF_RE = re.compile(r"^vmm: guest bench: npf-ticks (\d+)")


def parse_exit_costs(lines):
    """The bench guest's figures: {kind: {n, min, median, max, raw_median, baseline}} or
    {kind: {"not_measured": reason}}, and "npf" from the fault handler's line."""
    out = {}
    for ln in lines:
        m = EXIT_RE.match(ln)
        if m:
            kind, n, lo, med, hi, raw, base = m.groups()
            out[kind] = {"n": int(n), "min": int(lo), "median": int(med), "max": int(hi),
                         "raw_median": int(raw), "baseline": int(base)}
        m = UNAVAIL_RE.match(ln)
        if m:
            out[m.group(1)] = {"not_measured": m.group(2)}
    npf = [int(m.group(1)) for m in map(NPF_RE.match, lines) if m]
    base = [int(m.group(1)) for m in map(NPF_BASE_RE.match, lines) if m]
    if npf and base:
        v = npf[0] - base[0]
        out["npf"] = {"n": 1, "min": v, "median": v, "max": v, "raw_median": npf[0],
                      "baseline": base[0], "note": "exit to the fault handler; moat stops the guest"}
    return out


def exit_cost_boot(name, files, topology="plain", done_rx=r"^moat: \d+ passed"):
    """One bench guest under -icount on `topology` with 2 CPUs: its report lines up to the
    first matching done_rx."""
    esp = os.path.join(BUILD, f"esp-{name}")
    shutil.rmtree(esp, ignore_errors=True)
    shutil.copytree(harness.image_path("test", "esp"), esp)
    for fname, src in files.items():
        dst = os.path.join(esp, "EFI", "BOOT", fname)
        if src.startswith("copy:"):
            shutil.copyfile(os.path.join(BUILD, src[len("copy:"):]), dst)
        else:
            with open(dst, "w") as f:
                f.write(src)

    def argv(d, serial):
        return harness.qemu_argv("uefi", topology, d, serial, os.path.join(d, "monitor.sock"),
                                 smp=2, extra=ICOUNT_ARGS, esp=esp)
    _, lines = timed_boot(name, argv, done_rx, 600)
    return lines


def exit_costs():
    """Two boots: the bench guest as a moat guest (CPUID, I/O, hypercall, NPF), then as an
    OS guest (its local APIC's exits)."""
    out = parse_exit_costs(exit_cost_boot("bench-exits", {"moat.cmd": BENCH_CONFIG + "\n"}))
    os_out = parse_exit_costs(exit_cost_boot("bench-exits-apic", {
        "moat.conf": BENCH_OS_CONF, "bench.bz": "copy:guests/bench.bz"}))
    out.update({k: v for k, v in os_out.items() if k in APIC_KINDS})
    missing = [k for k in EXIT_KINDS + APIC_KINDS + ["npf"] if k not in out]
    if missing:
        raise Missing(f"bench guest printed no figure for {', '.join(missing)} "
                      f"(logs {os.path.join(harness.LOGS, 'bench-exits', 'serial.log')}, "
                      f"{os.path.join(harness.LOGS, 'bench-exits-apic', 'serial.log')})")
    return out


# ---------------------------------------------------------------------------------------
# 1b. What one MSI-X interrupt of a VF costs (issue 16): the bench guest as an OS guest with a
# VF (guests/bench/vf_irq.c) raises its VF's interrupt with a store to VTEICS, BENCH_N times,
# under -icount with the reference machine's devices (intel-iommu with interrupt remapping,
# igb) but 2 CPUs (-icount runs every vCPU in one host thread: see ICOUNT_MACHINE); the test
# image, for its exit counter port (marks 3 and 4 around the interrupts).
VF_IRQ_KINDS = ["vf-irq", "vf-irq-eoi", "vf-irq-return"]
VF_IRQ_CONF = "guest bench memory=32M cpu=1 kernel=bench.bz device=01:00.0/vf0\n"
VF_IRQ_RUN = "bench-vf-irq"
VF_IRQ_MARKS_RE = re.compile(r"^\[bench\] bench: vf-irq exits-marks (\d+) and (\d+) around "
                             r"(\d+) interrupts, (\d+) taken$")
# moat's device report when the guest ends (docs/passthrough.md): the device's interrupt
# messages that reached the guest's host vectors. The run ends there: under -icount the test
# image's self-tests after the guests take minutes.
VF_IRQ_DEVICE_RE = re.compile(r"^vmm: guest bench: device 00:01\.0 = .* MSI-X messages (\d+) ")
# Bochs has neither an IOMMU nor an igb: no VF can be given to a guest under VMX.
VF_IRQ_VMX_REASON = ("Bochs (VMX) has no IOMMU and no igb (82576), so no guest there owns a "
                     "VF; the injection part alone under VMX: 'exit cost apic-timer-irq, VMX "
                     "(Bochs)' (timer interrupt, arming to the handler) and 'apic-eoi'")


def parse_vf_irq(lines):
    """The VF interrupt's figures: {"costs": {kind: parse_exit_costs' figure}, "n": interrupts
    between the marks, "exits": {"total", "by_reason"} between them (the second mark's own
    port write taken off), "exits_per_interrupt": the same divided by n}. Raises Missing
    when a figure is absent or cannot be right (fewer interrupts taken than raised, exits
    that went down, fewer exits than interrupts: each one reaches moat as its host vector)."""
    costs = parse_exit_costs(lines)
    missing = [k for k in VF_IRQ_KINDS if "median" not in costs.get(k, {})]
    if missing:
        raise Missing(f"the bench guest printed no figure for {', '.join(missing)}: "
                      + "; ".join(costs.get(k, {}).get("not_measured", "no line") for k in missing))
    hdr = [m for m in map(VF_IRQ_MARKS_RE.match, lines) if m]
    if not hdr:
        raise Missing("no `bench: vf-irq exits-marks` line from the bench guest")
    a, b, n, taken = (int(x) for x in hdr[0].groups())
    if taken < n:
        raise Missing(f"the guest took {taken} interrupts, fewer than the {n} it raised")
    marks = linux_bench.exit_marks(lines, "bench")
    if a not in marks or b not in marks:
        raise Missing(f"moat printed no `vmm: exits bench: mark {a}/{b}` lines (the test image's "
                      f"exit counter port is needed)")
    dev = [int(m.group(1)) for m in map(VF_IRQ_DEVICE_RE.match, lines) if m]
    if not dev or dev[0] < n:
        raise Missing(f"moat counted {dev[0] if dev else 'no'} MSI-X messages of the guest's VF "
                      f"(`vmm: guest bench: device 00:01.0 = ...` line), fewer than the {n} "
                      f"interrupts the guest raised")
    by = {k: marks[b].get(k, 0) - marks[a].get(k, 0) for k in sorted(set(marks[a]) | set(marks[b]))}
    by["io"] = by.get("io", 0) - 1
    if any(v < 0 for v in by.values()):
        raise Missing(f"exit counters went down between marks {a} and {b}: {by}")
    by = {k: v for k, v in by.items() if v}
    total = sum(by.values())
    if total < n:
        raise Missing(f"{total} exits between marks {a} and {b} for {n} interrupts: each "
                      f"interrupt reaches moat as its host vector at least ({by or 'none'})")
    for k in VF_IRQ_KINDS:
        c = costs[k]
        if not 0 < c["min"] <= c["median"] <= c["max"] or c["n"] != n:
            raise Missing(f"{k}: {c} is not {n} samples with 0 < min <= median <= max")
    if costs["vf-irq"]["median"] >= costs["vf-irq-return"]["median"]:
        raise Missing(f"vf-irq (store to the handler, median {costs['vf-irq']['median']}) is not "
                      f"less than vf-irq-return (store to the return, median "
                      f"{costs['vf-irq-return']['median']}), which includes it")
    return {"costs": {k: costs[k] for k in VF_IRQ_KINDS}, "n": n, "msix_messages": dev[0],
            "exits": {"total": total, "by_reason": by},
            "exits_per_interrupt": {"total": total / n, "by_reason": {k: v / n for k, v in by.items()}}}


def vf_irq_figures():
    """res["vf_irq"] and the errors: a boot without its figures is an error."""
    print("bench: one VF MSI-X interrupt (QEMU -icount shift=0, bench guest as an OS guest "
          "with VF0)", flush=True)
    try:
        return vf_irq_costs(), []
    except Missing as e:
        return {"not_measured": str(e)}, [str(e)]


def vf_irq_costs():
    """One boot under -icount (the test image, topology `reference` with 2 CPUs): the bench
    guest as an OS guest with VF0, alone on CPU 1."""
    lines = exit_cost_boot(VF_IRQ_RUN, {"moat.conf": VF_IRQ_CONF,
                                        "bench.bz": "copy:guests/bench.bz"},
                           topology="reference", done_rx=VF_IRQ_DEVICE_RE.pattern)
    try:
        return parse_vf_irq(lines)
    except Missing as e:
        raise Missing(f"{VF_IRQ_RUN}: {e} (log {os.path.join(harness.LOGS, VF_IRQ_RUN, 'serial.log')})")


# ---------------------------------------------------------------------------------------
# The same bench guest under VMX + EPT in Bochs (GRUB multiboot2, 2 CPUs, `clock:
# sync=none`): the TSC the guest reads moves with the instructions executed, in steps of 5
# (every figure and baseline a multiple of 5, the same in every boot; the SMP quantum, 1 or
# Bochs' 16, changes nothing), so the figures are instructions to within 5.
BOCHS_BENCH_CONF = "guest bench memory=16M cpu=1 image=bench\n"


def bochs_boot(name, modules, kinds, timeout):
    import matrix  # noqa: E402 (it imports this module: only when the figure is taken)
    try:
        iso = matrix.iso_with_modules(f"iso-{name}", "", modules)()
    except (OSError, subprocess.CalledProcessError) as e:
        raise Missing(f"{name}: the GRUB ISO could not be made: {e}")
    r = harness.run_bochs(name, cpus=2, timeout=timeout, iso=iso)
    out = parse_exit_costs(r.lines)
    missing = [k for k in kinds if k not in out]
    if missing:
        tail = " | ".join(r.lines[-3:]) or "no serial output"
        raise Missing(f"{name}: the bench guest printed no figure for {', '.join(missing)} "
                      f"({'timed out; ' if r.timed_out else ''}last lines: {tail}; "
                      f"log {r.serial_path})")
    return out


def bochs_exit_costs(timeout=900):
    """The bench guest's figures under VMX (Bochs): as a moat guest, then as an OS guest."""
    def bz():
        with open(os.path.join(BUILD, "guests", "bench.bz"), "rb") as f:
            return f.read()
    out = bochs_boot("bench-exits-bochs", {"config": ("call", lambda: BOCHS_BENCH_CONF.encode())},
                     EXIT_KINDS + ["npf"], timeout)
    os_out = bochs_boot("bench-exits-apic-bochs", {
        "config": ("call", lambda: BENCH_OS_CONF.encode()), "bench.bz": ("call", bz)},
        APIC_KINDS, timeout)
    out.update({k: v for k, v in os_out.items() if k in APIC_KINDS})
    return out


# ---------------------------------------------------------------------------------------
# 3. Memory, from moat's report lines
NPT_RE = re.compile(r"^vmm: guest (\S+): RAM (\d+) MiB at HPA (0x[0-9a-f]+), nested tables: "
                    r"(\d+) x 1G, (\d+) x 2M, (\d+) x 4K \((\d+) tables\)")
DOM_RANGE_RE = re.compile(r"^iommu: domain (\S+): maps (0x[0-9a-f]+)-(0x[0-9a-f]+)")
DOM_RE = re.compile(r"^iommu: domain (\S+): (\d+) tables, leaves (\d+) x 1G, (\d+) x 2M, (\d+) x 4K")
HV_MEM_RE = re.compile(r"^moat: memory: image (\d+) bytes, allocator handed out (\d+) of (\d+) bytes")
VMM_MEM_RE = re.compile(r"^vmm: memory: (\d+) guests hold (\d+) bytes of RAM and guards, "
                        r"(\d+) nested table pages")


def min_tables(ranges, levels=4, max_leaf=2):
    """Fewest table pages (and leaves per size) that map `ranges` [(start, end)] with pages
    up to level max_leaf (0 4K, 1 2M, 2 1G) in a `levels`-level table: a leaf wherever an
    entry's whole span is inside a range (and the level allows it), a table below otherwise."""
    leaves = [0] * 3

    def covered(a, b):
        return any(s <= a and b <= e for s, e in ranges)

    def touched(a, b):
        return any(s < b and a < e for s, e in ranges)

    def table(base, lvl):
        n, span = 1, 4096 << (9 * lvl)
        for i in range(512):
            a = base + i * span
            if not touched(a, a + span):
                continue
            if lvl <= max_leaf and covered(a, a + span):
                leaves[lvl] += 1
            elif lvl > 0:
                n += table(a, lvl - 1)
        return n
    return table(0, levels - 1), leaves


def memory(lines):
    out = {"guests": {}, "iommu": {}}
    ranges = {}
    for ln in lines:
        m = NPT_RE.match(ln)
        if m and m.group(1) not in out["guests"]:
            name, mib = m.group(1), int(m.group(2))
            hpa = int(m.group(3), 16)
            # The fewest the GPA layout allows: 1 GiB pages need the HPA 1 GiB aligned too.
            best, leaves = min_tables([(0, mib * MiB)], max_leaf=2)
            out["guests"][name] = {"ram_mib": mib, "tables": int(m.group(7)),
                                   "leaves_1g_2m_4k": [int(m.group(i)) for i in (4, 5, 6)],
                                   "min_tables": best, "min_leaves_1g_2m_4k": leaves[::-1],
                                   "hpa_1g_aligned": hpa % GiB == 0}
        m = DOM_RANGE_RE.match(ln)
        if m:
            ranges.setdefault(m.group(1), []).append((int(m.group(2), 16), int(m.group(3), 16)))
        m = DOM_RE.match(ln)
        if m:
            name = m.group(1)
            best, leaves = min_tables(ranges.get(name, []), max_leaf=2)
            out["iommu"][name] = {"tables": int(m.group(2)),
                                  "leaves_1g_2m_4k": [int(m.group(i)) for i in (3, 4, 5)],
                                  "min_tables": best, "min_leaves_1g_2m_4k": leaves[::-1],
                                  "mapped_bytes": sum(e - s for s, e in ranges.get(name, []))}
        m = HV_MEM_RE.match(ln)
        if m:
            out["image_bytes"], out["allocated_bytes"] = int(m.group(1)), int(m.group(2))
        m = VMM_MEM_RE.match(ln)
        if m:
            out["nr_guests"], out["guest_ram_bytes"] = int(m.group(1)), int(m.group(2))
    # The configured guests are built first; the hypervisor's self-tests build short-lived
    # ones (4 MiB) later: only the first `nr_guests` table lines are the configured guests.
    out["guests"] = dict(list(out["guests"].items())[:out.get("nr_guests", 0)])
    if "image_bytes" not in out or "guest_ram_bytes" not in out or not out["guests"]:
        raise Missing("moat's memory report lines (moat: memory, vmm: memory, vmm: guest ... "
                      "nested tables) are missing from the reference run")
    out["resident_bytes"] = out["image_bytes"] + out["allocated_bytes"] - out["guest_ram_bytes"]
    return out


STATS_RE = re.compile(r"^vmm: stats (\S+): .*?; exits: (.*?); io denied")


def guest_exits(lines, names):
    """Exits by reason of each configured guest from launch to its end (`vmm: stats`)."""
    out = {}
    for m in map(STATS_RE.match, lines):
        if m and m.group(1) in names and m.group(1) not in out:
            by = {k: int(v) for k, v in (x.split("=") for x in m.group(2).split() if "=" in x)}
            out[m.group(1)] = {"total": sum(by.values()), "by_reason": by}
    if set(out) != set(names):
        raise Missing(f"no `vmm: stats` line for {', '.join(sorted(set(names) - set(out)))}")
    return out


# ---------------------------------------------------------------------------------------
# 4. Size
def elf_load_bytes(path):
    """Sum of the PT_LOAD segments' memory sizes (file and .bss) of an ELF64 file."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    filesz = memsz = 0
    for i in range(phnum):
        p_type, _, _, _, _, p_filesz, p_memsz, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            filesz += p_filesz
            memsz += p_memsz
    return filesz, memsz


def code_lines(path):
    """Non-blank lines that are not only comment, for C (// and /* */) and NASM (;)."""
    n, in_block = 0, False
    asm = path.endswith((".asm", ".S", ".s", ".inc"))
    with open(path, errors="replace") as f:
        for ln in f:
            s = ln.strip()
            if asm and not path.endswith(".S"):
                if s and not s.startswith(";"):
                    n += 1
                continue
            code = ""
            while s:
                if in_block:
                    end = s.find("*/")
                    if end < 0:
                        s = ""
                        break
                    s, in_block = s[end + 2:], False
                else:
                    start = s.find("/*")
                    line_c = s.find("//")
                    if line_c >= 0 and (start < 0 or line_c < start):
                        code += s[:line_c]
                        break
                    if start < 0:
                        code += s
                        break
                    code += s[:start]
                    s, in_block = s[start + 2:], True
            if code.strip():
                n += 1
    return n


def count_tree(dirs):
    """Code lines (code_lines) by language, and physical lines (every line, as wc -l counts:
    the measure Jailhouse's size is quoted in) of the C, header and assembly files git
    tracks under dirs."""
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "--"] + dirs, capture_output=True,
                           text=True, check=True).stdout.split()
    out = {"c": 0, "asm": 0, "files": 0, "physical": 0}
    for rel in files:
        kind = "c" if rel.endswith((".c", ".h")) else "asm" if rel.endswith((".asm", ".S", ".inc")) else None
        if kind:
            out[kind] += code_lines(os.path.join(ROOT, rel))
            with open(os.path.join(ROOT, rel), "rb") as f:
                out["physical"] += f.read().count(b"\n")
            out["files"] += 1
    return out


def elf_sections(path, names):
    """Sizes of the named sections of an ELF64 file ({name: bytes}, 0 when absent)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    sec = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab = sec[shstrndx][4]
    out = dict.fromkeys(names, 0)
    for name_off, _, _, _, _, sh_size, _, _, _, _ in sec:
        end = data.index(b"\0", strtab + name_off)
        name = data[strtab + name_off:end].decode()
        if name in out:
            out[name] = sh_size
    return out


# The product image's sections (build/moat.elf: no test code, docs/testing.md).
PRODUCT_SECTIONS = (".text", ".rodata", ".data", ".bss")


def size():
    filesz, memsz = elf_load_bytes(os.path.join(BUILD, "moat.elf"))
    guests = {}
    for g in sorted(os.listdir(os.path.join(BUILD, "guests"))):
        if g.endswith(".elf"):
            guests[g[:-4]] = os.path.getsize(os.path.join(BUILD, "guests", g))
    return {"moat_elf_load_file_bytes": filesz, "moat_elf_load_mem_bytes": memsz,
            "moat_elf_sections": elf_sections(os.path.join(BUILD, "moat.elf"), PRODUCT_SECTIONS),
            "moat_test_elf_sections": elf_sections(os.path.join(BUILD, "moat-test.elf"),
                                                   PRODUCT_SECTIONS),
            "guest_image_file_bytes": guests,
            "moat_efi_bytes": os.path.getsize(os.path.join(BUILD, "moat.efi")),
            "lines_hypervisor": count_tree(HV_DIRS), "lines_guests": count_tree(["guests"]),
            "lines_tests_hv": count_tree(["tests/hv"]),
            "lines_tests": count_tree(["tests"])}


# moat reports the tables of the hypervisor's domain only (iommu_domain_report).
GUEST_DOMAIN_REASON = "moat prints no table report for a guest's IOMMU domain"

# ---------------------------------------------------------------------------------------
# 5. The data path: guest to guest through passthrough VFs, against moat's native VF bench
# Two bench guests, each given one VF: with a VF the bench guest measures the data path
# (guests/lib/vf_suite.c, vf_dataplane_bench): alpha sends, beta receives. After them, in
# the same boot, moat's igbvf self-tests drive the same two VFs natively on CPU 0
# (igbvf: native-bulk), with the same frame count, sizes, window and checks.
DATAPLANE_CMD = ("config=guest,alpha,memory=16M,cpu=1,image=bench,device=01:00.0/vf0;"
                 "guest,beta,memory=16M,cpu=2,image=bench,device=01:00.0/vf1")
DATAPLANE_SIZES = [64, 512, 1514]
# vmm/exit.c vmm_exit_name(), in the order of enum vmm_exit_reason (HC_GET_EXITS indices);
# test_bench.py checks the two agree.
# HC_GET_EXITS reasons by the ABI's number (MOAT_EXIT_* in include/moat/hypercall.h).
EXIT_REASON_NAMES = ["other", "cpuid", "io", "msr-read", "msr-write", "hlt", "hypercall", "npf",
                     "ext-intr", "nmi", "exception", "shutdown", "watchdog", "invalid",
                     "virt-insn", "cr-write", "insn"]
SEND_RE = re.compile(r"^\[(\S+)\] bench guest: role=send size=(\d+) frames=(\d+) ticks=(\d+) "
                     r"tsc_khz=(\d+)$")
RECV_RE = re.compile(r"^\[(\S+)\] bench guest: role=receive size=(\d+) frames=(\d+) "
                     r"received=(\d+) bad=(\d+)$")
GEXITS_RE = re.compile(r"^\[(\S+)\] bench guest exits: role=(send|receive) size=(\d+) "
                       r"by-reason=([\d,]+)$")
GTAP_RE = re.compile(r"^\[(\S+)\] (ok|not ok) \d+ - bench: dataplane-(\d+)(.*)$")
NATIVE_RE = re.compile(r"^igbvf: bench native: (\d+) frames of (\d+) bytes VF\d+->VF\d+ in "
                       r"(\d+) us: ")
NTAP_RE = re.compile(r"^(ok|not ok) \d+ - igbvf: native-bulk(.*)$")
# Both durations come from moat's TSC calibration (the guests get it in guest_info).
TSC_OK_RE = re.compile(r"^ok \d+ - boot: tsc-frequency$")


def parse_dataplane(lines, sizes=DATAPLANE_SIZES):
    """One boot's data path figures: per size the guest transfer (frames, seconds from the
    sender's TSC), the native one (frames, seconds), and the exits of sender and receiver
    during their part of the batch (by reason name, only those that happened). Raises
    Missing unless every batch of both sides is there, whole and verified: a broken or
    lossy transfer gives no number."""
    send, recv, gexits, gtap, native = {}, {}, {}, {}, {}
    ntap = None
    for ln in lines:
        m = SEND_RE.match(ln)
        if m:
            send[int(m.group(2))] = {"guest": m.group(1), "frames": int(m.group(3)),
                                     "ticks": int(m.group(4)), "tsc_khz": int(m.group(5))}
        m = RECV_RE.match(ln)
        if m:
            recv[int(m.group(2))] = {"guest": m.group(1), "frames": int(m.group(3)),
                                     "received": int(m.group(4)), "bad": int(m.group(5))}
        m = GEXITS_RE.match(ln)
        if m:
            counts = [int(x) for x in m.group(4).split(",")]
            if len(counts) != len(EXIT_REASON_NAMES):
                raise Missing(f"exit counters of {m.group(1)}: {len(counts)} reasons, "
                              f"expected {len(EXIT_REASON_NAMES)}")
            gexits[(m.group(2), int(m.group(3)))] = {
                EXIT_REASON_NAMES[i]: n for i, n in enumerate(counts) if n}
        m = GTAP_RE.match(ln)
        if m:
            gtap.setdefault(int(m.group(3)), []).append((m.group(1), m.group(2), m.group(4)))
        m = NATIVE_RE.match(ln)
        if m:
            native[int(m.group(2))] = {"frames": int(m.group(1)), "us": int(m.group(3))}
        m = NTAP_RE.match(ln)
        if m:
            ntap = (m.group(1), m.group(2))
    if not any(TSC_OK_RE.match(ln) for ln in lines):
        raise Missing("boot: tsc-frequency did not pass: moat's TSC frequency, which times "
                      "both the guests' and the native transfer, is wrong or unchecked")
    if ntap is None or ntap[0] != "ok" or ntap[1]:
        raise Missing(f"igbvf: native-bulk did not pass ({ntap[0] + ntap[1] if ntap else 'no result'})")
    out = {}
    for size in sizes:
        res = gtap.get(size, [])
        if len(res) != 2 or any(st != "ok" or rest for _, st, rest in res):
            raise Missing(f"bench: dataplane-{size}: both guests must pass, got "
                          f"{', '.join(f'{g} {st}{rest}' for g, st, rest in res) or 'no result'}")
        s, r, n = send.get(size), recv.get(size), native.get(size)
        if not s or not r or not n:
            raise Missing(f"{size}-byte batch: missing the "
                          f"{'sender' if not s else 'receiver' if not r else 'native'} line")
        if r["received"] != r["frames"] or r["bad"] or s["frames"] != r["frames"]:
            raise Missing(f"{size}-byte batch: {r['guest']} received {r['received']} of "
                          f"{r['frames']} ({r['bad']} bad), {s['guest']} sent {s['frames']}")
        if n["frames"] != s["frames"]:
            raise Missing(f"{size}-byte batch: native {n['frames']} frames, guests "
                          f"{s['frames']}: not the same transfer")
        if s["tsc_khz"] <= 0 or s["ticks"] <= 0 or n["us"] <= 0:
            raise Missing(f"{size}-byte batch: no duration (ticks {s['ticks']}, TSC "
                          f"{s['tsc_khz']} kHz, native {n['us']} us)")
        ex = {}
        for role in ("send", "receive"):
            if (role, size) not in gexits:
                raise Missing(f"{size}-byte batch: no exit counters of the {role} side")
            ex[role] = gexits[(role, size)]
        out[size] = {"frames": s["frames"],
                     "guest_s": s["ticks"] / (s["tsc_khz"] * 1000.0),
                     "native_s": n["us"] / 1e6, "exits": ex}
    return out


def aggregate_dataplane(boots):
    """Figures over several boots (each parse_dataplane's result): per size frames/s and
    bytes/s of guest and native (median, min-max), the ratio guest / native (of each
    boot's pair, median and min-max), and exits per 1,000 frames by side and reason
    (over all boots: exits / frames * 1000)."""
    out = {}
    for size in boots[0]:
        g = [b[size]["frames"] / b[size]["guest_s"] for b in boots]
        n = [b[size]["frames"] / b[size]["native_s"] for b in boots]
        frames = sum(b[size]["frames"] for b in boots)
        exits = {}
        for role in ("send", "receive"):
            total = {}
            for b in boots:
                for k, v in b[size]["exits"][role].items():
                    total[k] = total.get(k, 0) + v
            exits[role] = {"total": sum(total.values()) * 1000.0 / frames,
                           "by_reason": {k: v * 1000.0 / frames for k, v in total.items()}}
        out[str(size)] = {
            "frames": boots[0][size]["frames"],
            "guest_frames_per_s": stats(g), "native_frames_per_s": stats(n),
            "guest_bytes_per_s": stats([x * size for x in g]),
            "native_bytes_per_s": stats([x * size for x in n]),
            "ratio": stats([a / b for a, b in zip(g, n)]),
            "exits_per_1000_frames": exits}
    return out


def dataplane_boot(name, timeout=300):
    esp = os.path.join(BUILD, "esp-bench-dataplane")
    shutil.rmtree(esp, ignore_errors=True)
    shutil.copytree(harness.image_path("test", "esp"), esp)
    with open(os.path.join(esp, "EFI", "BOOT", "moat.cmd"), "w") as f:
        f.write(DATAPLANE_CMD + "\n")

    def argv(d, serial):
        return harness.qemu_argv("uefi", "reference", d, serial, os.path.join(d, "monitor.sock"),
                                 esp=esp)
    _, lines = timed_boot(name, argv, r"^moat: \d+ passed, \d+ failed, \d+ skipped$", timeout)
    try:
        return parse_dataplane(lines)
    except Missing as e:
        raise Missing(f"{name}: {e} (log {os.path.join(harness.LOGS, name, 'serial.log')})")


def data_path(runs):
    """The data path vs native (docs/performance.md, "Data path"), `runs` boots."""
    boots, errors = [], []
    for i in range(runs):
        print(f"bench: data path, run {i + 1}/{runs}", flush=True)
        try:
            boots.append(dataplane_boot(f"bench-dataplane-{i}"))
        except Missing as e:
            errors.append(str(e))
    if len(boots) != runs:
        errors.append(f"data path: {len(boots)} of {runs} runs produced figures")
        return None, errors
    return aggregate_dataplane(boots), errors


# ---------------------------------------------------------------------------------------
def fmt_stat(s, unit="s", digits=2):
    return (f"{s['median']:.{digits}f} {unit} ({s['min']:.{digits}f}-{s['max']:.{digits}f}, "
            f"{len(s['runs'])} runs)")


def fmt_rate(s, unit=1):
    return (f"{s['median'] / unit:.{2 if unit > 1 else 0}f} ({s['min'] / unit:.{2 if unit > 1 else 0}f}-"
            f"{s['max'] / unit:.{2 if unit > 1 else 0}f})")


def add_linux_rows(add, lx):
    if not lx:
        return
    nm = lambda d: f"not measured yet: {d['not_measured']}"  # noqa: E731
    b = lx["boot"]
    if "bare_to_init" in lx:
        add("Linux bare to /init (OVMF, -kernel)", fmt_stat(lx["bare_to_init"]))
    if "not_measured" in b:
        add("Linux guest to /init (moat, OVMF)", nm(b))
    else:
        add("Linux guest to /init (moat, OVMF)", fmt_stat(b["moat"]))
        if "moat_from_its_start" in b:
            add("  from moat's first line", fmt_stat(b["moat_from_its_start"]))
        add("  ratio guest / bare", f"{b['ratio']:.2f} (goal 1.2 or less)")
    ic = lx["icount"]
    if ic.get("bare_ns") is not None:
        add("Linux bare, own clock at Run /init, -icount", f"{ic['bare_ns'] / 1e9:.3f} s (= ns of "
            f"instructions and sleep)")
    if "not_measured" in ic:
        add("Linux guest, own clock at Run /init, -icount", nm(ic))
    else:
        add("Linux guest, own clock at Run /init, -icount", f"{ic['guest_ns'] / 1e9:.3f} s, "
            f"ratio guest / bare {ic['ratio']:.2f}")
    for what, label in (("boot", "Linux guest exits, launch to power-off (boot)"),
                        ("idle", f"Linux guest exits, {LINUX_IDLE_S} s idle (exit marks 1 to 2)")):
        e = lx["exits"][what]
        if "not_measured" in e:
            add(label, nm(e))
            u = e.get("until_stopped")
            if u:
                add("  until moat stopped it", f"{u['total']:g} ("
                    + " ".join(f"{k}={v:g}" for k, v in u["by_reason"].items()) + ")")
        else:
            add(label, f"{e['total']:g} (" + " ".join(f"{k}={v:g}" for k, v in e["by_reason"].items()) + ")")
            if e.get("per_10s"):
                add("  per 10 s of Linux's clock between the marks",
                    f"{sum(e['per_10s'].values()):.0f} (" + " ".join(
                        f"{k}={v:.0f}" for k, v in e["per_10s"].items()) + f"; marks "
                    f"{e['guest_seconds']:.2f} s apart)")


def add_vf_irq_rows(add, vi):
    """What one MSI-X interrupt of a VF costs (the bench guest as an OS guest with a VF,
    -icount), and why there is no such figure under VMX."""
    if not vi:
        return
    label = "VF MSI-X interrupt (bench guest with a VF, OS guest, -icount)"
    if "not_measured" in vi:
        add(label, f"not measured yet: {vi['not_measured']}")
    else:
        add(label, f"{vi['n']} interrupts raised by a store to the VF's VTEICS; moat counted "
            f"{vi['msix_messages']} MSI-X messages")
        for k, what in (("vf-irq", "store to the handler (VT-d, host vector, exit, injection)"),
                        ("vf-irq-eoi", "the handler's EOI (xAPIC page)"),
                        ("vf-irq-return", "store to the return (the whole interrupt)")):
            c = vi["costs"][k]
            add(f"  {what}", f"{c['median']:,} instructions (min {c['min']:,}, max {c['max']:,}, "
                f"n={c['n']})")
        e = vi["exits_per_interrupt"]
        add("  exits per interrupt", f"{e['total']:g} (" + " ".join(
            f"{k}={v:g}" for k, v in e["by_reason"].items()) + ")")
    add("  VMX (Bochs)", f"not measured: {VF_IRQ_VMX_REASON}")


def vf_irq_instructions(vi):
    """The Linux data path table's `instructions per interrupt` row."""
    if not vi or "not_measured" in vi:
        why = vi["not_measured"] if vi else "the VF interrupt boot was not run"
        return f"not measured yet: {why}"
    c = vi["costs"]
    return (f"{c['vf-irq-return']['median']:,} in moat and the guest's minimal handler, store to "
            f"return ({c['vf-irq']['median']:,} to the handler, EOI {c['vf-irq-eoi']['median']:,}; "
            f"rows 'VF MSI-X interrupt'); Linux's own handler: not measured: "
            f"{linux_vf_bench.INSTRUCTIONS_REASON}")


def add_linux_vf_rows(add, lv, dp, vi=None):
    """The Linux guests' data path beside moat's own guests' and native (1514-byte frames,
    the nearest to a TCP stream's); vi: the VF interrupt's figures (vf_irq_costs)."""
    if not lv:
        return
    label = f"Linux guests' data path, TCP {lv['sender']} -> {lv['receiver']}"
    if "not_measured" in lv:
        add(label, f"not measured yet: {lv['not_measured']}")
        return
    add(label, f"{lv['bytes']} bytes in {lv['seconds']:.2f} s: {lv['bytes_per_s'] / MiB:.2f} MiB/s")
    d = (dp or {}).get("1514")
    if d:
        add("  moat's own guests, 1514 B frames", f"{fmt_rate(d['guest_bytes_per_s'], MiB)} MiB/s")
        add("  native (moat on CPU 0), 1514 B frames", f"{fmt_rate(d['native_bytes_per_s'], MiB)} MiB/s")
    else:
        add("  moat's own guests and native", "not measured yet: the data path boots gave no figures")
    num = lambda v: f"{v:,.0f}" if v >= 100 else f"{v:.3g}"  # noqa: E731
    fmt_by = lambda e: f"{num(e['total'])} (" + (" ".join(  # noqa: E731
        f"{k}={num(v)}" for k, v in e["by_reason"].items()) or "none of any reason") + ")"
    for g, f in lv["guests"].items():
        role = "send" if g == lv["sender"] else "receive"
        if "exits_per_1000_frames" not in f:
            add(f"  exits per 1,000 frames, {g} ({role})", f"not measured yet: {f['not_measured']}")
            continue
        add(f"  exits per 1,000 frames, {g} ({role})", fmt_by(f["exits_per_1000_frames"])
            + f"; {f['frames_rx']} frames in, {f['frames_tx']} out in {f['seconds']:.2f} s")
        cls = f["exits_per_1000_frames_by_class"]
        if "not_measured" in cls:
            add("    by class", f"not measured yet: {cls['not_measured']}")
        for key, label, _, _, _ in () if "not_measured" in cls else linux_vf_bench.EXIT_CLASSES:
            add(f"    {label}" + (" (goal 0)" if key == "frames" else ""), num(cls[key]))
        e = f["exits_per_interrupt"]
        add(f"  interrupt delivery, {g}", (f"not measured yet: {e['not_measured']}" if "not_measured" in e
                                          else f"{f['interrupts']} MSI-X interrupts "
                                          f"({num(f['interrupts_per_1000_frames'])} per 1,000 frames); "
                                          f"exits per interrupt {fmt_by(e)}"))
    add("  instructions per interrupt", vf_irq_instructions(vi))
    add("  exit classes", "; ".join(f"{label}: {what}" for _, label, _, _, what in
                                    linux_vf_bench.EXIT_CLASSES))


def print_table(res, errors):
    rows = []
    add = lambda a, b: rows.append((a, b))  # noqa: E731
    for key, backend, kinds in (("exits", "", EXIT_KINDS + APIC_KINDS + ["npf"]),
                                ("exits_vmx", ", VMX (Bochs)", EXIT_KINDS + APIC_KINDS + ["npf"])):
        ex = res.get(key)
        for k in kinds if ex else ():
            e = ex[k]
            if "not_measured" in e:
                add(f"exit cost {k}{backend}", f"not measured yet: {e['not_measured']}")
                continue
            note = " (to the handler; moat stops the guest)" if k == "npf" else ""
            add(f"exit cost {k}{backend}", f"{e['median']} instructions (min {e['min']}, "
                f"max {e['max']}, n={e['n']}){note}")
    for boot in ("uefi", "mb2"):
        b = res.get("boot", {}).get(boot, {})
        label = "OVMF UEFI app" if boot == "uefi" else "SeaBIOS GRUB multiboot2"
        if "moat" in b:
            add(f"boot to verdict, {label}", fmt_stat(b["moat"]))
        if "linux" in b:
            add(f"  Linux reference, {label}", fmt_stat(b["linux"]))
        if "ratio" in b:
            add("  ratio moat / Linux", f"{b['ratio']:.2f}")
    add_linux_rows(add, res.get("linux"))
    mem = res.get("memory")
    if mem:
        for name, g in mem["guests"].items():
            add(f"nested tables, guest {name} ({g['ram_mib']} MiB)",
                f"{g['tables']} pages (minimum {g['min_tables']}); leaves 1G/2M/4K "
                f"{'/'.join(map(str, g['leaves_1g_2m_4k']))} (minimum "
                f"{'/'.join(map(str, g['min_leaves_1g_2m_4k']))})")
        for name, d in mem["iommu"].items():
            add(f"IOMMU tables, domain {name} ({d['mapped_bytes'] // MiB} MiB)",
                f"{d['tables']} pages (minimum {d['min_tables']}); leaves 1G/2M/4K "
                f"{'/'.join(map(str, d['leaves_1g_2m_4k']))}")
        add("IOMMU tables, guest domains", f"not measured yet: {GUEST_DOMAIN_REASON}")
        add("hypervisor resident memory",
            f"{mem['resident_bytes'] / MiB:.2f} MiB (image {mem['image_bytes'] // KiB} KiB + "
            f"{(mem['allocated_bytes'] - mem['guest_ram_bytes']) // KiB} KiB allocated, "
            f"guest RAM and guards excluded)")
    for name, g in res.get("guest_exits", {}).items():
        add(f"exits, guest {name}, launch to verdict",
            f"{g['total']} ({' '.join(f'{k}={v}' for k, v in g['by_reason'].items())})")
    sz = res.get("size")
    if sz:
        sec = sz["moat_elf_sections"]
        add("product moat.elf sections", ", ".join(f"{k} {v}" for k, v in sec.items()) + " bytes")
        tsec = sz["moat_test_elf_sections"]
        add("  test image moat-test.elf", ", ".join(f"{k} {v}" for k, v in tsec.items()) + " bytes")
        add("product moat.elf loadable", f"{sz['moat_elf_load_file_bytes']} bytes in the file, "
            f"{sz['moat_elf_load_mem_bytes']} in memory (with .bss)")
        add("moat.efi", f"{sz['moat_efi_bytes']} bytes")
        add("guest image files (stripped)",
            ", ".join(f"{k} {v}" for k, v in sz["guest_image_file_bytes"].items()) + " bytes")
        hv = sz["lines_hypervisor"]
        add("lines, product hypervisor (" + " ".join(HV_DIRS) + ")",
            f"{hv['physical']} physical; code C {hv['c']}, assembly {hv['asm']}")
        for k, label in (("lines_tests_hv", "test image's own (tests/hv)"),
                         ("lines_guests", "guests/"), ("lines_tests", "tests/")):
            add(f"lines, {label}", f"{sz[k]['physical']} physical; code C {sz[k]['c']}, "
                f"assembly {sz[k]['asm']}")
    dp = res.get("data_path")
    for size, d in (dp or {}).items():
        add(f"data path {size} B, guest to guest", f"{fmt_rate(d['guest_frames_per_s'])} frames/s, "
            f"{fmt_rate(d['guest_bytes_per_s'], MiB)} MiB/s")
        add("  native (moat on CPU 0)", f"{fmt_rate(d['native_frames_per_s'])} frames/s, "
            f"{fmt_rate(d['native_bytes_per_s'], MiB)} MiB/s")
        r = d["ratio"]
        add("  ratio guest / native", f"{r['median']:.3f} ({r['min']:.3f}-{r['max']:.3f}, "
            f"{len(r['runs'])} runs of {d['frames']} frames)")
        for role in ("send", "receive"):
            e = d["exits_per_1000_frames"][role]
            by = " ".join(f"{k}={v:g}" for k, v in e["by_reason"].items())
            add(f"  exits per 1,000 frames, {role} side",
                f"{e['total']:g} ({by or 'none of any reason'})")
    if "data_path" in res and dp is None:
        add("data path vs native (64/512/1514 B)", "FAILED: see below")
    add_vf_irq_rows(add, res.get("vf_irq"))
    add_linux_vf_rows(add, res.get("linux_data_path"), dp, res.get("vf_irq"))
    for rr in res.get("emulator_reruns", []):
        add(f"rerun {rr['boot']}", f"QEMU aborted on its own, booted once more: {rr['crash']}")
    for e in errors:
        add("FAILED", e)
    w = max(len(a) for a, _ in rows)
    print("\nmoat bench (docs/performance.md)")
    for a, b in rows:
        print(f"  {a:<{w}}  {b}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "3")))
    ap.add_argument("--data-runs", type=int, default=int(os.environ.get("BENCH_DATA_RUNS", "5")),
                    help="boots measuring the data path (each: guests, then native)")
    ap.add_argument("--skip-linux", action="store_true", help="no Linux boots (reference, guest)")
    ap.add_argument("--linux-only", action="store_true",
                    help="only the Linux guest's figures (and the size): a quick look")
    ap.add_argument("--vf-irq-only", action="store_true",
                    help="only what one VF MSI-X interrupt costs (one -icount boot) and the size")
    ap.add_argument("--linux-vf-only", action="store_true",
                    help="only the Linux guests' data path, beside moat's own guests' and "
                         "native (--data-runs boots) and the size")
    a = ap.parse_args()
    if a.runs < 1 or a.data_runs < 1:
        ap.error("--runs and --data-runs must be at least 1")
    res, errors = {"runs": a.runs}, []
    t_start = time.monotonic()

    res["size"] = size()
    if a.linux_only:
        res["linux"], errors = linux_figures(a.runs)
        return finish(res, errors, t_start)
    if a.vf_irq_only:
        res["vf_irq"], errors = vf_irq_figures()
        return finish(res, errors, t_start)
    if a.linux_vf_only:
        print("bench: Linux guests' data path (two Linux guests, TCP over their VFs)", flush=True)
        res["linux_data_path"] = linux_data_path()
        res["data_path"], errors = data_path(a.data_runs)
        return finish(res, errors + linux_data_path_errors(res["linux_data_path"]), t_start)
    print("bench: per-exit cost (QEMU -icount shift=0, bench guest)", flush=True)
    try:
        res["exits"] = exit_costs()
    except Missing as e:
        errors.append(str(e))
    res["vf_irq"], vi_errors = vf_irq_figures()
    errors += vi_errors
    print("bench: per-exit cost under VMX (Bochs, bench guest)", flush=True)
    try:
        res["exits_vmx"] = bochs_exit_costs()
    except Missing as e:
        errors.append(str(e))

    res["boot"] = {"uefi": {}, "mb2": {}}
    walls = {(b, w): [] for b in ("uefi", "mb2") for w in ("moat", "linux")}
    for i in range(a.runs):
        for boot in ("uefi", "mb2"):
            print(f"bench: boot to verdict, run {i + 1}/{a.runs}, {boot}", flush=True)
            try:
                wall, lines = moat_boot(f"bench-moat-{boot}-{i}", boot)
                walls[(boot, "moat")].append(wall)
                if "memory" not in res:
                    res["memory"] = memory(lines)
                    res["guest_exits"] = guest_exits(lines, list(res["memory"]["guests"]))
            except Missing as e:
                errors.append(str(e))
            if a.skip_linux:
                continue
            try:
                wall, _ = linux_boot(f"bench-linux-{boot}-{i}", boot)
                walls[(boot, "linux")].append(wall)
            except (Missing, linuxref_build.Unavailable) as e:
                errors.append(f"Linux reference ({boot}): {e}")
    for (boot, who), v in walls.items():
        if len(v) == a.runs:
            res["boot"][boot][who] = stats(v)
        elif who == "moat" or not a.skip_linux:
            errors.append(f"boot to verdict {who} {boot}: {len(v)} of {a.runs} runs finished")
    for boot, b in res["boot"].items():
        if "moat" in b and "linux" in b:
            b["ratio"] = b["moat"]["median"] / b["linux"]["median"]
    if "memory" not in res:
        errors.append("no memory figures (no reference run of moat finished)")
    if not a.skip_linux:
        res["linux"], lx_errors = linux_figures(a.runs)
        errors += lx_errors
    res["data_path"], dp_errors = data_path(a.data_runs)
    errors += dp_errors
    if not a.skip_linux:
        print("bench: Linux guests' data path (two Linux guests, TCP over their VFs)", flush=True)
        res["linux_data_path"] = linux_data_path()
        errors += linux_data_path_errors(res["linux_data_path"])
    finish(res, errors, t_start)


def finish(res, errors, t_start):
    res["errors"] = errors
    res["emulator_reruns"] = [{"boot": n, "crash": m} for n, m in RERUNS]
    res["bench_seconds"] = round(time.monotonic() - t_start, 1)

    print_table(res, errors)
    os.makedirs(BUILD, exist_ok=True)
    with open(os.path.join(BUILD, "bench.json"), "w") as f:
        json.dump(res, f, indent=1)
    print(f"bench: {res['bench_seconds']} s; results in {os.path.join(BUILD, 'bench.json')}")
    if errors:
        print(f"bench: FAILED: {len(errors)} measurement(s) produced no numbers", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
