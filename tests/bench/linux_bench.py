"""make bench's Linux-guest figures (docs/performance.md, "Linux guest"): the parsing and
arithmetic, kept apart from the emulator runs (bench.py) so that tests/bench/test_bench.py
checks them on sample text.

Each moat run boots the product on the reference machine with one Linux guest `web`
(tests/linuxref/guest.sh in its bench mode: `linuxguest.idle=N`); each bare run boots the
same kernel and initramfs with the same command line on the identical QEMU machine. A
figure Linux does not get far enough under moat to give is `not measured yet` with the
reason (how far Linux got and what stopped it), never a number."""
import re
import statistics

GUEST = "web"
STATS_RE = re.compile(rf"^vmm: stats {GUEST}: (shut down|stopped); .*?; exits: (.*?); io denied")
RUN_INIT_RE = re.compile(r"linuxguest: run-init ([\d.]+)\s*$")
# The test image's exit counter port (tests/hv/exits_port.c): a guest's exits so far.
EXITS_MARK_RE = re.compile(r"^vmm: exits (\S+): mark (\d+):(.*)$")
# guest.sh's idle mode: Linux's uptime right before it writes mark k.
GUEST_MARK_RE = re.compile(rf"^\[{GUEST}\] linuxguest: exits-mark (\d+) ([\d.]+)\s*$")


def by_reason(text):
    """" cpuid=3 io=5" (or " none") as {reason: n}."""
    return {k: int(v) for k, v in (x.split("=") for x in text.split() if "=" in x)}


def exit_marks(lines, guest):
    """{mark: {reason: n}} from moat's `vmm: exits <guest>: mark <k>: ...` lines (the first
    of each mark)."""
    out = {}
    for m in map(EXITS_MARK_RE.match, lines):
        if m and m.group(1) == guest and int(m.group(2)) not in out:
            out[int(m.group(2))] = by_reason(m.group(3))
    return out


def marks_diff(marks, a, b):
    """The exits between marks a and b by reason (reasons without any left out); None if
    either mark is missing."""
    if a not in marks or b not in marks:
        return None
    d = {k: marks[b].get(k, 0) - marks[a].get(k, 0) for k in sorted(set(marks[a]) | set(marks[b]))}
    return {k: v for k, v in d.items() if v}


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 3) for v in values]}


def guest_run(lines, marks, init_rx, start_rx, stopped_at):
    """One moat run: {"init_s": seconds from QEMU's start to the guest's init line or None,
    "moat_to_init_s": from moat's first line, "run_init": Linux's own clock at "Run /init",
    "state": "shut down" | "stopped" | None, "exits": {reason: n} (launch to end),
    "where": stopped_at's sentence}."""
    out = {"init_s": marks.get(init_rx), "moat_to_init_s": None, "run_init": None,
           "state": None, "exits": None, "where": stopped_at,
           "exit_marks": exit_marks(lines, GUEST), "mark_uptime": {}}
    if out["init_s"] is not None and start_rx in marks:
        out["moat_to_init_s"] = out["init_s"] - marks[start_rx]
    for ln in lines:
        m = STATS_RE.match(ln)
        if m and out["state"] is None:
            out["state"] = m.group(1)
            out["exits"] = by_reason(m.group(2))
        m = GUEST_MARK_RE.match(ln)
        if m and int(m.group(1)) not in out["mark_uptime"]:
            out["mark_uptime"][int(m.group(1))] = float(m.group(2))
        m = RUN_INIT_RE.search(ln)
        if m and ln.startswith(f"[{GUEST}] ") and out["run_init"] is None:
            out["run_init"] = float(m.group(1))
    return out


def bare_run_init(lines):
    """Linux's own clock at "Run /init" in a bare boot, or None."""
    for ln in lines:
        m = RUN_INIT_RE.search(ln)
        if m and not ln.startswith("["):
            return float(m.group(1))
    return None


