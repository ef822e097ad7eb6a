/* cmd_change.c: `lesionvol change`, one subject's lesion over time: volumes,
 * change, overlap and lesion-wise tracking against the baseline. */
#include "cli.h"
#include "regions.h"
#include "quicklook_opt.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lesionvol/change.h"
#include "lesionvol/number.h"

static const char *const timepoint_columns[] = {
	"timepoint", "image", "days", "lesion_voxels", "lesion_volume_mm3",
	"lesion_volume_ml", "n_components", "largest_component_mm3", "nan_voxels",
	NULL,
};

static const char *const change_columns[] = {
	"baseline_image", "image", "baseline_days", "days", "baseline_mm3",
	"volume_mm3", "delta_mm3", "percent_change", "log_ratio",
	"rate_mm3_per_day", "dice", "persistent_mm3", "resolved_mm3", "new_mm3",
	"n_new", "n_resolved", "n_persistent", "n_merged", "n_split", NULL,
};

/* "1,7,90" into @n doubles; returns 0 or an exit code. */
static int parse_days(const struct cli_command *cmd, const char *text, int n,
		      double *days)
{
	const char *p = text;
	for (int i = 0; i < n; i++) {
		char *end;
		if (lesion_double_parse(p, &end, &days[i]) ||
		    (*end != ',' && *end != '\0') || (*end == '\0' && i != n - 1) ||
		    (*end == ',' && i == n - 1))
			return cli_usage_error(cmd, "--days needs %d comma-separated numbers "
					       "(one per image), not '%s'", n, text);
		p = end + 1;
	}
	return 0;
}

static cJSON *count_or_null(int64_t v)
{
	return v >= 0 ? cJSON_CreateNumber((double)v) : cJSON_CreateNull();
}

static cJSON *change_json(const struct lesion_change *c, char **paths,
			  const double *days)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "baseline_image", paths[c->from]);
	cJSON_AddStringToObject(o, "image", paths[c->to]);
	cli_json_add_number(o, "baseline_days", days ? days[c->from] : NAN);
	cli_json_add_number(o, "days", days ? days[c->to] : NAN);
	cli_json_add_number(o, "baseline_mm3", c->baseline_mm3);
	cli_json_add_number(o, "volume_mm3", c->volume_mm3);
	cli_json_add_number(o, "delta_mm3", c->delta_mm3);
	cli_json_add_number(o, "percent_change", c->percent_change);
	cli_json_add_number(o, "log_ratio", c->log_ratio);
	cli_json_add_number(o, "rate_mm3_per_day", c->rate_mm3_per_day);
	cJSON_AddBoolToObject(o, "same_grid", c->same_grid);
	cli_json_add_number(o, "dice", c->dice);
	cli_json_add_number(o, "persistent_mm3", c->persistent_mm3);
	cli_json_add_number(o, "resolved_mm3", c->resolved_mm3);
	cli_json_add_number(o, "new_mm3", c->new_mm3);
	cJSON_AddItemToObject(o, "n_new", count_or_null(c->n_new));
	cJSON_AddItemToObject(o, "n_resolved", count_or_null(c->n_resolved));
	cJSON_AddItemToObject(o, "n_persistent", count_or_null(c->n_persistent));
	cJSON_AddItemToObject(o, "n_merged", count_or_null(c->n_merged));
	cJSON_AddItemToObject(o, "n_split", count_or_null(c->n_split));
	return o;
}

static cJSON *timepoint_json(const struct lesion_measurement *m, int k,
			     const char *path, double days)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "timepoint", k);
	cJSON_AddStringToObject(o, "image", path);
	cli_json_add_number(o, "days", days);
	cJSON_AddNumberToObject(o, "lesion_voxels", (double)m->lesion_voxels);
	cli_json_add_number(o, "lesion_volume_mm3", m->lesion_volume_mm3);
	cli_json_add_number(o, "lesion_volume_ml", m->lesion_volume_ml);
	cJSON_AddNumberToObject(o, "n_components", (double)m->n_components);
	cli_json_add_number(o, "largest_component_mm3", m->largest_component_mm3);
	cJSON_AddNumberToObject(o, "nan_voxels", (double)m->nan_voxels);
	cli_json_add_number(o, "voxel_volume_mm3", m->voxel_volume_mm3);
	if (isfinite(m->soft_volume_mm3))
		cli_json_add_number(o, "soft_volume_mm3", m->soft_volume_mm3);
	return o;
}

