"Beyond the paper: the point forms (coords, bones) and heat-map forms (logits, gaussian), views, scale normalisation."
import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.losses import Objective, generator_loss, run_H, skeleton_loss, skeleton_loss_from
from skeleton_cyclegan.networks import ResnetGenerator, init_weights
from skeleton_cyclegan.skeleton import (PointSkeletonTerm, body_build, check_skeleton_settings, gaussian_heatmaps,
                                        random_views, retarget_offsets, retarget_points, soft_argmax, soft_points,
                                        straight_through_clip, view_images, view_points)
from stand_ins import StandInH, blobs, cached_of, nets, pose_out

torch.set_num_threads(min(2, torch.get_num_threads()))
FORMS = ["logits", "coords", "gaussian"]


@pytest.mark.parametrize("name", ["logits", "coords"])
def test_zero_for_identical_inputs(name):
    H, x = StandInH(), blobs()
    assert skeleton_loss(name, H, x, cached_of(H, x)).item() == 0.0


@pytest.mark.parametrize("name", FORMS)
def test_grows_with_displacement(name):
    # gaussian compares with small bumps: give it small discs (its loss saturates once they no longer overlap)
    r = 0.05 if name == "gaussian" else 0.15
    H, x = StandInH(), blobs(r=r)
    cached = cached_of(H, x)
    vals = [skeleton_loss(name, H, blobs(r=r, shift=(d, d / 2)), cached).item() for d in (0, 1, 2, 3, 6, 12)]
    assert vals[0] < vals[1] < vals[2] < vals[3], vals
    assert vals[3] <= vals[4] * 1.001 and vals[4] <= vals[5] * 1.001, vals


@pytest.mark.parametrize("name", FORMS)
def test_gradients_reach_the_generator_never_H(name):
    H = StandInH()
    G = init_weights(ResnetGenerator(ngf=4, n_blocks=1), generator=torch.Generator().manual_seed(0))
    x = blobs()
    loss = skeleton_loss(name, H, G(x), cached_of(H, blobs(shift=(4, 0))))
    loss.backward()
    assert H.scale.grad is None
    g = [p.grad for p in G.parameters()]
    assert all(t is not None for t in g) and sum(t.abs().sum() for t in g) > 0


def test_logits_form_has_gradient_where_the_fake_is_below_the_clip():
    # the fake's logit is −60 where the real has a point: a plain clip gives 0 gradient there, the straight-through clip 1
    pred = pose_out(heatmap_logits=torch.full((1, 1, 4, 4), -60.0, requires_grad=True))
    real = torch.full((1, 1, 4, 4), -60.0); real[0, 0, 1, 1] = 5.0
    loss = skeleton_loss_from("logits", pred, dict(logits=real), size=64, num_keypoints=1)
    loss.backward()
    assert loss.item() == pytest.approx(15 / 16)
    g = pred.heatmap_logits.grad[0, 0]
    assert g[1, 1] < 0 and (g.flatten()[[0, 1, 2, 3, 4, 6]] == 0).all()   # pulled up at the point, nothing elsewhere
    t = torch.tensor([-60.0, 30.0], requires_grad=True)
    straight_through_clip(t, -10, 10).sum().backward()
    assert t.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("size", [64, 128, 256])
def test_coords_and_sizes_are_in_image_units(size):
    "The same displacement as a fraction of the image gives the same coords loss at 64, 128 and 256 px."
    H = StandInH()
    v = skeleton_loss("coords", H, blobs(size, shift=(4, 0)), cached_of(H, blobs(size)))
    v64 = skeleton_loss("coords", H, blobs(64, shift=(4, 0)), cached_of(H, blobs(64)))
    assert v.item() == pytest.approx(v64.item(), rel=0.05) and v > 0


def test_coords_landmark_target_and_visibility_weighting():
    H, x = StandInH(), blobs()
    c = cached_of(H, x)
    # landmark target equals the heat-map target when the landmarks are the heat maps' soft-argmax (as in StandInH)
    assert skeleton_loss("coords", H, x, c, target="landmarks").item() == pytest.approx(0.0, abs=1e-6)
    # landmarks given for a 256-px real crop, fake at 64 px: real_size converts
    c256 = dict(c, landmarks=c["landmarks"] * 4)
    assert skeleton_loss("coords", H, x, c256, target="landmarks", real_size=256).item() == pytest.approx(0.0, abs=1e-6)
    # a point the real frame does not see asks for nothing
    moved = blobs(centres=((20, 20), (40, 24), (10, 10)))
    c_invisible = dict(c, visibility=torch.tensor([[1.0, 1.0, 0.0]]))
    assert skeleton_loss("coords", H, moved, c_invisible).item() == pytest.approx(0.0, abs=1e-6)
    assert skeleton_loss("coords", H, moved, c).item() > 0.1


