/* ACPI DMAR parsing (VT-d spec chapter 8). Every length is checked against what encloses
 * it before anything behind it is read: firmware tables are not trusted. */
#define LOG_TAG "vtd"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "iommu/dmar.h"

#define DMAR_HEADER_LEN 48 /* ACPI header 36, HAW 1, flags 1, reserved 10 */
#define DMAR_STRUCT_HDR 4  /* type 2, length 2 */
#define DRHD_LEN 16
#define RMRR_LEN 24
#define ATSR_LEN 8
#define RHSA_LEN 20
#define SATC_LEN 8
#define SCOPE_HDR_LEN 6

#define DRHD_FLAG_INCLUDE_PCI_ALL BIT(0)
#define DRHD_SIZE_LOG2 GENMASK(3, 0)
#define ATSR_FLAG_ALL_PORTS BIT(0)
#define SATC_FLAG_ATC_REQUIRED BIT(0)

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}
static u32 get32(const u8 *p)
{
	return get16(p) | (u32)get16(p + 2) << 16;
}
static u64 get64(const u8 *p)
{
	return get32(p) | (u64)get32(p + 4) << 32;
}

static const char *const struct_names[] = {
	[DMAR_TYPE_DRHD] = "DRHD", [DMAR_TYPE_RMRR] = "RMRR", [DMAR_TYPE_ATSR] = "ATSR",
	[DMAR_TYPE_RHSA] = "RHSA", [DMAR_TYPE_ANDD] = "ANDD", [DMAR_TYPE_SATC] = "SATC",
};

static const char *struct_name(u16 type)
{
	return type < ARRAY_SIZE(struct_names) && struct_names[type] ? struct_names[type] : "?";
}

/* Parses the device scopes in [p, end) into info->scopes. */
static int parse_scopes(struct dmar_info *info, const u8 *p, const u8 *end, u32 off,
			struct dmar_scope_list *list)
{
	unsigned first = info->nr_scopes;

	list->first = (u16)first;
	list->count = 0;
	while (p < end) {
		size_t left = (size_t)(end - p);
		u8 len = left >= 2 ? p[1] : 0;
		struct dmar_scope *s;

		if (left < SCOPE_HDR_LEN || len < SCOPE_HDR_LEN || len > left ||
		    (len - SCOPE_HDR_LEN) % 2)
			return pr_err(-EINVAL,
				      "device scope at offset %u: length %u (%zu bytes left)\n",
				      off, len, left);
		if (p[0] < DMAR_SCOPE_ENDPOINT || p[0] > DMAR_SCOPE_ACPI)
			return pr_err(-EINVAL, "device scope at offset %u: unknown type %u\n", off,
				      p[0]);
		if ((len - SCOPE_HDR_LEN) / 2 > DMAR_MAX_PATH || len == SCOPE_HDR_LEN)
			return pr_err(-EINVAL, "device scope at offset %u: path of %u entries\n",
				      off, (len - SCOPE_HDR_LEN) / 2);
		if (info->nr_scopes >= DMAR_MAX_SCOPES)
			return pr_err(-ENOSPC, "more than %u device scopes\n", DMAR_MAX_SCOPES);
		s = &info->scopes[info->nr_scopes++];
		memset(s, 0, sizeof(*s));
		s->type = p[0];
		s->enum_id = p[4];
		s->start_bus = p[5];
		s->depth = (u8)((len - SCOPE_HDR_LEN) / 2);
		for (unsigned i = 0; i < s->depth; i++) {
			s->path[i].dev = p[SCOPE_HDR_LEN + 2 * i];
			s->path[i].fn = p[SCOPE_HDR_LEN + 2 * i + 1];
			if (s->path[i].dev > 31 || s->path[i].fn > 7)
				return pr_err(-EINVAL, "device scope at offset %u: path %02x.%x\n",
					      off, s->path[i].dev, s->path[i].fn);
		}
		p += len;
		off += len;
	}
	list->count = (u16)(info->nr_scopes - first);
	return 0;
}

