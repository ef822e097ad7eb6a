#!/usr/bin/env bash
# slurm-status.sh JOBID: Snakemake's --cluster-status for SLURM: prints
# 'success', 'failed' or 'running' for a job submitted with sbatch --parsable.
jobid=${1%%;*}
state=$(sacct -j "$jobid" -X -n -P -o State 2>/dev/null | head -n 1)
if [ -z "$state" ]; then
	# no accounting (or not yet): the controller still knows recent jobs
	state=$(scontrol show job "$jobid" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
fi
case "${state%% *}" in # "CANCELLED by 1234"
COMPLETED) echo success ;;
"" | PENDING | CONFIGURING | RUNNING | COMPLETING | REQUEUED | REQUEUE_FED | REQUEUE_HOLD | \
	RESIZING | SUSPENDED | STAGE_OUT | SIGNALING | RESV_DEL_HOLD) echo running ;;
*) echo failed ;; # FAILED, TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, PREEMPTED, SPECIAL_EXIT...
esac
