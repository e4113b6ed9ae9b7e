#ifndef CORE_FBCON_H
#define CORE_FBCON_H

#include <moat/boot_info.h>

/* A text console on the linear framebuffer firmware handed over (UEFI GOP, or a multiboot2
 * RGB framebuffer): 8x16 cells, 32 bits per pixel. Returns -ENODEV when there is none. */
int fbcon_init(const struct boot_fb *fb);

#endif
