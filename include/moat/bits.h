/* Bit and field helpers: registers are described by masks built from bit ranges and
 * accessed through FIELD_GET/FIELD_PREP, so no call site shifts by hand. */
#ifndef MOAT_BITS_H
#define MOAT_BITS_H

#include <moat/types.h>

#define BIT(n) (1ULL << (n))
/* Bits h..l inclusive, h >= l. */
#define GENMASK(h, l) (((~0ULL) >> (63 - (h))) & ~((1ULL << (l)) - 1))

#define __mask_shift(m) ((unsigned)__builtin_ctzll(m))
/* Extract the field described by mask m from v. */
#define FIELD_GET(m, v) (((u64)(v) & (m)) >> __mask_shift(m))
/* Place value v into the field described by mask m. */
#define FIELD_PREP(m, v) (((u64)(v) << __mask_shift(m)) & (m))
/* Whether v fits in the field described by mask m. */
#define FIELD_FITS(m, v)                                                                           \
	((((u64)(v) << __mask_shift(m)) & ~(m)) == 0 &&                                            \
	 (((u64)(v) << __mask_shift(m)) >> __mask_shift(m)) == (u64)(v))

#endif
