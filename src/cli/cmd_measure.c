/* cmd_measure.c: `lesionvol measure`, the segmentation rule applied to one
 * image: lesion volume, every connected component, optional mask/label maps. */
#include "cli.h"
#include "quicklook_opt.h"
#include "regions.h"

#include <stdlib.h>
#include <string.h>

#include "lesionvol/segment.h"
#include "lesionvol/volume.h"

static const char *const table_columns[] = {
	"label", "voxels", "volume_mm3", "centroid_vox", "centroid_mm", "bbox_min",
	"bbox_max", "mean", "max", NULL};
static const char *const table_columns_soft[] = {
	"label", "voxels", "volume_mm3", "soft_mm3", "centroid_vox", "centroid_mm",
	"bbox_min", "bbox_max", "mean", "max", NULL};

/* Outputs must not overwrite an input or each other. */
static int check_outputs(const struct cli_command *cmd, const char *const *outs,
			 const char *const *names, int n_out,
			 const char *const *ins, int n_in)
{
	for (int o = 0; o < n_out; o++) {
		if (!outs[o])
			continue;
		for (int i = 0; i < n_in; i++)
			if (cli_same_file(outs[o], ins[i]))
				return cli_usage_error(cmd, "refusing to overwrite the input '%s' "
						       "with %s", ins[i], names[o]);
		for (int p = 0; p < o; p++)
			if (cli_same_file(outs[o], outs[p]))
				return cli_usage_error(cmd, "%s and %s both name '%s'",
						       names[p], names[o], outs[o]);
	}
	return 0;
}

/* The scalar keys of @obj in order, as a NULL-terminated column list. */
static void keys_of(const cJSON *obj, const char **cols, int max)
{
	int n = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		if (n + 1 < max && strcmp(it->string, "components") != 0 &&
		    strcmp(it->string, "regions") != 0)
			cols[n++] = it->string;
	}
	cols[n] = NULL;
}

static enum lesion_status write_maps(const struct lesion_volume *vol,
				     const struct lesion_measurement *m,
				     struct lesion_segmentation *seg,
				     const char *mask_path, const char *labels_path,
				     struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	if (mask_path)
		st = lesion_volume_write_like(vol, mask_path, LESION_DT_UINT8, seg->mask, err);
	if (st || !labels_path)
		return st;
	enum lesion_dtype dt = LESION_DT_INT32;
	if (m->n_components <= 32767) {
		/* int16 is enough: narrow in place, front to back */
		unsigned char *p = (unsigned char *)seg->labels;
		for (int64_t i = 0; i < vol->geom.n_voxels; i++) {
			int32_t v32;
			memcpy(&v32, p + 4 * i, 4);
			int16_t v16 = (int16_t)v32;
			memcpy(p + 2 * i, &v16, 2);
		}
		dt = LESION_DT_INT16;
	}
	return lesion_volume_write_like(vol, labels_path, dt, seg->labels, err);
}

static void print_result(FILE *f, enum cli_format fmt, const struct cli_args *args,
			 const cJSON *summary, const cJSON *comps, int64_t n_total,
			 int soft)
{
	const char *cols[40];
	if (fmt == CLI_FORMAT_JSON) {
		cli_write_json(f, summary);
	} else if (fmt != CLI_FORMAT_TABLE) {
		if (cli_flag(args, "components")) {
			/* the header even when there is no component */
			struct lesion_component none = {0};
			cJSON *model = cli_component_json("", &none, soft, 1);
			keys_of(model, cols, 40);
			cli_write_rows(f, fmt, cols, comps, 1);
			cJSON_Delete(model);
		} else {
			keys_of(summary, cols, 40);
			cli_write_record(f, fmt, summary, cols);
		}
	} else {
		keys_of(summary, cols, 40);
		cli_write_record(f, fmt, summary, cols);
		cli_regions_print(f, summary);
		if (n_total == 0)
			return;
		fprintf(f, "\ncomponents (largest first):\n");
		cli_write_rows(f, fmt, soft ? table_columns_soft : table_columns, comps, 1);
		int shown = cJSON_GetArraySize(comps);
		if (shown < n_total)
			fprintf(f, "... %lld more (--top)\n", (long long)(n_total - shown));
	}
}

