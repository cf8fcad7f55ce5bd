"""Video throughput: decode + sample (native size and 256 px short side) and encode, on this machine.

    python bench/video.py [--repeats 5] [--video ../shared/data/videos/taiji.mp4]
    python bench/video.py --smoke      # a 2-second 320×180 clip made on the fly, one run per row: seconds

Prints a table: median of several runs, frames per second."""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from skeleton_cyclegan.core import machine_description, shared_data_dir
from skeleton_cyclegan.video import read_frames, video_info, write_video


def timed(fn, repeats):
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); n = fn(); ts.append((time.perf_counter() - t, n))
    return statistics.median(n / s for s, n in ts)


def smoke_clip(folder) -> Path:
    "A 2-second 320×180 clip of moving colour fields (24 fps) to time on when no footage is given."
    yy, xx = np.mgrid[0:180, 0:320]
    frames = [np.stack([(xx + 4 * i) % 256, (yy + 2 * i) % 256, np.full_like(xx, 8 * i % 256)], -1).astype(np.uint8)
              for i in range(48)]
    return write_video(frames, Path(folder) / "clip.mp4", fps=24, progress=False)


def rows_for(src, a, tmp):
    "(what, frames/s) for decoding `src` and encoding frames of it."
    S, (W, H), n_small, n_big = (64, (320, 180), 12, 6) if a.smoke else (256, (1280, 720), 120, 40)
    count = lambda it: sum(1 for _ in it)
    rows = [(f"decode, every frame, native {src.width}×{src.height}", timed(lambda: count(read_frames(src.path)),
                                                                             a.repeats)),
            (f"decode, every frame, {S} px short side", timed(lambda: count(read_frames(src.path, size=S)), a.repeats)),
            (f"decode + sample at 5 fps, {S} px (kept frames)",
             timed(lambda: count(read_frames(src.path, fps=5, size=S)), a.repeats))]
    frames = [f for _, f in read_frames(src.path, size=S, max_frames=n_small)]

    def encode(fr, name):
        write_video(fr, Path(tmp) / name, fps=24, progress=False)
        return len(fr)
    rows.append((f"encode H.264 {frames[0].shape[1]}×{frames[0].shape[0]}", timed(lambda: encode(frames, "x.mp4"),
                                                                                   a.repeats)))
    reps = (H + frames[0].shape[0] - 1) // frames[0].shape[0], (W + frames[0].shape[1] - 1) // frames[0].shape[1]
    big = [np.ascontiguousarray(np.tile(f, (*reps, 1))[:H, :W]) for f in frames[:n_big]]
    rows.append((f"encode H.264 {W}×{H}", timed(lambda: encode(big, "y.mp4"), a.repeats)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=None, help="runs per row, median reported (default 5; --smoke 1)")
    ap.add_argument("--video", default=None, help="the footage to time on (default: ../shared/data's taiji.mp4)")
    ap.add_argument("--smoke", action="store_true", help="a small clip made on the fly, one run per row: seconds")
    a = ap.parse_args()
    a.repeats = a.repeats or (1 if a.smoke else 5)
    with tempfile.TemporaryDirectory() as tmp:
        if a.video: src = Path(a.video)
        elif a.smoke: src = smoke_clip(tmp)
        else:
            data = shared_data_dir()
            if data is None: raise SystemExit("../shared/data is absent: give the footage with --video FILE")
            src = data / "videos" / "taiji.mp4"
        info = video_info(src)
        rows = rows_for(info, a, tmp)
    print(f"machine: {machine_description()}")
    print(f"source: {src.name}, {info.width}×{info.height}, {info.fps:.2f} fps, {info.n_frames} frames; "
          f"median of {a.repeats} runs\n")
    print(f"| {'what':<46} | frames/s |\n|{'-'*48}|---------:|")
    for what, fps in rows: print(f"| {what:<46} | {fps:8.1f} |")


if __name__ == "__main__":
    main()
