/* cohort.c: the participant level: every participant measured in parallel
 * and written to OUT_DIR/sub-<label>/sub-<label>_lesionvol.json, skipping
 * those whose recorded inputs and parameters are unchanged. */
#include "cohort_internal.h"

#include <cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lesionvol/atlas.h"
#include "lesionvol/change.h"
#include "lesionvol/io.h"

void lesion_cohort_options_init(struct lesion_cohort_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	lesion_rule_init(&opt->rule);
	opt->volume_index = -1;
}

static void add_optional(cJSON *o, const char *key, int has, double v)
{
	lesion_json_add_number(o, key, has ? v : NAN);
}

/* Every parameter that changes a participant's numbers. */
static cJSON *parameters_json(const struct lesion_cohort_options *opt)
{
	char rule[256];
	const struct lesion_rule *r = &opt->rule;
	cJSON *o = cJSON_CreateObject();
	lesion_rule_describe(r, rule, sizeof(rule));
	cJSON_AddStringToObject(o, "rule", rule);
	add_optional(o, "thr", r->has_thr, r->thr);
	add_optional(o, "uthr", r->has_uthr, r->uthr);
	add_optional(o, "zthr", r->has_zthr, r->zthr);
	add_optional(o, "uzthr", r->has_uzthr, r->uzthr);
	cJSON_AddBoolToObject(o, "fill_holes", r->fill_holes);
	cJSON_AddNumberToObject(o, "connectivity", r->connectivity);
	cJSON_AddNumberToObject(o, "min_voxels", (double)r->min_voxels);
	cJSON_AddNumberToObject(o, "min_volume_mm3", r->min_volume_mm3);
	cJSON_AddBoolToObject(o, "soft", r->soft);
	lesion_json_add_string(o, "mask", opt->mask_path);
	add_optional(o, "volume", opt->volume_index >= 0, (double)opt->volume_index);
	cJSON_AddBoolToObject(o, "consecutive", opt->consecutive);
	/* only with an atlas, so results computed without one stay valid */
	if (opt->atlas) {
		cJSON_AddStringToObject(o, "atlas", opt->atlas->path);
		lesion_json_add_string(o, "atlas_names", opt->atlas->names_path);
	}
	return o;
}

/*
 * The fingerprint of an input is its size, mtime and ctime (nanoseconds):
 * stat costs nothing, while hashing would read the whole dataset on every
 * rerun. Any write changes mtime, and ctime cannot be set back by tools
 * (touch -r, cp -p, rsync -t restore mtime only), so a replaced file with
 * the same size and times cannot slip through. The SHA-256 is recorded for
 * provenance when the participant is computed.
 */
