/* regions.h: the --atlas options and lesion load tables shared by the
 * commands that report where a lesion is (regions, measure). */
#ifndef LESIONVOL_CLI_REGIONS_H
#define LESIONVOL_CLI_REGIONS_H

#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

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

#endif