static int parse_drhd(struct dmar_info *info, const u8 *p, u16 len, u32 off)
{
	struct dmar_drhd d = {0};
	int err;

	if (len < DRHD_LEN)
		return pr_err(-EINVAL, "DRHD at offset %u: length %u < %u\n", off, len, DRHD_LEN);
	if (info->nr_drhd >= DMAR_MAX_DRHD)
		return pr_err(-ENOSPC, "more than %u DRHDs\n", DMAR_MAX_DRHD);
	d.include_pci_all = p[4] & DRHD_FLAG_INCLUDE_PCI_ALL;
	d.size_log2 = (u8)FIELD_GET(DRHD_SIZE_LOG2, p[5]);
	d.segment = get16(p + 6);
	d.base = get64(p + 8);
	if (!d.base || d.base & (PAGE_SIZE - 1))
		return pr_err(-EINVAL, "DRHD at offset %u: register base %#llx\n", off,
			      (unsigned long long)d.base);
	err = parse_scopes(info, p + DRHD_LEN, p + len, off + DRHD_LEN, &d.scopes);
	if (err)
		return err;
	info->drhd[info->nr_drhd++] = d;
	return 0;
}

static int parse_rmrr(struct dmar_info *info, const u8 *p, u16 len, u32 off)
{
	struct dmar_rmrr r = {0};
	int err;

	if (len < RMRR_LEN)
		return pr_err(-EINVAL, "RMRR at offset %u: length %u < %u\n", off, len, RMRR_LEN);
	if (info->nr_rmrr >= DMAR_MAX_RMRR)
		return pr_err(-ENOSPC, "more than %u RMRRs\n", DMAR_MAX_RMRR);
	r.segment = get16(p + 6);
	r.base = get64(p + 8);
	r.limit = get64(p + 16);
	if (r.base & (PAGE_SIZE - 1) || (r.limit + 1) & (PAGE_SIZE - 1) || r.limit < r.base)
		return pr_err(-EINVAL, "RMRR at offset %u: range %#llx-%#llx\n", off,
			      (unsigned long long)r.base, (unsigned long long)r.limit);
	err = parse_scopes(info, p + RMRR_LEN, p + len, off + RMRR_LEN, &r.scopes);
	if (err)
		return err;
	info->rmrr[info->nr_rmrr++] = r;
	return 0;
}

static int parse_atsr(struct dmar_info *info, const u8 *p, u16 len, u32 off)
{
	struct dmar_atsr a = {0};
	int err;

	if (len < ATSR_LEN)
		return pr_err(-EINVAL, "ATSR at offset %u: length %u < %u\n", off, len, ATSR_LEN);
	if (info->nr_atsr >= DMAR_MAX_ATSR)
		return pr_err(-ENOSPC, "more than %u ATSRs\n", DMAR_MAX_ATSR);
	a.all_ports = p[4] & ATSR_FLAG_ALL_PORTS;
	a.segment = get16(p + 6);
	err = parse_scopes(info, p + ATSR_LEN, p + len, off + ATSR_LEN, &a.scopes);
	if (err)
		return err;
	info->atsr[info->nr_atsr++] = a;
	return 0;
}

static int parse_satc(struct dmar_info *info, const u8 *p, u16 len, u32 off)
{
	struct dmar_satc s = {0};
	int err;

	if (len < SATC_LEN)
		return pr_err(-EINVAL, "SATC at offset %u: length %u < %u\n", off, len, SATC_LEN);
	if (info->nr_satc >= DMAR_MAX_SATC)
		return pr_err(-ENOSPC, "more than %u SATCs\n", DMAR_MAX_SATC);
	s.atc_required = p[4] & SATC_FLAG_ATC_REQUIRED;
	s.segment = get16(p + 6);
	err = parse_scopes(info, p + SATC_LEN, p + len, off + SATC_LEN, &s.scopes);
	if (err)
		return err;
	info->satc[info->nr_satc++] = s;
	return 0;
}

static int parse_rhsa(struct dmar_info *info, const u8 *p, u16 len, u32 off)
{
	if (len != RHSA_LEN)
		return pr_err(-EINVAL, "RHSA at offset %u: length %u != %u\n", off, len, RHSA_LEN);
	if (info->nr_rhsa >= DMAR_MAX_RHSA)
		return pr_err(-ENOSPC, "more than %u RHSAs\n", DMAR_MAX_RHSA);
	info->rhsa[info->nr_rhsa].base = get64(p + 8);
	info->rhsa[info->nr_rhsa].proximity = get32(p + 16);
	info->nr_rhsa++;
	return 0;
}

