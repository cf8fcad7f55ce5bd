"Loss terms: LSGAN, cycle, identity, the skeleton-loss registry (all forms), λ_skel auto-balancing, the G objective."
import copy
import time
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.losses import (SKELETON_LOSSES, LambdaSkel, cached_from_batch, cycle_loss, gaussian_heatmaps,
                                      generator_loss, identity_loss, lsgan_d_loss, lsgan_g_loss, register_skeleton_loss,
                                      run_H, skeleton_loss, skeleton_loss_from, soft_argmax, straight_through_clip)
from skeleton_cyclegan.networks import PatchDiscriminator, ResnetGenerator, init_weights

torch.set_num_threads(min(2, torch.get_num_threads()))
FORMS = ["paper", "logits", "coords", "gaussian"]


@dataclass
class _PoseOut:  # the fields of pose.PoseOutput the losses read
    heatmap_logits: torch.Tensor
    landmarks: torch.Tensor
    visibility: torch.Tensor
    coord_temperature = 1.0
    activate = staticmethod(torch.sigmoid)


def pose_out(**kw):
    "A bare H output: BlazePose-style logits (sigmoid activation)."
    return SimpleNamespace(activate=torch.sigmoid, coord_temperature=1.0, **kw)


class StandInH(nn.Module):
    """A fast frozen H with BlazePose's interface: keypoint k's heat map is colour channel k (3 'keypoints'),
    logits = 20·channel − 10 on a 64×64 grid (−30 in a dark background, +10 on a bright blob)."""
    num_keypoints, flip_index, heatmap_size = 3, [0, 1, 2], 64

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(20.0), requires_grad=False)
        self.seen_dtypes = []

    def forward(self, x):
        self.seen_dtypes.append(x.dtype)
        S = x.shape[-1]
        logits = self.scale * F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False) - 10
        return _PoseOut(heatmap_logits=logits, landmarks=soft_argmax(logits) * S / 64,
                        visibility=torch.sigmoid(logits.amax((2, 3))))


def blobs(size=64, centres=((20, 20), (40, 24), (30, 44)), r=0.15, shift=(0.0, 0.0)):
    "Image (1,3,S,S) in [−1, 1]: channel k has a bright disc at centres[k] (in 64-px units, scaled to S), moved by `shift` (64-px units)."
    yy, xx = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    img = -torch.ones(1, 3, size, size)
    for k, (cx, cy) in enumerate(centres):
        cx, cy = (cx + shift[0]) * size / 64, (cy + shift[1]) * size / 64
        img[0, k][(xx - cx) ** 2 + (yy - cy) ** 2 <= (r * size) ** 2] = 1.0
    return img


def cached_of(H, x):
    with torch.no_grad():
        o = H(x)
    return dict(logits=o.heatmap_logits, landmarks=o.landmarks, visibility=o.visibility)


class Const(nn.Module):
    def __init__(self, c): super().__init__(); self.c = c
    def forward(self, x): return torch.full((x.shape[0], 1, 3, 3), self.c) + 0 * x.mean()


# ---- GAN, cycle, identity --------------------------------------------------------------------------

def test_lsgan_values():
    x = torch.zeros(2, 3, 8, 8)
    assert lsgan_d_loss(Const(1.0), x, x).item() == pytest.approx(0.5)      # ½((1−1)² + 1²)
    assert lsgan_d_loss(Const(0.5), x, x).item() == pytest.approx(0.25)
    assert lsgan_g_loss(Const(1.0), x).item() == pytest.approx(0.0)
    assert lsgan_g_loss(Const(-1.0), x).item() == pytest.approx(4.0)


def test_d_loss_never_reaches_generator_and_g_loss_does():
    G = init_weights(ResnetGenerator(ngf=4, n_blocks=1))
    D = init_weights(PatchDiscriminator(ndf=4))
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    lsgan_d_loss(D, x, G(x)).backward()
    assert all(p.grad is None for p in G.parameters()) and D.model[0].weight.grad is not None
    lsgan_g_loss(D, G(x)).backward()
    assert all(p.grad is not None for p in G.parameters())


