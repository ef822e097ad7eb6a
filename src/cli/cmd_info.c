/* cmd_info.c: `lesionvol info`, a header summary of each image with value
 * statistics and warnings for suspicious headers. */
#include "cli.h"

#include <math.h>
#include <string.h>

#include "lesionvol/volume.h"

static const char *const info_fields[] = {
	"path", "format", "compressed", "datatype", "dims", "n_volumes",
	"voxel_size_mm", "spatial_units", "voxel_volume_mm3", "scl_slope",
	"scl_inter", "scaled", "orientation", "world_source", "qform_code",
	"sform_code", "volume", "min", "max", "mean", "sum", "nonzero_voxels",
	"nan_voxels", "inf_voxels", "warnings", NULL,
};

/* Said for an image without qform or sform: the worst spot-check error is a
 * confident wrong side, so "RAS" must never be shown for a guess. */
static const char orientation_unknown[] =
	"orientation unknown: qform_code and sform_code are both 0 (as in every "
	"Analyze 7.5 file), so the header does not say which side is the "
	"patient's left; world coordinates are voxel indices x pixdim";

static cJSON *describe(const struct lesion_volume *v, int64_t index,
		       const struct lesion_value_stats *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", v->path);
	cJSON_AddStringToObject(o, "format", lesion_format_name(v->format));
	cJSON_AddBoolToObject(o, "compressed", v->gzipped);
	const char *dt = lesion_dtype_name(v->raw_datatype);
	char dtbuf[64];
	if (!dt) {
		snprintf(dtbuf, sizeof(dtbuf), "unsupported: %s (code %d)",
			 lesion_datatype_label(v->raw_datatype), v->raw_datatype);
		dt = dtbuf;
	}
	cJSON_AddStringToObject(o, "datatype", dt);
	cJSON *dims = cJSON_CreateArray();
	for (int i = 1; i <= v->ndim; i++)
		cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)v->full_dim[i]));
	cJSON_AddItemToObject(o, "dims", dims);
	cJSON_AddNumberToObject(o, "n_volumes", (double)v->n_volumes);
	cli_json_add_vec3(o, "voxel_size_mm", v->geom.voxel_size_mm);
	cJSON_AddStringToObject(o, "spatial_units", v->geom.spatial_units);
	cli_json_add_number(o, "voxel_volume_mm3", v->geom.voxel_volume_mm3);
	cli_json_add_number(o, "scl_slope", v->scaled ? v->scl_slope : NAN);
	cli_json_add_number(o, "scl_inter", v->scaled ? v->scl_inter : NAN);
	cJSON_AddBoolToObject(o, "scaled", v->scaled);
	int known = lesion_geometry_orientation_known(&v->geom);
	cJSON_AddStringToObject(o, "orientation", known ? v->geom.orientation : "unknown");
	cJSON_AddStringToObject(o, "world_source", v->geom.world_source);
	cJSON *m = cJSON_CreateArray();
	for (int r = 0; r < 4; r++) {
		cJSON *row = cJSON_CreateArray();
		for (int c = 0; c < 4; c++)
			cJSON_AddItemToArray(row, cli_json_number(v->geom.vox_to_world[r][c]));
		cJSON_AddItemToArray(m, row);
	}
	cJSON_AddItemToObject(o, "vox_to_world", m);
	cJSON_AddNumberToObject(o, "qform_code", v->geom.qform_code);
	cJSON_AddNumberToObject(o, "sform_code", v->geom.sform_code);
	if (index >= 0)
		cJSON_AddNumberToObject(o, "volume", (double)index);
	else
		cJSON_AddStringToObject(o, "volume", "all");
	cli_json_add_number(o, "min", s ? s->min : NAN);
	cli_json_add_number(o, "max", s ? s->max : NAN);
	cli_json_add_number(o, "mean", s ? s->mean : NAN);
	cli_json_add_number(o, "sum", s ? s->sum : NAN);
	cli_json_add_number(o, "nonzero_voxels", s ? (double)s->n_nonzero : NAN);
	cli_json_add_number(o, "nan_voxels", s ? (double)s->n_nan : NAN);
	cli_json_add_number(o, "inf_voxels", s ? (double)s->n_inf : NAN);
	cJSON *w = cJSON_CreateArray();
	for (int i = 0; i < v->n_warnings; i++)
		cJSON_AddItemToArray(w, cJSON_CreateString(v->warnings[i]));
	if (!known)
		cJSON_AddItemToArray(w, cJSON_CreateString(orientation_unknown));
	cJSON_AddItemToObject(o, "warnings", w);
	return o;
}

