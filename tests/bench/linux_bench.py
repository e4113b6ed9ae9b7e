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


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 3) for v in values]}


def guest_run(lines, marks, init_rx, start_rx, stopped_at):
    """One moat run: {"init_s": seconds from QEMU's start to the guest's init line or None,
    "moat_to_init_s": from moat's first line, "run_init": Linux's own clock at "Run /init",
    "state": "shut down" | "stopped" | None, "exits": {reason: n} (launch to end),
    "where": stopped_at's sentence}."""
    out = {"init_s": marks.get(init_rx), "moat_to_init_s": None, "run_init": None,
           "state": None, "exits": None, "where": stopped_at}
    if out["init_s"] is not None and start_rx in marks:
        out["moat_to_init_s"] = out["init_s"] - marks[start_rx]
    for ln in lines:
        m = STATS_RE.match(ln)
        if m and out["state"] is None:
            out["state"] = m.group(1)
            out["exits"] = {k: int(v) for k, v in (x.split("=") for x in m.group(2).split() if "=" in x)}
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
    median per reason), and during idle_s seconds idle (an idling run's counts minus the
    boot median). When Linux does not get that far: the exits until moat stopped it, with
    the reason the rest is missing."""
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
    reason = not_reached([idle_run]) if idle_run else "the idle run did not finish"
    if reason:
        res["idle"] = {"not_measured": reason}
    else:
        by = {k: idle_run["exits"].get(k, 0) - boot.get(k, 0)
              for k in sorted(set(boot) | set(idle_run["exits"]))}
        neg = {k: v for k, v in by.items() if v < 0}
        if neg:
            # the boot's own exits (timer, interrupt windows, nested page faults) vary between
            # boots by more than the idle seconds add: a difference is no figure
            res["idle"] = {"not_measured": (
                f"the idle run's counts minus the boot's are negative for "
                f"{', '.join(f'{k} ({v:g})' for k, v in neg.items())}: the boot's own exits vary "
                f"between boots more than {idle_s} s idle adds; a per-interval count needs moat "
                f"to report a guest's exits at a point in time"),
                "idle_run": {"total": sum(idle_run["exits"].values()), "by_reason": idle_run["exits"]}}
        else:
            res["idle"] = {"seconds": idle_s, "total": sum(by.values()), "by_reason": by,
                           "per_second": sum(by.values()) / idle_s}
    return res


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
