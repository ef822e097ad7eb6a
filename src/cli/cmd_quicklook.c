/* cmd_quicklook.c: `lesionvol quicklook`, a PNG slice mosaic with the lesion
 * (or a change map) drawn over the anatomy, for spot checks. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "lesionvol/quicklook.h"
#include "lesionvol/volume.h"

static const char *const summary_fields[] = {
	"output", "image", "overlay", "overlay_kind", "plane", "orientation",
	"slice_axis",
	"slices", "width", "height", "window", NULL,
};

static cJSON *describe(const struct lesion_quicklook *ql, const char *output,
		       const char *image, const char *overlay)
{
	static const char *const axis_names[] = {"i", "j", "k"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "output", output);
	cJSON_AddStringToObject(o, "image", image);
	if (overlay)
		cJSON_AddStringToObject(o, "overlay", overlay);
	else
		cJSON_AddNullToObject(o, "overlay");
	cJSON_AddStringToObject(o, "overlay_kind",
				!overlay ? "none"
				: ql->overlay == LESION_OVERLAY_CHANGE ? "change" : "mask");
	cJSON_AddStringToObject(o, "plane", lesion_plane_name(ql->plane));
	cJSON_AddStringToObject(o, "slice_axis", axis_names[ql->slice_axis]);
	cJSON *slices = cJSON_CreateArray();
	cJSON *tiles = cJSON_CreateArray();
	for (int t = 0; t < ql->n_tiles; t++) {
		const struct lesion_quicklook_tile *tl = &ql->tiles[t];
		cJSON_AddItemToArray(slices, cJSON_CreateNumber((double)tl->slice));
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "slice", (double)tl->slice);
		cJSON_AddNumberToObject(j, "x", tl->x);
		cJSON_AddNumberToObject(j, "y", tl->y);
		cJSON_AddNumberToObject(j, "width", tl->width);
		cJSON_AddNumberToObject(j, "height", tl->height);
		cJSON_AddNumberToObject(j, "lesion_voxels", (double)tl->lesion_voxels);
		cli_json_add_number(j, "position_mm", tl->position_mm);
		cJSON_AddItemToArray(tiles, j);
	}
	cJSON_AddItemToObject(o, "slices", slices);
	cJSON_AddNumberToObject(o, "width", ql->width);
	cJSON_AddNumberToObject(o, "height", ql->height);
	cJSON *window = cJSON_CreateArray();
	cJSON_AddItemToArray(window, cli_json_number(ql->window_low));
	cJSON_AddItemToArray(window, cli_json_number(ql->window_high));
	cJSON_AddItemToObject(o, "window", window);
	char letters[32];
	snprintf(letters, sizeof(letters), "%c|%c, %c/%c", ql->label[0], ql->label[1],
		 ql->label[2], ql->label[3]);
	cJSON_AddStringToObject(o, "orientation", ql->orientation_known ? letters : "unknown");
	cJSON_AddItemToObject(o, "tiles", tiles);
	return o;
}

static int run_quicklook(const struct cli_command *cmd, struct cli_args *args)
{
	const char *image_path = args->positional[0];
	const char *overlay_path = cli_string(args, "overlay");
	const char *output = cli_string(args, "output");
	struct lesion_volume *image = NULL, *overlay = NULL;
	struct lesion_quicklook *ql = NULL;
	struct lesion_quicklook_options opts;
	struct lesion_error err;
	int rc = 0;

	if (!output)
		return cli_usage_error(cmd, "missing the PNG to write (-o OUT.png)");
	static const char *const outputs[] = {"output", NULL};
	int refused = cli_refuse_overwrite(args, outputs);
	if (refused)
		return refused;
	lesion_quicklook_options_init(&opts);
	opts.n_slices = (int)cli_int(args, "slices");
	opts.fill = cli_flag(args, "fill");
	opts.max_tile_px = (int)cli_int(args, "tile-size");
	const char *plane = cli_string(args, "plane");
	opts.plane = strcmp(plane, "coronal") == 0 ? LESION_PLANE_CORONAL
		     : strcmp(plane, "sagittal") == 0 ? LESION_PLANE_SAGITTAL
		     : LESION_PLANE_AXIAL;
	const char *kind = cli_string(args, "overlay-kind");
	opts.overlay_kind = strcmp(kind, "mask") == 0 ? LESION_OVERLAY_MASK
			    : strcmp(kind, "change") == 0 ? LESION_OVERLAY_CHANGE
			    : LESION_OVERLAY_AUTO;
	cli_apply_threads(args);

	int64_t index = cli_given(args, "volume") ? cli_int(args, "volume") : -1;
	if (lesion_volume_read(image_path, index, &image, &err) ||
	    (overlay_path && lesion_volume_read(overlay_path, -1, &overlay, &err)) ||
	    lesion_quicklook_render(image, overlay, &opts, &ql, &err) ||
	    lesion_png_write(output, ql->rgb, ql->width, ql->height, &err)) {
		rc = cli_error(&err);
		goto out;
	}
	for (int i = 0; i < image->n_warnings; i++)
		cli_warning("'%s': %s", image_path, image->warnings[i]);
	for (int i = 0; overlay && i < overlay->n_warnings; i++)
		cli_warning("'%s': %s", overlay_path, overlay->warnings[i]);
	if (!ql->orientation_known)
		cli_warning("'%s': orientation unknown (qform_code = sform_code = 0): the "
			    "tiles show the file's axes with no anatomical letters; left and "
			    "right cannot be told", image_path);

	cJSON *o = describe(ql, output, image_path, overlay_path);
	enum cli_format fmt = cli_format_of(args);
	if (fmt == CLI_FORMAT_JSON)
		cli_write_json(stdout, o);
	else
		cli_write_record(stdout, fmt, o, summary_fields);
	cJSON_Delete(o);
	if (fflush(stdout) != 0) {
		lesion_error_set(&err, LESION_ERR_WRITE, "unable to write to stdout");
		rc = cli_error(&err);
	}
out:
	lesion_quicklook_free(ql);
	lesion_volume_free(overlay);
	lesion_volume_free(image);
	return rc;
}

static const struct cli_option quicklook_options[] = {
	{"output", 'o', CLI_STRING, "OUT.png", "the PNG to write (atomically; required)"},
	{"overlay", 0, CLI_STRING, "MASK",
	 "lesion mask (value > 0) or change map (1 resolved, 2 persistent, 3 new) "
	 "on the image's grid, drawn over it"},
	{"overlay-kind", 0, CLI_CHOICE, "KIND",
	 "how to read the overlay: auto is a change map when its only non-zero "
	 "values are 1, 2 and 3 with some 2 or 3, else a mask",
	 "auto|mask|change", 0, 0, "auto"},
	{"slices", 'n', CLI_INT, "N", "number of slices (tiles), spread over the lesion",
	 NULL, 1, 256, "12"},
	{"plane", 'p', CLI_CHOICE, "PLANE", "slice plane", "axial|coronal|sagittal", 0, 0,
	 "axial"},
	{"fill", 0, CLI_FLAG, NULL, "translucent fill inside the outline"},
	{"tile-size", 0, CLI_INT, "PX",
	 "longest side of a tile in pixels (small images are enlarged by a whole "
	 "factor up to it)", NULL, 16, 4096, "256"},
	{"volume", 0, CLI_INT, "N", "which volume of a 4D image (0-based)", NULL, 0, 1e12},
	{"format", 'f', CLI_CHOICE, "FMT", "format of the summary on stdout",
	 "table|tsv|csv|json", 0, 0, "table"},
	{NULL},
};
static const struct cli_option_group quicklook_group = {"Quicklook", quicklook_options};

const struct cli_command cmd_quicklook = {
	.name = "quicklook",
	.synopsis = "IMAGE [--overlay MASK|CHANGEMAP] -o OUT.png [options]",
	.summary = "PNG slice mosaic with the lesion drawn over the anatomy",
	.description =
		"Draws N slices of IMAGE spread evenly over the extent of the overlay's "
		"lesion (without an overlay, over the image's non-zero voxels), from "
		"inferior to superior (axial), posterior to anterior (coronal) or left "
		"to right (sagittal). The anatomy is grey, windowed on the 1st-99th "
		"percentiles of its non-zero values; the lesion is a red outline (with "
		"--fill, also a translucent fill); a change map is drawn resolved "
		"blue, persistent yellow, new red. A mask given as IMAGE alone is shown "
		"white on black.\n"
		"Radiological convention: axial and coronal tiles show the patient's "
		"left on the right (marked L), anterior (A) or superior (S) up; "
		"sagittal tiles show anterior on the left. The orientation comes from "
		"the image's voxel-to-world matrix (sform, else qform), so images "
		"stored LPI, RAS or permuted look the same; an oblique image is shown "
		"along its closest axes. Voxels keep their physical shape. Above each "
		"tile: the slice's 0-based voxel index in the file and, on the right, "
		"where the slice is, as scanners label it (S 12: 12 mm superior of the "
		"world origin; L 30: 30 mm to the patient's left). An image whose "
		"orientation is unknown (qform_code = sform_code = 0, as every Analyze "
		"7.5 file) is drawn along its voxel axes with no letters and no "
		"positions, under a banner ORIENTATION UNKNOWN, with a warning.\n"
		"The overlay must be on the image's grid (exit 1 otherwise). stdout "
		"gets a summary: the slices shown and, in JSON, each tile's pixel "
		"rectangle.",
	.min_args = 1,
	.max_args = 1,
	.groups = (const struct cli_option_group *const[]){
		&quicklook_group, &cli_group_threads, &cli_group_general, NULL},
	.examples = (const char *const[]){
		"lesionvol quicklook sample_data/sub-01/ses-01/anat/sub-01_ses-01_FLAIR.nii.gz "
		"--overlay sample_data/sub-01/ses-01/anat/sub-01_ses-01_label-lesion_mask.nii.gz "
		"-o sub-01_ses-01.png",
		"lesionvol quicklook sample_data/sub-01/ses-01/anat/sub-01_ses-01_FLAIR.nii.gz "
		"--overlay sample_data/sub-01/ses-01/anat/sub-01_ses-01_label-lesion_mask.nii.gz "
		"--plane coronal --slices 6 --fill -o sub-01_ses-01_coronal.png",
		NULL},
	.run = run_quicklook,
};
