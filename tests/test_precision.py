"""Precision that fits the device: every branch of `amp=auto` (capability mocked), each CPU path trained a few steps,
the config's new speed settings and their flags."""
import argparse
import dataclasses
import json
import math

import pytest
import torch
from torch import nn

import skeleton_cyclegan.precision as P
from skeleton_cyclegan.config import TrainConfig, add_config_args, config_from_args, given_settings
from skeleton_cyclegan.checkpoint import RESUME_SETTINGS, check_resumable
from skeleton_cyclegan.core import SkeletonCycleGANError

CUDA = torch.device("cuda")   # never touched: only the mocked capability is asked


# ---- the rule

@pytest.mark.parametrize("cap, want", [((9, 0), "bf16"), ((8, 9), "bf16"), ((8, 0), "bf16"),
                                       ((7, 5), "fp16"), ((7, 0), "fp16"), ((6, 1), "fp16")])
def test_auto_on_cuda_follows_the_compute_capability(monkeypatch, cap, want):
    monkeypatch.setattr(P, "cuda_capability", lambda d: cap)
    assert P.resolve_amp("auto", CUDA) == want
    assert P.resolve_amp("auto", "cuda:1") == want


def test_cuda_capability_asks_torch(monkeypatch):
    seen = []
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda d=None: seen.append(d) or (7, 5))
    assert P.cuda_capability(CUDA) == (7, 5) and seen == [CUDA]
    assert P.resolve_amp("auto", CUDA) == "fp16"


@pytest.mark.parametrize("native, study, want", [(True, True, "bf16"), (True, False, "off"),
                                                 (False, True, "off"), (False, False, "off")])
def test_auto_on_cpu_needs_native_bf16_and_the_study(monkeypatch, native, study, want):
    monkeypatch.setattr(P, "cpu_native_bf16", lambda: native)
    monkeypatch.setattr(P, "CPU_BF16_AUTO", study)
    assert P.resolve_amp("auto", "cpu") == want
    assert P.resolve_amp("auto", torch.device("cpu")) == want


def test_cpu_bf16_auto_starts_off():
    assert P.CPU_BF16_AUTO is False   # flipped only from a study run that shows no pose-quality cost


@pytest.mark.parametrize("device", ["cpu", CUDA])
def test_explicit_precisions_pass_through(monkeypatch, device):
    monkeypatch.setattr(P, "cuda_capability", lambda d: pytest.fail("an explicit amp needs no capability"))
    for amp in ("bf16", "fp16", "off"): assert P.resolve_amp(amp, device) == amp


def test_bad_amp_and_unresolved_dtype_are_one_clear_line():
    with pytest.raises(SkeletonCycleGANError, match="amp='fp8': choose one of auto, bf16, fp16, off"):
        P.resolve_amp("fp8", "cpu")
    with pytest.raises(SkeletonCycleGANError, match="resolve_amp"): P.amp_dtype("auto")
    assert [P.amp_dtype(a) for a in ("bf16", "fp16", "off")] == [torch.bfloat16, torch.float16, torch.float32]


def test_cpu_native_bf16_reads_the_cpu_flags(monkeypatch):
    "Without torch's probes, the kernel's flags decide (AVX512-BF16 or AMX); the answer is cached."
    for n in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"): monkeypatch.delattr(torch.cpu, n, raising=False)
    for flags, want in [({"avx512f", "avx512_bf16"}, True), ({"amx_bf16"}, True), ({"avx512f", "avx2"}, False)]:
        monkeypatch.setattr(P, "_cpu_flags", lambda flags=flags: flags)
        P.cpu_native_bf16.cache_clear()
        assert P.cpu_native_bf16() is want
    P.cpu_native_bf16.cache_clear()
    monkeypatch.undo()
    assert isinstance(P.cpu_native_bf16(), bool)


# ---- Precision on the CPU

def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.InstanceNorm2d(8), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1))


def _train(amp, steps=8):
    net, prec = _net(), P.Precision(amp, "cpu")
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    w0 = [p.detach().clone() for p in net.parameters()]
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        with prec.autocast(): out = net(x)
        loss = (out.float() - x.flip(-1)).abs().mean()
        prec.backward(loss); prec.step(opt); prec.update()
        losses.append(loss.item())
    return prec, net, out, losses, w0


