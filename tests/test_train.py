"""The training loop at tiny sizes (64², ngf 8, one residual block): config and flags, exact resume, a kill -9
while a checkpoint is written, the NaN guard, outputs and callbacks, bf16 on CPU, the CLI, and DDP with gloo."""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError

torch.set_num_threads(min(2, torch.get_num_threads()))
T = pytest.importorskip("skeleton_cyclegan.train")
C = pytest.importorskip("skeleton_cyclegan.checkpoint")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def H():
    from skeleton_cyclegan.pose import blazepose
    try: return blazepose(device="cpu")
    except SkeletonCycleGANError as e: pytest.skip(f"BlazePose model file not available here: {e}")


def _frames(n, size, seed):
    "Smooth random colour fields (uint8, n×size×size×3)."
    low = torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, 3, 4, 4)).astype(np.float32))
    up = torch.nn.functional.interpolate(low, size=(size, size), mode="bicubic", align_corners=False)
    return up.clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, H):
    "Two prepared datasets of 4 frames at 64² with cached H(real), written by the data component."
    from skeleton_cyclegan.folder import write_prepared
    d = tmp_path_factory.mktemp("prepared")
    for name, seed in (("A", 0), ("B", 1)):
        write_prepared(d / name, _frames(4, 64, seed), None, None, np.zeros((4, 3), np.float32), {}, H=H, progress=False)
    return d / "A", d / "B"


def _ds(prepared, **kw):
    from skeleton_cyclegan.data import UnpairedDataset
    return UnpairedDataset(*prepared, size=64, load_size=72, **kw)


def tiny(**kw):
    base = dict(size=64, load_size=72, ngf=8, ndf=8, n_blocks=1, n_layers_D=2, pool_size=2, max_iters=4,
                log_every=1, sample_every=0, checkpoint_every=100)
    return T.TrainConfig(**{**base, **kw})


def _log(run):
    return [json.loads(l) for l in (Path(run) / "losses.jsonl").read_text().splitlines() if l.strip()]


# ---- config

def test_config_defaults_are_the_papers():
    c = T.TrainConfig()
    assert (c.size, c.resolved("cpu").n_blocks, c.batch_size, c.lr, c.beta1, c.beta2) == (256, 9, 1, 2e-4, 0.5, 0.999)
    assert (c.n_epochs, c.n_epochs_decay, c.pool_size, c.lambda_cyc, c.lambda_identity) == (100, 100, 50, 10.0, 0.0)
    assert c.lambda_skel is None and c.skeleton_on
    assert c.skel_loss == "coords"   # not the paper's eq. 5 (`paper`): see study/REPORT.md
    with pytest.raises(SkeletonCycleGANError): T.TrainConfig(amp="fp8")
    with pytest.raises(SkeletonCycleGANError): T.TrainConfig(batch_size=0)


def test_config_json_roundtrip_and_every_field_has_a_flag(tmp_path):
    import argparse, dataclasses
    from skeleton_cyclegan.config import add_config_args, config_from_args
    c = T.TrainConfig(size=128, lambda_skel=3.0, max_iters=9, flip=False, device="cpu")
    c.save(tmp_path / "c.json")
    assert T.TrainConfig.load(tmp_path / "c.json") == c
    p = add_config_args(argparse.ArgumentParser())
    flags = {s for a in p._actions for s in a.option_strings}
    for f in dataclasses.fields(T.TrainConfig):
        assert "--" + f.name.replace("_", "-") in flags, f.name
    a = p.parse_args(["--size", "128", "--lambda-skel", "3", "--max-iters", "9", "--no-flip", "--device", "cpu"])
    assert config_from_args(a) == c
    assert config_from_args(p.parse_args(["--channels-last", "no"])).channels_last is False
    (tmp_path / "bad.json").write_text(json.dumps({"size": 64, "no_such_field": 1}))
    with pytest.raises(SkeletonCycleGANError, match="does not know"): T.TrainConfig.load(tmp_path / "bad.json")


