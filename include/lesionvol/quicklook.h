/* lesionvol/quicklook.h: a slice mosaic of an image with a lesion mask or a
 * change map drawn over it, oriented from the voxel-to-world matrix, as RGB
 * pixels and as PNG. */
#ifndef LESIONVOL_QUICKLOOK_H
#define LESIONVOL_QUICKLOOK_H

#include <stddef.h>
#include <stdint.h>

#include "lesionvol/status.h"
#include "lesionvol/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * enum lesion_plane - the slice plane of a mosaic, in the patient's frame.
 * Tiles are shown in the radiological convention: axial and coronal with the
 * patient's left on the right of the screen, anterior (axial) or superior
 * (coronal, sagittal) up; sagittal with anterior on the left.
 */
enum lesion_plane {
	LESION_PLANE_AXIAL = 0,
	LESION_PLANE_CORONAL = 1,
	LESION_PLANE_SAGITTAL = 2,
};

/*
 * enum lesion_overlay_kind - how the overlay's values are read.
 * MASK: value > 0 is lesion (the default rule). CHANGE: a change map
 * of `change --out-change` (1 resolved, 2 persistent, 3 new). AUTO: a change
 * map when every non-zero finite value is 1, 2 or 3 and some are 2 or 3,
 * else a mask.
 */
enum lesion_overlay_kind {
	LESION_OVERLAY_AUTO = 0,
	LESION_OVERLAY_MASK = 1,
	LESION_OVERLAY_CHANGE = 2,
};

/*
 * struct lesion_quicklook_options - what to draw.
 *
 * @plane:        slice plane
 * @n_slices:     number of tiles (1..256); fewer when the extent is thinner
 * @fill:         translucent fill instead of an outline
 * @overlay_kind: how to read the overlay's values
 * @max_tile_px:  longest side of a tile in pixels; 0 means 256. Small
 *                images are enlarged by a whole factor up to this size.
 */
struct lesion_quicklook_options {
	enum lesion_plane plane;
	int n_slices;
	int fill;
	enum lesion_overlay_kind overlay_kind;
	int max_tile_px;
};

/* lesion_quicklook_options_init() - axial, 12 slices, outline, auto. */
void lesion_quicklook_options_init(struct lesion_quicklook_options *opts);

/*
 * struct lesion_quicklook_tile - where one slice is drawn in the mosaic.
 * @slice is the 0-based voxel index along @slice_axis of the quicklook, as
 * stored in the file (what a viewer shows); @x, @y, @width, @height are the
 * pixel rectangle of the image part of the tile (labels lie around it).
 */
struct lesion_quicklook_tile {
	int64_t slice;
	int x, y, width, height;
	int64_t lesion_voxels;    /* overlay voxels drawn in this slice */
	double position_mm;       /* world coordinate of the slice's centre along
				     the plane's axis: z (axial), y (coronal) or
				     x (sagittal; negative is the patient's left),
				     drawn as e.g. S 12, P 30 or L 30 */
};

/*
 * struct lesion_quicklook - a rendered mosaic. Free with
 * lesion_quicklook_free().
 *
 * @rgb:        @width * @height * 3 bytes, rows top to bottom
 * @slice_axis: voxel axis (0 i, 1 j, 2 k) the slices cut
 * @overlay:    what the overlay was read as: MASK, CHANGE, or AUTO when
 *              there was no overlay
 * @screen_axis: voxel axes shown left to right [0] and top to bottom [1]
 * @screen_flip: 1 when that screen direction runs against the voxel index
 * @label:      orientation letters at the left, right, top and bottom edges
 *              of every tile ("RLAP" for axial); four spaces when
 *              @orientation_known is 0
 * @orientation_known: lesion_geometry_orientation_known() of the image;
 *              when 0 no anatomical letter is drawn (no side letters, no
 *              "S 12" slice positions) and a banner "ORIENTATION UNKNOWN"
 *              runs above the tiles
 */
struct lesion_quicklook {
	int width, height;
	unsigned char *rgb;
	enum lesion_plane plane;
	int slice_axis;
	int screen_axis[2];
	int screen_flip[2];
	char label[5];
	int orientation_known;
	enum lesion_overlay_kind overlay;
	double window_low, window_high; /* greyscale window (scaled values) */
	int n_tiles;
	struct lesion_quicklook_tile *tiles;
};

