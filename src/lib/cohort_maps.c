/* cohort_maps.c: the images a participant's folder gets on request
 * (--save-masks, --save-change-maps): each session's lesion mask and each
 * later session's change map against the baseline, written while the
 * series is measured, recorded in the participant's JSON with the key of
 * the results they belong to, and removed when they stop matching them. */
#include "cohort_internal.h"

#include <cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lesionvol/atlas.h"
#include "lesionvol/change.h"
#include "lesionvol/volume.h"

static const char *const record_names[] = {"masks", "change_maps"};

char *lesion_cohort_map_name(const char *label, const char *session, int change)
{
	struct lesion_buf b = {0};
	lesion_buf_printf(&b, "sub-%s", label);
	if (session && *session)
		lesion_buf_printf(&b, "_ses-%s", session);
	lesion_buf_puts(&b, change ? "_desc-change_dseg.nii.gz" : "_label-lesion_mask.nii.gz");
	if (b.failed) {
		lesion_buf_release(&b);
		return NULL;
	}
	return b.data;
}

/* The files a participant reads: a saved image must never replace one. */
static int is_input(const struct lesion_cohort_maps *m, const char *path)
{
	struct stat dst, in;
	if (stat(path, &dst) != 0)
		return 0;
	const struct lesion_cohort_participant *p = m->p;
	for (int t = 0; t < p->n_timepoints; t++) {
		const struct lesion_cohort_timepoint *tp = &p->timepoints[t];
		const char *paths[] = {tp->image_path, tp->mask_path ? tp->mask_path
				       : m->opt->mask_path, tp->anatomy_path};
		for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++)
			if (paths[k] && stat(paths[k], &in) == 0 && in.st_dev == dst.st_dev &&
			    in.st_ino == dst.st_ino)
				return 1;
	}
	const struct lesion_atlas *a = m->opt->atlas;
	const char *apaths[] = {a ? a->path : NULL, a ? a->names_path : NULL};
	for (size_t k = 0; k < 2; k++)
		if (apaths[k] && stat(apaths[k], &in) == 0 && in.st_dev == dst.st_dev &&
		    in.st_ino == dst.st_ino)
			return 1;
	return 0;
}

/*
 * Write @data as @name in the participant's folder. A failure is the
 * participant's (LESION_ERR_PARTIAL: its numbers are fine, one of its files
 * is not), never the run's: exit code 4 is kept for the run's own files.
 */
static enum lesion_status save(struct lesion_cohort_maps *m, const char *name,
			       const struct lesion_volume *like, const uint8_t *data,
			       struct lesion_error *err)
{
	enum lesion_status st = LESION_OK;
	char *path = name ? lesion_path_join(m->dir, name) : NULL;
	if (!path)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	if (is_input(m, path)) {
		st = lesion_error_set(err, LESION_ERR_PARTIAL, "image not written: unable to "
				      "write '%s': it is one of the participant's inputs "
				      "(choose another output folder)", path);
	} else if ((st = lesion_volume_write_like(like, path, LESION_DT_UINT8, data, err))) {
		if (st == LESION_ERR_WRITE)
			st = LESION_ERR_PARTIAL;
		lesion_error_prefix(err, "image not written: ");
		if (err)
			err->status = st;
	}
	free(path);
	return st;
}

static enum lesion_status on_mask(void *ctx, int index, const struct lesion_volume *vol,
				  const uint8_t *mask, struct lesion_error *err)
{
	struct lesion_cohort_maps *m = ctx;
	enum lesion_status st = save(m, m->mask_names[index], vol, mask, err);
	if (!st)
		m->mask_state[index] = 1;
	return st;
}

static enum lesion_status on_change_map(void *ctx, int from, int to,
					const struct lesion_volume *vol, const uint8_t *map,
					struct lesion_error *err)
{
	struct lesion_cohort_maps *m = ctx;
	(void)from;
	if (!map) {
		m->change_state[to] = 2; /* different grids: nothing to write */
		return LESION_OK;
	}
	enum lesion_status st = save(m, m->change_names[to], vol, map, err);
	if (!st)
		m->change_state[to] = 1;
	return st;
}

