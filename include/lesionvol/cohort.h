/* lesionvol/cohort.h: whole studies: the manifest, the
 * plan of participants and timepoints (from a manifest or a BIDS tree), the
 * participant level (one JSON file per participant) and the group level
 * (tables aggregated from those files). */
#ifndef LESIONVOL_COHORT_H
#define LESIONVOL_COHORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lesionvol/segment.h"
#include "lesionvol/status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lesion_atlas;

/*
 * struct lesion_tsv - a tab-separated table with a header row, as read by
 * lesion_tsv_parse(): UTF-8 (a leading byte-order mark is dropped), LF or
 * CRLF line ends, blank lines ignored, fields trimmed of spaces.
 */
struct lesion_tsv {
	int n_columns;
	char **columns;
	int n_rows;
	char ***cells;   /* [row][column], never NULL */
	int *lines;      /* the 1-based line number of each row */
};

/*
 * lesion_tsv_parse() - parse @size bytes of @text; @name (the file) is used
 * in messages. Every row must have as many fields as the header; column
 * names must be unique and non-empty. Errors (LESION_ERR_INPUT) name the
 * file and the line: "'m.tsv' line 4: 3 fields, the header has 4". Release
 * with lesion_tsv_release().
 */
enum lesion_status lesion_tsv_parse(const char *text, size_t size, const char *name,
				    struct lesion_tsv *out, struct lesion_error *err);

/* lesion_tsv_read() - lesion_tsv_parse() of the file @path. */
enum lesion_status lesion_tsv_read(const char *path, struct lesion_tsv *out,
				   struct lesion_error *err);

/* lesion_tsv_column() - the index of column @name, or -1. */
int lesion_tsv_column(const struct lesion_tsv *t, const char *name);

/* lesion_tsv_release() - free what @t owns. */
void lesion_tsv_release(struct lesion_tsv *t);

/*
 * lesion_label_valid() - whether @label is a BIDS label: one or more ASCII
 * letters and digits. Only valid labels ever become folder names, so an id
 * such as "../../etc" can never address a file outside the output folder.
 */
int lesion_label_valid(const char *label);

/*
 * lesion_label_from_id() - the label of an id: "sub-01" -> "01" with
 * @prefix "sub-"; an id without the prefix is its own label. Returns a
 * pointer into @id.
 */
const char *lesion_label_from_id(const char *id, const char *prefix);

/*
 * Reasons. The message of a participant, session or change that could not be
 * measured starts with a short reason that stays the same from release to
 * release, then ": " and the details (files, numbers), e.g. "unreadable
 * image: unable to read 'x.nii.gz': truncated data"; a reason alone needs
 * no details ("no lesion masks"). Tables of who was left out of an analysis
 * group by it (lesion_reason_length()). The reasons:
 *   participant: "no lesion masks" (listed, never imaged), "invalid
 *     participant label", "different brain masks", "invalid session label",
 *     "image not written";
 *     at the group level also "no result", "out of date", "other parameters";
 */
#define LESION_REASON_NO_MASKS "no lesion masks"

/*
 * lesion_reason_length() - the length of the reason that starts @message:
 * up to its first ": ", else all of it; 0 for NULL.
 */
size_t lesion_reason_length(const char *message);

/* One data row of a manifest. Paths are resolved against the manifest's
 * folder (made absolute); "as written" values are kept for the tables. */
struct lesion_manifest_row {
	int line;                 /* 1-based line in the file */
	char *participant_id;     /* as written */
	char *session;            /* as written */
	char *image;              /* as written; NULL for n/a: a participant
				     listed without an image */
	char *image_path;         /* resolved; NULL with image */
	char *group;              /* NULL when the column is absent, empty or n/a */
	double days;              /* NaN when the column is absent, empty or n/a */
	char *mask_path;          /* resolved; NULL when absent, empty or n/a */
	char *anatomy_path;       /* resolved; NULL when absent, empty or n/a */
	char **extra;             /* n_extra values as written, NULL for empty/n/a */
};

/*
 * struct lesion_manifest - a cohort manifest: required
 * columns participant_id, session, image; optional group, days, mask and
 * anatomy (the scan a quicklook draws the lesion over); any other column is
 * kept (@extra_names, in file order).
 */
struct lesion_manifest {
	char *path;
	char *dir;                /* absolute folder of the manifest */
	int has_group, has_days, has_mask, has_anatomy;
	int n_extra;
	char **extra_names;
	int n_rows;
	struct lesion_manifest_row *rows;
};

