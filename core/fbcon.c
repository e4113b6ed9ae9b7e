/* Framebuffer text console. The glyphs are GRUB's 8x16 ASCII bitmaps (grub-common's
 * ascii.h, one byte a row, most significant bit leftmost), compiled in at build time. */
#define LOG_TAG "fbcon"
#include <moat/console.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "arch/x86/paging.h"
#include "core/fbcon.h"

#include FBCON_FONT_HEADER

#define GLYPH_W 8
#define GLYPH_H 16
#define FG 0x00d0d0d0u
#define BG 0x00000000u

struct fbcon {
	u8 *base;
	u32 width, height, pitch;
	u32 cols, rows, col, row;
	u32 fg, bg;
};

static struct fbcon fbc;

static u32 rgb(const struct boot_fb *fb, u32 rgb888)
{
	u32 r = (rgb888 >> 16) & 0xff, g = (rgb888 >> 8) & 0xff, b = rgb888 & 0xff;

	return r << fb->red_pos | g << fb->green_pos | b << fb->blue_pos;
}

static void draw_glyph(struct fbcon *c, u32 col, u32 row, char ch)
{
	const unsigned char *glyph =
		&ascii_bitmaps[((unsigned char)ch < 128 ? (unsigned char)ch : '?') * GLYPH_H];

	for (u32 y = 0; y < GLYPH_H; y++) {
		u32 *px = (u32 *)(c->base + (u64)(row * GLYPH_H + y) * c->pitch) + col * GLYPH_W;

		for (u32 x = 0; x < GLYPH_W; x++)
			px[x] = glyph[y] & (0x80 >> x) ? c->fg : c->bg;
	}
}

static void clear_rows(struct fbcon *c, u32 first, u32 n)
{
	for (u32 y = first * GLYPH_H; y < (first + n) * GLYPH_H; y++) {
		u32 *px = (u32 *)(c->base + (u64)y * c->pitch);

		for (u32 x = 0; x < c->width; x++)
			px[x] = c->bg;
	}
}

/* Scrolls by half a screen at a time: moving the framebuffer is the expensive part, and
 * this keeps its cost per printed line small. */
static void scroll(struct fbcon *c)
{
	u32 keep = c->rows / 2, drop = c->rows - keep;

	memmove(c->base, c->base + (u64)drop * GLYPH_H * c->pitch, (u64)keep * GLYPH_H * c->pitch);
	clear_rows(c, keep, drop);
	c->row = keep;
}

static void newline(struct fbcon *c)
{
	c->col = 0;
	if (++c->row >= c->rows)
		scroll(c);
}

static void fbcon_write(void *ctx, const char *s, size_t n)
{
	struct fbcon *c = ctx;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '\n') {
			newline(c);
			continue;
		}
		if (ch == '\r') {
			c->col = 0;
			continue;
		}
		if (ch == '\t')
			ch = ' ';
		if (ch < ' ' || ch > '~')
			ch = '?';
		draw_glyph(c, c->col, c->row, ch);
		if (++c->col >= c->cols)
			newline(c);
	}
}

int fbcon_init(const struct boot_fb *fb)
{
	int err;

	if (!fb->base || !fb->width || !fb->height)
		return -ENODEV;
	if (fb->bpp != 32 || fb->pitch < fb->width * 4)
		return pr_err(-ENOTSUP, "framebuffer %ux%u pitch %u with %u bpp is not supported\n",
			      fb->width, fb->height, fb->pitch, fb->bpp);
	err = paging_map_mmio(fb->base, (u64)fb->pitch * fb->height);
	if (err)
		return err;
	fbc = (struct fbcon){
		.base = (u8 *)(uintptr_t)fb->base,
		.width = fb->width,
		.height = fb->height,
		.pitch = fb->pitch,
		.cols = fb->width / GLYPH_W,
		.rows = fb->height / GLYPH_H,
		.fg = rgb(fb, FG),
		.bg = rgb(fb, BG),
	};
	if (fbc.cols < 20 || fbc.rows < 4)
		return pr_err(-ENOTSUP, "framebuffer %ux%u is too small for a console\n", fb->width,
			      fb->height);
	clear_rows(&fbc, 0, fbc.rows);
	err = console_add(&(struct console_out){"framebuffer", fbcon_write, &fbc});
	if (err)
		return pr_err(err, "no console slot for the framebuffer\n");
	pr_info("framebuffer console %ux%u at %#llx, %ux%u characters\n", fb->width, fb->height,
		(unsigned long long)fb->base, fbc.cols, fbc.rows);
	return 0;
}
