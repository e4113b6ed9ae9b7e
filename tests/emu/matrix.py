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


RUNS = [
    dict(name="qemu-uefi-reference", emulator="qemu", boot="uefi", topology="reference",
         checks=[check_boot_method("UEFI")]),
    dict(name="qemu-mb2-reference", emulator="qemu", boot="mb2", topology="reference",
         checks=[check_boot_method("multiboot2")]),
    dict(name="bochs-mb2", emulator="bochs", cpus=3, checks=[check_boot_method("multiboot2")]),
]


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
