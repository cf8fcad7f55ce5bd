"Loss terms of the paper: LSGAN, cycle, identity, the skeleton-loss registry and eq. 5, λ_skel auto-balancing, eq. 6."
import copy
import time

import pytest
import torch
import torch.nn.functional as F

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.losses import (SKELETON_LOSSES, LambdaSkel, Objective, SkeletonTerm, cycle_loss, generator_loss,
                                      identity_loss, lsgan_d_loss, lsgan_g_loss, register_skeleton_loss, skeleton_loss,
                                      skeleton_loss_from)
from skeleton_cyclegan.networks import PatchDiscriminator, ResnetGenerator, init_weights
from stand_ins import Const, StandInH, blobs, cached_of, nets, pose_out

torch.set_num_threads(min(2, torch.get_num_threads()))


# ---- GAN, cycle, identity --------------------------------------------------------------------------

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


# ---- the skeleton-loss registry and eq. 5 -----------------------------------------------------------

def test_registry_rejects_unknown_names():
    H, x = StandInH(), blobs()
    assert "paper" in SKELETON_LOSSES
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


def test_paper_zero_for_identical_inputs_and_grows_with_displacement():
    H, x = StandInH(), blobs()
    cached = cached_of(H, x)
    assert skeleton_loss("paper", H, x, cached).item() == 0.0
    vals = [skeleton_loss("paper", H, blobs(shift=(d, d / 2)), cached).item() for d in (0, 1, 2, 3, 6, 12)]
    assert vals[0] < vals[1] < vals[2] < vals[3], vals
    assert vals[3] <= vals[4] * 1.001 and vals[4] <= vals[5] * 1.001, vals


def test_paper_gradients_reach_the_generator_never_H():
    H = StandInH()
    G = init_weights(ResnetGenerator(ngf=4, n_blocks=1), generator=torch.Generator().manual_seed(0))
    skeleton_loss("paper", H, G(blobs()), cached_of(H, blobs(shift=(4, 0)))).backward()
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
        v = skeleton_loss("paper", H, x.bfloat16(), cached)
    assert H.seen_dtypes[-1] == torch.float32 and v.dtype == torch.float32


def test_bad_cached_input_is_a_clear_error():
    H, x = StandInH(), blobs()
    with pytest.raises(SkeletonCycleGANError, match="cached H outputs"):
        skeleton_loss("paper", H, x, dict(landmarks=cached_of(H, x)["landmarks"]))
    c = cached_of(H, torch.cat([x, x]))    # batch 2 for a batch-1 fake
    with pytest.raises(SkeletonCycleGANError, match="expected batch 1"):
        skeleton_loss("paper", H, x, c)
    with pytest.raises(SkeletonCycleGANError, match="reduction"):
        skeleton_loss("paper", H, x, cached_of(H, x), reduction="sum")


def test_paper_form_is_eq5_on_sigmoid_heatmaps():
    a, b = torch.randn(2, 5, 64, 64) * 5, torch.randn(2, 5, 64, 64) * 5
    got = skeleton_loss_from("paper", pose_out(heatmap_logits=a), dict(logits=b), size=64, num_keypoints=3)
    assert got.item() == pytest.approx((a[:, :3].sigmoid() - b[:, :3].sigmoid()).abs().mean().item(), rel=1e-5)


# ---- λ_skel ---------------------------------------------------------------------------------------------

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
    "A tiny G trained with an L1 term plus the skeleton term of eq. 5: λ·L_skel / L_other settles at the target ratio."
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
        skel = skeleton_loss("paper", H, fake, cached_y)
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

def test_generator_loss_terms_switch_off():
    H = StandInH()
    x, y = blobs(), blobs(shift=(5, 5))
    cA, cB = cached_of(H, x), cached_of(H, y)
    G, Fn, D_A, D_B = nets()
    o = Objective(lambda_cyc=10.0, lambda_identity=0.5, skeleton=SkeletonTerm("paper"))
    full = generator_loss(G, Fn, D_A, D_B, x, y, o, H, cA, cB, lambda_skel=2.0)
    assert set(full.terms) == {"gan_G", "gan_F", "cyc_A", "cyc_B", "idt_A", "idt_B", "skel_G", "skel_F"}
    t = full.terms
    expect = (t["gan_G"] + t["gan_F"] + 10 * (t["cyc_A"] + t["cyc_B"]) + 5 * (t["idt_A"] + t["idt_B"])
              + 2 * (t["skel_G"] + t["skel_F"]))
    assert full.total.item() == pytest.approx(expect.item(), rel=1e-5)
    assert full.fake_B.shape == x.shape and full.fake_A.shape == y.shape
    # the per-direction skeleton terms equal the single-direction calls
    assert t["skel_G"].item() == pytest.approx(skeleton_loss("paper", H, full.fake_B, cA).item(), rel=1e-5)
    # the paper's objective by default: no identity, no skeleton term unless one is given
    assert not {"idt_A", "idt_B"} & set(generator_loss(G, Fn, D_A, D_B, x, y, Objective()).terms)
    assert set(generator_loss(G, Fn, D_A, D_B, x, y, Objective(lambda_cyc=0)).terms) == {"gan_G", "gan_F"}
    assert "skel_G" not in generator_loss(G, Fn, D_A, D_B, x, y, o, H, cA, cB, lambda_skel=0.0).terms
    assert "skel_G" not in generator_loss(G, Fn, D_A, D_B, x, y, o, None).terms
    with pytest.raises(SkeletonCycleGANError, match="cached_x, cached_y"):
        generator_loss(G, Fn, D_A, D_B, x, y, o, H)


def test_generator_loss_gradients_reach_G_and_F_never_H_or_frozen_D():
    H = StandInH()
    x, y = blobs(), blobs(shift=(5, 5))
    G, Fn, D_A, D_B = nets()
    lam = LambdaSkel("auto")
    out = generator_loss(G, Fn, D_A, D_B, x, y, Objective(skeleton=SkeletonTerm("paper")), H, cached_of(H, x),
                         cached_of(H, y), lambda_skel=lam)
    out.total.backward()
    assert all(p.grad is not None for net in (G, Fn) for p in net.parameters())
    assert H.scale.grad is None and all(p.grad is None for d in (D_A, D_B) for p in d.parameters())
    assert float(out.lambda_skel) == pytest.approx(lam.value) and lam.steps == 1


def test_generator_objective_traces_without_graph_breaks():
    "torch.compile can take the whole G step (networks, LSGAN, cycle, skeleton term, automatic λ) as one graph."
    H = StandInH()
    x, y = blobs(), blobs(shift=(5, 5))
    cA, cB = cached_of(H, x), cached_of(H, y)
    G, Fn, D_A, D_B = nets()
    lam = LambdaSkel("auto")
    lam(torch.tensor(1.0), torch.tensor(1.0))   # past the first-call branch, as in a running loop
    o = Objective(skeleton=SkeletonTerm("paper"))
    torch._dynamo.reset()
    step = lambda a, b: generator_loss(G, Fn, D_A, D_B, a, b, o, H, cA, cB, lambda_skel=lam).total
    t = time.time()
    ex = torch._dynamo.explain(step)(x, y)
    assert ex.graph_break_count == 0, ex.break_reasons
    print(f"traced in {time.time() - t:.1f} s")
