/* bids.c: the plan of a BIDS dataset: lesion masks found by derivative
 * naming under sub-<label>/[ses-<label>/], groups and extra columns from
 * participants.tsv, days from each participant's sessions.tsv. */
#include "cohort_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const default_patterns[] = {
	"*_label-lesion*_mask.nii", "*_label-lesion*_mask.nii.gz",
	"*desc-*lesion*_mask.nii", "*desc-*lesion*_mask.nii.gz",
	"*_label-L_desc-T1lesion_mask.nii.gz", NULL,
};

static int is_dir(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted entry names of @dir starting with @prefix (NULL: all but dot files). */
static char **list_dir(const char *dir, const char *prefix, int *n)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	int cap = 16;
	char **names = malloc(sizeof(char *) * (size_t)cap);
	struct dirent *e;
	while (names && (e = readdir(d))) {
		if (e->d_name[0] == '.' ||
		    (prefix && strncmp(e->d_name, prefix, strlen(prefix)) != 0))
			continue;
		if (*n + 1 >= cap) {
			char **nn = realloc(names, sizeof(char *) * (size_t)(cap *= 2));
			if (!nn)
				break;
			names = nn;
		}
		names[*n] = lesion_strdup(e->d_name);
		if (names[*n])
			(*n)++;
	}
	closedir(d);
	if (names)
		qsort(names, (size_t)*n, sizeof(char *), cmp_str);
	return names;
}

static void free_list(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static int matches(const char *name, const struct lesion_bids_options *opt)
{
	if (opt->n_image_patterns > 0) {
		for (int i = 0; i < opt->n_image_patterns; i++)
			if (fnmatch(opt->image_patterns[i], name, 0) == 0)
				return 1;
		return 0;
	}
	for (int i = 0; default_patterns[i]; i++)
		if (fnmatch(default_patterns[i], name, 0) == 0)
			return 1;
	return 0;
}

static int wanted(const char *label, const char *const *labels, int n, const char *prefix)
{
	if (n <= 0)
		return 1;
	for (int i = 0; i < n; i++)
		if (strcmp(label, lesion_label_from_id(labels[i], prefix)) == 0)
			return 1;
	return 0;
}

/* Masks of one session folder (@rel relative to @root): in it and in its
 * datatype folders (anat/, dwi/...). Appends relative paths to @found. */
static void find_masks(const char *root, const char *rel,
		       const struct lesion_bids_options *opt, struct lesion_buf *found,
		       int *n_found)
{
	char *dir = lesion_path_join(root, rel);
	int n;
	char **names = dir ? list_dir(dir, NULL, &n) : NULL;
	for (int i = 0; names && i < n; i++) {
		char *sub_rel = lesion_path_join(rel, names[i]);
		char *sub = sub_rel ? lesion_path_join(root, sub_rel) : NULL;
		if (sub && is_dir(sub)) {
			int m;
			char **inner = list_dir(sub, NULL, &m);
			for (int j = 0; j < m; j++) {
				char *f = lesion_path_join(sub, inner[j]);
				if (f && !is_dir(f) && matches(inner[j], opt)) {
					lesion_buf_printf(found, "%s/%s%c", sub_rel, inner[j], 0);
					(*n_found)++;
				}
				free(f);
			}
			free_list(inner, m);
		} else if (sub && matches(names[i], opt)) {
			lesion_buf_printf(found, "%s%c", sub_rel, 0);
			(*n_found)++;
		}
		free(sub);
		free(sub_rel);
	}
	free_list(names, n);
	free(dir);
}

/* The first file (name order) of @mask's folder matching @pattern, other
 * than the mask itself: the anatomy of a quicklook; NULL when none. */
static char *find_anatomy(const char *mask, const char *pattern)
{
	char *dir = lesion_strdup(mask), *found = NULL;
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int n = 0;
	if (!slash) {
		free(dir);
		return NULL;
	}
	*slash = '\0';
	char **names = list_dir(dir, NULL, &n);
	for (int i = 0; names && i < n && !found; i++) {
		if (fnmatch(pattern, names[i], 0) != 0 || strcmp(names[i], slash + 1) == 0)
			continue;
		char *f = lesion_path_join(dir, names[i]);
		if (f && !is_dir(f))
			found = f;
		else
			free(f);
	}
	free_list(names, n);
	free(dir);
	return found;
}

/* Days per session from sub-<label>/sub-<label>_sessions.tsv, if any. */
static double session_days(const struct lesion_tsv *t, const char *session)
{
	int cs = t ? lesion_tsv_column(t, "session_id") : -1;
	int cd = t ? lesion_tsv_column(t, "days") : -1;
	if (cs < 0 || cd < 0)
		return NAN;
	for (int r = 0; r < t->n_rows; r++)
		if (strcmp(lesion_label_from_id(t->cells[r][cs], "ses-"), session) == 0) {
			char *end;
			double d = strtod(t->cells[r][cd], &end);
			return end != t->cells[r][cd] && !*end && isfinite(d) ? d : NAN;
		}
	return NAN;
}

struct participants_table {
	struct lesion_tsv t;
	int present, c_id, c_group;
	int *extra_cols;
};

static enum lesion_status read_participants(const char *root,
					    const struct lesion_bids_options *opt,
					    struct lesion_cohort_plan *plan,
					    struct participants_table *pt,
					    struct lesion_error *err)
{
	const char *gcol = opt->group_column ? opt->group_column : "group";
	char *path = lesion_path_join(root, "participants.tsv");
	struct stat sb;
	enum lesion_status st = LESION_OK;
	memset(pt, 0, sizeof(*pt));
	pt->c_group = -1;
	if (!path)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	if (stat(path, &sb) != 0) {
		if (opt->group_column_required)
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"'%s' does not exist, so there is no group column '%s'", path, gcol);
		free(path);
		return st;
	}
	if ((st = lesion_tsv_read(path, &pt->t, err)))
		goto out;
	pt->present = 1;
	plan->sources[plan->n_sources++] = path;
	path = NULL;
	pt->c_id = lesion_tsv_column(&pt->t, "participant_id");
	pt->c_group = lesion_tsv_column(&pt->t, gcol);
	if (pt->c_id < 0) {
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"'%s' line 1: missing column 'participant_id'", plan->sources[0]);
		goto out;
	}
	if (pt->c_group < 0 && opt->group_column_required) {
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"'%s' line 1: no column '%s' (--group-column)", plan->sources[0], gcol);
		goto out;
	}
	pt->extra_cols = calloc((size_t)pt->t.n_columns + 1, sizeof(int));
	plan->extra_names = calloc((size_t)pt->t.n_columns + 1, sizeof(char *));
	if (!pt->extra_cols || !plan->extra_names)
		goto oom;
	for (int c = 0; c < pt->t.n_columns; c++) {
		if (c == pt->c_id || c == pt->c_group)
			continue;
		pt->extra_cols[plan->n_extra] = c;
		if (!(plan->extra_names[plan->n_extra++] = lesion_strdup(pt->t.columns[c])))
			goto oom;
	}
	goto out;
