#!/usr/bin/env python3
"""make test: host unit tests (cmocka) and every emulator run of the test matrix.
Prints a line per run as it finishes, then a table of runs (boot path, passed, failed,
skipped, seconds, emulator reruns), each failed test with the first lines of its
diagnostic, and the skips counted per reason; ends with `N passed, M failed, K skipped`.
The full TAP stream (one line per test) goes to build/logs/tap.txt; VERBOSE=1 prints it
too, as before. Exit status 1 if anything failed.

  tests/run_all.py                 everything
  tests/run_all.py --only unit     unit tests only
  tests/run_all.py --only qemu-uefi-reference   one run of the matrix (by name)
"""
import argparse
import concurrent.futures
import glob
import os
import re
import subprocess
import sys
import textwrap
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "emu"))
import harness  # noqa: E402
import matrix  # noqa: E402

UNIT_TAP = re.compile(r"^(not ok|ok) \d+ - (.*?)(?: # SKIP ?(.*))?$")


def run_unit():
    results = []
    bins = sorted(glob.glob(os.path.join(harness.BUILD, "unit", "test_*")))
    if not bins:
        return [["unit: build", "fail", "no unit test binaries in build/unit (run make unit-bin)"]]
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
    for b in bins:
        name = os.path.basename(b)[len("test_"):]
        try:
            p = subprocess.run([b], env=env, capture_output=True, text=True, timeout=120)
            out, rc = p.stdout + p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            out, rc = "timeout", -1
        got = 0
        last = None
        for ln in out.splitlines():
            m = UNIT_TAP.match(ln.strip())
            if m:
                st = "skip" if m.group(3) is not None else ("ok" if m.group(1) == "ok" else "fail")
                last = [f"unit: {name}: {m.group(2)}", st, m.group(3) or ""]
                results.append(last)
                got += 1
            elif last is not None and last[1] == "fail" and ln.strip().startswith("#"):
                last[2] += ln.strip().lstrip("# ") + " "
        if got == 0 or (rc != 0 and not any(r[1] == "fail" for r in results[-got:] if got)):
            results.append([f"unit: {name}: runs", "fail", f"exit {rc}: {out[-300:]!r}"])
    return results


PY_RESULT = re.compile(r"^(\w+) \((?:\w+\.)*(\w+)\.\w+\) \.\.\. (ok|FAIL|ERROR|skipped ?'?(.*?)'?)$")


def run_python_unit():
    """Host tests written in Python (tests/*/test_*.py, unittest): one result per test."""
    results = []
    for path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "*", "test_*.py"))):
        suite = os.path.basename(os.path.dirname(path))
        try:
            p = subprocess.run([sys.executable, path], capture_output=True, text=True, timeout=120)
            out, rc = p.stderr, p.returncode
        except subprocess.TimeoutExpired:
            out, rc = "timeout", -1
        got = 0
        for ln in out.splitlines():
            m = PY_RESULT.match(ln)
            if m:
                st = {"ok": "ok", "FAIL": "fail", "ERROR": "fail"}.get(m.group(3), "skip")
                diag = f"rerun: python3 {os.path.relpath(path)}" if st == "fail" else m.group(4) or ""
                results.append([f"unit: {suite}: {m.group(2)}.{m.group(1)}", st, diag])
                got += 1
        if got == 0 or (rc != 0 and not any(r[1] == "fail" for r in results[-got:])):
            results.append([f"unit: {suite}: runs", "fail", f"exit {rc}: {out[-300:]!r}"])
    return results


def counts(results):
    n = {"ok": 0, "fail": 0, "skip": 0}
    for _name, st, _diag in results:
        n[st] += 1
    return n


def tap_lines(results):
    """The TAP stream: one line per test, a diagnostic line under a failure."""
    out = []
    for i, (name, st, diag) in enumerate(results, 1):
        if st == "ok":
            out.append(f"ok {i} - {name}")
        elif st == "skip":
            out.append(f"ok {i} - {name} # SKIP {diag}")
        else:
            out.append(f"not ok {i} - {name}")
            if diag:
                out.append(f"#   {diag.strip()}")
    return out