static cJSON *fingerprint(const char *role, const char *session, const char *path)
{
	struct stat sb;
	char t[64];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "role", role);
	lesion_json_add_string(o, "session", session);
	cJSON_AddStringToObject(o, "path", path);
	if (stat(path, &sb) != 0) {
		cJSON_AddNullToObject(o, "size");
		cJSON_AddNullToObject(o, "mtime");
		cJSON_AddNullToObject(o, "ctime");
		return o;
	}
	cJSON_AddNumberToObject(o, "size", (double)sb.st_size);
	snprintf(t, sizeof(t), "%lld.%09ld", (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
	cJSON_AddStringToObject(o, "mtime", t);
	snprintf(t, sizeof(t), "%lld.%09ld", (long long)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec);
	cJSON_AddStringToObject(o, "ctime", t);
	return o;
}

static const char *timepoint_mask(const struct lesion_cohort_timepoint *tp,
				  const struct lesion_cohort_options *opt)
{
	return tp->mask_path ? tp->mask_path : opt->mask_path;
}

static cJSON *inputs_json(const struct lesion_cohort_participant *p,
			  const struct lesion_cohort_options *opt)
{
	cJSON *a = cJSON_CreateArray();
	for (int t = 0; t < p->n_timepoints; t++)
		cJSON_AddItemToArray(a, fingerprint("image", p->timepoints[t].session,
						    p->timepoints[t].image_path));
	for (int t = 0; t < p->n_timepoints; t++) {
		const char *m = timepoint_mask(&p->timepoints[t], opt);
		if (m)
			cJSON_AddItemToArray(a, fingerprint("mask", p->timepoints[t].session, m));
	}
	if (opt->atlas) {
		cJSON_AddItemToArray(a, fingerprint("atlas", NULL, opt->atlas->path));
		if (opt->atlas->names_path)
			cJSON_AddItemToArray(a, fingerprint("atlas_names", NULL,
							    opt->atlas->names_path));
	}
	return a;
}

/* SHA-256 of what decides the numbers: version, parameters, sessions, days
 * and the inputs' fingerprints. Group and extra columns are not in it. */
static void compute_key(const cJSON *params, const cJSON *inputs,
			const struct lesion_cohort_participant *p, char hex[65])
{
	struct lesion_buf b = {0};
	cJSON *k = cJSON_CreateObject();
	cJSON_AddStringToObject(k, "lesionvol_version", lesion_version());
	cJSON_AddItemReferenceToObject(k, "parameters", (cJSON *)params);
	cJSON *days = cJSON_AddArrayToObject(k, "days");
	for (int t = 0; t < p->n_timepoints; t++)
		cJSON_AddItemToArray(days, isfinite(p->timepoints[t].days)
				     ? cJSON_CreateNumber(p->timepoints[t].days) : cJSON_CreateNull());
	cJSON_AddItemReferenceToObject(k, "inputs", (cJSON *)inputs);
	lesion_json_print(k, &b);
	lesion_sha256_hex(b.data ? b.data : "", b.len, hex);
	cJSON_Delete(k);
	lesion_buf_release(&b);
}

static cJSON *extra_json(const struct lesion_cohort_plan *plan,
			 const struct lesion_cohort_timepoint *tp)
{
	cJSON *o = cJSON_CreateObject();
	for (int e = 0; e < plan->n_extra; e++)
		lesion_json_add_string(o, plan->extra_names[e], tp->extra[e]);
	return o;
}

static void add_int_or_null(cJSON *o, const char *key, int64_t v)
{
	lesion_json_add_number(o, key, v < 0 ? NAN : (double)v);
}

static void add_vec(cJSON *o, const char *key, const double *v)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	for (int i = 0; i < 3; i++)
		cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
}

static void add_ivec(cJSON *o, const char *key, const int64_t *v)
{
	double d[3] = {(double)v[0], (double)v[1], (double)v[2]};
	add_vec(o, key, d);
}

static void measurement_json(cJSON *o, const struct lesion_measurement *m, int soft)
{
	cJSON_AddNumberToObject(o, "lesion_voxels", (double)m->lesion_voxels);
	lesion_json_add_number(o, "lesion_volume_mm3", m->lesion_volume_mm3);
	lesion_json_add_number(o, "lesion_volume_ml", m->lesion_volume_ml);
	cJSON_AddNumberToObject(o, "n_components", (double)m->n_components);
	lesion_json_add_number(o, "largest_component_mm3", m->largest_component_mm3);
	cJSON_AddNumberToObject(o, "nan_voxels", (double)m->nan_voxels);
	lesion_json_add_number(o, "voxel_volume_mm3", m->voxel_volume_mm3);
	cJSON_AddStringToObject(o, "voxel_volume_source", m->voxel_volume_source);
	cJSON_AddStringToObject(o, "world_source", m->world_source);
	if (soft)
		lesion_json_add_number(o, "soft_volume_mm3", m->soft_volume_mm3);
	cJSON_AddStringToObject(o, "rule", m->rule);
	if (isfinite(m->ref_median)) {
		lesion_json_add_number(o, "ref_median", m->ref_median);
		lesion_json_add_number(o, "ref_mad", m->ref_mad);
	}
	cJSON *cs = cJSON_AddArrayToObject(o, "components");
	for (int64_t i = 0; i < m->n_components && m->components; i++) {
		const struct lesion_component *c = &m->components[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "label", (double)c->label);
		cJSON_AddNumberToObject(j, "voxels", (double)c->voxels);
		lesion_json_add_number(j, "volume_mm3", c->volume_mm3);
		add_vec(j, "centroid_vox", c->centroid_vox);
		add_vec(j, "centroid_mm", c->centroid_mm);
		add_ivec(j, "bbox_min", c->bbox_min);
		add_ivec(j, "bbox_max", c->bbox_max);
		lesion_json_add_number(j, "mean", c->mean);
		lesion_json_add_number(j, "max", c->max);
		add_ivec(j, "peak_vox", c->peak_vox);
		cJSON_AddItemToArray(cs, j);
	}
}