def test_gaussian_heatmaps_and_soft_argmax_agree():
    pts = torch.tensor([[[10.0, 30.0], [50.0, 21.0]]])         # pixels of a 128 crop, away from the border
    g = gaussian_heatmaps(pts, size=128, hm_size=64, sigma=1.0)
    assert g.shape == (1, 2, 64, 64) and g.max() <= 1
    back = soft_argmax(torch.log(g.clamp_min(1e-30))) * 128 / 64
    torch.testing.assert_close(back, pts, atol=1e-3, rtol=0)


def test_reduction_none_gives_per_image_values():
    H = StandInH()
    x = torch.cat([blobs(), blobs()])
    fake = torch.cat([blobs(), blobs(shift=(5, 0))])
    for name in FORMS:
        per = skeleton_loss(name, H, fake, cached_of(H, x), reduction="none")
        assert per.shape == (2,) and per[1] > per[0]
        assert skeleton_loss(name, H, fake, cached_of(H, x)).item() == pytest.approx(per.mean().item(), rel=1e-5)


def test_coords_skel_retarget_adds_the_cached_offsets():
    H, x = StandInH(), blobs()
    c = cached_of(H, x)
    shift = torch.zeros(1, 3, 2); shift[..., 0] = 6.0                    # 6 px right, at 64 px
    moved = dict(c, retarget=shift)
    assert skeleton_loss("coords", H, blobs(shift=(6, 0)), moved, skel_retarget=True).item() < 0.02
    assert skeleton_loss("coords", H, blobs(shift=(6, 0)), c).item() > 0.05
    with pytest.raises(SkeletonCycleGANError, match="set_offsets"):
        skeleton_loss("coords", H, x, c, skel_retarget=True)


# ---- views ---------------------------------------------------------------------------------------------

def test_views_of_strength_zero_are_the_image_and_points_themselves():
    x = blobs()
    v = random_views(2, 0.0)
    torch.testing.assert_close(view_images(x.expand(2, -1, -1, -1), v), x.expand(2, -1, -1, -1), atol=1e-4, rtol=0)
    p = torch.rand(2, 5, 2)
    torch.testing.assert_close(view_points(p, v["theta"], 64), p, atol=1e-5, rtol=0)
    with pytest.raises(SkeletonCycleGANError, match="≥ 0"):
        random_views(1, -1.0)


def test_views_move_points_as_they_move_the_image():
    "A disc moved by a view lands where view_points says its centre goes."
    H, x = StandInH(), blobs(128)
    v = random_views(1, 2.0, generator=torch.Generator().manual_seed(1))
    v["blur"].zero_(); v["noise"].zero_()
    with torch.no_grad():
        seen = H(view_images(x, v))
        own = H(x)
    pts = soft_argmax(own.heatmap_logits) / 64
    moved = view_points(pts, v["theta"], 64)
    err = (moved - soft_argmax(seen.heatmap_logits) / 64).norm(dim=-1)
    assert err.max() < 0.02, err


def test_point_skeleton_term_draws_reproducible_views_and_checks_its_settings():
    H = StandInH()
    x, y = blobs(), blobs(shift=(5, 5))
    G, Fn, D_A, D_B = nets()

    def run(seed, views=1.0):
        term = PointSkeletonTerm("coords", views, False, generator=torch.Generator().manual_seed(seed))
        return generator_loss(G, Fn, D_A, D_B, x, y, Objective(skeleton=term), H, cached_of(H, x), cached_of(H, y),
                              lambda_skel=1.0).terms["skel_G"].item()
    assert run(0) == run(0) and run(0) != run(1)
    plain = PointSkeletonTerm("coords", 0.0, False)
    assert plain.view(x) == (x, {})
    with pytest.raises(SkeletonCycleGANError, match="point form"):
        PointSkeletonTerm("paper", 1.0, False)
    with pytest.raises(SkeletonCycleGANError, match="coords"):
        check_skeleton_settings("bones", 0.0, True)
    with pytest.raises(SkeletonCycleGANError, match="choose one of"):
        check_skeleton_settings("literal")


# ---- the real H (BlazePose) on a synthetic figure whose arm moves -----------------------------------

@pytest.fixture(scope="module")
def real_H():
    try:
        from skeleton_cyclegan.pose import blazepose
        return blazepose(device="cpu")
    except SkeletonCycleGANError as e:
        pytest.skip(f"BlazePose H is not available here: {e}")


def _figure(size, shoulder):
    from skeleton_cyclegan.core import to_tensor
    from skeleton_cyclegan.render import render
    from skeleton_cyclegan.synthetic import APPEARANCE_A, forward_kinematics
    kp, depth = forward_kinematics({"sh_abd_l": shoulder, "sh_abd_r": 0.3}, APPEARANCE_A.body)
    return to_tensor(render(kp[0], APPEARANCE_A, size, depth[0]))


