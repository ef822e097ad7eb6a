/* cmd_regions.c: `lesionvol regions`, where a lesion is: its volume inside
 * each region of a label atlas and the fraction of each region it destroys. */
#include "cli.h"
#include "regions.h"

#include <stdlib.h>

#include "lesionvol/atlas.h"
#include "lesionvol/segment.h"
#include "lesionvol/volume.h"

static const char *const summary_fields[] = {
	"image", "lesion_voxels", "lesion_volume_mm3", "outside_atlas_mm3", "rule", NULL};

/* One image: its summary object with "regions", or NULL after an error. */
static cJSON *one_image(const char *path, int64_t index, const struct lesion_volume *brain,
			const struct lesion_rule *rule, const struct lesion_atlas *atlas,
			int all, int flat, struct lesion_error *err)
{
	struct lesion_volume *vol = NULL;
	struct lesion_measurement m = {0};
	struct lesion_segmentation seg = {.want_mask = 1};
	cJSON *o = NULL;
	double outside = 0.0;

	if (lesion_volume_read(path, index, &vol, err))
		return NULL;
	for (int i = 0; i < vol->n_warnings; i++)
		cli_warning("'%s': %s", path, vol->warnings[i]);
	if (lesion_measure(vol, brain, rule, &m, &seg, err))
		goto out;
	cJSON *rows = cli_regions_json(atlas, vol, seg.mask, all, flat, &outside, err);
	if (!rows)
		goto out;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "image", path);
	cJSON_AddNumberToObject(o, "lesion_voxels", (double)m.lesion_voxels);
	cli_json_add_number(o, "lesion_volume_mm3", m.lesion_volume_mm3);
	cli_json_add_number(o, "outside_atlas_mm3", outside);
	cJSON_AddStringToObject(o, "rule", m.rule);
	cJSON_AddItemToObject(o, "regions", rows);
out:
	lesion_segmentation_release(&seg);
	lesion_measurement_release(&m);
	lesion_volume_free(vol);
	return o;
}

static void print_table(FILE *f, const cJSON *o, int first)
{
	if (!first)
		fputc('\n', f);
	cli_write_record(f, CLI_FORMAT_TABLE, o, summary_fields);
	const cJSON *rows = cJSON_GetObjectItem(o, "regions");
	if (cJSON_GetArraySize(rows)) {
		fputc('\n', f);
		cli_write_rows(f, CLI_FORMAT_TABLE, cli_region_columns, rows, 1);
	}
}

static int run_regions(const struct cli_command *cmd, struct cli_args *args)
{
	struct lesion_rule rule;
	struct lesion_volume *brain = NULL;
	struct lesion_atlas *atlas = NULL;
	struct cli_output out = {0};
	enum cli_format fmt = cli_format_of(args);
	cJSON *all = NULL, *flat_rows = NULL;
	int rc, failed = 0, worst = 0;

	static const char *const outputs[] = {"output", NULL};
	if ((rc = cli_refuse_overwrite(args, outputs)))
		return rc;
	if ((rc = cli_rule_from_args(args, &rule)))
		return rc;
	if (!cli_given(args, "atlas"))
		return cli_usage_error(cmd, "missing --atlas LABELS");
	cli_apply_threads(args);
	int64_t index = cli_given(args, "volume") ? cli_int(args, "volume") : -1;
	if ((rc = cli_mask_from_args(args, &brain)) || (rc = cli_atlas_from_args(args, &atlas)))
		goto out;
	if (cli_output_open(&out, args)) {
		rc = LESION_ERR_INTERNAL;
		goto out;
	}
	int flat = fmt == CLI_FORMAT_TSV || fmt == CLI_FORMAT_CSV;
	all = cJSON_CreateArray();
	flat_rows = cJSON_CreateArray();
	for (int i = 0; i < args->n_positional; i++) {
		struct lesion_error err;
		cJSON *o = one_image(args->positional[i], index, brain, &rule, atlas,
				     cli_flag(args, "all-regions"), flat, &err);
		if (!o) {
			cli_error(&err);
			failed++;
			worst = worst ? worst : (int)err.status;
			continue;
		}
		if (fmt == CLI_FORMAT_TABLE)
			print_table(out.f, o, i == failed);
		if (flat) {
			cJSON *r;
			cJSON_ArrayForEach(r, cJSON_GetObjectItem(o, "regions"))
				cJSON_AddItemReferenceToArray(flat_rows, r);
		}
		cJSON_AddItemToArray(all, o);
	}
	if (flat)
		cli_write_rows(out.f, fmt, cli_region_columns_image, flat_rows, 1);
	else if (fmt == CLI_FORMAT_JSON && cJSON_GetArraySize(all))
		cli_write_json(out.f, args->n_positional == 1 ? cJSON_GetArrayItem(all, 0) : all);
	rc = cli_output_close(&out);
	if (!rc && failed)
		rc = failed < args->n_positional ? LESION_ERR_PARTIAL : worst;
out:
	cJSON_Delete(flat_rows);
	cJSON_Delete(all);
	lesion_atlas_free(atlas);
	lesion_volume_free(brain);
	return rc;
}

const struct cli_command cmd_regions = {
	.name = "regions",
	.synopsis = "IMAGE... --atlas LABELS [--atlas-names NAMES] [options]",
	.summary = "lesion load per atlas region: volume inside each region, fraction destroyed",
	.description =
		"Segments each IMAGE with the segmentation rule (as measure does) and "
		"reports, for every region of a label atlas the lesion touches (every "
		"region with --all-regions): the region's size, the lesion voxels and "
		"volume inside it and lesion_fraction, the fraction of the region's "
		"voxels that are lesioned (LESYMAP's lesion load, 0..1). "
		"outside_atlas_mm3 is the lesion volume on the atlas's background (label "
		"0).\n"
		"The atlas is a 3D image of whole numbers on the image's grid: same dims "
		"and voxel-to-world matrices within 1e-3 mm, else exit 1 (it is never "
		"resampled: resample it yourself, nearest neighbour, or pick an atlas on "
		"your template's grid; MRIcron's aal.nii.gz and brodmann.nii.gz are on "
		"the ch2 grid of LESYMAP's lesions, jhu189.nii.gz on SOOP's). Names come "
		"from --atlas-names: a TSV of index and name (a header row naming "
		"\"index\" and \"name\" columns is recognised, as in BIDS dseg.tsv) or "
		"MRIcron's .txt lists (\"index name [...]\" per line). Regions are "
		"every label in the image or the names file, by increasing label.\n"
		"Formats: table (per image a summary, then its regions); tsv/csv (one "
		"row per image and region, with an image column); json (per image the "
		"summary with \"regions\"; an array for several images). With several "
		"images, one that fails is reported and the others still are (exit 3).",
	.min_args = 1,
	.max_args = -1,
	.groups = (const struct cli_option_group *const[]){
		&cli_group_atlas, &cli_group_segmentation, &cli_group_output,
		&cli_group_threads, &cli_group_general, NULL},
	.examples = (const char *const[]){
		/* Brodmann area 4 (primary motor cortex) as the "lesion", in AAL terms */
		"lesionvol regions --thr 4 --uthr 4 /usr/share/mricron/templates/brodmann.nii.gz "
		"--atlas /usr/share/mricron/templates/aal.nii.gz "
		"--atlas-names /usr/share/mricron/templates/aal.nii.txt",
		NULL},
	.run = run_regions,
};
