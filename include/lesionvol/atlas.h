/* lesionvol/atlas.h: lesion load per region of a label atlas (which regions a
 * lesion hits, and how much of each). */
#ifndef LESIONVOL_ATLAS_H
#define LESIONVOL_ATLAS_H

#include <stdint.h>

#include "lesionvol/status.h"
#include "lesionvol/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * struct lesion_region - one label of an atlas.
 *
 * @label:      the label value (never 0: 0 is background)
 * @name:       its name from the names file, "" when it has none
 * @voxels:     voxels of the atlas holding @label (0 for a label that is
 *              only named)
 * @volume_mm3: @voxels x the atlas's voxel volume
 */
struct lesion_region {
	int64_t label;
	char *name;
	int64_t voxels;
	double volume_mm3;
};

/*
 * struct lesion_atlas - a label image and its regions.
 *
 * @regions:   every non-zero label found in the image or named in the names
 *             file, by increasing label
 * @region_of: per voxel (file order), the index of its region in @regions,
 *             -1 for background
 * @names_path: the names file it was read with, NULL without one
 */
struct lesion_atlas {
	char *path;
	char *names_path;
	struct lesion_geometry geom;
	int64_t n_regions;
	struct lesion_region *regions;
	int32_t *region_of;
};

/*
 * lesion_atlas_read() - read the 3D label image @path (any scalar datatype;
 * scaled values must be whole numbers, NaN counts as background) and, when
 * @names_path is not NULL, the names of its labels.
 *
 * Names files (one label a line; empty lines and lines starting with '#' are
 * skipped): tab-separated "index<TAB>name[<TAB>...]" (a first row that does
 * not start with a number is a header; its columns "index" and "name" are
 * used, as in a BIDS dseg.tsv), or whitespace-separated "index name [...]"
 * as MRIcron's .txt label lists and FreeSurfer's colour tables. Label 0 is
 * background whatever its name.
 *
 * On success *@out is a new atlas; free it with lesion_atlas_free().
 * Returns LESION_OK, LESION_ERR_INPUT (unreadable, 4D, non-integer value,
 * malformed names file, a label named twice) or LESION_ERR_INTERNAL.
 * Thread safe.
 */
enum lesion_status lesion_atlas_read(const char *path, const char *names_path,
				     struct lesion_atlas **out,
				     struct lesion_error *err);

/* lesion_atlas_free() - free @atlas and what it owns; NULL is a no-op. */
void lesion_atlas_free(struct lesion_atlas *atlas);

/*
 * struct lesion_region_load - the lesion inside one region (LESYMAP's
 * lesion load: the fraction of the region's voxels that are lesioned).
 *
 * @lesion_voxels:     lesion voxels inside the region
 * @lesion_volume_mm3: @lesion_voxels x the voxel volume
 * @fraction:          @lesion_voxels / region voxels, 0..1; NaN when the
 *                     region has no voxel
 */
struct lesion_region_load {
	int64_t lesion_voxels;
	double lesion_volume_mm3;
	double fraction;
};

/*
 * lesion_atlas_measure() - the lesion load of every region of @atlas for
 * the lesion @mask (non-zero bytes are lesion; @image's n_voxels bytes in
 * file order, as lesion_measure() gives it) of @image.
 *
 * @loads must hold @atlas->n_regions entries, filled in region order.
 * *@outside_voxels (may be NULL) receives the lesion voxels on background.
 * The atlas must be on @image's grid (same dims, voxel-to-world matrices
 * equal within 1e-3 mm), else LESION_ERR_INPUT naming both files: atlases
 * are never resampled here. Thread safe.
 */
enum lesion_status lesion_atlas_measure(const struct lesion_atlas *atlas,
					const struct lesion_volume *image,
					const uint8_t *mask,
					struct lesion_region_load *loads,
					int64_t *outside_voxels,
					struct lesion_error *err);

/*
 * struct lesion_region_change - the lesion load of one region at a later
 * timepoint against a reference one (the fields of struct lesion_change,
 * restricted to the region). n/a values hold NaN.
 *
 * @baseline_mm3:      lesion volume in the region at the reference timepoint
 * @volume_mm3:        lesion volume in the region at the later timepoint
 * @delta_mm3:         @volume_mm3 - @baseline_mm3
 * @percent_change:    100 x @delta_mm3 / @baseline_mm3; NaN when @baseline_mm3 is 0
 * @rate_mm3_per_day:  @delta_mm3 / days between them; NaN when unknown or 0
 * @baseline_fraction: fraction of the region lesioned at the reference
 * @fraction:          fraction lesioned at the later timepoint
 * @delta_fraction:    @fraction - @baseline_fraction
 */
struct lesion_region_change {
	double baseline_mm3;
	double volume_mm3;
	double delta_mm3;
	double percent_change;
	double rate_mm3_per_day;
	double baseline_fraction;
	double fraction;
	double delta_fraction;
};

/*
 * lesion_region_change_compute() - the change of one region's lesion load
 * from @from (reference) to @to (later); @days is the time between them
 * (NaN when unknown). Thread safe.
 */
void lesion_region_change_compute(const struct lesion_region_load *from,
				  const struct lesion_region_load *to, double days,
				  struct lesion_region_change *out);

#ifdef __cplusplus
}
#endif
#endif
