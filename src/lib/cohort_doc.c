/* cohort_doc.c: a participant's document (its JSON file): the parameters
 * and input fingerprints that decide whether it is up to date, and its
 * measurements and changes as JSON. */
#include "cohort_internal.h"

#include <cJSON.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lesionvol/atlas.h"
#include "lesionvol/change.h"
#include "lesionvol/io.h"

static void add_optional(cJSON *o, const char *key, int has, double v)
{
	lesion_json_add_number(o, key, has ? v : NAN);
}

/* Every parameter that changes a participant's numbers. */
cJSON *lesion_cohort_parameters_json(const struct lesion_cohort_options *opt)
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
cJSON *lesion_cohort_fingerprint(const char *role, const char *session, const char *path)
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

const char *lesion_cohort_timepoint_mask(const struct lesion_cohort_timepoint *tp,
					 const struct lesion_cohort_options *opt)
{
	return tp->mask_path ? tp->mask_path : opt->mask_path;
}

cJSON *lesion_cohort_inputs_json(const struct lesion_cohort_participant *p,
				 const struct lesion_cohort_options *opt)
{
	cJSON *a = cJSON_CreateArray();
	for (int t = 0; t < p->n_timepoints; t++)
		cJSON_AddItemToArray(a, lesion_cohort_fingerprint("image", p->timepoints[t].session,
								  p->timepoints[t].image_path));
	for (int t = 0; t < p->n_timepoints; t++) {
		const char *m = lesion_cohort_timepoint_mask(&p->timepoints[t], opt);
		if (m)
			cJSON_AddItemToArray(a, lesion_cohort_fingerprint("mask",
									  p->timepoints[t].session, m));
	}
	if (opt->atlas) {
		cJSON_AddItemToArray(a, lesion_cohort_fingerprint("atlas", NULL, opt->atlas->path));
		if (opt->atlas->names_path)
			cJSON_AddItemToArray(a, lesion_cohort_fingerprint("atlas_names", NULL,
									  opt->atlas->names_path));
	}
	return a;
}

/* SHA-256 of what decides the numbers: version, parameters, sessions, days
 * and the inputs' fingerprints. Group and extra columns are not in it. */
void lesion_cohort_compute_key(const cJSON *params, const cJSON *inputs,
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

void lesion_cohort_measurement_json(cJSON *o, const struct lesion_measurement *m, int soft)
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

cJSON *lesion_cohort_change_json(const struct lesion_change *c, const struct lesion_series *s,
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
cJSON *lesion_cohort_document(const struct lesion_cohort_plan *plan,
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

void lesion_cohort_set_error(cJSON *d, enum lesion_status st, const char *message)
{
	cJSON_ReplaceItemInObjectCaseSensitive(d, "status", cJSON_CreateString("error"));
	cJSON_ReplaceItemInObjectCaseSensitive(d, "message", cJSON_CreateString(message));
	cJSON_ReplaceItemInObjectCaseSensitive(d, "error_status", cJSON_CreateNumber(st));
}

void lesion_cohort_hash_inputs(cJSON *inputs)
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

/* Take the results of @old (same compute key) into @d: @d keeps its
 * metadata (participant_id, group, image, extra). */
void lesion_cohort_reuse(cJSON *d, const cJSON *old)
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
int lesion_cohort_reusable(const cJSON *old, const char *key)
{
	const char *k = lesion_json_string(old, "compute_key");
	double es = lesion_json_number(old, "error_status");
	return k && strcmp(k, key) == 0 && (es == LESION_OK || es == LESION_ERR_INPUT) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(old, "timepoints"));
}

/* @d as the group level reads it back: a deep copy without the component
 * lists, which it does not need and which can be thousands of objects. */
cJSON *lesion_cohort_copy_without_components(const cJSON *d)
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

