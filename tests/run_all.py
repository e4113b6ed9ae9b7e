#!/usr/bin/env python3
"""make test: host unit tests (cmocka) and every emulator run of the test matrix.
Prints one TAP-style line per test and ends with `N passed, M failed, K skipped`.
Exit status 1 if anything failed.

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", action="append", help="unit, or a run name (repeatable)")
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("MOAT_TEST_JOBS", "2")))
    a = ap.parse_args()
    t0 = time.monotonic()
    results = []
    if not a.only or "unit" in a.only:
        results += run_unit() + run_python_unit()
    runs = [r for r in matrix.RUNS if not a.only or r["name"] in a.only]
    if a.only:
        unknown = set(a.only) - {"unit"} - {r["name"] for r in matrix.RUNS}
        if unknown:
            print(f"run_all: unknown run(s) {sorted(unknown)}; known: {[r['name'] for r in matrix.RUNS]}")
            return 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        for res in ex.map(matrix.execute, runs):
            results += res
    n = {"ok": 0, "fail": 0, "skip": 0}
    for i, (name, st, diag) in enumerate(results, 1):
        n[st] += 1
        if st == "ok":
            print(f"ok {i} - {name}")
        elif st == "skip":
            print(f"ok {i} - {name} # SKIP {diag}")
        else:
            print(f"not ok {i} - {name}")
            if diag:
                print(f"#   {diag.strip()}")
    print(f"# logs under {os.path.relpath(harness.LOGS)}; took {time.monotonic() - t0:.0f} s")
    print(f"{n['ok'] + n['skip']} passed, {n['fail']} failed, {n['skip']} skipped")
    return 1 if n["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
