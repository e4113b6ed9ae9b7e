#!/usr/bin/env python3
"""Names the functions in moat's crash dumps: copies a serial log (a file or stdin) and
after every `trap:` line of the hypervisor that holds addresses inside the image's code
(rip, and any register that points into it) appends them as function+offset, from the
ELF's symbol table (nm). docs/debugging.md.

  scripts/symbolize.py [--elf build/moat-test.elf] [serial.log]

    trap:  rip 0000000000203a1f cs 0008 rflags ...
      -> trap:  rip 0000000000203a1f cs 0008 rflags ...   [rip = vmm_handle_exit+0x4f]
"""
import argparse
import bisect
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REG_RE = re.compile(r"\b([a-z0-9]{2,6})\s+([0-9a-f]{16})\b")
CODE_TYPES = set("TtWw")


class Symbols:
    """Code symbols of an ELF, sorted: lookup(address) -> 'name+0xoff' or None."""

    def __init__(self, nm_text):
        syms = []
        for ln in nm_text.splitlines():
            f = ln.split()
            if len(f) == 3 and f[1] in CODE_TYPES:
                syms.append((int(f[0], 16), f[2]))
            elif len(f) == 3 and f[2] == "__text_end":
                self.text_end = int(f[0], 16)
        syms.sort()
        self.addrs = [a for a, _n in syms]
        self.names = [n for _a, n in syms]
        if not hasattr(self, "text_end"):
            self.text_end = self.addrs[-1] + 0x1000 if self.addrs else 0

    @classmethod
    def from_elf(cls, elf):
        out = subprocess.run(["nm", "-n", "--defined-only", elf], capture_output=True,
                             text=True, check=True).stdout
        return cls(out)

    def lookup(self, addr):
        i = bisect.bisect_right(self.addrs, addr) - 1
        if i < 0 or addr >= self.text_end:
            return None
        off = addr - self.addrs[i]
        return self.names[i] + (f"+{off:#x}" if off else "")


def annotate(line, syms):
    """The line with ` [reg = function+off, ...]` appended when it is a hypervisor trap
    line holding code addresses; unchanged otherwise."""
    if not line.startswith("trap:"):
        return line
    named = [f"{reg} = {s}" for reg, val in REG_RE.findall(line)
             for s in [syms.lookup(int(val, 16))] if s]
    return f"{line}   [{', '.join(named)}]" if named else line


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--elf", default=os.path.join(ROOT, "build", "moat-test.elf"))
    ap.add_argument("log", nargs="?")
    a = ap.parse_args(argv)
    syms = Symbols.from_elf(a.elf)
    src = open(a.log, errors="replace") if a.log else sys.stdin
    try:
        for ln in src:
            print(annotate(ln.rstrip("\r\n"), syms))
    finally:
        if a.log:
            src.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
