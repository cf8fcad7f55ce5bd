"""Speed of `prepare` (video → prepared folder) per stage: decoding, cutting crops, H, the detector, writing.

    python bench/prepare.py [--video ../shared/data/videos/taiji.mp4] [--frames N] [--size 256] [--repeats 3]
                            [--threads 2] [--device cpu|cuda] [--batch N] [--track-batch N] [--track-fps 10]
    python bench/prepare.py --track-fps 0     # H on every frame while tracking (twice per frame in all)
    python bench/prepare.py --smoke           # a tiny clip made on the fly, stand-in H and detector: seconds

Each run prepares the clip into a fresh folder with BlazePose and MediaPipe's detector (loaded once, before the
runs). The table gives, per stage, the median seconds of a run, its share of the total and the frames per second
that stage alone would allow; then the whole: kept frames per second, and how many crops H saw per frame.
"other" is what no stage claims: probing and hashing the video, starting the decoders, smoothing.
"""
import argparse
import statistics
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from skeleton_cyclegan.core import machine_description, shared_data_dir
from skeleton_cyclegan.pose import BLAZEPOSE_FLIP_INDEX
from skeleton_cyclegan.prepare import prepare
from skeleton_cyclegan.track import CropSettings
from skeleton_cyclegan.video import video_info, write_video

STAGES = [("decode", "decode (ffmpeg pipe, both passes)"), ("crop", "cut + resize crops"), ("pose", "H (landmark model)"),
          ("detect", "detector"), ("write", "write chunks + folder"), ("other", "other")]


class StandInH(torch.nn.Module):
    "Stand-in H for --smoke: the bright rectangle in a crop is a torso (shoulders at its top corners, hips below)."
    name, flip_index = "stand-in-h", BLAZEPOSE_FLIP_INDEX

    def forward(self, x):
        B, S = len(x), x.shape[-1]
        lm, flag = torch.full((B, 33, 2), S / 2), torch.zeros(B)
        for b in range(B):
            ys, xs = torch.nonzero(x[b].mean(0) > 0, as_tuple=True)
            if len(xs) < 4: continue
            x0, x1, y0, y1 = xs.min().item(), xs.max().item() + 1, ys.min().item(), ys.max().item() + 1
            lm[b, [11, 12, 23, 24]] = torch.tensor([[x1, y0], [x0, y0], [x1, y1], [x0, y1]], dtype=torch.float32)
            flag[b] = 1.0
        return SimpleNamespace(landmarks=lm, visibility=flag[:, None].expand(B, 33), pose_flag=flag,
                               heatmap_logits=torch.zeros(B, 33, 64, 64))


class StandInDetector:
    "Stand-in detector for --smoke: one window around the bright pixels."
    name = "stand-in-detector"

    def detect(self, frame, min_score=0.5):
        m = frame.mean(-1) > 128
        cols, rows = np.flatnonzero(m.any(0)), np.flatnonzero(m.any(1))
        if len(cols) == 0: return []
        roi = ((cols[0] + cols[-1] + 1) / 2, (rows[0] + rows[-1] + 1) / 2, 1.6 * max(len(cols), len(rows)), 0.0)
        return [SimpleNamespace(score=0.9, roi=lambda: roi)]


def smoke_clip(folder) -> Path:
    "A 2-second 160×120 clip at 25 fps of a white rectangle walking right."
    frames = []
    for i in range(50):
        f = np.zeros((120, 160, 3), np.uint8); f[40:80, 30 + 2 * i:50 + 2 * i] = 255; frames.append(f)
    return write_video(frames, Path(folder) / "walk.mp4", fps=25, progress=False)


def networks(a):
    if a.smoke: return StandInH(), StandInDetector()
    from skeleton_cyclegan.detector import PersonDetector
    from skeleton_cyclegan.pose import blazepose
    return blazepose(device=a.device), PersonDetector(device=a.device)


def one_run(src, a, H, D, folder):
    "Seconds per stage (with 'other' and 'total'), frames kept, crops H saw."
    seen = []
    hook = H.register_forward_pre_hook(lambda m, args: seen.append(len(args[0])))
    try:
        pv = prepare(src, folder, max_frames=a.frames, size=a.size, H=H, detector=D, progress=False,
                     settings=CropSettings(track_size=a.size if a.smoke else 256, track_fps=a.track_fps),
                     batch=a.batch, track_batch=a.track_batch)
    finally:
        hook.remove()
    t = dict(pv.timings)
    t["other"] = max(t["total"] - sum(t.get(k, 0.0) for k, _ in STAGES[:-1]), 0.0)
    return t, len(pv), sum(seen)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", default=None, help="the footage (default: ../shared/data's taiji.mp4)")
    ap.add_argument("--frames", type=int, default=None, help="at most this many frames, spread over the clip")
    ap.add_argument("--size", type=int, default=None, help="crop side (default 256; --smoke 64)")
    ap.add_argument("--repeats", type=int, default=None, help="runs, median reported (default 3; --smoke 1)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--device", default="cpu", help="where H and the detector run: cpu or cuda")
    ap.add_argument("--batch", type=int, default=None, help="H's batch on the crops (default: by device)")
    ap.add_argument("--track-batch", type=int, default=None, help="frames tracked at once (default: by device)")
    ap.add_argument("--track-fps", type=float, default=CropSettings.track_fps,
                    help="frames tracked per second of video (0: every frame)")
    ap.add_argument("--smoke", action="store_true", help="a tiny clip made on the fly and stand-in networks")
    a = ap.parse_args()
    a.repeats, a.size = a.repeats or (1 if a.smoke else 3), a.size or (64 if a.smoke else 256)
    if a.threads: torch.set_num_threads(a.threads)
    if a.device.startswith("cuda") and not torch.cuda.is_available(): raise SystemExit("--device cuda: no CUDA here")
    with tempfile.TemporaryDirectory() as tmp:
        if a.video: src = Path(a.video)
        elif a.smoke: src = smoke_clip(tmp)
        else:
            data = shared_data_dir()
            if data is None: raise SystemExit("../shared/data is absent: give the footage with --video FILE")
            src = data / "videos" / "taiji.mp4"
        info = video_info(src)
        H, D = networks(a)
        if not a.smoke: one_run(src, argparse.Namespace(**{**vars(a), "frames": 4}), H, D, Path(tmp) / "warm")
        runs = [one_run(src, a, H, D, Path(tmp) / f"run{r}") for r in range(a.repeats)]
    med = {k: statistics.median(r[0].get(k, 0.0) for r in runs) for k, _ in STAGES + [("total", "")]}
    n, crops = runs[0][1], runs[0][2]
    print(f"machine: {machine_description()}")
    print(f"source: {src.name}, {info.width}×{info.height}, {info.fps:.2f} fps; {n} frames kept; crops {a.size}²; "
          f"device {a.device}; track_fps {a.track_fps:g}; H's crops per frame {crops / max(n, 1):.2f}; "
          f"median of {a.repeats} run(s){' (stand-in networks)' if a.smoke else ''}\n")
    print(f"| {'stage':<36} | s per run | share | frames/s |\n|{'-' * 38}|----------:|------:|---------:|")
    for k, what in STAGES:
        s = med[k]
        print(f"| {what:<36} | {s:9.2f} | {100 * s / med['total']:4.0f}% | {n / s if s > 0 else float('inf'):8.1f} |")
    print(f"| {'total (prepare, end to end)':<36} | {med['total']:9.2f} |  100% | {n / med['total']:8.1f} |")


if __name__ == "__main__":
    main()
