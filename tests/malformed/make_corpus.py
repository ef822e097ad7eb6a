"""make_corpus.py: the hostile-input corpus, written by code (no binary file is
kept in the repository): broken images, lying headers, odd files, bad cohort
manifests, and the tricky-but-valid inputs that must keep working.

    /usr/bin/python3 tests/malformed/make_corpus.py OUT_DIR

writes every input into OUT_DIR and two manifests of the cases:
  manifest.json  a list of {name, args, exit, expect, file, json, stdout,
                 needs_non_root, why}: run `lesionvol ARGS` with OUT_DIR as the
                 working folder (paths in ARGS are relative to it); it must
                 exit EXIT (the documented codes), say EXPECT on stderr (any case,
                 a fragment of the message) and name FILE there; with JSON,
                 fields of the JSON on stdout (numbers within 1e-9 relative);
                 with STDOUT, a fragment of stdout
  manifest.tsv   the same for people: name, command line, exit, expect
Expected values are computed here with numpy from the bytes written, never
taken from lesionvol. Only the standard library and numpy are used.
tests/cli/test_malformed_corpus.py runs the corpus; fuzz/make_corpus.sh turns
its small files into fuzzing seeds.
"""
import gzip
import json
import os
import shlex
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzz_regressions import nifti1_header, nifti2_header  # noqa: E402

SHAPE = (9, 8, 7)
PIXDIM = (2.0, 2.0, 2.5)
# NIfTI-1 header field offsets (bytes)
O_DIM, O_DATATYPE, O_BITPIX, O_PIXDIM = 40, 70, 72, 76
O_VOX_OFFSET, O_SLOPE, O_MAGIC = 108, 112, 344
# NIfTI datatype codes and numpy types
DT = {"u1": 2, "i2": 4, "i4": 8, "f4": 16, "f8": 64, "i1": 256, "u2": 512}


def values(seed=1, shape=SHAPE):
    rng = np.random.default_rng(seed)
    v = rng.integers(-50, 200, size=shape).astype(np.int16)
    v[0, 0, 0] = 0
    return v


def nii(data, endian="<", version=1, **fields):
    """Bytes of a single-file NIfTI holding @data (header, extender, voxels)."""
    code = DT[data.dtype.str[1:]]
    dim = (data.ndim,) + data.shape
    bitpix = data.dtype.itemsize * 8
    raw = data.astype(data.dtype.newbyteorder(endian)).tobytes(order="F")
    if version == 2:
        h = nifti2_header(dim=dim, datatype=code, bitpix=bitpix, pixdim=PIXDIM,
                          endian=endian, **fields)
        return h + bytes(4) + raw
    return nifti1_header(dim=dim, datatype=code, bitpix=bitpix, pixdim=PIXDIM,
                         endian=endian, **fields) + bytes(4) + raw


def pair(data, endian="<", magic=b"ni1", **fields):
    """(header, image) bytes of a .hdr/.img pair (magic b"": Analyze 7.5)."""
    code = DT[data.dtype.str[1:]]
    h = nifti1_header(dim=(data.ndim,) + data.shape, datatype=code,
                      bitpix=data.dtype.itemsize * 8, pixdim=PIXDIM, vox_offset=0.0,
                      magic=magic, endian=endian, **fields)
    return h, data.astype(data.dtype.newbyteorder(endian)).tobytes(order="F")


def patch(buf, offset, fmt, *vals):
    b = bytearray(buf)
    struct.pack_into("<" + fmt, b, offset, *vals)
    return bytes(b)


def stats(a):
    """The fields `lesionvol info --format json` reports on values @a."""
    a = np.asarray(a, dtype=np.float64)
    fin = a[np.isfinite(a)]
    return {"min": float(fin.min()), "max": float(fin.max()),
            "sum": float(fin.sum()), "nonzero_voxels": int(np.count_nonzero(fin)),
            "nan_voxels": int(np.isnan(a).sum())}


