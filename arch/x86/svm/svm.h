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

void svm_decode_exit(struct vcpu *v, struct svm_vcpu *s, struct vmm_exit *e);

/* Watchdog on the local APIC timer (arch/x86/svm/svm_watchdog.c). */
int svm_watchdog_init(void);
void svm_watchdog_arm(u64 us);
void svm_watchdog_disarm(void);
/* Services a pending interrupt after an INTR exit; true if it was the watchdog's. */
bool svm_watchdog_service(void);

#endif
