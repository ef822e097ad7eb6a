"""oracle.quicklook: `lesionvol quicklook` draws the lesion exactly on the
slices that contain lesion, on the side marked L, whatever the storage order.

Synthetic heads are made here with nibabel (an ellipsoid 'brain' with lesion
blobs on the patient's left and front); which slices hold lesion, and where
the patient's left is, are computed with numpy from the voxel-to-world
matrix. The PNG is decoded here (PIL when installed, else zlib + struct).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

import nibabel as nib
import numpy as np

PROGRAM = os.environ.get("LESIONVOL", "")
REALDATA = os.environ.get("LESIONVOL_REALDATA", "")
TMP = tempfile.mkdtemp(prefix="lesionvol-quicklook-")


def run(*args):
    p = subprocess.run([PROGRAM] + [str(a) for a in args], capture_output=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def decode_png(path):
    """RGB pixels of an 8-bit RGB non-interlaced PNG as an (h, w, 3) array."""
    try:
        from PIL import Image
        with Image.open(path) as im:
            assert im.mode == "RGB", im.mode
            return np.asarray(im).copy()
    except ImportError:
        pass
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, ctype, interlace) == (8, 2, 0)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride, bpp = w * 3, 3
    out = bytearray(h * stride)
    prev = bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        out[y * stride:(y + 1) * stride] = line
        prev = line
    return np.frombuffer(bytes(out), np.uint8).reshape(h, w, 3)


def coloured(px):
    """Overlay pixels: anything that is not grey."""
    px = px.astype(int)
    return (px[..., 0] != px[..., 1]) | (px[..., 1] != px[..., 2])


def hue_masks(px):
    px = px.astype(int)
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    return {
        "red": (r - np.maximum(g, b) > 50) & (abs(g - b) < 30),
        "yellow": (np.minimum(r, g) - b > 50) & (abs(r - g) < 50),
        "blue": b - np.maximum(r, g) > 30,
    }


# A 5x7 "L": the left column and the bottom row, nothing else.
L_GLYPH = np.zeros((7, 5), bool)
L_GLYPH[:, 0] = True
L_GLYPH[6, :] = True


def glyph_scan(px, y0, y1, cols):
    """The 7x5 pattern of the first glyph met scanning @cols (in order)
    within rows y0..y1, or None."""
    bright = px[y0:y1, :, 0] > 128
    cols = list(cols)
    hit = [i for i, x in enumerate(cols) if bright[:, x].any()]
    if not hit:
        return None
    xs = []
    for x in cols[hit[0]:]:
        if not bright[:, x].any():
            break
        xs.append(x)
    xa, xb = min(xs), max(xs) + 1
    rows = np.nonzero(bright[:, xa:xb].any(axis=1))[0]
    ya, yb = rows.min(), rows.max() + 1
    scale = (yb - ya) // 7
    block = bright[ya:yb, xa:xb]
    if scale < 1 or block.shape != (7 * scale, 5 * scale):
        return None
    return block[scale // 2::scale, scale // 2::scale]


def glyph_beside(px, tile, side):
    """The first letter left or right of a tile, in the tile's rows."""
    if side == "right":
        cols = range(tile["x"] + tile["width"], px.shape[1])
    else:
        cols = range(tile["x"] - 1, -1, -1)
    return glyph_scan(px, tile["y"], tile["y"] + tile["height"], cols)