/* --quicklook: the change map over the last timepoint (or --anatomy). */
static int draw(const struct cli_args *args, const struct lesion_series *s,
		int64_t index)
{
	struct lesion_error err;
	struct lesion_volume *last = NULL;
	const char *path = args->positional[s->order[s->n_timepoints - 1]];
	enum lesion_status st = s->map ? LESION_OK
		: lesion_error_set(&err, LESION_ERR_INPUT, "cannot draw the quicklook: "
				   "'%s' and '%s' are on different grids (co-register them "
				   "first)", args->positional[s->order[0]], path);
	/* only the grid when the picture is drawn over --anatomy */
	if (!st)
		st = cli_given(args, "anatomy") ? lesion_volume_open(path, 0, &last, &err)
		     : lesion_volume_read(path, index, &last, &err);
	if (!st)
		st = cli_quicklook_write(args, last, s->map, s->map_is_change, &err);
	lesion_volume_free(last);
	return st ? cli_error(&err) : 0;
}

static int run_change(const struct cli_command *cmd, struct cli_args *args)
{
	struct lesion_series_options opt;
	struct lesion_series series;
	struct lesion_error err;
	struct cli_output out;
	struct lesion_atlas *atlas = NULL;
	int n = args->n_positional, rc = 0;
	double *days = NULL;

	memset(&opt, 0, sizeof(opt));
	rc = cli_rule_from_args(args, &opt.rule);
	if (rc || (rc = cli_quicklook_check(args)))
		return rc;
	if (cli_given(args, "days")) {
		days = malloc(sizeof(double) * (size_t)n);
		if (!days)
			return LESION_ERR_INTERNAL;
		rc = parse_days(cmd, cli_string(args, "days"), n, days);
		if (rc)
			goto out;
	}
	const char *map = cli_string(args, "out-change");
	static const char *const outputs[] = {"output", "out-change", "quicklook", NULL};
	if ((rc = cli_refuse_overwrite(args, outputs)))
		goto out;
	if ((rc = cli_atlas_from_args(args, &atlas)))
		goto out;
	cli_apply_threads(args);
	opt.atlas = atlas;
	opt.mask_path = cli_string(args, "mask");
	opt.volume_index = cli_given(args, "volume") ? cli_int(args, "volume") : -1;
	opt.consecutive = cli_flag(args, "consecutive");
	opt.days = days;
	opt.change_map_path = map;
	opt.keep_map = cli_given(args, "quicklook");
	enum lesion_status st = lesion_series_run((const char *const *)args->positional,
						  n, &opt, &series, &err);
	if (st) {
		rc = cli_error(&err);
		goto out;
	}
	for (int i = 0; i < series.n_warnings; i++)
		cli_warning("%s", series.warnings[i]);
	if (opt.keep_map && (rc = draw(args, &series, opt.volume_index))) {
		lesion_series_release(&series);
		goto out;
	}

	cJSON *tps = cJSON_CreateArray(), *chs = cJSON_CreateArray();
	for (int k = 0; k < n; k++) {
		int i = series.order[k];
		cJSON_AddItemToArray(tps, timepoint_json(&series.measurements[i], k,
			args->positional[i], days ? days[i] : NAN));
	}
	for (int c = 0; c < series.n_changes; c++)
		cJSON_AddItemToArray(chs, change_json(&series.changes[c],
						      args->positional, days));
	if (atlas)
		cli_change_regions_add(tps, chs, &series, atlas, cli_flag(args, "all-regions"));
	enum cli_format fmt = cli_format_of(args);
	if (cli_output_open(&out, args) == 0) {
		if (fmt == CLI_FORMAT_JSON) {
			cJSON *root = cJSON_CreateObject();
			cJSON_AddStringToObject(root, "rule", series.measurements[0].rule);
			cJSON_AddItemReferenceToObject(root, "timepoints", tps);
			cJSON_AddItemReferenceToObject(root, "changes", chs);
			cli_write_json(out.f, root);
			cJSON_Delete(root);
		} else if (fmt == CLI_FORMAT_TABLE) {
			fprintf(out.f, "Rule: %s\n\nTimepoints (baseline first):\n",
				series.measurements[0].rule);
			cli_write_rows(out.f, fmt, timepoint_columns, tps, 1);
			fprintf(out.f, "\nChanges:\n");
			cli_write_rows(out.f, fmt, change_columns, chs, 1);
			if (atlas)
				cli_change_regions_write(out.f, fmt, tps, chs, 0);
		} else if (atlas) {
			cli_change_regions_write(out.f, fmt, tps, chs,
						 cli_flag(args, "timepoints"));
		} else {
			cli_write_rows(out.f, fmt, cli_flag(args, "timepoints")
				       ? timepoint_columns : change_columns,
				       cli_flag(args, "timepoints") ? tps : chs, 1);
		}
		rc = cli_output_close(&out);
	} else {
		rc = LESION_ERR_INTERNAL;
	}
	cJSON_Delete(tps);
	cJSON_Delete(chs);
	lesion_series_release(&series);
out:
	lesion_atlas_free(atlas);
	free(days);
	return rc;
}

