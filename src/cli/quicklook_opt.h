/* quicklook_opt.h: the --quicklook OUT.png picture of `measure` and
 * `change`, drawn from the map they have just computed. */
#ifndef LESIONVOL_CLI_QUICKLOOK_OPT_H
#define LESIONVOL_CLI_QUICKLOOK_OPT_H

#include <stdint.h>

#include "cli.h"
#include "lesionvol/volume.h"

/*
 * cli_quicklook_check() - the exit code of a usage error when --anatomy is
 * given without --quicklook, else 0.
 */
int cli_quicklook_check(const struct cli_args *args);

/*
 * cli_quicklook_write() - write the PNG named by --quicklook (atomically):
 * @map, @grid->geom.n_voxels bytes on @grid's grid (a 0/1 lesion mask, or
 * a change map when @is_change), drawn over the --anatomy image when given
 * (it must be 3D and on @grid's grid), else over @grid, which must then be
 * loaded. Header warnings of the anatomy go to stderr. Returns LESION_OK or
 * the status of the failure, described in @err.
 */
enum lesion_status cli_quicklook_write(const struct cli_args *args,
				       const struct lesion_volume *grid,
				       const uint8_t *map, int is_change,
				       struct lesion_error *err);

#endif
