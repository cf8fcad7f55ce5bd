"""Tests of skeleton_cyclegan.track, .folder, .prepare and .data: crops, smoothing, the prepared-dataset format
(atomic, resumable, cached), the unpaired dataset's augmentation, and prepare on real footage (skipped when
../shared/data is absent)."""
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from skeleton_cyclegan.core import SkeletonCycleGANError, shared_data_dir
from skeleton_cyclegan.data import UnpairedDataset, default_load_size
from skeleton_cyclegan.folder import PreparedVideo, write_prepared
from skeleton_cyclegan.prepare import as_prepared, prepare, prepare_summary
from skeleton_cyclegan.track import (CropSettings, crop_jitter, crop_square, crop_to_frame, frame_to_crop,
                                     skeleton_window, smooth_windows)
from skeleton_cyclegan.pose import BLAZEPOSE_FLIP_INDEX, BLAZEPOSE_NAMES, PoseOutput
from skeleton_cyclegan.video import write_video

torch.set_num_threads(1)   # small tensors: one thread is faster on a shared machine
DATA = shared_data_dir()
needs_data = pytest.mark.skipif(DATA is None, reason="real footage ../shared/data is absent")


# ---- stand-ins for H and the detector: a white rectangle is "the person" ------------------------------------

class StubH(nn.Module):
    """Finds the bright rectangle in each crop: shoulders at its top corners, hips at its bottom corners, the left
    points on the image's right (a person facing the camera), so it is exactly mirror-equivariant like a real H
    should be. Heatmap logits are Gaussians at the points. Counts calls; raises KeyboardInterrupt after `fail_after`."""
    name = "stub-h"
    flip_index = BLAZEPOSE_FLIP_INDEX

    def __init__(self, fail_after=None):
        super().__init__()
        self.calls, self.fail_after = 0, fail_after

    def forward(self, x):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after: raise KeyboardInterrupt
        B, _, S, _ = x.shape
        lm, flag = torch.zeros(B, 33, 2), torch.zeros(B)
        for b in range(B):
            ys, xs = torch.nonzero(x[b].mean(0) > 0, as_tuple=True)
            if len(xs) < 4: continue
            x0, x1, y0, y1 = xs.min() + 0.0, xs.max() + 1.0, ys.min() + 0.0, ys.max() + 1.0
            for k, n in enumerate(BLAZEPOSE_NAMES):
                side = x1 if "left" in n else x0 if "right" in n else (x0 + x1) / 2
                lm[b, k] = torch.stack([side, (y0 + y1) / 2])
            for k, n in enumerate(BLAZEPOSE_NAMES):
                if "shoulder" in n: lm[b, k, 1] = y0
                if "hip" in n: lm[b, k, 1] = y1
            flag[b] = 1.0
        c = (torch.arange(64) + 0.5) * S / 64
        d2 = (c[None, None, None, :] - lm[..., 0, None, None]) ** 2 + (c[None, None, :, None] - lm[..., 1, None, None]) ** 2
        sig = 1.5 * S / 64
        logits = -50 + 60 * torch.exp(-d2 / (2 * sig ** 2))
        return PoseOutput(heatmap_logits=logits, landmarks=lm, visibility=flag[:, None].expand(B, 33).clone(),
                          presence=flag[:, None].expand(B, 33).clone(), pose_flag=flag)


class StubDetector:
    "One detection around the bright pixels (or several, one per bright blob separated by a dark column)."
    name = "stub-detector"

    def detect(self, frame, min_score=None):
        m = frame.mean(-1) > 128
        cols = np.flatnonzero(m.any(0))
        if len(cols) == 0: return []
        groups = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
        dets = []
        for g in groups:
            rows = np.flatnonzero(m[:, g[0]:g[-1] + 1].any(1))
            box = (float(g[0]), float(rows[0]), float(g[-1] + 1), float(rows[-1] + 1))
            cx, cy, side = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 1.6 * max(box[2] - box[0], box[3] - box[1])
            dets.append(SimpleNamespace(score=0.9, box=box, keypoints=np.zeros((4, 2)), roi=lambda r=(cx, cy, side, 0.0): r))
        return dets


