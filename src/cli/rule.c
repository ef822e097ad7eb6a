/* rule.c: the shared segmentation options (cli_group_segmentation) turned into
 * a struct lesion_rule, and the --mask volume loaded, for every command. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "lesionvol/segment.h"
#include "lesionvol/volume.h"

int cli_rule_from_args(const struct cli_args *args, struct lesion_rule *rule)
{
	struct lesion_error err;
	lesion_rule_init(rule);
	if ((rule->has_thr = cli_given(args, "thr")))
		rule->thr = cli_double(args, "thr");
	if ((rule->has_uthr = cli_given(args, "uthr")))
		rule->uthr = cli_double(args, "uthr");
	if ((rule->has_zthr = cli_given(args, "zthr")))
		rule->zthr = cli_double(args, "zthr");
	if ((rule->has_uzthr = cli_given(args, "uzthr")))
		rule->uzthr = cli_double(args, "uzthr");
	rule->fill_holes = cli_flag(args, "fill-holes");
	rule->soft = cli_flag(args, "soft");
	const char *conn = cli_string(args, "connectivity");
	rule->connectivity = conn ? atoi(conn) : 26;
	rule->min_voxels = cli_int(args, "min-voxels");
	rule->min_volume_mm3 = cli_given(args, "min-volume") ? cli_double(args, "min-volume") : 0.0;
	if (lesion_rule_check(rule, &err))
		return cli_usage_error(args->cmd, "%s", err.message);
	return 0;
}

int cli_mask_from_args(const struct cli_args *args, struct lesion_volume **mask)
{
	struct lesion_error err;
	const char *path = cli_string(args, "mask");
	*mask = NULL;
	if (!path)
		return 0;
	if (lesion_volume_read(path, -1, mask, &err)) {
		lesion_error_prefix(&err, "--mask: ");
		return cli_error(&err);
	}
	for (int i = 0; i < (*mask)->n_warnings; i++)
		cli_warning("mask '%s': %s", path, (*mask)->warnings[i]);
	return 0;
}
