/* The exit decoders of both backends into the core's normalized exit: VMX
 * (arch/x86/vmx/vmx_decode.c: exit reason, qualification, GPA, interruption information
 * and guest registers as the VMCS and the entry stub hand them over) and SVM
 * (arch/x86/svm/svm_exit.c: a VMCB's exit code, EXITINFO1/2, RIP, next RIP, RAX and the
 * saved registers). Byte 0 bit 0 picks the backend, bit 1 SVM's NRIP save; the rest
 * fills the fields in order. The result must name a reason the core knows and, for I/O,
 * an access size of 1, 2 or 4. */
#include <stdlib.h>
#include <moat/string.h>
#include "arch/x86/svm/svm.h"
#include "arch/x86/vmx/vmx_decode.h"
#include "vmm/vmm.h"
#include "fuzz.h"

struct svm_features svm_feat;

unsigned cpu_phys_addr_bits(void)
{
	return 48;
}

static void check(const struct vmm_exit *e)
{
	if (e->reason >= VMM_EXIT_NR)
		abort();
	if (e->reason == VMM_EXIT_IO && e->io.size != 1 && e->io.size != 2 && e->io.size != 4)
		abort();
}

static void vmx(struct fin *f)
{
	struct vmx_exit_info x;
	u64 gprs[VMM_REG_NR];
	struct vmm_exit e;

	x.reason = fin_u32(f);
	x.qual = fin_u64(f);
	x.gpa = fin_u64(f);
	x.intr_info = fin_u32(f);
	x.intr_error = fin_u32(f);
	x.rip = fin_u64(f);
	x.insn_len = fin_u32(f);
	for (unsigned i = 0; i < VMM_REG_NR; i++)
		gprs[i] = fin_u64(f);
	memset(&e, 0, sizeof(e));
	vmx_exit_decode(&x, gprs, &e);
	check(&e);
}

static void svm(struct fin *f, bool nrips)
{
	static struct vmcb *vmcb;
	static struct svm_vcpu s;
	static struct guest g;
	struct vmm_exit e;

	if (!vmcb)
		vmcb = aligned_alloc(4096, sizeof(*vmcb));
	svm_vmcb_init(vmcb, 0x1000, 0x4000, 1, 0x8000);
	memset(&s, 0, sizeof(s));
	s.vmcb = vmcb;
	g.vcpu[0].guest = &g;
	g.vcpu[0].arch = &s;
	svm_feat.nrips = nrips;
	vmcb->control.exitcode = fin_u64(f);
	vmcb->control.exitinfo1 = fin_u64(f);
	vmcb->control.exitinfo2 = fin_u64(f);
	vmcb->control.next_rip = fin_u64(f);
	vmcb->save.rip = fin_u64(f);
	s.gpr[VMM_REG_RAX] = fin_u64(f);
	s.gpr[VMM_REG_RCX] = fin_u64(f);
	s.gpr[VMM_REG_RDX] = fin_u64(f);
	s.entry.efer = fin_u64(f);
	s.entry.cr0 = fin_u64(f);
	s.entry.cr3 = fin_u64(f);
	s.entry.cr4 = fin_u64(f);
	memset(&e, 0, sizeof(e));
	svm_decode_exit(&g.vcpu[0], &s, &e);
	check(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = {data, size};
	u8 how = fin_u8(&f);

	if (how & 1)
		svm(&f, how & 2);
	else
		vmx(&f);
	return 0;
}
