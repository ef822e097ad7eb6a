"""lvhostile: builders of hostile files whose size is in their claims, not on
disk: gzip members that inflate to gigabytes, written streaming (never held
in memory) in a few seconds, and NIfTI headers claiming a million volumes."""
import gzip
import struct
import zlib

import numpy as np

MIB = 1 << 20
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def write_gzip_member(f, prefix, n_zeros):
    """Write to the open file @f one gzip member inflating to @prefix followed
    by @n_zeros zero bytes (its CRC-32 and ISIZE correct), a megabyte of
    zeros at a time. After a full flush deflate starts afresh, so every
    megabyte of zeros compresses to the same bytes: they are compressed
    twice, compared, and then repeated (about 1 kB per MiB on disk). Only
    the CRC-32 touches every inflated byte (about 1 s for 4 GiB)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    f.write(GZIP_HEADER)
    f.write(c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH))
    crc = zlib.crc32(prefix)
    zero = bytes(MIB)
    full, rest = divmod(n_zeros, MIB)
    seen = []
    for i in range(full):
        if len(seen) < 2 or seen[0] != seen[1]:
            block = c.compress(zero) + c.flush(zlib.Z_FULL_FLUSH)
            seen.append(block)
            seen = seen[-2:]
        f.write(seen[-1])
        crc = zlib.crc32(zero, crc)
    if rest:
        f.write(c.compress(bytes(rest)))
        crc = zlib.crc32(bytes(rest), crc)
    f.write(c.flush())
    f.write(struct.pack("<II", crc, (len(prefix) + n_zeros) & 0xFFFFFFFF))


def small_mask_nii():
    """(bytes of a 10x10x10 uint8 .nii holding two cubes, 27 + 8 voxels;
    the number of lesion voxels)."""
    import nibabel as nib
    d = np.zeros((10, 10, 10), np.uint8)
    d[2:5, 2:5, 2:5] = 1
    d[7:9, 7:9, 7:9] = 1
    img = nib.Nifti1Image(d, np.eye(4))
    img.header.set_xyzt_units("mm")
    return img.to_bytes(), int(d.sum())


def write_bomb(path, nii, trailing, same_member):
    """@path: the image @nii gzip-compressed, then @trailing zero bytes:
    in a member of their own after the image's (@same_member false) or
    inside the image's own member (true)."""
    with open(path, "wb") as f:
        if same_member:
            write_gzip_member(f, nii, trailing)
        else:
            f.write(gzip.compress(nii, mtime=0))
            write_gzip_member(f, b"", trailing)


def million_volume_nii(path, n_volumes=1000 * 1000, compress=False):
    """A float32 NIfTI-1 of 1x1x1 voxels and @n_volumes volumes (dims
    1, 1, 1, 1000, n/1000: NIfTI-1 dims stop at 32767), voxel v holding v;
    returns the values."""
    import nibabel as nib
    values = np.arange(n_volumes, dtype=np.float32)
    img = nib.Nifti1Image(values.reshape(1, 1, 1, 1000, n_volumes // 1000, order="F"),
                          np.eye(4))
    img.header.set_xyzt_units("mm")
    nib.save(img, path)
    return values
