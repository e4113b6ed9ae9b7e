"""make bench's figures of the Linux guests' data path (issue 16; docs/performance.md, "Linux
guests' data path"): the parsing and arithmetic, kept apart from the emulator run (bench.py)
so that tests/bench/test_bench.py checks them on sample text.

The run: moat's test image on the reference machine with two Linux guests, each with a VF
(tests/emu/linux_guest.py's VF_WEB, role listen, and VF_APP, role send), whose /init
(tests/linuxref/guest.sh's network mode with linuxguest.exits=1) moves linuxguest.mib MiB over
TCP between two exit marks on each side. At a mark the guest reads /proc/uptime, its VF
interface's rx_packets and tx_packets and the sum of the VF's MSI-X lines in
/proc/interrupts, then writes the mark's byte to the test image's exit counter port, on
which moat prints the guest's exits so far by reason (`vmm: exits <guest>: mark <k>: ...`,
tests/hv/exits_port.c); after the transfer it prints what it read
(`linuxguest: xfer-mark <k> <uptime> <rx> <tx> <interrupts>`). Between the marks lie the
transfer, the counters' reading of the second mark and its port write (one I/O exit, taken
off here). A figure the run cannot give is {"not_measured": reason}, never a number."""
import re

MARK_START, MARK_END = 11, 12
EXITS_RE = re.compile(r"^vmm: exits (\S+): mark (\d+):(.*)$")
XFER_RE = re.compile(r"^\[(\S+)\] linuxguest: xfer-mark (\d+) ([\d.]+) (\d+) (\d+) (\d+)$")
SHA_RE = re.compile(r"^\[(\S+)\] linuxguest: (tx|rx)-sha256 ([0-9a-f]{64}) (\d+)$")
# Why the instructions of Linux's own interrupt path are not given (docs/performance.md);
# moat's part is measured with the bench guest (bench.py, vf_irq_costs).
INSTRUCTIONS_REASON = (
    "moat counts a guest's exits, not the instructions spent on them; instruction counts come "
    "only from -icount runs (one TSC tick per instruction), where QEMU runs every vCPU in one "
    "host thread, and this two-guest transfer has not been run that way")


# The exits of the interval by what caused them, as far as moat's per-reason counts tell
# (exit_classes): (key, label, reasons, what the class holds). `npf` is split: one per VF
# interrupt is that interrupt's EOI (Linux ends every interrupt it handles with one store to
# the xAPIC page, a nested page fault on moat); the rest is the only place an exit on the
# path of frames could be counted, since the VF's BAR0 (descriptor rings' doorbells,
# registers) is mapped into the guest, DMA goes through the IOMMU and the VF has no I/O BAR.
EXIT_CLASSES = (
    ("frames", "path of frames, at most", ("npf",),
     "nested page faults beyond one per VF interrupt: a VF BAR access that faulted would be "
     "there, with the EOIs of the timer's interrupts, IPIs (ICR writes), other local or I/O "
     "APIC accesses and MSI-X table accesses, which the counts do not tell apart"),
    ("delivery", "interrupt delivery", ("ext-intr", "irq-window", "npf"),
     "ext-intr (host interrupts on the guest's CPU: the VF's host vectors, and host IPIs that "
     "wake a vCPU), irq-window (a vector pending while the guest had interrupts off), and one "
     "npf per VF interrupt (its xAPIC EOI)"),
    ("timer", "timer and idle", ("msr-write", "timer", "hlt"),
     "msr-write (the TSC-deadline timer armed), timer (a deadline reached in moat), hlt (idle)"),
    ("io", "port I/O", ("io",),
     "clock reads through the ACPI PM timer (where Linux chose it) and console output"),
    ("cpuid", "CPUID", ("cpuid",), "mostly new processes' CPU probes (nc, the marks' tools)"),
    ("other", "other", (), "any other reason"),
)


def exit_classes(by, interrupts):
    """{key: n} of the interval's exits `by` reason into EXIT_CLASSES; `interrupts` (the VF's
    MSI-X count) of the npf exits go to delivery, the rest to frames (an upper bound)."""
    out = dict.fromkeys((c[0] for c in EXIT_CLASSES), 0)
    eoi = min(by.get("npf", 0), max(interrupts, 0))
    out["delivery"] += eoi
    out["frames"] += by.get("npf", 0) - eoi
    for reason, n in by.items():
        if reason == "npf":
            continue
        key = next((c[0] for c in EXIT_CLASSES if reason in c[2]), "other")
        out[key] += n
    return out


