/* cohort_common.c: options, progress bar and reporting shared by `cohort`
 * and `bids`. */
#include "cohort_cli.h"
#include "regions.h"

#include <math.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_argc;
char **cli_argv;

const struct cli_option_group cli_group_participant = {
	"Participant level",
	(const struct cli_option[]){
		{"consecutive", 0, CLI_FLAG, NULL,
		 "also compare each timepoint with the one before (changes.tsv rows "
		 "whose baseline_session is the previous session)"},
		{"force", 0, CLI_FLAG, NULL,
		 "recompute every participant, even those whose results are up to date"},
		{"quicklook", 0, CLI_FLAG, NULL,
		 "also draw sub-<label>/sub-<label>_quicklook.png, embedded in "
		 "report.html: the baseline-vs-last change map (resolved blue, "
		 "persistent yellow, new red), or a single session's lesion, over the "
		 "last session's anatomy (manifest column 'anatomy') or image"},
		{"save-masks", 0, CLI_FLAG, NULL,
		 "also write each session's lesion mask, the voxels counted (uint8 0/1, "
		 "the input's geometry): sub-<label>/sub-<label>_ses-<session>_"
		 "label-lesion_mask.nii.gz"},
		{"save-change-maps", 0, CLI_FLAG, NULL,
		 "also write each later session's change map against the baseline (0 "
		 "background, 1 resolved, 2 persistent, 3 new; none when the grids "
		 "differ): sub-<label>/sub-<label>_ses-<session>_desc-change_dseg.nii.gz"},
		{NULL},
	},
};

const struct cli_option_group cli_group_comparison = {
	"Group comparison",
	(const struct cli_option[]){
		{"compare", 0, CLI_STRING, "A,B",
		 "the two groups to compare, reference first (default: the two groups, "
		 "when there are exactly two)"},
		{"log-offset-ml", 0, CLI_DOUBLE, "C",
		 "c in log(volume mL + c) of the log-scale ANCOVA", NULL, 0, 1e6, "1"},
		{"covariate", 0, CLI_STRING, "NAME",
		 "an extra manifest (or participants.tsv) column entering the ANCOVA; "
		 "repeatable", NULL, 0, 0, NULL, 1},
		{NULL},
	},
};

/* ---- progress bar (stderr, terminals only) ---- */

struct progress {
	struct timespec start;
	int drawn;
};

static struct progress progress_state;

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + 1e-9 * (double)(now.tv_nsec - t0->tv_nsec);
}

