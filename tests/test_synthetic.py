"Synthetic dancers: determinism, ground-truth geometry, rendering, H's PCK and the round trip through the data format."
import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.pose import BLAZEPOSE_NAMES, BODY17
from skeleton_cyclegan.render import make_dataset, pck, pose_pck, render, render_frames, render_video
from skeleton_cyclegan.synthetic import (DISJOINT_A, DISJOINT_B, DOMAIN_A, DOMAIN_B, JOINT_LIMITS, REST, Appearance,
                                         Body, Domain, forward_kinematics, motion, motion_angles, retarget)

torch.set_num_threads(2)
DOMAINS = (DOMAIN_A, DOMAIN_B, DISJOINT_A, DISJOINT_B)
BONES = [(11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28), (11, 12), (23, 24)]


@pytest.fixture(scope="module")
def H():
    from skeleton_cyclegan.pose import blazepose
    try: return blazepose()
    except SkeletonCycleGANError as e: pytest.skip(f"BlazePose model not available here ({e})")


def _bone_lengths(m):
    p3 = np.concatenate([m.keypoints, m.depth[..., None]], -1)   # x, y, depth: all in units of the crop side
    return np.stack([np.linalg.norm(p3[:, a] - p3[:, b], axis=-1) for a, b in BONES], 1)


def test_motion_is_deterministic_and_seeded():
    a, b = motion(DOMAIN_A, 60, seed=3), motion(DOMAIN_A, 60, seed=3)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert a.labels == b.labels
    assert not np.allclose(a.keypoints, motion(DOMAIN_A, 60, seed=4).keypoints)
    assert not np.allclose(a.keypoints, motion(DOMAIN_B, 60, seed=3).keypoints)    # domains draw their own sequences
    np.testing.assert_array_equal(render(a.keypoints[7], DOMAIN_B.appearance, 64, a.depth[7]),
                                  render(a.keypoints[7], DOMAIN_B.appearance, 64, a.depth[7]))


def test_motion_prefix_does_not_depend_on_length():
    np.testing.assert_allclose(motion(DOMAIN_B, 40, seed=1).keypoints, motion(DOMAIN_B, 120, seed=1).keypoints[:40], atol=1e-6)


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_joint_limits_smoothness_and_framing(domain):
    for seed in range(3):
        ang, labels = motion_angles(domain, 300, seed)
        for k, (lo, hi) in JOINT_LIMITS.items():
            assert lo - 1e-9 <= ang[k].min() and ang[k].max() <= hi + 1e-9, k
        assert set(labels) <= set(domain.moves)
        m = motion(domain, 300, seed)
        assert m.keypoints.min() > 0.0 and m.keypoints.max() < 1.0                # the whole body stays in the crop
        assert np.linalg.norm(np.diff(m.keypoints, axis=0), axis=-1).max() < 0.1   # no teleporting joints
        hips = m.keypoints[:, [23, 24]].mean(1)
        assert np.abs(hips.mean(0) - 0.5).max() < 0.1                             # centred on average


@pytest.mark.parametrize("domain", DOMAINS, ids=lambda d: d.name)
def test_limb_lengths_are_constant(domain):
    L = _bone_lengths(motion(domain, 200, seed=2))
    np.testing.assert_allclose(L, np.broadcast_to(L[0], L.shape), atol=1e-5)
    b = domain.appearance.body
    np.testing.assert_allclose(L[0, :2], [b.upper_arm * b.height, b.forearm * b.height], rtol=1e-5)
    np.testing.assert_allclose(L[0, 4:6], [b.thigh * b.height, b.shin * b.height], rtol=1e-5)


def test_moves_move_the_right_limbs():
    arms, legs = [11, 13, 15, 12, 14, 16], [25, 27, 26, 28]
    spread = lambda m, idx: (m.keypoints[:, idx] - m.keypoints[:, [23, 24]].mean(1, keepdims=True)).std(0).mean()
    a, b = motion(DISJOINT_A, 300, 0), motion(DISJOINT_B, 300, 0)
    assert spread(a, arms) > 2 * spread(b, arms)
    assert spread(b, legs) > 2 * spread(a, legs)


def test_retarget_keeps_the_angles_on_the_other_body():
    m = motion(DOMAIN_A, 50, 0)
    kp, z = retarget(m, DOMAIN_B)
    class M: pass
    r = M(); r.keypoints, r.depth = kp, z
    L = _bone_lengths(r)
    b = DOMAIN_B.appearance.body
    np.testing.assert_allclose(L[:, 4], b.thigh * b.height, rtol=1e-5)
    assert not np.allclose(kp, m.keypoints)


def test_left_is_the_image_right_and_rest_pose_is_upright():
    kp, _ = forward_kinematics(REST, Body())
    kp = kp[0]
    for l, r in [(11, 12), (13, 14), (15, 16), (23, 24), (27, 28), (2, 5), (7, 8)]:
        assert kp[l, 0] > kp[r, 0], (BLAZEPOSE_NAMES[l], BLAZEPOSE_NAMES[r])
    assert kp[0, 1] < kp[11, 1] < kp[23, 1] < kp[25, 1] < kp[27, 1]