def test_real_H_zero_for_identical_and_grows_as_an_arm_moves(real_H):
    angles = [1.2, 1.0, 0.6, 0.1]   # x has the arm at 1.2 rad; the "fakes" lower it further and further
    imgs = torch.cat([_figure(256, a) for a in angles])
    with torch.no_grad():
        pred = run_H(real_H, imgs)
    cached = {k: getattr(pred, a)[:1].expand(len(angles), *getattr(pred, a).shape[1:])
              for k, a in (("logits", "heatmap_logits"), ("landmarks", "landmarks"), ("visibility", "visibility"))}
    for name in ["paper", *FORMS]:
        v = skeleton_loss_from(name, pred, cached, 256, real_H.num_keypoints, reduction="none").tolist()
        if name != "gaussian": assert v[0] == 0.0, (name, v)
        assert v[0] < v[1] < v[2] <= v[3] * 1.02, (name, v)


def test_real_H_on_small_fakes_with_gradients(real_H):
    "Fakes of 64 px: H resizes inside; the loss is differentiable into the fake and H's weights get nothing."
    x = _figure(64, 1.2)
    with torch.no_grad():
        o = real_H(x)
    cached = dict(logits=o.heatmap_logits, landmarks=o.landmarks, visibility=o.visibility)
    fake = _figure(64, 0.6).requires_grad_()
    loss = skeleton_loss("logits", real_H, fake, cached)
    loss.backward()
    assert loss > 0 and fake.grad.abs().sum() > 0
    assert all(p.grad is None for p in real_H.parameters())


def test_retarget_points_draws_the_pose_with_the_other_build():
    "On exact synthetic keypoints, x's pose retargeted to B's measured build lands on the ground-truth retargeting."
    from skeleton_cyclegan.metrics import pose_metrics
    from skeleton_cyclegan.synthetic import DISJOINT_A, DISJOINT_B, motion, retarget
    mA, mB, mt = motion(DISJOINT_A, 300, 0), motion(DISJOINT_B, 300, 1), motion(DISJOINT_A, 100, 2)
    build = lambda m: body_build(torch.from_numpy(m.keypoints), torch.ones(m.keypoints.shape[:2]))
    bA, bB = build(mA), build(mB)
    R = retarget_points(torch.from_numpy(mt.keypoints), bA, bB).numpy()
    truth = retarget(mt, DISJOINT_B)[0]                   # B's body on A's joint angles
    moved, kept = pose_metrics(R, truth), pose_metrics(mt.keypoints, truth)
    assert moved["pck10"] > 0.95 and moved["arms_pck10"] > 0.95, moved
    assert moved["mean_error"] < 0.5 * kept["mean_error"], (moved, kept)
    torch.testing.assert_close(retarget_points(torch.from_numpy(mt.keypoints), bA, bA), torch.from_numpy(mt.keypoints))


class _Prepared:   # the accessors of a prepared video that retarget_offsets reads
    def __init__(self, points, size=64):
        self.size, n = size, len(points)
        logits = torch.full((n, 33, 16, 16), -30.0)
        cells = (points * 16).round().long().clamp(0, 15)
        for i in range(n):
            for k in range(33): logits[i, k, cells[i, k, 1], cells[i, k, 0]] = 30.0
        self.logits, self.vis = logits.numpy().astype(np.float16), np.ones((n, 33), np.float32)
    def heatmap_logits(self, backend): return self.logits
    def pose_landmarks(self, backend): return np.zeros((len(self.logits), 33, 2), np.float32)
    def pose_visibility(self, backend): return self.vis


def test_retarget_offsets_carry_each_video_onto_the_others_build():
    from skeleton_cyclegan.synthetic import DISJOINT_A, DISJOINT_B, motion
    A, B = (_Prepared(torch.from_numpy(motion(d, 40, s).keypoints)) for d, s in ((DISJOINT_A, 0), (DISJOINT_B, 1)))
    rA, rB, (bA, bB) = retarget_offsets(A, B, "blazepose")
    assert rA.shape == (40, 33, 2) and rA.dtype == np.float32 and rB.shape == (40, 33, 2)
    pA = soft_points(A.logits, 33)
    torch.testing.assert_close(torch.from_numpy(rA) / 64 + pA, retarget_points(pA, bA, bB), atol=1e-4, rtol=0)
    assert np.abs(rA).max() > 0.5                       # the builds differ: the offsets are not zero
    with pytest.raises(SkeletonCycleGANError, match="pose"):
        retarget_offsets(A, B, "no-such-network")
