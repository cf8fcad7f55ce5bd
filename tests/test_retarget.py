"""Tests of skeleton scale normalisation's per-frame offsets: `skeleton.retarget_offsets` computes them from two
prepared videos' cached heat maps, `UnpairedDataset.set_offsets` serves them with every item."""
import numpy as np
import torch

from skeleton_cyclegan.data import UnpairedDataset
from skeleton_cyclegan.folder import write_prepared
from skeleton_cyclegan.pose import BLAZEPOSE_NAMES
from skeleton_cyclegan.skeleton import retarget_offsets

torch.set_num_threads(1)


def _toy_logits(lm, S, hs=64, sigma=1.5):
    "Gaussian heatmap logits (N, K, hs, hs) at landmarks (N, K, 2) given in S-px crops."
    c = (np.arange(hs) + 0.5) * S / hs
    d2 = (c[None, None, None] - lm[..., 0, None, None]) ** 2 + (c[None, None, :, None] - lm[..., 1, None, None]) ** 2
    return (-50 + 60 * np.exp(-d2 / (2 * (sigma * S / hs) ** 2))).astype(np.float16)


def _toy(folder, n=6, S=32):
    "A white bar walking right in 32-px crops, its corners as BlazePose's shoulders and hips (as in the data notebook)."
    crops, lm = np.zeros((n, S, S, 3), np.uint8), np.zeros((n, 33, 2), np.float32)
    for i in range(n):
        x0 = 4 + 2 * i; crops[i, 6:26, x0:x0 + 8] = 255
        for k, name in enumerate(BLAZEPOSE_NAMES):
            lm[i, k] = [x0 + 8 if "left" in name else x0 if "right" in name else x0 + 4,
                        6 if "shoulder" in name else 26 if "hip" in name else 16]
    return write_prepared(folder, crops, lm, np.ones((n, 33), np.float32), np.tile([[50, 50, 100]], (n, 1)),
                          dict(fps=10), heatmap_logits=_toy_logits(lm, S), progress=False)


def test_one_build_on_both_sides_moves_nothing(tmp_path):
    "Retargeting a video to its own build moves no point; the dataset serves the offsets beside the same items."
    toy = _toy(tmp_path / "toy")
    ds = UnpairedDataset(toy, toy, size=32, seed=1)
    ds_r = UnpairedDataset(toy, toy, size=32, seed=1)
    ds_r.set_offsets(*retarget_offsets(toy, toy, "blazepose")[:2])
    rA, rB = ds_r.offsets
    assert rA.shape == (len(toy), 33, 2) and rA.dtype == np.float32 and np.abs(rA).max() < 1e-4
    assert np.abs(rB).max() < 1e-4
    assert torch.equal(ds_r[2]["x"], ds[2]["x"]) and "rx" not in ds[2] and ds_r[2]["rx"].shape == (33, 2)