oom:
	st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
out:
	free(path);
	return st;
}

static int participants_row(const struct participants_table *pt, const char *label)
{
	for (int r = 0; pt->present && r < pt->t.n_rows; r++)
		if (strcmp(lesion_label_from_id(pt->t.cells[r][pt->c_id], "sub-"), label) == 0)
			return r;
	return -1;
}

static char *na_dup(const char *s)
{
	return !s || !*s || strcmp(s, "n/a") == 0 ? NULL : lesion_strdup(s);
}

/* "sub-<label>" of every folder and participants.tsv row, sorted, once
 * each; NULL when out of memory. */
static char **participant_names(char **subs, int n_subs, const struct participants_table *pt,
				int *n)
{
	int cap = n_subs + (pt->present ? pt->t.n_rows : 0) + 1;
	char **names = calloc((size_t)cap, sizeof(char *));
	*n = 0;
	if (!names)
		return NULL;
	for (int i = 0; i < n_subs; i++)
		if (!(names[(*n)++] = lesion_strdup(subs[i])))
			goto oom;
	for (int r = 0; pt->present && r < pt->t.n_rows; r++) {
		const char *label = lesion_label_from_id(pt->t.cells[r][pt->c_id], "sub-");
		if (!*label)
			continue;
		struct lesion_buf b = {0};
		lesion_buf_printf(&b, "sub-%s", label);
		if (b.failed)
			goto oom;
		names[(*n)++] = b.data;
	}
	qsort(names, (size_t)*n, sizeof(char *), cmp_str);
	int k = 0;
	for (int i = 0; i < *n; i++) {
		if (k && strcmp(names[k - 1], names[i]) == 0)
			free(names[i]);
		else
			names[k++] = names[i];
	}
	*n = k;
	return names;
oom:
	free_list(names, *n);
	return NULL;
}

