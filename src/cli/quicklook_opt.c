/* quicklook_opt.c: the --quicklook OUT.png picture of `measure` and
 * `change`: the segmentation or change map just computed, drawn over the
 * image (or --anatomy) without writing or re-reading the map. */
#include "quicklook_opt.h"

#include "lesionvol/quicklook.h"

int cli_quicklook_check(const struct cli_args *args)
{
	if (cli_given(args, "anatomy") && !cli_given(args, "quicklook"))
		return cli_usage_error(args->cmd, "--anatomy is the background of "
				       "--quicklook, which is not given");
	return 0;
}

enum lesion_status cli_quicklook_write(const struct cli_args *args,
				       const struct lesion_volume *grid,
				       const uint8_t *map, int is_change,
				       struct lesion_error *err)
{
	const char *png = cli_string(args, "quicklook");
	const char *anatomy_path = cli_string(args, "anatomy");
	struct lesion_volume *anatomy = NULL;
	struct lesion_quicklook *ql = NULL;
	struct lesion_quicklook_options opts;
	enum lesion_status st;

	lesion_quicklook_options_init(&opts);
	if (anatomy_path) {
		if ((st = lesion_volume_read(anatomy_path, -1, &anatomy, err)))
			goto out;
		for (int i = 0; i < anatomy->n_warnings; i++)
			cli_warning("'%s': %s", anatomy_path, anatomy->warnings[i]);
		if (!lesion_geometry_same_grid(&anatomy->geom, &grid->geom, 1e-3)) {
			const int64_t *a = anatomy->geom.dim, *b = grid->geom.dim;
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"--anatomy '%s' is not on the grid of '%s' (%lldx%lldx%lld vs "
				"%lldx%lldx%lld voxels, voxel-to-world matrices equal within "
				"0.001 mm needed): resample it onto the image first",
				anatomy_path, grid->path, (long long)a[0], (long long)a[1],
				(long long)a[2], (long long)b[0], (long long)b[1], (long long)b[2]);
			goto out;
		}
	}
	st = lesion_quicklook_render_map(anatomy ? anatomy : grid, map,
					 is_change ? LESION_OVERLAY_CHANGE : LESION_OVERLAY_MASK,
					 &opts, &ql, err);
	if (!st)
		st = lesion_png_write(png, ql->rgb, ql->width, ql->height, err);
out:
	lesion_quicklook_free(ql);
	lesion_volume_free(anatomy);
	return st;
}
