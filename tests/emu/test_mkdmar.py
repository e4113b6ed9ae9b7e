#!/usr/bin/env python3
"""tests/emu/mkdmar.py: the test DMARs are whole, valid tables of the shape asked for."""
import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkdmar  # noqa: E402


def parse(t):
    """[(type, flags, base/limit fields, [(scope type, bus, dev, fn)])] of a DMAR."""
    out = []
    for typ, s in mkdmar.structures(t):
        first = 16 if typ == mkdmar.DRHD else 24
        scopes, off = [], first
        while off < len(s):
            scopes.append((s[off], s[off + 5], s[off + 6], s[off + 7]))
            off += s[off + 1]
        fields = struct.unpack_from("<Q", s, 8) if typ == mkdmar.DRHD else struct.unpack_from("<QQ", s, 8)
        out.append((typ, s[4], fields, scopes))
    return out


class Build(unittest.TestCase):
    def setUp(self):
        self.qemu = mkdmar.captured_dmar()

    def check_whole(self, t):
        self.assertEqual(t[:4], b"DMAR")
        self.assertEqual(struct.unpack_from("<I", t, 4)[0], len(t))
        self.assertEqual(sum(t) & 0xff, 0)
        self.assertEqual(t[36:48], self.qemu[36:48])  # host address width, flags

    def test_rmrr(self):
        t = mkdmar.build(self.qemu, rmrrs=[((0, 5, 0), 0x6000000, 0x10000)])
        self.check_whole(t)
        s = parse(t)
        self.assertEqual(len(s), 2)
        typ, flags, (base,), scopes = s[0]
        self.assertEqual((typ, flags & 1, base), (mkdmar.DRHD, 1, 0xfed90000))
        self.assertEqual(scopes, [(mkdmar.SCOPE_IOAPIC, 0xff, 0, 0)])
        self.assertEqual(s[1], (mkdmar.RMRR, 0, (0x6000000, 0x600ffff), [(mkdmar.SCOPE_ENDPOINT, 0, 5, 0)]))

    def test_dead_unit_first(self):
        t = mkdmar.build(self.qemu, dead_units=[(0xbffff000, [(0, 6, 0), (0, 0x1f, 2)])])
        self.check_whole(t)
        s = parse(t)
        self.assertEqual(s[0], (mkdmar.DRHD, 0, (0xbffff000,),
                                [(mkdmar.SCOPE_ENDPOINT, 0, 6, 0), (mkdmar.SCOPE_ENDPOINT, 0, 0x1f, 2)]))
        self.assertEqual(s[1][:3], (mkdmar.DRHD, 1, (0xfed90000,)))  # INCLUDE_PCI_ALL last

    def test_corrupt(self):
        t = mkdmar.build(self.qemu, rmrrs=[((0, 5, 0), 0x6000000, 0x10000)], corrupt=True)
        self.assertNotEqual(sum(t) & 0xff, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