def test_cycle_and_identity_are_mean_l1():
    a, b = torch.zeros(1, 3, 4, 4), torch.full((1, 3, 4, 4), 0.5)
    assert cycle_loss(a, a).item() == 0 and cycle_loss(a, b).item() == pytest.approx(0.5)
    assert identity_loss(b, a).item() == pytest.approx(0.5)
    assert cycle_loss(a.bfloat16(), b.bfloat16()).dtype == torch.float32


# ---- the skeleton-loss registry --------------------------------------------------------------------

def test_registry_has_the_forms_and_rejects_unknown_names():
    assert set(FORMS) <= set(SKELETON_LOSSES)
    H, x = StandInH(), blobs()
    with pytest.raises(SkeletonCycleGANError, match="choose one of"):
        skeleton_loss("literal", H, x, cached_of(H, x))


def test_a_form_can_be_added_by_name():
    @register_skeleton_loss("l2_logits_test")
    def l2(pred, cached, size, num_keypoints, reduction="mean"):
        d = (pred.heatmap_logits[:, :num_keypoints] - cached["logits"][:, :num_keypoints]).square().flatten(1).mean(1)
        return d.mean() if reduction == "mean" else d
    try:
        H = StandInH()
        v = skeleton_loss("l2_logits_test", H, blobs(shift=(3, 0)), cached_of(H, blobs()))
        assert v > 0
    finally:
        del SKELETON_LOSSES["l2_logits_test"]


@pytest.mark.parametrize("name", ["paper", "logits", "coords"])
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


def test_unfrozen_H_is_refused():
    H = StandInH()
    H.scale.requires_grad_(True)
    with pytest.raises(SkeletonCycleGANError, match="frozen"):
        skeleton_loss("paper", H, blobs(), cached_of(H, blobs()))


