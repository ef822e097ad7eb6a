/* cmd_evaluate.c: `lesionvol evaluate`, an automatic segmentation scored
 * against a reference one (ISLES'22 metrics and more), one pair or many. */
#include "cli.h"
#include "evaluation.h"

#include <stdlib.h>
#include <string.h>

#include "lesionvol/evaluate.h"
#include "lesionvol/segment.h"
#include "lesionvol/volume.h"

/* Append "'path': warning" lines of @v to @c->warnings. */
static void keep_warnings(struct eval_case *c, const struct lesion_volume *v)
{
	for (int i = 0; v && i < v->n_warnings; i++) {
		size_t old = c->warnings ? strlen(c->warnings) : 0;
		size_t add = strlen(v->path) + strlen(v->warnings[i]) + 6;
		char *w = realloc(c->warnings, old + add);
		if (!w)
			return;
		snprintf(w + old, add, "'%s': %s\n", v->path, v->warnings[i]);
		c->warnings = w;
	}
}

/* Score one case; never prints, so cases can run in parallel. */
static void score(struct eval_case *c, const struct lesion_volume *brain,
		  const struct lesion_rule *rule, int64_t index)
{
	struct lesion_volume *s = NULL, *r = NULL;
	struct lesion_error err;
	if (c->status)
		return;
	if (lesion_volume_read(c->seg_path, index, &s, &err) ||
	    lesion_volume_read(c->ref_path, -1, &r, &err) ||
	    lesion_evaluate(s, r, brain, rule, &c->ev, &err)) {
		c->status = err.status;
		snprintf(c->message, sizeof(c->message), "%s", err.message);
	}
	keep_warnings(c, s);
	keep_warnings(c, r);
	lesion_volume_free(s);
	lesion_volume_free(r);
}

static void print_warnings(const struct eval_case *c, int pairs)
{
	for (const char *p = c->warnings; p && *p;) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);
		if (pairs)
			cli_warning("case '%s': %.*s", c->case_id, len, p);
		else
			cli_warning("%.*s", len, p);
		p += len + (nl != NULL);
	}
}

static int run_evaluate(const struct cli_command *cmd, struct cli_args *args)
{
	struct lesion_rule rule;
	struct lesion_volume *brain = NULL;
	struct eval_case *cases = NULL, one = {0};
	struct lesion_error err;
	struct cli_output out = {0};
	const char *pairs = cli_string(args, "pairs");
	int n = 0, rc;
	char rule_text[256];

	if (pairs && args->n_positional)
		return cli_usage_error(cmd, "give SEGMENTATION REFERENCE or --pairs, not both");
	static const char *const outputs[] = {"output", NULL};
	if ((rc = cli_refuse_overwrite(args, outputs)))
		return rc;
	if (!pairs && args->n_positional != 2)
		return cli_usage_error(cmd, "expected SEGMENTATION and REFERENCE (or --pairs FILE)");
	if (cli_flag(args, "soft"))
		return cli_usage_error(cmd, "--soft does not apply to evaluate");
	if ((rc = cli_rule_from_args(args, &rule)))
		return rc;
	lesion_rule_describe(&rule, rule_text, sizeof(rule_text));
	cli_apply_threads(args);
	int64_t index = cli_given(args, "volume") ? cli_int(args, "volume") : -1;
	if ((rc = cli_mask_from_args(args, &brain)))
		return rc;

	if (pairs) {
		if (eval_pairs_read(pairs, &cases, &n, &err)) {
			rc = cli_error(&err);
			goto out;
		}
	} else {
		one.segmentation = one.seg_path = args->positional[0];
		one.reference = one.ref_path = args->positional[1];
		one.case_id = one.segmentation;
		cases = &one;
		n = 1;
	}
	/* cases in parallel, each into its own slot: output order is case order */
	#pragma omp parallel for schedule(dynamic, 1)
	for (int i = 0; i < n; i++)
		score(&cases[i], brain, &rule, index);
	for (int i = 0; i < n; i++) {
		print_warnings(&cases[i], pairs != NULL);
		if (pairs && cases[i].status) {
			lesion_error_set(&err, cases[i].status, "case '%s': %s",
					 cases[i].case_id, cases[i].message);
			cli_error(&err);
		}
	}
	if (!pairs && one.status) {
		lesion_error_set(&err, one.status, "%s", one.message);
		rc = cli_error(&err);
		goto out;
	}
	if (cli_output_open(&out, args)) {
		rc = LESION_ERR_INTERNAL;
		goto out;
	}
	enum cli_format fmt = cli_format_of(args);
	int failed = 0;
	if (pairs) {
		failed = eval_print_pairs(out.f, fmt, cases, n, rule_text);
	} else {
		static const char *const before[] = {"segmentation", "reference", NULL};
		static const char *const after[] = {"rule", NULL};
		const char *cols[64];
		eval_columns(cols, 64, before, after);
		cJSON *o = eval_case_json(&one, 0, rule_text);
		cli_write_record(out.f, fmt, o, cols);
		cJSON_Delete(o);
	}
	rc = cli_output_close(&out);
	if (!rc && failed)
		rc = LESION_ERR_PARTIAL;
out:
	if (pairs)
		eval_pairs_free(cases, n);
	else
		free(one.warnings);
	lesion_volume_free(brain);
	return rc;
}

