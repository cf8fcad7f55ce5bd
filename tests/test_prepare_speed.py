"""prepare's fast paths give what the plain ones give: H in batches of any size (1, several, more than the clip),
tracking several frames at once, tracking only some frames and interpolating the rest, crops resized as uint8, H's
input made on its device, the detector on a batch of frames. Stand-in networks on a synthetic clip run everywhere;
the real BlazePose, detector and footage when present (skipped with the reason otherwise). No timings asserted."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from torch import nn

from skeleton_cyclegan.core import SkeletonCycleGANError, shared_data_dir, to_tensor
from skeleton_cyclegan.folder import PreparedVideo
from skeleton_cyclegan.pose import BLAZEPOSE_FLIP_INDEX
from skeleton_cyclegan.prepare import prepare
from skeleton_cyclegan.track import CropSettings, Tracker, crop_square, crop_to_frame, run_pose
from skeleton_cyclegan.video import write_video

torch.set_num_threads(1)
DATA = shared_data_dir()
TORSO = [11, 12, 23, 24]


class RectH(nn.Module):
    "Stand-in H: the bright rectangle in a crop is a torso; Gaussian heat maps at its corners; pose flag 1 on it."
    name, flip_index = "rect-h", BLAZEPOSE_FLIP_INDEX

    def forward(self, x):
        B, S = len(x), x.shape[-1]
        lm, flag = torch.full((B, 33, 2), S / 2), torch.zeros(B)
        for b in range(B):
            ys, xs = torch.nonzero(x[b].mean(0) > 0, as_tuple=True)
            if len(xs) < 4: continue
            x0, x1, y0, y1 = xs.min() + 0.0, xs.max() + 1.0, ys.min() + 0.0, ys.max() + 1.0
            lm[b, TORSO] = torch.stack([torch.stack([x1, y0]), torch.stack([x0, y0]), torch.stack([x1, y1]),
                                        torch.stack([x0, y1])])
            flag[b] = 1.0
        c = (torch.arange(16) + 0.5) * S / 16
        d2 = (c[None, None, None] - lm[..., 0, None, None]) ** 2 + (c[None, None, :, None] - lm[..., 1, None, None]) ** 2
        return SimpleNamespace(landmarks=lm, visibility=flag[:, None].expand(B, 33), pose_flag=flag,
                               heatmap_logits=-d2 / S)


class RectDetector:
    "Stand-in detector: one window around the bright pixels (no detect_batch: the tracker loops)."
    name = "rect-detector"

    def detect(self, frame, min_score=0.5):
        m = frame.mean(-1) > 128
        cols, rows = np.flatnonzero(m.any(0)), np.flatnonzero(m.any(1))
        if len(cols) == 0: return []
        roi = ((cols[0] + cols[-1] + 1) / 2, (rows[0] + rows[-1] + 1) / 2, 1.6 * max(len(cols), len(rows)), 0.0)
        return [SimpleNamespace(score=0.9, roi=lambda: roi)]


def walk(i, blank=()):
    "Frame i: a 20×40 white rectangle walking right by 2 px a frame on a grey gradient (so crops have content)."
    f = np.tile(np.linspace(0, 100, 200, dtype=np.uint8)[None, :, None], (150, 1, 3))
    if i not in blank: f[50:90, 40 + 2 * i:60 + 2 * i] = 255
    return f


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    "2 s at 25 fps; the rectangle is gone at 0.4–0.48 s."
    d = tmp_path_factory.mktemp("clip")
    return write_video([walk(i, blank=(10, 11, 12)) for i in range(50)], d / "walk.mp4", fps=25, progress=False)


def stub(video, out, track_fps=0.0, **kw):
    return prepare(video, out, size=64, H=RectH(), detector=RectDetector(), progress=False,
                   settings=CropSettings(track_size=64, track_fps=track_fps), **kw)


def frame_landmarks(pv):
    return np.stack([crop_to_frame(pv.landmarks[i], pv.boxes[i], pv.size) for i in range(len(pv))])


# ---- pieces -------------------------------------------------------------------------------------------------------

def test_uint8_crops_within_one_grey_level_of_float():
    "Crops are resized as uint8 now: at most one grey level from the float resize they replaced."
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    for box, size in [((200, 150, 260), 64), ((380, 20, 200), 96), ((100, 100, 40), 128)]:   # down, padded, up
        crop, used = crop_square(frame, box, size)
        x0, y0, s = int(used[0] - used[2] / 2), int(used[1] - used[2] / 2), int(used[2])
        pad = np.zeros((s, s, 3), np.uint8)
        ys, xs = slice(max(y0, 0), min(y0 + s, 300)), slice(max(x0, 0), min(x0 + s, 400))
        pad[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0] = frame[ys, xs]
        t = tF.interpolate(torch.from_numpy(pad).permute(2, 0, 1)[None].float(), size=(size, size), mode="bilinear",
                           align_corners=False, antialias=s > size)
        ref = t[0].permute(1, 2, 0).round().clamp(0, 255).numpy()
        assert crop.shape == (size, size, 3) and crop.flags.c_contiguous
        assert np.abs(crop.astype(float) - ref).max() <= 1


def test_run_pose_matches_H_on_to_tensor_and_checks_input():
    "H's input is made on its device from uint8; the same numbers as core.to_tensor, for every batch size."
    crops = np.stack([walk(i)[20:120, 20:120] for i in range(5)])
    H = RectH()
    ref = H(to_tensor(crops))
    for batch in (1, 2, 5, 64):
        o = run_pose(H, crops, batch)
        np.testing.assert_array_equal(o["landmarks"], ref.landmarks.numpy())
        np.testing.assert_array_equal(o["heatmap_logits"], ref.heatmap_logits.numpy().astype(np.float16))
    with pytest.raises(SkeletonCycleGANError, match="uint8"): run_pose(H, crops.astype(np.float32))


def test_tracker_batches_agree_with_one_by_one():
    frames, times = [walk(i, blank=(6, 7)) for i in range(20)], [i / 25 for i in range(20)]
    one = Tracker(RectH(), RectDetector(), CropSettings(track_size=64), fps=25).track(frames, times, batch=1)
    for batch in (2, 8, 64):
        tr = Tracker(RectH(), RectDetector(), CropSettings(track_size=64), fps=25)
        got = tr.track(frames, times, batch=batch)
        assert [lm is None for lm, _, _ in got] == [lm is None for lm, _, _ in one] == [i in (6, 7) for i in range(20)]
        assert [c for _, _, c in got] == [c for _, _, c in one]
        for (lm, _, _), (lm1, _, _) in zip(got, one):
            if lm is not None: np.testing.assert_allclose(lm[TORSO], lm1[TORSO], atol=3.5)   # crop px are 2.6 px here
        assert tr.n_detect >= 3


# ---- prepare ------------------------------------------------------------------------------------------------------

def test_crop_pass_batch_sizes_agree(clip, tmp_path):
    "H's batch in the crop pass (1, a few, more than the clip) changes nothing."
    ref = stub(clip, tmp_path / "b1", batch=1)
    for batch in (3, 64):
        pv = stub(clip, tmp_path / f"b{batch}", batch=batch)
        np.testing.assert_array_equal(pv.crops, ref.crops)
        np.testing.assert_array_equal(pv.landmarks, ref.landmarks)
        np.testing.assert_array_equal(pv.heatmap_logits("rect"), ref.heatmap_logits("rect"))


def test_tracking_in_batches_agrees_with_one_by_one(clip, tmp_path):
    ref = stub(clip, tmp_path / "t1", track_batch=1)
    for tb in (4, 64):
        pv = stub(clip, tmp_path / f"t{tb}", track_batch=tb, batch=tb)
        np.testing.assert_array_equal(pv.frame_times, ref.frame_times)
        side = np.asarray(ref.boxes)[:, 2]
        assert (np.abs(np.asarray(pv.boxes) - ref.boxes)[:, :2].max(1) / side).max() < 0.02
        err = np.abs(frame_landmarks(pv) - frame_landmarks(ref))[:, TORSO]
        assert err.max() < 3.5


def test_interpolated_tracking_agrees_with_every_frame(clip, tmp_path):
    "Tracked at 5 frames a second (every 5th frame) and interpolated between: the windows of every frame."
    ref = stub(clip, tmp_path / "every", track_fps=0.0)
    pv = stub(clip, tmp_path / "five", track_fps=5.0)
    assert pv.meta["settings"]["track_fps"] == 5.0
    common = np.intersect1d(ref.frame_times, pv.frame_times)
    assert len(ref) == 47 and len(common) >= 40 and set(pv.frame_times) <= set(ref.frame_times)  # dropped near the gap
    ia, ib = np.searchsorted(ref.frame_times, common), np.searchsorted(pv.frame_times, common)
    assert np.abs(frame_landmarks(pv)[ib] - frame_landmarks(ref)[ia])[:, TORSO].max() < 3.5
    # the windows, away from the gap (smoothing across a gap depends on which frames it drops)
    far = np.abs(common[:, None] - np.arange(0.2, 0.6, 0.04)[None]).min(1) > 0.25
    ia, ib, side = ia[far], ib[far], np.asarray(ref.boxes)[ia[far], 2]
    assert far.sum() >= 25
    assert (np.abs(np.asarray(pv.boxes)[ib] - np.asarray(ref.boxes)[ia])[:, :2].max(1) / side).max() < 0.02


def test_clip_shorter_than_the_batch(tmp_path):
    v = write_video([walk(i) for i in range(3)], tmp_path / "short.mp4", fps=25, progress=False)
    pv = stub(v, tmp_path / "out", track_fps=10.0, batch=64, track_batch=32)
    assert len(pv) == 3 and pv.meta["n_dropped"] == 0
    assert set(pv.timings) >= {"decode", "crop", "pose", "write", "total"}


def test_bad_batch_sizes_are_refused(clip, tmp_path):
    with pytest.raises(SkeletonCycleGANError, match="batch=0"): stub(clip, tmp_path / "x", batch=0)
    with pytest.raises(SkeletonCycleGANError, match="track_batch=2.5"): stub(clip, tmp_path / "x", track_batch=2.5)


# ---- the real networks on real footage (skipped without them) ----------------------------------------------------

@pytest.fixture(scope="module")
def real():
    if DATA is None: pytest.skip("real footage ../shared/data is absent")
    from skeleton_cyclegan.detector import PersonDetector
    from skeleton_cyclegan.pose import blazepose
    try: return blazepose(device="cpu"), PersonDetector(device="cpu")
    except SkeletonCycleGANError as e: pytest.skip(f"BlazePose model files unavailable: {e}")


@pytest.fixture(scope="module")
def taiji_short(real, tmp_path_factory, ffmpeg):
    "The first 1.25 s of taiji.mp4 at 640×360: 30 frames."
    out = tmp_path_factory.mktemp("taiji") / "taiji_short.mp4"
    ffmpeg("-i", DATA / "videos" / "taiji.mp4", "-t", "1.25", "-vf", "scale=640:-2", "-an", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", out)
    return out


def test_real_detector_batch_matches_one_by_one(real):
    from skeleton_cyclegan.video import read_frames
    _, D = real
    frames = [f for _, f in read_frames(DATA / "videos" / "taiji.mp4", start=2.0, max_frames=3)]
    for one, many in zip([D.detect(f) for f in frames], D.detect_batch(frames)):
        assert len(one) == len(many) >= 1
        np.testing.assert_allclose(many[0].keypoints, one[0].keypoints, atol=0.5)


def test_real_fast_paths_keep_the_landmarks(real, taiji_short, tmp_path):
    """Every frame tracked one by one with H in batches of 1 (the old way) vs tracked 10 times a second, several
    at once, H in batches of 8: the same frames, windows within 1% of their side (0.4% measured), landmarks within
    half a crop pixel on average (0.1 measured), crops within a few grey levels on average (2 measured)."""
    H, D = real
    run = lambda name, **kw: prepare(taiji_short, tmp_path / name, size=128, H=H, detector=D, progress=False, **kw)
    ref = run("ref", settings=CropSettings(track_fps=0), batch=1, track_batch=1)
    fast = run("fast", batch=8, track_batch=4)
    np.testing.assert_array_equal(fast.frame_times, ref.frame_times)
    side = np.asarray(ref.boxes)[:, 2]
    assert (np.linalg.norm(np.asarray(fast.boxes)[:, :2] - ref.boxes[:, :2], axis=1) / side).max() < 0.01
    assert (np.abs(np.log(np.asarray(fast.boxes)[:, 2] / side))).max() < 0.01
    vis = (np.asarray(ref.visibility) > 0.5) & (np.asarray(fast.visibility) > 0.5)
    err = np.linalg.norm(frame_landmarks(fast) - frame_landmarks(ref), axis=-1)[vis] * 128 / np.repeat(side, 33)[vis.ravel()]
    assert vis.mean() > 0.5 and err.mean() < 0.5            # crop px at 128
    assert np.abs(np.asarray(fast.crops, np.int16) - ref.crops).mean() < 4
    assert isinstance(PreparedVideo(fast.folder), PreparedVideo)
