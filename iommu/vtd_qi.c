/* Invalidation: the queued interface (VT-d spec 6.5.2) with a wait descriptor after every
 * batch, and the register-based interface (6.5.1) when the unit has no queue. */
#define LOG_TAG "vtd"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/time.h>
#include "iommu/vtd_drv.h"

#define WAIT_DONE 0x1u

static int qi_error(struct vtd_unit *u, int err, const char *what)
{
	return pr_err(err,
		      "unit %u: invalidation queue %s: IQH %#llx IQT %#llx IQA %#llx FSTS %#x\n",
		      u->idx, what, (unsigned long long)vtd_read64(u, VTD_IQH),
		      (unsigned long long)vtd_read64(u, VTD_IQT),
		      (unsigned long long)vtd_read64(u, VTD_IQA), vtd_read32(u, VTD_FSTS));
}

int vtd_qi_enable(struct vtd_unit *u)
{
	int err;

	if (!u->iq) {
		u->iq = page_alloc();
		u->wait_status = (volatile u32 *)(uintptr_t)page_alloc();
		if (!u->iq || !u->wait_status)
			return pr_err(-ENOMEM, "unit %u: no pages for the invalidation queue\n",
				      u->idx);
	}
	u->iq_tail = 0;
	/* The tail must be 0 before the queue base is written (10.4.23). */
	vtd_write64(u, VTD_IQT, 0);
	vtd_write64(u, VTD_IQA, (u->iq & VTD_IQA_IQA) | FIELD_PREP(VTD_IQA_QS, 0));
	err = vtd_gcmd_update(u, VTD_GCMD_QIE, 0);
	if (err)
		return qi_error(u, err, "did not start");
	u->qi_on = true;
	return 0;
}

int vtd_qi_disable(struct vtd_unit *u)
{
	if (!WAIT_US(vtd_read64(u, VTD_IQH) == vtd_read64(u, VTD_IQT), VTD_WAIT_US))
		return qi_error(u, -ETIMEDOUT, "did not drain before disabling");
	u->qi_on = false;
	return vtd_gcmd_update(u, 0, VTD_GCMD_QIE);
}

/* Queues the descriptors plus a status-writing wait descriptor and waits for its write. */
static int qi_submit(struct vtd_unit *u, const struct vtd_qword2 *descs, unsigned n)
{
	struct vtd_qword2 *q = (struct vtd_qword2 *)(uintptr_t)u->iq;
	u32 seq, fsts;
	int err = 0;

	spin_lock(&u->qi_lock);
	seq = ++u->wait_seq;
	if (seq == 0)
		seq = u->wait_seq = 1;
	for (unsigned i = 0; i <= n; i++) {
		u32 next = (u->iq_tail + 1) % VTD_QI_ENTRIES;

		if (!WAIT_US(FIELD_GET(VTD_IQ_INDEX, vtd_read64(u, VTD_IQH)) != next,
			     VTD_WAIT_US)) {
			err = qi_error(u, -ETIMEDOUT, "full");
			goto out;
		}
		q[u->iq_tail] =
			i < n ? descs[i] : vtd_desc_wait((u64)(uintptr_t)u->wait_status, seq);
		if (!vtd_common_caps.coherent)
			vtd_flush_cache(&q[u->iq_tail], sizeof(*q));
		u->iq_tail = next;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vtd_write64(u, VTD_IQT, FIELD_PREP(VTD_IQ_INDEX, u->iq_tail));
	if (!WAIT_US(*u->wait_status == seq || (vtd_read32(u, VTD_FSTS) &
						(VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)),
		     VTD_WAIT_US)) {
		err = qi_error(u, -ETIMEDOUT, "wait descriptor timed out");
		goto out;
	}
	fsts = vtd_read32(u, VTD_FSTS);
	if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)) {
		err = qi_error(u, -EIO, "reported an error");
		vtd_write32(u, VTD_FSTS, fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE));
	}
out:
	spin_unlock(&u->qi_lock);
	return err;
}

/* ---- register-based invalidation (no queue) ---- */

static int reg_ccmd(struct vtd_unit *u, u64 cmd)
{
	vtd_write64(u, VTD_CCMD, cmd | VTD_CCMD_ICC);
	if (!WAIT_US(!(vtd_read64(u, VTD_CCMD) & VTD_CCMD_ICC), VTD_WAIT_US))
		return pr_err(-ETIMEDOUT, "unit %u: context command %#llx did not complete\n",
			      u->idx, (unsigned long long)vtd_read64(u, VTD_CCMD));
	return 0;
}

