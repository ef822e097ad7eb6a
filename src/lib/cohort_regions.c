/* cohort_regions.c: atlas regions in cohorts: the atlas and each
 * timepoint's lesion load per region in a participant's file, and the
 * group level's regions.tsv (long format: participant, session, region). */
#include "aggregate_internal.h"

#include <cJSON.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lesionvol/atlas.h"
#include "lesionvol/change.h"
#include "lesionvol/io.h"

cJSON *lesion_cohort_atlas_json(const struct lesion_atlas *atlas)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", atlas->path);
	lesion_json_add_string(o, "names", atlas->names_path);
	cJSON *rs = cJSON_AddArrayToObject(o, "regions");
	for (int64_t r = 0; r < atlas->n_regions; r++) {
		const struct lesion_region *g = &atlas->regions[r];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "label", (double)g->label);
		cJSON_AddStringToObject(j, "name", g->name);
		cJSON_AddNumberToObject(j, "voxels", (double)g->voxels);
		lesion_json_add_number(j, "volume_mm3", g->volume_mm3);
		cJSON_AddItemToArray(rs, j);
	}
	return o;
}

void lesion_cohort_add_region_loads(cJSON *o, const struct lesion_atlas *atlas,
				    const struct lesion_series *s, int i)
{
	const struct lesion_region_load *loads = s->region_loads +
						 (size_t)i * (size_t)s->n_regions;
	lesion_json_add_number(o, "outside_atlas_mm3", (double)s->outside_atlas_voxels[i] *
			       s->measurements[i].voxel_volume_mm3);
	/* only the regions it touches: the atlas lists the rest */
	cJSON *rs = cJSON_AddArrayToObject(o, "regions");
	for (int64_t r = 0; r < s->n_regions; r++) {
		if (!loads[r].lesion_voxels)
			continue;
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "label", (double)atlas->regions[r].label);
		cJSON_AddNumberToObject(j, "lesion_voxels", (double)loads[r].lesion_voxels);
		lesion_json_add_number(j, "lesion_volume_mm3", loads[r].lesion_volume_mm3);
		lesion_json_add_number(j, "lesion_fraction", loads[r].fraction);
		cJSON_AddItemToArray(rs, j);
	}
}

/* ---- the group level: regions.tsv ---- */

const char *const lesion_region_columns[] = {
	"participant_id", "group", "session", "days", "label", "name",
	"region_volume_mm3", "lesion_voxels", "lesion_volume_mm3", "lesion_fraction",
	"baseline_session", "baseline_mm3", "delta_mm3", "percent_change",
	"baseline_fraction", "delta_fraction", "status", "message", NULL,
};

/* The reference list of regions: from the first participant that was
 * measured with the atlas (check_parameters() fails those measured with
 * another one). */
struct regions {
	int n;
	int64_t *label, *voxels;
	double *volume_mm3;
	const char **name;
	int *listed;
	struct lesion_region_load *base, *cur; /* one participant's, per region */
};

static int find(const struct regions *g, int64_t label)
{
	int lo = 0, hi = g->n - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (g->label[mid] == label)
			return mid;
		if (g->label[mid] < label)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static int regions_init(struct regions *g, const cJSON *atlas)
{
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(atlas, "regions"), *r;
	g->n = cJSON_GetArraySize(rs);
	size_t n = (size_t)g->n + 1;
	g->label = calloc(n, sizeof(*g->label));
	g->voxels = calloc(n, sizeof(*g->voxels));
	g->volume_mm3 = calloc(n, sizeof(*g->volume_mm3));
	g->name = calloc(n, sizeof(*g->name));
	g->listed = calloc(n, sizeof(*g->listed));
	g->base = calloc(n, sizeof(*g->base));
	g->cur = calloc(n, sizeof(*g->cur));
	if (!g->label || !g->voxels || !g->volume_mm3 || !g->name || !g->listed ||
	    !g->base || !g->cur)
		return -1;
	int k = 0;
	cJSON_ArrayForEach(r, rs) {
		const char *name = lesion_json_string(r, "name");
		g->label[k] = (int64_t)lesion_json_number(r, "label");
		g->voxels[k] = (int64_t)lesion_json_number(r, "voxels");
		g->volume_mm3[k] = lesion_json_number(r, "volume_mm3");
		g->name[k++] = name ? name : "";
	}
	return 0;
}

static void regions_release(struct regions *g)
{
	free(g->label);
	free(g->voxels);
	free(g->volume_mm3);
	free(g->name);
	free(g->listed);
	free(g->base);
	free(g->cur);
}

/* @t's load of every region: 0 where it records none. */
static void timepoint_loads(const struct regions *g, const cJSON *t,
			    struct lesion_region_load *loads)
{
	const cJSON *r;
	for (int k = 0; k < g->n; k++) {
		loads[k].lesion_voxels = 0;
		loads[k].lesion_volume_mm3 = 0.0;
		loads[k].fraction = g->voxels[k] ? 0.0 : NAN;
	}
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(t, "regions")) {
		int k = find(g, (int64_t)lesion_json_number(r, "label"));
		if (k < 0)
			continue;
		loads[k].lesion_voxels = (int64_t)lesion_json_number(r, "lesion_voxels");
		loads[k].lesion_volume_mm3 = lesion_json_number(r, "lesion_volume_mm3");
		loads[k].fraction = lesion_json_number(r, "lesion_fraction");
	}
}

static void put_text(struct lesion_buf *b, const char *s)
{
	if (!s || !*s) {
		lesion_buf_puts(b, "n/a");
		return;
	}
	/* a tab or line break inside a value would break the table */
	for (const char *p = s; *p; p++)
		lesion_buf_put(b, (*p == '\t' || *p == '\n' || *p == '\r') ? " " : p, 1);
}