def rect_frame(i, w=160, h=120, blank=(), second=False):
    "Frame i of the test clip: a 20×40 white rectangle walking right by 2 px per frame (top-left corner returned)."
    f = np.zeros((h, w, 3), np.uint8)
    x0, y0 = 40 + 2 * i, 50
    if i not in blank: f[y0:y0 + 40, x0:x0 + 20] = 255
    if second: f[20:50, w - 40:w - 25] = 255
    return f, (x0, y0)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    d = tmp_path_factory.mktemp("clip")
    p = write_video([rect_frame(i, blank=(5, 6))[0] for i in range(16)], d / "walk.mp4", fps=10, progress=False)
    return p


def stub_prepare(video, out, **kw):
    kw.setdefault("H", StubH()); kw.setdefault("detector", StubDetector())
    kw.setdefault("settings", CropSettings(track_size=64))
    return prepare(video, out, size=kw.pop("size", 64), chunk=kw.pop("chunk", 4), progress=False, **kw)


# ---- crops and smoothing ----------------------------------------------------------------------------------------

def test_crop_square_pads_and_maps_back():
    frame = np.full((60, 100, 3), 200, np.uint8)
    crop, used = crop_square(frame, (95, 55, 30), 30)   # sticks out right and bottom
    assert crop.shape == (30, 30, 3)
    assert crop[:, 20:].max() == 0 and crop[20:, :].max() == 0 and crop[:20, :20].min() == 200
    p = np.array([[1.0, 2.0], [29.5, 0.5]])
    np.testing.assert_allclose(frame_to_crop(crop_to_frame(p, used, 64), used, 64), p, atol=1e-4)
    np.testing.assert_allclose(crop_to_frame([[0, 0]], used, 64), [[80, 40]])
    with pytest.raises(SkeletonCycleGANError): crop_square(frame, (10, 10, np.nan), 8)


def test_skeleton_window_fixed_scale_and_place():
    s = CropSettings()
    lm = np.zeros((33, 2)); lm[[11, 12, 23, 24]] = [[210, 100], [190, 100], [208, 160], [192, 160]]
    w1 = skeleton_window(lm, s)
    w2 = skeleton_window(lm * 2 + 7, s)              # twice as large and shifted: same place in the crop
    np.testing.assert_allclose(frame_to_crop(lm[[11, 24]], w1, 256), frame_to_crop((lm * 2 + 7)[[11, 24]], w2, 256), atol=1e-3)
    assert abs(w1[2] - 60 / s.torso_fraction) < 1e-3


def test_smoothing_removes_shake_without_lag():
    rng = np.random.default_rng(1)
    t = np.arange(150) / 30
    true = np.column_stack([200 + 60 * t, 300 + 0 * t, 500 * np.exp(0.05 * t)])
    noisy = true + rng.normal(0, 6, true.shape)
    noisy[70] += [80, -80, 200]                     # one bad frame
    sm = smooth_windows(noisy, t)
    assert crop_jitter(sm) < crop_jitter(noisy) / 3
    assert np.abs(sm - true)[5:-5].max() < 15      # follows the drift, ignores the outlier


# ---- prepare: format, mapping, drops, cache, resume, errors ------------------------------------------------------

