#!/usr/bin/env python3
"""make fuzz / make fuzz-cov (docs/testing.md, "Fuzzing").

  run_fuzz.py --seconds N [target...]   each target under libFuzzer for N s, one after the
                                        other; the corpus grows in build/fuzz/corpus/<t>,
                                        crashes land in build/fuzz/crash/<t>/; a table of
                                        executions, edges and corpus size at the end
  run_fuzz.py --cov [target...]         line coverage of each target's files under test
                                        (the first line of tests/fuzz/<t>.srcs and any
                                        marked '# cov') from seeds + grown corpus
Exit status 1 if any target crashed."""
import argparse
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests", "fuzz")
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"), "fuzz")


def all_targets():
    return sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(FUZZ, "*.srcs")))


def cov_files(t):
    """The files a target is about: the first source, and every line marked '# cov'."""
    files = []
    with open(os.path.join(FUZZ, t + ".srcs")) as f:
        for i, ln in enumerate(f):
            path = ln.split("#")[0].strip()
            if path and (not files and i == 0 or "# cov" in ln):
                files.append(path)
    return files


def fuzz_one(t, seconds, extra):
    corpus = os.path.join(BUILD, "corpus", t)
    crash = os.path.join(BUILD, "crash", t)
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(crash, exist_ok=True)
    dirs = [corpus] + [d for d in (os.path.join(FUZZ, "corpus", t), os.path.join(FUZZ, "regress", t))
                       if os.path.isdir(d)]
    dict_path = os.path.join(FUZZ, t + ".dict")
    cmd = [os.path.join(BUILD, "bin", t), f"-max_total_time={seconds}", "-print_final_stats=1",
           f"-artifact_prefix={crash}/", "-timeout=10", "-rss_limit_mb=2048"] + extra
    if os.path.exists(dict_path):
        cmd.append(f"-dict={dict_path}")
    before = set(os.listdir(crash))
    log = os.path.join(BUILD, f"{t}.log")
    with open(log, "w") as f:
        rc = subprocess.run(cmd + dirs, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT).returncode
    text = open(log, errors="replace").read()
    execs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", text)
    cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", text)
    crashes = sorted(set(os.listdir(crash)) - before)
    return {"target": t, "rc": rc, "execs": int(execs[-1]) if execs else 0,
            "edges": int(cov[-1][0]) if cov else 0, "features": int(cov[-1][1]) if cov else 0,
            "corpus": len(os.listdir(corpus)), "crashes": crashes, "log": os.path.relpath(log, ROOT)}


def cov_one(t):
    binp = os.path.join(BUILD, "cov", t)
    prof = os.path.join(BUILD, "cov", t + ".profraw")
    data = os.path.join(BUILD, "cov", t + ".profdata")
    dirs = [d for d in (os.path.join(FUZZ, "corpus", t), os.path.join(FUZZ, "regress", t),
                        os.path.join(BUILD, "corpus", t)) if os.path.isdir(d)]
    env = dict(os.environ, LLVM_PROFILE_FILE=prof)
    subprocess.run([binp] + dirs, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["llvm-profdata", "merge", "-sparse", prof, "-o", data], check=True)
    files = cov_files(t)
    out = subprocess.run(["llvm-cov", "report", binp, f"-instr-profile={data}"] + files,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return [(full, lines, pct) for name, lines, pct in parse_report(out)
            for full in files if full == name or full.endswith("/" + name)]


def parse_report(out):
    rows = []
    for ln in out.splitlines():
        parts = ln.split()
        if parts and (parts[0].endswith(".c")):
            # Filename Regions Missed Cover Functions Missed Executed Lines Missed Cover ...
            rows.append((os.path.relpath(parts[0], ROOT) if parts[0].startswith("/") else parts[0],
                         int(parts[7]), parts[9]))
    return rows


def cov_union(f, targets):
    """Lines of file f covered by any of these targets' corpora."""
    data = os.path.join(BUILD, "cov", "union.profdata")
    subprocess.run(["llvm-profdata", "merge", "-sparse"] +
                   [os.path.join(BUILD, "cov", t + ".profdata") for t in targets] + ["-o", data], check=True)
    cmd = ["llvm-cov", "report", os.path.join(BUILD, "cov", targets[0])]
    for t in targets[1:]:
        cmd += ["-object", os.path.join(BUILD, "cov", t)]
    out = subprocess.run(cmd + [f"-instr-profile={data}", f], capture_output=True, text=True,
                         cwd=ROOT).stdout
    return [(f, lines, pct) for name, lines, pct in parse_report(out)
            if f == name or f.endswith("/" + name)][:1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--cov", action="store_true")
    ap.add_argument("targets", nargs="*")
    a, extra = ap.parse_known_args()
    targets = a.targets or all_targets()
    if a.cov:
        print(f"{'target':12} {'file':34} {'lines':>6} {'cover':>7}")
        by_file = {}
        for t in targets:
            for f, lines, pct in cov_one(t):
                print(f"{t:12} {f:34} {lines:6} {pct:>7}")
                by_file.setdefault(f, []).append(t)
        for f, ts in sorted(by_file.items()):
            if len(ts) > 1:
                for f2, lines, pct in cov_union(f, ts):
                    print(f"{'+'.join(ts):12} {f2:34} {lines:6} {pct:>7}")
        return 0
    bad = 0
    res = []
    for t in targets:
        print(f"fuzz: {t} for {a.seconds} s ...", flush=True)
        r = fuzz_one(t, a.seconds, extra)
        r["seconds"] = a.seconds
        res.append(r)
        os.makedirs(os.path.join(BUILD, "results"), exist_ok=True)
        with open(os.path.join(BUILD, "results", f"{t}-{a.seconds}s.json"), "w") as f:
            json.dump(r, f)
        if r["crashes"] or r["rc"] not in (0,):
            bad = 1
            print(f"fuzz: {t}: CRASH (exit {r['rc']}): {r['crashes']} see {r['log']}", flush=True)
    print(f"{'target':12} {'execs':>12} {'edges':>6} {'features':>8} {'corpus':>6}  result")
    for r in res:
        st = "ok" if not r["crashes"] and r["rc"] == 0 else f"CRASH {' '.join(r['crashes'])}"
        print(f"{r['target']:12} {r['execs']:12} {r['edges']:6} {r['features']:8} {r['corpus']:6}  {st}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
