"""skeleton-cyclegan export: generators as safetensors that translate reads with nothing else beside them, ONNX files
checked against torch (skipped with the reason without the [export] extra), and the model card (data, settings,
iterations, judged scores); from a finished run or from a checkpoint only; and the command line."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_cyclegan.checkpoint import CHECKPOINT_FORMAT, generators_state, load_generators, save_checkpoint
from skeleton_cyclegan.config import TrainConfig
from skeleton_cyclegan.core import SkeletonCycleGANError, to_tensor
from skeleton_cyclegan.networks import ResnetGenerator
import skeleton_cyclegan.export as E

NEEDS_ONNX = pytest.mark.skipif(E.onnx_missing() is not None, reason=f"ONNX check unavailable: {E.onnx_missing()}")


@pytest.fixture
def run(tmp_path):
    "A finished run folder as training leaves it (tiny random generators), evaluated into metrics.json."
    torch.manual_seed(0)
    cfg = TrainConfig(size=32, ngf=4, n_blocks=1, max_iters=12, lambda_skel=None, device="cpu")
    G, F = ResnetGenerator(ngf=4, n_blocks=1), ResnetGenerator(ngf=4, n_blocks=1)
    out = tmp_path / "run"
    save_checkpoint(generators_state(G, F, cfg, 12, "0.1.0"), out / "generators.pt")
    cfg.resolved("cpu").save(out / "config.json")
    (out / "data.json").write_text(json.dumps({"A": {"source": "/videos/me.mp4", "frames": 80, "sha256": "ab"},
                                               "B": {"source": "synthetic:B", "frames": 90, "sha256": "cd"}}))
    (out / "metrics.json").write_text(json.dumps({"judge": "blazepose-heavy", "trained_through": "blazepose-full",
                                                  "results": {"run": {"pck10": 0.61, "gt_pck10": 0.55}}}))
    return out


@pytest.fixture
def prepared(tmp_path):
    "A prepared folder of 5 crops (no video behind it) to translate."
    from skeleton_cyclegan.folder import write_prepared
    crops = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 3)).astype(np.uint8)
    return write_prepared(tmp_path / "prepared", crops, None, None, np.zeros((5, 3), np.float32), {"fps": 10.0},
                          heatmap_logits=np.zeros((5, 33, 64, 64), np.float16), progress=False).folder


def test_the_safetensors_file_is_all_translate_needs(run, prepared, tmp_path):
    card = E.export(run, onnx=False)
    alone = tmp_path / "elsewhere" / "model.safetensors"
    alone.parent.mkdir()
    shutil.copy(run / "export" / "generators.safetensors", alone)
    G1, F1, s1 = load_generators(run, "cpu")
    G2, F2, s2 = load_generators(alone, "cpu")
    assert s1 == s2 == {"size": 32, "ngf": 4, "n_blocks": 1}
    for a, b in ((G1, G2), (F1, F2)):
        assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    from skeleton_cyclegan.translate import translate
    from skeleton_cyclegan.video import video_info
    out = translate(alone, prepared, tmp_path / "t.mp4", output="crops", direction="BtoA", progress=False)
    assert video_info(out).n_frames == 5
    from skeleton_cyclegan.checkpoint import load_generators_safetensors
    head = load_generators_safetensors(alone)["metadata"]
    assert json.loads(head["training_config"])["max_iters"] == 12 and json.loads(head["data"])["A"]["frames"] == 80
    assert card["files"]["generators.safetensors"]["bytes"] == alone.stat().st_size


@NEEDS_ONNX
def test_onnx_files_are_checked_against_torch(run):
    import onnx
    import onnxruntime as ort
    card = E.export(run)
    G, F, _ = load_generators(run, "cpu")
    for name, net, direction in (("G_AtoB.onnx", G, "A→B"), ("F_BtoA.onnx", F, "B→A")):
        check = card["checks"][name]
        assert 0 <= check["max_abs_diff"] < 1e-3 and check["runtime"].startswith("onnxruntime")
        assert 0 <= check["max_abs_diff_float64"] < 1e-3                  # against torch in float64 too
        path = run / "export" / name
        props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        assert (props["direction"], props["size"], props["iteration"]) == (direction, "32", "12")
        x = to_tensor(np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3)).astype(np.uint8))   # any batch size
        got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x.numpy()})[0]
        with torch.inference_mode(): want = net(x).numpy()
        assert got.shape == (3, 3, 32, 32) and np.abs(got - want).max() < 1e-3
    assert "max abs diff" in (run / "export" / "model_card.md").read_text()


def test_without_the_export_extra_onnx_is_skipped_with_the_reason(run, monkeypatch):
    monkeypatch.setattr(E, "onnx_missing", lambda: 'onnxruntime is not installed (pip install "skeleton-cyclegan[export]")')
    card = E.export(run)
    assert not list((run / "export").glob("*.onnx"))
    assert "onnxruntime is not installed" in card["checks"]["onnx"]
    assert "skeleton-cyclegan[export]" in (run / "export" / "model_card.md").read_text()


def test_the_model_card_says_data_settings_iterations_and_scores(run, tmp_path):
    card = E.export(run, out=tmp_path / "x", onnx=False)
    saved = json.loads((tmp_path / "x" / "model_card.json").read_text())
    assert saved == json.loads(json.dumps(card))
    assert (card["iterations"], card["settings"]["max_iters"], card["generators"]["size"]) == (12, 12, 32)
    assert card["data"]["A"]["source"] == "/videos/me.mp4" and card["scores"]["pck10"] == 0.61
    assert card["scores"]["judge"] == "blazepose-heavy"
    md = (tmp_path / "x" / "model_card.md").read_text()
    for said in ("12 iterations", "/videos/me.mp4 (80 frames)", "judged by blazepose-heavy", "pck10 0.61",
                 "λ_skel auto", "generators.safetensors"):
        assert said in md, said
    (run / "metrics.json").unlink(); (run / "data.json").unlink()
    md = E.card_markdown(E.export(run, out=tmp_path / "y", onnx=False))
    assert "Scores: not evaluated" in md and "Data: not recorded" in md


def test_a_run_with_only_its_checkpoint_exports_the_same_generators(run, tmp_path):
    G, F, _ = load_generators(run, "cpu")
    cfg = TrainConfig.load(run / "config.json")
    full = tmp_path / "ckpt"
    state = {"format": CHECKPOINT_FORMAT, "package_version": "0.1.0", "config": json.loads((run / "config.json").read_text()),
             "iteration": 12, "G": G.state_dict(), "F": F.state_dict()}
    save_checkpoint(state, full / "checkpoint.pt")
    card = E.export(full / "checkpoint.pt", onnx=False)
    G2, F2, s = load_generators(full / "export" / "generators.safetensors", "cpu")
    assert s == {"size": cfg.size, "ngf": 4, "n_blocks": 1} and card["iterations"] == 12
    assert all(torch.equal(v, G2.state_dict()[k]) for k, v in G.state_dict().items())


def test_a_damaged_or_foreign_safetensors_file_is_a_clear_error(tmp_path):
    from safetensors.torch import save_file
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(SkeletonCycleGANError, match="not a readable safetensors file"):
        load_generators(tmp_path / "bad.safetensors")
    save_file({"w": torch.ones(2)}, str(tmp_path / "other.safetensors"), metadata={"format": "someone-else"})
    with pytest.raises(SkeletonCycleGANError, match="not a skeleton-cyclegan-generators file"):
        load_generators(tmp_path / "other.safetensors")


def test_the_export_command(run, capsys):
    from skeleton_cyclegan.cli import main
    assert main(["export", str(run)] + ([] if E.onnx_missing() is None else ["--no-onnx"])) == 0
    out = capsys.readouterr().out
    assert f"wrote {run / 'export' / 'generators.safetensors'}" in out and "model_card.md" in out
    if E.onnx_missing() is None: assert "G_AtoB.onnx (ONNX Runtime vs torch: max |difference|" in out
    assert main(["export", str(run / "nothing")]) == 2
