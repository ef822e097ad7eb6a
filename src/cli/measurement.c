/* measurement.c: a lesion_measurement as cJSON (SPEC.md's field names), shared
 * by the commands that report measurements. */
#include "cli.h"

#include <math.h>
#include <stdio.h>

#include "lesionvol/segment.h"

static void add_ivec3(cJSON *o, const char *key, const int64_t v[3])
{
	const double d[3] = {(double)v[0], (double)v[1], (double)v[2]};
	cli_json_add_vec3(o, key, d);
}

cJSON *cli_measurement_json(const char *image, const struct lesion_measurement *m,
			    const struct lesion_rule *rule)
{
	cJSON *o = cJSON_CreateObject();
	if (image)
		cJSON_AddStringToObject(o, "image", image);
	cli_json_add_number(o, "voxel_volume_mm3", m->voxel_volume_mm3);
	cJSON_AddStringToObject(o, "voxel_volume_source", m->voxel_volume_source);
	cJSON_AddNumberToObject(o, "lesion_voxels", (double)m->lesion_voxels);
	cli_json_add_number(o, "lesion_volume_mm3", m->lesion_volume_mm3);
	cli_json_add_number(o, "lesion_volume_ml", m->lesion_volume_ml);
	cJSON_AddNumberToObject(o, "n_components", (double)m->n_components);
	cli_json_add_number(o, "largest_component_mm3", m->largest_component_mm3);
	cJSON_AddNumberToObject(o, "nan_voxels", (double)m->nan_voxels);
	if (rule->soft)
		cli_json_add_number(o, "soft_volume_mm3", m->soft_volume_mm3);
	if (rule->has_zthr || rule->has_uzthr) {
		cli_json_add_number(o, "reference_median", m->ref_median);
		cli_json_add_number(o, "reference_mad", m->ref_mad);
		cli_json_add_number(o, "lower_threshold", m->lower);
		cli_json_add_number(o, "upper_threshold", m->upper);
	}
	cJSON_AddStringToObject(o, "rule", m->rule);
	return o;
}

cJSON *cli_component_json(const char *image, const struct lesion_component *c,
			  int soft, int flat)
{
	cJSON *o = cJSON_CreateObject();
	if (image)
		cJSON_AddStringToObject(o, "image", image);
	cJSON_AddNumberToObject(o, "label", (double)c->label);
	cJSON_AddNumberToObject(o, "voxels", (double)c->voxels);
	cli_json_add_number(o, "volume_mm3", c->volume_mm3);
	if (flat) {
		/* one column per coordinate, for tables that pipelines read */
		static const char *const ijk = "ijk", *const xyz = "xyz";
		char key[32];
		for (int d = 0; d < 3; d++) {
			snprintf(key, sizeof(key), "centroid_vox_%c", ijk[d]);
			cli_json_add_number(o, key, c->centroid_vox[d]);
		}
		for (int d = 0; d < 3; d++) {
			snprintf(key, sizeof(key), "centroid_mm_%c", xyz[d]);
			cli_json_add_number(o, key, c->centroid_mm[d]);
		}
		for (int d = 0; d < 3; d++) {
			snprintf(key, sizeof(key), "bbox_min_%c", ijk[d]);
			cJSON_AddNumberToObject(o, key, (double)c->bbox_min[d]);
		}
		for (int d = 0; d < 3; d++) {
			snprintf(key, sizeof(key), "bbox_max_%c", ijk[d]);
			cJSON_AddNumberToObject(o, key, (double)c->bbox_max[d]);
		}
	} else {
		cli_json_add_vec3(o, "centroid_vox", c->centroid_vox);
		cli_json_add_vec3(o, "centroid_mm", c->centroid_mm);
		add_ivec3(o, "bbox_min", c->bbox_min);
		add_ivec3(o, "bbox_max", c->bbox_max);
	}
	cli_json_add_number(o, "mean", c->mean);
	cli_json_add_number(o, "max", c->max);
	if (flat) {
		static const char *const ijk = "ijk";
		char key[32];
		for (int d = 0; d < 3; d++) {
			snprintf(key, sizeof(key), "peak_vox_%c", ijk[d]);
			cJSON_AddNumberToObject(o, key, (double)c->peak_vox[d]);
		}
	} else {
		add_ivec3(o, "peak_vox", c->peak_vox);
	}
	if (soft)
		cli_json_add_number(o, "soft_mm3", c->soft_mm3);
	return o;
}
