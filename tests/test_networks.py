"Generators and discriminators: the reference's architecture (parameter counts), shapes, init, channels_last, torch.compile."
import shutil

import pytest
import torch
from torch import nn

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.networks import (InstanceNorm, PatchDiscriminator, ResnetGenerator, count_params, cyclegan_networks,
                                        default_n_blocks, init_weights, receptive_field, to_channels_last)

torch.set_num_threads(min(2, torch.get_num_threads()))


def _seeded(net, seed=0):
    return init_weights(net, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("n_blocks,expected", [(9, 11_378_179), (6, 7_837_699)])
def test_generator_param_count_equals_reference(n_blocks, expected):
    assert count_params(ResnetGenerator(n_blocks=n_blocks)) == expected


def test_discriminator_param_count_equals_reference():
    assert count_params(PatchDiscriminator()) == 2_764_737


def test_layers_are_the_reference_layers():
    G = ResnetGenerator(n_blocks=1)
    kinds = {type(m) for m in G.modules()}
    assert nn.ReflectionPad2d in kinds and nn.Tanh in kinds
    assert not kinds & {nn.BatchNorm2d, nn.Dropout, nn.ZeroPad2d}
    norms = [m for m in G.modules() if isinstance(m, InstanceNorm)]
    assert len(norms) == 1 + 2 + 2 * 1 + 2 and not any(True for n in norms for _ in n.parameters())
    assert all(m.bias is not None for m in G.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    D = PatchDiscriminator()
    assert not isinstance(D.model[-1], nn.Sigmoid)   # LSGAN takes raw scores
    assert isinstance(D.model[1], nn.LeakyReLU)  # no norm on the first layer


@pytest.mark.parametrize("size,d_side", [(64, 6), (128, 14), (256, 30)])
def test_shapes(size, d_side):
    G = _seeded(ResnetGenerator(ngf=8, n_blocks=default_n_blocks(size)))
    D = _seeded(PatchDiscriminator(ndf=8))
    x = torch.rand(2, 3, size, size) * 2 - 1
    with torch.no_grad():
        y = G(x)
        s = D(y)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert s.shape == (2, 1, d_side, d_side)


def test_full_size_shapes_256():
    G, D = _seeded(ResnetGenerator()), _seeded(PatchDiscriminator())
    with torch.no_grad():
        s = D(G(torch.zeros(1, 3, 256, 256)))
    assert s.shape == (1, 1, 30, 30)


def test_bad_input_raises_clear_error():
    G, D = ResnetGenerator(ngf=4, n_blocks=1), PatchDiscriminator(ndf=4)
    with pytest.raises(SkeletonCycleGANError, match="multiples of 4"):
        G(torch.zeros(1, 3, 30, 30))
    with pytest.raises(SkeletonCycleGANError, match=r"\(B, 3, H, W\)"):
        G(torch.zeros(1, 1, 32, 32))
    with pytest.raises(SkeletonCycleGANError):
        D(torch.zeros(3, 32, 32))
    with pytest.raises(SkeletonCycleGANError):
        ResnetGenerator(n_blocks=-1)


def test_init_is_normal_002_with_zero_bias_and_reproducible():
    a = _seeded(ResnetGenerator(ngf=16, n_blocks=2), seed=3)
    b = _seeded(ResnetGenerator(ngf=16, n_blocks=2), seed=3)
    w = torch.cat([m.weight.flatten() for m in a.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))])
    assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3
    assert all(m.bias.abs().max() == 0 for m in a.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    for p, q in zip(a.parameters(), b.parameters()): assert torch.equal(p, q)


def test_instance_norm_equals_torch_and_has_right_gradients_channels_last():
    x = torch.randn(1, 8, 12, 12)
    torch.testing.assert_close(InstanceNorm(8)(x), nn.InstanceNorm2d(8)(x), rtol=1e-5, atol=1e-5)
    gy = torch.randn(1, 8, 12, 12)
    ref = x.double().requires_grad_()
    nn.InstanceNorm2d(8)(ref).backward(gy.double())
    for x_fmt in (torch.contiguous_format, torch.channels_last):
        for g_fmt in (torch.contiguous_format, torch.channels_last):
            t = x.clone(memory_format=x_fmt).requires_grad_()
            InstanceNorm(8)(t).backward(gy.to(memory_format=g_fmt))
            torch.testing.assert_close(t.grad, ref.grad.float(), rtol=1e-4, atol=1e-5)


def test_receptive_field_is_70():
    assert receptive_field(PatchDiscriminator()) == 70
    assert [receptive_field(PatchDiscriminator(n_layers=n)) for n in (1, 2, 4)] == [16, 34, 142]


def test_receptive_field_matches_gradient_support():
    D = _seeded(PatchDiscriminator(ndf=8))
    D.model = nn.Sequential(*[nn.Identity() if isinstance(m, InstanceNorm) else m for m in D.model])
    x = torch.randn(1, 3, 128, 128, requires_grad=True)
    D(x)[0, 0, 6, 6].backward()
    rows, cols = x.grad[0].abs().sum(0).nonzero(as_tuple=True)
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def test_channels_last_same_result_and_gradients():
    "channels_last gives the same loss and the same parameter gradients (checked against float64)."
    import copy
    G = _seeded(ResnetGenerator(ngf=8, n_blocks=2))
    D = _seeded(PatchDiscriminator(ndf=8))
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))

    def run(G, D, x):
        out = D(G(x)).square().mean()
        out.backward()
        return out.item(), [p.grad for p in G.parameters()]

    ref, g_ref = run(copy.deepcopy(G).double(), copy.deepcopy(D).double(), x.double())
    to_channels_last(G, D)
    assert G.model[1].weight.is_contiguous(memory_format=torch.channels_last)
    out, g = run(G, D, x.to(memory_format=torch.channels_last))
    assert abs(out - ref) <= 1e-4 * abs(ref)
    for a, b in zip(g, g_ref):
        if b.ndim < 4: continue  # biases before a norm have gradient 0 (rounding noise only)
        assert (a.double() - b).abs().max() <= 1e-3 * b.abs().max() + 1e-9


