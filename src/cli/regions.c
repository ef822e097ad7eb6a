/* regions.c: the --atlas options, loading the atlas once per run, and the
 * lesion load of each region as cJSON rows. */
#include "cli.h"
#include "regions.h"

#include <stdlib.h>

const struct cli_option_group cli_group_atlas = {
	"Atlas (lesion load per region)",
	(const struct cli_option[]){
		{"atlas", 0, CLI_STRING, "LABELS",
		 "label image on the image's grid (e.g. MRIcron's aal.nii.gz for images "
		 "on the ch2 grid); never resampled"},
		{"atlas-names", 0, CLI_STRING, "NAMES",
		 "names of the atlas labels: TSV (index, name; a header row is "
		 "optional) or text with \"index name\" per line (MRIcron .txt)"},
		{"all-regions", 0, CLI_FLAG, NULL,
		 "list every region, also those the lesion does not touch"},
		{NULL},
	},
};

const char *const cli_region_columns[] = {
	"label", "name", "region_voxels", "region_volume_mm3", "lesion_voxels",
	"lesion_volume_mm3", "lesion_fraction", NULL};
const char *const cli_region_columns_image[] = {
	"image", "label", "name", "region_voxels", "region_volume_mm3", "lesion_voxels",
	"lesion_volume_mm3", "lesion_fraction", NULL};

int cli_atlas_from_args(const struct cli_args *args, struct lesion_atlas **atlas)
{
	struct lesion_error err;
	const char *path = cli_string(args, "atlas");
	*atlas = NULL;
	if (!path) {
		if (cli_given(args, "atlas-names") || cli_flag(args, "all-regions"))
			return cli_usage_error(args->cmd, "--%s needs --atlas",
					       cli_given(args, "atlas-names") ? "atlas-names"
									      : "all-regions");
		return 0;
	}
	if (lesion_atlas_read(path, cli_string(args, "atlas-names"), atlas, &err)) {
		lesion_error_prefix(&err, "--atlas: ");
		return cli_error(&err);
	}
	return 0;
}

void cli_region_row_add(cJSON *o, const struct lesion_region *g,
			const struct lesion_region_load *load)
{
	cJSON_AddNumberToObject(o, "label", (double)g->label);
	cJSON_AddStringToObject(o, "name", g->name);
	cJSON_AddNumberToObject(o, "region_voxels", (double)g->voxels);
	cli_json_add_number(o, "region_volume_mm3", g->volume_mm3);
	cJSON_AddNumberToObject(o, "lesion_voxels", (double)load->lesion_voxels);
	cli_json_add_number(o, "lesion_volume_mm3", load->lesion_volume_mm3);
	cli_json_add_number(o, "lesion_fraction", load->fraction);
}

cJSON *cli_regions_json(const struct lesion_atlas *atlas, const struct lesion_volume *image,
			const uint8_t *mask, int all, int with_image, double *outside_mm3,
			struct lesion_error *err)
{
	int64_t outside = 0;
	struct lesion_region_load *loads = calloc((size_t)atlas->n_regions + 1, sizeof(*loads));
	if (!loads) {
		lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (lesion_atlas_measure(atlas, image, mask, loads, &outside, err)) {
		free(loads);
		return NULL;
	}
	cJSON *rows = cJSON_CreateArray();
	for (int64_t r = 0; r < atlas->n_regions; r++) {
		const struct lesion_region *g = &atlas->regions[r];
		if (!all && !loads[r].lesion_voxels)
			continue;
		cJSON *o = cJSON_CreateObject();
		if (with_image)
			cJSON_AddStringToObject(o, "image", image->path);
		cli_region_row_add(o, g, &loads[r]);
		cJSON_AddItemToArray(rows, o);
	}
	if (outside_mm3)
		*outside_mm3 = (double)outside * image->geom.voxel_volume_mm3;
	free(loads);
	return rows;
}

int cli_regions_add(cJSON *summary, const struct lesion_atlas *atlas,
		    const struct cli_args *args, const struct lesion_volume *image,
		    const uint8_t *mask)
{
	struct lesion_error err;
	double outside = 0.0;
	cJSON *rows = cli_regions_json(atlas, image, mask, cli_flag(args, "all-regions"), 0,
				       &outside, &err);
	if (!rows)
		return cli_error(&err);
	cli_json_add_number(summary, "outside_atlas_mm3", outside);
	cJSON_AddItemToObject(summary, "regions", rows);
	return 0;
}

void cli_regions_print(FILE *f, const cJSON *summary)
{
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(summary, "regions");
	if (!cJSON_IsArray(rows))
		return;
	if (!cJSON_GetArraySize(rows)) {
		fprintf(f, "\nregions: the lesion touches no atlas region\n");
		return;
	}
	fprintf(f, "\nregions (lesion load per atlas region):\n");
	cli_write_rows(f, CLI_FORMAT_TABLE, cli_region_columns, rows, 1);
}