def not_reached(runs, need_end=True):
    """Why a figure is missing: from the first run that did not reach /init (or, with
    need_end, did not power off after it); None when every run got there."""
    for r in runs:
        if r["init_s"] is None:
            return f"Linux does not reach /init under moat: {r['where']}"
    for r in runs if need_end else ():
        if r["state"] != "shut down":
            return f"Linux reached /init but did not power off under moat: {r['where']}"
    return None


def median_by_reason(dicts):
    keys = sorted({k for d in dicts for k in d})
    return {k: statistics.median([d.get(k, 0) for d in dicts]) for k in keys}


def boot_figures(guest_runs, bare_walls):
    """Wall times to /init, moat (from QEMU's start and from moat's first line) and bare,
    and the ratio of the medians; or {"not_measured": reason}."""
    if not guest_runs or any(r["init_s"] is None for r in guest_runs):
        return {"not_measured": not_reached(guest_runs, need_end=False) or "no moat run"}
    out = {"moat": stats([r["init_s"] for r in guest_runs]),
           "bare": stats(bare_walls)}
    if all(r["moat_to_init_s"] is not None for r in guest_runs):
        out["moat_from_its_start"] = stats([r["moat_to_init_s"] for r in guest_runs])
    out["ratio"] = out["moat"]["median"] / out["bare"]["median"]
    return out


def exit_figures(boot_runs, idle_run, idle_s):
    """Exits by reason: from launch to the end of a run that powers off at once (the boot,
    median per reason), and during idle_s seconds idle: between the idle run's exit marks 1
    and 2 (moat's test image prints the counts when the guest writes the port), as counted
    and scaled to idle_s seconds of Linux's clock between the marks. When Linux does not get
    that far: the exits until moat stopped it, with the reason the rest is missing."""
    reason = not_reached(boot_runs)
    if reason:
        upto = [r for r in boot_runs if r["exits"] is not None]
        out = {"not_measured": reason}
        if upto:
            by = median_by_reason([r["exits"] for r in upto])
            out["until_stopped"] = {"total": sum(by.values()), "by_reason": by}
        return {"boot": out, "idle": {"not_measured": reason}}
    boot = median_by_reason([r["exits"] for r in boot_runs])
    res = {"boot": {"total": sum(boot.values()), "by_reason": boot}}
    res["idle"] = idle_figures(idle_run, idle_s)
    return res


def idle_figures(idle_run, idle_s):
    if idle_run is None:
        return {"not_measured": "the idle run did not finish"}
    by = marks_diff(idle_run.get("exit_marks", {}), 1, 2)
    if by is None:
        return {"not_measured": f"the idle run has no exit counter lines for marks 1 and 2 "
                f"(`vmm: exits {GUEST}: mark <k>: ...`, moat's test image; Linux writes the "
                f"port through /dev/port): {idle_run['where']}"}
    up = idle_run.get("mark_uptime", {})
    secs = up[2] - up[1] if 1 in up and 2 in up and up[2] > up[1] else None
    out = {"seconds": idle_s, "total": sum(by.values()), "by_reason": by,
           "guest_seconds": secs}
    if secs:
        out["per_10s"] = {k: v * 10 / secs for k, v in by.items()}
        out["per_second"] = out["total"] / secs
    return out


def icount_figures(guest, bare):
    """Linux's own clock at "Run /init" under -icount shift=0 (1 ns per instruction
    executed, plus what the CPUs slept), as a guest and bare, and the ratio."""
    out = {"bare_ns": bare * 1e9 if bare is not None else None}
    if guest is None or guest["run_init"] is None:
        out["not_measured"] = not_reached([guest], need_end=False) if guest else \
            "the -icount run of moat did not finish"
    elif bare is None:
        out["not_measured"] = "the bare -icount run did not reach /init"
    else:
        out.update(guest_ns=guest["run_init"] * 1e9, ratio=guest["run_init"] / bare)
    return out
