"metrics, judge, evaluate: pose metrics, the table, the domain classifier, the verdict, a run judged by a stand-in."
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.metrics import ARMS, pck, pose_errors, pose_metrics, temporal_jitter, torso_size
from skeleton_cyclegan.judge import Judge, Reference, train_domain_classifier
from skeleton_cyclegan.evaluate import evaluate_run, format_table, save_metrics, verdict, compare_figure
from test_translate import fake_run


def skeleton(n=6, seed=0):
    rng = np.random.default_rng(seed)
    kp = np.tile(rng.uniform(0.3, 0.7, (1, 33, 2)), (n, 1, 1))
    kp[:, 11], kp[:, 12], kp[:, 23], kp[:, 24] = [.4, .3], [.6, .3], [.4, .5], [.6, .5]   # torso 0.2
    return kp


def test_torso_normalised_errors_and_pck():
    ref = skeleton()
    assert np.allclose(torso_size(ref), 0.2)
    e = pose_errors(ref + [0.012, 0.0], ref)
    assert e.shape == (6, 17) and np.allclose(e, 0.06)
    m = pose_metrics(ref + [0.012, 0.0], ref, "gt_")
    assert (m["gt_pck05"], m["gt_pck10"], m["gt_arms_pck10"]) == (0.0, 1.0, 1.0)
    moved = ref.copy(); moved[:, ARMS] += 0.05                     # arms off by a quarter torso
    m = pose_metrics(moved, ref)
    assert m["arms_pck10"] == 0.0 and m["pck10"] == pytest.approx(13 / 17)
    assert pck([0.05, 0.1, 0.2], 0.1) == pytest.approx(2 / 3)
    with pytest.raises(SkeletonCycleGANError): pose_errors(ref[:2], ref)


def test_jitter_counts_only_motion_beyond_the_source():
    src = skeleton(8)
    src[:, :, 0] += np.arange(8)[:, None] * 0.01                   # the source walks right
    assert temporal_jitter(src, src) == 0.0
    assert temporal_jitter(src + 0.05, src) == pytest.approx(0.0)  # a constant offset is not jitter
    wobble = src.copy(); wobble[::2] += [0.01, 0]
    assert temporal_jitter(wobble, src) == pytest.approx(0.05)     # 0.01 per frame / torso 0.2
    assert np.isnan(temporal_jitter(src[:1], src[:1]))


def test_table_lists_every_run_and_marks_missing_values():
    t = format_table({"plain": {"pck10": 0.5}, "skeleton": {"pck10": 0.75, "called_B": 0.9}})
    lines = t.splitlines()
    assert "PCK@0.1" in lines[0] and "called B" in lines[0]
    assert lines[2].startswith("plain") and "0.500" in lines[2] and "–" in lines[2]
    assert "0.750" in lines[3] and "0.90" in lines[3]


def test_domain_classifier_separates_the_synthetic_dancers():
    from skeleton_cyclegan.synthetic import DOMAIN_A, DOMAIN_B
    from skeleton_cyclegan.render import render_frames
    fa, _ = render_frames(DOMAIN_A, 20, size=48, seed=0)
    fb, _ = render_frames(DOMAIN_B, 20, size=48, seed=1)
    clf, acc = train_domain_classifier(fa, fb, size=32, steps=40, batch=16)
    assert acc >= 0.9
    assert clf.prob_B(fb).mean() > 0.5 > clf.prob_B(fa).mean()
    with pytest.raises(SkeletonCycleGANError): train_domain_classifier(fa[:1], fb)


def test_verdict_says_plainly_whether_the_skeleton_term_helped():
    s = {"judge": "blazepose-heavy", "gt_pck10": 0.6, "gt_arms_pck10": 0.4, "pck10": 0.5, "jitter": 0.03,
         "jitter_filtered": 0.02, "filtered_pck10": 0.5, "called_B": 0.9, "domain_accuracy": 1.0}
    assert "helped" in verdict(s, {**s, "gt_pck10": 0.5})[1]
    assert "did NOT help" in verdict(s, {**s, "gt_pck10": 0.7})[1]
    assert "No clear difference" in verdict(s, {**s, "gt_pck10": 0.61})[1]
    assert any("0.0300 -> 0.0200" in l for l in verdict(s, None))


class CentroidPose(nn.Module):
    "A stand-in judge: every keypoint at the centroid of the bright pixels, plus a fixed pattern."
    name = "centroid"
    def forward(self, x):
        w = (x.mean(1) > 0).float() + 1e-6
        ys, xs = torch.meshgrid(torch.arange(x.shape[-1]).float(), torch.arange(x.shape[-1]).float(), indexing="ij")
        c = torch.stack([(w * xs).sum((1, 2)) / w.sum((1, 2)), (w * ys).sum((1, 2)) / w.sum((1, 2))], -1)
        pattern = torch.linspace(-0.3, 0.3, 66).view(1, 33, 2) * x.shape[-1]
        return SimpleNamespace(landmarks=c[:, None] + pattern)
    def parameters(self, recurse=True): return iter([torch.zeros(1)])