@pytest.mark.parametrize("amp, dtype", [("off", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)])
def test_each_cpu_path_trains(amp, dtype):
    prec, net, out, losses, w0 = _train(amp)
    assert out.dtype == dtype and prec.dtype == dtype and prec.amp == amp
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0], losses
    assert all(torch.isfinite(p).all() for p in net.parameters())
    assert any(not torch.equal(p, q) for p, q in zip(net.parameters(), w0))
    assert (prec.scaler is not None) == (amp == "fp16") and prec.graphable == (amp != "fp16")


def test_fp16_scaler_scales_the_gradients_and_unscales_them_on_step():
    net, prec = _net(), P.Precision("fp16", "cpu")
    prec.scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    ref = _net()
    x = torch.randn(1, 3, 8, 8)
    with prec.autocast(): loss = net(x).float().mean()
    prec.backward(loss)
    ref(x).mean().backward()
    g, r = net[0].weight.grad, ref[0].weight.grad
    assert torch.allclose(g / 1024.0, r, rtol=0.05, atol=1e-3)            # backward leaves the scaled gradients
    opt = torch.optim.SGD(net.parameters(), lr=0.0)
    prec.step(opt)
    assert torch.allclose(net[0].weight.grad, r, rtol=0.05, atol=1e-3)    # step unscaled them first
    prec.update()
    assert prec.scaler.get_scale() == 1024.0                              # a clean step keeps the scale


def test_fp16_inf_gradient_skips_the_step_and_shrinks_the_scale():
    net, prec = _net(), P.Precision("fp16", "cpu")
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    w0 = [p.detach().clone() for p in net.parameters()]
    scale0 = prec.scaler.get_scale()
    with prec.autocast(): loss = net(torch.randn(1, 3, 8, 8)).float().mean()
    prec.backward(loss * float("inf"))
    prec.step(opt); prec.update()
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), w0))   # skipped
    assert prec.scaler.get_scale() == scale0 / 2


def test_state_dict_round_trips_the_scaler(tmp_path):
    prec = _train("fp16", steps=2)[0]
    prec.load_state_dict({**prec.state_dict(), "scale": 256.0, "_growth_tracker": 7})
    st = prec.state_dict()
    assert (st["scale"], st["_growth_tracker"]) == (256.0, 7)
    torch.save({"precision": st}, tmp_path / "c.pt")
    st = torch.load(tmp_path / "c.pt", weights_only=True)["precision"]   # numbers only: loads without code
    other = P.Precision("fp16", "cpu")
    other.load_state_dict(st)
    assert other.scaler.get_scale() == 256.0 and other.state_dict() == prec.state_dict()
    for amp in ("bf16", "off"):
        p = P.Precision(amp, "cpu")
        assert p.state_dict() is None
        p.load_state_dict(st)                       # an fp16 run resumed in another precision: the scaler is ignored
    other.load_state_dict(None)                     # a bf16 run resumed in fp16: a fresh scaler
    assert other.scaler.get_scale() == 256.0


def test_off_is_float32_even_inside_another_autocast():
    with torch.autocast("cpu", dtype=torch.bfloat16), P.Precision("off", "cpu").autocast():
        assert nn.Linear(2, 2)(torch.ones(1, 2)).dtype == torch.float32


def test_precision_auto_resolves_for_its_device(monkeypatch):
    monkeypatch.setattr(P, "CPU_BF16_AUTO", True)
    monkeypatch.setattr(P, "cpu_native_bf16", lambda: True)
    assert P.Precision("auto", "cpu").amp == "bf16"
    monkeypatch.setattr(P, "CPU_BF16_AUTO", False)
    assert P.Precision("auto", "cpu").amp == "off"


# ---- the config