static cJSON *change_json(const struct lesion_change *c, const struct lesion_series *s,
			  const struct lesion_cohort_participant *p)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", c->from == s->order[0] ? "baseline" : "consecutive");
	cJSON_AddStringToObject(o, "baseline_session", p->timepoints[c->from].session);
	cJSON_AddStringToObject(o, "session", p->timepoints[c->to].session);
	lesion_json_add_number(o, "days", c->days);
	lesion_json_add_number(o, "baseline_mm3", c->baseline_mm3);
	lesion_json_add_number(o, "volume_mm3", c->volume_mm3);
	lesion_json_add_number(o, "delta_mm3", c->delta_mm3);
	lesion_json_add_number(o, "percent_change", c->percent_change);
	lesion_json_add_number(o, "log_ratio", c->log_ratio);
	lesion_json_add_number(o, "rate_mm3_per_day", c->rate_mm3_per_day);
	cJSON_AddBoolToObject(o, "same_grid", c->same_grid);
	lesion_json_add_number(o, "dice", c->dice);
	lesion_json_add_number(o, "persistent_mm3", c->persistent_mm3);
	lesion_json_add_number(o, "resolved_mm3", c->resolved_mm3);
	lesion_json_add_number(o, "new_mm3", c->new_mm3);
	add_int_or_null(o, "n_new", c->n_new);
	add_int_or_null(o, "n_resolved", c->n_resolved);
	add_int_or_null(o, "n_persistent", c->n_persistent);
	add_int_or_null(o, "n_merged", c->n_merged);
	add_int_or_null(o, "n_split", c->n_split);
	cJSON_AddStringToObject(o, "warning", c->warning);
	return o;
}

/* The participant's document without results; timepoints in plan order. */
static cJSON *document(const struct lesion_cohort_plan *plan,
		       const struct lesion_cohort_participant *p, const char *key)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "participant_id", p->participant_id);
	lesion_json_add_string(d, "group", p->group);
	cJSON_AddStringToObject(d, "status", "ok");
	cJSON_AddStringToObject(d, "message", "");
	cJSON_AddNumberToObject(d, "error_status", 0);
	cJSON_AddStringToObject(d, "lesionvol_version", lesion_version());
	cJSON_AddStringToObject(d, "compute_key", key);
	cJSON *tps = cJSON_AddArrayToObject(d, "timepoints");
	for (int t = 0; t < p->n_timepoints; t++) {
		const struct lesion_cohort_timepoint *tp = &p->timepoints[t];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "session", tp->session);
		lesion_json_add_number(o, "days", tp->days);
		cJSON_AddStringToObject(o, "image", tp->image);
		cJSON_AddItemToObject(o, "extra", extra_json(plan, tp));
		cJSON_AddItemToArray(tps, o);
	}
	cJSON_AddArrayToObject(d, "changes");
	cJSON_AddArrayToObject(d, "warnings");
	return d;
}

