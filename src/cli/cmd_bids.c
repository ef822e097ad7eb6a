/* cmd_bids.c: `lesionvol bids`, the cohort analysis of a BIDS dataset as a
 * BIDS App: a participant level that many jobs may run at once, and a group
 * level that aggregates what they wrote. */
#include "cohort_cli.h"
#include "regions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct cli_option_group bids_selection = {
	"BIDS selection",
	(const struct cli_option[]){
		{"participant-label", 0, CLI_STRING, "L",
		 "only this participant (with or without 'sub-'); repeatable",
		 NULL, 0, 0, NULL, 1},
		{"session-label", 0, CLI_STRING, "S",
		 "only this session (with or without 'ses-'); repeatable",
		 NULL, 0, 0, NULL, 1},
		{"image-pattern", 0, CLI_STRING, "GLOB",
		 "file names of the lesion masks (default: *_label-lesion*_mask.nii[.gz], "
		 "*desc-*lesion*_mask.nii[.gz], *_label-L_desc-T1lesion_mask.nii.gz); "
		 "repeatable", NULL, 0, 0, NULL, 1},
		{"anatomy-pattern", 0, CLI_STRING, "GLOB",
		 "with --quicklook: the scan to draw each session's lesion over, a file "
		 "of the mask's folder (e.g. '*_FLAIR.nii.gz'; the first match by name)"},
		{"group-column", 0, CLI_STRING, "NAME",
		 "the column of participants.tsv holding the group", NULL, 0, 0, "group"},
		{NULL},
	},
};

