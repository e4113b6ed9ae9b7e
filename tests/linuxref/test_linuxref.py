#!/usr/bin/env python3
"""Host unit tests of the Linux reference's parsers and comparisons, on sample text
(no emulator, no network). Run: python3 tests/linuxref/test_linuxref.py"""
import gzip
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build  # noqa: E402
import linuxref  # noqa: E402

# What the reference's /init prints (igb-switch topology), with kernel noise in between.
LINUX_LOG = """\
[    0.000000] Linux version 6.1.0-56-amd64
linuxref: start 6.1.0-56-amd64
[    3.100000] igb 0000:03:00.0: 2 VFs allocated
linuxref: sriov 0000:03:00.0 numvfs 2 of 7
linuxref: dev 0000:00:00.0 8086:29c0 class 060000
linuxref: dev 0000:01:00.0 104c:8232 class 060400
linuxref: dev 0000:02:00.0 104c:8233 class 060400
linuxref: dev 0000:02:01.0 104c:8233 class 060400
linuxref: dev 0000:03:00.0 8086:10c9 class 020000
linuxref: dev 0000:03:10.0 8086:10ca class 020000
linuxref: dev 0000:03:10.2 8086:10ca class 020000
linuxref: group 0: 0000:00:00.0
linuxref: group 3: 0000:01:00.0
linuxref: group 4: 0000:02:00.0 0000:03:00.0 0000:03:10.0 0000:03:10.2
linuxref: group 5: 0000:02:01.0
linuxref: vf 0000:03:00.0 0000:03:10.0
linuxref: vf 0000:03:00.0 0000:03:10.2
linuxref: uptime 5.79
linuxref: done
[    5.900000] reboot: Power down
""".splitlines()

# moat's listing (pci branch format) and groups (groups branch format).
MOAT_LOG = """\
pci: 0000:00:00.0 8086:29c0 class 060000 rev 00 hdr 0 multifunction owner hypervisor
pci:   subsystem 1af4:1100 irq pin -
pci: 0000:01:00.0 104c:8232 class 060400 rev 02 hdr 1 owner hypervisor
pci:   bridge buses 02-03 (primary 01)
pci: 0000:02:00.0 104c:8233 class 060400 rev 01 hdr 1 owner hypervisor
pci: 0000:02:01.0 104c:8233 class 060400 rev 01 hdr 1 owner hypervisor
pci: 0000:03:00.0 8086:10c9 class 020000 rev 01 hdr 0 owner hypervisor
pci:   bar0 mem32 0xfe800000 size 0x20000
pci: 0000:03:10.0 8086:10ca class 020000 rev 01 hdr 0 vf owner none
pci: 03:10.2 8086:10CA
pci: 7 functions listed
pci: 4 isolation groups
pci: group 0: 0000:00:00.0
pci: group 1: 0000:01:00.0
pci: group 2: 0000:02:00.0 0000:03:00.0 0000:03:10.0 0000:03:10.2 (0000:02:00.0 is a downstream port without ACS)
pci: group 3: 0000:02:01.0
moat: 3 passed, 0 failed, 0 skipped
""".splitlines()


class FakeRun:
    def __init__(self, lines):
        self.name = "qemu-mb2-test"
        self.lines = lines