enum lesion_status lesion_cohort_maps_init(struct lesion_cohort_maps *m,
					   const struct lesion_cohort_participant *p,
					   const struct lesion_cohort_options *opt,
					   const char *dir, struct lesion_error *err)
{
	memset(m, 0, sizeof(*m));
	m->p = p;
	m->opt = opt;
	m->dir = dir;
	size_t n = (size_t)p->n_timepoints + 1;
	m->mask_names = calloc(n, sizeof(char *));
	m->change_names = calloc(n, sizeof(char *));
	m->mask_state = calloc(n, sizeof(int));
	m->change_state = calloc(n, sizeof(int));
	if (!m->mask_names || !m->change_names || !m->mask_state || !m->change_state)
		goto oom;
	for (int t = 0; t < p->n_timepoints; t++) {
		const char *ses = p->timepoints[t].session;
		/* the session becomes part of a file name: BIDS labels only */
		if (*ses && !lesion_label_valid(ses))
			continue;
		m->mask_names[t] = lesion_cohort_map_name(p->label, ses, 0);
		m->change_names[t] = lesion_cohort_map_name(p->label, ses, 1);
		if (!m->mask_names[t] || !m->change_names[t])
			goto oom;
	}
	return LESION_OK;
oom:
	lesion_cohort_maps_release(m);
	return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
}

enum lesion_status lesion_cohort_maps_hooks(struct lesion_cohort_maps *m,
					    struct lesion_series_options *so,
					    struct lesion_error *err)
{
	if (!m->opt->save_masks && !m->opt->save_change_maps)
		return LESION_OK;
	for (int t = 0; t < m->p->n_timepoints; t++)
		if (!m->mask_names[t])
			return lesion_error_set(err, LESION_ERR_PARTIAL,
				"invalid session label: '%s' is not a BIDS label (letters "
				"and digits), so its mask and change map cannot be named after it",
				m->p->timepoints[t].session);
	so->hook_ctx = m;
	so->on_mask = m->opt->save_masks ? on_mask : NULL;
	so->on_change_map = m->opt->save_change_maps ? on_change_map : NULL;
	return LESION_OK;
}

static void remove_file(const struct lesion_cohort_maps *m, const char *name)
{
	char *path = lesion_path_join(m->dir, name);
	if (path && !is_input(m, path))
		unlink(path);
	free(path);
}

/* The change of @d from the baseline to @session, to say why it has no map. */
static cJSON *baseline_change(cJSON *d, const char *session)
{
	cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(d, "changes")) {
		const char *kind = lesion_json_string(c, "kind");
		const char *ses = lesion_json_string(c, "session");
		if (kind && ses && strcmp(kind, "baseline") == 0 && strcmp(ses, session) == 0)
			return c;
	}
	return NULL;
}

static void record_change_maps(struct lesion_cohort_maps *m, const struct lesion_series *s,
			       const char *key, cJSON *d)
{
	const struct lesion_cohort_participant *p = m->p;
	cJSON *rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "key", key);
	cJSON *v = cJSON_AddObjectToObject(rec, "values");
	cJSON_AddStringToObject(v, "0", "background");
	cJSON_AddStringToObject(v, "1", "resolved");
	cJSON_AddStringToObject(v, "2", "persistent");
	cJSON_AddStringToObject(v, "3", "new");
	cJSON *files = cJSON_AddArrayToObject(rec, "files");
	const char *baseline = p->timepoints[s->order[0]].session;
	for (int k = 1; k < s->n_timepoints; k++) {
		int t = s->order[k];
		const char *ses = p->timepoints[t].session;
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "baseline_session", baseline);
		cJSON_AddStringToObject(f, "session", ses);
		lesion_json_add_string(f, "file", m->change_state[t] == 1
				       ? m->change_names[t] : NULL);
		cJSON_AddItemToArray(files, f);
		if (m->change_state[t] == 1)
			continue;
		/* changes.tsv's message column shows the change's warning */
		cJSON *c = baseline_change(d, ses);
		const char *w = lesion_json_string(c, "warning");
		struct lesion_buf b = {0};
		lesion_buf_printf(&b, "%s%sno change map written", w ? w : "", w && *w ? "; " : "");
		if (c && !b.failed)
			cJSON_ReplaceItemInObjectCaseSensitive(c, "warning",
							       cJSON_CreateString(b.data));
		lesion_buf_release(&b);
	}
	cJSON_AddItemToObject(d, "change_maps", rec);
}