def exit_marks(lines):
    """{guest: {mark: {reason: n}}} from moat's mark lines (the last line of each mark)."""
    out = {}
    for m in map(EXITS_RE.match, lines):
        if m:
            counts = {}
            for x in m.group(3).split():
                k, _, v = x.partition("=")
                if v.isdigit():
                    counts[k] = int(v)
            out.setdefault(m.group(1), {})[int(m.group(2))] = counts
    return out


def xfer_marks(lines):
    """{guest: {mark: (uptime s, rx packets, tx packets, VF interrupts)}} from guest.sh."""
    out = {}
    for m in map(XFER_RE.match, lines):
        if m:
            out.setdefault(m.group(1), {})[int(m.group(2))] = (
                float(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)))
    return out


def guest_figures(exits, xfer):
    """One guest's interval: exits by reason (the second mark's own port write taken off),
    frames, interrupts, seconds, and the per-frame and per-interrupt figures."""
    (t0, rx0, tx0, irq0), (t1, rx1, tx1, irq1) = xfer[MARK_START], xfer[MARK_END]
    a, b = exits[MARK_START], exits[MARK_END]
    by = {k: b.get(k, 0) - a.get(k, 0) for k in sorted(set(a) | set(b))}
    by["io"] = by.get("io", 0) - 1
    frames, irqs = (rx1 - rx0) + (tx1 - tx0), irq1 - irq0
    out = {"seconds": t1 - t0, "frames_rx": rx1 - rx0, "frames_tx": tx1 - tx0, "interrupts": irqs}
    if any(v < 0 for v in by.values()):
        out["not_measured"] = f"exit counters went down between the marks: {by}"
        return out
    by = {k: v for k, v in by.items() if v}
    total = sum(by.values())
    out["exits"] = {"total": total, "by_reason": by}
    if frames <= 0:
        out["not_measured"] = "no frame between the marks"
        return out
    out["exits_per_1000_frames"] = {"total": total * 1000.0 / frames,
                                    "by_reason": {k: v * 1000.0 / frames for k, v in by.items()}}
    out["exits_per_1000_frames_by_class"] = {
        k: v * 1000.0 / frames for k, v in exit_classes(by, irqs).items()}
    out["interrupts_per_1000_frames"] = irqs * 1000.0 / frames
    if irqs > 0:
        out["exits_per_interrupt"] = {"total": total / irqs,
                                      "by_reason": {k: v / irqs for k, v in by.items()}}
    else:
        out["exits_per_interrupt"] = {"not_measured": "the VF raised no interrupt between the marks"}
    return out


def transfer_figures(lines, sender, receiver):
    """The Linux guests' data path: {"bytes", "seconds" (the sender's interval),
    "bytes_per_s", "guests": {name: guest_figures}}; or {"not_measured": reason}."""
    sha = {}
    for m in map(SHA_RE.match, lines):
        if m:
            sha[m.group(2)] = (m.group(1), m.group(3), int(m.group(4)))
    if "tx" not in sha or "rx" not in sha:
        return {"not_measured": "the transfer did not happen (no tx-sha256 / rx-sha256 line from "
                                "guest.sh)"}
    if sha["tx"][1:] != sha["rx"][1:]:
        return {"damaged": True,
                "not_measured": f"the transfer's data did not arrive intact: {sha['tx'][0]} sent "
                                f"{sha['tx'][2]} bytes ({sha['tx'][1][:12]}...), {sha['rx'][0]} "
                                f"received {sha['rx'][2]} ({sha['rx'][1][:12]}...)"}
    ex, xf = exit_marks(lines), xfer_marks(lines)
    out = {"bytes": sha["tx"][2], "guests": {}}
    for g in (sender, receiver):
        if set(xf.get(g, {})) != {MARK_START, MARK_END}:
            return {"not_measured": f"guest {g} printed no xfer-mark lines {MARK_START} and "
                                    f"{MARK_END} (guest.sh without linuxguest.exits=1?)"}
        if set(ex.get(g, {})) != {MARK_START, MARK_END}:
            return {"not_measured": f"moat printed no 'vmm: exits {g}: mark {MARK_START}/"
                                    f"{MARK_END}' lines (the test image's exit counter port "
                                    f"is needed)"}
        out["guests"][g] = guest_figures(ex[g], xf[g])
    s = out["guests"][sender]["seconds"]
    if s <= 0:
        return {"not_measured": f"the sender's interval lasted {s} s"}
    out.update(seconds=s, bytes_per_s=out["bytes"] / s)
    return out
