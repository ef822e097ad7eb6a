/* evaluation.c: the --pairs manifest of `lesionvol evaluate` and evaluation
 * results (one case, or the means of many) as cJSON. */
#include "cli.h"
#include "evaluation.h"
#include "lesionvol/cohort.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The metrics in output order: name and where the value is. */
enum kind { REAL, COUNT };
static const struct field {
	const char *name;
	enum kind kind;
	size_t offset;
} fields[] = {
#define F(name, kind) {#name, kind, offsetof(struct lesion_evaluation, name)}
	F(dice, REAL),
	F(jaccard, REAL),
	F(sensitivity, REAL),
	F(precision, REAL),
	F(volume_similarity, REAL),
	F(abs_volume_difference_ml, REAL),
	F(segmentation_volume_ml, REAL),
	F(reference_volume_ml, REAL),
	F(lesion_count_difference, COUNT),
	F(segmentation_lesions, COUNT),
	F(reference_lesions, COUNT),
	F(lesion_tp, COUNT),
	F(lesion_fp, COUNT),
	F(lesion_fn, COUNT),
	F(lesion_f1, REAL),
	F(hd95_mm, REAL),
	F(hausdorff_mm, REAL),
	F(assd_mm, REAL),
	F(segmentation_voxels, COUNT),
	F(reference_voxels, COUNT),
	F(overlap_voxels, COUNT),
	F(voxel_volume_mm3, REAL),
#undef F
};
enum { N_FIELDS = sizeof(fields) / sizeof(fields[0]) };

static double field_value(const struct lesion_evaluation *ev, const struct field *f)
{
	const char *p = (const char *)ev + f->offset;
	if (f->kind == COUNT) {
		int64_t v;
		memcpy(&v, p, sizeof(v));
		return (double)v;
	}
	double v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int eval_columns(const char **cols, int max, const char *const *before,
		 const char *const *after)
{
	int n = 0;
	for (int i = 0; before && before[i] && n + 1 < max; i++)
		cols[n++] = before[i];
	for (int i = 0; i < N_FIELDS && n + 1 < max; i++)
		cols[n++] = fields[i].name;
	for (int i = 0; after && after[i] && n + 1 < max; i++)
		cols[n++] = after[i];
	cols[n] = NULL;
	return n;
}

void eval_json_add(cJSON *o, const struct lesion_evaluation *ev)
{
	for (int i = 0; i < N_FIELDS; i++)
		cli_json_add_number(o, fields[i].name, field_value(ev, &fields[i]));
}

cJSON *eval_mean_json(const struct eval_case *cases, int n_cases)
{
	cJSON *o = cJSON_CreateObject();
	int scored = 0;
	for (int c = 0; c < n_cases; c++)
		scored += cases[c].status == LESION_OK;
	for (int i = 0; i < N_FIELDS; i++) {
		double sum = 0.0;
		int n = 0;
		/* in case order, so the mean does not depend on scheduling */
		for (int c = 0; c < n_cases; c++) {
			if (cases[c].status != LESION_OK)
				continue;
			double v = field_value(&cases[c].ev, &fields[i]);
			if (isfinite(v)) {
				sum += v;
				n++;
			}
		}
		cli_json_add_number(o, fields[i].name, n ? sum / n : NAN);
	}
	cJSON_AddNumberToObject(o, "n_cases", scored);
	return o;
}

static const char *const pair_table_columns[] = {
	"case_id", "dice", "jaccard", "sensitivity", "precision", "volume_similarity",
	"abs_volume_difference_ml", "lesion_count_difference", "lesion_f1", "lesion_tp",
	"lesion_fp", "lesion_fn", "hd95_mm", "status", "message", NULL};

cJSON *eval_case_json(const struct eval_case *c, int pairs, const char *rule)
{
	cJSON *o = cJSON_CreateObject();
	if (pairs)
		cJSON_AddStringToObject(o, "case_id", c->case_id);
	cJSON_AddStringToObject(o, "segmentation", c->segmentation);
	cJSON_AddStringToObject(o, "reference", c->reference);
	if (c->status == LESION_OK)
		eval_json_add(o, &c->ev);
	cJSON_AddStringToObject(o, "rule", rule);
	if (pairs) {
		cJSON_AddStringToObject(o, "status", c->status ? "error" : "ok");
		cJSON_AddStringToObject(o, "message", c->message);
	}
	return o;
}

int eval_print_pairs(FILE *f, enum cli_format fmt, const struct eval_case *cases,
		       int n, const char *rule)
{
	static const char *const before[] = {"case_id", "segmentation", "reference", NULL};
	static const char *const after[] = {"rule", "status", "message", NULL};
	const char *cols[64];
	int failed = 0;
	cJSON *rows = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		cJSON_AddItemToArray(rows, eval_case_json(&cases[i], 1, rule));
		failed += cases[i].status != LESION_OK;
	}
	cJSON *mean = eval_mean_json(cases, n);
	if (fmt == CLI_FORMAT_JSON) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "rule", rule);
		cJSON_AddNumberToObject(o, "n_cases", n);
		cJSON_AddNumberToObject(o, "n_failed", failed);
		cJSON_AddItemToObject(o, "cases", rows);
		cJSON_AddItemToObject(o, "mean", mean);
		cli_write_json(f, o);
		cJSON_Delete(o);
		return failed;
	}
	/* the means as a last row, marked by case_id and status "mean" */
	int scored = cJSON_GetObjectItem(mean, "n_cases")->valueint;
	char note[64];
	snprintf(note, sizeof(note), "over %d scored case%s", scored, scored == 1 ? "" : "s");
	cJSON_DeleteItemFromObject(mean, "n_cases");
	cJSON *row = cJSON_CreateObject();
	cJSON_AddStringToObject(row, "case_id", "mean");
	cJSON_AddStringToObject(row, "segmentation", "");
	cJSON_AddStringToObject(row, "reference", "");
	for (cJSON *it = mean->child; it; it = it->next)
		cJSON_AddItemToObject(row, it->string, cJSON_Duplicate(it, 0));
	cJSON_AddStringToObject(row, "rule", rule);
	cJSON_AddStringToObject(row, "status", "mean");
	cJSON_AddStringToObject(row, "message", note);
	cJSON_AddItemToArray(rows, row);
	if (fmt == CLI_FORMAT_TABLE)
		cli_write_rows(f, fmt, pair_table_columns, rows, 1);
	else {
		eval_columns(cols, 64, before, after);
		cli_write_rows(f, fmt, cols, rows, 1);
	}
	cJSON_Delete(rows);
	cJSON_Delete(mean);
	return failed;
}

