/* cohort_internal.h: helpers shared by the cohort modules (manifest, bids,
 * participant level, group level): text buffers, exact numbers, JSON that
 * round-trips, SHA-256 and the group-level data the statistics hook reads.
 * Not installed. */
#ifndef LESIONVOL_COHORT_INTERNAL_H
#define LESIONVOL_COHORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* cJSON.h's own typedef (C11 allows repeating it): tests include this
 * header without cJSON's include path */
typedef struct cJSON cJSON;

#include "lesionvol/cohort.h"
#include "lesionvol/status.h"

/* ---- SHA-256 ---- */
struct lesion_sha256 {
	uint32_t h[8];
	uint64_t n_bytes;
	unsigned char pending[64];
	size_t n_pending;
};
void lesion_sha256_init(struct lesion_sha256 *s);
void lesion_sha256_update(struct lesion_sha256 *s, const void *data, size_t size);
/* Writes 64 lowercase hex digits and a NUL. */
void lesion_sha256_final(struct lesion_sha256 *s, char hex[65]);
void lesion_sha256_hex(const void *data, size_t size, char hex[65]);
/* LESION_ERR_INPUT when @path cannot be read. */
enum lesion_status lesion_sha256_file(const char *path, char hex[65],
				      struct lesion_error *err);

