/* change_regions.c: `change --atlas`, the lesion load of every atlas region
 * at each timepoint and its change, as cJSON nested in the timepoint and
 * change objects and as flat rows for tables. */
#include "cli.h"
#include "regions.h"

#include <math.h>
#include <stdlib.h>

#include "lesionvol/change.h"

/* The TSV/CSV columns. */
static const char *const timepoint_columns[] = {
	"timepoint", "image", "days", "label", "name", "region_voxels",
	"region_volume_mm3", "lesion_voxels", "lesion_volume_mm3", "lesion_fraction",
	NULL};
static const char *const change_columns[] = {
	"baseline_timepoint", "timepoint", "baseline_image", "image", "baseline_days",
	"days", "label", "name", "region_volume_mm3", "baseline_mm3", "volume_mm3",
	"delta_mm3", "percent_change", "rate_mm3_per_day", "baseline_fraction",
	"fraction", "delta_fraction", NULL};

/* The columns the table format shows: the images are in the tables above. */
static const char *const table_timepoint_columns[] = {
	"timepoint", "label", "name", "region_volume_mm3", "lesion_voxels",
	"lesion_volume_mm3", "lesion_fraction", NULL};
static const char *const table_change_columns[] = {
	"baseline_timepoint", "timepoint", "label", "name", "baseline_mm3", "volume_mm3",
	"delta_mm3", "percent_change", "baseline_fraction", "fraction", "delta_fraction",
	NULL};

/* Regions listed: those lesioned at some timepoint, or all of them. */
static int listed(const struct lesion_series *s, int64_t r, int all)
{
	if (all)
		return 1;
	for (int i = 0; i < s->n_timepoints; i++)
		if (s->region_loads[(size_t)i * (size_t)s->n_regions + (size_t)r].lesion_voxels)
			return 1;
	return 0;
}

static cJSON *timepoint_regions(const struct lesion_series *s,
				const struct lesion_atlas *atlas, int i, int all)
{
	const struct lesion_region_load *loads = s->region_loads + (size_t)i * (size_t)s->n_regions;
	cJSON *rows = cJSON_CreateArray();
	for (int64_t r = 0; r < s->n_regions; r++) {
		if (!listed(s, r, all))
			continue;
		const struct lesion_region *g = &atlas->regions[r];
		cJSON *o = cJSON_CreateObject();
		cli_region_row_add(o, g, &loads[r]);
		cJSON_AddItemToArray(rows, o);
	}
	return rows;
}

static cJSON *change_regions(const struct lesion_series *s, const struct lesion_atlas *atlas,
			     const struct lesion_change *c, int all)
{
	const struct lesion_region_load *from = s->region_loads +
						(size_t)c->from * (size_t)s->n_regions;
	const struct lesion_region_load *to = s->region_loads +
					      (size_t)c->to * (size_t)s->n_regions;
	cJSON *rows = cJSON_CreateArray();
	for (int64_t r = 0; r < s->n_regions; r++) {
		if (!listed(s, r, all))
			continue;
		struct lesion_region_change rc;
		lesion_region_change_compute(&from[r], &to[r], c->days, &rc);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "label", (double)atlas->regions[r].label);
		cJSON_AddStringToObject(o, "name", atlas->regions[r].name);
		cli_json_add_number(o, "region_volume_mm3", atlas->regions[r].volume_mm3);
		cli_json_add_number(o, "baseline_mm3", rc.baseline_mm3);
		cli_json_add_number(o, "volume_mm3", rc.volume_mm3);
		cli_json_add_number(o, "delta_mm3", rc.delta_mm3);
		cli_json_add_number(o, "percent_change", rc.percent_change);
		cli_json_add_number(o, "rate_mm3_per_day", rc.rate_mm3_per_day);
		cli_json_add_number(o, "baseline_fraction", rc.baseline_fraction);
		cli_json_add_number(o, "fraction", rc.fraction);
		cli_json_add_number(o, "delta_fraction", rc.delta_fraction);
		cJSON_AddItemToArray(rows, o);
	}
	return rows;
}

void cli_change_regions_add(cJSON *tps, cJSON *chs, const struct lesion_series *s,
			    const struct lesion_atlas *atlas, int all)
{
	int k = 0;
	cJSON *o;
	int *rank = calloc((size_t)s->n_timepoints, sizeof(*rank));
	if (!rank)
		return;
	for (int j = 0; j < s->n_timepoints; j++)
		rank[s->order[j]] = j;
	cJSON_ArrayForEach(o, tps) {
		int i = s->order[k++];
		cli_json_add_number(o, "outside_atlas_mm3",
				    (double)s->outside_atlas_voxels[i] *
				    s->measurements[i].voxel_volume_mm3);
		cJSON_AddItemToObject(o, "regions", timepoint_regions(s, atlas, i, all));
	}
	k = 0;
	cJSON_ArrayForEach(o, chs) {
		const struct lesion_change *c = &s->changes[k++];
		cJSON_AddNumberToObject(o, "baseline_timepoint", rank[c->from]);
		cJSON_AddNumberToObject(o, "timepoint", rank[c->to]);
		cJSON_AddItemToObject(o, "regions", change_regions(s, atlas, c, all));
	}
	free(rank);
}

/* One row per element of each @parents[i][@child] array: the parent's
 * fields named in @keep (NULL-terminated), then the child's. */
static cJSON *rows_flatten(const cJSON *parents, const char *const *keep,
			   const char *child)
{
	cJSON *rows = cJSON_CreateArray();
	const cJSON *p, *row;
	cJSON_ArrayForEach(p, parents) {
		cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(p, child)) {
			cJSON *o = cJSON_CreateObject();
			for (int c = 0; keep[c]; c++) {
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, keep[c]);
				if (v)
					cJSON_AddItemToObject(o, keep[c], cJSON_Duplicate(v, 1));
			}
			const cJSON *f;
			cJSON_ArrayForEach(f, row)
				cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, 1));
			cJSON_AddItemToArray(rows, o);
		}
	}
	return rows;
}

void cli_change_regions_write(FILE *f, enum cli_format fmt, const cJSON *tps,
			      const cJSON *chs, int timepoints)
{
	static const char *const tp_keep[] = {"timepoint", "image", "days", NULL};
	static const char *const ch_keep[] = {"baseline_timepoint", "timepoint",
					      "baseline_image", "image", "baseline_days",
					      "days", NULL};
	cJSON *tp_rows = rows_flatten(tps, tp_keep, "regions");
	cJSON *ch_rows = rows_flatten(chs, ch_keep, "regions");
	if (fmt == CLI_FORMAT_TABLE) {
		fprintf(f, "\nRegions (lesion load per atlas region and timepoint):\n");
		if (cJSON_GetArraySize(tp_rows))
			cli_write_rows(f, fmt, table_timepoint_columns, tp_rows, 1);
		else
			fprintf(f, "the lesion touches no atlas region\n");
		if (cJSON_GetArraySize(ch_rows)) {
			fprintf(f, "\nRegion changes:\n");
			cli_write_rows(f, fmt, table_change_columns, ch_rows, 1);
		}
	} else if (timepoints) {
		cli_write_rows(f, fmt, timepoint_columns, tp_rows, 1);
	} else {
		cli_write_rows(f, fmt, change_columns, ch_rows, 1);
	}
	cJSON_Delete(tp_rows);
	cJSON_Delete(ch_rows);
}
