/* The run loop's decisions for OS guests (vmm/vcpu_policy.h). */
#include "vmm/vcpu_policy.h"

enum vcpu_irq_action vcpu_irq_action(int pending, bool can_inject)
{
	if (pending < 0)
		return VCPU_IRQ_NONE;
	return can_inject ? VCPU_IRQ_INJECT : VCPU_IRQ_WINDOW;
}

/* SDM Vol. 3 9.7.5 (HLT): an NMI, INIT or SMI resumes a halted CPU whatever its IF; an
 * external interrupt only with IF set. */
enum vcpu_halt_action vcpu_halt_action(const struct vcpu_halt_view *h)
{
	if (h->events)
		return VCPU_HALT_RESUME;
	if (!h->if_set)
		return VCPU_HALT_STUCK;
	if (h->pending >= 0)
		return VCPU_HALT_RESUME;
	if (h->deadline || h->other_vcpus || h->device_source)
		return VCPU_HALT_WAIT;
	return VCPU_HALT_STOP;
}

enum vcpu_event_action vcpu_event_action(enum vcpu_run_state s, u32 index, u32 events)
{
	if ((events & VLAPIC_EV_INIT) && index == 0)
		return VCPU_EV_RESET_BSP;
	if (events & VLAPIC_EV_INIT)
		s = VCPU_WAIT_SIPI;
	if ((events & VLAPIC_EV_SIPI) && s == VCPU_WAIT_SIPI)
		return VCPU_EV_START;
	return events & VLAPIC_EV_INIT ? VCPU_EV_INIT : VCPU_EV_NONE;
}

bool vcpu_guest_stuck(u32 stuck, u32 nr_vcpus, bool events_pending)
{
	return nr_vcpus && stuck >= nr_vcpus && !events_pending;
}