class Corpus:
    def __init__(self, out):
        self.out = out
        self.cases = []
        os.makedirs(out, exist_ok=True)

    def write(self, name, content, gz=False):
        p = os.path.join(self.out, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(gzip.compress(content, mtime=0) if gz else content)
        return name

    def case(self, name, args, exit, expect, file=None, json=None, stdout=None,
             needs_non_root=False, why=""):
        assert name not in {c["name"] for c in self.cases}, name
        self.cases.append({"name": name, "args": list(args), "exit": exit,
                           "expect": expect, "file": file, "json": json,
                           "stdout": stdout, "needs_non_root": needs_non_root,
                           "why": why})

    def refused(self, name, path, expect, why="", command="info", extra=()):
        """@command on @path exits 1 with a message naming it and saying @expect."""
        self.case(name, [command, *extra, path], 1, expect, file=path, why=why)

    def accepted(self, name, path, json=None, expect="", extra=(), why=""):
        """`info --format json` reads @path; fields @json in its report."""
        self.case(name, ["info", "--format", "json", *extra, path], 0, expect,
                  json=json, why=why)

    def save(self):
        with open(os.path.join(self.out, "manifest.json"), "w") as f:
            json.dump(self.cases, f, indent=1)
        with open(os.path.join(self.out, "manifest.tsv"), "w", encoding="utf-8") as f:
            f.write("name\tcommand\texit\texpect\n")
            for c in self.cases:
                f.write("%s\t%s\t%d\t%s\n" % (c["name"], shlex.join(["lesionvol"] + c["args"]),
                                              c["exit"], c["expect"]))


def images(c, data, good):
    """Broken and tricky single images."""
    c.write("good.nii", good)
    c.accepted("baseline_is_read", "good.nii", dict(stats(data), dims=list(SHAPE)),
               why="the corpus's own valid image")

    # truncation and gzip
    c.refused("truncated_header", c.write("short_hdr.nii", good[:200]), "truncated header")
    c.refused("three_byte_file", c.write("tiny.nii", good[:3]), "too short")
    c.refused("empty_file", c.write("empty.nii", b""), "empty")
    c.refused("truncated_data", c.write("short_data.nii", good[:352 + data.nbytes // 2]),
              "truncated data")
    rng = np.random.default_rng(3)
    c.refused("gzip_garbage", c.write("garbage.nii.gz", b"\x1f\x8b\x08\x00" + rng.bytes(4000)),
              "gzip")
    big = nii(values(seed=5, shape=(40, 40, 40)))
    whole = gzip.compress(big, mtime=0)
    c.refused("gzip_truncated", c.write("cut.nii.gz", whole[: int(len(whole) * 0.6)]),
              "truncated")
    flipped = bytearray(whole)
    flipped[len(flipped) // 2] ^= 0x55
    c.refused("gzip_corrupt_middle", c.write("flipped.nii.gz", bytes(flipped)), "gzip",
              why="a bit flip inside the deflate stream (or its CRC)")
    badcrc = bytearray(whole)
    badcrc[-8] ^= 0x01
    for command in ("info", "measure"):
        c.refused("gzip_crc_mismatch_" + command, c.write("badcrc.nii.gz", bytes(badcrc)),
                  "incorrect data check", command=command,
                  why="the voxels inflate fine but do not match the trailer's CRC-32")
    c.refused("gzip_corrupt_middle_measure", "flipped.nii.gz", "gzip", command="measure")
    c.refused("gzip_stream_shorter_than_header",
              c.write("half.nii.gz", good[: 352 + data.nbytes // 2], gz=True), "truncated")
    c.accepted("gzip_multi_member", c.write(
        "members.nii.gz", gzip.compress(good[:1000], mtime=0) + gzip.compress(good[1000:], mtime=0)),
        stats(data), why="bgzip-style files: several gzip members in a row")

    # dimensions
    tera = patch(patch(good, O_DIM, "8h", 3, 10000, 10000, 10000, 1, 1, 1, 1),
                 O_DATATYPE, "hh", 2, 8)
    c.refused("gz_claims_a_terabyte", c.write("tera.nii.gz", tera, gz=True), "can hold",
              why="the header claims 1e12 voxels behind a tiny gzip stream")
    c.refused("nii_claims_a_terabyte", c.write("tera.nii", tera), "truncated data")

    def n2(dims):
        h = nifti2_header(dim=dims, datatype=4, bitpix=16, pixdim=PIXDIM)
        return h + bytes(4) + data.tobytes(order="F")
    c.refused("dims_2p31", c.write("dim2p31.nii", n2([3, 2 ** 31, 1, 1, 1, 1, 1, 1])),
              "truncated data")
    c.refused("dims_product_2p93", c.write("dim2p31x3.nii", n2([3, 2 ** 31, 2 ** 31, 2 ** 31])),
              "overflow")
    c.refused("dims_product_past_2p63", c.write(
        "dim2p63.nii", n2([4, 2 ** 32, 2 ** 32, 2 ** 20, 2 ** 20])), "overflow")
    c.refused("dim_negative_nifti2", c.write("dimneg2.nii", n2([3, -(2 ** 40), 4, 4])), "dim[1]")
    c.refused("dim_negative", c.write("negdim.nii", patch(good, O_DIM + 4, "h", -8)), "dim[2]")
    c.refused("dim_zero", c.write("zerodim.nii", patch(good, O_DIM + 6, "h", 0)), "dim[3]")
    for d0 in (0, 8, -1):
        c.refused("dim0_%d" % d0, c.write("dim0_%d.nii" % d0, patch(good, O_DIM, "h", d0)),
                  "dim[0]")
    # past memory: a valid 6 GiB image (a sparse file: no disk used) that
    # cannot be held under the test's 2 GiB address-space limit
    h = nifti1_header(dim=(3, 2048, 2048, 768), datatype=4, bitpix=16)
    p = c.write("six_gib.nii", h + bytes(4))
    with open(os.path.join(c.out, p), "r+b") as f:
        f.truncate(352 + 2048 * 2048 * 768 * 2)
    c.case("dims_past_memory", ["info", p], 70, "out of memory", file=p,
           why="6 GiB of voxels: a clean out-of-memory error (exit 70), no crash")

    # vox_offset
    c.refused("vox_offset_negative", c.write("negoff.nii", patch(good, O_VOX_OFFSET, "f", -352.0)),
              "vox_offset")
    c.refused("vox_offset_inside_header",
              c.write("lowoff.nii", patch(good, O_VOX_OFFSET, "f", 100.0)), "vox_offset")
    for tag, v in (("fraction", 352.5), ("nan", float("nan")), ("inf", float("inf")),
                   ("3e38", 3e38)):
        c.refused("vox_offset_" + tag,
                  c.write("off_%s.nii" % tag, patch(good, O_VOX_OFFSET, "f", v)), "vox_offset")
    far = patch(good, O_VOX_OFFSET, "f", 1048576.0)
    c.refused("vox_offset_past_the_end", c.write("faroff.nii", far), "past the end")
    c.refused("vox_offset_past_the_end_gz", c.write("faroff.nii.gz", far, gz=True), "truncated")
    zero = patch(good, O_VOX_OFFSET, "f", 0.0)
    c.accepted("vox_offset_zero_means_after_the_header", c.write("zerooff.nii", zero),
               stats(data), expect="vox_offset is 0")
    h348 = patch(good[:348], O_VOX_OFFSET, "f", 0.0) + good[352:]
    c.accepted("vox_offset_zero_without_extender", c.write("zerooff348.nii", h348),
               stats(data), expect="at byte 348")

    # datatype, bitpix, magic
    c.refused("datatype_unknown", c.write("dt9999.nii", patch(good, O_DATATYPE, "h", 9999)),
              "unknown code 9999")
    c.refused("datatype_binary", c.write("dtbinary.nii", patch(good, O_DATATYPE, "hh", 1, 1)),
              "BINARY (code 1)")
    c.refused("datatype_complex", c.write("dtcomplex.nii", patch(good, O_DATATYPE, "hh", 32, 64)),
              "COMPLEX64 (code 32)")
    c.refused("datatype_rgb", c.write("dtrgb.nii", patch(good, O_DATATYPE, "hh", 128, 24)),
              "RGB24")
    c.refused("bitpix_disagrees", c.write("bitpix.nii", patch(good, O_BITPIX, "h", 32)), "bitpix")
    c.refused("pair_magic_in_single_file",
              c.write("magic.nii", patch(good, O_MAGIC, "4s", b"ni1\0")), "magic")
    c.refused("not_a_nifti", c.write("text.nii", b"this is not an image, just some text" * 20),
              "not a NIfTI")

    # pixdim and scaling
    # a voxel size that is not a normal number is refused, naming the field
    for tag, v in (("nan", float("nan")), ("inf", float("inf")), ("zero", 0.0),
                   ("subnormal", 1e-40)):
        c.refused("pixdim_" + tag,
                  c.write("pixdim_%s.nii" % tag, patch(good, O_PIXDIM + 8, "f", v)),
                  "pixdim[2] is")
    c.accepted("pixdim_negative_counts_by_absolute_value",
               c.write("negpix.nii", patch(good, O_PIXDIM + 4, "f", -2.0)),
               {"voxel_size_mm": [2.0, 2.0, 2.5], "voxel_volume_mm3": 10.0})
    for tag, v in (("nan", float("nan")), ("inf", float("inf")), ("minus_inf", float("-inf"))):
        c.accepted("scl_slope_%s_means_unscaled" % tag,
                   c.write("slope_%s.nii" % tag, patch(good, O_SLOPE, "ff", v, 100.0)),
                   dict(stats(data), scaled=False), expect="scl_slope")
    c.accepted("scl_slope_zero_means_unscaled",
               c.write("slope0.nii", patch(good, O_SLOPE, "ff", 0.0, 5.0)),
               dict(stats(data), scaled=False))
    c.accepted("scl_inter_nan_counts_as_zero",
               c.write("inter_nan.nii", patch(good, O_SLOPE, "ff", 0.5, float("nan"))),
               dict(stats(data * 0.5), scaled=True))
    slope, inter = np.float32(0.1), np.float32(1000.3)
    c.accepted("scaling_in_double",
               c.write("scaled.nii", patch(good, O_SLOPE, "ff", slope, inter)),
               stats(data.astype(np.float64) * float(slope) + float(inter)))
    huge = patch(good, O_SLOPE, "ff", 3e38, 3e38)
    c.accepted("scl_slope_huge", c.write("slope_huge.nii", huge),
               {"scaled": True}, why="raw * 3e38 + 3e38 in double: finite, no overflow")

    # NaN and Inf voxels: never lesion (NaN), counted
    f = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE, order="F") % 7 - 2
    f[1:3, 1:3, 1:3] = np.nan
    f[4, 4, 3] = np.inf
    f[5, 4, 3] = -np.inf
    p = c.write("nan_inf.nii", nii(f))
    st = stats(f)
    c.accepted("voxels_nan_inf_info", p, {"nan_voxels": st["nan_voxels"], "inf_voxels": 2,
                                          "min": st["min"], "max": st["max"]})
    lesion = (f > 0) & ~np.isnan(f)
    c.case("voxels_nan_inf_measure", ["measure", "--format", "json", p], 0, "",
           json={"nan_voxels": int(np.isnan(f).sum()), "lesion_voxels": int(lesion.sum())},
           why="NaN is never lesion; +Inf > 0 is")
    c.case("voxels_nan_inf_zthr", ["measure", "--format", "json", "--zthr", "1", p], 0, "",
           json={"nan_voxels": int(np.isnan(f).sum())},
           why="the robust z threshold ignores NaN and Inf in its median and MAD")
    allnan = np.full((4, 4, 4), np.nan, np.float32)
    p = c.write("all_nan.nii", nii(allnan))
    c.case("voxels_all_nan_measure", ["measure", "--format", "json", p], 0, "",
           json={"nan_voxels": 64, "lesion_voxels": 0})
    c.case("voxels_all_nan_zthr", ["measure", "--zthr", "2", p], 1, "no reference voxels",
           file=p, why="no finite non-zero voxel to take a median of")
    f8 = np.array([1e308, -1e308, 1e300, 5e-324, 0, 3, 2 ** 63, -(2 ** 64)],
                  np.float64).reshape(2, 2, 2)
    p = c.write("extreme_f8.nii", nii(f8))
    c.case("voxels_extreme_doubles_measure", ["measure", "--format", "json", p], 0, "",
           json={"lesion_voxels": int((f8 > 0).sum())},
           why="huge and tiny doubles are compared, never cast to an integer")

    # 4D
    vols = np.stack([values(seed=s) for s in (21, 22, 23)], axis=-1)
    p = c.write("four.nii.gz", nii(vols), gz=True)
    c.case("4d_without_volume", ["measure", p], 1, "3 volumes", file=p)
    c.case("4d_volume_out_of_range", ["info", "--volume", "3", p], 1, "3 volumes", file=p)
    c.accepted("4d_volume_2", p, stats(vols[..., 2]), extra=("--volume", "2"))
    c.accepted("4d_info_all_volumes", p, dict(stats(vols), n_volumes=3))

    # files that are not images
    os.makedirs(os.path.join(c.out, "folder.nii"), exist_ok=True)
    c.refused("directory_instead_of_file", "folder.nii", "directory")
    fifo = os.path.join(c.out, "pipe.nii")
    if not os.path.exists(fifo):
        os.mkfifo(fifo)
    c.refused("fifo_does_not_hang", "pipe.nii", "not a regular file")
    c.refused("device_does_not_hang", "/dev/zero", "not a regular file")
    c.refused("missing_file", "nowhere.nii.gz", "no such file")
    p = c.write("locked.nii", good)
    os.chmod(os.path.join(c.out, p), 0)
    c.case("unreadable_permissions", ["info", p], 1, "permission denied", file=p,
           needs_non_root=True, why="root reads any file, so this case needs another user")

    # pairs
    h, img = pair(data)
    c.write("lonely.hdr", h)
    c.refused("hdr_without_img", "lonely.hdr", "no image file")
    c.write("headless.img", img)
    c.refused("img_without_hdr", "headless.img", "no header file")
    c.write("shortpair.hdr", h)
    c.write("shortpair.img", img[: len(img) // 3])
    c.case("pair_img_truncated", ["info", "shortpair.hdr"], 1, "truncated data",
           file="shortpair.img", why="the message names the file that is short")
    for order, tag in (("<", "le"), (">", "be")):
        hh, ii = pair(data, endian=order)
        c.write("pair_%s.hdr" % tag, hh)
        c.write("pair_%s.img" % tag, ii)
        for by in ("hdr", "img"):
            c.accepted("pair_%s_named_by_%s" % (tag, by), "pair_%s.%s" % (tag, by),
                       dict(stats(data), format="NIfTI-1 pair"))
        hh, ii = pair(data, endian=order, magic=b"", scl_slope=4.0)
        c.write("spm_%s.hdr" % tag, hh)
        c.write("spm_%s.img" % tag, ii)
        c.accepted("analyze_%s_scale_factor_ignored" % tag, "spm_%s.hdr" % tag,
                   dict(stats(data), format="Analyze 7.5", scaled=False),
                   expect="SPM scale factor")
    c.write("zz.hdr.gz", h, gz=True)
    c.write("zz.img.gz", img, gz=True)
    c.accepted("pair_both_gzipped", "zz.img.gz", dict(stats(data), compressed=True))
    c.write("zp.hdr", h)
    c.write("zp.img.gz", img, gz=True)
    c.accepted("pair_img_gzipped", "zp.hdr", dict(stats(data), compressed=True))
    be2 = (data.astype(np.float32) / 3)
    c.accepted("nifti2_big_endian", c.write("be2.nii", nii(be2, endian=">", version=2)),
               dict(stats(be2.astype(np.float64)), format="NIfTI-2"))

    # exactly the named file: x.nii beside x.nii.gz
    a, b = values(seed=11), values(seed=12)
    c.write("twin.nii", nii(a))
    c.write("twin.nii.gz", nii(b), gz=True)
    c.accepted("twin_gz_reads_the_gz", "twin.nii.gz", dict(stats(b), compressed=True))
    c.accepted("twin_nii_reads_the_nii", "twin.nii", dict(stats(a), compressed=False))
    return a


def grids(c, data, good):
    """Masks, follow-ups and references on another grid."""
    other = values(seed=31, shape=(8, 8, 8))
    c.write("other_grid.nii", nii(other))
    c.case("measure_mask_on_another_grid", ["measure", "--mask", "other_grid.nii", "good.nii"],
           1, "grid", file="other_grid.nii")
    c.case("change_mask_on_another_grid",
           ["change", "--mask", "other_grid.nii", "good.nii", "good.nii"], 1, "grid",
           file="other_grid.nii")
    c.case("evaluate_on_another_grid", ["evaluate", "good.nii", "other_grid.nii"], 1, "grid",
           file="other_grid.nii")
    c.case("change_on_another_grid_reports_volumes",
           ["change", "--format", "json", "good.nii", "other_grid.nii"], 0, "co-regist",
           why="volumes still reported, overlap n/a with a warning saying why")
    c.case("output_equal_to_input_is_refused",
           ["measure", "--out-mask", "good.nii", "good.nii"], 2, "refusing to overwrite",
           file="good.nii",
           why="an output path equal to an input would overwrite it")


def cohort(c, data):
    """Cohort manifests: broken ones exit 1 naming the line, odd ones work."""
    rng = np.random.default_rng(41)
    for pid in ("01", "02"):
        for ses, days in (("acute", 0), ("chronic", 90)):
            m = (rng.random((10, 9, 8)) > 0.8).astype(np.uint8)
            c.write("study/sub-%s_ses-%s.nii.gz" % (pid, ses), nii(m), gz=True)
    rows = [("01", "acute", "sub-01_ses-acute.nii.gz", "0"),
            ("01", "chronic", "sub-01_ses-chronic.nii.gz", "90"),
            ("02", "acute", "sub-02_ses-acute.nii.gz", "0"),
            ("02", "chronic", "sub-02_ses-chronic.nii.gz", "90")]

    def tsv(header, rs, nl="\n"):
        return (nl.join("\t".join(r) for r in [header] + rs) + nl).encode()
    full = ("participant_id", "session", "image", "days")

    def bad(name, content, expect, why=""):
        p = c.write("study/%s.tsv" % name, content)
        c.case("cohort_" + name, ["cohort", "-q", p, "-o", "out-" + name], 1, expect,
               file=p, why=why)
    bad("missing_column", tsv(("participant_id", "session", "file"), [r[:3] for r in rows]),
        "missing required column 'image'")
    bad("duplicate_rows", tsv(full, rows + [rows[1]]), "listed twice")
    bad("bad_number", tsv(full, rows[:3] + [rows[3][:3] + ("90 days",)]),
        "days '90 days' is not a number")
    bad("comma_separated", b"participant_id,session,image\n01,acute,x.nii.gz\n",
        "missing required column")
    bad("utf16", "participant_id\tsession\timage\n".encode("utf-16"), "UTF-16")
    bad("empty_manifest", b"", "empty")
    bad("ragged_row", tsv(full, rows[:2] + [("02", "acute")]), "line 4")
    p = c.write("study/bom_crlf.tsv", b"\xef\xbb\xbf" + tsv(full, rows, nl="\r\n"))
    c.case("cohort_bom_and_crlf_work", ["cohort", "-q", p, "-o", "out-bom"], 0, "",
           why="a manifest saved by Excel on Windows")
    c.case("cohort_missing_image_fails_alone",
           ["cohort", c.write("study/missing_image.tsv",
                                    tsv(full, rows[:3] + [rows[3][:2] + ("gone.nii.gz", "90")])),
            "-o", "out-missing"], 3, "gone.nii.gz", file="gone.nii.gz")


def odd_paths(c, data, good):
    """Paths with spaces and non-ASCII characters must work everywhere."""
    d = "dir with spaces/Ünïcødé ñame"
    p = c.write(d + "/sub 01 café.nii.gz", good, gz=True)
    c.accepted("path_with_spaces_and_unicode_info", p, dict(stats(data), path=p))
    c.case("path_with_spaces_and_unicode_measure", ["measure", "--format", "json", p], 0, "",
           json={"lesion_voxels": int((data > 0).sum()), "image": p})
    c.case("path_with_spaces_and_unicode_change", ["change", "--format", "json", p, p], 0, "")
    m = d + "/study ü.tsv"
    c.write(m, ("participant_id\tsession\timage\n01\tacute\tsub 01 café.nii.gz\n"
                "02\tacute\tsub 01 café.nii.gz\n").encode())
    c.case("path_with_spaces_and_unicode_cohort",
           ["cohort", "-q", m, "-o", d + "/out ö"], 0, "")


def extremes(c):
    """Valid files with extreme numbers: read, measured and drawn without any
    NaN or huge double being cast to an integer (float-cast-overflow)."""
    rng = np.random.default_rng(51)
    m = (rng.random((6, 5, 4)) > 0.5).astype(np.uint8)
    pix = (1e-30, 1e30, 1.0)
    h = nifti1_header(dim=(3, 6, 5, 4), pixdim=pix)
    p = c.write("pixdim_1e-30_1e30.nii", h + bytes(4) + m.tobytes(order="F"))
    vv = float(np.float32(1e-30)) * float(np.float32(1e30)) * 1.0
    c.case("pixdim_extreme_aspect_measure", ["measure", "--format", "json", p], 0, "",
           json={"lesion_voxels": int(m.sum()), "voxel_volume_mm3": vv})
    c.case("pixdim_extreme_aspect_quicklook", ["quicklook", p, "-o", "pixdim_extreme.png"],
           0, "", why="pixel footprints of 1e28 voxels were cast to int64_t")
    f8 = np.full((6, 5, 4), 1.7e308)
    f8[::2] = -1.7e308
    f8[0, 0, 0] = 0
    p = c.write("f64_huge.nii", nii(f8))
    for tag, extra in (("", []), ("_zthr", ["--zthr", "1"]), ("_uzthr", ["--uzthr", "1"])):
        c.case("voxels_1e308_measure" + tag, ["measure", "--format", "json", *extra, p], 0,
               "", json={"nan_voxels": 0},
               why="differences of +-1.7e308 overflow to inf in the median and MAD")
    c.case("voxels_1e308_quicklook", ["quicklook", p, "-o", "f64_huge.png"], 0, "")
    c.case("voxels_1e308_change", ["change", "--format", "json", p, p], 0, "")
    i8 = np.full((6, 5, 4), np.iinfo(np.int64).max, np.int64)
    i8[::2] = np.iinfo(np.int64).min
    p = c.write("i64_extremes.nii", nifti1_header(dim=(3, 6, 5, 4), datatype=1024, bitpix=64)
                + bytes(4) + i8.tobytes(order="F"))
    c.case("voxels_int64_extremes_measure", ["measure", "--format", "json", "--thr", "1e18", p],
           0, "", json={"lesion_voxels": int((i8 >= 1e18).sum())})
    r = rng.integers(-32768, 32767, (6, 5, 4)).astype(np.int16)
    p = c.write("i16_slope_3e38.nii", nifti1_header(
        dim=(3, 6, 5, 4), datatype=4, bitpix=16, scl_slope=3e38, scl_inter=-3e38)
        + bytes(4) + r.tobytes(order="F"))
    v = r.astype(np.float64) * float(np.float32(3e38)) - float(np.float32(3e38))
    c.case("scaled_to_1e43_measure", ["measure", "--format", "json", p], 0, "",
           json={"lesion_voxels": int((v > 0).sum())})
    c.case("scaled_to_1e43_evaluate", ["evaluate", p, p], 0, "")


def usage(c):
    """The command-line contract: usage errors exit 2 with a short usage."""
    for name, args in (("unknown_option", ["info", "--no-such-option", "good.nii"]),
                       ("missing_argument", ["info"]),
                       ("bad_format", ["info", "--format", "xml", "good.nii"]),
                       ("volume_not_a_number", ["info", "--volume", "abc", "good.nii"]),
                       ("threshold_nan", ["measure", "--thr", "nan", "good.nii"]),
                       ("unknown_command", ["no-such-command"]),
                       ("no_command", [])):
        c.case("usage_" + name, args, 2, "usage: lesionvol")
    c.case("version", ["--version"], 0, "", stdout="lesionvol ")
    c.case("help", ["info", "--help"], 0, "", stdout="Exit codes:")


def write_all(out):
    """Write the corpus into @out; returns the list of cases."""
    c = Corpus(out)
    data = values()
    good = nii(data)
    images(c, data, good)
    grids(c, data, good)
    cohort(c, data)
    odd_paths(c, data, good)
    extremes(c)
    usage(c)
    c.save()
    return c.cases


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUT_DIR")
    cases = write_all(sys.argv[1])
    print("make_corpus.py: %d cases in %s (manifest.json, manifest.tsv)"
          % (len(cases), sys.argv[1]))