static void put_number(struct lesion_buf *b, double v)
{
	char num[40];
	lesion_number_format(v, num, sizeof(num));
	lesion_buf_puts(b, num);
}

static void put_start(struct lesion_buf *b, const struct lesion_cohort_participant *p,
		      const struct lesion_cohort_timepoint *tp)
{
	put_text(b, p->participant_id);
	lesion_buf_puts(b, "\t");
	put_text(b, p->group);
	lesion_buf_puts(b, "\t");
	put_text(b, tp ? tp->session : NULL);
	lesion_buf_puts(b, "\t");
	put_number(b, tp ? tp->days : NAN);
}

static void failure_rows(struct lesion_buf *b, const struct lesion_cohort_participant *p,
			 const char *failure)
{
	for (int t = 0; t < (p->n_timepoints ? p->n_timepoints : 1); t++) {
		put_start(b, p, p->n_timepoints ? &p->timepoints[t] : NULL);
		for (int c = 4; c < 16; c++)
			lesion_buf_puts(b, "\tn/a");
		lesion_buf_puts(b, "\terror\t");
		put_text(b, failure);
		lesion_buf_puts(b, "\n");
	}
}

static void participant_rows(struct lesion_buf *b, struct regions *g,
			     const struct lesion_cohort_participant *p, const cJSON *doc)
{
	const cJSON *tps = cJSON_GetObjectItemCaseSensitive(doc, "timepoints");
	timepoint_loads(g, cJSON_GetArrayItem(tps, 0), g->base);
	for (int t = 0; t < p->n_timepoints; t++) {
		const struct lesion_cohort_timepoint *tp = &p->timepoints[t];
		timepoint_loads(g, cJSON_GetArrayItem(tps, t), g->cur);
		double days = tp->days - p->timepoints[0].days;
		for (int k = 0; k < g->n; k++) {
			if (!g->listed[k])
				continue;
			struct lesion_region_change c;
			lesion_region_change_compute(&g->base[k], &g->cur[k], days, &c);
			put_start(b, p, tp);
			lesion_buf_printf(b, "\t%lld\t", (long long)g->label[k]);
			put_text(b, g->name[k]);
			lesion_buf_puts(b, "\t");
			put_number(b, g->volume_mm3[k]);
			lesion_buf_printf(b, "\t%lld\t", (long long)g->cur[k].lesion_voxels);
			put_number(b, g->cur[k].lesion_volume_mm3);
			lesion_buf_puts(b, "\t");
			put_number(b, g->cur[k].fraction);
			lesion_buf_puts(b, "\t");
			put_text(b, p->timepoints[0].session);
			const double v[] = {c.baseline_mm3, c.delta_mm3, c.percent_change,
					    c.baseline_fraction, c.delta_fraction};
			for (size_t j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
				lesion_buf_puts(b, "\t");
				put_number(b, v[j]);
			}
			lesion_buf_puts(b, "\tok\tn/a\n");
		}
	}
}

static const cJSON *atlas_of(const cJSON *doc)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(doc, "parameters");
	return cJSON_GetObjectItemCaseSensitive(params, "atlas");
}

enum lesion_status lesion_aggregate_write_regions(const struct lesion_cohort_plan *plan,
						  const struct lesion_aggregate *a,
						  int all_regions, const char *out_dir,
						  struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	struct regions g;
	struct lesion_buf b = {0};
	const cJSON *ref = NULL;
	int measured_with_atlas = 0;
	char *path = lesion_path_join(out_dir, "regions.tsv");
	memset(&g, 0, sizeof(g));
	if (!path)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	for (int i = 0; i < a->n; i++) {
		if (!a->docs[i] || !atlas_of(a->docs[i]))
			continue;
		measured_with_atlas = 1;
		if (!ref && !lesion_aggregate_failure(a, i))
			ref = cJSON_GetObjectItemCaseSensitive(a->docs[i], "atlas");
	}
	if (!measured_with_atlas) {
		/* a regions.tsv of an earlier run with an atlas would be stale */
		if (unlink(path) != 0 && errno != ENOENT)
			st = lesion_error_set(err, LESION_ERR_WRITE, "unable to remove '%s': %s",
					      path, strerror(errno));
		goto out;
	}
	if (regions_init(&g, ref)) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* the regions lesioned in someone, so every participant gets the same
	 * rows (zeros included: means over participants need them) */
	for (int i = 0; i < a->n; i++) {
		const cJSON *t, *r;
		if (lesion_aggregate_failure(a, i))
			continue;
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(a->docs[i], "timepoints"))
			cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(t, "regions")) {
				int k = find(&g, (int64_t)lesion_json_number(r, "label"));
				if (k >= 0 && lesion_json_number(r, "lesion_voxels") > 0)
					g.listed[k] = 1;
			}
	}
	for (int k = 0; all_regions && k < g.n; k++)
		g.listed[k] = 1;
	for (int c = 0; lesion_region_columns[c]; c++)
		lesion_buf_printf(&b, "%s%s", c ? "\t" : "", lesion_region_columns[c]);
	lesion_buf_puts(&b, "\n");
	for (int i = 0; i < a->n; i++) {
		const struct lesion_cohort_participant *p = &plan->participants[i];
		const char *failure = lesion_aggregate_failure(a, i);
		if (!failure && !cJSON_GetObjectItemCaseSensitive(a->docs[i], "atlas"))
			failure = "other parameters: measured without --atlas; rerun its participant "
				  "level";
		if (failure)
			failure_rows(&b, p, failure);
		else
			participant_rows(&b, &g, p, a->docs[i]);
	}
	if (b.failed) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	st = lesion_write_file_atomic(path, b.data, b.len, err);
out:
	regions_release(&g);
	lesion_buf_release(&b);
	free(path);
	return st;
}
