/* evaluation.h: what cmd_evaluate.c shares with evaluation.c: the cases of a
 * --pairs manifest and evaluation results as cJSON. */
#ifndef LESIONVOL_CLI_EVALUATION_H
#define LESIONVOL_CLI_EVALUATION_H

#include <stdio.h>

#include <cJSON.h>

#include "cli.h"

#include "lesionvol/evaluate.h"

/* One segmentation/reference pair and its result. */
struct eval_case {
	char *case_id;        /* as written, or the segmentation as written */
	char *segmentation;   /* as written in the manifest */
	char *reference;
	char *seg_path;       /* resolved against the manifest's folder */
	char *ref_path;
	long line;            /* in the manifest, for messages */
	enum lesion_status status;
	char message[LESION_ERROR_MAX];
	struct lesion_evaluation ev;
	char *warnings;       /* '\n'-separated image warnings, or NULL */
};

/*
 * eval_pairs_read() - the cases of a TSV manifest with a header row naming
 * the columns "segmentation" and "reference" (and optionally "case_id"; any
 * other column is ignored), read by lesion_tsv_read() like a cohort
 * manifest (byte-order mark, CRLF, a row with the wrong number of fields is
 * an error naming its line). Paths are relative to the manifest's folder
 * unless absolute. A row with an empty segmentation or reference becomes a
 * case with status LESION_ERR_INPUT and a message. Returns LESION_OK, or
 * LESION_ERR_INPUT (unreadable file, missing column, no rows) with @err set.
 * Free with eval_pairs_free().
 */
enum lesion_status eval_pairs_read(const char *path, struct eval_case **cases,
				   int *n_cases, struct lesion_error *err);
void eval_pairs_free(struct eval_case *cases, int n_cases);

/*
 * eval_columns() - a NULL-terminated column list in @cols (room for @max
 * entries): the names in @before, every metric of eval_json_add() in order,
 * then the names in @after (either list may be NULL). Returns the count.
 */
int eval_columns(const char **cols, int max, const char *const *before,
		 const char *const *after);

/*
 * eval_json_add() - the fields of @ev in a fixed order (the documented names), after
 * the ones already in @o; NaN becomes null.
 */
void eval_json_add(cJSON *o, const struct lesion_evaluation *ev);

/*
 * eval_mean_json() - per metric, the mean over the cases with status
 * LESION_OK where the metric is defined; "n_cases" says how many were scored.
 */
cJSON *eval_mean_json(const struct eval_case *cases, int n_cases);

/*
 * eval_case_json() - one case as an object: case_id (with @pairs), the two
 * paths as written, the metrics when it was scored, the rule, and status
 * ("ok"/"error") and message (with @pairs).
 */
cJSON *eval_case_json(const struct eval_case *c, int pairs, const char *rule);

/*
 * eval_print_pairs() - the cases of a --pairs run and their means in @fmt:
 * a table of the main metrics, every field in TSV/CSV (means as a last row
 * whose case_id and status are "mean"), or {"cases", "mean"} in JSON.
 * Returns the number of failed cases.
 */
int eval_print_pairs(FILE *f, enum cli_format fmt, const struct eval_case *cases, int n,
		     const char *rule);

#endif
