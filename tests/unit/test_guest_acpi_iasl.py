"""The ACPI tables moat builds for an OS guest (vmm/guest_acpi.c), disassembled by ACPICA's
iasl: independent code that must accept them (no checksum or structure complaint) and read
in them what moat meant: the PM1a/PM-timer ports, \\_S5, one local APIC per vCPU, the I/O
APIC and the interrupt source overrides of a PC (IRQ 0 on GSI 2, the SCI level/active-high)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(os.environ.get("BUILD", os.path.join(ROOT, "build")), "unit", "test_guest_acpi")
COMPLAINTS = ("Incorrect checksum", "Error", "Warning", "Invalid", "Unknown")


@unittest.skipUnless(shutil.which("iasl"), "iasl not installed (acpica-tools: scripts/deps.sh)")
@unittest.skipUnless(os.path.exists(BIN), "build/unit/test_guest_acpi not built (make unit)")
class GuestTablesUnderIasl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        p = subprocess.run([BIN], env=dict(os.environ, GUEST_ACPI_DUMP=cls.dir),
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def disassemble(self, sig):
        p = subprocess.run(["iasl", "-d", f"{sig}.dat"], cwd=self.dir, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for c in COMPLAINTS:
            self.assertNotIn(c, p.stdout + p.stderr)
        with open(os.path.join(self.dir, f"{sig}.dsl")) as f:
            dsl = f.read()
        for c in COMPLAINTS:
            self.assertNotIn(c, dsl)
        return dsl

    def test_fadt(self):
        dsl = self.disassemble("FACP")
        for want in ("PM1A Event Block Address : 00000600",
                     "PM1A Control Block Address : 00000604",
                     "PM Timer Block Address : 00000608",
                     "32-bit PM Timer (V1) : 1",
                     "Reset Register Supported (V2) : 1",
                     "Address : 0000000000000CF9",
                     "Value to cause reset : 06"):
            self.assertIn(want, " ".join(dsl.split()).replace(" : ", " : "), want)

    def test_dsdt_s5(self):
        dsl = " ".join(self.disassemble("DSDT").split())
        self.assertIn("Name (_S5, Package (0x04) // _S5_: S5 System State { 0x05, 0x05, Zero, Zero })",
                      dsl)

    def test_dsdt_pci_host_bridge(self):
        """Linux scans PCI below the host bridges ACPI names: bus 0, conf1's ports and the
        memory window of the guest's device BARs."""
        dsl = " ".join(self.disassemble("DSDT").split())
        for want in ("Scope (_SB) { Device (PCI0) {",
                     'Name (_HID, EisaId ("PNP0A03") /* PCI Bus */)',
                     "Name (_UID, Zero)",
                     "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, "
                     "// Granularity 0x0000, // Range Minimum 0x0000, // Range Maximum 0x0000, "
                     "// Translation Offset 0x0001, // Length",
                     "IO (Decode16, 0x0CF8, // Range Minimum 0x0CF8, // Range Maximum 0x01, "
                     "// Alignment 0x08, // Length",
                     "DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, "
                     "ReadWrite, 0x00000000, // Granularity 0xC0000000, // Range Minimum "
                     "0xFEBFFFFF, // Range Maximum 0x00000000, // Translation Offset 0x3EC00000, "
                     "// Length"):
            self.assertIn(want, dsl, want)

    def test_madt(self):
        # without the "[offset decimal length]" column, so that a subtable's fields follow
        # each other
        dsl = " ".join(re.sub(r"^\[[0-9A-F]+h [0-9]+ +[0-9]+\]", "", line)
                       for line in self.disassemble("APIC").splitlines())
        dsl = " ".join(dsl.split())
        self.assertEqual(dsl.count("Subtable Type : 00 [Processor Local APIC]"), 2)
        self.assertIn("Local Apic ID : 00", dsl)
        self.assertIn("Local Apic ID : 02", dsl)
        self.assertIn("Local Apic Address : FEE00000", dsl)
        # no 8259 pair: Linux then routes every ISA IRQ through the I/O APIC
        self.assertIn("PC-AT Compatibility : 0", dsl)
        self.assertEqual(dsl.count("Subtable Type : 01 [I/O APIC]"), 1)
        self.assertIn("I/O Apic ID : 03 Reserved : 00 Address : FEC00000 Interrupt : 00000000",
                      dsl)
        self.assertEqual(dsl.count("Subtable Type : 02 [Interrupt Source Override]"), 2)
        self.assertIn("Bus : 00 Source : 00 Interrupt : 00000002 Flags (decoded below) : 0000 "
                      "Polarity : 0 Trigger Mode : 0", dsl)
        self.assertIn("Bus : 00 Source : 09 Interrupt : 00000009 Flags (decoded below) : 000D "
                      "Polarity : 1 Trigger Mode : 3", dsl)

    def test_xsdt(self):
        dsl = " ".join(self.disassemble("XSDT").split())
        self.assertEqual(dsl.count("ACPI Table Address"), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