def test_prepare_format_and_mapping(clip, tmp_path):
    pv = stub_prepare(clip, tmp_path / "A")
    names = {p.name for p in (tmp_path / "A").iterdir()}
    assert {"meta.json", "crops.npy", "landmarks.npy", "visibility.npy", "boxes.npy", "pose_stub_logits.npy"} <= names
    assert ".partial" not in names
    assert len(pv) == 14 and pv.meta["n_dropped"] == 2 and pv.meta["n_read"] == 16
    assert pv.crops.dtype == np.uint8 and pv.crops.shape == (14, 64, 64, 3)
    assert pv.landmarks.shape == (14, 33, 2) and pv.visibility.shape == (14, 33) and pv.boxes.shape == (14, 3)
    lg = pv.heatmap_logits("stub")
    assert lg.dtype == np.float16 and lg.shape == (14, 33, 64, 64)
    m = pv.meta
    assert m["format_version"] == 1 and len(m["source"]["sha256"]) == 64 and m["size"] == 64
    assert len(m["frame_times"]) == 14 and 0.5 not in m["frame_times"] and 0.6 not in m["frame_times"]
    # landmarks in crop px map back onto the rectangle's corners in the frame
    for j, t in enumerate(m["frame_times"]):
        i = int(round(t * 10))
        _, (x0, y0) = rect_frame(i)
        fr = pv.to_frame(pv.landmarks[j], j)
        np.testing.assert_allclose(fr[11], [x0 + 20, y0], atol=3.5)   # left shoulder: image right, top
        np.testing.assert_allclose(fr[24], [x0, y0 + 40], atol=3.5)   # right hip: image left, bottom
    # the person sits at the normalised place: torso centre at (0.5, torso_y) of every crop
    s = CropSettings()
    centre = pv.landmarks[:, [11, 12, 23, 24]].mean(1) / 64
    np.testing.assert_allclose(centre.mean(0), [0.5, s.torso_y], atol=0.04)
    assert "14 frames kept, 2 dropped" in prepare_summary(pv)
    with pytest.raises(SkeletonCycleGANError, match="no cached heatmaps"): pv.heatmap_logits("openpose")


def test_cache_reuse_and_invalidation(clip, tmp_path):
    stub_prepare(clip, tmp_path / "A")
    H = StubH()
    pv = stub_prepare(clip, tmp_path / "A", H=H)
    assert pv.reused and H.calls == 0
    pv = stub_prepare(clip, tmp_path / "A", H=H, size=32)          # a changed setting rebuilds
    assert not pv.reused and H.calls > 0 and pv.size == 32
    other = write_video([rect_frame(i)[0] for i in range(8)], tmp_path / "walk.mp4", fps=10, progress=False)
    pv = stub_prepare(other, tmp_path / "A", size=32)                # a changed source rebuilds
    assert not pv.reused and len(pv) == 8


def test_resume_after_interruption(clip, tmp_path):
    full = StubH()
    ref = stub_prepare(clip, tmp_path / "ref", H=full)
    with pytest.raises(KeyboardInterrupt):
        stub_prepare(clip, tmp_path / "A", H=StubH(fail_after=12))
    assert not (tmp_path / "A" / "meta.json").exists() and any((tmp_path / "A" / ".partial").glob("track_*.npz"))
    with pytest.raises(SkeletonCycleGANError, match="resume"): PreparedVideo(tmp_path / "A")
    H = StubH()
    pv = stub_prepare(clip, tmp_path / "A", H=H)
    assert pv.meta["resumed"] and H.calls < full.calls
    np.testing.assert_array_equal(pv.crops, ref.crops)
    np.testing.assert_array_equal(pv.boxes, ref.boxes)
    assert not (tmp_path / "A" / ".partial").exists()


def test_incompatible_format_version(clip, tmp_path):
    stub_prepare(clip, tmp_path / "A")
    mp = tmp_path / "A" / "meta.json"
    m = json.loads(mp.read_text()); m["format_version"] = 99; mp.write_text(json.dumps(m))
    with pytest.raises(SkeletonCycleGANError, match="format 99.*reads format 1"): PreparedVideo(tmp_path / "A")
    with pytest.warns(UserWarning, match="data format 99"):
        pv = stub_prepare(clip, tmp_path / "A")
    assert pv.meta["format_version"] == 1 and not pv.reused