def test_lr_schedule_matches_the_reference():
    # 100 epochs constant, then linear decay over 100 (reference: 1 - max(0, epoch + 1 - 100) / 101)
    assert T.lr_factor(99, 200, 100, 100) == 1.0
    assert T.lr_factor(100, 200, 100, 100) == pytest.approx(1 - 1 / 101)
    assert T.lr_factor(199, 200, 100, 100) == pytest.approx(1 / 101)
    assert T.lr_factor(50, 100, 100, 100) == pytest.approx(1 - 1 / 101)  # a budget squeezes the same shape


def test_image_pool_state_roundtrip():
    pool = T.ImagePool(3, seed=0)
    for i in range(5): pool.query(torch.full((2, 3, 4, 4), float(i)))
    p2 = T.ImagePool(); p2.load_state_dict(pool.state_dict())
    q = torch.randn(4, 3, 4, 4)
    assert torch.equal(pool.query(q), p2.query(q))
    assert T.ImagePool(0).query(q) is not None and torch.equal(T.ImagePool(0).query(q), q)


# ---- training

def test_resume_is_exact_and_outputs_are_written(tmp_path, prepared, H):
    ds = _ds(prepared)
    cfg = tiny(sample_every=2, checkpoint_every=2)
    seen = {"it": [], "sample": [], "ckpt": []}

    class CB(T.Callback):
        def on_iteration(self, tr, it, losses): seen["it"].append(it)
        def on_sample(self, tr, it, grid, path): seen["sample"].append((it, grid.shape, path.exists()))
        def on_checkpoint(self, tr, it, path): seen["ckpt"].append(it)

    T.Trainer(cfg, ds, tmp_path / "full", H=H, callbacks=[CB()], progress=False).fit()
    assert seen["it"] == [1, 2, 3, 4] and seen["ckpt"] == [2, 4]
    assert [s[0] for s in seen["sample"]] == [2, 4] and seen["sample"][0][1] == (128, 192, 3) and seen["sample"][0][2]
    run = tmp_path / "full"
    for f in ("config.json", "checkpoint.pt", "generators.pt", "losses.png", "samples/iter_0000002.png"):
        assert (run / f).is_file(), f
    log = _log(run)
    assert [r["iteration"] for r in log] == [1, 2, 3, 4]
    for k in ("gan_G", "gan_F", "cyc_A", "cyc_B", "skel_G", "skel_F", "lambda_skel", "skel_weighted", "D_A", "D_B"):
        assert all(np.isfinite(r[k]) for r in log), k
    assert log[0]["skel_weighted"] == pytest.approx(log[0]["lambda_skel"] * (log[0]["skel_G"] + log[0]["skel_F"]), rel=1e-4)
    # interrupted after 2 iterations (a stop request), the RNGs disturbed, then resumed
    T.Trainer(cfg, ds, tmp_path / "cut", H=H, callbacks=[T.StopAfter(2)], progress=False).fit()
    assert len(_log(tmp_path / "cut")) == 2 and not (tmp_path / "cut" / "generators.pt").exists()
    torch.rand(7); np.random.rand(3)
    tr = T.Trainer(cfg, _ds(prepared), tmp_path / "cut", H=H, resume=True, progress=False)
    assert tr.iteration == 2
    tr.fit()
    assert _log(tmp_path / "cut") == log
    # or continued in the same process after clear_stop()
    tr = T.Trainer(cfg, _ds(prepared), tmp_path / "again", H=H, callbacks=[T.StopAfter(2)], progress=False)
    tr.fit(); assert tr.iteration == 2
    tr.callbacks.clear(); tr.clear_stop(); tr.fit()
    assert tr.iteration == 4 and _log(tmp_path / "again") == log
    # the checkpoint holds everything and needs no code to load
    ck = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=True)
    for k in ("G", "F", "D_A", "D_B", "opt_G", "opt_D", "sched_G", "sched_D", "pool_A", "pool_B", "rng", "config", "iteration", "balancer"):
        assert k in ck, k
    assert ck["iteration"] == 4 and ck["config"]["ngf"] == 8
    from skeleton_cyclegan.checkpoint import load_generators
    G, F, gc = load_generators(run)
    assert gc == {"size": 64, "ngf": 8, "n_blocks": 1}
    assert torch.equal(G.state_dict()["model.1.weight"], ck["G"]["model.1.weight"])