/* Timepoints of one participant folder. */
static enum lesion_status add_participant(const char *root, const char *name,
					  const struct lesion_bids_options *opt,
					  const struct participants_table *pt,
					  struct lesion_cohort_plan *plan)
{
	struct lesion_cohort_participant *p = &plan->participants[plan->n_participants];
	struct lesion_buf found = {0}, problems = {0};
	struct lesion_tsv sessions;
	int have_sessions_tsv = 0, n_ses = 0;
	char **ses = NULL;
	enum lesion_status st = LESION_OK;
	memset(p, 0, sizeof(*p));
	if (lesion_cohort_participant_set_id(p, name, 0))
		goto oom;
	plan->n_participants++;
	if (p->error)
		return LESION_OK;
	int row = participants_row(pt, p->label);
	if (row >= 0 && pt->c_group >= 0 && pt->t.cells[row][pt->c_group][0] &&
	    strcmp(pt->t.cells[row][pt->c_group], "n/a") != 0 &&
	    !(p->group = lesion_strdup(pt->t.cells[row][pt->c_group])))
		goto oom;
	char *sdir = lesion_path_join(root, name);
	struct lesion_buf stsv = {0};
	lesion_buf_printf(&stsv, "%s/%s_sessions.tsv", sdir ? sdir : "", name);
	if (stsv.data && lesion_tsv_read(stsv.data, &sessions, NULL) == LESION_OK)
		have_sessions_tsv = 1;
	lesion_buf_release(&stsv);
	ses = sdir ? list_dir(sdir, "ses-", &n_ses) : NULL;
	free(sdir);
	p->timepoints = calloc((size_t)n_ses + 2, sizeof(*p->timepoints));
	if (!p->timepoints)
		goto oom;
	for (int s = 0; s <= n_ses; s++) {
		/* s == n_ses: masks directly under sub-<label>/ (no sessions) */
		if (s == n_ses && n_ses > 0)
			break;
		const char *slabel = s < n_ses ? ses[s] + 4 : "";
		if (s < n_ses && !wanted(slabel, opt->session_labels, opt->n_session_labels, "ses-"))
			continue;
		char *rel = s < n_ses ? lesion_path_join(name, ses[s]) : lesion_strdup(name);
		int n_found = 0;
		lesion_buf_release(&found);
		if (rel)
			find_masks(root, rel, opt, &found, &n_found);
		free(rel);
		if (found.failed)
			goto oom;
		if (n_found > 1) {
			lesion_buf_printf(&problems, "%s%d lesion masks match for session '%s' "
					  "('%s', '%s'...); choose one with --image-pattern",
					  problems.len ? "; " : "", n_found, slabel, found.data,
					  found.data + strlen(found.data) + 1);
			/* the session still gets its row, showing the first match */
		}
		if (n_found == 0)
			continue;
		struct lesion_cohort_timepoint *tp = &p->timepoints[p->n_timepoints++];
		tp->session = lesion_strdup(slabel);
		tp->days = have_sessions_tsv ? session_days(&sessions, slabel) : NAN;
		tp->image = lesion_strdup(found.data);
		tp->image_path = lesion_path_join(root, found.data);
		tp->extra = calloc((size_t)plan->n_extra + 1, sizeof(char *));
		if (!tp->session || !tp->image || !tp->image_path || !tp->extra)
			goto oom;
		if (opt->anatomy_pattern)
			tp->anatomy_path = find_anatomy(tp->image_path, opt->anatomy_pattern);
		for (int e = 0; row >= 0 && e < plan->n_extra; e++)
			tp->extra[e] = na_dup(pt->t.cells[row][pt->extra_cols[e]]);
	}
	if (problems.failed)
		goto oom;
	p->error = problems.data;
	problems.data = NULL;
	lesion_cohort_sort_timepoints(p);
	goto out;
oom:
	st = LESION_ERR_INTERNAL;
out:
	free_list(ses, n_ses);
	if (have_sessions_tsv)
		lesion_tsv_release(&sessions);
	lesion_buf_release(&found);
	lesion_buf_release(&problems);
	return st;
}