/* Scopes a failed structure had already added are dropped with it. */
static int parse_struct(struct dmar_info *info, u16 type, const u8 *p, u16 len, u32 off)
{
	unsigned scopes_before = info->nr_scopes;
	int err;

	switch (type) {
	case DMAR_TYPE_DRHD: err = parse_drhd(info, p, len, off); break;
	case DMAR_TYPE_RMRR: err = parse_rmrr(info, p, len, off); break;
	case DMAR_TYPE_ATSR: err = parse_atsr(info, p, len, off); break;
	case DMAR_TYPE_RHSA: err = parse_rhsa(info, p, len, off); break;
	case DMAR_TYPE_SATC: err = parse_satc(info, p, len, off); break;
	default:
		pr_debug("DMAR: %s structure (type %u) at offset %u ignored\n", struct_name(type),
			 type, off);
		return 0;
	}
	if (err)
		info->nr_scopes = scopes_before;
	return err;
}

static void link_rhsa(struct dmar_info *info)
{
	for (unsigned i = 0; i < info->nr_rhsa; i++)
		for (unsigned j = 0; j < info->nr_drhd; j++)
			if (info->drhd[j].base == info->rhsa[i].base) {
				info->drhd[j].has_rhsa = true;
				info->drhd[j].proximity = info->rhsa[i].proximity;
			}
}

int dmar_parse(const void *table, size_t len, struct dmar_info *info)
{
	const u8 *t = table;
	u32 tlen, off;
	u8 sum = 0;

	memset(info, 0, sizeof(*info));
	if (len < DMAR_HEADER_LEN || memcmp(t, "DMAR", 4))
		return pr_err(-EINVAL, "DMAR: not a DMAR table (%zu bytes)\n", len);
	tlen = get32(t + 4);
	if (tlen < DMAR_HEADER_LEN || tlen > len)
		return pr_err(-EINVAL, "DMAR: table length %u, %zu bytes available\n", tlen, len);
	for (u32 i = 0; i < tlen; i++)
		sum = (u8)(sum + t[i]);
	if (sum)
		pr_warn("DMAR: checksum off by %u; parsing anyway, structure by structure\n", sum);
	info->host_addr_width = (u8)(t[36] + 1);
	info->flags = t[37];
	for (off = DMAR_HEADER_LEN; off < tlen;) {
		u16 type, slen;

		if (tlen - off < DMAR_STRUCT_HDR) {
			info->nr_bad++;
			pr_err(-EINVAL, "DMAR: %u trailing bytes at offset %u\n", tlen - off, off);
			break;
		}
		type = get16(t + off);
		slen = get16(t + off + 2);
		if (slen < DMAR_STRUCT_HDR || slen > tlen - off) {
			/* Nothing after a bad length can be located: stop here. */
			info->nr_bad++;
			pr_err(-EINVAL,
			       "DMAR: %s at offset %u has length %u (%u bytes left); rest of the "
			       "table skipped\n",
			       struct_name(type), off, slen, tlen - off);
			break;
		}
		if (parse_struct(info, type, t + off, slen, off)) {
			info->nr_bad++;
			pr_warn("DMAR: %s at offset %u skipped\n", struct_name(type), off);
		}
		off += slen;
	}
	link_rhsa(info);
	return 0;
}

int dmar_scope_resolve(const struct dmar_scope *s, u16 seg, const struct dmar_pci_ops *ops,
		       u16 *bdf, u8 *sec, u8 *sub)
{
	u8 bus = s->start_bus, secondary = 0, subordinate = 0;
	int err;

	/* Every hop but the last is a bridge: the next hop sits on its secondary bus. */
	for (unsigned i = 0; i + 1 < s->depth; i++) {
		if (!ops || !ops->bridge_buses)
			return -ENODEV;
		err = ops->bridge_buses(ops->ctx, seg, bus, s->path[i].dev, s->path[i].fn,
					&secondary, &subordinate);
		if (err)
			return err;
		bus = secondary;
	}
	*bdf = PCI_RID(bus, s->path[s->depth - 1].dev, s->path[s->depth - 1].fn);
	if (s->type == DMAR_SCOPE_BRIDGE && sec && sub) {
		if (!ops || !ops->bridge_buses)
			return -ENODEV;
		err = ops->bridge_buses(ops->ctx, seg, bus, s->path[s->depth - 1].dev,
					s->path[s->depth - 1].fn, sec, sub);
		if (err)
			return err;
	}
	return 0;
}