def test_recomputing_H_real_gives_the_same_losses_as_the_cache(tmp_path, prepared, H):
    # no jitter or flip: the cached H(x) is then exactly H of the training image (float16 cache aside)
    ds = _ds(prepared, flip=False)
    ds.load_size = 64
    a = T.Trainer(tiny(max_iters=1, load_size=64, flip=False), ds, tmp_path / "a", H=H, progress=False).fit()
    b = T.Trainer(tiny(max_iters=1, load_size=64, flip=False, cache_h_real=False), ds, tmp_path / "b", H=H, progress=False).fit()
    assert a[0]["skel_G"] == pytest.approx(b[0]["skel_G"], rel=1e-2, abs=1e-4)
    assert a[0]["cyc_A"] == pytest.approx(b[0]["cyc_A"], rel=1e-4)


def test_bf16_autocast_on_cpu_runs_and_keeps_H_in_float32(tmp_path, prepared, H):
    seen = []
    h = H.register_forward_pre_hook(lambda m, args: seen.append(args[0].dtype))
    try:
        hist = T.Trainer(tiny(max_iters=1, amp="bf16"), _ds(prepared), tmp_path / "r", H=H, progress=False).fit()
    finally: h.remove()
    assert seen and set(seen) == {torch.float32}
    assert all(np.isfinite(r["G_total"]) for r in hist)


def test_nan_guard_stops_clearly_and_keeps_the_last_good_checkpoint(tmp_path, prepared):
    class Poisoned(torch.utils.data.Dataset):
        def __init__(self, ds): self.ds, self.calls = ds, 0
        def __len__(self): return len(self.ds)
        def __getitem__(self, i):
            self.calls += 1
            d = self.ds[i]
            if self.calls >= 4: d["x"] = d["x"] * float("nan")   # from the 4th iteration on
            return d
    cfg = tiny(lambda_skel=0.0, checkpoint_every=2, max_iters=6)
    with pytest.raises(T.NonFiniteLossError, match="iteration 4") as e:
        T.Trainer(cfg, Poisoned(_ds(prepared)), tmp_path / "r", progress=False).fit()
    assert isinstance(e.value, SkeletonCycleGANError) and "checkpoint" in str(e.value)
    assert C.load_checkpoint(tmp_path / "r" / "checkpoint.pt")["iteration"] == 2
    assert all(np.isfinite(v) for r in _log(tmp_path / "r") for k, v in r.items() if k != "iteration")


def test_corrupt_or_foreign_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SkeletonCycleGANError, match="not a readable checkpoint"): C.load_checkpoint(tmp_path / "checkpoint.pt")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(SkeletonCycleGANError, match="not a"): C.load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(SkeletonCycleGANError, match="no checkpoint"): C.load_checkpoint(tmp_path / "missing.pt")


KILL_WORKER = textwrap.dedent('''
    import sys, time, torch
    from pathlib import Path
    torch.set_num_threads(1)
    import skeleton_cyclegan.train as T
    from skeleton_cyclegan.checkpoint import CHECKPOINT_FORMAT
    from skeleton_cyclegan.data import UnpairedDataset
    A, B, out = sys.argv[1:4]
    real_save, calls = torch.save, [0]
    def slow_save(obj, f, *a, **k):
        real_save(obj, f, *a, **k)
        if isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT:
            calls[0] += 1
            if calls[0] == 2:                        # the second checkpoint: leave it half-written and wait to be killed
                if hasattr(f, "flush"): f.flush(); f = f.name   # written through an open file (save_checkpoint)
                size = Path(f).stat().st_size
                with open(f, "r+b") as fh: fh.truncate(size // 2)
                Path(out, "WRITING").touch()
                time.sleep(300)
    torch.save = slow_save
    cfg = T.TrainConfig(size=64, load_size=72, ngf=8, ndf=8, n_blocks=1, n_layers_D=2, pool_size=2, max_iters=4,
                        log_every=1, sample_every=0, checkpoint_every=2, lambda_skel=0.0)
    T.Trainer(cfg, UnpairedDataset(A, B, size=64, load_size=72), out, progress=False).fit()
''')