/*
 * lesion_manifest_parse() - a manifest from @text (@name for messages),
 * relative paths resolved against @base_dir. An image that is empty or n/a
 * lists a participant without an image (its session may then be n/a too):
 * one with no image at all gets the error "no lesion masks" in the plan.
 * LESION_ERR_INPUT with the line number for: no row under the header, a
 * missing required column, an empty participant_id, or session with an
 * image, a days value that is not a finite number, a duplicate
 * (participant, session) pair (both lines named; "sub-01" and "01" are the
 * same participant, "ses-1" and "1" the same session), a participant given
 * two different groups, a UTF-16 file or invalid UTF-8. Labels are not
 * checked here: an invalid one fails only its participant (see
 * lesion_cohort_plan_from_manifest()). Release with lesion_manifest_release().
 */
enum lesion_status lesion_manifest_parse(const char *text, size_t size,
					 const char *name, const char *base_dir,
					 struct lesion_manifest *out,
					 struct lesion_error *err);

/* lesion_manifest_read() - lesion_manifest_parse() of the file @path,
 * relative to its own folder. */
enum lesion_status lesion_manifest_read(const char *path, struct lesion_manifest *out,
					struct lesion_error *err);

/* lesion_manifest_release() - free what @m owns. */
void lesion_manifest_release(struct lesion_manifest *m);

/* One timepoint of a participant in a plan. */
struct lesion_cohort_timepoint {
	char *session;            /* label: "ses-" removed; "" when there is none */
	double days;              /* NaN: unknown */
	char *image;              /* as shown in the tables */
	char *image_path;         /* the file that is read */
	char *mask_path;          /* brain mask of this timepoint, NULL: the run's */
	char *anatomy_path;       /* background of its quicklook, NULL: the image */
	char **extra;             /* plan n_extra values, NULL for n/a */
};

/* One participant of a plan. */
struct lesion_cohort_participant {
	char *participant_id;     /* "sub-<label>"; as written when invalid */
	char *label;              /* NULL when the id is not a valid label */
	char *group;              /* NULL: none */
	char *error;              /* why it cannot be processed, else NULL */
	int n_timepoints;
	struct lesion_cohort_timepoint *timepoints; /* days order, then given order */
};

/*
 * struct lesion_cohort_plan - who and what a run processes, the same for a
 * manifest and a BIDS tree. Participants are sorted by participant_id
 * (byte order). @sources lists the files the plan was read from (manifest,
 * participants.tsv) for provenance.json.
 */
struct lesion_cohort_plan {
	int n_extra;
	char **extra_names;
	int n_participants;
	struct lesion_cohort_participant *participants;
	int n_sources;
	char **sources;
};

/*
 * lesion_cohort_plan_from_manifest() - group the rows of @m by participant.
 * A participant whose label is not valid (lesion_label_valid()) gets @error
 * set ("invalid participant label: '../x' ...") and is never given a folder;
 * one listed without any image gets "no lesion masks".
 */
enum lesion_status lesion_cohort_plan_from_manifest(const struct lesion_manifest *m,
						    struct lesion_cohort_plan *out,
						    struct lesion_error *err);

/*
 * struct lesion_bids_options - what lesion_cohort_plan_from_bids() looks for.
 * Labels may be given with or without their "sub-"/"ses-" prefix.
 */
struct lesion_bids_options {
	const char *const *participant_labels; /* NULL/0: every participant */
	int n_participant_labels;
	const char *const *session_labels;     /* NULL/0: every session */
	int n_session_labels;
	const char *const *image_patterns;     /* fnmatch globs on file names; NULL/0: defaults */
	int n_image_patterns;
	const char *anatomy_pattern;           /* fnmatch glob: the quicklook's anatomy
						  in each mask's folder (first match in
						  name order); NULL: none */
	const char *group_column;              /* of participants.tsv; NULL: "group" */
	int group_column_required;             /* error when participants.tsv lacks it */
};

