/* simulate.c: a synthetic stroke cohort with exact ground truth: plans every
 * participant (group, age, lesion volume course), renders its sessions in
 * parallel and writes a BIDS-shaped dataset with a manifest and truth.tsv. */
#include "lesionvol/simulate.h"
#include "lesionvol/number.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lesionvol/io.h"
#include "simulate_internal.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* a fused multiply-add would change the bits */
#endif

/* Lesion volume relative to the acute one, by session: vasogenic oedema
 * peaks around day 7, then the infarct contracts as it cavitates. */
static const double course[LESION_SIM_MAX_SESSIONS] = {
	1.0, 1.2, 0.6, 0.55, 0.5, 0.48, 0.47, 0.46, 0.45, 0.45, 0.44, 0.44,
};
static const int session_days[5] = {1, 7, 90, 180, 365};

#define NOISE_SD_1MM 0.035    /* image noise at 1 mm^3, relative to white matter */
#define ACUTE_LOG_MEDIAN 9.392661928770137 /* ln(12000 mm^3): median 12 mL */
#define ACUTE_LOG_SD 1.2

int lesion_sim_session_days(int session)
{
	if (session < 0)
		return 0;
	if (session < 5)
		return session_days[session];
	return 365 * (session - 3);
}

void lesion_sim_params_init(struct lesion_sim_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n_subjects = 8;
	p->n_sessions = 3;
	p->n_groups = 2;
	strcpy(p->groups[0], "treated");
	strcpy(p->groups[1], "control");
	p->effect = 0.3;
	p->dim[0] = 182;
	p->dim[1] = 218;
	p->dim[2] = 182;
	for (int i = 0; i < 3; i++)
		p->voxel_size_mm[i] = 1.0;
	p->datatype = LESION_DT_INT16;
	p->seed = 1;
	p->gzip = 1;
}

static int valid_group_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

enum lesion_status lesion_sim_params_check(struct lesion_sim_params *p,
					   struct lesion_error *err)
{
	if (p->n_subjects < 1 || p->n_subjects > LESION_SIM_MAX_SUBJECTS)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"number of subjects must be 1..%d, not %d",
			LESION_SIM_MAX_SUBJECTS, p->n_subjects);
	if (p->n_sessions < 1 || p->n_sessions > LESION_SIM_MAX_SESSIONS)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"number of sessions must be 1..%d, not %d",
			LESION_SIM_MAX_SESSIONS, p->n_sessions);
	if (p->n_groups < 1 || p->n_groups > LESION_SIM_MAX_GROUPS)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"number of groups must be 1..%d, not %d",
			LESION_SIM_MAX_GROUPS, p->n_groups);
	for (int i = 0; i < p->n_groups; i++) {
		if (!memchr(p->groups[i], '\0', LESION_SIM_GROUP_MAX) ||
		    !valid_group_name(p->groups[i]))
			return lesion_error_set(err, LESION_ERR_USAGE,
				"group name '%.*s' must be 1..%d letters, digits, '-' or '_'",
				LESION_SIM_GROUP_MAX - 1, p->groups[i], LESION_SIM_GROUP_MAX - 1);
		for (int j = 0; j < i; j++)
			if (strcmp(p->groups[i], p->groups[j]) == 0)
				return lesion_error_set(err, LESION_ERR_USAGE,
					"group '%s' is named twice", p->groups[i]);
	}
	if (!(p->effect >= -1.0 && p->effect <= 0.95))
		return lesion_error_set(err, LESION_ERR_USAGE,
			"effect must be between -1 and 0.95, not %g", p->effect);
	int64_t n = 1;
	for (int i = 0; i < 3; i++) {
		if (p->dim[i] < 16 || p->dim[i] > 2048)
			return lesion_error_set(err, LESION_ERR_USAGE,
				"each dimension must be 16..2048 voxels, not %lld",
				(long long)p->dim[i]);
		n *= p->dim[i];
		if (!(p->voxel_size_mm[i] >= 0.05 && p->voxel_size_mm[i] <= 20.0))
			return lesion_error_set(err, LESION_ERR_USAGE,
				"each voxel size must be 0.05..20 mm, not %g",
				p->voxel_size_mm[i]);
		/* the header stores float32: use exactly what readers will see */
		p->voxel_size_mm[i] = (double)(float)p->voxel_size_mm[i];
	}
	if (n > (INT64_C(1) << 29))
		return lesion_error_set(err, LESION_ERR_USAGE,
			"%lldx%lldx%lld is too many voxels (at most 2^29)",
			(long long)p->dim[0], (long long)p->dim[1], (long long)p->dim[2]);
	if (p->datatype != LESION_DT_UINT8 && p->datatype != LESION_DT_INT16 &&
	    p->datatype != LESION_DT_FLOAT32)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"datatype must be uint8, int16 or float32");
	return LESION_OK;
}

