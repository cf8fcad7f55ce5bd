"""Dev-only: reference outputs of the original OpenPose graph, run by TensorFlow itself, for tests/test_openpose.py.

TensorFlow is never a dependency of the project: install it in a separate virtual environment, e.g.

    python3 -m venv /work/notes/tfvenv && /work/notes/tfvenv/bin/pip install tensorflow-cpu numpy

then, from the project root, with the project's environment:

    .venv/bin/python tools/make_openpose_fixtures.py --tf-python /work/notes/tfvenv/bin/python

Inputs are made here (photos and video frames from ../shared/data, and a synthetic pattern), TensorFlow
runs the graph in a subprocess (`--tf` mode, which imports only numpy and tensorflow), and the outputs are
stored small in tests/fixtures/openpose/: the 57 output maps as float16, per-channel argmaxes, exact
float32 values at a few probe positions, and the peaks and main person that skeleton_cyclegan.openpose
finds on TensorFlow's float32 maps. The footage itself is never stored: only how to rebuild each input
(file, time, size) and the sha256 of the rebuilt pixels. The test imports `make_input` from here; reading the
source and the sha256 are shared with the pose fixtures (tests/fixture_inputs.py).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "openpose"
sys.path.insert(0, str(OUT.parent.parent))
from fixture_inputs import array_sha256 as sha, load_source  # noqa: E402  (sha: the test uses it as tool.sha)

# each case: how to make its uint8 RGB input (h, w, 3); 'H' cases are square and also go through the H wrapper;
# 'full': False stores 2048 probe values instead of all maps (keeps the fixtures small)
CASES = [
    dict(name="pattern_200x232", source="pattern", h=200, w=232),  # odd sizes after 3 halvings: SAME padding both ways
    dict(name="skier_256", source="images/skier.jpeg", size=256, H=True),
    dict(name="standing_256", source="images/standing_masked.png", size=256, H=True, full=False),
    dict(name="taiji_256", source="videos/taiji.mp4", t=8.0, size=256, H=True),
    dict(name="dance_368x432", source="videos/dance_basketball.mp4", t=3.0, h=368, w=432, full=False),  # native size
]


def make_input(case: dict, data_dir: Path | None) -> np.ndarray | None:
    "The case's uint8 RGB input, or None when it needs ../shared/data and that is absent."
    from PIL import Image
    if case["source"] == "pattern":  # smooth colour waves and a few sharp edges, from formulas only
        h, w = case["h"], case["w"]
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        img = np.stack([np.sin(x / 7.0 + c) * np.cos(y / 11.0 - 2 * c) for c in range(3)], -1) * 110 + 128
        img[(x // 24 + y // 24) % 2 == 0] *= 0.6
        return np.clip(np.round(img), 0, 255).astype(np.uint8)
    if data_dir is None: return None
    path = data_dir / case["source"]
    frame = load_source(data_dir, case["source"], case.get("t"))  # a photo, or the frame read_frames gives at t
    if "size" in case:  # square: centre crop of the short side (videos) or pad (photos), then resize
        from skeleton_cyclegan.openpose import square_pad
        if path.suffix in (".mp4", ".avi"):
            h, w = frame.shape[:2]; s = min(h, w)
            frame = frame[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
            return np.array(Image.fromarray(frame).resize((case["size"],) * 2, Image.BICUBIC))
        return square_pad(frame, case["size"])
    return np.array(Image.fromarray(frame).resize((case["w"], case["h"]), Image.BICUBIC))


def run_tf(graph: str, inp: str, out: str):
    "In the TensorFlow venv: run the frozen graph on each BGR float input, save the NCHW float32 outputs."
    import tensorflow as tf
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(Path(graph).read_bytes())
    g = tf.Graph()
    with g.as_default(): tf.compat.v1.import_graph_def(gd, name="")
    res = {}
    with tf.compat.v1.Session(graph=g) as s:
        for k, x in np.load(inp).items():
            res[k] = s.run("Openpose/concat_stage7:0", {"image:0": x[None]})[0].transpose(2, 0, 1)
    np.savez(out, __version__=np.array(tf.__version__), **res)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tf-python", help="python of a venv with tensorflow (never the project's)")
    ap.add_argument("--tf", nargs=3, metavar=("GRAPH", "IN", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.tf: return run_tf(*a.tf)
    if not a.tf_python: ap.error("--tf-python is required")
    import torch
    from skeleton_cyclegan.core import shared_data_dir
    from skeleton_cyclegan.openpose import OPENPOSE_SHA256, assemble_people, find_peaks, openpose_model_file
    graph = openpose_model_file()
    data = shared_data_dir()
    if data is None: sys.exit("../shared/data is needed to make the fixtures")
    inputs = {c["name"]: make_input(c, data) for c in CASES}
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(f"{tmp}/in.npz", **{k: v[..., ::-1].astype(np.float32) for k, v in inputs.items()})  # BGR, 0..255
        subprocess.run([a.tf_python, __file__, "--tf", str(graph), f"{tmp}/in.npz", f"{tmp}/out.npz"], check=True)
        ref = dict(np.load(f"{tmp}/out.npz"))
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    meta = dict(tensorflow=str(ref.pop("__version__")), graph_sha256=OPENPOSE_SHA256, cases=[])
    for c in CASES:
        y = ref[c["name"]]
        peaks, _ = find_peaks(torch.from_numpy(y[None, :18]))
        people = assemble_people(peaks[0], y[19:])
        rows = np.concatenate([np.c_[np.full(len(p), k), p] for k, p in enumerate(peaks[0])]).astype(np.float32)
        full = c.get("full", True)
        probe = rng.choice(y.size, 256 if full else 2048, replace=False)
        maps = dict(maps=y.astype(np.float16)) if full else {}
        np.savez_compressed(OUT / f"{c['name']}.npz", **maps, argmax=y.reshape(57, -1).argmax(1).astype(np.int32),
                            probe_index=probe.astype(np.int32), probe_value=y.reshape(-1)[probe].astype(np.float32),
                            peaks=rows, person=people[0][0] if people else np.zeros((18, 3), np.float32))
        meta["cases"].append(dict(c, input_sha256=sha(inputs[c["name"]]), out_shape=list(y.shape), n_people=len(people),
                                  max_abs=float(np.abs(y).max())))
        print(f"{c['name']}: out {y.shape}, {len(rows)} peaks, {len(people)} people, |y| ≤ {np.abs(y).max():.3f}")
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