def test_bad_inputs(clip, tmp_path):
    blank = write_video([np.zeros((48, 64, 3), np.uint8)] * 4, tmp_path / "blank.mp4", fps=10, progress=False)
    with pytest.raises(SkeletonCycleGANError, match="no person"): stub_prepare(blank, tmp_path / "B")
    with pytest.raises(SkeletonCycleGANError, match="does not exist"): stub_prepare(tmp_path / "nope.mp4", tmp_path / "C")
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(SkeletonCycleGANError): stub_prepare(tmp_path / "text.mp4", tmp_path / "C")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SkeletonCycleGANError, match="cannot write|not a folder"):
        stub_prepare(clip, tmp_path / "afile" / "out")
    with pytest.warns(UserWarning, match="too short for 50 frames"):
        pv = stub_prepare(clip, tmp_path / "D", max_frames=50)
    assert len(pv) == 14
    with pytest.raises(SkeletonCycleGANError, match="not a prepared dataset"): PreparedVideo(tmp_path)


def test_several_people_warn_and_follow_one(tmp_path):
    frames = [rect_frame(i, w=240, second=True)[0] for i in range(6)]
    v = write_video(frames, tmp_path / "two.mp4", fps=10, progress=False)
    with pytest.warns(UserWarning, match="2 people"):
        pv = stub_prepare(v, tmp_path / "A")
    # the larger (walking) rectangle is followed throughout
    for j in range(len(pv)):
        fr = pv.to_frame(pv.landmarks[j], j)
        assert fr[11, 0] < 150


def test_write_prepared_computes_heatmaps(tmp_path):
    crops = np.stack([rect_frame(i, w=64, h=64)[0][:, ::-1].copy() * 0 for i in range(2)])
    crops[:, 10:50, 20:40] = 255
    pv = write_prepared(tmp_path / "S", crops, np.zeros((2, 33, 2)), np.ones((2, 33)), np.zeros((2, 3)),
                        dict(fps=10), gt_keypoints=np.zeros((2, 33, 2)), H=StubH(), progress=False)
    assert pv.heatmap_logits("stub").shape == (2, 33, 64, 64) and pv.gt_keypoints.shape == (2, 33, 2)
    assert pv.meta["flip_index"] == BLAZEPOSE_FLIP_INDEX and pv.meta["n_frames"] == 2