static void progress_draw(void *ctx, int done, int total, int reused)
{
	struct progress *p = ctx;
	enum { WIDTH = 30 };
	double t = seconds_since(&p->start);
	int computed = done - reused;
	double rate = t > 0 ? computed / t : 0;
	char eta[32] = "--:--";
	if (rate > 0) {
		long s = lround((total - done) / rate);
		snprintf(eta, sizeof(eta), "%ld:%02ld", s / 60, s % 60);
	}
	int fill = total ? (int)((long)WIDTH * done / total) : WIDTH;
	char bar[WIDTH + 1];
	for (int i = 0; i < WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[WIDTH] = '\0';
	fprintf(stderr, "\r[%s] %d/%d participants", bar, done, total);
	if (reused)
		fprintf(stderr, " (%d up to date)", reused);
	fprintf(stderr, "  %.1f/s  ETA %s ", rate, done == total ? "0:00" : eta);
	fflush(stderr);
	p->drawn = 1;
}

void cli_cohort_progress_end(void)
{
	if (progress_state.drawn)
		fputc('\n', stderr);
	progress_state.drawn = 0;
}

/*
 * Participants are measured one after another on each thread, each with
 * tens of MB of voxel buffers. glibc gives a second thread its own arena,
 * whose buffers are unmapped on free and faulted in again for the next
 * image: with 2 threads a cohort took 3.6 times the page faults and 1.7
 * times the CPU of 1 thread (bench/cohort.sh). One arena that keeps freed
 * memory for the next participant removes that; memory stays bounded by
 * what the threads hold at once.
 */
static void keep_freed_memory(void)
{
#ifdef __GLIBC__
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

int cli_cohort_options(const struct cli_args *args, struct lesion_cohort_options *opt)
{
	keep_freed_memory();
	lesion_cohort_options_init(opt);
	int rc = cli_rule_from_args(args, &opt->rule);
	if (rc)
		return rc;
	opt->mask_path = cli_string(args, "mask");
	opt->volume_index = cli_given(args, "volume") ? cli_int(args, "volume") : -1;
	opt->consecutive = cli_flag(args, "consecutive");
	opt->force = cli_flag(args, "force");
	opt->quicklook = cli_flag(args, "quicklook");
	opt->save_masks = cli_flag(args, "save-masks");
	opt->save_change_maps = cli_flag(args, "save-change-maps");
	/* read once here; every participant's thread only reads it */
	struct lesion_atlas *atlas;
	if ((rc = cli_atlas_from_args(args, &atlas)))
		return rc;
	opt->atlas = atlas;
	if (cli_verbosity >= 1 && isatty(STDERR_FILENO)) {
		clock_gettime(CLOCK_MONOTONIC, &progress_state.start);
		opt->progress = progress_draw;
		opt->progress_ctx = &progress_state;
	}
	return 0;
}

void cli_cohort_options_release(struct lesion_cohort_options *opt)
{
	lesion_atlas_free((struct lesion_atlas *)opt->atlas);
	opt->atlas = NULL;
}

/* ---- group options and provenance ---- */

static char *option_value(const struct cli_args *args, const struct cli_option *o)
{
	if (o->type == CLI_FLAG)
		return strdup(cli_flag(args, o->name) ? "true" : "false");
	if (o->repeatable) {
		int n;
		const char **v = cli_strings(args, o->name, &n);
		if (!n)
			return NULL;
		size_t len = 1;
		for (int i = 0; i < n; i++)
			len += strlen(v[i]) + 1;
		char *s = calloc(len, 1);
		for (int i = 0; s && i < n; i++) {
			if (i)
				strcat(s, ",");
			strcat(s, v[i]);
		}
		return s;
	}
	const char *v = cli_string(args, o->name);
	return v ? strdup(v) : NULL;
}

int cli_cohort_group_options(const struct cli_args *args, int argc, char **argv,
			     struct lesion_cohort_group_options *opt)
{
	lesion_cohort_group_options_init(opt);
	const char *cmp = cli_string(args, "compare");
	if (cmp) {
		const char *comma = strchr(cmp, ',');
		if (!comma || comma == cmp || !comma[1] || strchr(comma + 1, ','))
			return cli_usage_error(args->cmd,
				"option '--compare' needs two group names, 'A,B', not '%s'", cmp);
		opt->compare_a = strndup(cmp, (size_t)(comma - cmp));
		opt->compare_b = strdup(comma + 1);
		if (strcmp(opt->compare_a, opt->compare_b) == 0)
			return cli_usage_error(args->cmd,
				"option '--compare' needs two different groups, not '%s'", cmp);
	}
	opt->log_offset_ml = cli_double(args, "log-offset-ml");
	int n;
	opt->covariates = cli_strings(args, "covariate", &n);
	opt->n_covariates = n;
	opt->all_regions = cli_flag(args, "all-regions");
	opt->command = args->cmd->name;
	opt->argc = argc;
	opt->argv = (const char *const *)argv;
	int count = 0;
	for (int g = 0; args->cmd->groups[g]; g++)
		for (const struct cli_option *o = args->cmd->groups[g]->options; o->name; o++)
			count += strcmp(o->name, "help") != 0;
	const char **names = calloc((size_t)count + 1, sizeof(char *));
	char **values = calloc((size_t)count + 1, sizeof(char *));
	if (!names || !values) {
		free(names);
		free(values);
		return LESION_ERR_INTERNAL;
	}
	int k = 0;
	for (int g = 0; args->cmd->groups[g]; g++)
		for (const struct cli_option *o = args->cmd->groups[g]->options; o->name; o++) {
			if (strcmp(o->name, "help") == 0)
				continue;
			names[k] = o->name;
			values[k++] = option_value(args, o);
		}
	opt->n_parameters = count;
	opt->parameter_names = names;
	opt->parameter_values = (const char *const *)values;
	return 0;
}

void cli_cohort_group_options_release(struct lesion_cohort_group_options *opt)
{
	for (int i = 0; i < opt->n_parameters; i++)
		free((char *)opt->parameter_values[i]);
	free((void *)opt->parameter_names);
	free((void *)opt->parameter_values);
	free((char *)opt->compare_a);
	free((char *)opt->compare_b);
	memset(opt, 0, sizeof(*opt));
}

void cli_cohort_report(const struct lesion_cohort_plan *plan,
		       const struct lesion_cohort_outcome *outcomes)
{
	int failed = 0;
	for (int i = 0; i < plan->n_participants; i++) {
		if (outcomes[i].status == LESION_OK)
			continue;
		if (++failed <= 20)
			cli_warning("participant '%s': %s", plan->participants[i].participant_id,
				    outcomes[i].message);
	}
	if (failed > 20)
		cli_warning("%d more participants failed (see the status and message columns)",
			    failed - 20);
}

static int has_group(const struct lesion_cohort_plan *plan, const char *g)
{
	for (int i = 0; i < plan->n_participants; i++)
		if (plan->participants[i].group && strcmp(plan->participants[i].group, g) == 0)
			return 1;
	return 0;
}

int cli_cohort_check_comparison(const struct cli_args *args,
				const struct lesion_cohort_plan *plan,
				const struct lesion_cohort_group_options *opt)
{
	for (int c = 0; c < opt->n_covariates; c++) {
		int found = 0;
		for (int e = 0; e < plan->n_extra && !found; e++)
			found = strcmp(plan->extra_names[e], opt->covariates[c]) == 0;
		if (found)
			continue;
		char names[512] = "";
		for (int e = 0; e < plan->n_extra; e++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s'%s'",
				 e ? ", " : "", plan->extra_names[e]);
		return cli_usage_error(args->cmd, "option '--covariate': there is no column "
				       "'%s' (extra columns: %s)", opt->covariates[c],
				       plan->n_extra ? names : "none");
	}
	const char *want[2] = {opt->compare_a, opt->compare_b};
	for (int k = 0; k < 2; k++)
		if (want[k] && !has_group(plan, want[k]))
			return cli_usage_error(args->cmd, "option '--compare': no participant is "
					       "in group '%s'", want[k]);
	return 0;
}

void cli_cohort_print_comparison(const char *out_dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/comparison.json", out_dir);
	FILE *f = fopen(path, "rb");
	if (!f)
		return; /* no comparison: not two groups */
	char *text = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&text, &size);
	char chunk[8192];
	size_t got;
	while (mem && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, got, mem);
	fclose(f);
	if (!mem)
		return;
	fclose(mem);
	cJSON *root = cJSON_Parse(text);
	free(text);
	const cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(root, "sessions")) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(s, "ancova_log");
		const cJSON *sum = cJSON_GetObjectItemCaseSensitive(a, "summary");
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(a, "reason");
		const cJSON *ses = cJSON_GetObjectItemCaseSensitive(s, "session");
		if (cJSON_IsString(sum))
			printf("%s\n", sum->valuestring);
		else if (cJSON_IsString(why) && cJSON_IsString(ses))
			printf("session %s: no ANCOVA: %s\n", ses->valuestring, why->valuestring);
	}
	cJSON_Delete(root);
}
