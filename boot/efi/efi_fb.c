/* GOP pixel format -> boot_fb colour layout. */
#include <moat/errno.h>
#include "boot/efi/convert.h"

/* Position of a colour mask: it must be one non-empty run of bits. */
static int mask_position(u32 mask, u8 *pos)
{
	u32 shifted;

	if (!mask)
		return -EINVAL;
	*pos = (u8)__builtin_ctz(mask);
	shifted = mask >> *pos;
	if (shifted & (shifted + 1))
		return -EINVAL;
	return 0;
}

int efi_fb_pixel_format(u32 format, const u32 masks[4], struct boot_fb *fb)
{
	u32 all;

	switch (format) {
	case GOP_PIXEL_RGBX8:
		fb->red_pos = 0;
		fb->green_pos = 8;
		fb->blue_pos = 16;
		fb->bpp = 32;
		return 0;
	case GOP_PIXEL_BGRX8:
		fb->blue_pos = 0;
		fb->green_pos = 8;
		fb->red_pos = 16;
		fb->bpp = 32;
		return 0;
	case GOP_PIXEL_BITMASK:
		if (mask_position(masks[0], &fb->red_pos) ||
		    mask_position(masks[1], &fb->green_pos) ||
		    mask_position(masks[2], &fb->blue_pos))
			return -EINVAL;
		all = masks[0] | masks[1] | masks[2] | masks[3];
		fb->bpp = (u8)(32 - __builtin_clz(all));
		return 0;
	case GOP_PIXEL_BLT_ONLY: return -ENODEV;
	default: return -EINVAL;
	}
}