def run_line(run):
    n = counts(run["results"])
    note = f"; {run['note']}" if run.get("note") else ""
    return (f"{run['name']}: {n['ok']} passed, {n['fail']} failed, {n['skip']} skipped "
            f"({run['seconds']:.0f} s{note})")


def report(runs, max_reasons=20, diag_lines=3, width=100):
    """The overview printed at the end of a run: the table of runs, the failed tests with
    the first lines of their diagnostics, the skips counted per reason."""
    out = []
    w = max([len("run")] + [len(r["name"]) for r in runs])
    bw = max([len("boot")] + [len(r["boot"]) for r in runs])
    out.append(f"{'run':<{w}}  {'boot':<{bw}}  {'passed':>6}  {'failed':>6}  {'skipped':>7}  "
               f"{'seconds':>7}  note")
    for r in runs:
        n = counts(r["results"])
        out.append(f"{r['name']:<{w}}  {r['boot']:<{bw}}  {n['ok']:>6}  {n['fail']:>6}  "
                   f"{n['skip']:>7}  {r['seconds']:>7.0f}  {r.get('note', '')}".rstrip())
    failed = [(name, diag) for r in runs for name, st, diag in r["results"] if st == "fail"]
    if failed:
        out.append("")
        out.append(f"failed ({len(failed)}):")
        for name, diag in failed:
            out.append(f"  {name}")
            wrapped = textwrap.wrap(diag.strip(), width - 6) if diag.strip() else []
            for ln in wrapped[:diag_lines]:
                out.append(f"      {ln}")
            if len(wrapped) > diag_lines:
                out.append("      ...")
    reasons = {}
    for r in runs:
        for _name, st, diag in r["results"]:
            if st == "skip":
                key = diag.strip() or "(no reason given)"
                reasons[key] = reasons.get(key, 0) + 1
    if reasons:
        out.append("")
        out.append(f"skipped, by reason ({sum(reasons.values())} tests, {len(reasons)} reasons):")
        ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        for reason, k in ranked[:max_reasons]:
            out.append(f"  {k:>5}  {reason}")
        if len(ranked) > max_reasons:
            rest = sum(k for _r, k in ranked[max_reasons:])
            out.append(f"  {rest:>5}  ({len(ranked) - max_reasons} other reasons: see the TAP stream)")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", action="append", help="unit, or a run name (repeatable)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("MOAT_TEST_JOBS", "2")))
    ap.add_argument("--verbose", action="store_true", default=os.environ.get("VERBOSE", "0") not in ("", "0"),
                    help="print the TAP stream too (also VERBOSE=1)")
    a = ap.parse_args()
    t0 = time.monotonic()
    runs = []
    if a.only:
        unknown = set(a.only) - {"unit"} - {r["name"] for r in matrix.RUNS}
        if unknown:
            print(f"run_all: unknown run(s) {sorted(unknown)}; known: {[r['name'] for r in matrix.RUNS]}")
            return 2
    if not a.only or "unit" in a.only:
        t = time.monotonic()
        runs.append(dict(name="unit", boot="host", results=run_unit() + run_python_unit(),
                         seconds=time.monotonic() - t, note=""))
        print(run_line(runs[-1]), flush=True)
    specs = [r for r in matrix.RUNS if not a.only or r["name"] in a.only]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        futures = [ex.submit(matrix.run, s) for s in specs]
        for f in concurrent.futures.as_completed(futures):
            print(run_line(f.result()), flush=True)
        runs += [f.result() for f in futures]
    results = [res for r in runs for res in r["results"]]
    tap = tap_lines(results)
    os.makedirs(harness.LOGS, exist_ok=True)
    tap_path = os.path.join(harness.LOGS, "tap.txt")
    with open(tap_path, "w") as f:
        f.write("\n".join(tap) + "\n")
    if a.verbose:
        print("\n".join(tap))
    print()
    print("\n".join(report(runs)))
    n = counts(results)
    print(f"# TAP stream in {os.path.relpath(tap_path)}, serial logs under "
          f"{os.path.relpath(harness.LOGS)}/<run>/; took {time.monotonic() - t0:.0f} s")
    print(f"{n['ok'] + n['skip']} passed, {n['fail']} failed, {n['skip']} skipped")
    return 1 if n["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
