/* The virtual LAPIC's exits of an OS guest's vCPU: its xAPIC page (a nested page fault on
 * GUEST_LAPIC_BASE, a 32-bit MOV decoded as for MSI-X tables) and its MSRs. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include "arch/x86/trap.h"
#include "vmm/exits.h"
#include "vmm/guest_acpi.h"
#include "vmm/mmio.h"
#include "vmm/vcpu_run.h"

static unsigned fetch(struct vcpu *v, u64 rip, u8 *code)
{
	struct guest *g = v->guest;
	u64 cr3 = vmm_be->get_reg(v, VMM_REG_CR3), gpa;
	unsigned n = 0;

	while (n < MMIO_INSN_MAX) {
		const u8 *p;

		if (guest_va_to_gpa(g, cr3, rip + n, &gpa))
			break;
		p = guest_ptr(g, gpa, 1);
		if (!p)
			break;
		code[n++] = *p;
	}
	return n;
}

static int lapic_mmio(struct vcpu *v, const struct vmm_exit *e)
{
	u32 off = (u32)(e->npf.gpa - GUEST_LAPIC_BASE), val = 0;
	u8 code[MMIO_INSN_MAX] = {0};
	struct mmio_insn in;
	int err;

	unsigned n = fetch(v, e->rip, code);

	if (mmio_decode(code, n, &in) || (off & 3))
		return guest_stop(v->guest, VMM_EXIT_NPF,
				  "local APIC access at GPA %#llx (rip %#llx: %u bytes %02x %02x "
				  "%02x %02x) is not an aligned 32-bit MOV",
				  (unsigned long long)e->npf.gpa, (unsigned long long)e->rip, n,
				  code[0], code[1], code[2], code[3]);
	if (in.write) {
		val = in.imm ? in.value : (u32)vmm_be->get_reg(v, (enum vmm_reg)in.reg);
		err = vlapic_mmio_write(&v->lapic, off, val);
	} else {
		err = vlapic_mmio_read(&v->lapic, off, &val);
		if (!err)
			vmm_be->set_reg(v, (enum vmm_reg)in.reg, val);
	}
	if (err)
		return guest_stop(v->guest, VMM_EXIT_NPF,
				  "local APIC %s at offset %#x refused (rip %#llx)",
				  in.write ? "write" : "read", off, (unsigned long long)e->rip);
	vmm_be->set_reg(v, VMM_REG_RIP, e->rip + in.len);
	return 0;
}

static int lapic_msr(struct vcpu *v, const struct vmm_exit *e)
{
	u64 val = 0;
	int err;

	if (e->reason == VMM_EXIT_MSR_WRITE) {
		err = vlapic_msr_write(&v->lapic, e->msr.index, e->msr.value);
	} else {
		err = vlapic_msr_read(&v->lapic, e->msr.index, &val);
		if (!err) {
			vmm_be->set_reg(v, VMM_REG_RAX, val & 0xffffffff);
			vmm_be->set_reg(v, VMM_REG_RDX, val >> 32);
		}
	}
	if (err)
		return vmm_be->inject_exception(v, VEC_GP, true, 0);
	vmm_be->skip_instruction(v, e);
	return 0;
}

int vlapic_exit(struct vcpu *v, const struct vmm_exit *e)
{
	if (e->reason == VMM_EXIT_NPF && vlapic_mmio_owned(e->npf.gpa))
		return lapic_mmio(v, e);
	if ((e->reason == VMM_EXIT_MSR_READ || e->reason == VMM_EXIT_MSR_WRITE) &&
	    vlapic_msr_owned(e->msr.index))
		return lapic_msr(v, e);
	return -ENOENT;
}
