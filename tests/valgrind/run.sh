#!/bin/sh
# run.sh: the end-to-end commands under valgrind (memcheck) on real files and
# on the generated broken inputs; fails on any leak, invalid access or use of
# uninitialised memory.
#
#   tests/valgrind/run.sh [PATH/TO/lesionvol]     (default: build/lesionvol)
#
# Use a normal build (not -DLESIONVOL_SANITIZE=ON: ASan and valgrind exclude
# each other). VALGRIND_EXTRA adds options (e.g. --track-origins=yes when
# chasing an uninitialised read). Real data come from $LESIONVOL_REALDATA (default
# ../shared/realdata); exit 77 when they are missing.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
prog=${1:-${LESIONVOL:-$src/build/lesionvol}}
rd=${LESIONVOL_REALDATA:-$src/../shared/realdata}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
case $prog in /*) ;; *) prog=$(pwd)/$prog ;; esac # the corpus runs elsewhere

command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
[ -x "$prog" ] || { echo "SKIP: no program at $prog"; exit 77; }
[ -d "$rd/nibabel" ] || { echo "SKIP: no real data at $rd (set LESIONVOL_REALDATA)"; exit 77; }
if strings "$prog" 2>/dev/null | grep -q __asan_init; then
	echo "SKIP: $prog is an AddressSanitizer build; valgrind needs a normal one"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lesionvol-valgrind-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
failed=0
runs=0

# vg EXPECTED_RC ARGS...: run lesionvol ARGS under valgrind
vg() {
	want=$1
	shift
	runs=$((runs + 1))
	log=$tmp/vg.$runs.log
	# two OpenMP threads, so parallel regions are checked too
	OMP_NUM_THREADS=2 valgrind --quiet --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible \
		${VALGRIND_EXTRA:-} --suppressions="$src/tests/valgrind/libgomp.supp" \
		--log-file="$log" \
		"$prog" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" = 99 ] || [ -s "$log" ] || [ "$rc" != "$want" ]; then
		echo "FAIL (exit $rc, expected $want): lesionvol $*"
		cat "$log" "$tmp/err"
		failed=$((failed + 1))
	else
		echo "ok   (exit $rc): lesionvol $*"
	fi
}

nb=$rd/nibabel/nibabel/tests/data
nr=$rd/nifti-rs/resources
soop=$(find "$rd/soop" -name '*.nii.gz' 2>/dev/null | sort | head -n 1)
msgt=$rd/open_ms_data/longitudinal/coregistered/patient01/gt.nii.gz

# info: every format and byte order, scaling, 4D, pairs, unsupported types
vg 0 info "$nb/anatomical.nii" "$nb/resampled_anat_moved.nii"
vg 0 info --format json "$nb/example4d.nii.gz" "$nb/example_nifti2.nii.gz"
vg 0 info --volume 7 --format tsv "$nb/functional.nii"
vg 0 info "$nr/minimal.hdr" "$nr/minimal2.hdr" "$nr/minimal.img.gz" "$nr/f32.nii.gz"
vg 0 info --format csv "$rd/nibabel/doc/source/downloads/someones_anatomy.nii.gz"
vg 0 info -o "$tmp/info.json" --format json "$nb/standard.nii.gz"
vg 1 info "$nb/nifti1.hdr" "$nr/rgb/3D.nii" "$tmp/missing.nii"
[ -n "$soop" ] && vg 0 info "$soop"
[ -f "$msgt" ] && vg 0 info "$msgt"

# measure and change, once they exist
if "$prog" measure --help >/dev/null 2>&1; then
	vg 0 measure "$nb/standard.nii.gz"
	vg 0 measure --format json --connectivity 6 --min-voxels 2 "$nb/standard.nii.gz"
	vg 0 measure --thr 500 --fill-holes --out-mask "$tmp/m.nii.gz" \
		--out-labels "$tmp/l.nii" "$nb/anatomical.nii"
	vg 0 measure --zthr 1.5 --mask "$tmp/m.nii.gz" --format csv --components \
		"$nb/anatomical.nii"
	[ -n "$soop" ] && vg 0 measure --format tsv "$soop"
	[ -f "$msgt" ] && vg 0 measure --soft "$msgt"
	vg 1 measure "$nb/example4d.nii.gz"
fi
if "$prog" change --help >/dev/null 2>&1 && [ -f "$msgt" ]; then
	ms2=$rd/open_ms_data/longitudinal/coregistered/patient02/gt.nii.gz
	vg 0 change "$msgt" "$msgt"
	[ -f "$ms2" ] && vg 0 change --format json --days 0,30,90 --consecutive \
		--out-change "$tmp/c.nii.gz" "$msgt" "$ms2" "$msgt"
	vg 1 change "$msgt" "$nb/standard.nii.gz" --mask "$nb/standard.nii.gz"
fi

if "$prog" quicklook --help >/dev/null 2>&1; then
	vg 0 quicklook "$nb/anatomical.nii" -o "$tmp/q1.png"
	vg 0 quicklook "$nb/standard.nii.gz" --overlay "$nb/standard.nii.gz" -o "$tmp/q2.png"
	vg 1 quicklook "$nb/anatomical.nii" --overlay "$nb/standard.nii.gz" -o "$tmp/q3.png"
fi

# the inputs the fuzzers found bugs with: each is refused cleanly (or read)
"$py" "$src/tests/malformed/fuzz_regressions.py" "$tmp/reg" | cut -f2,3 >"$tmp/reg.list"
while IFS='	' read -r f code; do vg "$code" info "$f" </dev/null; done <"$tmp/reg.list"

# a sample of the hostile-input corpus (tests/malformed/make_corpus.py):
# each case's exit code, and no memory error on the way there
"$py" "$src/tests/malformed/make_corpus.py" "$tmp/corpus" >/dev/null
# (a picked name the corpus no longer has is a failure, not a silent skip)
"$py" - "$tmp/corpus/manifest.json" >"$tmp/corpus.list" <<'PY' || failed=$((failed + 1))
import json, sys
pick = {"gzip_corrupt_middle_measure", "gzip_crc_mismatch_info", "gzip_crc_mismatch_measure",
        "gzip_truncated", "truncated_data", "dims_product_past_2p63",
        "vox_offset_past_the_end", "datatype_unknown", "hdr_without_img",
        "pair_be_named_by_img", "voxels_nan_inf_measure", "voxels_nan_inf_zthr",
        "4d_without_volume", "measure_mask_on_another_grid", "evaluate_on_another_grid",
        "change_on_another_grid_reports_volumes", "cohort_duplicate_rows",
        "cohort_bom_and_crlf_work", "cohort_missing_image_fails_alone",
        "pixdim_extreme_aspect_quicklook", "voxels_1e308_measure_zthr"}
cases = json.load(open(sys.argv[1]))
for c in cases:
    if c["name"] in pick:
        assert not any(" " in a or "\t" in a for a in c["args"]), c["name"]
        print(" ".join([str(c["exit"])] + c["args"]))
missing = pick - {c["name"] for c in cases}
if missing:
    sys.exit("FAIL: no corpus case named " + ", ".join(sorted(missing)))
PY
cd "$tmp/corpus" || exit 1
while read -r code args; do
	# shellcheck disable=SC2086 # space-separated arguments without spaces
	vg "$code" $args </dev/null
done <"$tmp/corpus.list"
cd "$src" || exit 1

echo "valgrind: $runs runs, $failed failed"
[ "$failed" = 0 ]