static int run_info(const struct cli_command *cmd, struct cli_args *args)
{
	(void)cmd;
	enum cli_format fmt = cli_format_of(args);
	struct cli_output out;
	int worst = 0;
	cli_apply_threads(args);
	static const char *const outputs[] = {"output", NULL};
	int refused = cli_refuse_overwrite(args, outputs);
	if (refused)
		return refused;
	if (cli_output_open(&out, args))
		return LESION_ERR_INTERNAL;
	cJSON *all = cJSON_CreateArray();
	for (int i = 0; i < args->n_positional; i++) {
		const char *path = args->positional[i];
		struct lesion_error err;
		struct lesion_volume *v = NULL;
		enum lesion_status st = lesion_volume_open(path, LESION_OPEN_LENIENT, &v, &err);
		if (st) {
			cli_error(&err);
			worst = worst ? worst : (int)st;
			continue;
		}
		/* a 4D image without --volume: statistics over every volume */
		int64_t index = cli_given(args, "volume") ? cli_int(args, "volume")
			      : v->n_volumes > 1 ? -1 : 0;
		struct lesion_value_stats stats;
		int have_stats = 0;
		st = lesion_volume_check(v, &err);
		if (st == LESION_OK && v->bytes_per_voxel > 0)
			st = lesion_volume_stats_read(v, index, &stats, &err);
		else if (v->bytes_per_voxel > 0 && v->data_path &&
			 lesion_volume_stats_read(v, index, &stats, NULL) == LESION_OK)
			have_stats = 1; /* e.g. zero pixdim: values are still worth seeing */
		if (st == LESION_OK)
			have_stats = 1;
		cJSON *o = describe(v, index, have_stats ? &stats : NULL);
		if (fmt == CLI_FORMAT_TABLE) {
			if (i)
				fputc('\n', out.f);
			cli_write_record(out.f, fmt, o, info_fields);
		}
		cJSON_AddItemToArray(all, o);
		for (int k = 0; k < v->n_warnings; k++)
			cli_warning("'%s': %s", path, v->warnings[k]);
		if (!lesion_geometry_orientation_known(&v->geom))
			cli_warning("'%s': %s", path, orientation_unknown);
		if (st) {
			cli_error(&err);
			worst = worst ? worst : (int)st;
		}
		lesion_volume_free(v);
	}
	if (fmt == CLI_FORMAT_JSON)
		cli_write_json(out.f, args->n_positional == 1 && cJSON_GetArraySize(all) == 1
				       ? cJSON_GetArrayItem(all, 0) : all);
	else if (fmt != CLI_FORMAT_TABLE)
		cli_write_rows(out.f, fmt, info_fields, all, 1);
	cJSON_Delete(all);
	int wrc = cli_output_close(&out);
	return worst ? worst : wrc;
}

static const struct cli_option info_options[] = {
	{"volume", 0, CLI_INT, "N", "summarise the values of volume N (0-based) of a "
	 "4D image; without it, the values of every volume", NULL, 0, 1e12},
	{NULL},
};
static const struct cli_option_group info_group = {"Info", info_options};

const struct cli_command cmd_info = {
	.name = "info",
	.synopsis = "IMAGE... [options]",
	.summary = "header summary of each image: format, grid, scaling, orientation, values",
	.description =
		"Reads each image exactly as named (never a sibling with another "
		"extension) and prints its format, datatype, dimensions, voxel size and "
		"units, voxel volume, scaling, orientation, qform/sform codes, the range, "
		"mean and sum of its scaled values and the number of NaN voxels. "
		"Suspicious headers (qform and sform disagreeing, unknown units, "
		"vox_offset 0, an ignored scale factor, no orientation: qform_code = "
		"sform_code = 0, shown as orientation unknown) are flagged in the warnings "
		"field and on stderr. An image that other commands would refuse "
		"(unsupported datatype, missing .img, zero or NaN voxel size, unreadable "
		"voxels) still has what can be read printed, and the exit code is 1: "
		"`lesionvol info IMAGE` succeeds exactly when the image can be measured.",
	.min_args = 1,
	.max_args = -1,
	.groups = (const struct cli_option_group *const[]){
		&info_group, &cli_group_output, &cli_group_threads, &cli_group_general, NULL},
	.examples = (const char *const[]){
		"lesionvol info sample_data/sub-01/ses-01/anat/sub-01_ses-01_FLAIR.nii.gz",
		"lesionvol info --format json sample_data/sub-01/ses-01/anat/*.nii.gz",
		NULL},
	.run = run_info,
};
