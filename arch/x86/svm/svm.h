/* SVM backend internals shared between its files. */
#ifndef ARCH_X86_SVM_SVM_H
#define ARCH_X86_SVM_SVM_H

#include "arch/x86/svm/vmcb.h"
#include "vmm/backend.h"

struct svm_features {
	bool np, nrips, decode_assists, flush_by_asid, vmcb_clean;
	u32 nr_asids;
};
extern struct svm_features svm_feat;

/* Fills in all of *e from the VMCB after a #VMEXIT. */
void svm_decode_exit(struct vcpu *v, struct svm_vcpu *s, struct vmm_exit *e);

/* Watchdog and TSC deadline on the local APIC timer (arch/x86/svm/svm_watchdog.c). */
enum svm_timer { SVM_TIMER_NONE, SVM_TIMER_WATCHDOG, SVM_TIMER_DEADLINE };
int svm_watchdog_init(void);
/* Arms the one-shot timer for the earlier of the watchdog's budget and the TSC deadline
 * (0: none; one already past fires at once); which of them it armed. */
enum svm_timer svm_timer_arm(u64 watchdog_us, u64 deadline);
void svm_watchdog_disarm(void);
/* Services a pending interrupt after an INTR exit; true if it was the watchdog's. */
bool svm_watchdog_service(void);

#endif
