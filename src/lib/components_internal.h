/* components_internal.h: labelling rows as they arrive in file order, for
 * the sweep of lesion_measure_load() (not installed). */
#ifndef LESIONVOL_COMPONENTS_INTERNAL_H
#define LESIONVOL_COMPONENTS_INTERNAL_H

#include <stdint.h>

#include "lesionvol/components.h"

/*
 * struct lesion_row_labeller - lesion_components_label() fed one row at a
 * time, in file order, by one thread at a time: each row's runs are found
 * and united with the earlier neighbour rows at once, into the arrays the
 * result keeps, so the mask is never held and nothing is joined or copied
 * at the end. The result is exactly lesion_components_label()'s.
 */
struct lesion_row_labeller;

/*
 * lesion_row_labeller_alloc() - a labeller of a binary image of @dim under
 * @connectivity (6, 18 or 26); @expected_runs sizes its first arrays (they
 * grow as needed). Free with lesion_row_labeller_free() unless finished.
 * Returns LESION_OK, LESION_ERR_USAGE (bad connectivity or dims) or
 * LESION_ERR_INTERNAL (out of memory).
 */
enum lesion_status lesion_row_labeller_alloc(struct lesion_row_labeller **L,
					     const int64_t dim[3], int connectivity,
					     int64_t expected_runs, struct lesion_error *err);

/*
 * lesion_row_labeller_add_row() - the next row (nx bytes, non-zero =
 * foreground). Returns its number of runs and points *@runs at them (valid
 * until the next call), or -1 when out of memory.
 */
int64_t lesion_row_labeller_add_row(struct lesion_row_labeller *L, const uint8_t *row,
				    const struct lesion_run **runs);

/*
 * lesion_row_labeller_add_empty_rows() - the next @n rows, known to have no
 * foreground voxel: lesion_row_labeller_add_row() of zero rows, without
 * looking at them.
 */
void lesion_row_labeller_add_empty_rows(struct lesion_row_labeller *L, int64_t n);

/*
 * lesion_row_labeller_finish() - the components, once every row has been
 * added, into @out (release with lesion_components_release()); frees @L.
 * Returns LESION_OK or LESION_ERR_INTERNAL (out of memory, or rows missing).
 */
enum lesion_status lesion_row_labeller_finish(struct lesion_row_labeller *L,
					      struct lesion_components *out,
					      struct lesion_error *err);

/* lesion_row_labeller_free() - free @L without finishing; NULL is a no-op. */
void lesion_row_labeller_free(struct lesion_row_labeller *L);

#endif
