#!/usr/bin/env python3
"""Builds the Linux reference machine's kernel and initramfs into build/linuxref/.

At test time, from Debian's archive by package name: the kernel the suite's
linux-image-amd64 currently depends on (override with LINUXREF_KERNEL_PKG) and
busybox-static (`apt-get download`, `dpkg-deb -x`). The initramfs (cpio newc, gzip) holds
busybox, igb and igbvf (the VF driver a Linux guest of moat uses, issue 16) and the
modules they need (from the kernel's modules.dep, made with
`depmod -b`) in /lib/modules, with /lib/modules/<release>/ holding a link to each and
their modules.dep so busybox `modprobe igbvf` finds them, tests/linuxref/init.sh as /init and tests/linuxref/guest.sh as /guest.sh
(what /init runs in a Linux guest of moat: kernel command line word `linuxguest`). Nothing here is committed.

A finished build is reused while the package names and this directory's scripts are
unchanged. Errors raise Unavailable with a sentence naming what failed.
  tests/linuxref/build.py        build (or reuse) and print the kernel and initrd paths
"""
import gzip
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
OUT = os.path.join(BUILD, "linuxref")
MODULES = ["igb", "igbvf"]  # in dependency order in /modules.list; the reference's /init
# loads them all (its VFs stay unbound: sriov_drivers_autoprobe 0)


class Unavailable(Exception):
    """The reference cannot be built here; str() says why."""


def run(argv, cwd=None):
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise Unavailable(f"{argv[0]} is not installed (scripts/deps.sh installs what is missing)")
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Unavailable(f"`{' '.join(argv)}` failed: {e}")
    if p.returncode != 0:
        err = (p.stderr or p.stdout).strip().splitlines()
        raise Unavailable(f"`{' '.join(argv)}` exited {p.returncode}: {err[-1] if err else ''}")
    return p.stdout


def kernel_package():
    """linux-image-<abi>-amd64 that the suite's linux-image-amd64 candidate depends on."""
    if os.environ.get("LINUXREF_KERNEL_PKG"):
        return os.environ["LINUXREF_KERNEL_PKG"]
    try:
        out = run(["apt-cache", "depends", "linux-image-amd64"])
    except Unavailable as e:
        raise Unavailable(f"{e} (are apt's package lists there? apt-get update)")
    m = re.search(r"Depends: (linux-image-[0-9]\S*-amd64)\s", out)
    if not m:
        raise Unavailable(f"apt-cache names no kernel for linux-image-amd64: {out.strip()!r}")
    return m.group(1)


