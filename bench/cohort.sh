#!/usr/bin/env bash
# bench/cohort.sh: speed-up of `lesionvol cohort` from 1 to 2 threads, and
# its peak memory for a small and a four times larger cohort (memory is
# bounded by the threads, not by the number of participants).
#
# usage: bench/cohort.sh [build/lesionvol] [SUBJECTS] [DIMS] [VOXEL_MM]
# The load average is printed because a busy machine hides any speed-up.
# (defaults: 40 subjects x 3 sessions of 182x218x182 1 mm masks, the size of
# real MNI-space data; the first run also simulates the data, once)
set -euo pipefail
LV=$(realpath "${1:-build/lesionvol}")
N=${2:-40}
DIMS=${3:-182x218x182}
VOX=${4:-1}
WORK=${BENCH_DIR:-/tmp/lesionvol-bench-cohort}
mkdir -p "$WORK"
cd "$WORK"

simulate() { # N DIR
	[ -f "$2/truth.tsv" ] || "$LV" simulate -o "$2" --subjects "$1" --dims "$DIMS" \
		--voxel-size "$VOX" --seed 1 -q
}
measure() { # LABEL DIR THREADS -> one table row
	rm -rf "out-$1"
	/usr/bin/time -f "%e %M %U %S" -o "time-$1" "$LV" cohort "$2/cohort.tsv" -o "out-$1" \
		--threads "$3" -q || [ $? -eq 3 ]
	read -r secs kb user sys < "time-$1"
	n=$(($(wc -l < "out-$1/timepoints.tsv") - 1))
	printf "| %s | %s | %s | %s | %s | %.0f | %s |\n" "$1" "$n" "$3" "$secs" \
		"$(awk "BEGIN{print $user + $sys}")" "$(awk "BEGIN{print $kb/1024}")" \
		"$(cut -d' ' -f1 /proc/loadavg)"
}

simulate "$N" "cohort-$N"
simulate $((4 * N)) "cohort-$((4 * N))"
echo "lesionvol $("$LV" --version | cut -d' ' -f2), $(nproc) cores, $DIMS voxels of $VOX mm, gzip"
echo
echo "| run | timepoints | threads | wall s | CPU s | peak RSS MiB | load after |"
echo "|---|---|---|---|---|---|---|"
measure "1-thread" "cohort-$N" 1
measure "2-threads" "cohort-$N" 2
measure "4x-cohort" "cohort-$((4 * N))" 2
s1=$(cut -d' ' -f1 time-1-thread)
s2=$(cut -d' ' -f1 time-2-threads)
echo
printf "speed-up 1 -> 2 threads: %.2fx\n" "$(awk "BEGIN{print $s1/$s2}")"
