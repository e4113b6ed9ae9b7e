/* The result counters behind the summary line (include/moat/tap.h). */
#include <moat/spinlock.h>
#include <moat/tap.h>

static spinlock_t tap_lock = SPINLOCK_INIT;
static unsigned nr_pass, nr_fail, nr_skip;

void tap_count(enum tap_status st)
{
	spin_lock(&tap_lock);
	if (st == TAP_PASS)
		nr_pass++;
	else if (st == TAP_FAIL)
		nr_fail++;
	else
		nr_skip++;
	spin_unlock(&tap_lock);
}

void tap_totals(unsigned *passed, unsigned *failed, unsigned *skipped)
{
	spin_lock(&tap_lock);
	*passed = nr_pass;
	*failed = nr_fail;
	*skipped = nr_skip;
	spin_unlock(&tap_lock);
}
