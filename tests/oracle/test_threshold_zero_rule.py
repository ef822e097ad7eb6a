#!/usr/bin/env python3
"""test_threshold_zero_rule.py: one rule for exact zeros and negative values
in every threshold form (exact zero is background, a negative value counts
when the bounds take it in), pinned against numpy on nifti-rs's zstat1 (an
FSL z-statistic map: negative values, zeros outside the brain), and the
same answers as before on images without negative values (a probability
map, an ADC map, a mask) whenever the lower bound is above zero."""
import sys
import unittest

import numpy as np

import lvtest

ZSTAT = "nifti-rs/resources/zstat1.nii.gz"
# no negative values (the ISLES ADC has a few, from noise: rules with a
# lower bound > 0 never see them)
POSITIVE = ("nifti-rs/resources/f32.nii.gz",
            "isles22/utils/data/rawdata/sub-strokecase0009/ses-0001/"
            "sub-strokecase0009_ses-0001_adc.nii.gz",
            "soop/NIfTI/lesion_mean_1449.nii.gz")


# resolved before unittest runs, so missing data skips the whole script
PATHS = {rel: lvtest.realdata(rel) for rel in (ZSTAT,) + POSITIVE}
lvtest.program()


def values(rel):
    return lvtest.scaled_volume(lvtest.load_image(PATHS[rel]))


def measure(rel, *opts):
    return lvtest.run_json(["measure", PATHS[rel], "--quiet", "--top", "0"] + list(opts))


class ZeroRule(unittest.TestCase):
    def assert_voxels(self, rel, opts, want):
        got = measure(rel, *opts)
        self.assertEqual(got["lesion_voxels"], int(want.sum()), opts)
        return got

    def test_zstat1_every_form_excludes_zero_and_keeps_negatives(self):
        v = values(ZSTAT)
        zeros = int((v == 0).sum())
        self.assertGreater(zeros, 60000)          # the zero background
        self.assertGreater(int((v < -2.3).sum()), 0)
        cases = [
            (["--uthr", "-2.3"], v <= -2.3),
            (["--uthr", "2.3"], (v <= 2.3) & (v != 0)),
            (["--thr", "-1", "--uthr", "1"], (v >= -1) & (v <= 1) & (v != 0)),
            (["--thr", "-2"], (v >= -2) & (v != 0)),
            (["--thr", "0"], v > 0),
            (["--thr", "2.3"], v >= 2.3),
            (["--thr", "-5", "--uthr", "-2"], (v >= -5) & (v <= -2)),
            ([], v > 0),
        ]
        for opts, want in cases:
            self.assert_voxels(ZSTAT, opts, want)
        # the two forms the issue reported, with numbers a reader can check
        self.assertEqual(int((v <= -2.3).sum()), 690)
        both = self.assert_voxels(ZSTAT, ["--thr", "-1", "--uthr", "1"],
                                  (v >= -1) & (v <= 1) & (v != 0))
        self.assertEqual(both["lesion_voxels"], 8488)
        self.assertIn("and value != 0", both["rule"])
        # what fslmaths -bin would keep instead: only the positive part
        self.assertEqual(int(((v >= -1) & (v <= 1) & (v > 0)).sum()), 4348)

    def test_zstat1_relative_forms_exclude_zero(self):
        v = values(ZSTAT)
        ref = v[np.isfinite(v) & (v != 0)]
        med = float(np.median(ref))
        mad = float(np.median(np.abs(ref - med)))
        lo = med + (-1.0) * 1.4826 * mad
        self.assertLess(lo, 0.0)                  # a lower bound below zero
        got = self.assert_voxels(ZSTAT, ["--zthr", "-1"], (v >= lo) & (v != 0))
        self.assertEqual(got["lower_threshold"], lo)

    def test_rule_text_names_the_zero_exclusion_only_where_bounds_take_zero_in(self):
        self.assertEqual(measure(ZSTAT, "--uthr", "-2.3")["rule"],
                         "value <= -2.3; 26-connected")
        self.assertEqual(measure(ZSTAT, "--thr", "2.3")["rule"],
                         "value >= 2.3; 26-connected")
        self.assertEqual(measure(ZSTAT, "--uthr", "620")["rule"],
                         "value <= 620 and value != 0; 26-connected")
        self.assertEqual(measure(ZSTAT, "--thr", "-1", "--uthr", "1")["rule"],
                         "-1 <= value <= 1 and value != 0; 26-connected")

    def test_positive_images_do_not_move(self):
        for rel in POSITIVE:
            v = values(rel)
            pos = v[v > 0]
            x1, x2 = (float(np.quantile(pos, q)) for q in (0.3, 0.7))
            self.assertGreater(x1, 0.0, rel)
            # the old answers: value >= X, value <= X and != 0, X1 <= value <= X2
            self.assert_voxels(rel, ["--thr", repr(x1)], v >= x1)
            self.assert_voxels(rel, ["--uthr", repr(x2)], (v <= x2) & (v != 0))
            self.assert_voxels(rel, ["--thr", repr(x1), "--uthr", repr(x2)],
                               (v >= x1) & (v <= x2))
            self.assert_voxels(rel, [], v > 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