class Parsing(unittest.TestCase):
    def test_linux_log(self):
        ref = linuxref.Reference(LINUX_LOG)
        self.assertTrue(ref.done)
        self.assertEqual(ref.release, "6.1.0-56-amd64")
        self.assertEqual(len(ref.devices), 7)
        self.assertEqual(ref.devices["0000:03:10.2"], ("8086:10ca", "020000"))
        self.assertEqual(ref.groups[4], ["0000:02:00.0", "0000:03:00.0", "0000:03:10.0", "0000:03:10.2"])
        self.assertEqual(ref.vfs, {"0000:03:00.0": ["0000:03:10.0", "0000:03:10.2"]})
        self.assertEqual(ref.sriov, ["0000:03:00.0 numvfs 2 of 7"])
        self.assertEqual(ref.uptime, 5.79)
        self.assertFalse(linuxref.Reference(LINUX_LOG[:-2]).done)

    def test_moat_devices(self):
        devs = linuxref.parse_moat_devices(MOAT_LOG)
        self.assertEqual(len(devs), 7)  # not the bar/bridge/summary/group lines
        self.assertEqual(devs["0000:03:00.0"], ("8086:10c9", "020000"))
        self.assertEqual(devs["0000:03:10.2"], ("8086:10ca", None))  # short BDF, no class

    def test_moat_groups(self):
        groups = linuxref.parse_moat_groups(MOAT_LOG)
        self.assertEqual(len(groups), 4)
        g, reason = groups[2]
        self.assertEqual(g, frozenset(["0000:02:00.0", "0000:03:00.0", "0000:03:10.0", "0000:03:10.2"]))
        self.assertEqual(reason, "0000:02:00.0 is a downstream port without ACS")
        self.assertEqual(groups[0], (frozenset(["0000:00:00.0"]), ""))


class Compare(unittest.TestCase):
    linux = [frozenset(["a"]), frozenset(["b", "c"]), frozenset(["d"])]

    def test_equal(self):
        moat = [(frozenset(["a"]), ""), (frozenset(["b", "c"]), "bridge"), (frozenset(["d"]), "")]
        self.assertEqual(linuxref.compare_groups(moat, self.linux), ([], []))

    def test_looser_fails(self):
        moat = [(frozenset(["a"]), ""), (frozenset(["b"]), ""), (frozenset(["c"]), ""), (frozenset(["d"]), "")]
        fails, _ = linuxref.compare_groups(moat, self.linux)
        self.assertEqual(len(fails), 1)
        self.assertIn("moat looser", fails[0])

    def test_stricter_needs_reason(self):
        moat = [(frozenset(["a", "d"]), "no ACS on the switch"), (frozenset(["b", "c"]), "bridge")]
        fails, notes = linuxref.compare_groups(moat, self.linux)
        self.assertEqual(fails, [])
        self.assertIn("no ACS on the switch", notes[0])
        fails, _ = linuxref.compare_groups([(frozenset(["a", "d"]), ""), (frozenset(["b", "c"]), "x")], self.linux)
        self.assertIn("without a reason", fails[0])

    def test_missing_devices_fail(self):
        fails, _ = linuxref.compare_groups([(frozenset(["a"]), ""), (frozenset(["e"]), "")], self.linux)
        self.assertEqual(len(fails), 4)  # b, c, d only in Linux; e only in moat

    def test_devices(self):
        linux = {"x": ("8086:10c9", "020000"), "y": ("8086:10ca", "020000")}
        self.assertEqual(linuxref.compare_devices({"x": ("8086:10c9", "020000"), "y": ("8086:10ca", None)}, linux), [])
        diffs = linuxref.compare_devices({"x": ("8086:10c9", "020001"), "z": ("1234:11e8", None)}, linux)
        self.assertEqual(len(diffs), 3)