/* ---- growable text ---- */
struct lesion_buf {
	char *data;   /* NUL-terminated */
	size_t len, cap;
	int failed;   /* an allocation failed: the text is incomplete */
};
void lesion_buf_printf(struct lesion_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lesion_buf_put(struct lesion_buf *b, const char *s, size_t n);
void lesion_buf_puts(struct lesion_buf *b, const char *s);
void lesion_buf_release(struct lesion_buf *b);

/*
 * lesion_number_format() - @v as the shortest text that reads back to the
 * same double ("n/a" when not finite); integral values without a point.
 */
void lesion_number_format(double v, char *buf, size_t size);

/*
 * lesion_json_print() - @item as indented JSON (2 spaces) whose numbers read
 * back exactly (cJSON's own printer rounds some doubles to 15 digits).
 * Non-finite numbers print as null. Appends a newline.
 */
void lesion_json_print(const cJSON *item, struct lesion_buf *b);

/*
 * lesion_cohort_drop_components() - remove the component lists from a
 * participant's document: the group level needs none, so it holds little
 * per participant even for thousands of them.
 */
void lesion_cohort_drop_components(cJSON *doc);

/* cJSON helpers: numbers are null when not finite; NULL strings are null. */
void lesion_json_add_number(cJSON *obj, const char *key, double v);
void lesion_json_add_string(cJSON *obj, const char *key, const char *s);
double lesion_json_number(const cJSON *obj, const char *key); /* NaN if absent */
const char *lesion_json_string(const cJSON *obj, const char *key); /* NULL if absent */

/* lesion_path_join() - "@dir/@name" (just @name when it is absolute) in a new
 * string; NULL when out of memory. */
char *lesion_path_join(const char *dir, const char *name);

/* lesion_strdup() - strdup that accepts NULL. */
char *lesion_strdup(const char *s);

/* lesion_read_text_file() - the whole of @path, NUL-terminated. */
enum lesion_status lesion_read_text_file(const char *path, char **text, size_t *size,
					 struct lesion_error *err);

/* lesion_cohort_sort_timepoints() - by days when every day is known
 * (stable), else as given: the documented order of timepoints. */
void lesion_cohort_sort_timepoints(struct lesion_cohort_participant *p);

/*
 * lesion_cohort_participant_set_id() - participant_id "sub-<label>" and
 * label from an id written with or without "sub-"; an invalid label sets
 * @p->error (naming @line when > 0) and keeps the id as written.
 * LESION_ERR_INTERNAL when out of memory.
 */
enum lesion_status lesion_cohort_participant_set_id(struct lesion_cohort_participant *p,
						    const char *id, int line);

/* lesion_cohort_participant_json_path() - "OUT/sub-L/sub-L_lesionvol.json". */
char *lesion_cohort_participant_json_path(const char *out_dir, const char *label);

/* ---- the participant's document (cohort_doc.c) ---- */

struct lesion_change;
struct lesion_measurement;
struct lesion_series;

/* lesion_cohort_parameters_json() - every parameter that changes a
 * participant's numbers, as recorded in its file. */
cJSON *lesion_cohort_parameters_json(const struct lesion_cohort_options *opt);

/* lesion_cohort_fingerprint() - {role, session, path, size, mtime, ctime}
 * of an input (nulls when it cannot be stat'ed). */
cJSON *lesion_cohort_fingerprint(const char *role, const char *session, const char *path);

/* lesion_cohort_timepoint_mask() - the brain mask of @tp: its own, else the
 * run's, else NULL. */
const char *lesion_cohort_timepoint_mask(const struct lesion_cohort_timepoint *tp,
					 const struct lesion_cohort_options *opt);

/* lesion_cohort_inputs_json() - the fingerprints of every file @p reads. */
cJSON *lesion_cohort_inputs_json(const struct lesion_cohort_participant *p,
				 const struct lesion_cohort_options *opt);

/* lesion_cohort_compute_key() - SHA-256 of what decides @p's numbers:
 * version, @params, days and @inputs (group and extra columns are not in it). */
void lesion_cohort_compute_key(const cJSON *params, const cJSON *inputs,
			       const struct lesion_cohort_participant *p, char hex[65]);

/* lesion_cohort_measurement_json() - @m's fields and components into @o. */
void lesion_cohort_measurement_json(cJSON *o, const struct lesion_measurement *m, int soft);

/* lesion_cohort_change_json() - change @c of series @s of @p as an object. */
cJSON *lesion_cohort_change_json(const struct lesion_change *c, const struct lesion_series *s,
				 const struct lesion_cohort_participant *p);

/* lesion_cohort_document() - @p's document without results (status ok,
 * timepoints in plan order with session, days, image and extra). */
cJSON *lesion_cohort_document(const struct lesion_cohort_plan *plan,
			      const struct lesion_cohort_participant *p, const char *key);

/* lesion_cohort_set_error() - mark @d failed with @st and @message. */
void lesion_cohort_set_error(cJSON *d, enum lesion_status st, const char *message);

/* lesion_cohort_hash_inputs() - add each input's SHA-256 (null when unreadable). */
void lesion_cohort_hash_inputs(cJSON *inputs);

/* lesion_cohort_reuse() - take the results of @old (same compute key) into
 * @d, which keeps its metadata (participant_id, group, image, extra). */
void lesion_cohort_reuse(cJSON *d, const cJSON *old);

/* lesion_cohort_reusable() - whether @old is up to date for @key and not a
 * failure worth retrying. */
int lesion_cohort_reusable(const cJSON *old, const char *key);

/* lesion_cohort_copy_without_components() - @d as the group level reads
 * it back: a deep copy without the component lists. */
cJSON *lesion_cohort_copy_without_components(const cJSON *d);

/* ---- the participant's quicklook (cohort_quicklook.c) ---- */

/*
 * lesion_cohort_quicklook_draw() - write @png_path (atomically): @s->map
 * (lesion_series_run() with keep_map over @p's timepoints) over the last
 * timepoint's anatomy_path, else over its image (volume @volume_index).
 * LESION_ERR_INPUT when there is no map (baseline and last on different
 * grids) or the anatomy is unreadable or on another grid; otherwise as
 * lesion_quicklook_render_map() and lesion_png_write(). Thread safe.
 */
enum lesion_status lesion_cohort_quicklook_draw(const struct lesion_cohort_participant *p,
						const struct lesion_series *s,
						int64_t volume_index, const char *png_path,
						struct lesion_error *err);

/*
 * lesion_cohort_quicklook_record() - draw @png_path with
 * lesion_cohort_quicklook_draw() and record it in the participant's
 * document @d as "quicklook": {key (@qkey; null when writing failed, so a
 * rerun retries), background, file (its name, or null when it could not be
 * drawn; the reason then joins @d's warnings)}.
 */
void lesion_cohort_quicklook_record(const struct lesion_cohort_participant *p,
				    const struct lesion_series *s, int64_t volume_index,
				    const char *png_path, const char *qkey, cJSON *d);

/* lesion_cohort_quicklook_key() - the key of a picture: SHA-256 of the
 * results' compute key and the anatomy's fingerprint (NULL: none). */
void lesion_cohort_quicklook_key(const char *results_key, const cJSON *anatomy,
				 char hex[65]);

/*
 * lesion_cohort_quicklook_current() - whether the participant document @old
 * records the picture of key @qkey and it is there (or could not be drawn);
 * true for a failed participant, which has no picture to draw.
 */
int lesion_cohort_quicklook_current(const cJSON *old, const char *qkey,
				    const char *png_path);

/*
 * lesion_cohort_quicklook_keep_matching() - before @d is written: keep
 * @png_path only when @d (ok) records it with key @qkey, taking @old's
 * record when @d has none (recomputed without --quicklook); otherwise drop
 * the record and remove the file, so report.html never embeds a picture of
 * other results.
 */
void lesion_cohort_quicklook_keep_matching(cJSON *d, const cJSON *old, const char *qkey,
					   const char *png_path);

/* ---- saved masks and change maps (cohort_maps.c) ---- */

struct lesion_series_options;

/*
 * lesion_cohort_map_name() - the file name of a saved image, in a new
 * string (NULL when out of memory): "sub-L[_ses-S]_label-lesion_mask.nii.gz"
 * for a mask (BIDS derivatives' mask with a label entity), with @change
 * "sub-L[_ses-S]_desc-change_dseg.nii.gz" (a discrete segmentation).
 */
char *lesion_cohort_map_name(const char *label, const char *session, int change);

/*
 * struct lesion_cohort_maps - one participant's saved images while it is
 * computed: their names per timepoint (plan order; NULL when the session
 * is not a BIDS label) and which were written.
 */
struct lesion_cohort_maps {
	const struct lesion_cohort_participant *p;
	const struct lesion_cohort_options *opt;
	const char *dir;          /* OUT_DIR/sub-<label> */
	char **mask_names, **change_names;
	int *mask_state;          /* 1: written */
	int *change_state;        /* 1: written, 2: different grids, none */
};

/* lesion_cohort_maps_init() - names of @p's images in @dir (@p has a valid
 * label). LESION_ERR_INTERNAL when out of memory. Release with
 * lesion_cohort_maps_release(). */
enum lesion_status lesion_cohort_maps_init(struct lesion_cohort_maps *m,
					   const struct lesion_cohort_participant *p,
					   const struct lesion_cohort_options *opt,
					   const char *dir, struct lesion_error *err);

/*
 * lesion_cohort_maps_hooks() - with --save-masks/--save-change-maps, set
 * @so's hooks so lesion_series_run() writes the images (atomically, uint8,
 * with the input's header) as it goes. LESION_ERR_PARTIAL when a session
 * is not a BIDS label. An image that cannot be written, or whose name is
 * one of the participant's inputs, stops the series with
 * LESION_ERR_PARTIAL: the participant fails, the run goes on.
 */
enum lesion_status lesion_cohort_maps_hooks(struct lesion_cohort_maps *m,
					    struct lesion_series_options *so,
					    struct lesion_error *err);

/*
 * lesion_cohort_maps_finish() - after lesion_series_run() returned @st:
 * when ok, record the images in @d as "masks" and "change_maps" ({key
 * (@key), files: [{session, file}...]}; a change map not written for grids
 * that differ has file null and its change's warning says so); when not,
 * remove the images this run wrote (@s is not read then and may be NULL:
 * also when the participant's file could not be written).
 */
void lesion_cohort_maps_finish(struct lesion_cohort_maps *m, const struct lesion_series *s,
			       enum lesion_status st, const char *key, cJSON *d);

/* lesion_cohort_maps_release() - free what @m owns. */
void lesion_cohort_maps_release(struct lesion_cohort_maps *m);

/*
 * lesion_cohort_maps_current() - whether the participant document @old
 * holds every image @opt asks for, recorded with key @key and present in
 * @dir; true for a failed participant, which has none.
 */
int lesion_cohort_maps_current(const cJSON *old, const struct lesion_cohort_options *opt,
			       const char *key, const char *dir, const char *label);

/*
 * lesion_cohort_maps_keep_matching() - before @d is written: keep the
 * records of @d (or of @old, when @d was recomputed without the options)
 * whose key is @key on an ok @d; remove every image @old recorded that the
 * kept records do not list (other results, sessions no longer there).
 * Never removes one of the participant's inputs.
 */
void lesion_cohort_maps_keep_matching(const struct lesion_cohort_maps *m, cJSON *d,
				      const cJSON *old, const char *key);

/* ---- atlas regions in the participants' files (cohort_regions.c) ---- */

struct lesion_atlas;
struct lesion_series;

/* lesion_cohort_atlas_json() - "atlas" of a participant's file: path,
 * names, and every region as {label, name, voxels, volume_mm3}. */
cJSON *lesion_cohort_atlas_json(const struct lesion_atlas *atlas);

/* lesion_cohort_add_region_loads() - "outside_atlas_mm3" and "regions" (the
 * regions of @atlas timepoint @i of @s touches, as {label, lesion_voxels,
 * lesion_volume_mm3, lesion_fraction}) to the timepoint object @o. */
void lesion_cohort_add_region_loads(cJSON *o, const struct lesion_atlas *atlas,
				    const struct lesion_series *s, int i);

/* ---- what the group level gathered (input of the statistics) ---- */

/* One participant's baseline-vs-later change, as the group tables use it. */
struct lesion_cohort_pair {
	const char *participant_id;
	const char *group;         /* NULL: none */
	const char *session;       /* the later session */
	double baseline_mm3, volume_mm3, delta_mm3, percent_change;
	const cJSON *extra;        /* the later timepoint's extra columns (object) */
	const cJSON *baseline_extra;
};

/*
 * struct lesion_cohort_data - the ok baseline changes of every participant,
 * the sessions in table order and the groups in table order. Owned by the
 * group level; valid during lesion_cohort_write_comparison().
 */
struct lesion_cohort_data {
	int n_pairs;
	struct lesion_cohort_pair *pairs;
	int n_sessions;
	const char **sessions;
	int n_groups;
	const char **groups;       /* NULL entry: participants without a group */
	int n_participants;        /* every participant of the plan, ok or not */
	const char **participant_ids;
	const char **participant_groups;
};

/*
 * lesion_cohort_write_comparison() - comparison.json/.tsv
 * from @data into @out_dir. The hook of the statistics module: until it is
 * implemented it writes nothing and returns LESION_OK.
 */
enum lesion_status lesion_cohort_write_comparison(const struct lesion_cohort_data *data,
						  const struct lesion_cohort_group_options *opt,
						  const char *out_dir,
						  struct lesion_error *err);

#endif