static int run_measure(const struct cli_command *cmd, struct cli_args *args)
{
	struct lesion_rule rule;
	struct lesion_volume *vol = NULL, *brain = NULL;
	struct lesion_atlas *atlas = NULL;
	struct lesion_measurement m = {0};
	struct lesion_segmentation seg = {0};
	struct lesion_error err;
	struct cli_output out = {0};
	cJSON *summary = NULL;
	const char *path = args->positional[0];
	const char *mask_out = cli_string(args, "out-mask");
	const char *labels_out = cli_string(args, "out-labels");
	enum cli_format fmt = cli_format_of(args);
	const char *quicklook = cli_string(args, "quicklook");
	int rc = cli_rule_from_args(args, &rule);
	if (rc || (rc = cli_quicklook_check(args)))
		return rc;
	cli_apply_threads(args);

	int64_t index = cli_given(args, "volume") ? cli_int(args, "volume") : -1;
	if (lesion_volume_open(path, 0, &vol, &err))
		return cli_error(&err);
	int warned = vol->n_warnings;
	for (int i = 0; i < warned; i++)
		cli_warning("'%s': %s", path, vol->warnings[i]);
	if (!(rc = cli_mask_from_args(args, &brain)))
		rc = cli_atlas_from_args(args, &atlas);
	if (rc)
		goto out;
	{
		const char *outs[] = {mask_out, labels_out, cli_string(args, "output"),
				      quicklook};
		const char *names[] = {"--out-mask", "--out-labels", "--output",
				       "--quicklook"};
		const char *ins[] = {vol->path, vol->data_path, brain ? brain->path : NULL,
				     brain ? brain->data_path : NULL,
				     cli_string(args, "anatomy")};
		rc = check_outputs(cmd, outs, names, 4, ins, 5);
		if (rc)
			goto out;
	}
	seg.want_mask = mask_out != NULL || atlas || quicklook;
	seg.want_labels = labels_out != NULL;
	rc = lesion_measure_load(vol, index, brain, &rule, &m, &seg, &err);
	/* reading the voxels can find more to say (data after the image) */
	for (int i = warned; i < vol->n_warnings; i++)
		cli_warning("'%s': %s", path, vol->warnings[i]);
	if (rc) {
		rc = cli_error(&err);
		goto out;
	}
	if (m.n_components && !lesion_geometry_orientation_known(&vol->geom))
		cli_warning("'%s': orientation unknown (qform_code = sform_code = 0): "
			    "centroid_mm is voxel index x pixdim, not a position in the "
			    "patient", path);
	/* images first: a failed write leaves no table claiming success */
	if (write_maps(vol, &m, &seg, mask_out, labels_out, &err) ||
	    (quicklook && cli_quicklook_write(args, vol, seg.mask, 0, &err))) {
		rc = cli_error(&err);
		goto out;
	}
	int64_t top = cli_given(args, "top") ? cli_int(args, "top") : m.n_components;
	/* hundreds of components: JSON is streamed, no tree (issue 9) */
	int stream = fmt == CLI_FORMAT_JSON && !atlas;
	cJSON *comps = NULL;
	if (!stream) {
		int flat = fmt == CLI_FORMAT_TSV || fmt == CLI_FORMAT_CSV;
		summary = cli_measurement_json(path, &m, &rule);
		comps = cJSON_CreateArray();
		for (int64_t l = 0; l < m.n_components && l < top; l++) {
			cJSON_AddItemToArray(comps, cli_component_json(flat ? path : NULL,
				&m.components[l], rule.soft, flat));
		}
		cJSON_AddItemToObject(summary, "components", comps);
		if (atlas && (rc = cli_regions_add(summary, atlas, args, vol, seg.mask)))
			goto out;
	}
	if (cli_output_open(&out, args)) {
		rc = LESION_ERR_INTERNAL;
		goto out;
	}
	if (stream)
		cli_measurement_write_json(out.f, path, &m, &rule, top);
	else
		print_result(out.f, fmt, args, summary, comps, m.n_components, rule.soft);
	rc = cli_output_close(&out);
out:
	cJSON_Delete(summary);
	lesion_segmentation_release(&seg);
	lesion_measurement_release(&m);
	lesion_atlas_free(atlas);
	lesion_volume_free(brain);
	lesion_volume_free(vol);
	return rc;
}

