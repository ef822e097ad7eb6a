/* cmd_simulate.c: `lesionvol simulate`, a synthetic stroke cohort with exact
 * ground truth, written as a BIDS-shaped dataset. */
#include "cli.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "lesionvol/simulate.h"

/* "182x218x182" -> three whole numbers. */
static int parse_dims(const char *s, int64_t dim[3])
{
	for (int i = 0; i < 3; i++) {
		char *end;
		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno || v < 1 || v > 1000000)
			return -1;
		dim[i] = v;
		if (i < 2 && *end != 'x')
			return -1;
		if (i == 2 && *end)
			return -1;
		s = end + 1;
	}
	return 0;
}

/* "1" or "1,1,2" -> three voxel sizes. */
static int parse_voxel_size(const char *s, double mm[3])
{
	int n = 0;
	for (;;) {
		char *end;
		errno = 0;
		double v = strtod(s, &end);
		if (errno || end == s || n == 3)
			return -1;
		mm[n++] = v;
		if (*end == '\0')
			break;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
	if (n == 2)
		return -1;
	if (n == 1)
		mm[1] = mm[2] = mm[0];
	return 0;
}

/* "treated,control" -> group names (checked further by the library). */
static int parse_groups(const char *s, struct lesion_sim_params *p)
{
	p->n_groups = 0;
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (p->n_groups == LESION_SIM_MAX_GROUPS || len == 0 ||
		    len >= LESION_SIM_GROUP_MAX)
			return -1;
		memcpy(p->groups[p->n_groups], s, len);
		p->groups[p->n_groups][len] = '\0';
		p->n_groups++;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

static int run_simulate(const struct cli_command *cmd, struct cli_args *args)
{
	struct lesion_sim_params p;
	struct lesion_error err;
	lesion_sim_params_init(&p);
	const char *dir = cli_string(args, "output-dir");
	if (!dir || !*dir)
		return cli_usage_error(cmd, "option '--output-dir' is required");
	if (cli_flag(args, "gzip") && cli_flag(args, "no-gzip"))
		return cli_usage_error(cmd, "options '--gzip' and '--no-gzip' exclude each other");
	if (parse_dims(cli_string(args, "dims"), p.dim))
		return cli_usage_error(cmd, "option '--dims' needs XxYxZ in voxels (e.g. "
					    "182x218x182), not '%s'", cli_string(args, "dims"));
	if (parse_voxel_size(cli_string(args, "voxel-size"), p.voxel_size_mm))
		return cli_usage_error(cmd, "option '--voxel-size' needs MM or MM,MM,MM, "
					    "not '%s'", cli_string(args, "voxel-size"));
	if (parse_groups(cli_string(args, "groups"), &p))
		return cli_usage_error(cmd, "option '--groups' needs 1 to %d comma-separated "
					    "names, not '%s'", LESION_SIM_MAX_GROUPS,
				       cli_string(args, "groups"));
	const char *dt = cli_string(args, "datatype");
	p.datatype = strcmp(dt, "uint8") == 0 ? LESION_DT_UINT8
		   : strcmp(dt, "float32") == 0 ? LESION_DT_FLOAT32 : LESION_DT_INT16;
	p.n_subjects = (int)cli_int(args, "subjects");
	p.n_sessions = (int)cli_int(args, "sessions");
	p.effect = cli_double(args, "effect");
	p.seed = (uint64_t)cli_int(args, "seed");
	p.gzip = !cli_flag(args, "no-gzip");
	p.skull_strip = cli_flag(args, "skull-strip");
	p.force = cli_flag(args, "force");
	if (lesion_sim_params_check(&p, &err))
		return cli_usage_error(cmd, "%s", err.message);

	cli_apply_threads(args);
	double t0 = omp_get_wtime();
	if (lesion_simulate_cohort(dir, &p, NULL, &err))
		return cli_error(&err);
	if (cli_verbosity >= 1)
		fprintf(stderr, "lesionvol simulate: wrote %d participants x %d sessions "
				"to '%s' in %.1f s (manifest cohort.tsv, ground truth "
				"truth.tsv)\n", p.n_subjects, p.n_sessions, dir,
			omp_get_wtime() - t0);
	return 0;
}

static const struct cli_option simulate_options[] = {
	{"output-dir", 'o', CLI_STRING, "DIR",
	 "folder to write the dataset into (created when missing; must be empty "
	 "unless --force)"},
	{"subjects", 'n', CLI_INT, "N", "number of participants", NULL, 1,
	 LESION_SIM_MAX_SUBJECTS, "8"},
	{"sessions", 0, CLI_INT, "K",
	 "sessions per participant, at days 1, 7, 90, 180, 365, then yearly", NULL, 1,
	 LESION_SIM_MAX_SESSIONS, "3"},
	{"groups", 0, CLI_STRING, "A,B,...",
	 "group names (letters, digits, '-', '_'); participants are block-randomised "
	 "to them and the first is the treated group", NULL, 0, 0, "treated,control"},
	{"effect", 0, CLI_DOUBLE, "F",
	 "treated follow-up volumes are (1 - F) x control's on average (negative: "
	 "harm)", NULL, -1, 0.95, "0.3"},
	{"dims", 0, CLI_STRING, "XxYxZ", "grid size in voxels (each 16..2048)", NULL, 0,
	 0, "182x218x182"},
	{"voxel-size", 0, CLI_STRING, "MM[,MM,MM]",
	 "voxel size in mm; the head is scaled to fit the field of view", NULL, 0, 0,
	 "1"},
	{"datatype", 0, CLI_CHOICE, "TYPE", "datatype of the FLAIR images (masks are "
	 "uint8)", "uint8|int16|float32", 0, 0, "int16"},
	{"seed", 0, CLI_INT, "S", "random seed: the same seed gives the same bytes",
	 NULL, 0, 9007199254740991.0, "1"},
	{"gzip", 0, CLI_FLAG, NULL, "write .nii.gz files (the default)"},
	{"no-gzip", 0, CLI_FLAG, NULL, "write uncompressed .nii files"},
	{"skull-strip", 0, CLI_FLAG, NULL,
	 "FLAIR of the brain only: zero outside the skull, as after brain "
	 "extraction (smaller files)"},
	{"force", 0, CLI_FLAG, NULL,
	 "write into a folder that is not empty, replacing files of the same names "
	 "(nothing else is touched)"},
	{NULL},
};
static const struct cli_option_group simulate_group = {"Simulation", simulate_options};

const struct cli_command cmd_simulate = {
	.name = "simulate",
	.synopsis = "-o DIR [options]",
	.summary = "a synthetic stroke cohort with exact ground truth (BIDS-shaped)",
	.description =
		"Generates a treatment study: every participant has a FLAIR-like head "
		"image (scalp, skull, CSF, folded cortex, white matter, deep grey "
		"nuclei, ventricles, cerebellum; smooth bias field; Rician noise) and "
		"a lesion mask per session. Infarcts are irregular, in one vascular "
		"territory of one hemisphere, sometimes in several pieces, with acute "
		"volumes log-normal around 12 mL (from under 1 mL to over 100 mL); they "
		"swell by day 7 (about 1.2x) and shrink by day 90 (about 0.6x), mostly "
		"within the earlier lesion, and the treated group's follow-up volumes "
		"are (1 - effect) x those of the others, with noise between "
		"participants.\n"
		"DIR receives dataset_description.json, participants.tsv (participant_id, "
		"group, age), sub-XX/ses-YY/anat/sub-XX_ses-YY_FLAIR.nii.gz and "
		"sub-XX_ses-YY_label-lesion_mask.nii.gz, cohort.tsv (a manifest for "
		"'lesionvol cohort': participant_id, session, image, group, days, age) "
		"and truth.tsv (lesion_voxels, lesion_volume_mm3, n_components "
		"(26-connected) and voxel_volume_mm3 of every mask, counted on the mask "
		"as written).\n"
		"The same options and seed give the same bytes with any number of "
		"threads and on any machine; a participant's files do not depend on how "
		"many participants there are.",
	.min_args = 0,
	.max_args = 0,
	.groups = (const struct cli_option_group *const[]){
		&simulate_group, &cli_group_threads, &cli_group_general, NULL},
	.examples = (const char *const[]){
		"lesionvol simulate -o demo --subjects 4 --voxel-size 2 --dims 91x109x91",
		"lesionvol simulate -o long --groups drug,placebo --effect 0.5 --sessions 5 "
		"--voxel-size 3 --dims 61x73x61 --seed 7 --no-gzip",
		NULL},
	.run = run_simulate,
};