def test_config_resolves_the_speed_settings(monkeypatch):
    r = TrainConfig(size=64).resolved("cpu")
    assert (r.amp, r.cuda_graphs, r.data_on_device, r.time_budget) == ("off", False, False, None)
    monkeypatch.setattr(P, "cuda_capability", lambda d: (7, 5))
    c = TrainConfig(size=64, time_budget=12.5).resolved("cuda:0")
    assert (c.amp, c.cuda_graphs, c.data_on_device, c.time_budget) == ("fp16", True, True, 12.5)
    monkeypatch.setattr(P, "cuda_capability", lambda d: (9, 0))
    c = TrainConfig(size=64, cuda_graphs=False, data_on_device=False).resolved("cuda:0")
    assert (c.amp, c.cuda_graphs, c.data_on_device) == ("bf16", False, False)
    assert c.resolved("cuda:0") == c


@pytest.mark.parametrize("flags, says", [
    (dict(amp="fp8"), "amp='fp8': choose auto, bf16, fp16 or off."),
    (dict(time_budget=0), "time_budget=0: give the minutes for the run"),
    (dict(time_budget=-3.0), "time_budget=-3.0: give the minutes"),
    (dict(time_budget=float("nan")), "time_budget=nan: give the minutes"),
    (dict(time_budget=float("inf")), "time_budget=inf: give the minutes"),
    (dict(cuda_graphs="maybe"), "cuda_graphs='maybe': give true, false or auto."),
])
def test_config_refuses_bad_speed_settings(flags, says):
    with pytest.raises(SkeletonCycleGANError) as e: TrainConfig(**flags)
    assert says in str(e.value)


def test_config_takes_strings_for_the_new_settings():
    c = TrainConfig(time_budget="5", cuda_graphs="no", data_on_device="auto")
    assert (c.time_budget, c.cuda_graphs, c.data_on_device) == (5.0, False, None)


def test_an_old_config_without_the_new_settings_loads(tmp_path):
    old = dataclasses.asdict(TrainConfig(size=64, amp="bf16").resolved("cpu"))
    for k in ("cuda_graphs", "data_on_device", "time_budget"): del old[k]
    (tmp_path / "config.json").write_text(json.dumps(old))
    c = TrainConfig.load(tmp_path / "config.json")
    assert (c.amp, c.cuda_graphs, c.data_on_device, c.time_budget) == ("bf16", None, None, None)
    assert c.resolved("cpu").cuda_graphs is False


def test_the_speed_settings_never_block_a_resume():
    assert not {"amp", "cuda_graphs", "data_on_device", "time_budget"} & set(RESUME_SETTINGS)
    shapes = dict(size=64, ngf=8, n_blocks=1, ndf=8, n_layers_D=2)
    saved = {"config": dataclasses.asdict(TrainConfig(**shapes, amp="bf16", cuda_graphs=True, time_budget=30))}
    check_resumable(saved, TrainConfig(**shapes, amp="fp16", cuda_graphs=False, data_on_device=True,
                                       time_budget=5).resolved("cpu"), "run/checkpoint.pt")


def test_cli_flags_for_the_speed_settings():
    p = add_config_args(argparse.ArgumentParser())
    a = p.parse_args(["--amp", "fp16", "--cuda-graphs", "--data-on-device", "--time-budget", "5"])
    assert given_settings(a) == dict(amp="fp16", cuda_graphs=True, data_on_device=True, time_budget=5.0)
    c = config_from_args(p.parse_args(["--no-cuda-graphs", "--data-on-device", "false", "--time-budget", "auto"]))
    assert (c.cuda_graphs, c.data_on_device, c.time_budget) == (False, False, None)
    assert config_from_args(p.parse_args(["--cuda-graphs", "auto", "--size", "64"])).cuda_graphs is None
    # the older yes/no settings keep their values and gain the same short forms
    assert given_settings(p.parse_args(["--channels-last", "no", "--skel-retarget"])) == dict(
        channels_last=False, skel_retarget=True)
    assert given_settings(p.parse_args(["--no-channels-last"])) == dict(channels_last=False)
    with pytest.raises(SystemExit): p.parse_args(["--amp", "fp8"])
    with pytest.raises(SystemExit): p.parse_args(["--time-budget", "soon"])
    assert "--no-cuda-graphs" in p.format_help() and "auto|bf16|fp16|off" in p.format_help()