static int reg_iotlb(struct vtd_unit *u, u64 cmd, u64 iva)
{
	u32 reg = u->caps.iotlb_off;

	if (iva)
		vtd_write64(u, reg + VTD_IVA_OFF, iva);
	vtd_write64(u, reg + VTD_IOTLB_OFF, cmd | VTD_IOTLB_IVT | VTD_IOTLB_DR | VTD_IOTLB_DW);
	if (!WAIT_US(!(vtd_read64(u, reg + VTD_IOTLB_OFF) & VTD_IOTLB_IVT), VTD_WAIT_US))
		return pr_err(-ETIMEDOUT, "unit %u: IOTLB invalidation %#llx did not complete\n",
			      u->idx, (unsigned long long)vtd_read64(u, reg + VTD_IOTLB_OFF));
	return 0;
}

/* ---- the invalidations the driver uses ---- */

int vtd_inv_context_global(struct vtd_unit *u)
{
	struct vtd_qword2 d = vtd_desc_cc_global();

	if (u->qi_on)
		return qi_submit(u, &d, 1);
	return reg_ccmd(u, FIELD_PREP(VTD_CCMD_CIRG, VTD_INV_GLOBAL));
}

int vtd_inv_context_device(struct vtd_unit *u, u16 did, u16 sid)
{
	struct vtd_qword2 d = vtd_desc_cc_device(did, sid, 0);

	if (u->qi_on)
		return qi_submit(u, &d, 1);
	return reg_ccmd(u, FIELD_PREP(VTD_CCMD_CIRG, VTD_INV_DEVICE) |
				   FIELD_PREP(VTD_CCMD_DID, did) | FIELD_PREP(VTD_CCMD_SID, sid));
}

int vtd_inv_iotlb_global(struct vtd_unit *u)
{
	struct vtd_qword2 d = vtd_desc_iotlb_global();

	if (u->qi_on)
		return qi_submit(u, &d, 1);
	return reg_iotlb(u, FIELD_PREP(VTD_IOTLB_IIRG, VTD_INV_GLOBAL), 0);
}

int vtd_inv_iotlb_domain(struct vtd_unit *u, u16 did)
{
	struct vtd_qword2 d = vtd_desc_iotlb_domain(did);

	if (u->qi_on)
		return qi_submit(u, &d, 1);
	return reg_iotlb(
		u, FIELD_PREP(VTD_IOTLB_IIRG, VTD_INV_DOMAIN) | FIELD_PREP(VTD_IOTLB_DID, did), 0);
}

/* Page-selective where the unit offers it and the range fits its mask, else the domain. */
int vtd_inv_iotlb_range(struct vtd_unit *u, u16 did, u64 addr, u64 size)
{
	u64 base;
	u8 am = vtd_iotlb_mask(addr, size, &base);
	struct vtd_qword2 d;

	if (!u->caps.psi || am > u->caps.mamv)
		return vtd_inv_iotlb_domain(u, did);
	d = vtd_desc_iotlb_page(did, base, am, false);
	if (u->qi_on)
		return qi_submit(u, &d, 1);
	return reg_iotlb(u,
			 FIELD_PREP(VTD_IOTLB_IIRG, VTD_INV_PAGE) | FIELD_PREP(VTD_IOTLB_DID, did),
			 (base & VTD_IVA_ADDR) | FIELD_PREP(VTD_IVA_AM, am));
}

/* The interrupt entry cache can be invalidated only through the queue (6.5.2.7). */
int vtd_inv_iec_global(struct vtd_unit *u)
{
	struct vtd_qword2 d = vtd_desc_iec_global();

	if (!u->qi_on)
		return pr_err(-ENODEV, "unit %u: interrupt entry cache needs the queue\n", u->idx);
	return qi_submit(u, &d, 1);
}

int vtd_inv_iec_index(struct vtd_unit *u, u16 index)
{
	struct vtd_qword2 d = vtd_desc_iec_index(index, 0);

	if (!u->qi_on)
		return pr_err(-ENODEV, "unit %u: interrupt entry cache needs the queue\n", u->idx);
	return qi_submit(u, &d, 1);
}

void vtd_write_buffer_flush(struct vtd_unit *u)
{
	vtd_gcmd_oneshot(u, VTD_GCMD_WBF);
}
