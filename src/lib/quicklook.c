/* quicklook.c: a slice mosaic of an image with its lesion drawn over it,
 * oriented in the patient's frame from the voxel-to-world matrix. */
#include "lesionvol/quicklook.h"

#include "quicklook_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 65536
#define MAX_SAMPLES 1000000
#define FILL_ALPHA 0.4

/* overlay classes: 1 lesion or resolved, 2 persistent, 3 new */
static const unsigned char mask_colour[3] = {255, 32, 32};
static const unsigned char change_colour[4][3] = {
	{0, 0, 0}, {40, 120, 255}, {255, 220, 0}, {255, 32, 32},
};

/*
 * Per plane: the world axis cut by the slices, the world axes shown left to
 * right and top to bottom, and the letters at the tile's left, right, top
 * and bottom edges. Every screen axis runs against its world axis (RAS+):
 * radiological axial and coronal, anterior on the left for sagittal.
 */
static const struct plane_def {
	int slice_world, h_world, v_world;
	const char *letters;
	const char *positive, *negative; /* sides of the world origin */
} planes[3] = {
	{2, 0, 1, "RLAP", "S", "I"},
	{1, 0, 2, "RLSI", "A", "P"},
	{0, 1, 2, "APSI", "R", "L"},
};

void lesion_quicklook_options_init(struct lesion_quicklook_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->plane = LESION_PLANE_AXIAL;
	opts->n_slices = 12;
	opts->overlay_kind = LESION_OVERLAY_AUTO;
}

const char *lesion_plane_name(enum lesion_plane plane)
{
	switch (plane) {
	case LESION_PLANE_AXIAL: return "axial";
	case LESION_PLANE_CORONAL: return "coronal";
	case LESION_PLANE_SAGITTAL: return "sagittal";
	}
	return "unknown";
}

void lesion_quicklook_free(struct lesion_quicklook *ql)
{
	if (!ql)
		return;
	free(ql->rgb);
	free(ql->tiles);
	free(ql);
}

/*
 * For each world axis w (R, A, S), the voxel axis axis_of[w] closest to it and
 * whether the voxel index grows towards +w (sign_of[w] = +1) or away (-1):
 * the best of the six permutations by summed |cosine|, so an oblique
 * matrix still maps every world axis to a distinct voxel axis.
 */
