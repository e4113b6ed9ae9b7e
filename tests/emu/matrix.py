"""The emulator test matrix (DESIGN.md "Test matrix"). Each run boots moat once; its TAP
lines become tests, and `checks` adds host-side checks that read the run's serial log and
what QEMU itself reported (monitor commands)."""
import harness


def check_boot_method(expected):
    def check(r):
        ok = any(f"boot method: {expected}" in ln for ln in r.lines)
        return [[f"{r.name}: host: boot-method-{expected}", "ok" if ok else "fail",
                 "" if ok else f"no 'boot method: {expected}' line"]]
    return check


def check_line(tag, pattern):
    """A host-side check that some serial line matches `pattern` (a regex)."""
    def check(r):
        ok = bool(harness.line_matching(r, pattern))
        return [[f"{r.name}: host: {tag}", "ok" if ok else "fail",
                 "" if ok else f"no line matching {pattern!r}"]]
    return check


# APIC/SMP corner cases: one CPU, many CPUs, a CPU without x2APIC (xAPIC MMIO mode), and
# a hot-plugged CPU in socket 1 whose APIC ID (259) only x2APIC can address.
SMP_RUNS = [
    dict(name="qemu-mb2-smp1", emulator="qemu", boot="mb2", topology="plain", smp=1,
         checks=[check_line("one-cpu", r"^smp: 1 CPUs online, APIC IDs 0$")]),
    dict(name="qemu-mb2-smp12", emulator="qemu", boot="mb2", topology="plain", smp=12,
         checks=[check_line("twelve-cpus", r"^smp: 12 CPUs online, APIC IDs 0 1 2 .* 11$")]),
    dict(name="qemu-mb2-xapic", emulator="qemu", boot="mb2", topology="plain", smp=4,
         extra=("-cpu", "max,-x2apic"),
         checks=[check_line("xapic-mode", r"^apic: xAPIC mode"),
                 check_line("four-cpus", r"^smp: 4 CPUs online, APIC IDs 0 1 2 3$")]),
    dict(name="qemu-mb2-apicid259", emulator="qemu", boot="mb2", topology="plain", smp=1,
         extra=("-smp", "2,sockets=2,cores=200,threads=1,maxcpus=400",
                "-device", "max-x86_64-cpu,socket-id=1,core-id=3,thread-id=0"),
         checks=[check_line("x2apic-mode", r"^apic: x2APIC mode"),
                 check_line("apic-id-259", r"^smp: 3 CPUs online, APIC IDs 0 1 259$")]),
]

RUNS = [
    dict(name="qemu-uefi-reference", emulator="qemu", boot="uefi", topology="reference",
         checks=[check_boot_method("UEFI")]),
    dict(name="qemu-mb2-reference", emulator="qemu", boot="mb2", topology="reference",
         checks=[check_boot_method("multiboot2")]),
    # Bochs: the VMX backend. One CPU for moat and one per guest of the default
    # configuration (alpha, beta, attacker), all running at once under VMX + EPT.
    dict(name="bochs-mb2", emulator="bochs", cpus=4,
         checks=[check_boot_method("multiboot2"),
                 check_line("backend-vmx", r"^vmm: backend vmx: nested tables ept, 4 levels"),
                 check_line("alpha-on-cpu1", r"^vmm: guest alpha: running on cpu 1$"),
                 check_line("beta-on-cpu2", r"^vmm: guest beta: running on cpu 2$"),
                 check_line("alpha-cpu-suite", r"^vmm: stats alpha: shut down; .*results [1-9]\d* passed, 0 failed"),
                 check_line("beta-cpu-suite", r"^vmm: stats beta: shut down; .*results [1-9]\d* passed, 0 failed"),
                 check_line("attacker-stopped-by-ept",
                            r"^vmm: guest attacker stopped: nested page fault at GPA 0x")]),
] + SMP_RUNS


def execute(spec):
    if spec["emulator"] == "qemu":
        r = harness.run_qemu(spec["name"], spec["boot"], spec["topology"],
                             timeout=spec.get("timeout", 300),
                             monitor_cmds=spec.get("monitor", ()), smp=spec.get("smp"),
                             mem=spec.get("mem"), extra=spec.get("extra", ()))
    else:
        r = harness.run_bochs(spec["name"], cpus=spec.get("cpus", 3), megs=spec.get("megs", 512),
                              timeout=spec.get("timeout", 420))
    results = harness.judge(r, expect_exit=spec["emulator"] == "qemu")
    for c in spec.get("checks", ()):
        results += c(r)
    return results
