/* Functions the test image's files share (tests/hv). */
#ifndef TESTS_HV_HV_H
#define TESTS_HV_HV_H

#include <moat/types.h>

struct dmar_drhd;
struct vcpu;

/* vtd_test_firmware.c: the unit is left translating through an empty root table, with
 * queue and interrupt remapping on, before bring-up (command line vtd_test_fw_enabled). */
void vtd_test_leave_enabled(unsigned idx, const struct dmar_drhd *d);

/* tests/hv/platform_selftest.c: the host's CMOS and PIT as the guests start. */
void platform_test_snapshot(void);

/* tests/hv/exits_port.c: the exit counter port (MOAT_TEST_EXITS_PORT). */
bool test_exits_port(struct vcpu *v, u16 port, bool in, u8 size, u32 *val);

#endif
