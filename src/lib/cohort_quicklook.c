/* cohort_quicklook.c: a participant's picture at the participant level:
 * the baseline-vs-last change map (or a single timepoint's lesion) over the
 * last timepoint's anatomy, so report.html shows what was counted. */
#include "cohort_internal.h"

#include <cJSON.h>

#include <string.h>
#include <unistd.h>

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

void lesion_cohort_quicklook_record(const struct lesion_cohort_participant *p,
				    const struct lesion_series *s, int64_t volume_index,
				    const char *png_path, const char *qkey, cJSON *d)
{
	struct lesion_error qe = {0};
	const struct lesion_cohort_timepoint *last = &p->timepoints[s->order[s->n_timepoints - 1]];
	cJSON *rec = cJSON_CreateObject();
	enum lesion_status st = lesion_cohort_quicklook_draw(p, s, volume_index, png_path, &qe);
	/* a picture the inputs do not allow is up to date as "none"; one that
	 * failed to be written (disk full...) gets no key, so a rerun retries */
	lesion_json_add_string(rec, "key", st == LESION_OK || st == LESION_ERR_INPUT
			       ? qkey : NULL);
	lesion_json_add_string(rec, "background", last->anatomy_path ? last->anatomy_path
			       : last->image_path);
	if (st) {
		cJSON_AddNullToObject(rec, "file");
		cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(d, "warnings"),
				     cJSON_CreateString(qe.message));
	} else {
		cJSON_AddStringToObject(rec, "file", strrchr(png_path, '/') + 1);
	}
	cJSON_AddItemToObject(d, "quicklook", rec);
}

void lesion_cohort_quicklook_key(const char *results_key, const cJSON *anatomy,
				 char hex[65])
{
	struct lesion_buf b = {0};
	cJSON *k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "results", results_key);
	if (anatomy)
		cJSON_AddItemReferenceToObject(k, "anatomy", (cJSON *)anatomy);
	lesion_json_print(k, &b);
	lesion_sha256_hex(b.data ? b.data : "", b.len, hex);
	cJSON_Delete(k);
	lesion_buf_release(&b);
}

static int is_ok(const cJSON *d)
{
	const char *status = lesion_json_string(d, "status");
	return status && strcmp(status, "ok") == 0;
}

int lesion_cohort_quicklook_current(const cJSON *old, const char *qkey,
				    const char *png_path)
{
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(old, "quicklook");
	const char *k = lesion_json_string(rec, "key");
	if (!is_ok(old))
		return 1; /* a failed participant has no picture to draw */
	if (!k || strcmp(k, qkey) != 0)
		return 0;
	return !lesion_json_string(rec, "file") || access(png_path, F_OK) == 0;
}

void lesion_cohort_quicklook_keep_matching(cJSON *d, const cJSON *old, const char *qkey,
					   const char *png_path)
{
	/* recomputed without --quicklook, the old picture may still be right */
	const cJSON *orec = cJSON_GetObjectItemCaseSensitive(old, "quicklook");
	if (!cJSON_GetObjectItemCaseSensitive(d, "quicklook") && orec)
		cJSON_AddItemToObject(d, "quicklook", cJSON_Duplicate(orec, 1));
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(d, "quicklook");
	const char *k = lesion_json_string(rec, "key");
	int matches = is_ok(d) && k && strcmp(k, qkey) == 0;
	if (matches && lesion_json_string(rec, "file"))
		return;
	if (rec && !matches)
		cJSON_DeleteItemFromObjectCaseSensitive(d, "quicklook");
	unlink(png_path);
}
