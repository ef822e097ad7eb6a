/* cohort.c: the participant level: every participant measured in parallel
 * and written to OUT_DIR/sub-<label>/sub-<label>_lesionvol.json, skipping
 * those whose recorded inputs and parameters are unchanged. */
#include "cohort_internal.h"
#include "io_internal.h"

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
	const char *mask = lesion_cohort_timepoint_mask(&p->timepoints[0], opt);
	for (int t = 0; t < p->n_timepoints; t++) {
		paths[t] = p->timepoints[t].image_path;
		days[t] = p->timepoints[t].days;
		const char *m = lesion_cohort_timepoint_mask(&p->timepoints[t], opt);
		if ((m == NULL) != (mask == NULL) || (m && strcmp(m, mask) != 0)) {
			/* lesion_series_run() takes one brain mask per participant */
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"different brain masks: sessions '%s' and '%s' have "
				"different ones; one mask per participant is supported", p->timepoints[0].session,
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
		lesion_cohort_measurement_json(o, &s.measurements[i], opt->rule.soft);
		if (opt->atlas)
			lesion_cohort_add_region_loads(o, opt->atlas, &s, i);
		cJSON_AddItemToArray(sorted, o);
	}
	cJSON_ReplaceItemInObjectCaseSensitive(d, "timepoints", sorted);
	cJSON *ch = cJSON_GetObjectItemCaseSensitive(d, "changes");
	for (int c = 0; c < s.n_changes; c++)
		cJSON_AddItemToArray(ch, lesion_cohort_change_json(&s.changes[c], &s, p));
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
	const struct lesion_cohort_timepoint *last = p->n_timepoints
		? &p->timepoints[p->n_timepoints - 1] : NULL;
	cJSON *anatomy = last && last->anatomy_path
		? lesion_cohort_fingerprint("anatomy", last->session, last->anatomy_path) : NULL;
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
	char *json_path = NULL, *dir = NULL, *old_text = NULL;
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
	const char *plan_error = p->error ? p->error
				 : p->n_timepoints == 0 ? LESION_REASON_NO_MASKS : NULL;
	if (!p->label) {
		/* no folder can be named after it: its failure shows in the
		 * group tables only */
		oc->status = LESION_ERR_INPUT;
		snprintf(oc->message, sizeof(oc->message), "%s", plan_error);
		return;
	}
	json_path = lesion_cohort_participant_json_path(out_dir, p->label);
	dir = lesion_strdup(json_path);
	if (!json_path || !dir) {
		lesion_error_set(&e, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	*strrchr(dir, '/') = '\0';
	lesion_buf_printf(&png, "%s/sub-%s_quicklook.png", dir, p->label);
	if (png.failed) {
		lesion_error_set(&e, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	int fresh;
	if (make_dir(dir, &fresh, &e))
		goto out;
	/* one writer per participant, even across processes (temporaries of
	 * other writers are told apart by their names anyway) */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
			;
	if (lesion_cohort_maps_init(&maps, p, opt, dir, &e))
		goto out;
	if (fresh) /* a folder just made holds no leftovers */
		lesion_temps_folder_is_new(dir);
	else
		lesion_remove_stale_temps(dir);

	params = lesion_cohort_parameters_json(opt);
	inputs = lesion_cohort_inputs_json(p, opt);
	lesion_cohort_compute_key(params, inputs, p, key);
	quicklook_key(key, p, qkey);
	if (lesion_read_text_file(json_path, &old_text, &old_size, NULL) == LESION_OK)
		old = cJSON_Parse(old_text);
	d = lesion_cohort_document(plan, p, key);
	cJSON_AddItemReferenceToObject(d, "parameters", params);
	if (plan_error) {
		/* nothing to measure, but a record that says why: a pipeline
		 * waiting for this file (one job per participant) gets it */
		lesion_cohort_set_error(d, LESION_ERR_INPUT, plan_error);
	} else if (!opt->force && old && lesion_cohort_reusable(old, key) &&
							 (!opt->quicklook || lesion_cohort_quicklook_current(old, qkey, png.data)) &&
	    lesion_cohort_maps_current(old, opt, key, dir, p->label)) {
		lesion_cohort_reuse(d, old);
		oc->reused = 1;
	} else {
		lesion_cohort_hash_inputs(inputs);
		cJSON_AddItemReferenceToObject(d, "inputs", inputs);
		struct lesion_error ce = {0};
		enum lesion_status st = compute(p, opt, d, opt->quicklook ? png.data : NULL,
						qkey, &maps, &ce);
		if (st)
			lesion_cohort_set_error(d, st, ce.message);
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
		oc->result = lesion_cohort_copy_without_components(d);
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
