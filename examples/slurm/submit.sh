#!/usr/bin/env bash
# submit.sh: lesionvol on a BIDS dataset as SLURM jobs: a job array with one
# task per participant of BIDS_DIR/participants.tsv (participant.sbatch), then
# the group level (group.sbatch) as a job that starts once every task succeeded.
#
#   examples/slurm/submit.sh BIDS_DIR OUT_DIR [lesionvol options...]
#
# The options (segmentation rule, --session-label, --compare...) go to both
# levels. Environment: LESIONVOL (the program; default: lesionvol on PATH),
# LOG_DIR (default: ./lesionvol-logs), ARRAY_MAX (tasks per array, at most the
# cluster's MaxArraySize - 1; default 1000), ARRAY_PARALLEL (at most this many
# tasks running at once; default: no limit), and sbatch's own SBATCH_ACCOUNT,
# SBATCH_PARTITION, SBATCH_QOS...
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 BIDS_DIR OUT_DIR [lesionvol options...]" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# absolute paths: the jobs may start in another folder
bids_dir=$(cd "$1" && pwd)
mkdir -p "$2"
out_dir=$(cd "$2" && pwd)
shift 2
log_dir=${LOG_DIR:-lesionvol-logs}
mkdir -p "$log_dir"
log_dir=$(cd "$log_dir" && pwd)
array_max=${ARRAY_MAX:-1000}

# fail now, not in a thousand queued jobs
lesionvol=$(command -v "${LESIONVOL:-lesionvol}") || {
	echo "submit.sh: '${LESIONVOL:-lesionvol}' not found (set LESIONVOL)" >&2
	exit 2
}
tsv="$bids_dir/participants.tsv"
if [ ! -r "$tsv" ]; then
	echo "submit.sh: '$tsv' does not exist: the array takes its participants from it" >&2
	exit 2
fi
# participants as participant.sbatch counts them: distinct participant_ids
n=$(sed '1s/^\xEF\xBB\xBF//' "$tsv" | awk -F'\t' '
	{ sub(/\r$/, "") }
	NR == 1 { for (i = 1; i <= NF; i++) if ($i == "participant_id") c = i; next }
	c && $c != "" { id = $c; sub(/^sub-/, "", id); if (!(id in seen)) { seen[id] = 1; k++ } }
	END { print k + 0 }')
if [ "$n" -eq 0 ]; then
	echo "submit.sh: no participants in '$tsv' (column 'participant_id')" >&2
	exit 2
fi

# submit EXPORTS SBATCH_ARGS...: prints the job id
submit() {
	local id exports=$1
	shift
	id=$(sbatch --parsable --export="ALL,LESIONVOL=$lesionvol$exports" "$@")
	echo "${id%%;*}" # "jobid;cluster" on multi-cluster sites
}

# arrays of at most ARRAY_MAX tasks (SLURM refuses larger indices), each
# shifted by LESIONVOL_ARRAY_OFFSET
deps=""
for ((offset = 0; offset < n; offset += array_max)); do
	count=$((n - offset < array_max ? n - offset : array_max))
	spec="1-$count${ARRAY_PARALLEL:+%$ARRAY_PARALLEL}"
	id=$(submit ",LESIONVOL_ARRAY_OFFSET=$offset" --array="$spec" \
		--output="$log_dir/participant-%A_%a.out" \
		"$here/participant.sbatch" "$bids_dir" "$out_dir" "$@")
	echo "submit.sh: participants $((offset + 1))-$((offset + count)) of $n: job array $id"
	deps="$deps:$id"
done
gid=$(submit "" --dependency="afterok$deps" --kill-on-invalid-dep=yes \
	--output="$log_dir/group-%j.out" \
	"$here/group.sbatch" "$bids_dir" "$out_dir" "$@")
echo "submit.sh: group level: job $gid (starts when every participant task succeeded)"
echo "submit.sh: logs in $log_dir; results in $out_dir"