static char *resolve(const char *dir, const char *p)
{
	if (p[0] == '/' || !dir[0])
		return strdup(p);
	size_t n = strlen(dir) + strlen(p) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", dir, p);
	return s;
}

/* Row @r of @t into @c; returns 0, or -1 when out of memory. */
static int parse_row(const struct lesion_tsv *t, int r, const char *dir, const int col[3],
		     struct eval_case *c)
{
	const char *seg = t->cells[r][col[0]];
	const char *ref = t->cells[r][col[1]];
	const char *id = col[2] >= 0 && t->cells[r][col[2]][0] ? t->cells[r][col[2]] : seg;
	memset(c, 0, sizeof(*c));
	c->line = t->lines[r];
	c->case_id = strdup(id);
	c->segmentation = strdup(seg);
	c->reference = strdup(ref);
	c->seg_path = resolve(dir, seg);
	c->ref_path = resolve(dir, ref);
	if (!c->case_id || !c->segmentation || !c->reference || !c->seg_path || !c->ref_path)
		return -1;
	if (!seg[0] || !ref[0]) {
		c->status = LESION_ERR_INPUT;
		snprintf(c->message, sizeof(c->message), "line %ld: no %s", c->line,
			 seg[0] ? "reference" : "segmentation");
	}
	return 0;
}

enum lesion_status eval_pairs_read(const char *path, struct eval_case **cases,
				   int *n_cases, struct lesion_error *err)
{
	struct lesion_tsv t;
	struct eval_case *list = NULL;
	char *dir = NULL;
	int n = 0;
	*cases = NULL;
	*n_cases = 0;
	enum lesion_status st = lesion_tsv_read(path, &t, err);
	if (st)
		return st;
	const int col[3] = {lesion_tsv_column(&t, "segmentation"),
			    lesion_tsv_column(&t, "reference"), lesion_tsv_column(&t, "case_id")};
	if (col[0] < 0 || col[1] < 0) {
		st = lesion_error_set(err, LESION_ERR_INPUT,
				      "'%s': the header row must name the columns "
				      "'segmentation' and 'reference' (tab-separated)", path);
		goto out;
	}
	if (t.n_rows == 0) {
		st = lesion_error_set(err, LESION_ERR_INPUT, "'%s' lists no pairs", path);
		goto out;
	}
	dir = strdup(path);
	list = calloc((size_t)t.n_rows, sizeof(*list));
	if (!dir || !list)
		goto oom;
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	else
		dir[0] = '\0';
	for (int r = 0; r < t.n_rows; r++) {
		n++;
		if (parse_row(&t, r, dir, col, &list[r]))
			goto oom;
	}
	goto out;
oom:
	st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
out:
	lesion_tsv_release(&t);
	free(dir);
	if (st) {
		eval_pairs_free(list, n);
		return st;
	}
	*cases = list;
	*n_cases = n;
	return LESION_OK;
}

void eval_pairs_free(struct eval_case *cases, int n_cases)
{
	for (int i = 0; cases && i < n_cases; i++) {
		free(cases[i].case_id);
		free(cases[i].segmentation);
		free(cases[i].reference);
		free(cases[i].seg_path);
		free(cases[i].ref_path);
		free(cases[i].warnings);
	}
	free(cases);
}
