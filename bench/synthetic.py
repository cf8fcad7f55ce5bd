"""Rendering speed of the synthetic dancers: frames per second on one core (numpy), per domain, size and supersampling.

    .venv/bin/python bench/synthetic.py [--frames 40] [--repeats 5]
    .venv/bin/python bench/synthetic.py --smoke     # 2 frames, one run per row: seconds (the test suite runs it)
"""
import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch

from skeleton_cyclegan.core import machine_description
from skeleton_cyclegan.render import default_ss, render
from skeleton_cyclegan.synthetic import DOMAIN_A, DOMAIN_B, motion


def median_fps(fn, n, repeats):
    "Frames per wall second and per CPU second (the latter is what one core does when the machine is shared)."
    fn(1)  # warm the caches (background, colours)
    ts, cs = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time(); fn(n)
        ts.append(time.perf_counter() - t); cs.append(time.process_time() - c)
    return n / float(np.median(ts)), n / float(np.median(cs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=None, help="frames per run (default 40; --smoke 2)")
    ap.add_argument("--repeats", type=int, default=None, help="runs per row, median reported (default 5; --smoke 1)")
    ap.add_argument("--smoke", action="store_true", help="2 frames, one run per row: seconds")
    args = ap.parse_args()
    args.frames = args.frames or (2 if args.smoke else 40)
    args.repeats = args.repeats or (1 if args.smoke else 5)
    torch.set_num_threads(1)
    print(f"machine: {machine_description()}; load average {os.getloadavg()[0]:.1f}")
    print(f"median of {args.repeats} runs of {args.frames} frames\n")
    print(f"{'domain':8} {'size':>5} {'ss':>3} {'canvas':>7} {'frames/s':>9} {'frames/CPU-s':>13}")
    for d in (DOMAIN_A, DOMAIN_B):
        m = motion(d, args.frames, seed=0)
        for size, ss in ((64, None), (128, None), (256, None), (256, 2), (512, None)):
            def run(n, size=size, ss=ss):
                for i in range(n): render(m.keypoints[i], d.appearance, size, m.depth[i], ss=ss)
            fps, cps = median_fps(run, args.frames, args.repeats)
            s = ss or default_ss(size)
            print(f"{d.name:8} {size:5d} {s:3d} {size * s:6d}² {fps:9.0f} {cps:13.0f}")
    n = 100 if args.smoke else 2500
    t = time.perf_counter(); motion(DOMAIN_A, n, seed=0); dt = time.perf_counter() - t
    print(f"\nmotion + forward kinematics: {n / dt:,.0f} frames/s ({n} frames)")


if __name__ == "__main__":
    main()
