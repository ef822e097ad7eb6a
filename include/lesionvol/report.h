/* lesionvol/report.h: the cohort's report.html, one self-contained page
 * (inline SVG plots, embedded PNG quicklooks, no script, no network) made
 * from the group-level tables of an output folder. */
#ifndef LESIONVOL_REPORT_H
#define LESIONVOL_REPORT_H

#include "lesionvol/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * lesion_report_write() - write OUT_DIR/report.html (atomically) from what
 * the group level left in @out_dir: timepoints.tsv (required), changes.tsv
 * and comparison.tsv (used when present), and the quicklooks
 * sub-<label>/sub-<label>*_quicklook.png (embedded when present).
 *
 * The page holds: lesion volume trajectories per participant coloured by
 * group with each group's mean, a strip and box plot of percent change per
 * group and follow-up session, the comparison statistics, and a row per
 * participant with its volumes, percent change, status, message and
 * quicklooks. It is well-formed XML (XHTML syntax), references no external
 * resource and is the same for the same tables (no dates, no randomness).
 *
 * Returns LESION_OK, LESION_ERR_INPUT (timepoints.tsv missing or malformed),
 * LESION_ERR_WRITE or LESION_ERR_INTERNAL. Thread safe.
 */
enum lesion_status lesion_report_write(const char *out_dir, struct lesion_error *err);

#ifdef __cplusplus
}
#endif
#endif