static const struct cli_option measure_options[] = {
	{"top", 'n', CLI_INT, "N", "list only the N largest components (all by default)",
	 NULL, 0, 1e15},
	{"components", 0, CLI_FLAG, NULL,
	 "with --format tsv/csv: one row per component instead of the one-row summary"},
	{"out-mask", 0, CLI_STRING, "FILE",
	 "write the kept lesion voxels as a uint8 0/1 NIfTI with the input's geometry"},
	{"out-labels", 0, CLI_STRING, "FILE",
	 "write the component labels (1 = largest; int16, or int32 past 32767 "
	 "components) with the input's geometry"},
	{"quicklook", 0, CLI_STRING, "OUT.png",
	 "write a PNG slice mosaic of IMAGE with the kept lesion outlined in red"},
	{"anatomy", 0, CLI_STRING, "IMAGE",
	 "draw the quicklook over this image (e.g. the FLAIR a mask was drawn on; "
	 "same grid) instead of IMAGE"},
	{NULL},
};
static const struct cli_option_group measure_group = {"Measure", measure_options};

const struct cli_command cmd_measure = {
	.name = "measure",
	.synopsis = "IMAGE [options]",
	.summary = "segment one image: lesion volume and every connected component",
	.description =
		"Applies the segmentation rule (default: value > 0, so binary and label "
		"masks just work; thresholds apply to scaled values) and reports the "
		"voxel volume and where it came from, the lesion voxels, volume in mm^3 "
		"and mL, the number of 3D connected components, the largest one, the NaN "
		"voxels and the rule. Then every component, largest first (label 1): "
		"voxels, volume, centroid in voxels and in world mm (sform, else qform, "
		"else pixdim: world_source says which, and pixdim, which knows no "
		"orientation, is warned about), bounding box, mean and max of the values and where the "
		"max is.\n"
		"Formats: table (for people: the summary, then the components); json "
		"(the summary's keys plus \"components\", an array of every component); "
		"tsv/csv (one summary row with a header; with --components one row per "
		"component instead, vectors split into columns such as centroid_mm_x). "
		"--top limits the components listed, not n_components.\n"
		"--out-mask and --out-labels write NIfTI images that keep the input's "
		"sform, qform, pixdim and units, so they overlay it in any viewer.\n"
		"--quicklook draws what was counted: 12 axial slices through the "
		"lesion, the kept voxels outlined in red over IMAGE (a thresholded "
		"FLAIR or probability map is its own anatomy) or over --anatomy (for a "
		"mask, the scan it was drawn on), as `lesionvol quicklook` does; use "
		"that command with --out-mask for other planes or slice counts.",
	.min_args = 1,
	.max_args = 1,
	.groups = (const struct cli_option_group *const[]){
		&measure_group, &cli_group_segmentation, &cli_group_atlas, &cli_group_output,
		&cli_group_threads, &cli_group_general, NULL},
	.examples = (const char *const[]){
		"lesionvol measure sample_data/sub-01/ses-01/anat/sub-01_ses-01_label-lesion_mask.nii.gz",
		"lesionvol measure --format json --connectivity 6 --min-voxels 10 "
		"sample_data/sub-01/ses-01/anat/sub-01_ses-01_label-lesion_mask.nii.gz",
		"lesionvol measure --zthr 3 --fill-holes --min-volume 100 --out-mask lesion.nii.gz "
		"sample_data/sub-01/ses-01/anat/sub-01_ses-01_FLAIR.nii.gz",
		"lesionvol measure sample_data/sub-01/ses-01/anat/sub-01_ses-01_label-lesion_mask.nii.gz "
		"--anatomy sample_data/sub-01/ses-01/anat/sub-01_ses-01_FLAIR.nii.gz "
		"--quicklook sub-01_ses-01_lesion.png",
		NULL},
	.run = run_measure,
};
