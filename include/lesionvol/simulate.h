/* lesionvol/simulate.h: a deterministic synthetic stroke cohort (FLAIR-like
 * images, lesion masks and their exact ground truth) written as a BIDS-shaped
 * dataset, for demos, tests and benchmarks. */
#ifndef LESIONVOL_SIMULATE_H
#define LESIONVOL_SIMULATE_H

#include <stdint.h>

#include "lesionvol/status.h"
#include "lesionvol/volume.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LESION_SIM_MAX_GROUPS 8
#define LESION_SIM_MAX_SESSIONS 12
#define LESION_SIM_GROUP_MAX 32     /* bytes of a group name, with its NUL */
#define LESION_SIM_MAX_SUBJECTS 99999

/*
 * struct lesion_sim_params - what lesion_simulate_cohort() makes.
 *
 * @n_subjects:    participants, sub-01 ... (1..LESION_SIM_MAX_SUBJECTS)
 * @n_sessions:    sessions per participant, ses-01 ... at the days given by
 *                 lesion_sim_session_days() (1..LESION_SIM_MAX_SESSIONS)
 * @n_groups, @groups: group names (letters, digits, '-', '_'); participants
 *                 are assigned by block randomisation, and the first group
 *                 is the treated one: its follow-up volumes are multiplied by
 *                 (1 - @effect) on average. With one group there is no effect.
 * @effect:        treatment effect as a fraction of the follow-up volume,
 *                 -1 <= @effect <= 0.95 (negative: the treated do worse)
 * @dim:           grid size in voxels (each 16..2048, at most 2^29 voxels)
 * @voxel_size_mm: voxel size (each 0.05..20 mm); rounded to float32, as the
 *                 NIfTI header stores it, so volumes computed from the files
 *                 equal the truth exactly
 * @datatype:      FLAIR datatype: LESION_DT_UINT8, _INT16 or _FLOAT32
 *                 (masks are always uint8)
 * @seed:          any 64-bit number; the same seed gives the same bytes
 * @gzip:          write .nii.gz (1) or .nii (0)
 * @skull_strip:   FLAIR zero outside the skull's inner surface, as after
 *                 brain extraction (the brain's voxels keep their values)
 * @force:         write into a folder that is not empty (files of the same
 *                 names are replaced; nothing else is touched)
 *
 * The anatomy is scaled to the field of view (dim x voxel size), so any grid
 * holds a whole head; at the default 182x218x182 mm field of view the brain
 * and the lesion volumes have their real sizes.
 */
struct lesion_sim_params {
	int n_subjects;
	int n_sessions;
	int n_groups;
	char groups[LESION_SIM_MAX_GROUPS][LESION_SIM_GROUP_MAX];
	double effect;
	int64_t dim[3];
	double voxel_size_mm[3];
	enum lesion_dtype datatype;
	uint64_t seed;
	int gzip;
	int skull_strip;
	int force;
};

/*
 * lesion_sim_params_init() - the defaults: 8 subjects, 3 sessions, groups
 * "treated" and "control", effect 0.3, 182x218x182 voxels of 1 mm, int16,
 * seed 1, gzip.
 */
void lesion_sim_params_init(struct lesion_sim_params *p);

/*
 * lesion_sim_params_check() - LESION_OK, or LESION_ERR_USAGE with a message
 * naming the first bad parameter. Also rounds @p->voxel_size_mm to float32.
 */
enum lesion_status lesion_sim_params_check(struct lesion_sim_params *p,
					   struct lesion_error *err);

/*
 * lesion_sim_session_days() - the day after stroke onset of session
 * @session (0-based): 1, 7, 90, 180, 365, then one more year each.
 */
int lesion_sim_session_days(int session);

/*
 * struct lesion_sim_truth - the ground truth of one mask, as in truth.tsv.
 * @lesion_voxels and @n_components (26-connected) are counted on the mask
 * as written; @lesion_volume_mm3 = @lesion_voxels * @voxel_volume_mm3.
 */
struct lesion_sim_truth {
	char participant_id[16];   /* "sub-01" */
	char session[16];          /* "ses-01" */
	char group[LESION_SIM_GROUP_MAX];
	int days;
	int age;
	int64_t lesion_voxels;
	int64_t n_components;
	double lesion_volume_mm3;
	double voxel_volume_mm3;
	char image[96];            /* the mask, relative to the dataset folder */
};

/*
 * lesion_simulate_cohort() - generate the cohort @p describes into folder
 * @dir (created, with its parents, when missing).
 *
 * Writes dataset_description.json, participants.tsv (participant_id, group,
 * age), sub-XX/ses-YY/anat/sub-XX_ses-YY_FLAIR.nii[.gz] and
 * sub-XX_ses-YY_label-lesion_mask.nii[.gz], cohort.tsv (participant_id,
 * session, image, group, days, age: a manifest for `lesionvol cohort`) and
 * truth.tsv (participant_id, session, group, days, lesion_voxels,
 * lesion_volume_mm3, n_components, voxel_volume_mm3), truth.tsv last. Every
 * file is written under a temporary name and renamed.
 *
 * Participants are generated in parallel with OpenMP (one thread each);
 * every participant has its own random streams derived from @p->seed and its
 * number, and only IEEE arithmetic and sqrt enter the values, so the bytes
 * are the same for any thread count and on any IEEE-754 machine, and a
 * participant's files do not depend on how many participants there are.
 * Memory: about 14 bytes per voxel per thread.
 *
 * @truth (may be NULL) receives n_subjects * n_sessions records, participant
 * major; free it with free(). Returns LESION_OK, LESION_ERR_USAGE (bad
 * parameters, or @dir not empty without @p->force), LESION_ERR_WRITE or
 * LESION_ERR_INTERNAL (out of memory). Thread safe for distinct folders.
 */
enum lesion_status lesion_simulate_cohort(const char *dir,
					  const struct lesion_sim_params *p,
					  struct lesion_sim_truth **truth,
					  struct lesion_error *err);

#ifdef __cplusplus
}
#endif
#endif
