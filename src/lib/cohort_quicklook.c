/* cohort_quicklook.c: a participant's picture at the participant level:
 * the baseline-vs-last change map (or a single timepoint's lesion) over the
 * last timepoint's anatomy, so report.html shows what was counted. */
#include "cohort_internal.h"

#include "lesionvol/change.h"
#include "lesionvol/quicklook.h"

/* Fewer and smaller tiles than `lesionvol quicklook`: report.html embeds
 * one picture per participant. */
#define COHORT_SLICES 8
#define COHORT_TILE_PX 160

enum lesion_status lesion_cohort_quicklook_draw(const struct lesion_cohort_participant *p,
						const struct lesion_series *s,
						int64_t volume_index, const char *png_path,
						struct lesion_error *err)
{
	const struct lesion_cohort_timepoint *base = &p->timepoints[s->order[0]];
	const struct lesion_cohort_timepoint *last =
		&p->timepoints[s->order[s->n_timepoints - 1]];
	struct lesion_volume *image = NULL, *anatomy = NULL;
	struct lesion_quicklook *ql = NULL;
	struct lesion_quicklook_options opts;
	enum lesion_status st;

	if (!s->map)
		return lesion_error_set(err, LESION_ERR_INPUT, "no quicklook: sessions '%s' "
					"and '%s' are on different grids", base->session,
					last->session);
	/* the image only for its grid when the anatomy is the background */
	st = last->anatomy_path ? lesion_volume_open(last->image_path, 0, &image, err)
	     : lesion_volume_read(last->image_path, volume_index, &image, err);
	if (!st && last->anatomy_path &&
	    !(st = lesion_volume_read(last->anatomy_path, -1, &anatomy, err)) &&
	    !lesion_geometry_same_grid(&anatomy->geom, &image->geom, 1e-3))
		st = lesion_error_set(err, LESION_ERR_INPUT, "no quicklook: anatomy '%s' is "
				      "not on the grid of '%s'", last->anatomy_path,
				      last->image_path);
	if (st)
		goto out;
	lesion_quicklook_options_init(&opts);
	opts.n_slices = COHORT_SLICES;
	opts.max_tile_px = COHORT_TILE_PX;
	st = lesion_quicklook_render_map(anatomy ? anatomy : image, s->map,
					 s->map_is_change ? LESION_OVERLAY_CHANGE
					 : LESION_OVERLAY_MASK, &opts, &ql, err);
	if (!st)
		st = lesion_png_write(png_path, ql->rgb, ql->width, ql->height, err);
out:
	lesion_quicklook_free(ql);
	lesion_volume_free(anatomy);
	lesion_volume_free(image);
	return st;
}
