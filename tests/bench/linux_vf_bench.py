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
EXITS_RE = re.compile(r"^vmm: (exits|npfs) (\S+): mark (\d+):(.*)$")
XFER_RE = re.compile(r"^\[(\S+)\] linuxguest: xfer-mark (\d+) ([\d.]+) (\d+) (\d+) (\d+)$")
SHA_RE = re.compile(r"^\[(\S+)\] linuxguest: (tx|rx)-sha256 ([0-9a-f]{64}) (\d+)$")
# Why the instructions of Linux's own interrupt path are not given (docs/performance.md);
# moat's part is measured with the bench guest (bench.py, vf_irq_costs).
INSTRUCTIONS_REASON = (
    "moat counts a guest's exits, not the instructions spent on them; instruction counts come "
    "only from -icount runs (one TSC tick per instruction), where QEMU runs every vCPU in one "
    "host thread, and this two-guest transfer has not been run that way")


# The exits of the interval by what caused them, from moat's per-reason counts and its split
# of nested page faults by what they hit (`vmm: npfs <guest>: mark <k>: <target>=<n>`,
# vmm/mmio.c): (key, label, reasons, npf targets, what the class holds). The VF's BAR0
# (descriptor rings' doorbells, every register) is mapped into the guest, DMA goes through
# the IOMMU and the VF has no I/O BAR, so an exit on the path of frames can only be a nested
# page fault on one of the VF's BARs (unmapped while its decode is off or it resets) or on
# its MSI-X table: the first class counts exactly those.
EXIT_CLASSES = (
    ("frames", "path of frames", (), ("bar", "msix"),
     "nested page faults on the VF's BARs (while unmapped: decode off, reset) and its MSI-X "
     "table"),
    ("delivery", "interrupt delivery and local APIC", ("ext-intr", "irq-window"), ("local-apic",),
     "ext-intr (host interrupts on the guest's CPU: the VF's host vectors, and host IPIs that "
     "wake a vCPU), irq-window (a vector pending while the guest had interrupts off), nested "
     "page faults on the xAPIC page (every interrupt's EOI, the timer's too, IPIs, timer "
     "registers)"),
    ("timer", "timer and idle", ("msr-write", "timer", "hlt"), (),
     "msr-write (the TSC-deadline timer armed), timer (a deadline reached in moat), hlt (idle)"),
    ("io", "port I/O", ("io",), (),
     "clock reads through the ACPI PM timer (where Linux chose it) and console output"),
    ("cpuid", "CPUID", ("cpuid",), (), "mostly new processes' CPU probes (nc, the marks' tools)"),
    ("other", "other", (), (), "any other reason, and nested page faults on the I/O APIC"),
)
NPF_PREFIX = "npf:"


def exit_classes(by, npfs):
    """{key: n} of the interval's exits `by` reason into EXIT_CLASSES, the `npf` exits by
    `npfs` ({target: n}); None when there is no split of npf exits. The two lines of a mark
    are read apart while a guest's other vCPUs run on, so the split may be a few faults off
    the npf count: every target but the local APIC page is counted as split, the local APIC
    page gets the rest."""
    if by.get("npf", 0) and not npfs:
        return None
    out = dict.fromkeys((c[0] for c in EXIT_CLASSES), 0)
    split = {t: n for t, n in npfs.items() if t != "local-apic"}
    split["local-apic"] = max(by.get("npf", 0) - sum(split.values()), 0)
    for reason, n in list(by.items()) + [(NPF_PREFIX + t, n) for t, n in split.items()]:
        if reason == "npf":
            continue
        key = next((c[0] for c in EXIT_CLASSES if reason in c[2] or
                    (reason.startswith(NPF_PREFIX) and reason[len(NPF_PREFIX):] in c[3])), "other")
        out[key] += n
    return out


def exit_marks(lines):
    """{guest: {mark: {reason: n}}} from moat's mark lines (the last line of each mark), the
    nested page faults by target as "npf:<target>"."""
    out = {}
    for m in map(EXITS_RE.match, lines):
        if m:
            prefix = NPF_PREFIX if m.group(1) == "npfs" else ""
            counts = out.setdefault(m.group(2), {}).setdefault(int(m.group(3)), {})
            if not prefix:
                for k in [k for k in counts if not k.startswith(NPF_PREFIX)]:
                    del counts[k]
            for x in m.group(4).split():
                k, _, v = x.partition("=")
                if v.isdigit():
                    counts[prefix + k] = int(v)
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
    npfs = {k[len(NPF_PREFIX):]: v for k, v in by.items() if k.startswith(NPF_PREFIX) and v}
    by = {k: v for k, v in by.items() if v and not k.startswith(NPF_PREFIX)}
    total = sum(by.values())
    out["exits"] = {"total": total, "by_reason": by}
    if frames <= 0:
        out["not_measured"] = "no frame between the marks"
        return out
    out["exits_per_1000_frames"] = {"total": total * 1000.0 / frames,
                                    "by_reason": {k: v * 1000.0 / frames for k, v in by.items()}}
    cls = exit_classes(by, npfs)
    out["exits_per_1000_frames_by_class"] = (
        {k: v * 1000.0 / frames for k, v in cls.items()} if cls is not None else
        {"not_measured": f"{by.get('npf', 0)} npf exits but no split of them by target "
                         f"(no 'vmm: npfs' mark lines: a moat before them?)"})
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
