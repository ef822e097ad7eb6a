/* cmd_cohort.c: `lesionvol cohort`, every participant and timepoint of a
 * study listed in a manifest, in parallel, then the group tables. */
#include "cohort_cli.h"
#include "regions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_option_group cohort_output = {
	"Output",
	(const struct cli_option[]){
		{"output", 'o', CLI_STRING, "OUT_DIR",
		 "the output folder (created if needed; required)"},
		{NULL},
	},
};

static void summary(const char *out_dir, const struct lesion_cohort_plan *plan,
		    const struct lesion_cohort_outcome *oc,
		    const struct lesion_cohort_summary *s)
{
	int reused = 0;
	for (int i = 0; i < plan->n_participants; i++)
		reused += oc[i].reused;
	if (cli_verbosity < 1)
		return;
	fprintf(stderr, "lesionvol cohort: %d participant%s (%d up to date), %d failed; "
		"%d timepoints, %d changes; tables in '%s'\n",
		s->n_participants, s->n_participants == 1 ? "" : "s", reused, s->n_failed,
		s->n_timepoints, s->n_changes, out_dir);
}

static int run(const struct cli_command *cmd, struct cli_args *args)
{
	struct lesion_error err = {0};
	struct lesion_manifest m;
	struct lesion_cohort_plan plan;
	struct lesion_cohort_options opt;
	struct lesion_cohort_group_options gopt;
	struct lesion_cohort_summary sum;
	struct lesion_cohort_outcome *oc = NULL;
	const char *out_dir = cli_string(args, "output");
	int rc;

	memset(&plan, 0, sizeof(plan));
	memset(&gopt, 0, sizeof(gopt));
	if (!out_dir)
		return cli_usage_error(cmd, "the output folder is required: -o OUT_DIR");
	if ((rc = cli_cohort_options(args, &opt)))
		return rc;
	opt.keep_results = 1; /* the group level follows in this process */
	if ((rc = cli_cohort_group_options(args, cli_argc, cli_argv, &gopt)))
		goto out;
	cli_apply_threads(args);
	if (lesion_manifest_read(args->positional[0], &m, &err)) {
		rc = cli_error(&err);
		goto out;
	}
	enum lesion_status st = lesion_cohort_plan_from_manifest(&m, &plan, &err);
	lesion_manifest_release(&m);
	if (st) {
		rc = cli_error(&err);
		goto out;
	}
	if ((rc = cli_cohort_check_comparison(args, &plan, &gopt)))
		goto out;
	oc = calloc((size_t)plan.n_participants + 1, sizeof(*oc));
	if (!oc) {
		lesion_error_set(&err, LESION_ERR_INTERNAL, "out of memory");
		rc = cli_error(&err);
		goto out;
	}
	st = lesion_cohort_run_participants(&plan, out_dir, &opt, oc, &err);
	cli_cohort_progress_end();
	if (st == LESION_ERR_WRITE || st == LESION_ERR_INTERNAL) {
		rc = cli_error(&err);
		goto out;
	}
	cli_cohort_report(&plan, oc);
	st = lesion_cohort_aggregate(&plan, out_dir, oc, &gopt, &sum, &err);
	if (st && st != LESION_ERR_PARTIAL && st != LESION_ERR_INPUT) {
		rc = cli_error(&err);
		goto out;
	}
	summary(out_dir, &plan, oc, &sum);
	cli_cohort_print_comparison(out_dir);
	/* input error: not one participant could be measured */
	rc = st == LESION_ERR_INPUT ? cli_error(&err) : (int)st;
out:
	lesion_cohort_outcomes_release(oc, plan.n_participants);
	free(oc);
	cli_cohort_options_release(&opt);
	lesion_cohort_plan_release(&plan);
	cli_cohort_group_options_release(&gopt);
	return rc;
}

static const struct cli_option_group *const cohort_groups[] = {
	&cohort_output, &cli_group_participant, &cli_group_comparison,
	&cli_group_segmentation, &cli_group_atlas, &cli_group_threads, &cli_group_general,
	NULL,
};

static const char *const cohort_examples[] = {
	"lesionvol cohort sample_data/cohort.tsv -o cohort_out",
	"lesionvol cohort sample_data/cohort.tsv -o cohort_out --consecutive --threads 2 --force",
	"lesionvol cohort sample_data/cohort.tsv -o cohort_out --quicklook",
	"lesionvol cohort sample_data/cohort.tsv -o cohort_out --save-masks --save-change-maps",
	NULL,
};

const struct cli_command cmd_cohort = {
	.name = "cohort",
	.synopsis = "MANIFEST.tsv -o OUT_DIR [options]",
	.summary = "every participant and timepoint of a study: volumes, changes, group tables",
	.description =
		"MANIFEST.tsv is a tab-separated table with a header row (UTF-8; a "
		"byte-order mark and CRLF line ends are fine). Required columns: "
		"participant_id (sub-01 or 01), session, image (relative to the "
		"manifest's folder unless absolute). Optional: group, days (time since "
		"the event; orders the sessions), mask (a brain mask for that image), "
		"anatomy (the scan --quicklook draws the lesion over, e.g. the FLAIR "
		"the mask was traced on; same grid as the image). "
		"Every other column is kept (covariates such as age or NIHSS).\n"
		"Participants are processed in parallel (--threads), one participant's "
		"images in memory per thread. Each gets OUT_DIR/sub-<label>/"
		"sub-<label>_lesionvol.json (written atomically), from which the group "
		"level writes timepoints.tsv, changes.tsv, groups.tsv, "
		"dataset_description.json and provenance.json. A rerun skips participants "
		"whose inputs (size and modification times) and parameters are unchanged; "
		"--force recomputes them. A participant whose images cannot be read gets "
		"status 'error' and a message in the tables, the others go on, and the "
		"exit code is 3. Labels must be letters and digits only (BIDS), so no id "
		"can name a folder outside OUT_DIR.\n"
		"--quicklook draws each participant's picture (8 axial slices through "
		"the lesions of the first and last sessions) into sub-<label>/ and "
		"report.html embeds it in the participant's row. A rerun redraws only "
		"pictures whose results or anatomy changed (--force: all), and removes "
		"a picture that no longer matches its participant's results.\n"
		"--save-masks writes each session's lesion mask (the voxels counted, "
		"uint8 0/1) as sub-<label>/sub-<label>_ses-<session>_label-lesion_mask."
		"nii.gz, --save-change-maps each later session's change map against the "
		"baseline (0 background, 1 resolved, 2 persistent, 3 new) as "
		"sub-<label>_ses-<session>_desc-change_dseg.nii.gz, both with the "
		"input's geometry; none for a session on another grid than the "
		"baseline (changes.tsv says so). They follow their results as the "
		"pictures do. An image that cannot be written fails its participant "
		"(exit 3).\n"
		"--atlas LABELS (read once, on the images' grid) adds regions.tsv: a "
		"row per participant, session and atlas region lesioned in someone "
		"(--all-regions: every region) with the lesion volume and fraction "
		"and their change against the baseline session. A participant whose "
		"images are on another grid than the atlas fails alone; a changed "
		"atlas recomputes everyone.",
	.min_args = 1,
	.max_args = 1,
	.groups = cohort_groups,
	.examples = cohort_examples,
	.run = run,
};