/*
 * lesion_cohort_plan_from_bids() - find the lesion masks of a BIDS dataset:
 * BIDS_DIR/sub-<label>/[ses-<label>/]anat/ files whose names match the
 * patterns (default: *_label-lesion*_mask.nii[.gz], *desc-*lesion*_mask.nii[.gz]
 * and ATLAS's *_label-L_desc-T1lesion_mask.nii.gz). Groups and extra columns
 * come from participants.tsv, days from sub-<label>/sub-<label>_sessions.tsv
 * (column "days") when present. Two matching masks for one session fail that
 * participant (naming both). The participants are the rows of
 * participants.tsv and the sub-<label> folders (without participants.tsv:
 * the folders); one of them without a single mask gets the error "no lesion
 * masks" (a folder participants.tsv does not list, and with session labels
 * one whose masks are all of other sessions, is left out unless asked for).
 * LESION_ERR_USAGE for an invalid requested label, LESION_ERR_INPUT when
 * BIDS_DIR is not a folder, a requested label is neither a folder nor a row
 * of participants.tsv, or no participant asked for has a mask.
 */
enum lesion_status lesion_cohort_plan_from_bids(const char *bids_dir,
						const struct lesion_bids_options *opt,
						struct lesion_cohort_plan *out,
						struct lesion_error *err);

/* lesion_cohort_plan_release() - free what @plan owns. */
void lesion_cohort_plan_release(struct lesion_cohort_plan *plan);

/*
 * struct lesion_cohort_options - how the participant level measures.
 * @progress, when not NULL, is called after each participant (serialised,
 * from any thread) with the number done, the total and how many of the done
 * ones were up to date already.
 */
struct lesion_cohort_options {
	struct lesion_rule rule;
	const char *mask_path;        /* brain mask for timepoints without their own */
	int64_t volume_index;         /* -1: images must be 3D */
	int consecutive;              /* also each timepoint against the one before */
	int force;                    /* recompute even when up to date */
	int quicklook;                /* draw sub-<label>/sub-<label>_quicklook.png */
	int save_masks;               /* write each session's lesion mask */
	int save_change_maps;         /* write each later session's change map */
	/* lesion load per region (atlas.h) of every timepoint, or NULL; read
	 * once by the caller and only read here, by every thread at once */
	const struct lesion_atlas *atlas;
	/* keep each participant's result in its outcome for
	 * lesion_cohort_aggregate() in the same process, which then need not
	 * read and parse the files back (the serial part of a cohort run) */
	int keep_results;
	void (*progress)(void *ctx, int done, int total, int reused);
	void *progress_ctx;
};

/* lesion_cohort_options_init() - the default rule, 3D images, no mask. */
void lesion_cohort_options_init(struct lesion_cohort_options *opt);

/* What happened to one participant at the participant level. */
struct cJSON;
struct lesion_cohort_outcome {
	enum lesion_status status;    /* LESION_OK or why it failed */
	int reused;                   /* its results were up to date */
	char message[LESION_ERROR_MAX];
	/* with keep_results: the file's document as written, without the
	 * component lists; lesion_cohort_aggregate() takes it */
	struct cJSON *result;
};

/*
 * lesion_cohort_outcomes_release() - free the results kept in @n outcomes
 * (those lesion_cohort_aggregate() did not take); the array stays the
 * caller's.
 */
void lesion_cohort_outcomes_release(struct lesion_cohort_outcome *outcomes, int n);