static void set_error(cJSON *d, enum lesion_status st, const char *message)
{
	cJSON_ReplaceItemInObjectCaseSensitive(d, "status", cJSON_CreateString("error"));
	cJSON_ReplaceItemInObjectCaseSensitive(d, "message", cJSON_CreateString(message));
	cJSON_ReplaceItemInObjectCaseSensitive(d, "error_status", cJSON_CreateNumber(st));
}

static void hash_inputs(cJSON *inputs)
{
	cJSON *in;
	cJSON_ArrayForEach(in, inputs) {
		char hex[65];
		const char *path = lesion_json_string(in, "path");
		if (path && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(in, "size")) &&
		    lesion_sha256_file(path, hex, NULL) == LESION_OK)
			cJSON_AddStringToObject(in, "sha256", hex);
		else
			cJSON_AddNullToObject(in, "sha256");
	}
}

/* Measure the participant; fill the results of @d; draw @png_path if given
 * and write the images @maps asks for. */
static enum lesion_status compute(const struct lesion_cohort_participant *p,
				  const struct lesion_cohort_options *opt, cJSON *d,
				  const char *png_path, const char *qkey,
				  struct lesion_cohort_maps *maps, struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	struct lesion_series s;
	const char **paths = calloc((size_t)p->n_timepoints + 1, sizeof(char *));
	double *days = calloc((size_t)p->n_timepoints + 1, sizeof(double));
	memset(&s, 0, sizeof(s));
	if (!paths || !days) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	const char *mask = timepoint_mask(&p->timepoints[0], opt);
	for (int t = 0; t < p->n_timepoints; t++) {
		paths[t] = p->timepoints[t].image_path;
		days[t] = p->timepoints[t].days;
		const char *m = timepoint_mask(&p->timepoints[t], opt);
		if ((m == NULL) != (mask == NULL) || (m && strcmp(m, mask) != 0)) {
			/* lesion_series_run() takes one brain mask per participant */
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"sessions '%s' and '%s' have different brain masks; one "
				"mask per participant is supported", p->timepoints[0].session,
				p->timepoints[t].session);
			goto out;
		}
	}
	struct lesion_series_options so;
	memset(&so, 0, sizeof(so));
	so.rule = opt->rule;
	so.mask_path = mask;
	so.volume_index = opt->volume_index;
	so.consecutive = opt->consecutive;
	so.days = days;
	so.keep_map = png_path != NULL;
	so.atlas = opt->atlas;
	st = lesion_cohort_maps_hooks(maps, &so, err);
	if (!st)
		st = lesion_series_run(paths, p->n_timepoints, &so, &s, err);
	if (st)
		goto out;
	if (opt->atlas)
		cJSON_AddItemToObject(d, "atlas", lesion_cohort_atlas_json(opt->atlas));
	/* timepoints in the series' order (the plan's, by construction) */
	cJSON *tps = cJSON_GetObjectItemCaseSensitive(d, "timepoints");
	cJSON *sorted = cJSON_CreateArray();
	for (int k = 0; k < s.n_timepoints; k++) {
		int i = s.order[k];
		cJSON *o = cJSON_Duplicate(cJSON_GetArrayItem(tps, i), 1);
		measurement_json(o, &s.measurements[i], opt->rule.soft);
		if (opt->atlas)
			lesion_cohort_add_region_loads(o, opt->atlas, &s, i);
		cJSON_AddItemToArray(sorted, o);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(d, "timepoints", sorted);
	cJSON *ch = cJSON_GetObjectItemCaseSensitive(d, "changes");
	for (int c = 0; c < s.n_changes; c++)
		cJSON_AddItemToArray(ch, change_json(&s.changes[c], &s, p));
	cJSON *w = cJSON_GetObjectItemCaseSensitive(d, "warnings");
	for (int k = 0; k < s.n_warnings; k++)
		cJSON_AddItemToArray(w, cJSON_CreateString(s.warnings[k]));
	lesion_cohort_maps_finish(maps, &s, LESION_OK, lesion_json_string(d, "compute_key"), d);
	if (png_path)
		lesion_cohort_quicklook_record(p, &s, opt->volume_index, png_path, qkey, d);
out:
	if (st)
		lesion_cohort_maps_finish(maps, &s, st, NULL, d);
	lesion_series_release(&s);
	free(paths);
	free(days);
	return st;
}