void lesion_cohort_maps_finish(struct lesion_cohort_maps *m, const struct lesion_series *s,
			       enum lesion_status st, const char *key, cJSON *d)
{
	const struct lesion_cohort_participant *p = m->p;
	if (!m->mask_state || (!m->opt->save_masks && !m->opt->save_change_maps))
		return;
	if (st) {
		/* a failed participant has no files: none of a half-done set stays */
		for (int t = 0; t < p->n_timepoints; t++) {
			if (m->mask_state[t] == 1)
				remove_file(m, m->mask_names[t]);
			if (m->change_state[t] == 1)
				remove_file(m, m->change_names[t]);
		}
		return;
	}
	if (m->opt->save_masks) {
		cJSON *rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "key", key);
		cJSON *files = cJSON_AddArrayToObject(rec, "files");
		for (int k = 0; k < s->n_timepoints; k++) {
			int t = s->order[k];
			cJSON *f = cJSON_CreateObject();
			cJSON_AddStringToObject(f, "session", p->timepoints[t].session);
			cJSON_AddStringToObject(f, "file", m->mask_names[t]);
			cJSON_AddItemToArray(files, f);
		}
		cJSON_AddItemToObject(d, "masks", rec);
	}
	if (m->opt->save_change_maps)
		record_change_maps(m, s, key, d);
}

void lesion_cohort_maps_release(struct lesion_cohort_maps *m)
{
	for (int t = 0; m->mask_names && t < m->p->n_timepoints; t++)
		free(m->mask_names[t]);
	for (int t = 0; m->change_names && t < m->p->n_timepoints; t++)
		free(m->change_names[t]);
	free(m->mask_names);
	free(m->change_names);
	free(m->mask_state);
	free(m->change_state);
	m->mask_names = m->change_names = NULL;
	m->mask_state = m->change_state = NULL;
}

static int is_ok(const cJSON *d)
{
	const char *status = lesion_json_string(d, "status");
	return status && strcmp(status, "ok") == 0;
}

/*
 * A file name a record may hold: one of this participant's images, in its
 * folder. The JSON file is only read back, but it is a file anyone can
 * edit, and its names are unlinked.
 */
static int plausible_name(const char *name, const char *label)
{
	size_t n = name ? strlen(name) : 0, l = strlen(label);
	return n > 7 && !strchr(name, '/') && strncmp(name, "sub-", 4) == 0 &&
	       strncmp(name + 4, label, l) == 0 && name[4 + l] == '_' &&
	       strcmp(name + n - 7, ".nii.gz") == 0;
}

static int files_present(const cJSON *rec, const char *dir, const char *label)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rec, "files")) {
		const char *name = lesion_json_string(f, "file");
		if (!name)
			continue;
		if (!plausible_name(name, label))
			return 0;
		char *path = lesion_path_join(dir, name);
		int there = path && access(path, F_OK) == 0;
		free(path);
		if (!there)
			return 0;
	}
	return 1;
}

int lesion_cohort_maps_current(const cJSON *old, const struct lesion_cohort_options *opt,
			       const char *key, const char *dir, const char *label)
{
	if (!is_ok(old))
		return 1; /* a failed participant has no images to save */
	const int wanted[] = {opt->save_masks, opt->save_change_maps};
	for (int r = 0; r < 2; r++) {
		if (!wanted[r])
			continue;
		const cJSON *rec = cJSON_GetObjectItemCaseSensitive(old, record_names[r]);
		const char *k = lesion_json_string(rec, "key");
		if (!k || strcmp(k, key) != 0 || !files_present(rec, dir, label))
			return 0;
	}
	return 1;
}

static int lists_file(const cJSON *rec, const char *name)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rec, "files")) {
		const char *n = lesion_json_string(f, "file");
		if (n && strcmp(n, name) == 0)
			return 1;
	}
	return 0;
}

void lesion_cohort_maps_keep_matching(const struct lesion_cohort_maps *m, cJSON *d,
				      const cJSON *old, const char *key)
{
	for (int r = 0; r < 2; r++) {
		const char *name = record_names[r];
		const cJSON *orec = cJSON_GetObjectItemCaseSensitive(old, name);
		/* recomputed without the option, the old images may still be right */
		if (!cJSON_GetObjectItemCaseSensitive(d, name) && orec)
			cJSON_AddItemToObject(d, name, cJSON_Duplicate(orec, 1));
		cJSON *rec = cJSON_GetObjectItemCaseSensitive(d, name);
		const char *k = lesion_json_string(rec, "key");
		if (rec && !(is_ok(d) && k && strcmp(k, key) == 0)) {
			cJSON_DeleteItemFromObjectCaseSensitive(d, name);
			rec = NULL;
		}
		/* images of other results, or of sessions no longer listed */
		const cJSON *f;
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(orec, "files")) {
			const char *file = lesion_json_string(f, "file");
			if (plausible_name(file, m->p->label) && !lists_file(rec, file))
				remove_file(m, file);
		}
	}
}
