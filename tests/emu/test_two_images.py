"""The product image holds no test code (docs/testing.md, "Two images from one tree"): no
self-test, test hook or test hypercall symbol, no self-test table, no test command-line
word; the test image has them. Reads build/moat.elf, build/moat.efi and their test twins."""
import os
import re
import subprocess
import unittest

BUILD = os.environ.get("BUILD", os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "build"))
TEST_SYMBOLS = re.compile(r"selftest|vtd_test_|efi_test_|tsc_test_|irq_forge|native_bulk|"
                          r"test_hypercall|vmm_run_transient", re.I)
TEST_WORDS = (b"vtd_test_fw_enabled", b"tsc_test_wrap", b"efi_test_stale_key",
              b"efi_test_image_busy")


def artefact(name):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        raise unittest.SkipTest(f"{path} not built (make)")
    return path


def symbols(path):
    out = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    return [ln.split()[-1] for ln in out.splitlines() if ln.strip()]


def sections(path):
    out = subprocess.run(["objdump", "-h", path], capture_output=True, text=True,
                         check=True).stdout
    return re.findall(r"^\s*\d+\s+(\S+)", out, re.M)


class ProductHasNoTestCode(unittest.TestCase):
    def test_no_test_symbols(self):
        bad = [s for s in symbols(artefact("moat.elf")) if TEST_SYMBOLS.search(s)]
        self.assertEqual(bad, [], "test symbols in the product moat.elf")

    def test_no_selftest_table(self):
        self.assertNotIn("selftests", sections(artefact("moat.elf")))

    def test_no_test_words(self):
        for name in ("moat.elf", "moat.efi"):
            with open(artefact(name), "rb") as f:
                data = f.read()
            for w in TEST_WORDS:
                self.assertNotIn(w, data, f"{name} carries the test word {w.decode()}")

    def test_test_image_has_them(self):
        syms = symbols(artefact("moat-test.elf"))
        for want in ("selftest_run_all", "test_hypercall", "irq_forge_arm",
                     "vtd_test_leave_enabled", "vmm_run_transient"):
            self.assertIn(want, syms)
        self.assertIn("selftests", sections(artefact("moat-test.elf")))
        with open(artefact("moat-test.efi"), "rb") as f:
            data = f.read()
        for w in TEST_WORDS:
            self.assertIn(w, data, f"moat-test.efi lacks the test word {w.decode()}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
