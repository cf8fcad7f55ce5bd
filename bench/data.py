"""Benchmark of skeleton_cyclegan.data: prepare throughput, loader throughput, crop jitter before/after smoothing.

    .venv/bin/python bench/data.py [--video ../shared/data/videos/taiji.mp4] [--size 256] [--max-frames N] [--threads 2]
    .venv/bin/python bench/data.py --smoke     # the first 8 frames at 64², a few loader items: seconds

Without --max-frames every frame is used (consecutive frames: the jitter numbers are meaningful); with it the
frames are spread over the clip (faster, but jitter then measures motion between distant frames).
--smoke prepares the first 8 frames of the footage at 64²; without the footage or the model files at hand (it never
downloads them) the prepare rows say so and the loader is timed on a synthetic prepared folder.
"""
import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from skeleton_cyclegan.core import cache_dir, machine_description, shared_data_dir
from skeleton_cyclegan.data import UnpairedDataset
from skeleton_cyclegan.folder import write_prepared
from skeleton_cyclegan.prepare import prepare, prepare_summary
from skeleton_cyclegan.video import read_frames, write_video

MODELS = ("pose_detection.tflite", "pose_landmark_full.tflite")


def missing_models() -> list[str]:
    "The model files prepare needs that are not on this machine yet ($SKELETON_CYCLEGAN_MODELS or the cache)."
    explicit = os.environ.get("SKELETON_CYCLEGAN_MODELS")
    p = Path(explicit) if explicit else cache_dir("models")
    return [n for n in MODELS if not (p / n if p.is_dir() else p).is_file()]


def first_frames(video, n, folder) -> Path:
    "The first `n` frames of `video` (360 px short side) as a clip of their own."
    frames = [f for _, f in read_frames(video, size=360, max_frames=n)]
    return write_video(frames, Path(folder) / "first.mp4", fps=25, progress=False)


def synthetic_prepared(folder, n=8, size=64):
    "A prepared folder of smooth random crops with made-up H outputs: enough for the loader, no model needed."
    rng = np.random.default_rng(0)
    low = torch.from_numpy(rng.integers(0, 256, (n, 3, 4, 4)).astype(np.float32))
    crops = torch.nn.functional.interpolate(low, size=(size, size), mode="bicubic", align_corners=False)
    crops = crops.clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    lm = rng.random((n, 33, 2), dtype=np.float32) * size
    return write_prepared(folder, crops, lm, np.ones((n, 33), np.float32), np.zeros((n, 3), np.float32), {},
                          heatmap_logits=rng.normal(size=(n, 33, 64, 64)).astype(np.float16), progress=False)


def prepare_rows(a, video, out):
    "(rows, prepared video) for preparing `video`."
    t0 = time.time()
    pv = prepare(video, out, max_frames=a.max_frames, size=a.size, progress=not a.smoke)
    wall, m = time.time() - t0, pv.meta
    print(prepare_summary(pv))
    which = "all" if a.max_frames is None else f"max {a.max_frames}, spread"
    tr, cr = m["timings"]["track"], m["timings"]["crop"]
    return [("video", f"{Path(video).name}: {m['n_read']} frames read ({which}), {len(pv)} kept, {m['n_dropped']} "
                      f"dropped, crops {a.size}²"),
            ("prepare, whole", f"{wall:.1f} s = {m['n_read'] / wall:.2f} frames/s"),
            ("  tracking pass", f"{tr:.1f} s ({m['n_read'] / max(tr, 1e-9):.2f} frames/s)"),
            ("  crop + H(real) + write", f"{cr:.1f} s ({len(pv) / max(cr, 1e-9):.2f} frames/s)"),
            ("crop jitter per frame, raw", f"{m['jitter']['raw']:.2f}% of crop side"),
            ("crop jitter per frame, smoothed", f"{m['jitter']['smoothed']:.2f}% of crop side")], pv


def loader_rows(a, pv):
    ds = UnpairedDataset(pv, pv, seed=0)
    times = []
    for r in range(a.runs):   # median of the runs over the same items
        ds.set_epoch(r)
        t = time.perf_counter()
        for i in range(a.items): ds[i % len(ds)]
        times.append((time.perf_counter() - t) / a.items)
    item = statistics.median(times)
    loader = torch.utils.data.DataLoader(ds, batch_size=1, shuffle=True, num_workers=0)
    t, n = time.perf_counter(), 0
    while n < a.items:
        for _ in loader:
            n += 1
            if n >= a.items: break
    per_batch = (time.perf_counter() - t) / n
    return [("loader, one item (x, y, hx, hy)",
             f"{item * 1e3:.2f} ms (median of {a.runs} × {a.items}) = {1 / item:.0f} items/s"),
            ("DataLoader batch 1, 0 workers", f"{per_batch * 1e3:.2f} ms per batch")]


def main():
    data = shared_data_dir()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(data / "videos" / "taiji.mp4") if data else None)
    ap.add_argument("--size", type=int, default=None, help="crop side (default 256; --smoke 64)")
    ap.add_argument("--max-frames", type=int, default=None)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default 2; --smoke 1)")
    ap.add_argument("--items", type=int, default=None, help="loader items to time (default 200; --smoke 8)")
    ap.add_argument("--smoke", action="store_true", help="the first 8 frames at 64², a few loader items: seconds")
    a = ap.parse_args()
    a.size = a.size or (64 if a.smoke else 256)
    a.threads = a.threads or (1 if a.smoke else 2)
    a.items, a.runs = a.items or (8 if a.smoke else 200), 1 if a.smoke else 3
    torch.set_num_threads(a.threads)
    rows = [("machine", machine_description())]
    with tempfile.TemporaryDirectory() as tmp:
        skip = ("no video: pass --video (../shared/data is absent)" if a.video is None else
                f"{', '.join(missing_models())} not at hand (--smoke never downloads)" if a.smoke and missing_models()
                else None)
        if skip is None:
            video = first_frames(a.video, 8, tmp) if a.smoke else a.video
            more, pv = prepare_rows(a, video, Path(tmp) / "prepared")
            rows += more
        elif a.smoke:
            rows.append(("prepare", f"skipped: {skip}"))
            pv = synthetic_prepared(Path(tmp) / "synthetic", size=a.size)
        else: raise SystemExit(skip)
        rows += loader_rows(a, pv)
    w = max(len(k) for k, _ in rows)
    print()
    for k, v in rows: print(f"{k:<{w}}  {v}")


if __name__ == "__main__":
    main()
