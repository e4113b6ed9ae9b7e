#!/usr/bin/env python3
"""Test DMAR tables for moat's acpi.override option, built from QEMU's own DMAR.

QEMU never puts an RMRR or a second remapping unit into its DMAR, so the firmware shapes of
real machines (docs/hardware.md) are built here: QEMU's table as captured with
vtd_dump_dmar (tests/unit/data/qemu_dmar.h: header, host address width, flags, the unit at
0xfed90000 with its IOAPIC scope), its unit turned into the INCLUDE_PCI_ALL unit (as on
most real machines, and so independent of the topology's device list), plus

  --rmrr BB:DD.F:BASE:SIZE   a reserved memory region for that endpoint
  --dead-unit BASE:BB:DD.F[,BB:DD.F...]
                             a second unit (before the INCLUDE_PCI_ALL one, as the spec
                             orders them) at a register base where nothing answers,
                             with those endpoints in its scope
  --corrupt                  the checksum off by one (the override must be refused)

  tests/emu/mkdmar.py --rmrr 00:05.0:0x6000000:0x10000 -o build/dmar-rmrr.bin
"""
import argparse
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURE = os.path.join(ROOT, "tests", "unit", "data", "qemu_dmar.h")

HEADER_LEN = 48
DRHD, RMRR = 0, 1
SCOPE_ENDPOINT, SCOPE_IOAPIC = 1, 3
INCLUDE_PCI_ALL = 1


def captured_dmar(path=CAPTURE):
    """The bytes of the C array in qemu_dmar.h."""
    with open(path) as f:
        text = f.read()
    body = text[text.index("{") + 1:text.rindex("}")]
    data = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-fA-F]{2})", body))
    if data[:4] != b"DMAR" or struct.unpack_from("<I", data, 4)[0] != len(data):
        raise SystemExit(f"mkdmar: {path} does not hold a whole DMAR table")
    return data


def structures(table):
    """[(type, bytes)] of the remapping structures after the 48-byte header."""
    out, off = [], HEADER_LEN
    while off < len(table):
        typ, length = struct.unpack_from("<HH", table, off)
        if length < 4 or off + length > len(table):
            raise SystemExit(f"mkdmar: structure at offset {off} has length {length}")
        out.append((typ, table[off:off + length]))
        off += length
    return out


def scopes(drhd):
    """[(type, bytes)] of a DRHD's device scopes."""
    out, off = [], 16
    while off < len(drhd):
        typ, length = drhd[off], drhd[off + 1]
        out.append((typ, drhd[off:off + length]))
        off += length
    return out


def bdf(text):
    m = re.fullmatch(r"([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])", text)
    if not m:
        raise SystemExit(f"mkdmar: {text!r} is not BB:DD.F")
    return int(m.group(1), 16), int(m.group(2), 16), int(m.group(3))


def endpoint_scope(bus, dev, fn):
    return struct.pack("<BBHBBBB", SCOPE_ENDPOINT, 8, 0, 0, bus, dev, fn)


def drhd(flags, base, scope_bytes, segment=0, size_log2=0):
    return struct.pack("<HHBBHQ", DRHD, 16 + len(scope_bytes), flags, size_log2, segment,
                       base) + scope_bytes


def rmrr(base, size, scope_bytes, segment=0):
    return struct.pack("<HHHHQQ", RMRR, 24 + len(scope_bytes), 0, segment, base,
                       base + size - 1) + scope_bytes


def build(qemu, rmrrs=(), dead_units=(), corrupt=False, all_dead_base=None):
    """The test table: QEMU's header and unit (INCLUDE_PCI_ALL, IOAPIC scope kept), the
    dead units before it, the RMRRs after it (8.1: DRHDs first, then RMRRs).
    all_dead_base moves QEMU's unit to a register base where nothing answers: no unit
    works (a broken IOMMU)."""
    units = [s for t, s in structures(qemu) if t == DRHD]
    if len(units) != 1:
        raise SystemExit(f"mkdmar: QEMU's DMAR has {len(units)} DRHDs, expected 1")
    q = units[0]
    base = struct.unpack_from("<Q", q, 8)[0]
    keep = b"".join(s for t, s in scopes(q) if t == SCOPE_IOAPIC)
    body = b""
    for dbase, devs in dead_units:
        body += drhd(0, dbase, b"".join(endpoint_scope(*d) for d in devs))
    body += drhd(INCLUDE_PCI_ALL, base if all_dead_base is None else all_dead_base, keep)
    for dev, rbase, size in rmrrs:
        body += rmrr(rbase, size, endpoint_scope(*dev))
    t = bytearray(qemu[:HEADER_LEN] + body)
    struct.pack_into("<I", t, 4, len(t))
    t[9] = 0
    t[9] = (-sum(t)) & 0xff
    if corrupt:
        t[9] = (t[9] + 1) & 0xff
    return bytes(t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rmrr", action="append", default=[], metavar="BB:DD.F:BASE:SIZE")
    ap.add_argument("--dead-unit", action="append", default=[], metavar="BASE:BB:DD.F")
    ap.add_argument("--corrupt", action="store_true")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args(argv)
    rmrrs = []
    for spec in a.rmrr:
        dev, base, size = spec.rsplit(":", 2)
        rmrrs.append((bdf(dev), int(base, 0), int(size, 0)))
    dead = []
    for spec in a.dead_unit:
        base, devs = spec.split(":", 1)
        dead.append((int(base, 0), [bdf(d) for d in devs.split(",")]))
    table = build(captured_dmar(), rmrrs, dead, a.corrupt)
    with open(a.output, "wb") as f:
        f.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