def test_no_graph_breaks_under_dynamo():
    G = _seeded(ResnetGenerator(ngf=4, n_blocks=2))
    D = _seeded(PatchDiscriminator(ndf=4))
    x = torch.randn(1, 3, 32, 32)
    for net in (G, D):
        torch._dynamo.reset()
        ex = torch._dynamo.explain(net)(x)
        assert ex.graph_break_count == 0 and ex.graph_count == 1, ex.break_reasons


def _can_compile():
    "Why torch.compile cannot run on this platform, or None when it can."
    if shutil.which("g++") is None and shutil.which("c++") is None and shutil.which("clang++") is None:
        return "no C++ compiler on PATH (inductor needs one on CPU)"
    try:
        torch._dynamo.reset()
        torch.compile(lambda t: t.sin() + 1, fullgraph=True)(torch.zeros(4))
    except Exception as e:  # a platform problem (compiler, headers), not a bug of ours
        return f"torch.compile of a trivial function failed here: {type(e).__name__}: {str(e)[:200]}"
    return None


def test_compiles_fullgraph_on_cpu_and_matches_eager():
    reason = _can_compile()
    if reason: pytest.skip(reason)
    G = _seeded(ResnetGenerator(ngf=4, n_blocks=1))
    to_channels_last(G)
    x = torch.randn(1, 3, 32, 32).to(memory_format=torch.channels_last)
    torch._dynamo.reset()
    Gc = torch.compile(G, fullgraph=True)  # fullgraph: any graph break is an error
    # forward only: compiling the backward too doubles the time (~30 s on 2 cores); the training graph
    # is the same one dynamo traces in test_no_graph_breaks_under_dynamo
    with torch.no_grad():
        torch.testing.assert_close(Gc(x), G(x), rtol=1e-4, atol=1e-4)


def test_cyclegan_networks():
    nets = cyclegan_networks(128, ngf=8, ndf=8, seed=0)
    assert set(nets) == {"G", "F", "D_A", "D_B"}
    assert nets["G"].n_blocks == 6 and cyclegan_networks(256, ngf=8, ndf=8)["F"].n_blocks == 9
    # G and F start from different draws
    assert not torch.equal(nets["G"].model[1].weight, nets["F"].model[1].weight)
    again = cyclegan_networks(128, ngf=8, ndf=8, seed=0)
    assert torch.equal(nets["D_B"].model[0].weight, again["D_B"].model[0].weight)
