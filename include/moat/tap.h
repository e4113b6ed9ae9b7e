/* Test results counted for the summary line of the serial contract
 * (`moat: N passed, M failed, K skipped`): the guests' reports (HC_REPORT) and, in the
 * test image, the hypervisor's own self-tests (tests/hv/selftest.h). */
#ifndef MOAT_TAP_H
#define MOAT_TAP_H

enum tap_status { TAP_PASS, TAP_FAIL, TAP_SKIP };

/* Counts one result (its TAP line is printed by whoever reported it). */
void tap_count(enum tap_status st);
void tap_totals(unsigned *passed, unsigned *failed, unsigned *skipped);

#endif
