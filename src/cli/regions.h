/* regions.h: the --atlas options and lesion load tables shared by the
 * commands that report where a lesion is (regions, measure). */
#ifndef LESIONVOL_CLI_REGIONS_H
#define LESIONVOL_CLI_REGIONS_H

#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "cli.h"

#include "lesionvol/atlas.h"
#include "lesionvol/volume.h"

struct cli_args;
struct cli_option_group;

/* --atlas LABELS and --atlas-names NAMES, declared once. */
extern const struct cli_option_group cli_group_atlas;

/*
 * cli_atlas_from_args() - load --atlas (and --atlas-names) into *@atlas,
 * NULL when --atlas is not given. Returns 0, or the exit code after printing
 * the error (2 for --atlas-names without --atlas).
 */
int cli_atlas_from_args(const struct cli_args *args, struct lesion_atlas **atlas);

/*
 * cli_region_row_add() - add one region's row fields to @o: label, name,
 * region_voxels, region_volume_mm3, lesion_voxels, lesion_volume_mm3,
 * lesion_fraction (the load @load of region @g).
 */
void cli_region_row_add(cJSON *o, const struct lesion_region *g,
			const struct lesion_region_load *load);

/*
 * cli_regions_json() - the lesion load of @image's lesion @mask in every
 * region of @atlas as an array of rows (label, name, region_voxels,
 * region_volume_mm3, lesion_voxels, lesion_volume_mm3, lesion_fraction),
 * each starting with "image" when @with_image; only the regions the lesion
 * touches unless @all. *@outside_mm3 gets the lesion volume on the atlas's
 * background. Returns NULL with @err set when the grids differ.
 */
cJSON *cli_regions_json(const struct lesion_atlas *atlas, const struct lesion_volume *image,
			const uint8_t *mask, int all, int with_image, double *outside_mm3,
			struct lesion_error *err);

/*
 * cli_regions_add() - add "outside_atlas_mm3" and "regions" (the rows of
 * cli_regions_json(), --all-regions honoured) to @summary, for commands that
 * take --atlas. Returns 0, or the exit code after printing the error.
 */
int cli_regions_add(cJSON *summary, const struct lesion_atlas *atlas,
		    const struct cli_args *args, const struct lesion_volume *image,
		    const uint8_t *mask);

/* cli_regions_print() - the "regions" of @summary as a table section;
 * nothing when it has none. */
void cli_regions_print(FILE *f, const cJSON *summary);

/* The columns of cli_regions_json()'s rows, with or without "image". */
extern const char *const cli_region_columns[];
extern const char *const cli_region_columns_image[];

struct lesion_series;

/*
 * cli_change_regions_add() - for `change --atlas`: add "outside_atlas_mm3"
 * and "regions" (lesion load per region) to each object of @tps (the
 * timepoints, baseline first) and "baseline_timepoint", "timepoint" and
 * "regions" (the change of each region's load) to each object of @chs (in
 * @s->changes order). Regions listed: those lesioned at some timepoint, or
 * every one when @all.
 */
void cli_change_regions_add(cJSON *tps, cJSON *chs, const struct lesion_series *s,
			    const struct lesion_atlas *atlas, int all);

/*
 * cli_change_regions_write() - the region rows of cli_change_regions_add():
 * as two table sections (table format), or one row per timepoint (or change,
 * unless @timepoints) and region in TSV/CSV.
 */
void cli_change_regions_write(FILE *f, enum cli_format fmt, const cJSON *tps,
			      const cJSON *chs, int timepoints);

#endif