/* Take the results of @old (same compute key) into @d: @d keeps its
 * metadata (participant_id, group, image, extra). */
static void reuse(cJSON *d, const cJSON *old)
{
	static const char *const keys[] = {"status", "message", "error_status", "changes",
					   "warnings", "inputs", "atlas", "quicklook", "masks",
					   "change_maps"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(old, keys[k]);
		if (!v)
			continue;
		if (cJSON_GetObjectItemCaseSensitive(d, keys[k]))
			cJSON_ReplaceItemInObjectCaseSensitive(d, keys[k], cJSON_Duplicate(v, 1));
		else
			cJSON_AddItemToObject(d, keys[k], cJSON_Duplicate(v, 1));
	}
	cJSON *tps = cJSON_GetObjectItemCaseSensitive(d, "timepoints");
	const cJSON *otps = cJSON_GetObjectItemCaseSensitive(old, "timepoints");
	cJSON *sorted = cJSON_CreateArray();
	const cJSON *ot;
	cJSON_ArrayForEach(ot, otps) {
		cJSON *o = cJSON_Duplicate(ot, 1);
		const char *ses = lesion_json_string(ot, "session");
		const cJSON *nt;
		cJSON_ArrayForEach(nt, tps) {
			if (!ses || strcmp(ses, lesion_json_string(nt, "session")) != 0)
				continue;
			cJSON_ReplaceItemInObjectCaseSensitive(o, "image", cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(nt, "image"), 1));
			cJSON_ReplaceItemInObjectCaseSensitive(o, "extra", cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(nt, "extra"), 1));
		}
		cJSON_AddItemToArray(sorted, o);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(d, "timepoints", sorted);
}

/* An up-to-date file: same key, and not a failure worth retrying. */
static int reusable(const cJSON *old, const char *key)
{
	const char *k = lesion_json_string(old, "compute_key");
	double es = lesion_json_number(old, "error_status");
	return k && strcmp(k, key) == 0 && (es == LESION_OK || es == LESION_ERR_INPUT) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(old, "timepoints"));
}

/* @d as the group level reads it back: a deep copy without the component
 * lists, which it does not need and which can be thousands of objects. */
static cJSON *copy_without_components(const cJSON *d)
{
	cJSON *c = cJSON_CreateObject();
	const cJSON *it, *tp, *f;
	cJSON_ArrayForEach(it, d) {
		if (strcmp(it->string, "timepoints") != 0) {
			cJSON_AddItemToObject(c, it->string, cJSON_Duplicate(it, 1));
			continue;
		}
		cJSON *tps = cJSON_AddArrayToObject(c, "timepoints");
		cJSON_ArrayForEach(tp, it) {
			cJSON *t = cJSON_CreateObject();
			cJSON_ArrayForEach(f, tp)
				if (strcmp(f->string, "components") != 0)
					cJSON_AddItemToObject(t, f->string, cJSON_Duplicate(f, 1));
			cJSON_AddItemToArray(tps, t);
		}
	}
	return c;
}

/* mkdir -p's last step; *@created (when not NULL): it did not exist. */
static enum lesion_status make_dir(const char *path, int *created, struct lesion_error *err)
{
	int made = mkdir(path, 0777) == 0;
	if (created)
		*created = made;
	if (made || errno == EEXIST) {
		struct stat sb;
		if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			return LESION_OK;
		return lesion_error_set(err, LESION_ERR_WRITE,
					"unable to create folder '%s': not a folder", path);
	}
	return lesion_error_set(err, LESION_ERR_WRITE, "unable to create folder '%s': %s",
				path, strerror(errno));
}

