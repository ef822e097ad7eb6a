"""cli.cohort.unwritable_result_leaves_no_images: when a participant's
result file cannot be written, the masks, change maps and picture that run
made for it are removed (no file would record them, so no later run would),
while the other participants keep theirs."""
import os
import unittest

import lvtest


class UnwritableResult(unittest.TestCase):
    def test_images_of_an_unwritten_result_are_removed(self):
        data = os.path.join(lvtest.SOURCE, "sample_data")
        tmp = lvtest.tmpdir()
        out = os.path.join(tmp, "out")
        # a folder where sub-01's result file goes: renaming onto it fails
        os.makedirs(os.path.join(out, "sub-01", "sub-01_lesionvol.json"))
        rc, _, err = lvtest.run(["cohort", os.path.join(data, "cohort.tsv"), "-o", out,
                                 "--save-masks", "--save-change-maps", "--quicklook",
                                 "--threads", "2"])
        self.assertEqual(rc, 4, err)
        self.assertIn("sub-01_lesionvol.json", err)
        self.assertEqual(sorted(os.listdir(os.path.join(out, "sub-01"))),
                         ["sub-01_lesionvol.json"])
        others = os.listdir(os.path.join(out, "sub-02"))
        self.assertIn("sub-02_ses-01_label-lesion_mask.nii.gz", others)
        self.assertIn("sub-02_ses-02_desc-change_dseg.nii.gz", others)


if __name__ == "__main__":
    lvtest.program()
    unittest.main()
