#!/usr/bin/env python3
"""Packs files into a cpio "newc" archive, the module container of moat's PVH boot path
(QEMU's -kernel takes one -initrd file; moat makes each file of the archive a module named
by its file name: docs/boot.md).

  scripts/mkcpio.py OUT [NAME=]PATH ...     e.g. mkcpio.py mods.cpio build/moat.conf cpu=guest.elf
"""
import os
import sys


def entry(name, data, mode=0o100644, ino=1):
    nb = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields) + nb
    hdr += b"\0" * (-len(hdr) % 4)
    return hdr + data + b"\0" * (-len(data) % 4)


def archive(files):
    """files: [(name, bytes)] -> the archive's bytes."""
    out = b"".join(entry(n, d, ino=i + 1) for i, (n, d) in enumerate(files))
    return out + entry("TRAILER!!!", b"", mode=0, ino=0)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    files = []
    for arg in argv[1:]:
        name, path = arg.split("=", 1) if "=" in arg else (os.path.basename(arg), arg)
        with open(path, "rb") as f:
            files.append((name, f.read()))
    with open(argv[0], "wb") as f:
        f.write(archive(files))


if __name__ == "__main__":
    main(sys.argv[1:])