/*
 * lesion_quicklook_render() - draw a mosaic of @opts->n_slices slices of
 * @image, spread evenly over the extent of @overlay's lesion along the slice
 * axis (without an overlay, or when it is empty, over @image's non-zero
 * extent), ordered from inferior to superior (axial), posterior to anterior
 * (coronal) or left to right (sagittal).
 *
 * The anatomy is grey, windowed on the 1st-99th percentiles of @image's
 * non-zero finite values. The overlay's lesion is a red outline (or a
 * translucent fill); a change map is drawn resolved blue, persistent yellow,
 * new red. Every text and background pixel is grey (R = G = B), every
 * overlay pixel is not, so a program can find the overlay in the picture.
 * Slice numbers and orientation letters use a built-in bitmap font.
 *
 * The screen axes come from @image's vox_to_world: for each, the voxel axis
 * whose direction is closest to the patient axis wanted (the best of the six
 * axis permutations), so oblique and permuted storage look the same as
 * RAS storage. Voxels keep their physical aspect (anisotropic voxels are
 * stretched); each overlay voxel in a slice covers at least one pixel.
 *
 * Both volumes must be loaded; @overlay may be NULL and must be on @image's
 * grid (LESION_ERR_INPUT otherwise). On success *@out is a new quicklook.
 * Returns LESION_OK, LESION_ERR_INPUT, LESION_ERR_USAGE (bad options) or
 * LESION_ERR_INTERNAL (out of memory). Thread safe for distinct outputs.
 */
enum lesion_status lesion_quicklook_render(const struct lesion_volume *image,
					   const struct lesion_volume *overlay,
					   const struct lesion_quicklook_options *opts,
					   struct lesion_quicklook **out,
					   struct lesion_error *err);

/*
 * lesion_quicklook_render_map() - lesion_quicklook_render() with an overlay
 * given as @image->geom.n_voxels bytes in @image's voxel order instead of a
 * volume: the lesion mask (0 or 1) of a segmentation when @kind is
 * LESION_OVERLAY_MASK, a change map (0 background, 1 resolved,
 * 2 persistent, 3 new) when it is LESION_OVERLAY_CHANGE. For commands that
 * have just computed the map: nothing is written or read back. @map may not
 * be NULL and must be on @image's grid (the caller checks). Returns as
 * lesion_quicklook_render(); LESION_ERR_INPUT when a byte is out of range,
 * LESION_ERR_USAGE for LESION_OVERLAY_AUTO. Thread safe.
 */
enum lesion_status lesion_quicklook_render_map(const struct lesion_volume *image,
					       const uint8_t *map,
					       enum lesion_overlay_kind kind,
					       const struct lesion_quicklook_options *opts,
					       struct lesion_quicklook **out,
					       struct lesion_error *err);

/* lesion_quicklook_free() - free @ql and its pixels; NULL is a no-op. */
void lesion_quicklook_free(struct lesion_quicklook *ql);

/* lesion_plane_name() - "axial", "coronal" or "sagittal". */
const char *lesion_plane_name(enum lesion_plane plane);

/*
 * lesion_png_encode() - encode @width x @height RGB pixels (8 bits each,
 * rows top to bottom) as a PNG in memory with libpng. On success *@png is a
 * malloc'ed buffer of *@size bytes for the caller to free(). Returns
 * LESION_OK or LESION_ERR_INTERNAL. Thread safe.
 */
enum lesion_status lesion_png_encode(const unsigned char *rgb, int width,
				     int height, unsigned char **png,
				     size_t *size, struct lesion_error *err);

/*
 * lesion_png_write() - lesion_png_encode() then lesion_write_file_atomic():
 * @path is either the whole picture or untouched. Returns LESION_OK,
 * LESION_ERR_WRITE or LESION_ERR_INTERNAL.
 */
enum lesion_status lesion_png_write(const char *path, const unsigned char *rgb,
				    int width, int height,
				    struct lesion_error *err);

#ifdef __cplusplus
}
#endif
#endif