/* What is drawn for a participant before any image. */
struct plan {
	int group;
	int age;
	double volume_mm3[LESION_SIM_MAX_SESSIONS]; /* template mm^3 */
};

static void plan_subject(const struct lesion_sim_params *p, int s, struct plan *pl)
{
	/* block randomisation: each block of n_groups participants holds every
	 * group once, so groups stay balanced whatever the cohort size */
	struct sim_rng r;
	int perm[LESION_SIM_MAX_GROUPS];
	sim_rng_init(&r, p->seed, SIM_STREAM_BLOCK, (uint64_t)(s / p->n_groups), 0);
	for (int i = 0; i < p->n_groups; i++)
		perm[i] = i;
	for (int i = p->n_groups - 1; i > 0; i--) {
		int j = sim_rng_int(&r, i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	pl->group = perm[s % p->n_groups];

	sim_rng_init(&r, p->seed, SIM_STREAM_SUBJECT, (uint64_t)s, 0);
	double age = floor(70.0 + 12.0 * sim_rng_normal(&r) + 0.5);
	pl->age = (int)(age < 35 ? 35 : (age > 95 ? 95 : age));
	double acute = sim_exp(ACUTE_LOG_MEDIAN + ACUTE_LOG_SD * sim_rng_normal(&r));
	acute = acute < 250.0 ? 250.0 : (acute > 200000.0 ? 200000.0 : acute);
	double subject_z = 0.12 * sim_rng_normal(&r);
	double treat = (p->n_groups > 1 && pl->group == 0) ? 1.0 - p->effect : 1.0;
	pl->volume_mm3[0] = acute;
	for (int k = 1; k < LESION_SIM_MAX_SESSIONS; k++)
		pl->volume_mm3[k] = acute * course[k] * treat *
				    sim_exp(subject_z + 0.08 * sim_rng_normal(&r));
}

static int id_width(int n_subjects)
{
	int w = 1;
	for (int n = n_subjects; n >= 10; n /= 10)
		w++;
	return w < 2 ? 2 : w;
}

static enum lesion_status make_dir(const char *path, struct lesion_error *err)
{
	if (mkdir(path, 0777) == 0 || errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return LESION_OK;
		return lesion_error_set(err, LESION_ERR_WRITE,
			"unable to create folder '%s': a file of that name exists", path);
	}
	return lesion_error_set(err, LESION_ERR_WRITE, "unable to create folder '%s': %s",
				path, strerror(errno));
}

/* mkdir -p, then the not-empty check. */
static enum lesion_status prepare_dir(const char *dir, int force, struct lesion_error *err)
{
	size_t n = strlen(dir);
	char *tmp = malloc(n + 1);
	if (!tmp)
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	memcpy(tmp, dir, n + 1);
	enum lesion_status st = LESION_OK;
	for (size_t i = 1; i <= n && st == LESION_OK; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char c = tmp[i];
		tmp[i] = '\0';
		st = make_dir(tmp, err);
		tmp[i] = c;
	}
	free(tmp);
	if (st || force)
		return st;
	DIR *d = opendir(dir);
	if (!d)
		return lesion_error_set(err, LESION_ERR_WRITE, "unable to open folder '%s': %s",
					dir, strerror(errno));
	struct dirent *e;
	int empty = 1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	if (!empty)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"folder '%s' is not empty (--force writes into it, replacing "
			"files of the same names)", dir);
	return LESION_OK;
}

/* Rician magnitude noise (as in a magnitude MR image), session gain and the
 * datatype's scale, into @vol's data (WM is 500 in int16 and float32, 100
 * in uint8). */
static void store_flair(struct lesion_volume *vol, const float *image,
			const uint8_t *flags, int skull_strip, int64_t n,
			struct sim_rng *rng)
{
	double gain = 1.0 + 0.03 * sim_rng_normal(rng);
	/* as if resampled from a 1 mm acquisition: the noise sd falls with the
	 * square root of the voxel volume */
	double sd = NOISE_SD_1MM / sqrt(vol->geom.voxel_volume_mm3);
	sd = sd < 0.012 ? 0.012 : (sd > 0.1 ? 0.1 : sd);
	double scale = vol->dtype == LESION_DT_UINT8 ? 100.0 : 500.0;
	double top = vol->dtype == LESION_DT_UINT8 ? 255.0 : 32767.0;
	for (int64_t v = 0; v < n; v++) {
		double x = (double)image[v] * gain;
		double re = x + sd * sim_normal_from_bits(sim_rng_next(rng));
		double im = sd * sim_normal_from_bits(sim_rng_next(rng));
		double y = sqrt(re * re + im * im) * scale;
		if (skull_strip && !(flags[v] & SIM_BRAIN))
			y = 0.0; /* as after brain extraction; the stream is unchanged */
		if (vol->dtype == LESION_DT_FLOAT32) {
			((float *)vol->data)[v] = (float)y;
			continue;
		}
		y = floor(y + 0.5);
		if (y > top)
			y = top;
		if (vol->dtype == LESION_DT_UINT8)
			((uint8_t *)vol->data)[v] = (uint8_t)y;
		else
			((int16_t *)vol->data)[v] = (int16_t)y;
	}
}

struct subject_job {
	const char *dir;
	const struct lesion_sim_params *p;
	const struct sim_grid *g;
	int index;
	const struct plan *plan;
	struct lesion_sim_truth *rows;
};

static enum lesion_status make_subject(const struct subject_job *job,
				       struct lesion_error *err)
{
	const struct lesion_sim_params *p = job->p;
	const struct sim_grid *g = job->g;
	int s = job->index;
	size_t n = (size_t)g->n_voxels;
	enum lesion_status st = LESION_OK;
	struct sim_anatomy *anat = NULL;
	struct sim_lesion *les = NULL;
	struct lesion_volume *flair = NULL, *mask = NULL;
	float *image = malloc(n * sizeof(float)), *work = malloc(n * sizeof(float));
	uint8_t *flags = malloc(n);
	char sub[16], path[4096];
	double affine[4][4];
	struct sim_rng r;

	snprintf(sub, sizeof(sub), "sub-%0*d", id_width(p->n_subjects), s + 1);
	sim_grid_affine(g, affine);
	if (!image || !work || !flags) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	if ((st = lesion_volume_create(g->dim, (const double(*)[4])affine, p->datatype,
				       &flair, err)) ||
	    (st = lesion_volume_create(g->dim, (const double(*)[4])affine, LESION_DT_UINT8,
				       &mask, err)))
		goto out;
	sim_rng_init(&r, p->seed, SIM_STREAM_ANATOMY, (uint64_t)s, 0);
	anat = sim_anatomy_alloc(g, &r, job->plan->age);
	if (!anat || sim_anatomy_render(anat, image, flags)) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	sim_rng_init(&r, p->seed, SIM_STREAM_LESION, (uint64_t)s, 0);
	les = sim_lesion_alloc(g, anat, flags, &r, job->plan->volume_mm3[0]);
	if (!les) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", job->dir, sub);
	if ((st = make_dir(path, err)))
		goto out;
	double vox_per_mm3 = g->scale * g->scale * g->scale / g->voxel_volume_mm3;
	const char *ext = p->gzip ? ".nii.gz" : ".nii";
	for (int k = 0; k < p->n_sessions; k++) {
		struct lesion_sim_truth *row = &job->rows[k];
		int days = lesion_sim_session_days(k);
		struct sim_lesion_result res;
		double target = floor(job->plan->volume_mm3[k] * vox_per_mm3 + 0.5);
		memcpy(work, image, n * sizeof(float));
		memset(mask->data, 0, n);
		sim_rng_init(&r, p->seed, SIM_STREAM_SESSION, (uint64_t)s, (uint64_t)k);
		if ((st = sim_lesion_session(les, &r, target < 1.0 ? 1 : (int64_t)target, days,
					     mask->data, work, &res))) {
			lesion_error_set(err, st, "out of memory");
			goto out;
		}
		sim_rng_init(&r, p->seed, SIM_STREAM_NOISE, (uint64_t)s, (uint64_t)k);
		store_flair(flair, work, flags, p->skull_strip, g->n_voxels, &r);

		snprintf(path, sizeof(path), "%s/%s/ses-%02d", job->dir, sub, k + 1);
		if ((st = make_dir(path, err)))
			goto out;
		snprintf(path, sizeof(path), "%s/%s/ses-%02d/anat", job->dir, sub, k + 1);
		if ((st = make_dir(path, err)))
			goto out;
		snprintf(row->image, sizeof(row->image),
			 "%s/ses-%02d/anat/%s_ses-%02d_label-lesion_mask%s", sub, k + 1,
			 sub, k + 1, ext);
		snprintf(path, sizeof(path), "%s/%s", job->dir, row->image);
		if ((st = lesion_volume_write(mask, path, err)))
			goto out;
		snprintf(path, sizeof(path), "%s/%s/ses-%02d/anat/%s_ses-%02d_FLAIR%s",
			 job->dir, sub, k + 1, sub, k + 1, ext);
		if ((st = lesion_volume_write(flair, path, err)))
			goto out;
		snprintf(row->participant_id, sizeof(row->participant_id), "%s", sub);
		snprintf(row->session, sizeof(row->session), "ses-%02d", k + 1);
		snprintf(row->group, sizeof(row->group), "%s", p->groups[job->plan->group]);
		row->days = days;
		row->age = job->plan->age;
		row->lesion_voxels = res.voxels;
		row->n_components = res.n_components;
		row->voxel_volume_mm3 = g->voxel_volume_mm3;
		row->lesion_volume_mm3 = (double)res.voxels * g->voxel_volume_mm3;
	}
out:
	sim_lesion_free(les);
	sim_anatomy_free(anat);
	lesion_volume_free(flair);
	lesion_volume_free(mask);
	free(image);
	free(work);
	free(flags);
	if (st)
		lesion_error_prefix(err, "participant '%s': ", sub);
	return st;
}

/* A growable text buffer for the tables. */
struct text {
	char *buf;
	size_t len, cap;
	int failed;
};

static void text_add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int need = vsnprintf(t->buf ? t->buf + t->len : NULL,
				     t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (need < 0) {
			t->failed = 1;
			return;
		}
		if (t->buf && t->len + (size_t)need < t->cap) {
			t->len += (size_t)need;
			return;
		}
		size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)need;
		char *nb = realloc(t->buf, cap);
		if (!nb) {
			t->failed = 1;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

static enum lesion_status text_write(struct text *t, const char *dir, const char *name,
				     struct lesion_error *err)
{
	enum lesion_status st;
	if (t->failed) {
		st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	} else {
		size_t n = strlen(dir) + strlen(name) + 2;
		char *path = malloc(n);
		if (!path) {
			st = lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
		} else {
			snprintf(path, n, "%s/%s", dir, name);
			st = lesion_write_file_atomic(path, t->buf ? t->buf : "", t->len, err);
			free(path);
		}
	}
	free(t->buf);
	memset(t, 0, sizeof(*t));
	return st;
}

static void describe_command(struct text *t, const struct lesion_sim_params *p)
{
	char e[32], v[3][32];
	lesion_double_shortest(p->effect, e, sizeof(e));
	for (int i = 0; i < 3; i++)
		lesion_double_shortest(p->voxel_size_mm[i], v[i], sizeof(v[i]));
	text_add(t, "lesionvol simulate --subjects %d --sessions %d --groups ",
		 p->n_subjects, p->n_sessions);
	for (int i = 0; i < p->n_groups; i++)
		text_add(t, "%s%s", i ? "," : "", p->groups[i]);
	text_add(t, " --effect %s --dims %lldx%lldx%lld --voxel-size %s,%s,%s "
		    "--datatype %s --seed %llu %s", e, (long long)p->dim[0],
		 (long long)p->dim[1], (long long)p->dim[2], v[0], v[1], v[2],
		 lesion_dtype_name(p->datatype), (unsigned long long)p->seed,
		 p->gzip ? "--gzip" : "--no-gzip");
	if (p->skull_strip)
		text_add(t, " --skull-strip");
}

static enum lesion_status write_tables(const char *dir, const struct lesion_sim_params *p,
				       const struct lesion_sim_truth *rows,
				       struct lesion_error *err)
{
	struct text t = {0};
	enum lesion_status st;
	int ns = p->n_sessions;

	text_add(&t, "{\n  \"Name\": \"lesionvol simulated stroke cohort\",\n"
		     "  \"BIDSVersion\": \"1.9.0\",\n  \"DatasetType\": \"raw\",\n"
		     "  \"License\": \"CC0\",\n  \"GeneratedBy\": [\n    {\n"
		     "      \"Name\": \"lesionvol\",\n      \"Version\": \"%s\",\n"
		     "      \"Description\": \"", lesion_version());
	describe_command(&t, p);
	text_add(&t, "\"\n    }\n  ]\n}\n");
	if ((st = text_write(&t, dir, "dataset_description.json", err)))
		return st;

	text_add(&t, "{\n  \"group\": {\n    \"Description\": \"treatment arm (block "
		     "randomisation; the first group, '%s', is the treated one)\"\n  },\n"
		     "  \"age\": {\n    \"Description\": \"age at stroke onset\",\n"
		     "    \"Units\": \"year\"\n  }\n}\n", p->groups[0]);
	if ((st = text_write(&t, dir, "participants.json", err)))
		return st;

	text_add(&t, "participant_id\tgroup\tage\n");
	for (int s = 0; s < p->n_subjects; s++) {
		const struct lesion_sim_truth *r = &rows[(size_t)s * (size_t)ns];
		text_add(&t, "%s\t%s\t%d\n", r->participant_id, r->group, r->age);
	}
	if ((st = text_write(&t, dir, "participants.tsv", err)))
		return st;

	text_add(&t, "participant_id\tsession\timage\tgroup\tdays\tage\n");
	for (size_t i = 0; i < (size_t)p->n_subjects * (size_t)ns; i++)
		text_add(&t, "%s\t%s\t%s\t%s\t%d\t%d\n", rows[i].participant_id,
			 rows[i].session, rows[i].image, rows[i].group, rows[i].days,
			 rows[i].age);
	if ((st = text_write(&t, dir, "cohort.tsv", err)))
		return st;

	/* last: its presence says the dataset is complete */
	text_add(&t, "participant_id\tsession\tgroup\tdays\tlesion_voxels\t"
		     "lesion_volume_mm3\tn_components\tvoxel_volume_mm3\n");
	for (size_t i = 0; i < (size_t)p->n_subjects * (size_t)ns; i++) {
		char vol[32], vv[32];
		lesion_double_shortest(rows[i].lesion_volume_mm3, vol, sizeof(vol));
		lesion_double_shortest(rows[i].voxel_volume_mm3, vv, sizeof(vv));
		text_add(&t, "%s\t%s\t%s\t%d\t%lld\t%s\t%lld\t%s\n", rows[i].participant_id,
			 rows[i].session, rows[i].group, rows[i].days,
			 (long long)rows[i].lesion_voxels, vol,
			 (long long)rows[i].n_components, vv);
	}
	return text_write(&t, dir, "truth.tsv", err);
}

enum lesion_status lesion_simulate_cohort(const char *dir,
					  const struct lesion_sim_params *params,
					  struct lesion_sim_truth **truth,
					  struct lesion_error *err)
{
	struct lesion_sim_params p = *params;
	enum lesion_status st;
	if (truth)
		*truth = NULL;
	if ((st = lesion_sim_params_check(&p, err)))
		return st;
	if (strlen(dir) > 3800 || !*dir)
		return lesion_error_set(err, LESION_ERR_USAGE,
			"output folder name must be 1..3800 characters");
	if ((st = prepare_dir(dir, p.force, err)))
		return st;
	struct sim_grid g;
	sim_grid_init(&g, &p);
	size_t n_rows = (size_t)p.n_subjects * (size_t)p.n_sessions;
	struct lesion_sim_truth *rows = calloc(n_rows, sizeof(*rows));
	struct plan *plans = calloc((size_t)p.n_subjects, sizeof(*plans));
	if (!rows || !plans) {
		free(rows);
		free(plans);
		return lesion_error_set(err, LESION_ERR_INTERNAL, "out of memory");
	}
	for (int s = 0; s < p.n_subjects; s++)
		plan_subject(&p, s, &plans[s]);

	/* one participant per thread; each has its own streams, so the bytes do
	 * not depend on the schedule */
	int first_bad = p.n_subjects;
	int failed = 0;
	struct lesion_error first_err = {LESION_OK, ""};
	#pragma omp parallel for schedule(dynamic, 1)
	for (int s = 0; s < p.n_subjects; s++) {
		int stop;
		#pragma omp atomic read
		stop = failed;
		if (stop)
			continue;
		struct lesion_error e;
		struct subject_job job = {dir, &p, &g, s, &plans[s],
					  &rows[(size_t)s * (size_t)p.n_sessions]};
		if (make_subject(&job, &e) != LESION_OK) {
			#pragma omp critical(lesion_simulate_error)
			{
				if (s < first_bad) {
					first_bad = s;
					first_err = e;
				}
				#pragma omp atomic write
				failed = 1;
			}
		}
	}
	if (first_bad < p.n_subjects) {
		st = first_err.status;
		if (err)
			*err = first_err;
	} else {
		st = write_tables(dir, &p, rows, err);
	}
	free(plans);
	if (st == LESION_OK && truth)
		*truth = rows;
	else
		free(rows);
	return st;
}