def test_evaluate_run_writes_every_metric(tmp_path):
    run = fake_run(tmp_path / "run", size=32)
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (6, 48, 48, 3), dtype=np.uint8)
    J = Judge(CentroidPose())
    src = J(crops)
    clf, acc = train_domain_classifier(crops, 255 - crops, size=32, steps=5, batch=4)
    ref = Reference(crops, 32, src, src.copy(), clf, acc, J)
    r = evaluate_run(run, ref, smooth=0.5, progress=False)
    for k in ("pck10", "pck05", "arms_pck10", "mean_error", "gt_pck10", "source_gt_pck10", "jitter",
              "jitter_filtered", "called_B", "called_B_filtered", "domain_accuracy"):
        assert isinstance(r[k], float) and np.isfinite(r[k]), k
    assert r["frames"] == 6 and r["_samples"].shape == (6, 32, 32, 3)
    p = save_metrics({"run": r}, tmp_path / "m.json", note="x")
    d = json.loads(p.read_text())
    assert d["note"] == "x" and "_samples" not in d["results"]["run"]
    compare_figure({"run": r}, ref, tmp_path / "c.png", title="a\nb")
    assert (tmp_path / "c.png").stat().st_size > 1000
    bad = Reference(crops, 16, src, None, None, None, J)
    with pytest.raises(SkeletonCycleGANError, match="trained at 32"): evaluate_run(run, bad, progress=False)


def test_run_config_names_the_training_signal_and_warns_when_it_judges():
    from skeleton_cyclegan.judge import judge_warning, training_signal, judge
    assert training_signal({"lambda_skel": None, "pose_backend": "openpose"}) == "openpose"
    assert training_signal({"lambda_skel": 1.0, "pose_backend": "blazepose"}) == "blazepose-full"
    assert training_signal({"lambda_skel": 0.0, "pose_backend": "openpose"}) == "none"
    assert "IS this run's training signal" in judge_warning("openpose", "openpose")
    assert judge_warning("blazepose-heavy", "blazepose-full") == "" == judge_warning("openpose", "blazepose-full")
    with pytest.raises(SkeletonCycleGANError, match="unknown judge"): judge("cpu", "alphapose")


@pytest.fixture(scope="module")
def dancer(tmp_path_factory):
    "A tiny prepared synthetic dataset (8 frames, 128², ground truth) written without running any H."
    from skeleton_cyclegan.folder import write_prepared
    from skeleton_cyclegan.synthetic import DOMAIN_A
    from skeleton_cyclegan.render import render_frames
    frames, m = render_frames(DOMAIN_A, 8, size=128, seed=0)
    n = len(frames)
    gt = m.keypoints.astype(np.float32) * 128
    folder = tmp_path_factory.mktemp("dancer") / "A"
    return write_prepared(folder, frames, gt, np.ones((n, 33), np.float32), np.tile([64, 64, 128], (n, 1)),
                          {"fps": 25.0, "size": 128}, heatmap_logits=np.zeros((n, 33, 64, 64), np.float16),
                          gt_keypoints=gt, progress=False)


def test_openpose_judges_a_run_and_the_json_names_judge_and_training_signal(tmp_path, dancer):
    from skeleton_cyclegan.judge import reference, judge
    torch.set_num_threads(1)
    try: J = judge("cpu", "openpose")
    except SkeletonCycleGANError as e: pytest.skip(f"OpenPose graph not available: {e}")
    # on the source frames themselves (at 128²) OpenPose finds most body points, close to the ground truth
    ref = reference(dancer, size=128, judge_net=J, max_frames=8, progress=False)
    gt = pose_metrics(ref.source_kp, ref.gt_kp)
    print(f"OpenPose on the source: found {ref.source_found:.3f} of BODY17, gt PCK@0.1 {gt['pck10']:.3f}, "
          f"PCK@0.05 {gt['pck05']:.3f}")
    assert ref.source_found >= 0.8 and gt["pck10"] >= 0.8
    # a run trained through OpenPose, judged by OpenPose: numbers in [0, 1], the judge named, a warning
    run = fake_run(tmp_path / "run", size=64)
    (run / "config.json").write_text(json.dumps({"size": 64, "lambda_skel": None, "pose_backend": "openpose", "max_iters": 1}))
    from skeleton_cyclegan.cli import main
    assert main(["evaluate", str(run), str(dancer.folder), "--out", str(tmp_path / "m.json"), "--max-frames", "6",
                 "--judge", "openpose", "--device", "cpu"]) == 0
    d = json.loads((tmp_path / "m.json").read_text())
    r = d["results"]["run"]
    for k in ("pck10", "pck05", "arms_pck10", "gt_pck10", "gt_arms_pck10", "source_gt_pck10", "filtered_pck10", "source_found"):
        assert 0.0 <= r[k] <= 1.0, k
    assert d["judge"] == "openpose" == d["results"]["run"]["judge"]
    assert d["trained_through"] == "openpose" == d["results"]["run"]["trained_through"]
    assert "IS this run's training signal" in d["results"]["run"]["judge_note"]
    # trained through BlazePose, judged by OpenPose: no warning, the table says both
    (run / "config.json").write_text(json.dumps({"size": 64, "lambda_skel": 1.0, "pose_backend": "blazepose"}))
    ref64 = reference(dancer, size=64, judge_net=J, max_frames=6, progress=False)
    r = evaluate_run(run, ref64, progress=False)
    assert r["judge"] == "openpose" and r["trained_through"] == "blazepose-full" and "judge_note" not in r
    t = format_table({"run": r})
    assert "judge" in t.splitlines()[0] and "openpose" in t and "blazepose-full" in t


def test_compare_refuses_an_unknown_pose_network(tmp_path, capsys):
    from skeleton_cyclegan.cli import main
    assert main(["compare", "--out", str(tmp_path / "c"), "--pose", "blazepose,alphapose"]) == 2
    assert "unknown pose network 'alphapose'" in capsys.readouterr().err