def fetch(pkg, debs):
    os.makedirs(debs, exist_ok=True)
    have = [f for f in os.listdir(debs) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if not have:
        run(["apt-get", "download", pkg], cwd=debs)
        have = [f for f in os.listdir(debs) if f.startswith(pkg + "_") and f.endswith(".deb")]
    if not have:
        raise Unavailable(f"apt-get download {pkg} left no .deb in {debs}")
    return os.path.join(debs, sorted(have)[-1])


def module_order(moddir, names):
    """Relative paths of `names` and their dependencies, dependencies first (modules.dep)."""
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for ln in f:
            mod, _, rest = ln.partition(":")
            deps[mod] = rest.split()
    by_name = {re.sub(r"\.ko(\.\w+)?$", "", os.path.basename(m)).replace("-", "_"): m for m in deps}
    order = []

    def add(m):
        for d in deps[m]:
            add(d)
        if m not in order:
            order.append(m)
    for n in names:
        if n not in by_name:
            raise Unavailable(f"module {n} is not in {moddir}/modules.dep (built in, or missing?)")
        add(by_name[n])
    return order


def modules_dep(moddir, order):
    """modules.dep for /lib/modules/<release>/ of the initramfs: each module of `order`
    under the name it has there (decompressed), with its dependencies."""
    deps = {}
    with open(os.path.join(moddir, "modules.dep")) as f:
        for ln in f:
            mod, _, rest = ln.partition(":")
            deps[mod] = rest.split()
    name = lambda m: re.sub(r"\.(xz|gz)$", "", os.path.basename(m))  # noqa: E731
    return "".join(f"{name(m)}:{''.join(' ' + name(d) for d in deps[m])}\n" for m in order)


def read_module(path):
    """Module bytes, decompressed (busybox insmod takes plain .ko)."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".gz"):
        return gzip.decompress(data)
    if path.endswith(".zst"):
        raise Unavailable(f"{path}: zstd-compressed modules are not supported")
    return data


def cpio_newc(entries):
    """A cpio archive (newc) of [(name, mode, data, rdev_major, rdev_minor)], owned by root."""
    out = bytearray()
    pad = lambda n: b"\0" * (-n % 4)  # noqa: E731
    for ino, (name, mode, data, major, minor) in enumerate(entries + [("TRAILER!!!", 0, b"", 0, 0)], 1):
        nb = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, major, minor, len(nb), 0]
        hdr = b"070701" + b"".join(b"%08x" % v for v in fields)
        out += hdr + nb + pad(len(hdr) + len(nb)) + data + pad(len(data))
    return bytes(out)


def inputs_digest(pkgs):
    h = hashlib.sha256(" ".join(pkgs).encode())
    for name in ("build.py", "init.sh", "guest.sh"):
        with open(os.path.join(HERE, name), "rb") as f:
            h.update(name.encode() + f.read())
    return h.hexdigest()[:16]


_build_lock = threading.Lock()  # the matrix's runs call build() from several threads


def build():
    """Returns {"kernel", "initrd", "package", "release", "modules"}; builds only if needed."""
    with _build_lock:
        return _build()


def _build():
    kpkg = kernel_package()
    pkgs = [kpkg, "busybox-static"]
    stamp = os.path.join(OUT, "stamp.json")
    digest = inputs_digest(pkgs)
    if os.path.exists(stamp):
        with open(stamp) as f:
            info = json.load(f)
        if info.get("digest") == digest and all(os.path.exists(info[k]) for k in ("kernel", "initrd")):
            return info
    debs = os.path.join(OUT, "debs")
    tree = os.path.join(OUT, "tree")
    shutil.rmtree(tree, ignore_errors=True)
    for p in pkgs:
        run(["dpkg-deb", "-x", fetch(p, debs), tree])
    mods = os.path.join(tree, "lib", "modules")
    releases = os.listdir(mods) if os.path.isdir(mods) else []
    if len(releases) != 1:
        raise Unavailable(f"{kpkg} holds {len(releases)} module trees under /lib/modules, expected 1")
    release = releases[0]
    moddir = os.path.join(mods, release)
    run(["depmod", "-b", tree, release])
    order = module_order(moddir, MODULES)
    busybox = os.path.join(tree, "bin", "busybox")
    if not os.path.exists(busybox):
        raise Unavailable("busybox-static has no /bin/busybox")

    def file(path):
        with open(path, "rb") as f:
            return f.read()
    d, x, r = 0o040755, 0o100755, 0o100644
    entries = [(n, d, b"", 0, 0) for n in ("bin", "dev", "proc", "sys", "lib", "lib/modules")]
    entries += [("dev/console", 0o020600, b"", 5, 1), ("bin/busybox", x, file(busybox), 0, 0),
                ("init", x, file(os.path.join(HERE, "init.sh")), 0, 0),
                ("guest.sh", x, file(os.path.join(HERE, "guest.sh")), 0, 0)]
    names = []
    for m in order:
        name = re.sub(r"\.(xz|gz)$", "", os.path.basename(m))
        names.append(name)
        entries.append(("lib/modules/" + name, r, read_module(os.path.join(moddir, m)), 0, 0))
    entries.append(("modules.list", r, ("\n".join(names) + "\n").encode(), 0, 0))
    # busybox modprobe: /lib/modules/<release>/modules.dep, paths relative to that folder
    entries.append((f"lib/modules/{release}", d, b"", 0, 0))
    entries += [(f"lib/modules/{release}/{n}", 0o120777, f"../{n}".encode(), 0, 0) for n in names]
    entries.append((f"lib/modules/{release}/modules.dep", r, modules_dep(moddir, order).encode(), 0, 0))
    initrd = os.path.join(OUT, "initrd.gz")
    with open(initrd, "wb") as raw, gzip.GzipFile("", "wb", 6, raw, mtime=0) as f:
        f.write(cpio_newc(entries))  # byte-identical for the same packages
    kernel = os.path.join(OUT, "vmlinuz")
    shutil.copyfile(os.path.join(tree, "boot", f"vmlinuz-{release}"), kernel)
    shutil.rmtree(tree)
    info = dict(kernel=kernel, initrd=initrd, package=kpkg, release=release, modules=names,
                digest=digest)
    with open(stamp, "w") as f:
        json.dump(info, f, indent=1)
    return info


if __name__ == "__main__":
    try:
        i = build()
    except Unavailable as e:
        sys.exit(f"linuxref: cannot build the reference: {e}")
    print(f"linuxref: {i['package']} ({i['release']}), modules {' '.join(i['modules'])}")
    print(f"linuxref: kernel {i['kernel']}\nlinuxref: initrd {i['initrd']}")
