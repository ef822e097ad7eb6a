/* quicklook_internal.h: the bitmap font quicklook.c writes its labels with
 * (not installed). */
#ifndef LESIONVOL_QUICKLOOK_INTERNAL_H
#define LESIONVOL_QUICKLOOK_INTERNAL_H

/* An RGB picture, rows top to bottom. */
struct lesion_canvas {
	int width, height;
	unsigned char *rgb;
};

/* Glyphs are 5x7 pixels on a 6-pixel pitch, times @scale. */
#define LESION_GLYPH_W 5
#define LESION_GLYPH_H 7
#define LESION_GLYPH_PITCH 6

/*
 * lesion_font_draw() - draw @text with its top-left corner at (@x, @y),
 * each font pixel a @scale x @scale block of light grey (R = G = B, so text
 * is never mistaken for overlay colour). Knows the digits, the letters
 * L R A P S I and those of ORIENTATION UNKNOWN; other characters leave a
 * gap. Clipped to the canvas.
 */
void lesion_font_draw(struct lesion_canvas *c, int x, int y, int scale, const char *text);

/* lesion_font_width() - pixels @text takes at @scale (no trailing gap). */
int lesion_font_width(const char *text, int scale);

#endif
