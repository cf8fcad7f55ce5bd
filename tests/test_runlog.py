"""What a run leaves beside its checkpoint, in real tiny trainings: TensorBoard scalars for every logged loss term and
λ_skel (equal to losses.jsonl), the sample grids, the config and the data as text; a resumed run's repeated
iterations purged; no logs with `tensorboard=False` or without the package (said once, training unchanged);
data.json."""
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError

torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture(scope="module")
def H():
    from skeleton_cyclegan.pose import blazepose
    try: return blazepose(device="cpu")
    except SkeletonCycleGANError as e: pytest.skip(f"BlazePose model file not available here: {e}")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, H):
    "Two prepared datasets of 4 frames at 64² (smooth random colours) with cached H(real)."
    from skeleton_cyclegan.folder import write_prepared
    d = tmp_path_factory.mktemp("prepared")
    for name, seed in (("A", 0), ("B", 1)):
        low = torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (4, 3, 4, 4)).astype(np.float32))
        frames = torch.nn.functional.interpolate(low, size=(64, 64), mode="bicubic", align_corners=False)
        frames = frames.clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
        write_prepared(d / name, frames, None, None, np.zeros((4, 3), np.float32), {"source": {"path": f"{name}.mp4"}},
                       H=H, progress=False)
    return d / "A", d / "B"


def fit(prepared, H, out, resume=False, **kw):
    from skeleton_cyclegan.config import TrainConfig
    from skeleton_cyclegan.data import UnpairedDataset
    from skeleton_cyclegan.train import Trainer
    base = dict(size=64, load_size=72, ngf=8, ndf=8, n_blocks=1, n_layers_D=2, pool_size=2, max_iters=4, log_every=2,
                sample_every=2, checkpoint_every=100, device="cpu")
    tr = Trainer(TrainConfig(**{**base, **kw}), UnpairedDataset(*prepared, size=64, load_size=72), out, H=H,
                 resume=resume, progress=False)
    tr.fit()
    return tr


def logged(run) -> list[dict]:
    return [json.loads(l) for l in (Path(run) / "losses.jsonl").read_text().splitlines() if l.strip()]


def test_tensorboard_has_every_term_lambda_samples_config_and_data(tmp_path, prepared, H):
    pytest.importorskip("tensorboard")
    from skeleton_cyclegan.runlog import TAGS, TensorBoardLog, read_events
    tr = fit(prepared, H, tmp_path / "run")
    assert any(isinstance(c, TensorBoardLog) for c in tr.callbacks)
    ev = read_events(tmp_path / "run" / "tensorboard")
    rows = logged(tmp_path / "run")
    terms = [k for k in rows[0] if k not in ("iteration", "epoch")]
    assert {"G_total", "skel_G", "lambda_skel", "D_A", "lr"} <= set(terms)
    for k in terms:
        steps, values = zip(*ev[TAGS[k]])
        assert steps == (1, 2, 3, 4), k
        np.testing.assert_allclose(values, [r[k] for r in rows], rtol=1e-6, err_msg=k)   # stored as float32
    h, w = tr.sample_grid().shape[:2]
    assert ev["samples"] == [(2, (w, h)), (4, (w, h))]
    config = ev["config/text_summary"][0][1]
    assert "| size | 64 |" in config and "| n_blocks | 1 |" in config
    assert '"source": "A.mp4"' in ev["data/text_summary"][0][1]
    data = json.loads((tmp_path / "run" / "data.json").read_text())
    assert (data["A"]["source"], data["A"]["frames"], data["B"]["size"]) == ("A.mp4", 4, 64)


def test_a_resumed_run_replaces_what_was_logged_after_its_checkpoint(tmp_path, prepared, H):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter
    from skeleton_cyclegan.runlog import read_events
    run = tmp_path / "run"
    fit(prepared, H, run, max_iters=2)
    with SummaryWriter(str(run / "tensorboard")) as w:   # an interrupted run logged iteration 3 after the checkpoint
        w.add_scalar("losses/G_total", 1e6, 3)
    fit(prepared, H, run, resume=True, max_iters=4)
    ev = read_events(run / "tensorboard")
    assert [s for s, _ in ev["losses/G_total"]] == [1, 2, 3, 4]
    np.testing.assert_allclose([v for _, v in ev["losses/G_total"]], [r["G_total"] for r in logged(run)], rtol=1e-6)


def test_no_tensorboard_logs_when_off_or_not_installed(tmp_path, prepared, H, monkeypatch, caplog):
    import skeleton_cyclegan.runlog as R
    fit(prepared, H, tmp_path / "off", tensorboard=False, lambda_skel=0.0, max_iters=2)
    assert not (tmp_path / "off" / "tensorboard").exists() and (tmp_path / "off" / "data.json").exists()
    monkeypatch.setattr(R, "tensorboard_available", lambda: False)
    R._say_no_tensorboard.cache_clear()
    with caplog.at_level(logging.INFO, logger="skeleton_cyclegan"):
        tr = fit(prepared, H, tmp_path / "missing", lambda_skel=0.0, max_iters=2)
        fit(prepared, H, tmp_path / "missing2", lambda_skel=0.0, max_iters=2)
    assert not (tmp_path / "missing" / "tensorboard").exists() and tr.iteration == 2
    said = [r for r in caplog.records if "tensorboard package is not installed" in r.getMessage()]
    assert len(said) == 1 and said[0].name == "skeleton_cyclegan.runlog"
    if R.importlib.util.find_spec("tensorboard"):                     # the logs do not touch the training
        monkeypatch.undo()
        fit(prepared, H, tmp_path / "on", lambda_skel=0.0, max_iters=2)
        assert (tmp_path / "on" / "tensorboard").exists() and logged(tmp_path / "on") == logged(tmp_path / "off")