enum lesion_status lesion_cohort_plan_from_bids(const char *bids_dir,
						const struct lesion_bids_options *opt,
						struct lesion_cohort_plan *out,
						struct lesion_error *err)
{
	struct participants_table pt;
	char **subs = NULL, **names = NULL;
	int n_subs = 0, n_names = 0;
	enum lesion_status st = LESION_OK;
	memset(out, 0, sizeof(*out));
	memset(&pt, 0, sizeof(pt));
	for (int i = 0; i < opt->n_participant_labels; i++)
		if (!lesion_label_valid(lesion_label_from_id(opt->participant_labels[i], "sub-")))
			return lesion_error_set(err, LESION_ERR_USAGE,
				"invalid participant label '%s': a BIDS label holds only "
				"letters and digits", opt->participant_labels[i]);
	for (int i = 0; i < opt->n_session_labels; i++)
		if (!lesion_label_valid(lesion_label_from_id(opt->session_labels[i], "ses-")))
			return lesion_error_set(err, LESION_ERR_USAGE,
				"invalid session label '%s': a BIDS label holds only letters "
				"and digits", opt->session_labels[i]);
	char *root = realpath(bids_dir, NULL);
	if (!root || !is_dir(root)) {
		st = lesion_error_set(err, LESION_ERR_INPUT, "'%s' is not a folder%s%s", bids_dir,
				      root ? "" : ": ", root ? "" : strerror(errno));
		free(root);
		return st;
	}
	subs = list_dir(root, "sub-", &n_subs);
	out->sources = calloc(2, sizeof(char *));
	if (!out->sources)
		goto oom;
	if ((st = read_participants(root, opt, out, &pt, err)))
		goto out;
	out->participants = calloc((size_t)(n_subs + pt.t.n_rows) + 1,
				   sizeof(*out->participants));
	if (!out->participants)
		goto oom;
	if (!out->extra_names && !(out->extra_names = calloc(1, sizeof(char *))))
		goto oom;
	/* the participants: every row of participants.tsv (the enrolled ones,
	 * imaged or not) and every sub-<label> folder */
	if (!(names = participant_names(subs, n_subs, &pt, &n_names)))
		goto oom;
	for (int i = 0; i < opt->n_participant_labels; i++) {
		const char *want = lesion_label_from_id(opt->participant_labels[i], "sub-");
		int k = 0;
		while (k < n_names && strcmp(names[k] + 4, want) != 0)
			k++;
		if (k == n_names) {
			st = lesion_error_set(err, LESION_ERR_INPUT,
				"participant 'sub-%s' is not in '%s' (neither a folder nor a row "
				"of participants.tsv)", want, bids_dir);
			goto out;
		}
	}
	for (int i = 0; i < n_names; i++) {
		char *path = lesion_path_join(root, names[i]);
		int folder = path && is_dir(path);
		free(path);
		int listed = !pt.present || participants_row(&pt, names[i] + 4) >= 0;
		int asked = opt->n_participant_labels > 0;
		if (!wanted(names[i] + 4, opt->participant_labels, opt->n_participant_labels,
			    "sub-") || (!folder && !listed))
			continue;
		if (add_participant(root, names[i], opt, &pt, out))
			goto oom;
		struct lesion_cohort_participant *p = &out->participants[out->n_participants - 1];
		if (p->n_timepoints > 0 || p->error)
			continue;
		if (asked || (listed && !opt->n_session_labels)) {
			/* enrolled (or asked for) but never imaged: a row that says so */
			if (!(p->error = lesion_strdup(LESION_REASON_NO_MASKS)))
				goto oom;
		} else {
			/* masks for other sessions only, or a folder participants.tsv
			 * does not list: not part of this analysis */
			free(p->participant_id);
			free(p->label);
			free(p->group);
			free(p->timepoints);
			out->n_participants--;
		}
	}
	int n_timepoints = 0;
	for (int i = 0; i < out->n_participants; i++)
		n_timepoints += out->participants[i].n_timepoints;
	/* a dataset without a single mask is a wrong --image-pattern, not a
	 * study; asked for by name, a participant gets its row instead */
	if (n_timepoints == 0 && opt->n_participant_labels == 0)
		st = lesion_error_set(err, LESION_ERR_INPUT,
			"no lesion masks found in '%s' (sub-*/[ses-*/][anat/] files named like "
			"%s; --image-pattern chooses others)", bids_dir,
			opt->n_image_patterns ? opt->image_patterns[0] : "*_label-lesion_mask.nii.gz");
	goto out;
oom:
	st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
out:
	free(pt.extra_cols);
	lesion_tsv_release(&pt.t);
	free_list(subs, n_subs);
	free_list(names, n_names);
	free(root);
	if (st)
		lesion_cohort_plan_release(out);
	return st;
}