def test_kill_9_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, prepared):
    out = tmp_path / "run"
    out.mkdir()
    (tmp_path / "worker.py").write_text(KILL_WORKER)
    p = subprocess.Popen([sys.executable, str(tmp_path / "worker.py"), *map(str, prepared), str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        t0 = time.time()
        while not (out / "WRITING").exists():
            assert p.poll() is None, p.stdout.read().decode()[-3000:]
            assert time.time() - t0 < 600, "the worker never reached its second checkpoint"
            time.sleep(0.2)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(30)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == -signal.SIGKILL
    assert list(out.glob(".checkpoint-*")), "a half-written temporary checkpoint should be left over"
    assert C.load_checkpoint(out / "checkpoint.pt")["iteration"] == 2
    tr = T.Trainer(tiny(lambda_skel=0.0, checkpoint_every=2), _ds(prepared), out, resume=True, progress=False)
    assert tr.iteration == 2
    tr.fit()
    assert [r["iteration"] for r in _log(out)] == [1, 2, 3, 4]


# ---- CLI

def test_cli_train_and_resume(tmp_path, prepared):
    from skeleton_cyclegan.cli import main
    A, B = map(str, prepared)
    run = str(tmp_path / "run")
    small = ["--size", "64", "--load-size", "72", "--ngf", "8", "--ndf", "8", "--n-blocks", "1", "--n-layers-D", "2",
             "--lambda-skel", "0", "--sample-every", "0", "--pool-size", "2"]
    assert main(["train", "--a", A, "--b", B, "--out", run, "--max-iters", "2", *small]) == 0
    assert len(_log(run)) == 2
    assert main(["train", "--a", A, "--b", B, "--out", run, "--resume", "--max-iters", "3"]) == 0
    assert [r["iteration"] for r in _log(run)] == [1, 2, 3]
    cfg = json.loads((Path(run) / "config.json").read_text())
    assert (cfg["ngf"], cfg["max_iters"], cfg["lambda_skel"]) == (8, 3, 0.0)
    assert main(["train", "--a", str(tmp_path / "nope"), "--b", B, "--out", run]) == 2


# ---- multi-process (DistributedDataParallel on CPU with gloo)

DDP_WORKER = textwrap.dedent('''
    import os, sys, json, torch
    torch.set_num_threads(1)
    import skeleton_cyclegan.train as T
    from skeleton_cyclegan.data import UnpairedDataset
    from skeleton_cyclegan.pose import blazepose
    A, B, out = sys.argv[1:4]
    cfg = T.TrainConfig(size=64, load_size=72, ngf=8, ndf=8, n_blocks=1, n_layers_D=2, pool_size=2, max_iters=3,
                        log_every=1, sample_every=0, checkpoint_every=100, device="cpu")
    tr = T.Trainer(cfg, UnpairedDataset(A, B, size=64, load_size=72), out, H=blazepose(device="cpu"), progress=False)
    first = [next(iter(tr._batches()))]
    hist = tr.fit()
    r = int(os.environ["RANK"])
    flat = torch.cat([p.detach().flatten() for n in tr.nets.values() for p in n.parameters()])
    torch.save({"params": flat, "world": tr.world, "hist": hist, "ia": first[0]["ia"]}, os.path.join(out, f"rank{r}.pt"))
''')


def test_ddp_two_cpu_processes_stay_in_sync(tmp_path, prepared):
    (tmp_path / "worker.py").write_text(DDP_WORKER)
    out = tmp_path / "run"
    out.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(port), str(tmp_path / "worker.py"), *map(str, prepared), str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    r0, r1 = (torch.load(out / f"rank{i}.pt", weights_only=True) for i in (0, 1))
    assert r0["world"] == r1["world"] == 2
    assert r0["ia"].tolist() != r1["ia"].tolist()          # the ranks trained on different frames
    assert torch.equal(r0["params"], r1["params"])          # and their weights stayed identical
    assert r0["hist"] == r1["hist"] and len(r0["hist"]) == 3  # the logged losses are the mean over ranks
    assert [x["iteration"] for x in _log(out)] == [1, 2, 3]
    assert C.load_checkpoint(out / "checkpoint.pt")["iteration"] == 3


def test_resume_with_other_network_settings_is_a_clear_error(tmp_path, prepared):
    T.Trainer(tiny(lambda_skel=0.0), _ds(prepared), tmp_path, progress=False).save()
    with pytest.raises(SkeletonCycleGANError, match="does not fit"):
        T.Trainer(tiny(lambda_skel=0.0, ngf=16), _ds(prepared), tmp_path, resume=True, progress=False)


# ---- the second pose backend: OpenPose as H

def test_train_through_openpose_caches_H_real_once(tmp_path, prepared):
    "train() with pose_backend='openpose' caches OpenPose's H(real) on both datasets first, then trains through it."
    import argparse, shutil
    try:
        from skeleton_cyclegan.openpose import openpose
        Ho = openpose(device="cpu", input_size=128)
    except SkeletonCycleGANError as e: pytest.skip(f"OpenPose model file not available here: {e}")
    from skeleton_cyclegan.config import add_config_args, config_from_args
    parser = add_config_args(argparse.ArgumentParser())
    assert config_from_args(parser.parse_args(["--pose", "openpose"])).pose_backend == "openpose"
    with pytest.raises(SystemExit): parser.parse_args(["--pose", "nope"])
    A, B = (shutil.copytree(p, tmp_path / p.name) for p in prepared)
    # these frames are noise: OpenPose sees no visible point in them, so the default `coords` (weighted by the real
    # frame's visibility) is rightly 0 here; the heat-map form `paper` still compares the maps
    cfg = tiny(max_iters=3, pose_backend="openpose", device="cpu", skel_loss="paper")
    tr = T.train(A, B, tmp_path / "run", cfg, H=Ho, progress=False)
    for P in (A, B):
        assert (P / "pose_openpose_logits.npy").exists() and (P / "pose_openpose_landmarks.npy").exists()
        assert json.loads((P / "meta.json").read_text())["pose_caches"]["openpose"]["heatmap_size"] == 16
    assert tr.dataset.backend == "openpose" and tr.dataset[0]["hx"].shape == (18, 16, 16)
    log = _log(tmp_path / "run")
    assert [r["iteration"] for r in log] == [1, 2, 3]
    for r in log:
        assert np.isfinite([r["skel_G"], r["skel_F"], r["skel_weighted"]]).all() and r["skel_G"] > 0, r
    # the cache is made once: a second run reuses it (the files stay as they were)
    stamp = (A / "pose_openpose_logits.npy").stat().st_mtime_ns
    T.train(A, B, tmp_path / "run2", tiny(max_iters=1, pose_backend="openpose", device="cpu"), H=Ho, progress=False)
    assert (A / "pose_openpose_logits.npy").stat().st_mtime_ns == stamp
    with pytest.raises(SkeletonCycleGANError, match="pose_backend"):
        T.train(A, B, tmp_path / "run3", tiny(max_iters=1, device="cpu"), H=Ho, progress=False)


def test_train_with_skel_retarget_serves_offsets_and_recomputing_H_agrees(tmp_path, prepared, H):
    "train() with skel_retarget gives the dataset per-frame offsets to the other build; recomputing H(real) keeps them."
    tr = T.train(*prepared, tmp_path / "run", tiny(max_iters=2, skel_retarget=True, device="cpu"), H=H, progress=False)
    assert tr.dataset[0]["rx"].shape == (33, 2) and tr.dataset.offsets[0].shape == (4, 33, 2)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["skel_retarget"] is True
    ds = _ds(prepared, flip=False)
    ds.load_size = 64
    a = T.Trainer(tiny(max_iters=1, load_size=64, flip=False, skel_retarget=True), ds, tmp_path / "a", H=H,
                  progress=False).fit()
    b = T.Trainer(tiny(max_iters=1, load_size=64, flip=False, skel_retarget=True, cache_h_real=False), ds,
                  tmp_path / "b", H=H, progress=False).fit()
    assert a[0]["skel_G"] == pytest.approx(b[0]["skel_G"], rel=1e-2, abs=1e-4)
    plain_ds, own_ds = _ds(prepared), _ds(prepared)
    T.Trainer(tiny(skel_retarget=True), plain_ds, tmp_path / "c", H=H, progress=False)    # asked for: the trainer sets them
    assert plain_ds.offsets is not None and plain_ds.offsets[0].shape == (4, 33, 2)
    T.Trainer(tiny(), own_ds, tmp_path / "d", H=H, progress=False)   # auto: off for footage, as these folders count
    assert own_ds.offsets is None

    class Bare(torch.utils.data.Dataset):   # a dataset that cannot take the offsets
        def __len__(self): return 4
        def __getitem__(self, i): return own_ds[i]
    with pytest.raises(SkeletonCycleGANError, match="skel_retarget=False"):   # no `footage`: auto is on, as for dancers
        T.Trainer(tiny(), Bare(), tmp_path / "e", H=H, progress=False)


def test_retarget_offsets_with_openpose_caches(tmp_path, prepared):
    "OpenPose's 18-point layout has its own skeleton tree; the offsets come from its heat maps at its temperature."
    import shutil
    from skeleton_cyclegan.data import UnpairedDataset
    from skeleton_cyclegan.folder import ensure_pose_cache
    from skeleton_cyclegan.skeleton import retarget_offsets
    try:
        from skeleton_cyclegan.openpose import openpose
        Ho = openpose(device="cpu", input_size=128)
    except SkeletonCycleGANError as e: pytest.skip(f"OpenPose model file not available here: {e}")
    A, B = (ensure_pose_cache(shutil.copytree(p, tmp_path / p.name), Ho, progress=False) for p in prepared)
    ds = UnpairedDataset(A, B, size=64, load_size=72, backend="openpose")
    rA, rB, _ = retarget_offsets(A, B, "openpose")
    ds.set_offsets(rA, rB)
    assert rA.shape == (4, 18, 2) and np.isfinite(rA).all() and ds[1]["ry"].shape == (18, 2)


def test_config_json_says_what_ran(tmp_path, prepared, H):
    "config.json holds the resolved config: automatic settings filled in (λ_skel's balancing stays automatic)."
    T.Trainer(tiny(n_blocks=None, load_size=None), _ds(prepared), tmp_path, H=H, progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())
    # the fixture's folders are not rendered dancers: no views and no scale normalisation, as for real videos
    assert (saved["n_blocks"], saved["load_size"], saved["skel_views"], saved["skel_retarget"]) == (6, 72, 0.0, False)
    assert (saved["amp"], saved["num_workers"], saved["lambda_skel"], saved["device"]) == ("off", 0, None, None)


@pytest.mark.parametrize("flags, says", [
    (dict(lr=float("nan")), "lr=nan"), (dict(beta1=1.5), "beta1=1.5"), (dict(lr=float("inf")), "lr=inf"),
    (dict(lambda_cyc=float("nan")), "lambda_cyc=nan"), (dict(lambda_skel=float("nan")), "lambda_skel=nan"),
    (dict(size=66), "multiple of 4"), (dict(load_size=32), "load_size=32"), (dict(batch_size=0), "batch_size=0"),
    (dict(pool_size=-1), "pool_size=-1"), (dict(skel_views=float("inf")), "skel_views=inf")])
def test_impossible_numbers_are_refused_with_one_line_each(flags, says):
    with pytest.raises(SkeletonCycleGANError, match="invalid training settings") as e:
        T.TrainConfig(**flags)
    lines = str(e.value).splitlines()
    assert len(lines) == 2 and says in lines[1], lines