static enum lesion_status make_dirs(const char *path, struct lesion_error *err)
{
	char *p = lesion_strdup(path);
	if (!p)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			enum lesion_status st = lesion_error_set(err, LESION_ERR_WRITE,
				"unable to create folder '%s': %s", p, strerror(errno));
			free(p);
			return st;
		}
		*s = '/';
	}
	free(p);
	return make_dir(path, NULL, err);
}

/* The key of a participant's picture: its results' key and the
 * fingerprint of the anatomy it is drawn over. */
static void quicklook_key(const char *key, const struct lesion_cohort_participant *p,
			  char hex[65])
{
	const struct lesion_cohort_timepoint *last = &p->timepoints[p->n_timepoints - 1];
	cJSON *anatomy = last->anatomy_path
		? fingerprint("anatomy", last->session, last->anatomy_path) : NULL;
	lesion_cohort_quicklook_key(key, anatomy, hex);
	cJSON_Delete(anatomy);
}

static void process(const struct lesion_cohort_plan *plan, int index, const char *out_dir,
		    const struct lesion_cohort_options *opt,
		    struct lesion_cohort_outcome *oc)
{
	const struct lesion_cohort_participant *p = &plan->participants[index];
	struct lesion_error e = {0};
	struct lesion_buf text = {0};
	char *json_path = NULL, *dir = NULL, *old_text = NULL, *json_name = NULL;
	struct lesion_buf png = {0};
	struct lesion_cohort_maps maps = {0};
	cJSON *params = NULL, *inputs = NULL, *d = NULL, *old = NULL;
	int fd = -1;
	size_t old_size = 0;
	char key[65], qkey[65];

