"""The GPU paths of a training step, run as far as a CPU can: the CUDA-graph plumbing (static inputs, warm-up, the
replayed step; only the capture itself needs CUDA), the frames kept on the device, every precision, and the time
budget. Each must train exactly like the plain path where it should."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError

torch.set_num_threads(min(2, torch.get_num_threads()))
T = pytest.importorskip("skeleton_cyclegan.train")
from test_runlog import H, prepared   # noqa: E402,F401  (fixtures: BlazePose, two prepared 4-frame 64² folders)


def _ds(prepared):
    from skeleton_cyclegan.data import UnpairedDataset
    return UnpairedDataset(*prepared, size=64, load_size=72)


def tiny(**kw):
    base = dict(size=64, load_size=72, ngf=8, ndf=8, n_blocks=1, n_layers_D=2, pool_size=2, max_iters=9,
                log_every=3, sample_every=0, checkpoint_every=100, device="cpu",
                skel_views=1.0, skel_retarget=True)   # the fixture's folders count as real videos: both off by default
    return T.TrainConfig(**{**base, **kw})


def _log(run):
    return [json.loads(l) for l in (Path(run) / "losses.jsonl").read_text().splitlines() if l.strip()]


def test_graph_path_trains_exactly_like_the_eager_step(tmp_path, prepared, H):
    # pools of 2 are full after 2 iterations, 3 warm-up steps follow, then the step runs from its static inputs
    eager = T.Trainer(tiny(cuda_graphs=False), _ds(prepared), tmp_path / "eager", H=H, progress=False)
    eager.fit()
    g = T.Trainer(tiny(cuda_graphs=True, sample_every=9), _ds(prepared), tmp_path / "graph", H=H, progress=False)
    g.fit()
    assert eager._graph is None and g._graph is not None and not g._graph.captured   # no CUDA here: not captured
    assert _log(tmp_path / "graph") == _log(tmp_path / "eager")
    assert (tmp_path / "graph" / "samples" / "iter_0000009.png").is_file()          # samples read the static inputs
    # resumed in the middle, the graph is made again and the run is the same
    cut = T.Trainer(tiny(cuda_graphs=True), _ds(prepared), tmp_path / "cut", H=H, callbacks=[T.StopAfter(6)],
                    progress=False)
    cut.fit()
    T.Trainer(tiny(cuda_graphs=True), _ds(prepared), tmp_path / "cut", H=H, resume=True, progress=False).fit()
    assert _log(tmp_path / "cut") == _log(tmp_path / "eager")


def test_frames_on_the_device_train_exactly_like_the_data_loader(tmp_path, prepared, H):
    T.Trainer(tiny(data_on_device=False), _ds(prepared), tmp_path / "loader", H=H, progress=False).fit()
    tr = T.Trainer(tiny(data_on_device=True), _ds(prepared), tmp_path / "device", H=H, progress=False)
    tr.fit()
    assert tr._device_data is not None
    assert _log(tmp_path / "device") == _log(tmp_path / "loader")


@pytest.mark.parametrize("amp", ["off", "bf16", "fp16"])
def test_every_precision_a_cpu_runs_trains(tmp_path, prepared, H, amp):
    n = 8 if amp == "fp16" else 3                    # fp16: the scaler skips the first steps while its scale falls
    tr = T.Trainer(tiny(amp=amp, max_iters=n), _ds(prepared), tmp_path / amp, H=H, progress=False)
    before = tr.G.state_dict()["model.1.weight"].clone()
    tr.fit()
    log = _log(tmp_path / amp)
    assert len(log) == n and all(np.isfinite(v) for r in log for v in r.values())
    assert not torch.equal(before, tr.G.state_dict()["model.1.weight"])
    ck = torch.load(tmp_path / amp / "checkpoint.pt", map_location="cpu", weights_only=True)
    assert (ck["precision"] is not None) == (amp == "fp16")            # the loss scale of fp16 is resumed
    if amp == "fp16": assert ck["precision"]["scale"] < 2.0 ** 16     # overflowing steps were skipped, not applied


def test_time_budget_fits_the_schedule_and_ends_with_the_exported_generators(tmp_path, prepared, H):
    from skeleton_cyclegan.budget import TimeBudget
    t = [0.0]
    def clock():                                    # one second per call: the trainer reads it once per flush
        t[0] += 1.0; return t[0]
    tr = T.Trainer(tiny(time_budget=0.5, max_iters=None, log_every=1), _ds(prepared), tmp_path / "b", H=H,
                   progress=False)
    assert tr.total_iters > 1000                     # unknown until the step has been measured
    tr.budget = TimeBudget(0.5, reserve=3, warmup_iters=10, clock=clock)
    tr.fit()
    log = _log(tmp_path / "b")
    # 30 s less 3 s of reserve, 1 s per iteration, from t = 1
    assert tr.iteration == tr.total_iters == 27 and len(log) == 27
    assert (tmp_path / "b" / "generators.pt").is_file() and (tmp_path / "b" / "checkpoint.pt").is_file()
    lr = [r["lr"] for r in log]
    assert lr[0] == lr[5] == pytest.approx(2e-4) and lr[-1] < 0.1 * lr[0]   # constant, then decayed to the end
    # resumed without a budget, the run keeps the length its budget gave it (it is finished)
    again = T.Trainer(tiny(max_iters=None, log_every=1), _ds(prepared), tmp_path / "b", H=H, resume=True,
                      progress=False)
    assert again.iteration == again.total_iters == 27


def test_a_resumed_run_chooses_the_machine_settings_afresh(tmp_path):
    from skeleton_cyclegan.config import config_for_run
    tiny(amp="fp16", cuda_graphs=True, data_on_device=True, time_budget=5, ngf=16).save(tmp_path / "config.json")
    cfg = config_for_run(tmp_path, resume=True)
    assert (cfg.amp, cfg.cuda_graphs, cfg.data_on_device, cfg.time_budget, cfg.device) == ("auto", None, None, None, None)
    assert cfg.ngf == 16                                                # what shapes the run is kept
    assert config_for_run(tmp_path, resume=True, overrides={"amp": "bf16"}).amp == "bf16"


def test_time_budget_is_validated():
    with pytest.raises(SkeletonCycleGANError, match="time_budget"): tiny(time_budget=0)
    with pytest.raises(SkeletonCycleGANError, match="time_budget"): tiny(time_budget=float("nan"))


def test_image_pool_reads_the_state_earlier_versions_wrote():
    from skeleton_cyclegan.steps import ImagePool
    old = {"size": 3, "rng": torch.Generator().manual_seed(5).get_state(), "images": torch.randn(2, 3, 4, 4)}
    p = ImagePool(); p.load_state_dict(old)
    assert p.count == 2 and not p.full and torch.equal(p.images[:2], old["images"])
    x = torch.randn(1, 3, 4, 4)
    assert torch.equal(p.query(x), x) and p.full                      # still filling: the new fake comes back


def test_a_step_reads_nothing_back_from_the_device(tmp_path, prepared, H, monkeypatch):
    "The package's code never reads a tensor's value on the host inside a step (on a GPU each read would wait)."
    import sys
    tr = T.Trainer(tiny(pool_size=2, data_on_device=True, log_every=100), _ds(prepared), tmp_path / "s", H=H,
                   progress=False)
    batches = tr._batches()
    for _ in range(3): tr.train_step(next(batches))        # the pools fill (on the host: the same in every run)
    reads = []
    for name in ("item", "tolist", "__bool__", "__float__", "__int__", "__index__", "numpy"):
        real = getattr(torch.Tensor, name)
        def spy(self, *a, _real=real, _name=name, **k):
            f = sys._getframe(1)
            caller = f"{f.f_globals.get('__name__', '')}.{f.f_code.co_qualname}"
            # the frame order is drawn on the host, from a CPU generator (IterationBatches): no device involved
            if caller.startswith("skeleton_cyclegan") and "IterationBatches" not in caller:
                reads.append(f"{_name} in {caller}")
            return _real(self, *a, **k)
        monkeypatch.setattr(torch.Tensor, name, spy)
    for _ in range(4): t = tr.train_step(next(batches))
    monkeypatch.undo()
    assert reads == [] and tr.pool_A.full and tr.balancer.steps == 7 and set(t) >= {"skel_G", "lambda_skel", "D_A"}


def test_frame_to_frame_term_trains_alike_on_every_path(tmp_path, prepared, H):
    # L_temp adds G and F on the next frames: the graph plumbing and the frames on the device carry them too
    ds = _ds(prepared)
    tr = T.Trainer(tiny(lambda_temp=1.0), ds, tmp_path / "eager", H=H, progress=False)
    assert ds.temporal                                           # the trainer asked the dataset for next frames
    tr.fit()
    log = _log(tmp_path / "eager")
    assert all(r["temp_G"] >= 0 and r["temp_F"] >= 0 for r in log) and any(r["temp_G"] > 0 for r in log)
    runs = {}
    for name, kw in (("graph", dict(cuda_graphs=True)), ("device", dict(data_on_device=True))):
        runs[name] = g = T.Trainer(tiny(lambda_temp=1.0, **kw), _ds(prepared), tmp_path / name, H=H, progress=False)
        g.fit()
        assert _log(tmp_path / name) == log, name
    assert runs["graph"]._graph is not None and runs["device"]._device_data is not None   # the paths were taken
    plain = T.Trainer(tiny(), _ds(prepared), tmp_path / "plain", H=H, progress=False)
    plain.fit()
    assert "temp_G" not in _log(tmp_path / "plain")[0] and not plain.dataset.temporal
    with pytest.raises(SkeletonCycleGANError, match="needs each frame's successor"):
        T.Trainer(tiny(lambda_temp=1.0), [dict(x=0)], tmp_path / "bad", H=H, progress=False)


def test_person_mask_term_trains_alike_on_every_path(tmp_path, prepared, H):
    # L_mask: x's and y's masks are cached once per frame and ride with the frames on every path
    from skeleton_cyclegan.data import UnpairedDataset
    from skeleton_cyclegan.mask import ensure_mask_cache
    with pytest.raises(SkeletonCycleGANError, match="person masks"):   # a dataset that does not serve them
        T.Trainer(tiny(lambda_mask=1.0, max_iters=1), _ds(prepared), tmp_path / "bad", H=H, progress=False).fit()
    A, B = (ensure_mask_cache(P, H, progress=False) for P in prepared)

    def run(name, **kw):
        ds = UnpairedDataset(A, B, size=64, load_size=72, masks=True)
        tr = T.Trainer(tiny(lambda_mask=1.0, lambda_temp=1.0, **kw), ds, tmp_path / name, H=H, progress=False)
        tr.fit()
        return tr, _log(tmp_path / name)

    _, log = run("eager")
    assert all(0 < r["mask_G"] < 1 and 0 < r["mask_F"] < 1 for r in log)
    graph, device = run("graph", cuda_graphs=True), run("device", data_on_device=True)
    assert graph[1] == log and device[1] == log
    assert graph[0]._graph is not None and device[0]._device_data is not None   # the paths were taken


def test_discriminators_that_see_only_the_person_train_alike_on_every_path(tmp_path, prepared, H):
    # d_person: D_A and D_B judge each image times its cached person mask, so the pools hold the person only
    from skeleton_cyclegan.data import UnpairedDataset
    from skeleton_cyclegan.mask import ensure_mask_cache
    with pytest.raises(SkeletonCycleGANError, match="d_person needs"):   # a dataset that does not serve the masks
        T.Trainer(tiny(d_person=True, max_iters=1), _ds(prepared), tmp_path / "bad", H=H, progress=False).fit()
    A, B = (ensure_mask_cache(P, H, progress=False) for P in prepared)

    def run(name, **kw):
        ds = UnpairedDataset(A, B, size=64, load_size=72, masks=True)
        tr = T.Trainer(tiny(**kw), ds, tmp_path / name, H=H, progress=False)
        tr.fit()
        return tr, _log(tmp_path / name)

    whole, whole_log = run("whole")
    seen, log = run("eager", d_person=True)
    near_zero = lambda pool: (pool.images.abs() < 1e-3).float().mean().item()
    # the fakes' backgrounds are gone from what D_B judged (the fixture's frames are mostly background)
    assert near_zero(seen.pool_B) > 0.3 and near_zero(whole.pool_B) < 0.05
    assert [r["D_B"] for r in log] != [r["D_B"] for r in whole_log]
    graph, device = run("graph", d_person=True, cuda_graphs=True), run("device", d_person=True, data_on_device=True)
    assert graph[1] == log and device[1] == log
    assert graph[0]._graph is not None and device[0]._device_data is not None   # the paths were taken