static const struct cli_option change_options[] = {
	{"days", 'd', CLI_STRING, "D0,D1,...",
	 "days of each image since an event (e.g. stroke onset); timepoints are "
	 "ordered by days and rates are per day"},
	{"consecutive", 0, CLI_FLAG, NULL,
	 "also compare each timepoint with the one before it"},
	{"out-change", 0, CLI_STRING, "FILE",
	 "write the baseline-vs-last change map (0 background, 1 resolved, "
	 "2 persistent, 3 new) with the inputs' geometry"},
	{"quicklook", 0, CLI_STRING, "OUT.png",
	 "write a PNG slice mosaic of the baseline-vs-last change map (resolved "
	 "blue, persistent yellow, new red) over the last timepoint"},
	{"anatomy", 0, CLI_STRING, "IMAGE",
	 "draw the quicklook over this image (e.g. the last FLAIR; same grid) "
	 "instead of the last timepoint"},
	{"timepoints", 0, CLI_FLAG, NULL,
	 "with --format tsv/csv: print the timepoint rows instead of the changes"},
	{NULL},
};
static const struct cli_option_group change_group = {"Change", change_options};

const struct cli_command cmd_change = {
	.name = "change",
	.synopsis = "IMG_T0 IMG_T1 [IMG_T2...] [options]",
	.summary = "one subject over time: volumes, change, overlap, lesion-wise tracking",
	.description =
		"Segments every image with the same rule and compares each later "
		"timepoint with the baseline (the first, or the earliest by --days): "
		"volume change, percent change, log ratio and rate per day; on the "
		"same grid also Dice, persistent/resolved/new volume and lesion-wise "
		"counts from component overlap (new: touches no baseline lesion; "
		"resolved: baseline lesion touched by none; merged: touches two or "
		"more baseline lesions; split: baseline lesion touched by two or more). "
		"Images on different grids still get volumes; overlap fields are n/a "
		"with a warning (co-register them first). Dice is n/a when both "
		"masks are empty.\n"
		"Formats: table (both tables), json (both), tsv/csv (the change rows; "
		"--timepoints for the timepoint rows).\n"
		"--atlas LABELS (on the images' grid) adds the lesion load of every "
		"atlas region lesioned at some timepoint (--all-regions: every region): "
		"lesion_volume_mm3 and lesion_fraction (lesion voxels / region voxels) "
		"per timepoint, and per change baseline_mm3, volume_mm3, delta_mm3, "
		"percent_change, rate_mm3_per_day, baseline_fraction, fraction and "
		"delta_fraction of each region. With --atlas, tsv/csv print one row "
		"per change and region (--timepoints: per timepoint and region); json "
		"nests them as \"regions\" in each timepoint and change.\n"
		"--quicklook draws 12 axial slices through the lesions of both "
		"timepoints: resolved voxels (baseline only) blue, persistent yellow, "
		"new (last only) red, outlined over the last timepoint's image or "
		"--anatomy. The baseline and the last timepoint must be on the same "
		"grid (exit 1 otherwise).",
	.min_args = 2,
	.max_args = -1,
	.groups = (const struct cli_option_group *const[]){
		&change_group, &cli_group_segmentation, &cli_group_atlas, &cli_group_output,
		&cli_group_threads, &cli_group_general, NULL},
	.examples = (const char *const[]){
		"lesionvol change sample_data/sub-01/ses-01/anat/sub-01_ses-01_label-lesion_mask.nii.gz "
		"sample_data/sub-01/ses-02/anat/sub-01_ses-02_label-lesion_mask.nii.gz "
		"sample_data/sub-01/ses-03/anat/sub-01_ses-03_label-lesion_mask.nii.gz --days 1,7,90",
		"lesionvol change sample_data/sub-01/ses-01/anat/sub-01_ses-01_label-lesion_mask.nii.gz "
		"sample_data/sub-01/ses-03/anat/sub-01_ses-03_label-lesion_mask.nii.gz "
		"--anatomy sample_data/sub-01/ses-03/anat/sub-01_ses-03_FLAIR.nii.gz "
		"--quicklook sub-01_change.png",
		NULL},
	.run = run_change,
};