def test_as_prepared_video_folder_and_errors(clip, tmp_path, monkeypatch):
    "A video is prepared once into the cache folder named by its content and size; a folder is opened as it is."
    import skeleton_cyclegan.prepare as P
    monkeypatch.setenv("SKELETON_CYCLEGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(P, "PersonDetector", StubDetector)
    pv = as_prepared(clip, size=64, H=StubH(), progress=False)
    assert len(pv) == 14 and pv.size == 64 and not pv.reused
    assert pv.folder.parent == tmp_path / "cache" / "prepared" and pv.folder.name.startswith("walk-")
    H = StubH()
    again = as_prepared(clip, size=64, H=H, progress=False)
    assert again.reused and again.folder == pv.folder and H.calls == 0      # prepare's cache key check
    assert as_prepared(pv.folder).folder == pv.folder
    with pytest.raises(SkeletonCycleGANError, match="does not exist"): as_prepared(tmp_path / "nope.mp4")
    with pytest.raises(SkeletonCycleGANError, match="not a prepared dataset"): as_prepared(tmp_path)
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(SkeletonCycleGANError): as_prepared(tmp_path / "text.mp4")


# ---- the unpaired dataset ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_domains(clip, tmp_path_factory):
    d = tmp_path_factory.mktemp("domains")
    return stub_prepare(clip, d / "A"), stub_prepare(clip, d / "B", size=32)


def _peaks(h):
    "Heatmap argmax (x, y) per channel, in heatmap cells."
    k, hh, ww = h.shape
    i = h.reshape(k, -1).argmax(1)
    return torch.stack([i % ww, i // ww], 1).float()


def test_unpaired_items_and_determinism(two_domains):
    A, B = two_domains
    ds = UnpairedDataset(A, B, size=64, backend="stub", seed=3)
    assert len(ds) == 14
    it = ds[5]
    assert it["x"].shape == (3, 64, 64) and it["y"].shape == (3, 64, 64) and it["x"].dtype == torch.float32
    assert it["hx"].shape == (33, 64, 64) and it["hy"].dtype == torch.float32 and it["lx"].shape == (33, 2)
    assert -1 <= it["x"].min() and it["x"].max() <= 1 and it["ia"] == 5
    again = UnpairedDataset(A, B, size=64, backend="stub", seed=3)[5]
    for k in ("x", "y", "hx", "hy", "lx"): assert torch.equal(it[k], again[k])
    other = [UnpairedDataset(A, B, size=64, backend="stub", seed=4)[i] for i in range(len(ds))]
    same = [ds[i] for i in range(len(ds))]
    assert any(not torch.equal(a["x"], b["x"]) for a, b in zip(same, other))
    assert {s["flip_x"] for s in same} == {True, False}            # flips happen, about half the time
    ds.set_epoch(1)
    assert any(not torch.equal(ds[i]["x"], same[i]["x"]) for i in range(len(ds)))


def test_augmented_heatmaps_match_H(two_domains):
    "The transformed cached H(x) (resize-up, crop, flip with left/right swap) equals H of the augmented image."
    A, B = two_domains
    H = StubH()
    ds = UnpairedDataset(A, B, size=64, backend="stub", seed=0)
    flipped = 0
    for i in range(len(ds)):
        it = ds[i]
        o = H(it["x"][None])
        pk_cached, pk_H = _peaks(it["hx"]), _peaks(o.heatmap_logits[0])
        assert (pk_cached - pk_H).abs().max() <= 2.0, i
        assert (it["lx"] - o.landmarks[0]).abs().max() <= 2.5, i
        flipped += it["flip_x"]
    assert flipped > 0
    # without the channel swap a flipped item would disagree with H: the swap is what makes it right
    it = next(ds[i] for i in range(len(ds)) if ds[i]["flip_x"])
    unswapped = it["hx"][torch.as_tensor(BLAZEPOSE_FLIP_INDEX)]
    assert (_peaks(unswapped) - _peaks(H(it["x"][None]).heatmap_logits[0]))[11].abs().max() > 4


def test_offsets_are_served_scaled_and_flipped(two_domains):
    "Offsets set on the dataset come back as rx/ry: scaled by the resize, mirrored and swapped by a flip."
    A, B = two_domains
    assert default_load_size(64) == 72 and UnpairedDataset(A, B, size=64, backend="stub").load_size == 72
    ds = UnpairedDataset(A, B, size=64, backend="stub", seed=3)
    assert ds.offsets is None and "rx" not in ds[0]
    rA = np.tile(np.stack([np.arange(33.0), np.full(33, 2.0)], -1).astype(np.float32), (len(A), 1, 1))
    rB = np.zeros((len(B), 33, 2), np.float32)
    ds.set_offsets(rA, rB)
    assert ds.offsets[0] is rA
    for i in range(len(ds)):
        it, plain = ds[i], UnpairedDataset(A, B, size=64, backend="stub", seed=3)[i]
        assert torch.equal(it["x"], plain["x"]) and torch.equal(it["hy"], plain["hy"])   # the same augmentation
        k = 72 / 64
        want = -torch.as_tensor(BLAZEPOSE_FLIP_INDEX).float() if it["flip_x"] else torch.arange(33.0)
        torch.testing.assert_close(it["rx"], torch.stack([want * k, torch.full((33,), 2 * k)], -1))
        assert torch.equal(it["ry"], torch.zeros(33, 2))
    with pytest.raises(SkeletonCycleGANError, match="one offset per frame"): ds.set_offsets(rA[:3], rB)
    assert UnpairedDataset(A, B, size=64, backend="stub", offsets=(rA, rB))[1]["rx"].shape == (33, 2)


def test_no_augmentation_is_exact(two_domains):
    A, B = two_domains
    ds = UnpairedDataset(A, B, size=64, load_size=64, flip=False, backend="stub")
    it = ds[3]
    assert torch.equal(it["hx"], torch.from_numpy(np.array(A.heatmap_logits("stub")[3], np.float32)))
    assert torch.equal(it["lx"], torch.from_numpy(np.array(A.landmarks[3])))
    assert it["y"].shape == (3, 64, 64)                              # B (32 px crops) is resized up to 64


# ---- real footage and the real H (skipped without ../shared/data or the model files) -----------------------------

@pytest.fixture(scope="module")
def real_models():
    from skeleton_cyclegan.detector import PersonDetector
    from skeleton_cyclegan.pose import blazepose
    try: return blazepose(device="cpu"), PersonDetector(device="cpu")
    except SkeletonCycleGANError as e: pytest.skip(f"BlazePose model files unavailable: {e}")


@pytest.fixture(scope="module")
def taiji(real_models, tmp_path_factory):
    if DATA is None: pytest.skip("real footage ../shared/data is absent")
    H, D = real_models
    return prepare(DATA / "videos" / "taiji.mp4", tmp_path_factory.mktemp("real") / "taiji", max_frames=4, size=64,
                   H=H, detector=D, progress=False)


@needs_data
def test_real_crops_contain_the_person(taiji):
    assert len(taiji) == 4 and taiji.meta["n_dropped"] == 0
    assert taiji.pose_flag.min() > 0.9                                # H is sure there is a person in every crop
    lm = np.asarray(taiji.landmarks)
    assert ((lm > 0) & (lm < 64)).all(-1).mean() > 0.9                # the body is inside the crop
    torso = np.linalg.norm(lm[:, [11, 12]].mean(1) - lm[:, [23, 24]].mean(1), axis=1) / 64
    assert abs(np.median(torso) - CropSettings().torso_fraction) < 0.05   # at the normalised scale
    lg = taiji.heatmap_logits()
    assert lg.dtype == np.float16 and lg.shape == (4, 33, 64, 64)


@needs_data
def test_real_keypoints_map_back_to_frame(taiji, real_models):
    "Landmarks stored in crop px, mapped to the frame, agree with H run on a different window of the same frame."
    from skeleton_cyclegan.track import run_pose
    from skeleton_cyclegan.video import read_frames
    H, _ = real_models
    i = 1
    t = taiji.frame_times[i]
    _, frame = next(read_frames(DATA / "videos" / "taiji.mp4", start=t, max_frames=1))
    cx, cy, s = taiji.boxes[i]
    crop, used = crop_square(frame, (cx + 0.08 * s, cy - 0.05 * s, 1.15 * s), 128)
    o = run_pose(H, crop[None])
    other = crop_to_frame(o["landmarks"][0], used, 128)
    mine = taiji.to_frame(taiji.landmarks[i], i)
    vis = (taiji.visibility[i] > 0.8) & (o["visibility"][0] > 0.8)
    err = np.linalg.norm(other - mine, axis=1)[vis]
    assert vis.sum() >= 10 and np.median(err) < 0.03 * s


@needs_data
def test_real_flip_matches_H(taiji, real_models):
    H, _ = real_models
    ds = UnpairedDataset(taiji, taiji, seed=0)
    it = next(ds[i] for i in range(len(ds)) if ds[i]["flip_x"])
    o = H(it["x"][None])
    vis = it["vx"] > 0.5
    err = (_peaks(it["hx"]) - _peaks(o.heatmap_logits[0])).norm(dim=1)[vis]
    unswapped = (_peaks(it["hx"][ds.flip_index]) - _peaks(o.heatmap_logits[0])).norm(dim=1)[vis]
    assert err.median() <= 2.0 and unswapped.median() > err.median() + 2


@needs_data
def test_street_crowd_warns_and_follows_one(real_models):
    from skeleton_cyclegan.track import Tracker
    from skeleton_cyclegan.video import read_frames
    H, D = real_models
    tr = Tracker(H, D, fps=50, name="street_crowd.avi")
    with pytest.warns(UserWarning, match="people in view"):
        res = [tr.step(f, t) for t, f in read_frames(DATA / "videos" / "street_crowd.avi", start=1.0, end=2.1, max_frames=3)]
    assert tr.max_people >= 2 and all(lm is not None for lm, _ in res)
    wins = np.stack([skeleton_window(lm) for lm, _ in res])
    assert (np.linalg.norm(np.diff(wins[:, :2], axis=0), axis=1) < wins[1:, 2] / 2).all()   # the same person


@needs_data
def test_cli_prepare_prints_summary(real_models, tmp_path, capsys):
    from skeleton_cyclegan.cli import main
    args = ["prepare", str(DATA / "videos" / "short_basketball.mp4"), "--out", str(tmp_path / "sb"), "--max-frames", "3", "--size", "64"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "3 frames kept, 0 dropped" in out and "crop jitter" in out and "frames/s" in out
    assert main(args) == 0 and "reused" in capsys.readouterr().out


def test_cli_prepare_no_person(real_models, tmp_path, capsys):
    from skeleton_cyclegan.cli import main
    blank = write_video([np.full((96, 128, 3), 90, np.uint8)] * 3, tmp_path / "empty_room.mp4", fps=10, progress=False)
    assert main(["prepare", str(blank), "--out", str(tmp_path / "o"), "--size", "64"]) == 2
    assert "no person found" in capsys.readouterr().err


def test_datasets_pickle_by_folder(two_domains):
    "DataLoader workers receive the dataset pickled: it must carry folder names, not copies of the arrays."
    import pickle
    A, B = two_domains
    ds = UnpairedDataset(A, B, size=64, backend="stub", seed=2)
    blob = pickle.dumps(ds)
    assert len(blob) < 20_000
    back = pickle.loads(blob)
    assert torch.equal(back[4]["x"], ds[4]["x"]) and torch.equal(back[4]["hy"], ds[4]["hy"])


# ---- a second pose backend: OpenPose's H(real) cache beside BlazePose's ------------------------------------------

@pytest.fixture(scope="module")
def openpose_domains(tmp_path_factory):
    "Two tiny synthetic datasets (3 frames, 64²; BlazePose primary) with an OpenPose cache (input 128: 16×16 maps)."
    from skeleton_cyclegan.folder import ensure_pose_cache
    from skeleton_cyclegan.render import make_dataset
    from skeleton_cyclegan.synthetic import DOMAIN_A, DOMAIN_B
    try:
        from skeleton_cyclegan.openpose import openpose
        from skeleton_cyclegan.pose import blazepose
        Hb, Ho = blazepose(device="cpu"), openpose(device="cpu", input_size=128)
    except SkeletonCycleGANError as e: pytest.skip(f"pose model files unavailable: {e}")
    d = tmp_path_factory.mktemp("openpose")
    A = make_dataset(DOMAIN_A, d / "A", n_frames=3, size=64, seed=0, H=Hb, progress=False)
    B = make_dataset(DOMAIN_B, d / "B", n_frames=3, size=64, seed=1, H=Hb, progress=False)
    return Ho, ensure_pose_cache(A, Ho, progress=False), ensure_pose_cache(B.folder, Ho, progress=False)


class _Boom(nn.Module):
    "An H that must not run (or fails half-way): tells whether ensure_pose_cache reuses or recomputes."
    name = "openpose"
    def __init__(self, input_size): super().__init__(); self.input_size = input_size
    def forward(self, x): raise RuntimeError("H ran")


def test_openpose_cache_files_meta_and_reuse(openpose_domains):
    from skeleton_cyclegan.folder import FORMAT_VERSION, ensure_pose_cache
    from skeleton_cyclegan.track import run_pose
    from skeleton_cyclegan.openpose import COCO18_FLIP_INDEX
    Ho, A, B = openpose_domains
    f = A.folder
    for name, shape, dtype in (("logits", (3, 18, 16, 16), np.float16), ("landmarks", (3, 18, 2), np.float32),
                               ("visibility", (3, 18), np.float32)):
        a = np.load(f / f"pose_openpose_{name}.npy")
        assert a.shape == shape and a.dtype == dtype, name
    # BlazePose keeps its files and the format stays readable by older code
    assert np.load(f / "landmarks.npy").shape == (3, 33, 2) and (f / "pose_blazepose_logits.npy").exists()
    m = json.loads((f / "meta.json").read_text())
    assert m["format_version"] == FORMAT_VERSION == 1 and m["pose_backend"] == "blazepose"
    assert m["pose_backends"] == ["blazepose", "openpose"] and m["flip_index"] == BLAZEPOSE_FLIP_INDEX
    info = m["pose_caches"]["openpose"]
    assert (info["input_size"], info["num_keypoints"], info["heatmap_size"], info["flip_index"]) == (128, 18, 16, COCO18_FLIP_INDEX)
    assert A.pose_backends == ["blazepose", "openpose"] and A.pose_flip_index("openpose") == COCO18_FLIP_INDEX
    # the cache is H(real) itself
    o = run_pose(Ho, np.asarray(A.crops))
    np.testing.assert_array_equal(np.asarray(A.heatmap_logits("openpose")), o["heatmap_logits"])
    np.testing.assert_allclose(np.asarray(A.pose_landmarks("openpose")), o["landmarks"], atol=1e-4)
    # the same H again: reused, H does not run
    ensure_pose_cache(f, _Boom(128), progress=False)
    # another input size: recomputed; a failure half-way leaves the old cache whole and no temporary files
    before = {p.name: p.stat().st_mtime_ns for p in f.iterdir()}
    with pytest.raises(RuntimeError, match="H ran"): ensure_pose_cache(f, _Boom(96), progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in f.iterdir()} == before
    assert PreparedVideo(f).meta["pose_caches"]["openpose"]["input_size"] == 128
    with pytest.raises(SkeletonCycleGANError, match="ensure_pose_cache"): PreparedVideo(f).pose_landmarks("other")

def test_rewriting_a_folder_drops_other_backends_caches(openpose_domains, tmp_path):
    "A rebuilt folder has new crops: another backend's cache of the old ones must not survive it."
    import shutil
    _, A, _ = openpose_domains
    f = shutil.copytree(A.folder, tmp_path / "copy")
    P = PreparedVideo(f)
    write_prepared(f, np.asarray(P.crops), np.asarray(P.landmarks), np.asarray(P.visibility), np.asarray(P.boxes), {},
                   heatmap_logits=np.asarray(P.heatmap_logits()), progress=False, backend="blazepose")
    assert not list(f.glob("pose_openpose_*")) and PreparedVideo(f).pose_backends == ["blazepose"]
    with pytest.raises(SkeletonCycleGANError, match="openpose"): UnpairedDataset(f, f, backend="openpose")


def test_openpose_flipped_heatmaps_match_H(openpose_domains):
    "The dataset's flipped OpenPose heatmaps (COCO-18 left/right swap) equal OpenPose run on the flipped image."
    Ho, A, B = openpose_domains
    ds = UnpairedDataset(A, B, size=64, load_size=64, backend="openpose", seed=0)
    it0 = ds[0]
    assert it0["hx"].shape == (18, 16, 16) and it0["lx"].shape == (18, 2) and it0["vx"].shape == (18,)
    errs, unswapped = [], []
    for i in range(len(ds)):
        it = ds[i]
        if not it["flip_x"]: continue
        o = Ho(it["x"][None])
        strong = it["hx"].flatten(1).amax(1) > 0.3
        assert strong.sum() >= 8, i
        errs.append((_peaks(it["hx"]) - _peaks(o.heatmap_logits[0])).norm(dim=1)[strong].median())
        unswapped.append((_peaks(it["hx"][ds.flip_index]) - _peaks(o.heatmap_logits[0])).norm(dim=1)[strong].median())
        assert (it["lx"] - o.landmarks[0])[strong].norm(dim=1).median() <= 2.0, i
    assert errs, "no flipped item"
    assert max(errs) <= 0.5 and np.mean(unswapped) >= np.mean(errs) + 0.75, (errs, unswapped)
