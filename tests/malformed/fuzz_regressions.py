"""fuzz_regressions.py: the inputs on which the fuzzers found a bug, rebuilt
from a description in Python (no binary file is kept in the repository).

    /usr/bin/python3 tests/malformed/fuzz_regressions.py OUT_DIR

writes every case into OUT_DIR and prints "NAME<TAB>FILE<TAB>EXIT" per case,
FILE being the path to give to `lesionvol info` and `measure`, EXIT the exit
code they must give (1: refused; 0: a valid input that once crashed). tests/cli/test_fuzz_regressions.py runs
them; fuzz/make_corpus.sh adds them to the seed corpus.
"""
import gzip
import os
import struct
import sys


def nifti1_header(dim=(3, 2, 2, 2), datatype=2, bitpix=8, pixdim=(1.0, 1.0, 1.0),
                  vox_offset=352.0, scl_slope=1.0, scl_inter=0.0, magic=b"n+1",
                  xyzt_units=2, qform_code=0, sform_code=1, endian="<"):
    """A 348-byte NIfTI-1 (or, with magic b"", Analyze 7.5) header."""
    h = bytearray(348)
    e = endian
    struct.pack_into(e + "i", h, 0, 348)
    dims = list(dim) + [1] * (8 - len(dim))
    struct.pack_into(e + "8h", h, 40, *dims)
    struct.pack_into(e + "hh", h, 70, datatype, bitpix)
    pix = [1.0] + list(pixdim) + [1.0] * (7 - len(pixdim))
    struct.pack_into(e + "8f", h, 76, *pix)
    struct.pack_into(e + "fff", h, 108, vox_offset, scl_slope, scl_inter)
    h[123] = xyzt_units
    struct.pack_into(e + "hh", h, 252, qform_code, sform_code)
    struct.pack_into(e + "4f", h, 280, pix[1], 0, 0, 0)
    struct.pack_into(e + "4f", h, 296, 0, pix[2], 0, 0)
    struct.pack_into(e + "4f", h, 312, 0, 0, pix[3], 0)
    h[344:348] = magic.ljust(4, b"\0")[:4]
    return bytes(h)


def nifti2_header(dim=(3, 2, 2, 2), datatype=2, bitpix=8, pixdim=(1.0, 1.0, 1.0),
                  vox_offset=544, scl_slope=1.0, scl_inter=0.0, magic=b"n+2",
                  xyzt_units=2, qform_code=0, sform_code=1, endian="<"):
    """A 540-byte NIfTI-2 header (pad to vox_offset before the data)."""
    h = bytearray(540)
    e = endian
    struct.pack_into(e + "i", h, 0, 540)
    h[4:12] = magic.ljust(4, b"\0")[:4] + b"\r\n\x1a\n"
    struct.pack_into(e + "hh", h, 12, datatype, bitpix)
    dims = list(dim) + [1] * (8 - len(dim))
    struct.pack_into(e + "8q", h, 16, *dims)
    pix = [1.0] + list(pixdim) + [1.0] * (7 - len(pixdim))
    struct.pack_into(e + "8d", h, 104, *pix)
    struct.pack_into(e + "qdd", h, 168, vox_offset, scl_slope, scl_inter)
    struct.pack_into(e + "ii", h, 344, qform_code, sform_code)
    struct.pack_into(e + "4d", h, 400, pix[1], 0, 0, 0)
    struct.pack_into(e + "4d", h, 432, 0, pix[2], 0, 0)
    struct.pack_into(e + "4d", h, 464, 0, 0, pix[3], 0)
    struct.pack_into(e + "i", h, 500, xyzt_units)
    return bytes(h)


# (name, why, {file name: bytes}, file to open, text the error must contain
#  [, exit code: 1 unless given; 0 for a valid input that crashed a fuzzer])
CASES = [
    ("vox_offset_1e27_analyze",
     "fuzz_read: a float vox_offset past INT64_MAX was converted to int64_t "
     "before it was checked (UBSan float-cast-overflow; the message then said "
     "'vox_offset -9223372036854775808')",
     {"vox_offset_1e27.hdr": nifti1_header(magic=b"", vox_offset=1.1e27),
      "vox_offset_1e27.img": bytes(8)},
     "vox_offset_1e27.hdr", "vox_offset 1.1e+27"),
    ("vox_offset_1e27_nii",
     "the same through a single .nii file",
     {"vox_offset_1e27.nii": nifti1_header(vox_offset=1.1e27) + bytes(12)},
     "vox_offset_1e27.nii", "vox_offset 1.1e+27"),
    ("datatype_7_nii",
     "fuzz_read: an unknown datatype code passed the lenient open of `info`; "
     "niftilib then printed '** ERROR: nifti_convert_n1hdr2nim: bad datatype' "
     "and we said only 'niftilib rejected it'",
     {"datatype_7.nii": nifti1_header(datatype=7, bitpix=8) + bytes(12)},
     "datatype_7.nii", "unknown code 7"),
    ("datatype_0_nii",
     "the same with DT_UNKNOWN (0)",
     {"datatype_0.nii": nifti1_header(datatype=0, bitpix=0) + bytes(12)},
     "datatype_0.nii", "unknown code 0"),
    ("datatype_255_nifti2",
     "the same through NIfTI-2 (nifti_convert_n2hdr2nim)",
     {"datatype_255.nii": nifti2_header(datatype=255, bitpix=8) + bytes(12)},
     "datatype_255.nii", "unknown code 255"),
    ("one_voxel_measure",
     "fuzz_measure (its empty input: a 1x1x1 uint8 image of 0): the labeller "
     "computed its row pointer from the NULL mask pointer when it reads rows "
     "through a fill source (clang UBSan: applying offset to null pointer); "
     "a valid image, read and measured with exit 0; again after the labeller "
     "was rewritten: qsort() was given the NULL array of no components "
     "(UBSan nonnull-attribute)",
     {"one_voxel.nii": nifti1_header(dim=(3, 1, 1, 1)) + bytes(5)},
     "one_voxel.nii", "", 0),
]


def write_all(out_dir):
    """Write every case into @out_dir; returns [(name, why, path, expect, exit)]."""
    made = []
    for name, why, files, main, expect, *code in CASES:
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        for fname, data in files.items():
            if fname.endswith(".gz") and data[:2] != b"\x1f\x8b":
                data = gzip.compress(data, mtime=0)
            with open(os.path.join(d, fname), "wb") as f:
                f.write(data)
        made.append((name, why, os.path.join(d, main), expect, code[0] if code else 1))
    return made


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: fuzz_regressions.py OUT_DIR")
    for name, _, path, _, code in write_all(sys.argv[1]):
        print("%s\t%s\t%d" % (name, path, code))
