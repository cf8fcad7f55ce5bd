"""Dev-only: make tests/fixtures/pose/ — reference outputs of the TFLite runtime for the pose models.

The reference interpreter (ai-edge-litert) is NOT a dependency of the package: install it in a separate venv,

    python -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install ai-edge-litert numpy
    .venv/bin/python tools/make_pose_fixtures.py --ref-python /tmp/refvenv/bin/python

This script (run with the project's venv) builds the inputs from ../shared/data, runs itself under --ref-python
in worker mode to get the TFLite outputs, and writes only those outputs plus, per input, the recipe that
rebuilds it (file, time, crop box, resize: tests/fixture_inputs.py) and the sha256 of the rebuilt pixels.
The footage itself is never stored in the project. Heatmaps are sigmoid probabilities quantised to 11 bits
(error ≤ 2.5e-4), masks to 16 bits, so that the fixtures stay small; landmarks and detector outputs are float32.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "pose"
HEATMAP_BITS = 11

# person crops (256²) for the landmark model; a `box` of None is found by the detector when the fixtures are made
CROPS = {
    "lm_standing": dict(source="images/standing_masked.png", size=[256, 256], resize="bilinear"),
    "lm_skier": dict(source="images/skier.jpeg", box="square", size=[256, 256], resize="bilinear"),
    "lm_taiji": dict(source="videos/taiji.mp4", t=9.0, box=None, size=[256, 256], resize="bilinear"),
    "lm_dance": dict(source="videos/dance_basketball.mp4", t=3.0, box=None, size=[256, 256], resize="bilinear"),
}
HEAVY = ["lm_taiji"]  # also run through the heavy landmark model
# full frames for the detector, letterboxed to its 224² input (centred square box, black border): one person,
# a crowd, a portrait clip
FRAMES = {
    "det_taiji": dict(source="videos/taiji.mp4", t=5.0),
    "det_crowd": dict(source="videos/street_crowd.avi", t=1.0),
    "det_portrait": dict(source="videos/short_basketball.mp4", t=1.0),
}


def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -80, 80)))


def quantise(p, bits):
    return np.round(np.clip(p, 0, 1) * (2 ** bits - 1)).astype(np.uint16)


def worker(spec_path):
    "Run under the reference venv: TFLite outputs for every input listed in spec.json."
    from ai_edge_litert.interpreter import Interpreter
    spec = json.loads(Path(spec_path).read_text())
    for job in spec["jobs"]:
        it = Interpreter(model_path=job["model"])
        it.allocate_tensors()
        inp = it.get_input_details()[0]
        x = np.load(job["input"]).astype(np.float32)
        it.set_tensor(inp["index"], x)
        it.invoke()
        outs = {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}
        np.savez(job["output"], **outs)
    import importlib.metadata
    (Path(spec_path).parent / "version.txt").write_text(f"ai-edge-litert {importlib.metadata.version('ai-edge-litert')}")


def square_box(cx, cy, side):
    "The integer box of a square of `side` centred at (cx, cy)."
    s, x0, y0 = int(round(side)), int(round(cx - side / 2)), int(round(cy - side / 2))
    return [x0, y0, x0 + s, y0 + s]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref-python", required=True, help="python of a venv with ai-edge-litert installed")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--no-heavy", action="store_true", help="skip the heavy landmark model (needs npm)")
    a = ap.parse_args()
    if a.worker: return worker(a.worker)

    sys.path.insert(0, str(ROOT / "tests"))
    from fixture_inputs import array_sha256, load_source, rebuild
    from skeleton_cyclegan.core import shared_data_dir
    from skeleton_cyclegan.detector import PersonDetector
    from skeleton_cyclegan.pose import MODEL_FILES, model_file
    data = shared_data_dir()
    if data is None: sys.exit("../shared/data is needed to make the pose fixtures")
    det = PersonDetector(device="cpu")

    def finish(recipe):
        "Fill in what is found from the source (crop boxes, the frame's time), rebuild the input, add its sha256."
        r = dict(recipe)
        src = load_source(data, r["source"], r.get("t"))
        h, w = src.shape[:2]
        if r.get("box") == "square":          # the whole photo, padded to a centred square
            r["box"] = square_box(w / 2, h / 2, max(h, w))
        elif "box" in r and r["box"] is None:  # MediaPipe's region of interest of the first person found
            cx, cy, side, _ = det.detect(src)[0].roi()
            r["box"] = square_box(cx, cy, side)
        if "t" in r:
            from skeleton_cyclegan.video import read_frames
            r["frame_t"] = round(next(iter(read_frames(data / r["source"], start=r["t"], max_frames=1)))[0], 6)
        r["source_shape"] = [h, w]
        img = rebuild(r, data)
        r["sha256"] = array_sha256(img)
        return r, img

    manifest = {"reference": None, "models": {n: s for n, (s, _, _) in MODEL_FILES.items()},
                "heatmap_bits": HEATMAP_BITS, "crops": {}, "frames": {}}
    jobs = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, recipe in CROPS.items():
            r, img = finish(recipe)
            variants = ["full"] + (["heavy"] if name in HEAVY and not a.no_heavy else [])
            manifest["crops"][name] = dict(variants=variants, recipe=r)
            np.save(tmp / f"{name}_in.npy", (img.astype(np.float32) / 255)[None])
            for v in variants:
                jobs.append(dict(model=str(model_file(f"pose_landmark_{v}.tflite")), input=str(tmp / f"{name}_in.npy"),
                                 output=str(tmp / f"{name}_{v}_out.npz")))
        for name, recipe in FRAMES.items():
            src = load_source(data, recipe["source"], recipe["t"])
            h, w = src.shape[:2]
            side = max(h, w)
            assert (side - h) % 2 == 0 and (side - w) % 2 == 0, "the letterbox needs an even border"
            r, img = finish(dict(recipe, box=[(w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2],
                                 size=[PersonDetector.input_size] * 2, resize="bilinear"))
            manifest["frames"][name] = dict(recipe=r)
            np.save(tmp / f"{name}_in.npy", (img.astype(np.float32) / 127.5 - 1)[None])
            jobs.append(dict(model=str(model_file("pose_detection.tflite")), input=str(tmp / f"{name}_in.npy"),
                             output=str(tmp / f"{name}_out.npz")))
        (tmp / "spec.json").write_text(json.dumps({"jobs": jobs}))
        subprocess.run([a.ref_python, __file__, "--ref-python", a.ref_python, "--worker", str(tmp / "spec.json")], check=True)

        ref = {}
        for name, c in manifest["crops"].items():
            for v in c["variants"]:
                o = np.load(tmp / f"{name}_{v}_out.npz")
                hm = o["Identity_3"][0].transpose(2, 0, 1)[:33]                   # logits (33, 64, 64)
                ref[f"{name}/{v}/landmarks"] = o["Identity"].reshape(39, 5).astype(np.float32)  # x, y, z, vis. logit, pres. logit
                ref[f"{name}/{v}/pose_flag"] = o["Identity_1"].reshape(1).astype(np.float32)
                ref[f"{name}/{v}/heatmaps_q{HEATMAP_BITS}"] = quantise(sigmoid(hm), HEATMAP_BITS)
                ref[f"{name}/{v}/heatmap_argmax"] = hm.reshape(33, -1).argmax(1).astype(np.int32)
                ref[f"{name}/{v}/segmentation_q16"] = quantise(sigmoid(o["Identity_2"][0, :, :, 0]), 16)
        for name in manifest["frames"]:
            o = np.load(tmp / f"{name}_out.npz")
            logits = o["Identity_1"][0, :, 0]
            top = np.argsort(-logits)[:64]
            ref[f"{name}/score_logits"] = logits.astype(np.float32)
            ref[f"{name}/top_anchors"] = top.astype(np.int32)
            ref[f"{name}/top_regressors"] = o["Identity"][0, top].astype(np.float32)
        manifest["reference"] = (tmp / "version.txt").read_text().strip()
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "reference.npz", **ref)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {OUT}: " + ", ".join(f"{f.name} {f.stat().st_size // 1024} KB" for f in sorted(OUT.iterdir())))


if __name__ == "__main__":
    main()