/* OUT_DIR must not be BIDS_DIR itself: both would hold sub-<label>/ */
static int same_folder(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	int same = ra && rb && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

static int participant_level(const struct lesion_cohort_plan *plan, const char *out_dir,
			     const struct cli_args *args)
{
	struct lesion_cohort_options opt;
	struct lesion_error err = {0};
	int rc = cli_cohort_options(args, &opt);
	if (rc)
		return rc;
	struct lesion_cohort_outcome *oc = calloc((size_t)plan->n_participants + 1, sizeof(*oc));
	if (!oc) {
		cli_cohort_options_release(&opt);
		lesion_error_set(&err, LESION_ERR_INTERNAL, "out of memory");
		return cli_error(&err);
	}
	enum lesion_status st = lesion_cohort_run_participants(plan, out_dir, &opt, oc, &err);
	cli_cohort_progress_end();
	if (st == LESION_ERR_WRITE || st == LESION_ERR_INTERNAL) {
		rc = cli_error(&err);
	} else {
		cli_cohort_report(plan, oc);
		int failed = 0, reused = 0, no_masks = 0;
		for (int i = 0; i < plan->n_participants; i++) {
			failed += oc[i].status != LESION_OK;
			reused += oc[i].reused;
			no_masks |= oc[i].status && strcmp(oc[i].message, LESION_REASON_NO_MASKS) == 0;
		}
		if (no_masks)
			cli_warning("lesion masks are files under sub-<label>/[ses-<label>/]"
				    "<datatype>/ named like *_label-lesion_mask.nii.gz or "
				    "*_desc-lesion_mask.nii.gz; --image-pattern chooses others");
		if (cli_verbosity >= 1)
			fprintf(stderr, "lesionvol bids: participant level: %d participant%s "
				"(%d up to date), %d failed\n", plan->n_participants,
				plan->n_participants == 1 ? "" : "s", reused, failed);
		rc = st;
	}
	free(oc);
	cli_cohort_options_release(&opt);
	return rc;
}

static int group_level(const struct lesion_cohort_plan *plan, const char *out_dir,
		       const struct cli_args *args)
{
	struct lesion_cohort_group_options gopt;
	struct lesion_cohort_summary sum;
	struct lesion_error err = {0};
	int rc = cli_cohort_group_options(args, cli_argc, cli_argv, &gopt);
	if (!rc)
		rc = cli_cohort_check_comparison(args, plan, &gopt);
	if (!rc) {
		enum lesion_status st = lesion_cohort_aggregate(plan, out_dir, NULL, &gopt,
								&sum, &err);
		if (st && st != LESION_ERR_PARTIAL && st != LESION_ERR_INPUT) {
			rc = cli_error(&err);
		} else {
			if (st == LESION_ERR_PARTIAL)
				cli_warning("%s (see the status and message columns)", err.message);
			if (cli_verbosity >= 1)
				fprintf(stderr, "lesionvol bids: group level: %d participants, %d "
					"failed; tables in '%s'\n", sum.n_participants,
					sum.n_failed, out_dir);
			cli_cohort_print_comparison(out_dir);
			/* input error: not one participant could be measured */
			rc = st == LESION_ERR_INPUT ? cli_error(&err) : (int)st;
		}
	}
	cli_cohort_group_options_release(&gopt);
	return rc;
}

static int run(const struct cli_command *cmd, struct cli_args *args)
{
	const char *bids_dir = args->positional[0], *out_dir = args->positional[1];
	const char *level = args->positional[2];
	struct lesion_bids_options bo;
	struct lesion_cohort_plan plan;
	struct lesion_error err = {0};
	int rc;

	if (strcmp(level, "participant") != 0 && strcmp(level, "group") != 0)
		return cli_usage_error(cmd, "the analysis level must be 'participant' or "
				       "'group', not '%s'", level);
	if (same_folder(bids_dir, out_dir))
		return cli_usage_error(cmd, "OUT_DIR must differ from BIDS_DIR (use e.g. "
				       "%s/derivatives/lesionvol)", bids_dir);
	memset(&bo, 0, sizeof(bo));
	bo.participant_labels = cli_strings(args, "participant-label", &bo.n_participant_labels);
	bo.session_labels = cli_strings(args, "session-label", &bo.n_session_labels);
	bo.image_patterns = cli_strings(args, "image-pattern", &bo.n_image_patterns);
	bo.anatomy_pattern = cli_string(args, "anatomy-pattern");
	bo.group_column = cli_string(args, "group-column");
	bo.group_column_required = cli_given(args, "group-column");
	cli_apply_threads(args);
	enum lesion_status st = lesion_cohort_plan_from_bids(bids_dir, &bo, &plan, &err);
	if (st == LESION_ERR_USAGE)
		return cli_usage_error(cmd, "%s", err.message);
	if (st)
		return cli_error(&err);
	if (strcmp(level, "participant") == 0)
		rc = participant_level(&plan, out_dir, args);
	else
		rc = group_level(&plan, out_dir, args);
	lesion_cohort_plan_release(&plan);
	return rc;
}

static const struct cli_option_group *const bids_groups[] = {
	&bids_selection, &cli_group_participant, &cli_group_comparison,
	&cli_group_segmentation, &cli_group_atlas, &cli_group_threads, &cli_group_general,
	NULL,
};

static const char *const bids_examples[] = {
	"lesionvol bids sample_data bids_out participant --participant-label 01",
	"lesionvol bids sample_data bids_out participant && lesionvol bids sample_data bids_out group",
	"lesionvol bids sample_data bids_out participant --quicklook --anatomy-pattern "
	"'*_FLAIR.nii.gz' && lesionvol bids sample_data bids_out group",
	"lesionvol bids sample_data bids_out participant --participant-label 01 --save-masks "
	"--save-change-maps",
	NULL,
};

const struct cli_command cmd_bids = {
	.name = "bids",
	.synopsis = "BIDS_DIR OUT_DIR participant|group [options]",
	.summary = "the cohort analysis of a BIDS dataset, as a BIDS App",
	.description =
		"Finds the lesion masks of BIDS_DIR: sub-<label>/[ses-<label>/]<datatype>/ "
		"files named like *_label-lesion_mask.nii.gz, *_desc-lesion_mask.nii.gz or "
		"ATLAS's *_label-L_desc-T1lesion_mask.nii.gz (--image-pattern for others). "
		"Groups and other columns come from participants.tsv, days from "
		"sub-<label>/sub-<label>_sessions.tsv (column 'days') when present.\n"
		"The participant level writes only OUT_DIR/sub-<label>/, so many jobs (a "
		"SLURM array, Snakemake rules: one --participant-label each) may run at "
		"once on one OUT_DIR; a participant already done with the same inputs "
		"and options is skipped. The group level reads those files (never an "
		"image) and writes the same tables as 'lesionvol cohort': timepoints.tsv, "
		"changes.tsv, groups.tsv, dataset_description.json, provenance.json. A "
		"participant without a result gets status 'error' there; exit code 3.\n"
		"--atlas LABELS at the participant level stores each session's lesion "
		"load per atlas region; the group level (which never reads the atlas) "
		"then writes regions.tsv, as 'lesionvol cohort --atlas' does "
		"(--all-regions there: every region).\n"
		"--quicklook at the participant level draws sub-<label>/"
		"sub-<label>_quicklook.png, as 'lesionvol cohort --quicklook' does, over "
		"the file of the last session's mask folder that --anatomy-pattern "
		"matches (else over the mask); the group level's report.html embeds it.\n"
		"--save-masks and --save-change-maps at the participant level write "
		"each session's lesion mask and each later session's change map into "
		"sub-<label>/, as 'lesionvol cohort' does.",
	.min_args = 3,
	.max_args = 3,
	.groups = bids_groups,
	.examples = bids_examples,
	.run = run,
};
