#!/bin/sh
# make_corpus.sh: build the seed corpora of the fuzz targets in OUT_DIR
# (default build-fuzz/corpus) from small real files, the repository's generated
# test inputs and a few synthetic images. Nothing here is committed: seeds are
# written at run time, named by their SHA-1.
#
#   fuzz/make_corpus.sh [OUT_DIR]
#
# OUT_DIR/read     seeds of fuzz_read   (byte 0 = mode, see fuzz_read.c)
# OUT_DIR/measure  seeds of fuzz_measure (see fuzz_measure.c)
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-fuzz/corpus}
realdata=${LESIONVOL_REALDATA:-$src/../shared/realdata}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
mkdir -p "$out/read" "$out/measure"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lesionvol-corpus-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# seed MODE FILE...: one read seed, the mode byte then the files' bytes
seed() {
	mode=$1
	shift
	printf "\\$(printf '%03o' "$mode")" >"$tmp/seed"
	cat "$@" >>"$tmp/seed"
	sum=$(sha1sum "$tmp/seed" | cut -c1-40)
	mv "$tmp/seed" "$out/read/$sum"
}

# add FILE: every way fuzz_read can put FILE on disk
add() {
	f=$1
	case $f in
	*.nii.gz | *.NII.GZ)
		seed 1 "$f"
		seed 5 "$f"
		if gzip -dc "$f" >"$tmp/plain" 2>/dev/null &&
		   [ "$(wc -c <"$tmp/plain")" -le 65536 ]; then
			seed 0 "$tmp/plain"
			seed 2 "$tmp/plain"
			seed 22 "$tmp/plain" # volume 1 of a 4D image
		fi ;;
	*.nii | *.NII)
		seed 0 "$f"
		seed 4 "$f"
		seed 2 "$f"
		seed 16 "$f" ;;
	*.hdr | *.hdr.gz)
		stem=${f%.gz}
		stem=${stem%.hdr}
		gzip -dcf "$f" >"$tmp/hdr" 2>/dev/null || cp "$f" "$tmp/hdr"
		if [ -f "$stem.img" ]; then
			seed 3 "$tmp/hdr" "$stem.img"
			seed 67 "$tmp/hdr" "$stem.img"     # as .img.gz
			seed 131 "$tmp/hdr" "$stem.img"    # named by its .img
			seed 11 "$tmp/hdr" "$stem.img"     # as .hdr.gz
		elif [ -f "$stem.img.gz" ]; then
			gzip -dc "$stem.img.gz" >"$tmp/img"
			seed 67 "$tmp/hdr" "$tmp/img"
		else
			seed 3 "$tmp/hdr"
			seed 7 "$tmp/hdr"
		fi ;;
	esac
}

# 1. small real files (not the lesion masks of soop, lesymap and open_ms_data:
# small as gzip, they inflate to megabytes and slow every execution 100-fold)
if [ -d "$realdata" ]; then
	find "$realdata/nibabel" "$realdata/nifti-rs" -type f -size -64k \
		\( -name '*.nii' -o -name '*.nii.gz' -o -name '*.hdr' -o -name '*.hdr.gz' \) |
		sort >"$tmp/list"
	while read -r f; do add "$f"; done <"$tmp/list"
else
	echo "make_corpus.sh: no real data at $realdata (set LESIONVOL_REALDATA)" >&2
fi