static void world_axes(const double m[4][4], int axis_of[3], int sign_of[3])
{
	static const int perms[6][3] = {
		{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0},
	};
	double cosine[3][3]; /* [world][voxel] */
	for (int v = 0; v < 3; v++) {
		double len = sqrt(m[0][v] * m[0][v] + m[1][v] * m[1][v] + m[2][v] * m[2][v]);
		for (int w = 0; w < 3; w++)
			cosine[w][v] = len > 0 ? m[w][v] / len : (w == v);
	}
	int best = 0;
	double best_score = -1;
	for (int p = 0; p < 6; p++) {
		double score = 0;
		for (int w = 0; w < 3; w++)
			score += fabs(cosine[w][perms[p][w]]);
		if (score > best_score + 1e-12) {
			best_score = score;
			best = p;
		}
	}
	for (int w = 0; w < 3; w++) {
		axis_of[w] = perms[best][w];
		sign_of[w] = cosine[w][axis_of[w]] < 0 ? -1 : 1;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double percentile(const double *sorted, int64_t n, double q)
{
	double pos = q * (double)(n - 1);
	int64_t i = (int64_t)floor(pos);
	if (i >= n - 1)
		return sorted[n - 1];
	return sorted[i] + (pos - (double)i) * (sorted[i + 1] - sorted[i]);
}

/*
 * The greyscale window: 1st and 99th percentiles of the non-zero finite
 * values, from every voxel or an even stride of at most MAX_SAMPLES of them
 * (deterministic, and exact for images of up to a million such voxels).
 */
static enum lesion_status grey_window(const struct lesion_volume *img, double *low,
				      double *high, struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	double *buf = malloc(sizeof(double) * CHUNK);
	double *samples = NULL;
	if (!buf)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	int64_t n_total = img->geom.n_voxels, count = 0;
	for (int64_t s = 0; s < n_total; s += CHUNK) {
		int64_t n = n_total - s < CHUNK ? n_total - s : CHUNK;
		lesion_volume_values(img, s, n, buf);
		for (int64_t i = 0; i < n; i++)
			count += isfinite(buf[i]) && buf[i] != 0;
	}
	*low = 0;
	*high = 1;
	if (count > 0) {
		int64_t stride = (count + MAX_SAMPLES - 1) / MAX_SAMPLES, seen = 0, n_s = 0;
		samples = malloc(sizeof(double) * (size_t)((count + stride - 1) / stride));
		if (!samples) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
			goto out;
		}
		for (int64_t s = 0; s < n_total; s += CHUNK) {
			int64_t n = n_total - s < CHUNK ? n_total - s : CHUNK;
			lesion_volume_values(img, s, n, buf);
			for (int64_t i = 0; i < n; i++)
				if (isfinite(buf[i]) && buf[i] != 0 && seen++ % stride == 0)
					samples[n_s++] = buf[i];
		}
		qsort(samples, (size_t)n_s, sizeof(double), cmp_double);
		*low = percentile(samples, n_s, 0.01);
		*high = percentile(samples, n_s, 0.99);
	}
	/* a binary mask as anatomy: show its voxels white on black */
	if (!(*high > *low)) {
		*low = *low > 0 ? 0 : *low - 1;
		if (!(*high > *low))
			*high = *low + 1;
	}
out:
	free(samples);
	free(buf);
	return st;
}

/*
 * Overlay classes per voxel (0 background) and how they were read. A voxel
 * is lesion when value > 0; a change map keeps its values 1, 2, 3.
 */
static enum lesion_status overlay_classes(const struct lesion_volume *ov,
					  enum lesion_overlay_kind kind,
					  unsigned char **classes,
					  enum lesion_overlay_kind *used,
					  struct lesion_error *err)
{
	int64_t n_total = ov->geom.n_voxels;
	double *buf = malloc(sizeof(double) * CHUNK);
	unsigned char *c = malloc((size_t)n_total);
	if (!buf || !c) {
		free(buf);
		free(c);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	int change_like = 1, has_2_or_3 = 0;
	for (int64_t s = 0; s < n_total; s += CHUNK) {
		int64_t n = n_total - s < CHUNK ? n_total - s : CHUNK;
		lesion_volume_values(ov, s, n, buf);
		for (int64_t i = 0; i < n; i++) {
			double v = buf[i];
			c[s + i] = v == 1 ? 1 : v == 2 ? 2 : v == 3 ? 3 : v > 0 ? 4 : 0;
			if (isfinite(v) && v != 0 && v != 1 && v != 2 && v != 3)
				change_like = 0;
			has_2_or_3 |= v == 2 || v == 3;
		}
	}
	if (kind == LESION_OVERLAY_AUTO)
		kind = change_like && has_2_or_3 ? LESION_OVERLAY_CHANGE : LESION_OVERLAY_MASK;
	for (int64_t i = 0; i < n_total; i++)
		c[i] = kind == LESION_OVERLAY_MASK ? (c[i] > 0) : (c[i] == 4 ? 0 : c[i]);
	free(buf);
	*classes = c;
	*used = kind;
	return LESION_OK;
}

/* What a mosaic needs to know about the voxel grid and the screen. */
struct frame {
	int64_t dim[3];
	int64_t stride[3];
	int slice_axis, slice_sign;  /* voxel axis, +1 when index grows with world */
	int h_axis, v_axis, h_flip, v_flip;
	int width, height;           /* tile pixels */
	int64_t *h0, *h1, *hc;       /* per column: voxel range and centre */
	int64_t *v0, *v1, *vc;       /* per row */
};

static void frame_release(struct frame *f)
{
	free(f->h0);
	free(f->v0);
}

/* @x (a voxel position, >= 0) as an index, at most @n: with voxels of very
 * different sizes (pixdim 1e-30 and 1) a position overflows int64_t, and
 * converting it would be undefined. */
static int64_t voxel_index(double x, int64_t n)
{
	return x >= (double)n ? n : x > 0 ? (int64_t)x : 0;
}

/*
 * Pixels of one screen axis: n voxels of size_mm shown at mm_per_px. Each
 * pixel covers the voxels its footprint touches (so no voxel is skipped when
 * shrinking) and samples the one under its centre.
 */
static void axis_pixels(int64_t n, double size_mm, double mm_per_px, int px,
			int flip, int64_t *lo, int64_t *hi, int64_t *centre)
{
	for (int p = 0; p < px; p++) {
		int64_t a = voxel_index(floor(p * mm_per_px / size_mm + 1e-9), n);
		int64_t b = voxel_index(ceil((p + 1) * mm_per_px / size_mm - 1e-9), n) - 1;
		int64_t c = voxel_index(floor((p + 0.5) * mm_per_px / size_mm), n);
		if (p == px - 1)
			b = n - 1;
		a = a < n ? a : n - 1;
		b = b < a ? a : b < n ? b : n - 1;
		c = c < a ? a : c > b ? b : c;
		lo[p] = flip ? n - 1 - b : a;
		hi[p] = flip ? n - 1 - a : b;
		centre[p] = flip ? n - 1 - c : c;
	}
}

static enum lesion_status frame_init(struct frame *f, const struct lesion_geometry *g,
				     enum lesion_plane plane, int max_px,
				     struct lesion_error *err)
{
	int axis_of[3], sign_of[3];
	const struct plane_def *pd = &planes[plane];
	memset(f, 0, sizeof(*f));
	world_axes(g->vox_to_world, axis_of, sign_of);
	for (int a = 0; a < 3; a++)
		f->dim[a] = g->dim[a];
	f->stride[0] = 1;
	f->stride[1] = g->dim[0];
	f->stride[2] = g->dim[0] * g->dim[1];
	f->slice_axis = axis_of[pd->slice_world];
	f->slice_sign = sign_of[pd->slice_world];
	f->h_axis = axis_of[pd->h_world];
	f->v_axis = axis_of[pd->v_world];
	/* screen coordinates grow against world coordinates (see planes[]) */
	f->h_flip = sign_of[pd->h_world] > 0;
	f->v_flip = sign_of[pd->v_world] > 0;

	double hs = g->voxel_size_mm[f->h_axis], vs = g->voxel_size_mm[f->v_axis];
	double w_mm = (double)f->dim[f->h_axis] * hs, h_mm = (double)f->dim[f->v_axis] * vs;
	double finest = hs < vs ? hs : vs, longest = w_mm > h_mm ? w_mm : h_mm;
	double native = longest / finest, mm_per_px;
	if (native <= max_px)
		mm_per_px = finest / floor(max_px / native);
	else
		mm_per_px = longest / max_px;
	f->width = (int)fmax(1, floor(w_mm / mm_per_px + 0.5));
	f->height = (int)fmax(1, floor(h_mm / mm_per_px + 0.5));
	f->h0 = malloc(sizeof(int64_t) * 3 * (size_t)f->width);
	f->v0 = malloc(sizeof(int64_t) * 3 * (size_t)f->height);
	if (!f->h0 || !f->v0) {
		frame_release(f);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	f->h1 = f->h0 + f->width;
	f->hc = f->h1 + f->width;
	f->v1 = f->v0 + f->height;
	f->vc = f->v1 + f->height;
	axis_pixels(f->dim[f->h_axis], hs, mm_per_px, f->width, f->h_flip, f->h0, f->h1, f->hc);
	axis_pixels(f->dim[f->v_axis], vs, mm_per_px, f->height, f->v_flip, f->v0, f->v1, f->vc);
	return LESION_OK;
}

/* the world coordinate (mm) of the centre of slice @k along the plane's
 * world axis (x for sagittal: negative is the patient's left) */
static double slice_position_mm(const struct lesion_geometry *g, const struct frame *f,
				enum lesion_plane plane, int64_t k)
{
	double ijk[3], xyz[3];
	for (int a = 0; a < 3; a++)
		ijk[a] = a == f->slice_axis ? (double)k : (double)(f->dim[a] - 1) / 2;
	lesion_geometry_voxel_to_world(g, ijk, xyz);
	return xyz[planes[plane].slice_world];
}

/* index along the slice axis in world order (inferior first for axial) */
static int64_t world_order(const struct frame *f, int64_t k)
{
	return f->slice_sign > 0 ? k : f->dim[f->slice_axis] - 1 - k;
}

/*
 * The slices to show: @n spread evenly, in world order, over the extent of
 * the overlay's lesion, else of the image's non-zero voxels, else all.
 * Works in world order so that the same head stored flipped shows the same
 * slices. Returns the number chosen.
 */
static int choose_slices(const struct frame *f, const struct lesion_volume *img,
			 const unsigned char *classes, int n, int64_t *out)
{
	int64_t ns = f->dim[f->slice_axis], lo = ns, hi = -1;
	int64_t total = f->dim[0] * f->dim[1] * f->dim[2];
	for (int64_t i = 0; i < total; i++) {
		int on = classes ? classes[i] != 0 : 0;
		if (!classes) {
			double v = lesion_volume_value(img, i);
			on = isfinite(v) && v != 0;
		}
		if (!on)
			continue;
		int64_t k = (i / f->stride[f->slice_axis]) % f->dim[f->slice_axis];
		int64_t t = world_order(f, k);
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	if (hi < 0 && classes)
		return choose_slices(f, img, NULL, n, out);
	if (hi < 0) {
		lo = 0;
		hi = ns - 1;
	}
	/* the middle slice of each of @n equal parts of the extent: the end
	 * slices of a lesion usually hold a speck of it and show little */
	int64_t span = hi - lo + 1;
	int count = span < n ? (int)span : n;
	for (int i = 0; i < count; i++) {
		int64_t t = lo + (int64_t)floor(((double)i + 0.5) * (double)span / count);
		out[i] = world_order(f, t); /* world_order is its own inverse */
	}
	return count;
}

/* Draw slice @k of the image and its overlay at (@x0, @y0). */
static void draw_tile(struct lesion_canvas *c, const struct frame *f,
		      const struct lesion_volume *img, const unsigned char *classes,
		      enum lesion_overlay_kind kind, int fill, double low, double high,
		      int64_t k, int x0, int y0, unsigned char *cls)
{
	int64_t base = k * f->stride[f->slice_axis];
	int64_t sh = f->stride[f->h_axis], sv = f->stride[f->v_axis];
	for (int py = 0; py < f->height; py++)
		for (int px = 0; px < f->width; px++) {
			double sum = 0;
			int64_t n = 0;
			unsigned char top = 0;
			for (int64_t v = f->v0[py]; v <= f->v1[py]; v++)
				for (int64_t h = f->h0[px]; h <= f->h1[px]; h++) {
					int64_t i = base + v * sv + h * sh;
					double val = lesion_volume_value(img, i);
					if (isfinite(val)) {
						sum += val;
						n++;
					}
					if (classes && classes[i] > top)
						top = classes[i];
				}
			double g = n ? (sum / (double)n - low) / (high - low) : 0;
			unsigned char grey = (unsigned char)floor(fmin(1, fmax(0, g)) * 255 + 0.5);
			unsigned char pix[3] = {grey, grey, grey};
			memcpy(c->rgb + ((size_t)(y0 + py) * (size_t)c->width + (size_t)(x0 + px)) * 3,
			       pix, 3);
			cls[(size_t)py * (size_t)f->width + (size_t)px] = top;
		}
	if (!classes)
		return;
	for (int py = 0; py < f->height; py++)
		for (int px = 0; px < f->width; px++) {
			unsigned char k0 = cls[(size_t)py * (size_t)f->width + (size_t)px];
			if (!k0)
				continue;
			const unsigned char *col = kind == LESION_OVERLAY_CHANGE
				? change_colour[k0] : mask_colour;
			int edge = 0;
			for (int dy = -1; dy <= 1 && !edge; dy++)
				for (int dx = -1; dx <= 1 && !edge; dx++) {
					int nx = px + dx, ny = py + dy;
					edge = nx < 0 || ny < 0 || nx >= f->width || ny >= f->height ||
					       cls[(size_t)ny * (size_t)f->width + (size_t)nx] != k0;
				}
			unsigned char *p = c->rgb + ((size_t)(y0 + py) * (size_t)c->width +
						     (size_t)(x0 + px)) * 3;
			if (edge) {
				memcpy(p, col, 3);
			} else if (fill) {
				for (int ch = 0; ch < 3; ch++)
					p[ch] = (unsigned char)floor(p[ch] * (1 - FILL_ALPHA) +
								     col[ch] * FILL_ALPHA + 0.5);
			}
		}
}

static int64_t count_in_slice(const struct frame *f, const unsigned char *classes,
			      int64_t k)
{
	int64_t n = 0, base = k * f->stride[f->slice_axis];
	int64_t sh = f->stride[f->h_axis], sv = f->stride[f->v_axis];
	if (!classes)
		return 0;
	for (int64_t v = 0; v < f->dim[f->v_axis]; v++)
		for (int64_t h = 0; h < f->dim[f->h_axis]; h++)
			n += classes[base + v * sv + h * sh] != 0;
	return n;
}

/* columns of the mosaic: the one closest to a 4:3 picture */
static int mosaic_columns(int n, int cell_w, int cell_h)
{
	int best = 1;
	double best_err = INFINITY;
	for (int cols = 1; cols <= n; cols++) {
		int rows = (n + cols - 1) / cols;
		double e = fabs(log((double)cols * cell_w / ((double)rows * cell_h) / (4.0 / 3.0))) +
			   1.0 * (rows * cols - n) / n; /* empty cells look unfinished */
		if (e < best_err - 1e-9) {
			best_err = e;
			best = cols;
		}
	}
	return best;
}

static int options_valid(const struct lesion_quicklook_options *opts)
{
	return opts->n_slices >= 1 && opts->n_slices <= 256 && (unsigned)opts->plane <= 2 &&
	       opts->max_tile_px >= 0 && opts->max_tile_px <= 4096;
}

#define INVALID_OPTIONS "invalid quicklook options (1..256 slices, tiles up to 4096 px)"

/* The mosaic of @image with overlay @classes (NULL: none; 0 background,
 * 1..3 as drawn for @kind, MASK or CHANGE). */
static enum lesion_status render(const struct lesion_volume *image,
				 const unsigned char *classes,
				 enum lesion_overlay_kind kind,
				 const struct lesion_quicklook_options *opts,
				 struct lesion_quicklook **out, struct lesion_error *err)
{
	enum lesion_status st;
	struct lesion_quicklook *ql = NULL;
	unsigned char *cls = NULL;
	int64_t *slices = NULL;
	struct frame f;
	memset(&f, 0, sizeof(f));
	ql = calloc(1, sizeof(*ql));
	slices = malloc(sizeof(int64_t) * (size_t)opts->n_slices);
	if (!ql || !slices) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	ql->plane = opts->plane;
	ql->overlay = classes ? kind : LESION_OVERLAY_AUTO;
	if ((st = grey_window(image, &ql->window_low, &ql->window_high, err)))
		goto out;
	if ((st = frame_init(&f, &image->geom, opts->plane,
			     opts->max_tile_px ? opts->max_tile_px : 256, err)))
		goto out;
	ql->slice_axis = f.slice_axis;
	ql->screen_axis[0] = f.h_axis;
	ql->screen_axis[1] = f.v_axis;
	ql->screen_flip[0] = f.h_flip;
	ql->screen_flip[1] = f.v_flip;
	ql->orientation_known = lesion_geometry_orientation_known(&image->geom);
	/* without qform or sform the axes are the file's, not the patient's: a
	 * letter there would be a confident guess, so none is drawn */
	memcpy(ql->label, ql->orientation_known ? planes[opts->plane].letters : "    ", 5);
	ql->n_tiles = choose_slices(&f, image, classes, opts->n_slices, slices);

	/* a cell: the tile with a letter on each side and the number on top */
	int scale = (f.width < f.height ? f.width : f.height) >= 120 ? 2 : 1;
	int pad = 2 * scale, gutter = 5 * scale + 2 * pad, strip = 7 * scale + 2 * pad;
	/* a gap between cells keeps one tile's L apart from the next one's R */
	int gap = 4 * pad;
	int cell_w = f.width + 2 * gutter + gap, cell_h = f.height + 2 * strip;
	int cols = mosaic_columns(ql->n_tiles, cell_w, cell_h);
	int rows = (ql->n_tiles + cols - 1) / cols;
	int banner = ql->orientation_known ? 0 : strip; /* says why there are no letters */
	if ((int64_t)cols * cell_w > 65535 || (int64_t)rows * cell_h + banner > 65535) {
		st = lesion_error_set(err, LESION_ERR_INPUT,
				      "quicklook of '%s' would be too large", image->path);
		goto out;
	}
	ql->width = cols * cell_w - gap;
	ql->height = rows * cell_h + banner;
	ql->rgb = calloc((size_t)ql->width * (size_t)ql->height, 3);
	ql->tiles = calloc((size_t)ql->n_tiles, sizeof(*ql->tiles));
	cls = malloc((size_t)f.width * (size_t)f.height);
	if (!ql->rgb || !ql->tiles || !cls) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	struct lesion_canvas c = {ql->width, ql->height, ql->rgb};
	if (banner) {
		static const char text[] = "ORIENTATION UNKNOWN";
		int s = scale;
		while (s > 1 && lesion_font_width(text, s) + 2 * pad > ql->width)
			s--;
		lesion_font_draw(&c, pad, pad, s, text);
	}
	for (int t = 0; t < ql->n_tiles; t++) {
		struct lesion_quicklook_tile *tile = &ql->tiles[t];
		int cx = (t % cols) * cell_w, cy = (t / cols) * cell_h + banner;
		tile->slice = slices[t];
		tile->x = cx + gutter;
		tile->y = cy + strip;
		tile->width = f.width;
		tile->height = f.height;
		tile->lesion_voxels = count_in_slice(&f, classes, slices[t]);
		draw_tile(&c, &f, image, classes, ql->overlay, opts->fill,
			  ql->window_low, ql->window_high, slices[t], tile->x, tile->y, cls);
		char num[24], pos[24], letter[2] = {0, 0};
		snprintf(num, sizeof(num), "%lld", (long long)slices[t]);
		lesion_font_draw(&c, tile->x, cy + pad, scale, num);
		/* where the slice is, as scanners label it: L 30 is 30 mm left of
		 * the world origin (sagittal tiles have no L/R at their sides) */
		tile->position_mm = slice_position_mm(&image->geom, &f, opts->plane, slices[t]);
		double v = floor(tile->position_mm + 0.5);
		/* "I 8", not "I8", which reads as 18 */
		snprintf(pos, sizeof(pos), "%s%s%.0f", v == 0 ? "" : v > 0
			 ? planes[opts->plane].positive : planes[opts->plane].negative,
			 v == 0 ? "" : " ", fabs(v));
		int pos_w = lesion_font_width(pos, scale);
		if (ql->orientation_known &&
		    tile->x + f.width - pos_w > tile->x + f.width / 2 + 4 * scale)
			lesion_font_draw(&c, tile->x + f.width - pos_w, cy + pad, scale, pos);
		const int lx[4] = {cx + pad, cx + gutter + f.width + pad,
				   tile->x + (f.width - 5 * scale) / 2,
				   tile->x + (f.width - 5 * scale) / 2};
		const int ly[4] = {tile->y + (f.height - 7 * scale) / 2,
				   tile->y + (f.height - 7 * scale) / 2,
				   cy + pad, tile->y + f.height + pad};
		for (int e = 0; e < 4; e++) {
			/* the top letter would run into the slice number on narrow tiles */
			if (e == 2 && lx[2] < tile->x + 6 * scale * (int)strlen(num) + scale)
				continue;
			letter[0] = ql->label[e];
			if (letter[0] != ' ')
				lesion_font_draw(&c, lx[e], ly[e], scale, letter);
		}
	}
	*out = ql;
	ql = NULL;
	st = LESION_OK;
out:
	frame_release(&f);
	free(cls);
	free(slices);
	lesion_quicklook_free(ql);
	return st;
}

enum lesion_status lesion_quicklook_render(const struct lesion_volume *image,
					   const struct lesion_volume *overlay,
					   const struct lesion_quicklook_options *opts,
					   struct lesion_quicklook **out,
					   struct lesion_error *err)
{
	unsigned char *classes = NULL;
	enum lesion_overlay_kind kind = LESION_OVERLAY_AUTO;
	*out = NULL;
	if (!options_valid(opts))
		return lesion_error_set(err, LESION_ERR_USAGE, INVALID_OPTIONS);
	if (overlay && !lesion_geometry_same_grid(&image->geom, &overlay->geom, 1e-3)) {
		const int64_t *a = image->geom.dim, *b = overlay->geom.dim;
		return lesion_error_set(err, LESION_ERR_INPUT,
			"overlay '%s' is not on the grid of '%s' (%lldx%lldx%lld vs "
			"%lldx%lldx%lld voxels, voxel-to-world matrices equal within 0.001 mm "
			"needed): resample it onto the image first", overlay->path, image->path,
			(long long)b[0], (long long)b[1], (long long)b[2],
			(long long)a[0], (long long)a[1], (long long)a[2]);
	}
	enum lesion_status st = overlay
		? overlay_classes(overlay, opts->overlay_kind, &classes, &kind, err) : LESION_OK;
	if (!st)
		st = render(image, classes, kind, opts, out, err);
	free(classes);
	return st;
}

enum lesion_status lesion_quicklook_render_map(const struct lesion_volume *image,
					       const uint8_t *map,
					       enum lesion_overlay_kind kind,
					       const struct lesion_quicklook_options *opts,
					       struct lesion_quicklook **out,
					       struct lesion_error *err)
{
	*out = NULL;
	if (!options_valid(opts))
		return lesion_error_set(err, LESION_ERR_USAGE, INVALID_OPTIONS);
	if (kind != LESION_OVERLAY_MASK && kind != LESION_OVERLAY_CHANGE)
		return lesion_error_set(err, LESION_ERR_USAGE,
					"a quicklook map is a mask or a change map");
	/* the drawing indexes colours by class: check before trusting them */
	uint8_t top = kind == LESION_OVERLAY_MASK ? 1 : 3;
	for (int64_t i = 0; i < image->geom.n_voxels; i++)
		if (map[i] > top)
			return lesion_error_set(err, LESION_ERR_INPUT,
				"quicklook map of '%s' holds %u at voxel %lld (at most %u)",
				image->path, map[i], (long long)i, top);
	return render(image, map, kind, opts, out, err);
}
