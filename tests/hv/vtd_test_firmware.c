/* Test hook (command line vtd_test_fw_enabled, test image only): before moat's bring-up, each
 * answering unit is left the way pre-boot DMA protection leaves it at ExitBootServices, so the
 * normal bring-up has to take it over (vtd_unit_takeover) on every boot path, the
 * multiboot2 one included: translation on through a root table of its own with no entries
 * (all DMA blocked), its own invalidation queue with a completed batch in it, interrupt
 * remapping on through an empty table. These pages
 * stay allocated, as firmware's would. */
#define LOG_TAG "vtd"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/time.h>
#include "iommu/vtd_drv.h"
#include "tests/hv/hv.h"

static struct vtd_unit fw; /* the "firmware's" view of the unit */

/* One global context invalidation and a wait descriptor through the firmware's queue. */
static int fw_queue_batch(struct vtd_unit *u, u64 iq, u64 status)
{
	struct vtd_qword2 *q = (struct vtd_qword2 *)(uintptr_t)iq;

	q[0] = vtd_desc_cc_global();
	q[1] = vtd_desc_wait(status, 1);
	vtd_flush_cache(q, 2 * sizeof(*q));
	vtd_write64(u, VTD_IQT, FIELD_PREP(VTD_IQ_INDEX, 2));
	if (!WAIT_US(*(volatile u32 *)(uintptr_t)status == 1, VTD_WAIT_US))
		return pr_err(-ETIMEDOUT, "unit %u: test hook: queue batch did not complete\n",
			      u->idx);
	return 0;
}

static int fw_enable(struct vtd_unit *u)
{
	u64 root = page_alloc(), iq = 0, status = 0, irt = 0;
	int err;

	if (!root)
		return pr_err(-ENOMEM, "unit %u: test hook: no page\n", u->idx);
	vtd_flush_cache((void *)(uintptr_t)root, PAGE_SIZE);
	vtd_write64(u, VTD_RTADDR, root & VTD_RTADDR_RTA);
	err = vtd_gcmd_oneshot(u, VTD_GCMD_SRTP);
	if (!err)
		err = vtd_inv_context_global(u);
	if (!err)
		err = vtd_inv_iotlb_global(u);
	if (!err && u->caps.qi) {
		iq = page_alloc();
		status = page_alloc();
		if (!iq || !status)
			return pr_err(-ENOMEM, "unit %u: test hook: no page\n", u->idx);
		vtd_write64(u, VTD_IQT, 0);
		vtd_write64(u, VTD_IQA, iq & VTD_IQA_IQA);
		err = vtd_gcmd_update(u, VTD_GCMD_QIE, 0);
		if (!err)
			err = fw_queue_batch(u, iq, status);
	}
	if (!err && u->caps.ir) {
		irt = page_alloc();
		if (!irt)
			return pr_err(-ENOMEM, "unit %u: test hook: no page\n", u->idx);
		vtd_flush_cache((void *)(uintptr_t)irt, PAGE_SIZE);
		vtd_write64(u, VTD_IRTA, (irt & VTD_IRTA_IRTA) | FIELD_PREP(VTD_IRTA_S, VTD_IRT_S));
		err = vtd_gcmd_oneshot(u, VTD_GCMD_SIRTP);
		/* Compatibility format stays blocked: QEMU's unit does not implement CFI. */
		if (!err)
			err = vtd_gcmd_update(u, VTD_GCMD_IRE, 0);
	}
	if (!err)
		err = vtd_gcmd_update(u, VTD_GCMD_TE, 0);
	if (err)
		return pr_err(err, "unit %u: test hook: not left enabled\n", u->idx);
	pr_info("unit %u: test hook: left translating as pre-boot DMA protection would: empty root "
		"table %#llx, queue %#llx, interrupt remapping table %#llx, GSTS %#x\n",
		u->idx, (unsigned long long)root, (unsigned long long)iq, (unsigned long long)irt,
		vtd_read32(u, VTD_GSTS));
	return 0;
}

void vtd_test_leave_enabled(unsigned idx, const struct dmar_drhd *d)
{
	u32 ver;

	fw = (struct vtd_unit){.idx = idx, .base = d->base};
	ver = vtd_read32(&fw, VTD_VER);
	if (ver == 0xffffffffu || !FIELD_GET(VTD_VER_MAX, ver))
		return; /* nothing answers: the bring-up says so */
	vtd_caps_decode(vtd_read64(&fw, VTD_CAP), vtd_read64(&fw, VTD_ECAP), &fw.caps);
	if (vtd_read32(&fw, VTD_GSTS) & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE)) {
		pr_warn("unit %u: test hook: already enabled (GSTS %#x), left as found\n", idx,
			vtd_read32(&fw, VTD_GSTS));
		return;
	}
	fw_enable(&fw);
}
