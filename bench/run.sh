#!/bin/bash
# run.sh: build lesionvol (Release), prepare the real inputs and time lesionvol
# against nibabel+scipy, MRtrix3 and the inflate floors (issue 9).
#
# usage: bench/run.sh [--runs N] [--peer-runs N] [--cohort-runs N]
#                     [--workdir DIR] [--no-install] [--only KEYS] [--json FILE]
# Everything it makes (build, inputs, outputs) lives in the work dir, default
# ${TMPDIR:-/tmp}/lesionvol-bench; nothing is written into the repository.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
workdir=${TMPDIR:-/tmp}/lesionvol-bench
runs=5
install=1
realdata=${LESIONVOL_REALDATA:-$repo/../shared/realdata}
extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--workdir) workdir=$2; shift 2 ;;
	--no-install) install=0; shift ;;
	--only|--json|--lesionvol-args|--cohort-runs|--peer-runs|--tools) extra+=("$1" "$2"); shift 2 ;;
	-h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
if [ ! -d "$realdata" ]; then
	echo "run.sh: real data not found at '$realdata' (set LESIONVOL_REALDATA)" >&2
	exit 1
fi

# the peers and floors, all from Debian
pkgs="mricron-data mrtrix3 isal libdeflate-tools python3-nibabel python3-scipy cmake gcc
      libnifti2-dev libdeflate-dev libcjson-dev zlib1g-dev"
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $pkgs 2>/dev/null |
	awk '$NF != "installed" {print $1}'; for p in $pkgs; do
	dpkg-query -W "$p" >/dev/null 2>&1 || echo "$p"; done)
missing=$(echo "$missing" | sort -u | tr '\n' ' ')
if [ -n "${missing// /}" ]; then
	if [ "$install" = 1 ] && [ "$(id -u)" = 0 ]; then
		echo "installing: $missing"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
	else
		echo "run.sh: missing Debian packages: $missing" >&2
		exit 1
	fi
fi

mkdir -p "$workdir"
echo "building lesionvol (Release) in $workdir/build"
cmake -S "$repo" -B "$workdir/build" -DCMAKE_BUILD_TYPE=Release -DLESIONVOL_TESTS=OFF >/dev/null
cmake --build "$workdir/build" -j"$(nproc)" >/dev/null

echo "preparing inputs in $workdir/data"
/usr/bin/python3 "$repo/bench/prepare.py" "$realdata" "$workdir/data"

echo "lesionvol $("$workdir/build/lesionvol" --version 2>/dev/null | head -1); $(mrinfo --version 2>/dev/null | head -1 | sed 's/^== //; s/ ==$//')"
/usr/bin/python3 "$repo/bench/bench.py" --lesionvol "$workdir/build/lesionvol" \
	--data "$workdir/data" --runs "$runs" ${extra[@]+"${extra[@]}"}