def test_H_runs_in_float32_under_autocast():
    H, x = StandInH(), blobs()
    cached = cached_of(H, x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        v = skeleton_loss("logits", H, x.bfloat16(), cached)
    assert H.seen_dtypes[-1] == torch.float32 and v.dtype == torch.float32


def test_bad_cached_input_is_a_clear_error():
    H, x = StandInH(), blobs()
    with pytest.raises(SkeletonCycleGANError, match="cached H outputs"):
        skeleton_loss("coords", H, x, dict(logits=cached_of(H, x)["logits"]))
    c = cached_of(H, torch.cat([x, x]))    # batch 2 for a batch-1 fake
    with pytest.raises(SkeletonCycleGANError, match="expected batch 1"):
        skeleton_loss("paper", H, x, c)
    with pytest.raises(SkeletonCycleGANError, match="reduction"):
        skeleton_loss("paper", H, x, cached_of(H, x), reduction="sum")


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


def test_paper_form_is_eq5_on_sigmoid_heatmaps():
    a, b = torch.randn(2, 5, 64, 64) * 5, torch.randn(2, 5, 64, 64) * 5
    got = skeleton_loss_from("paper", pose_out(heatmap_logits=a), dict(logits=b), size=64, num_keypoints=3)
    assert got.item() == pytest.approx((a[:, :3].sigmoid() - b[:, :3].sigmoid()).abs().mean().item(), rel=1e-5)


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


# ---- λ_skel ---------------------------------------------------------------------------------------------

def test_lambda_fixed_and_exact_on_constant_magnitudes():
    assert LambdaSkel(7.5)(torch.tensor(3.0), torch.tensor(1.0)).item() == 7.5
    lam = LambdaSkel("auto", ratio=0.5)
    for _ in range(3):
        v = lam(torch.tensor(0.002), torch.tensor(4.0))
        assert v.item() == pytest.approx(1000.0, rel=1e-4)   # bias-corrected from the first step
    with pytest.raises(SkeletonCycleGANError): LambdaSkel("big")
    with pytest.raises(SkeletonCycleGANError): LambdaSkel(-1)
    assert LambdaSkel("auto", hi=50)(torch.tensor(1e-9), torch.tensor(1.0)).item() == 50


def test_lambda_auto_ratio_converges_on_a_small_problem():
    "A tiny G trained with an L1 term plus the logits skeleton term: λ·L_skel / L_other settles at the target ratio."
    torch.manual_seed(0)
    H = StandInH()
    x, y = blobs(), blobs(shift=(6, 3))
    cached_y = cached_of(H, y)
    G = init_weights(ResnetGenerator(ngf=4, n_blocks=1), generator=torch.Generator().manual_seed(0))
    opt = torch.optim.Adam(G.parameters(), 2e-3, betas=(0.5, 0.999))
    lam, ratios, others = LambdaSkel("auto", ratio=0.25, beta=0.9), [], []
    for _ in range(60):
        fake = G(x)
        other = 10 * F.l1_loss(fake, y)
        skel = skeleton_loss("logits", H, fake, cached_y)
        l = lam(skel, other)
        opt.zero_grad(); (other + l * skel).backward(); opt.step()
        ratios.append((l * skel / other).item()); others.append(other.item())
    assert others[-1] < 0.5 * others[0]                         # the problem does change scale while it learns
    tail = torch.tensor(ratios[-20:])
    # within 20% of the target: the running averages lag a little while the losses keep falling
    assert abs(tail.mean().item() - 0.25) < 0.05 and tail.std() < 0.05, ratios[-20:]


def test_lambda_state_dict_resumes_exactly():
    seq = [(torch.tensor(0.1 * (i + 1)), torch.tensor(2.0 + i % 3)) for i in range(10)]
    a = LambdaSkel("auto", ratio=0.4, beta=0.9)
    for s, o in seq[:5]: a(s, o)
    b = LambdaSkel("auto").load_state_dict(copy.deepcopy(a.state_dict()))
    for s, o in seq[5:]:
        assert a(s, o).item() == pytest.approx(b(s, o).item(), rel=1e-6)
    assert LambdaSkel(3.0).load_state_dict(LambdaSkel(3.0).state_dict()).value == 3.0


# ---- the generator objective ----------------------------------------------------------------------------

def _nets():
    gen = torch.Generator().manual_seed(0)
    G, Fn = (init_weights(ResnetGenerator(ngf=4, n_blocks=1), generator=gen) for _ in range(2))
    D_A, D_B = (init_weights(PatchDiscriminator(ndf=4), generator=gen).requires_grad_(False) for _ in range(2))
    return G, Fn, D_A, D_B


def test_generator_loss_terms_switch_off():
    H = StandInH()
    x, y = blobs(), blobs(shift=(5, 5))
    cA, cB = cached_of(H, x), cached_of(H, y)
    G, Fn, D_A, D_B = _nets()
    full = generator_loss(G, Fn, D_A, D_B, x, y, H=H, skeleton="logits", lambda_skel=2.0, lambda_idt=0.5, cached_A=cA, cached_B=cB)
    assert set(full.terms) == {"gan_G", "gan_F", "cyc_A", "cyc_B", "idt_A", "idt_B", "skel_G", "skel_F"}
    t = full.terms
    expect = t["gan_G"] + t["gan_F"] + 10 * (t["cyc_A"] + t["cyc_B"]) + 5 * (t["idt_A"] + t["idt_B"]) + 2 * (t["skel_G"] + t["skel_F"])
    assert full.total.item() == pytest.approx(expect.item(), rel=1e-5)
    assert full.fake_B.shape == x.shape and full.fake_A.shape == y.shape
    # the per-direction skeleton terms equal the single-direction calls
    assert t["skel_G"].item() == pytest.approx(skeleton_loss("logits", H, full.fake_B, cA).item(), rel=1e-5)
    # the paper's objective by default: no identity
    assert not {"idt_A", "idt_B"} & set(generator_loss(G, Fn, D_A, D_B, x, y).terms)
    assert set(generator_loss(G, Fn, D_A, D_B, x, y, lambda_cyc=0, skeleton=None).terms) == {"gan_G", "gan_F"}
    assert "skel_G" not in generator_loss(G, Fn, D_A, D_B, x, y, H=H, lambda_skel=0.0, cached_A=cA, cached_B=cB).terms
    assert "skel_G" not in generator_loss(G, Fn, D_A, D_B, x, y, H=None).terms
    with pytest.raises(SkeletonCycleGANError, match="cached_A, cached_B"):
        generator_loss(G, Fn, D_A, D_B, x, y, H=H, skeleton="paper")


def test_generator_loss_gradients_reach_G_and_F_never_H_or_frozen_D():
    H = StandInH()
    x, y = blobs(), blobs(shift=(5, 5))
    G, Fn, D_A, D_B = _nets()
    lam = LambdaSkel("auto")
    out = generator_loss(G, Fn, D_A, D_B, x, y, H=H, skeleton="coords", lambda_skel=lam,
                         cached_A=cached_of(H, x), cached_B=cached_of(H, y))
    out.total.backward()
    assert all(p.grad is not None for net in (G, Fn) for p in net.parameters())
    assert H.scale.grad is None and all(p.grad is None for d in (D_A, D_B) for p in d.parameters())
    assert float(out.lambda_skel) == pytest.approx(lam.value) and lam.steps == 1


def test_cached_from_batch():
    b = dict(hx=1, lx=2, vx=3, hy=4, ly=5, vy=6)
    assert cached_from_batch(b, "y") == dict(logits=4, landmarks=5, visibility=6)
    with pytest.raises(SkeletonCycleGANError, match="UnpairedDataset"):
        cached_from_batch(dict(hx=1), "x")


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
    from skeleton_cyclegan.synthetic import APPEARANCE_A, forward_kinematics, render
    kp, depth = forward_kinematics({"sh_abd_l": shoulder, "sh_abd_r": 0.3}, APPEARANCE_A.body)
    return to_tensor(render(kp[0], APPEARANCE_A, size, depth[0]))


def test_real_H_zero_for_identical_and_grows_as_an_arm_moves(real_H):
    angles = [1.2, 1.0, 0.6, 0.1]   # x has the arm at 1.2 rad; the "fakes" lower it further and further
    imgs = torch.cat([_figure(256, a) for a in angles])
    with torch.no_grad():
        pred = run_H(real_H, imgs)
    cached = {k: getattr(pred, a)[:1].expand(len(angles), *getattr(pred, a).shape[1:])
              for k, a in (("logits", "heatmap_logits"), ("landmarks", "landmarks"), ("visibility", "visibility"))}
    for name in FORMS:
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


def test_generator_objective_traces_without_graph_breaks():
    "torch.compile can take the whole G step (networks, LSGAN, cycle, skeleton form, automatic λ) as one graph."
    H = StandInH()
    x, y = blobs(), blobs(shift=(5, 5))
    cA, cB = cached_of(H, x), cached_of(H, y)
    G, Fn, D_A, D_B = _nets()
    lam = LambdaSkel("auto")
    lam(torch.tensor(1.0), torch.tensor(1.0))   # past the first-call branch, as in a running loop
    torch._dynamo.reset()
    step = lambda a, b: generator_loss(G, Fn, D_A, D_B, a, b, H=H, skeleton="logits", lambda_skel=lam,
                                       cached_A=cA, cached_B=cB).total
    t = time.time()
    ex = torch._dynamo.explain(step)(x, y)
    assert ex.graph_break_count == 0, ex.break_reasons
    print(f"traced in {time.time() - t:.1f} s")


def test_retarget_points_draws_the_pose_with_the_other_build():
    "On exact synthetic keypoints, x's pose retargeted to B's measured build lands on the ground-truth retargeting."
    from skeleton_cyclegan.evaluate import pose_metrics
    from skeleton_cyclegan.losses import body_build, retarget_points
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
