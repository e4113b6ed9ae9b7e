/* Log rate limiting for event storms (IOMMU faults, refused guest requests): at most
 * `burst` reports per window; what is dropped is counted and announced when the next window
 * opens. Host-testable. */
#ifndef MOAT_RATELIMIT_H
#define MOAT_RATELIMIT_H

#include <moat/types.h>

struct ratelimit {
	u64 window_us;
	unsigned burst;
	u64 window_start;
	unsigned used, suppressed;
	bool started;
};

/* Whether an event at time `now` may be reported. *dropped gets the number suppressed in
 * the window that just closed (0 if none closed). */
static inline bool ratelimit_allow(struct ratelimit *r, u64 now, unsigned *dropped)
{
	*dropped = 0;
	if (!r->started || now - r->window_start >= r->window_us) {
		*dropped = r->suppressed;
		r->started = true;
		r->window_start = now;
		r->used = 0;
		r->suppressed = 0;
	}
	if (r->used >= r->burst) {
		r->suppressed++;
		return false;
	}
	r->used++;
	return true;
}

#endif