@pytest.mark.parametrize("size", [64, 128, 256])
def test_render_draws_the_figure_where_the_keypoints_are(size):
    m = motion(DOMAIN_A, 30, 0)
    kp = m.keypoints[20]
    img = render(kp, DOMAIN_A.appearance, size, m.depth[20])
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    bg = np.array(DOMAIN_A.appearance.bg)
    fg = np.abs(img.astype(int) - bg).sum(-1) > 30
    ys, xs = np.nonzero(fg)
    lo, hi = kp.min(0) * size, kp.max(0) * size
    # the drawn figure covers the keypoints' box, plus at most a few limb widths
    assert xs.min() <= lo[0] + 1 and xs.max() >= hi[0] - 2 and ys.min() <= lo[1] + 1 and ys.max() >= hi[1] - 2
    assert xs.min() >= lo[0] - 0.08 * size and ys.max() <= hi[1] + 0.08 * size
    for j in BODY17:   # every body point is on the figure (not on the background)
        x, y = np.clip((kp[j] * size).astype(int), 0, size - 1)
        assert fg[max(0, y - 1):y + 2, max(0, x - 1):x + 2].any(), BLAZEPOSE_NAMES[j]


def test_domains_look_different():
    m = motion(DOMAIN_A, 1, 0)
    a = render(m.keypoints[0], DOMAIN_A.appearance, 64).reshape(-1, 3).mean(0)
    b = render(m.keypoints[0], DOMAIN_B.appearance, 64).reshape(-1, 3).mean(0)
    assert a.mean() > b.mean() + 60        # A light, B dark
    hb, ha = DOMAIN_B.appearance.body, DOMAIN_A.appearance.body
    assert hb.height < ha.height and hb.shoulder_width > ha.shoulder_width and hb.limb_width > ha.limb_width


def test_bad_input_raises_clear_errors():
    with pytest.raises(SkeletonCycleGANError, match="33 keypoints"): render(np.zeros((17, 2)), DOMAIN_A.appearance, 64)
    with pytest.raises(SkeletonCycleGANError, match="size"): render(np.zeros((33, 2)), DOMAIN_A.appearance, 4)
    with pytest.raises(SkeletonCycleGANError, match="NaN"): render(np.full((33, 2), np.nan), DOMAIN_A.appearance, 64)
    with pytest.raises(SkeletonCycleGANError, match="pattern"): Appearance(pattern="zebra")
    with pytest.raises(SkeletonCycleGANError, match="unknown moves"): Domain("x", Appearance(), moves=("moonwalk",))
    with pytest.raises(SkeletonCycleGANError, match="n_frames"): motion(DOMAIN_A, 0)
    with pytest.raises(SkeletonCycleGANError, match="shape"): pck(np.zeros((2, 33, 2)), np.zeros((3, 33, 2)), 64)


def test_pck():
    gt = np.zeros((2, 33, 2)); pred = gt.copy()
    pred[0, BODY17[:5]] = 30   # 5 of 34 points off by 42 px > 0.1·256
    assert pck(pred, gt, 256) == pytest.approx(1 - 5 / 34)
    assert pck(pred, gt, 1024) == 1.0


@pytest.mark.parametrize("domain", [DOMAIN_A, DOMAIN_B], ids=lambda d: d.name)
def test_H_sees_the_dancers(H, domain):
    r = pose_pck(domain, H, n_frames=8, size=256, seed=11, stride=8)
    assert r["pck"] >= 0.9, r["per_point"]


def test_make_dataset_round_trip(H, tmp_path):
    from skeleton_cyclegan.folder import PreparedVideo
    pv = make_dataset(DOMAIN_B, tmp_path / "B", n_frames=6, size=64, seed=5, H=H, progress=False)
    frames, m = render_frames(DOMAIN_B, 6, 64, seed=5)
    pv2 = PreparedVideo(tmp_path / "B")
    np.testing.assert_array_equal(np.asarray(pv2.crops), frames)
    np.testing.assert_allclose(np.asarray(pv2.gt_keypoints), m.keypoints * 64, atol=1e-4)
    assert pv2.heatmap_logits().shape == (6, 33, 64, 64)
    assert pv2.meta["settings"]["synthetic"] == "B" and pv2.meta["fps"] == 25.0
    np.testing.assert_allclose(np.asarray(pv2.boxes), [[32, 32, 64]] * 6)
    assert pck(pv2.landmarks, pv2.gt_keypoints, 64) >= 0.8
    mtime = (tmp_path / "B" / "crops.npy").stat().st_mtime_ns
    make_dataset(DOMAIN_B, tmp_path / "B", n_frames=6, size=64, seed=5, H=H, progress=False)   # same settings: reused
    assert (tmp_path / "B" / "crops.npy").stat().st_mtime_ns == mtime


def test_render_video(tmp_path):
    from skeleton_cyclegan.video import read_frames, video_info
    m = render_video(DOMAIN_A, tmp_path / "a.mp4", n_frames=8, size=64, fps=10, progress=False)
    info = video_info(tmp_path / "a.mp4")
    assert (info.n_frames, info.width, info.height, info.fps) == (8, 64, 64, 10)
    assert len(m) == 8
    first = next(iter(read_frames(tmp_path / "a.mp4")))[1]
    want = render(m.keypoints[0], DOMAIN_A.appearance, 64, m.depth[0])
    assert np.abs(first.astype(int) - want).mean() < 6     # lossy codec, same picture