# 2. the repository's generated broken inputs
for gen in "$src"/tests/malformed/*.py; do
	[ -f "$gen" ] || continue
	mkdir -p "$tmp/gen"
	"$py" "$gen" "$tmp/gen" >/dev/null 2>&1 || {
		echo "make_corpus.sh: $gen failed, skipped" >&2
		continue
	}
done
if [ -d "$tmp/gen" ]; then
	find "$tmp/gen" -type f -size -64k | sort >"$tmp/list"
	while read -r f; do add "$f"; done <"$tmp/list"
fi

# 3. synthetic images: every datatype, both byte orders, NIfTI-2, scaled, 4D
if "$py" -c 'import nibabel' 2>/dev/null; then
	"$py" - "$tmp/syn" <<'EOF'
import os, sys
import numpy as np
import nibabel as nib
d = sys.argv[1]
os.makedirs(d)
rng = np.random.default_rng(11)
for dt in ("u1", "i1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"):
    for order in "<>":
        a = (rng.random((5, 4, 3)) * 4).astype(order + dt)
        img = nib.Nifti1Image(a, np.diag([1.5, 2, 2.5, 1]), dtype=a.dtype)
        img.header.set_xyzt_units("mm")
        nib.save(img, os.path.join(d, "s_%s_%s.nii" % (dt, "le" if order == "<" else "be")))
f = np.zeros((6, 5, 4), "f4"); f[1:3, 1:3, 1:3] = np.nan; f[4, 4, 3] = np.inf
nib.save(nib.Nifti1Image(f, np.eye(4)), os.path.join(d, "nan.nii"))
s = nib.Nifti1Image(rng.integers(0, 100, (4, 4, 4)).astype("i2"), np.eye(4), dtype="i2")
s.header.set_slope_inter(0.25, 128)
nib.save(s, os.path.join(d, "scaled.nii"))
nib.save(nib.Nifti2Image(rng.random((4, 3, 2, 3)).astype("f4"), np.eye(4)),
         os.path.join(d, "n2_4d.nii"))
nib.save(nib.Nifti1Pair(rng.random((4, 3, 2)).astype(">f4"), np.eye(4)),
         os.path.join(d, "pair.hdr"))
nib.save(nib.Nifti2Pair(rng.integers(0, 9, (4, 3, 2)).astype("i2"), np.eye(4), dtype="i2"),
         os.path.join(d, "pair2.hdr"))
nib.save(nib.AnalyzeImage(rng.random((4, 3, 2)).astype("u1"), np.eye(4)),
         os.path.join(d, "analyze.hdr"))
EOF
	for f in "$tmp"/syn/*.nii "$tmp"/syn/*.hdr; do add "$f"; done
fi

# 4. fuzz_measure seeds: small label images, cut from real masks when present
"$py" - "$out/measure" "$realdata" <<'EOF' || echo "make_corpus.sh: no measure seeds" >&2
import gzip, hashlib, os, struct, sys
out, realdata = sys.argv[1], sys.argv[2]
def put(b):
    open(os.path.join(out, hashlib.sha1(b).hexdigest()), "wb").write(b)
# layout (fuzz_measure.c): 16 option bytes, then dims nx ny nz (one byte each),
# then the voxels as uint8
def image(opts, nx, ny, nz, vox):
    put(bytes(opts) + bytes([nx, ny, nz]) + bytes(vox))
blob = [0] * 60
for i in (0, 1, 2, 5, 6, 10, 11, 12, 20, 30, 45, 46, 59):
    blob[i] = 1
for c in range(0, 256, 37):
    image([c, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 5, 4, 3, blob)
ring = [1 if (x in (0, 4) or y in (0, 4)) and z == 1 else 0
        for z in range(3) for y in range(5) for x in range(5)]
image([0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 5, 5, 3, ring)
try:
    import nibabel as nib, numpy as np
    f = os.path.join(realdata, "nibabel/nibabel/tests/data/standard.nii.gz")
    a = np.asanyarray(nib.load(f).dataobj).astype("u1")
    image([0] * 16, *a.shape, a.flatten(order="F").tolist())
    f = os.path.join(realdata, "nibabel/nibabel/tests/data/anatomical.nii")
    a = np.asanyarray(nib.load(f).dataobj)[8:20, 10:22, 8:16]
    a = np.clip(a / max(1, a.max()) * 255, 0, 255).astype("u1")
    image([2, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], *a.shape,
          a.flatten(order="F").tolist())
except Exception as e:
    print("make_corpus.sh: real measure seeds skipped: %s" % e, file=sys.stderr)
EOF

echo "make_corpus.sh: $(ls "$out/read" | wc -l) read seeds, $(ls "$out/measure" | wc -l) measure seeds in $out"