static const struct cli_option evaluate_options[] = {
	{"pairs", 0, CLI_STRING, "PAIRS.tsv",
	 "score every pair of a TSV with the columns segmentation, reference and "
	 "optionally case_id (paths relative to the TSV's folder), in parallel"},
	{NULL},
};
static const struct cli_option_group evaluate_group = {"Evaluate", evaluate_options};

const struct cli_command cmd_evaluate = {
	.name = "evaluate",
	.synopsis = "SEGMENTATION REFERENCE [options] | --pairs PAIRS.tsv [options]",
	.summary = "agreement of a segmentation with a reference: ISLES'22 metrics and more",
	.description =
		"Scores an automatic SEGMENTATION against a REFERENCE (manual) mask on "
		"the same grid (exit 1 otherwise: register or resample first). The "
		"segmentation rule applies to SEGMENTATION (so a probability map can be "
		"scored with --thr 0.5, and --min-voxels removes specks first); the "
		"reference is lesion where its value > 0. --connectivity applies to both "
		"and --mask restricts both to a region.\n"
		"The ISLES'22 challenge metrics, with its conventions: dice (1 when both "
		"are empty); abs_volume_difference_ml; lesion_count_difference (absolute "
		"difference of the numbers of connected components); lesion_f1 = TP / "
		"(TP + (FP + FN) / 2), where a reference component is a true positive "
		"(lesion_tp) when any of its voxels is segmented, else a false negative "
		"(lesion_fn), and a segmented component that touches no reference voxel "
		"is a false positive (lesion_fp); 1 when both are empty.\n"
		"Also: jaccard (1 when both are empty), voxel sensitivity and precision "
		"(n/a when the reference, or the segmentation, is empty), "
		"volume_similarity = 1 - |Vs - Vr| / (Vs + Vr), and surface distances in "
		"mm as MedPy computes them: the surface of a mask is its voxels with a "
		"6-neighbour outside it (or outside the grid); distances from each "
		"surface voxel of one mask to the nearest surface voxel of the other, "
		"with the voxel size along each axis (exact Euclidean distance "
		"transform); hd95_mm is the 95th percentile (numpy's linear "
		"interpolation) of the distances of both directions pooled, as "
		"medpy.metric.binary.hd95; hausdorff_mm their maximum; assd_mm the mean "
		"of the two directed mean distances. All three are n/a when either "
		"mask is empty.\n"
		"--pairs scores many cases in parallel and prints one row per case "
		"(status ok or error with a message; a failed case makes the exit code 3 "
		"while the others are still scored), then a row \"mean\": each metric "
		"averaged over the scored cases where it is defined (JSON: \"cases\" "
		"and \"mean\").",
	.min_args = 0,
	.max_args = 2,
	.groups = (const struct cli_option_group *const[]){
		&evaluate_group, &cli_group_segmentation, &cli_group_output,
		&cli_group_threads, &cli_group_general, NULL},
	.examples = (const char *const[]){
		"lesionvol evaluate --zthr 3 --min-voxels 5 "
		"sample_data/sub-03/ses-01/anat/sub-03_ses-01_FLAIR.nii.gz "
		"sample_data/sub-03/ses-01/anat/sub-03_ses-01_label-lesion_mask.nii.gz",
		"lesionvol evaluate --format json "
		"sample_data/sub-01/ses-02/anat/sub-01_ses-02_label-lesion_mask.nii.gz "
		"sample_data/sub-01/ses-01/anat/sub-01_ses-01_label-lesion_mask.nii.gz",
		NULL},
	.run = run_evaluate,
};