def position_glyph(px, tile):
    """The first letter of the slice position, right-aligned above a tile."""
    y0 = max(0, tile["y"] - 30)
    cols = range(tile["x"] + tile["width"] // 2 + 8, tile["x"] + tile["width"])
    return glyph_scan(px, y0, tile["y"], cols)


def slice_centre_world(nimg, axis, k):
    ijk = [(n - 1) / 2 for n in nimg.shape[:3]]
    ijk[axis] = k
    return nib.affines.apply_affine(nimg.affine, ijk)


def check_spread(case, slices, ks, sign, n):
    """@slices (in the order drawn) are min(n, extent) distinct slices of the
    extent of @ks, evenly spaced, in world order (@sign: +1 when the index
    grows with the world coordinate); the whole extent when it is thin."""
    span = ks.max() - ks.min() + 1
    case.assertEqual(len(slices), min(n, span))
    case.assertTrue(all(ks.min() <= s <= ks.max() for s in slices), slices)
    steps = np.diff(slices) * sign
    case.assertTrue((steps > 0).all(), slices)
    if len(steps):
        case.assertLessEqual(steps.max() - steps.min(), 1, slices)
    if span <= n:
        case.assertEqual(sorted(slices), list(range(ks.min(), ks.max() + 1)))
    else:
        # the outer tiles are within one spacing of the extent's ends
        margin = span / n
        lo, hi = sorted((slices[0], slices[-1]))
        case.assertLessEqual(lo - ks.min(), margin)
        case.assertLessEqual(ks.max() - hi, margin)


def is_l(glyph):
    return glyph is not None and glyph.shape == L_GLYPH.shape and (glyph == L_GLYPH).all()


def head(shape=(40, 48, 30), zooms=(2.0, 2.0, 2.0)):
    """RAS-stored synthetic head: an ellipsoid brain (values 60..160) and two
    lesion blobs on the patient's left, in front, separated by a gap in z."""
    affine = np.diag(list(zooms) + [1.0])
    affine[:3, 3] = [-(n - 1) * z / 2 for n, z in zip(shape, zooms)]
    ijk = np.indices(shape).reshape(3, -1).T
    xyz = (nib.affines.apply_affine(affine, ijk)).reshape(shape + (3,))
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    r2 = (x / 34) ** 2 + (y / 42) ** 2 + (z / 26) ** 2
    rng = np.random.default_rng(7)
    anat = np.where(r2 < 1, 60 + 100 * (1 - r2) + rng.normal(0, 3, shape), 0)
    lesion = (((x + 16) / 7) ** 2 + ((y - 14) / 8) ** 2 + ((z + 10) / 4) ** 2 < 1)
    lesion |= (((x + 12) / 5) ** 2 + ((y - 20) / 5) ** 2 + ((z - 10) / 3) ** 2 < 1)
    return anat.astype(np.float32), lesion.astype(np.uint8), affine


def save(data, affine, name, axcodes=None, rotate_deg=0.0):
    img = nib.Nifti1Image(data, affine)
    img.set_qform(affine, 1)
    img.set_sform(affine, 1)
    if axcodes:
        ornt = nib.orientations.ornt_transform(
            nib.orientations.io_orientation(affine), nib.orientations.axcodes2ornt(axcodes))
        img = img.as_reoriented(ornt)
    if rotate_deg:
        t = np.deg2rad(rotate_deg)
        rot = np.eye(4)
        rot[:2, :2] = [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]
        a = rot @ img.affine
        img = nib.Nifti1Image(np.asarray(img.dataobj), a)
        img.set_qform(a, 1)
        img.set_sform(a, 1)
    path = os.path.join(TMP, name)
    nib.save(img, path)
    return path


def quicklook(image, *opts):
    out = os.path.join(TMP, "ql-%d.png" % len(os.listdir(TMP)))
    rc, so, se = run("quicklook", image, "-o", out, "--format", "json", *opts)
    assert rc == 0, (rc, se)
    info = json.loads(so)
    info["_png"] = out
    px = decode_png(out)
    assert px.shape == (info["height"], info["width"], 3), (px.shape, info)
    return px, info


def slice_axis_of(nimg, world_axis):
    """The voxel axis closest to a world axis, and the direction (+1 when
    the index grows with the world coordinate), from the affine alone."""
    ornt = nib.orientations.io_orientation(nimg.affine)
    for axis, (w, sign) in enumerate(ornt):
        if int(w) == world_axis:
            return axis, int(sign)
    raise AssertionError("no axis")


class Quicklook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        anat, lesion, affine = head()
        cls.anat_ras = save(anat, affine, "anat_ras.nii.gz")
        cls.les_ras = save(lesion, affine, "lesion_ras.nii.gz")
        cls.anat_lpi = save(anat, affine, "anat_lpi.nii.gz", "LPI")
        cls.les_lpi = save(lesion, affine, "lesion_lpi.nii.gz", "LPI")
        cls.anat_perm = save(anat, affine, "anat_sal.nii.gz", "SAL")
        cls.les_perm = save(lesion, affine, "lesion_sal.nii.gz", "SAL")
        cls.anat_obl = save(anat, affine, "anat_obl.nii.gz", None, 8.0)
        cls.les_obl = save(lesion, affine, "lesion_obl.nii.gz", None, 8.0)

    def check_mosaic(self, anat, les, plane, world_axis, opts=()):
        """Lesion pixels appear exactly in tiles whose slice has lesion, inside
        the tiles only; slices cover the lesion's extent in world order; the
        lesion is on the side marked L (axial, coronal) or anterior (A)."""
        px, info = quicklook(anat, "--overlay", les, "--plane", plane, *opts)
        nimg = nib.load(les)
        data = np.asarray(nimg.dataobj) > 0
        axis, sign = slice_axis_of(nimg, world_axis)
        self.assertEqual(info["slice_axis"], "ijk"[axis])
        has = data.any(axis=tuple(a for a in range(3) if a != axis))
        ks = np.nonzero(has)[0]
        slices = info["slices"]
        check_spread(self, slices, ks, sign, 12)
        if plane == "axial":
            self.assertTrue((~has[slices]).any(), "the test needs a gap in the lesion")
        col = coloured(px)
        inside = np.zeros(col.shape, bool)
        for t in info["tiles"]:
            box = col[t["y"]:t["y"] + t["height"], t["x"]:t["x"] + t["width"]]
            inside[t["y"]:t["y"] + t["height"], t["x"]:t["x"] + t["width"]] = True
            self.assertEqual(bool(box.any()), bool(has[t["slice"]]),
                             "slice %d of %s" % (t["slice"], plane))
            if not box.any():
                continue
            ys, xs = np.nonzero(box)
            left_side = "right" if xs.mean() > t["width"] / 2 else "left"
            other = "left" if left_side == "right" else "right"
            if plane != "sagittal":
                # the lesion is on the patient's left: that side is marked L
                self.assertTrue(is_l(glyph_beside(px, t, left_side)))
                opposite = glyph_beside(px, t, other)
                self.assertTrue(opposite is not None and not is_l(opposite))
            else:
                # sagittal: anterior on the left, and the lesion is anterior
                self.assertEqual(left_side, "left")
            if plane == "axial":
                self.assertLess(ys.mean(), t["height"] / 2, "anterior is up")
        for t in info["tiles"]:
            # where the slice is, from the affine: x, y or z of its centre
            where = slice_centre_world(nimg, axis, t["slice"])[world_axis]
            self.assertAlmostEqual(t["position_mm"], where, places=4)
            if plane == "sagittal" and where < -0.5:
                # the patient's left, marked as such above the tile
                self.assertTrue(is_l(position_glyph(px, t)), t)
        self.assertFalse((col & ~inside).any(), "overlay colour outside the tiles")
        return px, info

    def tiles_of(self, px, info):
        return [px[t["y"]:t["y"] + t["height"], t["x"]:t["x"] + t["width"]]
                for t in info["tiles"]]

    def test_lesion_only_on_lesion_slices_every_plane_and_storage(self):
        for plane, w in (("axial", 2), ("coronal", 1), ("sagittal", 0)):
            for anat, les in ((self.anat_ras, self.les_ras),
                              (self.anat_lpi, self.les_lpi),
                              (self.anat_perm, self.les_perm)):
                with self.subTest(plane=plane, image=os.path.basename(anat)):
                    self.check_mosaic(anat, les, plane, w)

    def test_same_head_looks_the_same_in_any_storage_order(self):
        for plane in ("axial", "coronal", "sagittal"):
            ras = quicklook(self.anat_ras, "--overlay", self.les_ras, "--plane", plane)
            for anat, les in ((self.anat_lpi, self.les_lpi),
                              (self.anat_perm, self.les_perm),
                              (self.anat_obl, self.les_obl)):
                with self.subTest(plane=plane, image=os.path.basename(anat)):
                    other = quicklook(anat, "--overlay", les, "--plane", plane)
                    self.assertEqual((other[1]["width"], other[1]["height"]),
                                     (ras[1]["width"], ras[1]["height"]))
                    for a, b in zip(self.tiles_of(*ras), self.tiles_of(*other)):
                        np.testing.assert_array_equal(a, b)

    def test_fill_is_translucent_and_still_exact(self):
        px, info = self.check_mosaic(self.anat_ras, self.les_ras, "axial", 2, ("--fill",))
        plain, _ = quicklook(self.anat_ras, "--overlay", self.les_ras)
        self.assertGreater(coloured(px).sum(), coloured(plain).sum())
        # inside the fill the anatomy still shows: many distinct colours
        self.assertGreater(len({tuple(p) for p in px[coloured(px)]}), 20)

    def test_anisotropic_voxels_keep_their_shape(self):
        anat, lesion, affine = head(shape=(40, 48, 12), zooms=(2.0, 2.0, 5.0))
        a = save(anat, affine, "aniso.nii.gz")
        m = save(lesion, affine, "aniso_mask.nii.gz")
        px, info = self.check_mosaic(a, m, "coronal", 1)
        t = info["tiles"][0]
        # coronal tile: 80 mm wide (x), 60 mm high (z)
        self.assertAlmostEqual(t["width"] / t["height"], 80 / 60, delta=0.02)
        self.assertEqual(max(t["width"], t["height"]), 240)

    def test_shrunk_tiles_still_show_single_voxels(self):
        shape = (300, 280, 6)
        anat = np.full(shape, 100, np.float32)
        lesion = np.zeros(shape, np.uint8)
        lesion[7, 5, 1] = lesion[299, 0, 1] = lesion[150, 279, 4] = 1
        affine = np.diag([0.8, 0.8, 3.0, 1.0])
        a = save(anat, affine, "big.nii.gz")
        m = save(lesion, affine, "big_mask.nii.gz")
        px, info = quicklook(a, "--overlay", m, "--slices", "6")
        self.assertEqual(info["tiles"][0]["width"], 256)
        col = coloured(px)
        for t in info["tiles"]:
            box = col[t["y"]:t["y"] + t["height"], t["x"]:t["x"] + t["width"]]
            self.assertEqual(box.sum() > 0, t["slice"] in (1, 4), t["slice"])

    def test_change_map_colours(self):
        anat, lesion, affine = head()
        change = np.zeros(lesion.shape, np.uint8)
        change[lesion > 0] = 2
        change[10:16, 30:36, 4:7] = 1    # resolved, low
        change[10:16, 30:36, 22:25] = 3  # new, high
        a = save(anat, affine, "chg_anat.nii.gz")
        c = save(change, affine, "chg.nii.gz")
        for opts in ((), ("--fill",)):
            px, info = quicklook(a, "--overlay", c, *opts)
            self.assertEqual(info["overlay_kind"], "change")
            hues = hue_masks(px)
            for t in info["tiles"]:
                k = t["slice"]
                for value, name in ((1, "blue"), (2, "yellow"), (3, "red")):
                    box = hues[name][t["y"]:t["y"] + t["height"],
                                     t["x"]:t["x"] + t["width"]]
                    self.assertEqual(bool(box.any()), bool((change[:, :, k] == value).any()),
                                     "%s in slice %d %s" % (name, k, opts))
        # read as a mask, the same file is one colour
        px, info = quicklook(a, "--overlay", c, "--overlay-kind", "mask")
        self.assertEqual(info["overlay_kind"], "mask")
        self.assertFalse(hue_masks(px)["blue"].any())

    def test_mask_alone_is_grey_over_its_extent(self):
        px, info = quicklook(self.les_ras)
        self.assertFalse(coloured(px).any())
        data = np.asarray(nib.load(self.les_ras).dataobj) > 0
        ks = np.nonzero(data.any(axis=(0, 1)))[0]
        check_spread(self, info["slices"], ks, 1, 12)
        self.assertEqual(info["overlay_kind"], "none")
        self.assertGreater((px > 200).sum(), 0)

    def test_errors(self):
        anat, lesion, affine = head()
        other = save(lesion[:, :, :20], affine, "short.nii.gz")
        rc, so, se = run("quicklook", self.anat_ras, "--overlay", other, "-o",
                         os.path.join(TMP, "x.png"))
        self.assertEqual(rc, 1)
        self.assertIn("is not on the grid", se)
        self.assertFalse(os.path.exists(os.path.join(TMP, "x.png")))
        rc, so, se = run("quicklook", self.anat_ras)
        self.assertEqual(rc, 2)
        self.assertIn("-o OUT.png", se)
        rc, so, se = run("quicklook", self.anat_ras, "-o", os.path.join(TMP, "no", "x.png"))
        self.assertEqual(rc, 4, se)
        four = save(np.stack([anat, anat * 2], -1), affine, "4d.nii.gz")
        rc, so, se = run("quicklook", four, "-o", os.path.join(TMP, "4d.png"))
        self.assertEqual(rc, 1)
        self.assertIn("2 volumes", se)
        rc, so, se = run("quicklook", four, "--volume", "1", "-o", os.path.join(TMP, "4d.png"))
        self.assertEqual(rc, 0, se)

    def test_real_lesymap_mask_over_ch2(self):
        base = os.path.join(REALDATA, "lesymap", "inst", "extdata")
        ch2 = os.path.join(base, "template", "ch2.nii.gz")
        mask = os.path.join(base, "lesions", "Subject_001.nii.gz")
        if not (os.path.exists(ch2) and os.path.exists(mask)):
            self.skipTest("LESYMAP real data not found under LESIONVOL_REALDATA")
        px, info = quicklook(ch2, "--overlay", mask)
        self.assertGreater(os.path.getsize(info["_png"]), 10000)
        m = nib.load(mask)
        data = np.asarray(m.dataobj) > 0
        has = data.any(axis=(0, 1))
        col = coloured(px)
        for t in info["tiles"]:
            box = col[t["y"]:t["y"] + t["height"], t["x"]:t["x"] + t["width"]]
            self.assertEqual(bool(box.any()), bool(has[t["slice"]]))
        # which hemisphere, from the affine: the tiles show it under the L
        centroid = nib.affines.apply_affine(m.affine, np.argwhere(data).mean(axis=0))
        t = max(info["tiles"], key=lambda t: t["lesion_voxels"])
        box = col[t["y"]:t["y"] + t["height"], t["x"]:t["x"] + t["width"]]
        side = "right" if np.nonzero(box)[1].mean() > t["width"] / 2 else "left"
        marked = "L" if is_l(glyph_beside(px, t, side)) else "R"
        self.assertEqual(marked, "L" if centroid[0] < 0 else "R")
        self.assertGreater((px > 60).sum(), px.size // 10, "the anatomy is visible")


if __name__ == "__main__":
    if not PROGRAM:
        print("SKIP: LESIONVOL not set")
        sys.exit(77)
    unittest.main(verbosity=2)
