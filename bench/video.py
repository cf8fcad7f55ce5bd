"""Video throughput: decode + sample (native size and 256 px short side) and encode, on this machine.

    python bench/video.py [--repeats 5]

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


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    data = shared_data_dir()
    if data is None: raise SystemExit("../shared/data is absent: this benchmark needs taiji.mp4")
    src = data / "videos" / "taiji.mp4"
    info = video_info(src)
    rows = []
    rows.append(("decode, every frame, native 1280×720", timed(lambda: sum(1 for _ in read_frames(src)), a.repeats)))
    rows.append(("decode, every frame, 256 px short side", timed(lambda: sum(1 for _ in read_frames(src, size=256)), a.repeats)))
    rows.append(("decode + sample at 5 fps, 256 px (kept frames)", timed(lambda: sum(1 for _ in read_frames(src, fps=5, size=256)), a.repeats)))
    frames = [f for _, f in read_frames(src, size=256, max_frames=120)]
    with tempfile.TemporaryDirectory() as d:
        rows.append((f"encode H.264 {frames[0].shape[1]}×{frames[0].shape[0]}",
                     timed(lambda: (write_video(frames, Path(d) / "x.mp4", fps=24, progress=False), len(frames))[1], a.repeats)))
        big = [np.ascontiguousarray(np.tile(f, (3, 3, 1))[:720, :1280]) for f in frames[:40]]
        rows.append(("encode H.264 1280×720", timed(lambda: (write_video(big, Path(d) / "y.mp4", fps=24, progress=False), len(big))[1], a.repeats)))
    print(f"machine: {machine_description()}")
    print(f"source: {src.name}, {info.width}×{info.height}, {info.fps:.2f} fps, {info.n_frames} frames; median of {a.repeats} runs\n")
    print(f"| {'what':<42} | frames/s |\n|{'-'*44}|---------:|")
    for what, fps in rows: print(f"| {what:<42} | {fps:8.1f} |")


if __name__ == "__main__":
    main()