static bool scope_covers(const struct dmar_scope *s, u16 seg, u16 bdf,
			 const struct dmar_pci_ops *ops)
{
	u16 target;
	u8 sec = 0, sub = 0, bus = (u8)(bdf >> 8);

	if (s->type != DMAR_SCOPE_ENDPOINT && s->type != DMAR_SCOPE_BRIDGE)
		return false;
	if (dmar_scope_resolve(s, seg, ops, &target, &sec, &sub))
		return false;
	if (target == bdf)
		return true;
	return s->type == DMAR_SCOPE_BRIDGE && sec && bus >= sec && bus <= sub;
}

int dmar_unit_for_pci(const struct dmar_info *info, u16 seg, u16 bdf, u16 pf_bdf,
		      const struct dmar_pci_ops *ops)
{
	for (unsigned u = 0; u < info->nr_drhd; u++) {
		const struct dmar_drhd *d = &info->drhd[u];

		if (d->segment != seg || d->include_pci_all)
			continue;
		for (unsigned i = 0; i < d->scopes.count; i++) {
			const struct dmar_scope *s = &info->scopes[d->scopes.first + i];

			if (scope_covers(s, seg, bdf, ops) || scope_covers(s, seg, pf_bdf, ops))
				return (int)u;
		}
	}
	for (unsigned u = 0; u < info->nr_drhd; u++)
		if (info->drhd[u].segment == seg && info->drhd[u].include_pci_all)
			return (int)u;
	return -ENODEV;
}

int dmar_unit_for_non_pci(const struct dmar_info *info, u16 seg, u16 sid,
			  const struct dmar_pci_ops *ops)
{
	for (unsigned u = 0; u < info->nr_drhd; u++) {
		const struct dmar_drhd *d = &info->drhd[u];

		if (d->segment != seg)
			continue;
		for (unsigned i = 0; i < d->scopes.count; i++) {
			const struct dmar_scope *s = &info->scopes[d->scopes.first + i];
			u16 target;

			if ((s->type == DMAR_SCOPE_IOAPIC || s->type == DMAR_SCOPE_HPET) &&
			    !dmar_scope_resolve(s, seg, ops, &target, NULL, NULL) && target == sid)
				return (int)u;
		}
	}
	return -ENODEV;
}

int dmar_unit_for_ioapic(const struct dmar_info *info, u8 ioapic_id, u16 *sid,
			 const struct dmar_pci_ops *ops)
{
	for (unsigned u = 0; u < info->nr_drhd; u++) {
		const struct dmar_drhd *d = &info->drhd[u];

		for (unsigned i = 0; i < d->scopes.count; i++) {
			const struct dmar_scope *s = &info->scopes[d->scopes.first + i];

			if (s->type == DMAR_SCOPE_IOAPIC && s->enum_id == ioapic_id &&
			    dmar_scope_resolve(s, d->segment, ops, sid, NULL, NULL) == 0)
				return (int)u;
		}
	}
	return -ENODEV;
}

unsigned dmar_rmrrs_for_pci(const struct dmar_info *info, u16 seg, u16 bdf,
			    const struct dmar_pci_ops *ops, unsigned *idx, unsigned max)
{
	unsigned n = 0;

	for (unsigned r = 0; r < info->nr_rmrr && n < max; r++) {
		const struct dmar_rmrr *rm = &info->rmrr[r];

		if (rm->segment != seg)
			continue;
		for (unsigned i = 0; i < rm->scopes.count; i++) {
			const struct dmar_scope *s = &info->scopes[rm->scopes.first + i];
			u16 target;

			if (s->type == DMAR_SCOPE_ENDPOINT &&
			    !dmar_scope_resolve(s, seg, ops, &target, NULL, NULL) &&
			    target == bdf) {
				idx[n++] = r;
				break;
			}
		}
	}
	return n;
}
