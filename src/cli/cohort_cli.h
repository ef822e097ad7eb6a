/* cohort_cli.h: what `cohort` and `bids` share: their options, the
 * measurement options read from the command line, the progress bar and the
 * group level's provenance. */
#ifndef LESIONVOL_COHORT_CLI_H
#define LESIONVOL_COHORT_CLI_H

#include "cli.h"

#include "lesionvol/cohort.h"


/* --compare, --log-offset-ml, --covariate (group level). */
extern const struct cli_option_group cli_group_comparison;
/* --consecutive, --force, --quicklook, --save-masks, --save-change-maps
 * (participant level). */
extern const struct cli_option_group cli_group_participant;

/*
 * cli_cohort_options() - the participant level's options from @args (rule,
 * --mask, --volume, --consecutive, --force, --quicklook, --save-masks,
 * --save-change-maps, --atlas read once, progress bar
 * on a terminal); release with cli_cohort_options_release().
 * Returns 0 or an exit code after printing the usage error.
 */
int cli_cohort_options(const struct cli_args *args, struct lesion_cohort_options *opt);

/* cli_cohort_options_release() - free what cli_cohort_options() read (the
 * --atlas). */
void cli_cohort_options_release(struct lesion_cohort_options *opt);

/*
 * cli_cohort_group_options() - the group level's options from @args, with
 * the command line and every option's value for provenance.json; free with
 * cli_cohort_group_options_release(). Returns 0 or an exit code.
 */
int cli_cohort_group_options(const struct cli_args *args, int argc, char **argv,
			     struct lesion_cohort_group_options *opt);
void cli_cohort_group_options_release(struct lesion_cohort_group_options *opt);

/*
 * cli_cohort_check_comparison() - the --covariate columns exist in @plan
 * and the --compare groups have participants; else prints the usage error
 * and returns its exit code (2).
 */
int cli_cohort_check_comparison(const struct cli_args *args,
				const struct lesion_cohort_plan *plan,
				const struct lesion_cohort_group_options *opt);

/* cli_cohort_progress_end() - finish the progress bar line, if one was drawn. */
void cli_cohort_progress_end(void);

/* cli_cohort_report() - a warning per failed participant (at most 20, then
 * a count), on stderr. */
void cli_cohort_report(const struct lesion_cohort_plan *plan,
		       const struct lesion_cohort_outcome *outcomes);

/* cli_cohort_print_comparison() - the primary comparison of each follow-up
 * session as a sentence on stdout, from OUT_DIR/comparison.json (nothing
 * when there is no comparison). */
void cli_cohort_print_comparison(const char *out_dir);

#endif