/*
 * lesion_cohort_run_participants() - the participant level: for every
 * participant of @plan in parallel (OpenMP, dynamic schedule; one
 * participant's images in memory per thread), measure its timepoints with
 * lesion_series_run() and write OUT_DIR/sub-<label>/sub-<label>_lesionvol.json
 * atomically. With @opt->atlas the file also holds the atlas's regions and
 * each timepoint's lesion load per region; a participant whose images are
 * not on the atlas's grid fails alone. The atlas file and its names file
 * are inputs like the images (a changed atlas recomputes). The file records the inputs (path, size, mtime, ctime,
 * SHA-256) and parameters; a participant whose file records the same inputs
 * (by size, mtime and ctime) and parameters is not recomputed unless
 * @opt->force (its file is rewritten only if the group or extra columns
 * changed).
 *
 * With @opt->quicklook each participant also gets
 * OUT_DIR/sub-<label>/sub-<label>_quicklook.png (atomically): the
 * baseline-vs-last change map (resolved blue, persistent yellow, new red),
 * or the lesion of a single timepoint, over the last timepoint's anatomy
 * (or image). Its record in the JSON file holds a key of the results and
 * the anatomy's fingerprint: an up-to-date picture is not redrawn, a
 * missing or outdated one makes the participant recompute, and a picture
 * that no longer matches its results is removed (even without
 * @opt->quicklook), so a report never shows a stale one. A picture that
 * cannot be drawn (grids differ) is a warning, not a failure. Memory: the
 * participant's map and one image more per thread.
 *
 * With @opt->save_masks every timepoint gets
 * OUT_DIR/sub-<label>/sub-<label>[_ses-<session>]_label-lesion_mask.nii.gz,
 * the lesion voxels it counted (uint8 0/1, the input's header: sform,
 * qform, pixdim, units); with @opt->save_change_maps every later timepoint
 * gets sub-<label>_ses-<session>_desc-change_dseg.nii.gz, its change map
 * against the baseline (0 background, 1 resolved, 2 persistent, 3 new),
 * except when the two are on different grids (then the change's warning
 * says no map was written). They follow their results like the picture:
 * recorded with the results' key, written again only when missing or
 * outdated (which recomputes the participant), kept by a run without the
 * option while they match, removed when they no longer do. Sessions must
 * be BIDS labels. An image that cannot be written fails its participant
 * (status error, LESION_ERR_PARTIAL overall), never the run. Memory: a
 * single-timepoint participant is loaded instead of streamed.
 *
 * Several processes may run this on one OUT_DIR at once: each
 * participant's folder is locked while it is written, and nothing outside
 * the sub-<label>/ folders is written.
 *
 * @outcomes (n_participants entries) receives each participant's fate. A
 * participant whose images cannot be read fails alone (its file records the
 * error). Returns LESION_OK, LESION_ERR_PARTIAL (some participants failed),
 * LESION_ERR_WRITE (OUT_DIR or a participant's file cannot be written).
 */
enum lesion_status lesion_cohort_run_participants(const struct lesion_cohort_plan *plan,
						  const char *out_dir,
						  const struct lesion_cohort_options *opt,
						  struct lesion_cohort_outcome *outcomes,
						  struct lesion_error *err);

/* Options of the group level. */
struct lesion_cohort_group_options {
	const char *compare_a, *compare_b;  /* --compare A,B; NULL: automatic */
	double log_offset_ml;               /* c of log(mL + c), default 1 */
	const char *const *covariates;      /* extra columns entering the ANCOVA */
	int n_covariates;
	int all_regions;                    /* regions.tsv: every atlas region, not
					       only those lesioned in someone */
	/* provenance.json */
	const char *command;                /* "cohort", "bids" */
	int argc;
	const char *const *argv;            /* the command line as typed */
	int n_parameters;                   /* every option of the command, given or default */
	const char *const *parameter_names;
	const char *const *parameter_values; /* NULL: not given, no default */
	struct timespec started;
};

/* lesion_cohort_group_options_init() - log offset 1 mL, the rest empty. */
void lesion_cohort_group_options_init(struct lesion_cohort_group_options *opt);

/* Counts of a group-level run. */
struct lesion_cohort_summary {
	int n_participants, n_failed;
	int n_timepoints, n_changes;
};

/*
 * lesion_cohort_aggregate() - the group level: read every participant's JSON
 * file in OUT_DIR (never an image) and write timepoints.tsv, changes.tsv,
 * groups.tsv, dataset_description.json and provenance.json (and, through the
 * statistics module, comparison.json). When the participants were measured
 * with an atlas, also regions.tsv: a row per participant, session and region
 * (the regions lesioned in some participant and session, or every region
 * with @opt->all_regions), with the change against the baseline session. A participant of @plan without a
 * readable file, whose file is for other sessions, or that failed gets
 * status "error" and a message in its rows. @outcomes (from
 * lesion_cohort_run_participants(), may be NULL) adds failures the files do
 * not record (e.g. a file that could not be written), and the results kept
 * with keep_results, which are used instead of reading their files back
 * (the same documents: numbers round-trip exactly) and taken (set NULL). Output is the same for
 * any run order, thread count or number of participant-level processes.
 * Returns LESION_OK, LESION_ERR_PARTIAL (some participants failed),
 * LESION_ERR_INPUT (every participant failed: the tables are written all the
 * same, holding nothing but errors) or LESION_ERR_WRITE.
 */
enum lesion_status lesion_cohort_aggregate(const struct lesion_cohort_plan *plan,
					   const char *out_dir,
					   struct lesion_cohort_outcome *outcomes,
					   const struct lesion_cohort_group_options *opt,
					   struct lesion_cohort_summary *summary,
					   struct lesion_error *err);

#ifdef __cplusplus
}
#endif
#endif