	oc->status = LESION_OK;
	oc->reused = 0;
	oc->message[0] = '\0';
	oc->result = NULL;
	if (p->error || p->n_timepoints == 0) {
		oc->status = LESION_ERR_INPUT;
		snprintf(oc->message, sizeof(oc->message), "%s",
			 p->error ? p->error : "no timepoints");
		return;
	}
	json_path = lesion_cohort_participant_json_path(out_dir, p->label);
	dir = lesion_strdup(json_path);
	if (!json_path || !dir) {
		lesion_error_set(&e, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	*strrchr(dir, '/') = '\0';
	json_name = strrchr(json_path, '/') + 1;
	lesion_buf_printf(&png, "%s/sub-%s_quicklook.png", dir, p->label);
	if (png.failed) {
		lesion_error_set(&e, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	int fresh;
	if (make_dir(dir, &fresh, &e))
		goto out;
	/* one writer per participant, even across processes; leftovers of a
	 * killed writer can then be removed safely */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
			;
	const char *names[] = {json_name, strrchr(png.data, '/') + 1, NULL};
	if (lesion_cohort_maps_init(&maps, p, opt, dir, &e))
		goto out;
	if (!fresh) { /* a folder just made holds no leftovers */
		lesion_cohort_remove_stale_temps(dir, names);
		lesion_cohort_maps_remove_stale_temps(&maps);
	}

	params = parameters_json(opt);
	inputs = inputs_json(p, opt);
	compute_key(params, inputs, p, key);
	quicklook_key(key, p, qkey);
	if (lesion_read_text_file(json_path, &old_text, &old_size, NULL) == LESION_OK)
		old = cJSON_Parse(old_text);
	d = document(plan, p, key);
	cJSON_AddItemReferenceToObject(d, "parameters", params);
	if (!opt->force && old && reusable(old, key) &&
	    (!opt->quicklook || lesion_cohort_quicklook_current(old, qkey, png.data)) &&
	    lesion_cohort_maps_current(old, opt, key, dir, p->label)) {
		reuse(d, old);
		oc->reused = 1;
	} else {
		hash_inputs(inputs);
		cJSON_AddItemReferenceToObject(d, "inputs", inputs);
		struct lesion_error ce = {0};
		enum lesion_status st = compute(p, opt, d, opt->quicklook ? png.data : NULL,
						qkey, &maps, &ce);
		if (st)
			set_error(d, st, ce.message);
	}
	lesion_cohort_quicklook_keep_matching(d, old, qkey, png.data);
	lesion_cohort_maps_keep_matching(&maps, d, old, key);
	const char *status = lesion_json_string(d, "status");
	if (status && strcmp(status, "ok") != 0) {
		oc->status = (enum lesion_status)lesion_json_number(d, "error_status");
		snprintf(oc->message, sizeof(oc->message), "%s", lesion_json_string(d, "message"));
	}
	lesion_json_print(d, &text);
	if (text.failed) {
		lesion_error_set(&e, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* recomputed results are always written (pipelines look at mtimes);
	 * reused ones only when the group or extra columns changed */
	if (!oc->reused || !old_text || strcmp(old_text, text.data) != 0)
		lesion_write_file_atomic(json_path, text.data, text.len, &e);
	if (e.status) {
		/* no file records the images and the picture this run made, so
		 * no later run would remove them: none of them stays */
		lesion_cohort_maps_finish(&maps, NULL, e.status, NULL, d);
		if (opt->quicklook && !oc->reused)
			unlink(png.data);
	}
	/* the group level's copy, made in parallel; it reads a failure other
	 * than unreadable input from the outcome's message, not a result */
	if (opt->keep_results && !e.status &&
	    (oc->status == LESION_OK || oc->status == LESION_ERR_INPUT))
		oc->result = copy_without_components(d);
out:
	if (e.status) {
		oc->status = e.status;
		snprintf(oc->message, sizeof(oc->message), "%s", e.message);
	}
	if (fd >= 0)
		close(fd); /* releases the lock */
	cJSON_Delete(d);
	cJSON_Delete(old);
	cJSON_Delete(params);
	cJSON_Delete(inputs);
	lesion_buf_release(&text);
	lesion_buf_release(&png);
	lesion_cohort_maps_release(&maps);
	free(old_text);
	free(json_path);
	free(dir);
}

void lesion_cohort_outcomes_release(struct lesion_cohort_outcome *outcomes, int n)
{
	for (int i = 0; outcomes && i < n; i++) {
		cJSON_Delete(outcomes[i].result);
		outcomes[i].result = NULL;
	}
}

enum lesion_status lesion_cohort_run_participants(const struct lesion_cohort_plan *plan,
						  const char *out_dir,
						  const struct lesion_cohort_options *opt,
						  struct lesion_cohort_outcome *outcomes,
						  struct lesion_error *err)
{
	enum lesion_status st = make_dirs(out_dir, err);
	if (st)
		return st;
	int n = plan->n_participants, done = 0, reused = 0;
	/* dynamic: participants differ in size; results land in outcomes[i] */
	#pragma omp parallel for schedule(dynamic, 1) if (n > 1)
	for (int i = 0; i < n; i++) {
		process(plan, i, out_dir, opt, &outcomes[i]);
		#pragma omp critical(lesion_cohort_progress)
		{
			done++;
			reused += outcomes[i].reused;
			if (opt->progress)
				opt->progress(opt->progress_ctx, done, n, reused);
		}
	}
	st = LESION_OK;
	for (int i = 0; i < n; i++) {
		if (outcomes[i].status == LESION_ERR_WRITE) {
			lesion_error_set(err, LESION_ERR_WRITE, "%s", outcomes[i].message);
			return LESION_ERR_WRITE;
		}
		if (outcomes[i].status != LESION_OK && !st)
			st = lesion_error_set(err, LESION_ERR_PARTIAL,
				"participant '%s': %s", plan->participants[i].participant_id,
				outcomes[i].message);
	}
	return st;
}
