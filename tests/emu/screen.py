"""Reads a QEMU `screendump` (PPM) of moat's framebuffer console and finds text on it, by
rendering the text with the same 8x16 font moat draws with (GRUB's ascii.h) and matching
it cell by cell."""
import re

FONT_HEADER = "/usr/share/grub/ascii.h"
GLYPH_W, GLYPH_H = 8, 16


def load_font(path=FONT_HEADER):
    text = open(path).read()
    body = text[text.index("{") + 1:text.rindex("}")]
    data = [int(x, 16) for x in re.findall(r"0x[0-9a-fA-F]+", body)]
    return [data[i * GLYPH_H:(i + 1) * GLYPH_H] for i in range(len(data) // GLYPH_H)]


def read_ppm(path):
    """Returns (width, height, rows) with rows[y][x] = True where the pixel is lit."""
    raw = open(path, "rb").read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", raw)
    if not m:
        raise ValueError(f"{path}: not a binary PPM")
    w, h, maxval = (int(x) for x in m.groups())
    if maxval != 255:
        raise ValueError(f"{path}: maxval {maxval}")
    px = raw[m.end():]
    rows = []
    for y in range(h):
        line = px[y * w * 3:(y + 1) * w * 3]
        rows.append([line[x * 3] + line[x * 3 + 1] + line[x * 3 + 2] > 3 * 0x60 for x in range(w)])
    return w, h, rows


def cell_text(rows, font, col, row):
    """The character at a text cell, or None if no glyph matches exactly."""
    bits = []
    for y in range(GLYPH_H):
        b = 0
        for x in range(GLYPH_W):
            if rows[row * GLYPH_H + y][col * GLYPH_W + x]:
                b |= 0x80 >> x
        bits.append(b)
    for ch in range(32, 127):
        if font[ch] == bits:
            return chr(ch)
    return None


def screen_lines(path):
    """The console's text, line by line (unknown cells as '?')."""
    font = load_font()
    w, h, rows = read_ppm(path)
    lines = []
    for r in range(h // GLYPH_H):
        lines.append("".join(cell_text(rows, font, c, r) or "?" for c in range(w // GLYPH_W)).rstrip())
    return lines


def lit_fraction(path):
    w, h, rows = read_ppm(path)
    return sum(sum(r) for r in rows) / float(w * h)
