"""lvtest: helpers shared by the Python tests (run the program, find data).

Every test script runs under ctest with these environment variables:
LESIONVOL (the built program), LESIONVOL_REALDATA (../shared/realdata),
LESIONVOL_SOURCE (the repository root). Exit code 77 means "skipped".
"""
import atexit
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

import numpy as np

SKIP = 77

PROGRAM = os.environ.get("LESIONVOL", "")
SOURCE = os.environ.get(
    "LESIONVOL_SOURCE", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REALDATA = os.environ.get("LESIONVOL_REALDATA",
                          os.path.join(SOURCE, "..", "shared", "realdata"))


def skip(reason):
    """Print why and exit 77, which ctest reports as 'skipped'."""
    print("SKIP: " + reason)
    sys.exit(SKIP)


def program():
    """Path of the lesionvol program; skips when it was not built."""
    if not PROGRAM or not os.access(PROGRAM, os.X_OK):
        skip("LESIONVOL is not set to the built program (run through ctest)")
    return PROGRAM


def limit_memory(max_bytes):
    """A preexec_fn for subprocess that caps the address space (ulimit -v)."""
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
    return apply


_sanitized = None


def sanitized():
    """Whether the program was built with AddressSanitizer (-DLESIONVOL_SANITIZE=ON)."""
    global _sanitized
    if _sanitized is None:
        with open(program(), "rb") as f:
            _sanitized = b"__asan_init" in f.read()
    return _sanitized


def run(args, timeout=60, memory_bytes=None, cwd=None, env=None, stdin=None):
    """Run lesionvol with @args; returns (returncode, stdout, stderr) as text.

    A negative return code (killed by a signal) is reported as 128 + signal,
    like a shell would, so 'rc < 128' means 'did not crash'. A timeout raises
    subprocess.TimeoutExpired (a hang is a failure). @memory_bytes caps the
    address space like `ulimit -v`; under ASan, which reserves terabytes of
    address space for its shadow memory, it caps each allocation instead.
    """
    cmd = [program()] + [str(a) for a in args]
    preexec = None
    if memory_bytes and sanitized():
        env = dict(os.environ if env is None else env)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":max_allocation_size_mb=%d:allocator_may_return_null=1"
                               % (memory_bytes >> 20)).lstrip(":")
    elif memory_bytes:
        preexec = limit_memory(memory_bytes)
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=cwd, env=env,
                       stdin=subprocess.DEVNULL if stdin is None else stdin,
                       preexec_fn=preexec)
    rc = p.returncode if p.returncode >= 0 else 128 - p.returncode
    return (rc, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def realdata(*parts):
    """Path under ../shared/realdata; skips the whole test when it is absent."""
    path = os.path.join(REALDATA, *parts)
    if not os.path.exists(path):
        skip("real data not found at %s (set LESIONVOL_REALDATA)" % path)
    return path


def tmpdir():
    """A fresh temporary folder, removed when the test exits."""
    d = tempfile.mkdtemp(prefix="lesionvol-test-")
    atexit.register(shutil.rmtree, d, True)
    return d


TEMP_NAME = re.compile(r"^\.lesionvol-[0-9a-f]{8}-[1-9][0-9]*-[A-Za-z0-9]{6}\.tmp$")


def is_temp(name):
    """Whether file name @name (no folder) is one of lesionvol's temporaries."""
    return bool(TEMP_NAME.match(os.path.basename(name)))


def stray_stderr_lines(stderr):
    """Lines on stderr that lesionvol did not write (niftilib chatter...).

    Every message of ours starts with 'lesionvol' (errors, warnings) or is
    part of a usage text ('usage:', 'Try '); anything else leaked.
    """
    bad = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        if line.startswith(("lesionvol", "usage:", "Try ", "  ")):
            continue
        bad.append(line)
    return bad


def run_json(args):
    """Run lesionvol with @args + --format json, expect success, parse."""
    rc, out, err = run(list(args) + ["--format", "json"])
    if rc != 0:
        raise AssertionError(f"lesionvol {' '.join(map(str, args))}: exit {rc}\n{err}")
    return json.loads(out)


def spread(items, n):
    """@n items picked evenly from sorted @items (all when there are fewer)."""
    items = sorted(items)
    if len(items) <= n:
        return items
    idx = np.unique(np.linspace(0, len(items) - 1, n).round().astype(int))
    return [items[i] for i in idx]


# ---- nibabel side: values, voxel volume and world coordinates ------------

def load_image(path):
    import nibabel as nib
    img = nib.load(path)
    if isinstance(img, nib.Cifti2Image):
        # a CIFTI-2 file is a NIfTI-2 image to lesionvol
        img = nib.Nifti2Image.from_filename(path)
    return img


def scaled_volume(img, volume=None, keep_dtype=False):
    """The scaled values (raw * slope + inter, in float64) of one 3D volume.
    With @keep_dtype an unscaled image keeps its stored type (the same
    values, cheaper for large masks)."""
    slope, inter = img.dataobj.slope, img.dataobj.inter
    if keep_dtype and slope == 1 and inter == 0:
        data = np.asanyarray(img.dataobj)
    else:
        data = img.get_fdata(dtype=np.float64)
    if data.ndim > 3:
        data = data.reshape(data.shape[:3] + (-1,), order="F")[..., volume or 0]
    while data.ndim < 3:
        data = data[..., None]
    return data


def to_mm(hdr):
    """Factor from the header's spatial unit to mm (unknown: mm)."""
    try:
        code = int(hdr["xyzt_units"]) & 7
    except (KeyError, ValueError):
        return 1.0
    return {1: 1000.0, 2: 1.0, 3: 0.001}.get(code, 1.0)


def voxel_volume_mm3(hdr, ndim=3):
    p = np.abs(np.asarray(hdr["pixdim"][1:4], dtype=np.float64))
    for i in range(ndim, 3):
        if p[i] == 0 or not np.isfinite(p[i]):
            p[i] = 1.0
    f = to_mm(hdr)
    return float((p[0] * f) * (p[1] * f) * (p[2] * f))


def world_affine_mm(hdr):
    """Voxel to world mm as documented: sform if its code > 0, else qform
    if its code > 0, else pixdim scaling with zero offset."""
    f = to_mm(hdr)
    try:
        scode, qcode = int(hdr["sform_code"]), int(hdr["qform_code"])
    except (KeyError, ValueError):
        scode = qcode = 0
    if scode > 0:
        a = hdr.get_sform()
    elif qcode > 0:
        a = hdr.get_qform()
    else:
        p = np.abs(np.asarray(hdr["pixdim"][1:4], dtype=np.float64))
        p[p == 0] = 1.0
        a = np.diag([p[0], p[1], p[2], 1.0])
    a = np.array(a, dtype=np.float64)
    a[:3, :] *= f
    return a


# ---- scipy side: components numbered as documented ----------------------

STRUCTURE_RANK = {6: 1, 18: 2, 26: 3}


def components(mask, connectivity, affine=None, values=None, want_labels=False):
    """scipy.ndimage.label's components of @mask renumbered as documented
    (decreasing size, ties: first voxel in file order, i fastest).

    Returns a dict: n, voxels (array in label order), first (file-order index
    of each first voxel), centroid_vox (n x 3, scipy center_of_mass),
    centroid_mm (through @affine), bbox_min/bbox_max (n x 3), mean/max of
    @values when given, and with @want_labels the renumbered label volume.
    The work is done on the bounding box of @mask: components, their order
    (file order is kept inside a box) and their statistics do not change."""
    from scipy import ndimage
    mask = np.asarray(mask, dtype=bool)
    n_dim = mask.ndim
    nz = [np.flatnonzero(mask.any(axis=tuple(a for a in range(n_dim) if a != d)))
          for d in range(n_dim)]
    if any(len(z) == 0 for z in nz):
        lo = np.zeros(n_dim, int)
        box = tuple(slice(0, 0) for _ in range(n_dim))
    else:
        lo = np.array([z[0] for z in nz])
        box = tuple(slice(z[0], z[-1] + 1) for z in nz)
    sub = mask[box]
    st = ndimage.generate_binary_structure(3, STRUCTURE_RANK[connectivity])
    lab, n = ndimage.label(sub, structure=st)
    out = {"n": n}
    if n == 0:
        out.update(voxels=np.zeros(0, int), first=np.zeros(0, int),
                   centroid_vox=np.zeros((0, 3)), centroid_mm=np.zeros((0, 3)),
                   bbox_min=np.zeros((0, 3), int), bbox_max=np.zeros((0, 3), int),
                   mean=np.zeros(0), max=np.zeros(0))
        if want_labels:
            out["labels"] = np.zeros(mask.shape, np.int32)
        return out
    shape = np.array(mask.shape)
    lab_f = lab.ravel(order="F")
    where = np.flatnonzero(lab_f)
    l = lab_f[where]
    sizes = np.bincount(l, minlength=n + 1)[1:]
    _, first_pos = np.unique(l, return_index=True)
    # file-order index in the whole volume of each component's first voxel
    ijk = np.array(np.unravel_index(where[first_pos], sub.shape, order="F")) + lo[:, None]
    first = np.ravel_multi_index(tuple(ijk), tuple(shape), order="F")
    order = np.lexsort((first, -sizes))          # scipy index (0-based) per label
    idx = order + 1
    com = np.array(ndimage.center_of_mass(sub, lab, idx), dtype=np.float64) + lo
    objs = ndimage.find_objects(lab)
    bmin = np.array([[s.start for s in objs[i - 1]] for i in idx]) + lo
    bmax = np.array([[s.stop - 1 for s in objs[i - 1]] for i in idx]) + lo
    out.update(voxels=sizes[order], first=first[order], centroid_vox=com,
               bbox_min=bmin, bbox_max=bmax)
    if affine is not None:
        out["centroid_mm"] = com @ affine[:3, :3].T + affine[:3, 3]
    if values is not None:
        v = values[box].astype(np.float64)
        out["mean"] = np.asarray(ndimage.mean(v, lab, idx), dtype=np.float64)
        out["max"] = np.asarray(ndimage.maximum(v, lab, idx), dtype=np.float64)
    remap = np.zeros(n + 1, np.int32)
    remap[idx] = np.arange(1, n + 1)
    out["box_lo"] = lo
    out["box_labels"] = remap[lab]
    if want_labels:
        full = np.zeros(mask.shape, np.int32)
        full[box] = out["box_labels"]
        out["labels"] = full
    return out


def label_at(comps, ijk):
    """Labels (as renumbered by components()) at voxel indices @ijk (n x 3)."""
    p = np.asarray(ijk, dtype=np.int64) - comps["box_lo"]
    return comps["box_labels"][tuple(p.T)]


def mricron_names(path):
    """{label: name} of an MRIcron label list (.nii.txt: "index name ..." lines)."""
    names = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if fields:
                names[int(fields[0])] = fields[1]
    return names


MRICRON_TEMPLATES = "/usr/share/mricron/templates"


def mricron_template(name):
    """Path of MRIcron's template @name (Debian's mricron-data); skips when missing."""
    path = os.path.join(MRICRON_TEMPLATES, name)
    if not os.path.exists(path):
        skip("%s not found (apt-get install mricron-data)" % path)
    return path
