/* comparison.c: comparison.json/.tsv, the group comparison of SPEC.md
 * "Cohorts" (issue 7). The group level calls this hook with every ok
 * baseline change (group, session, volumes, extra columns); until the
 * statistics are wired in it writes nothing. */
#include "cohort_internal.h"

enum lesion_status lesion_cohort_write_comparison(const struct lesion_cohort_data *data,
						  const struct lesion_cohort_group_options *opt,
						  const char *out_dir,
						  struct lesion_error *err)
{
	/* TODO(issue 7): per follow-up session, the two groups (opt->compare_a/b,
	 * or the only two groups in data->groups): log-scale ANCOVA with
	 * opt->log_offset_ml and opt->covariates (numbers from pair->extra or
	 * pair->baseline_extra), raw ANCOVA, Welch + Hedges' g on delta and
	 * percent change, Mann-Whitney + Hodges-Lehmann (include/lesionvol/stats.h) */
	(void)data;
	(void)opt;
	(void)out_dir;
	(void)err;
	return LESION_OK;
}