class Checks(unittest.TestCase):
    def tearDown(self):
        linuxref._cache.clear()

    def test_match(self):
        linuxref._cache[("igb-switch", "mb2", 2)] = linuxref.Reference(LINUX_LOG)
        run = FakeRun(MOAT_LOG)
        self.assertEqual(linuxref.check_groups_match_linux("igb-switch")(run)[0][1], "ok")
        self.assertEqual(linuxref.check_devices_match_linux("igb-switch")(run)[0][1], "ok")

    def test_looser_moat_fails(self):
        linuxref._cache[("igb-switch", "mb2", 2)] = linuxref.Reference(LINUX_LOG)
        lines = [ln for ln in MOAT_LOG if not ln.startswith("pci: group 2")] + [
            "pci: group 2: 0000:02:00.0 0000:03:00.0", "pci: group 4: 0000:03:10.0", "pci: group 5: 0000:03:10.2"]
        res = linuxref.check_groups_match_linux("igb-switch")(FakeRun(lines))
        self.assertEqual(res[0][1], "fail")
        self.assertIn("moat looser", res[0][2])

    def test_no_moat_lines_fails(self):
        linuxref._cache[("igb-switch", "mb2", 2)] = linuxref.Reference(LINUX_LOG)
        self.assertEqual(linuxref.check_groups_match_linux("igb-switch")(FakeRun(["moat: hi"]))[0][1], "fail")
        self.assertEqual(linuxref.check_devices_match_linux("igb-switch")(FakeRun(["moat: hi"]))[0][1], "fail")

    def test_unavailable_skips_with_reason(self):
        linuxref._cache[("reference", "mb2", 2)] = build.Unavailable("`apt-get download busybox-static` exited 100: E: no network")
        res = linuxref.check_groups_match_linux("reference")(FakeRun(MOAT_LOG))
        self.assertEqual(res[0][1], "skip")
        self.assertIn("E: no network", res[0][2])

    def test_boot_failure_fails(self):
        linuxref._cache[("reference", "mb2", 2)] = linuxref.BootFailed("did not finish")
        self.assertEqual(linuxref.check_devices_match_linux("reference")(FakeRun(MOAT_LOG))[0][1], "fail")

    def test_no_iommu_skips(self):
        linuxref._cache[("plain", "mb2", 2)] = linuxref.Reference([ln for ln in LINUX_LOG if "group" not in ln])
        res = linuxref.check_groups_match_linux("plain")(FakeRun(MOAT_LOG))
        self.assertEqual(res[0][1], "skip")


class Build(unittest.TestCase):
    def test_kernel_boot_replaces_medium(self):
        mb2 = ["qemu", "-m", "1G", "-cdrom", "moat.iso", "-device", "edu"]
        self.assertEqual(linuxref.kernel_boot(mb2, "k", "i", "a"),
                         ["qemu", "-m", "1G", "-device", "edu", "-kernel", "k", "-initrd", "i", "-append", "a"])
        uefi = ["qemu", "-drive", "if=pflash,file=code", "-drive", "format=raw,file=fat:rw:esp"]
        self.assertEqual(linuxref.kernel_boot(uefi, "k", "i", "a")[:3], ["qemu", "-drive", "if=pflash,file=code"])
        with self.assertRaises(linuxref.BootFailed):
            linuxref.kernel_boot(["qemu"], "k", "i", "a")

    def test_module_order(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "modules.dep"), "w") as f:
                f.write("kernel/igb.ko.xz: kernel/dca.ko.xz kernel/i2c-algo-bit.ko.xz\n"
                        "kernel/dca.ko.xz:\nkernel/i2c-algo-bit.ko.xz:\n")
            self.assertEqual(build.module_order(d, ["igb"]),
                             ["kernel/dca.ko.xz", "kernel/i2c-algo-bit.ko.xz", "kernel/igb.ko.xz"])
            with self.assertRaises(build.Unavailable):
                build.module_order(d, ["e1000e"])
            self.assertEqual(build.modules_dep(d, build.module_order(d, ["igb"])),
                             "dca.ko:\ni2c-algo-bit.ko:\nigb.ko: dca.ko i2c-algo-bit.ko\n")

    def test_cpio_newc(self):
        data = build.cpio_newc([("init", 0o100755, b"#!/bin/sh\n", 0, 0), ("dev/console", 0o020600, b"", 5, 1)])
        names, off = [], 0
        while True:
            hdr = data[off:off + 110]
            self.assertEqual(hdr[:6], b"070701")
            f = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
            namesize, filesize = f[11], f[6]
            name = data[off + 110:off + 110 + namesize - 1].decode()
            names.append((name, f[1], f[9], f[10]))
            off += 110 + namesize
            off += -off % 4
            off += filesize + (-filesize % 4)
            if name == "TRAILER!!!":
                break
        self.assertEqual(off, len(data))
        self.assertEqual(names[:2], [("init", 0o100755, 0, 0), ("dev/console", 0o020600, 5, 1)])
        self.assertTrue(gzip.compress(data))


if __name__ == "__main__":
    unittest.main(verbosity=2)
