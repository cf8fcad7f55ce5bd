"""Speed of the frozen pose network H (BlazePose full) and the person detector, beside the TFLite runtime.

    python bench/pose.py [--repeats 10] [--threads 2] [--device cpu|cuda|all] [--heavy]
    python bench/pose.py --smoke          # batch 1, one timed run per row: seconds (the test suite runs it)

Forward and forward+backward (gradient with respect to the input, as the skeleton loss needs) at 256²,
batch 1 and 4; the detector's network at 224² and `detect()` end to end on a 1280×720 frame; peak
memory (CUDA: max allocated; CPU: process peak RSS so far). When `ai_edge_litert` is importable (a
dev-only reference runtime, never a dependency of the package) its forward on the same machine is
timed too, and the table gives torch time / TFLite time. Median of `--repeats` runs after warm-up.
A network whose model file cannot be had is a row saying so (--smoke never downloads one).
"""
import argparse
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from skeleton_cyclegan.core import cache_dir, machine_description
from skeleton_cyclegan.detector import PersonDetector
from skeleton_cyclegan.pose import blazepose, model_file


def at_hand(name: str) -> bool:
    "Whether model file `name` is on this machine already (in $SKELETON_CYCLEGAN_MODELS or the cache)."
    explicit = os.environ.get("SKELETON_CYCLEGAN_MODELS")
    p = Path(explicit) if explicit else cache_dir("models")
    return (p / name if p.is_dir() else p).is_file()


def timed(fn, repeats, sync, warmup=2):
    for _ in range(warmup): fn()
    sync()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); sync(); ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1e3


def tflite_ms(name, x_nhwc, repeats, threads):
    "Median forward time (ms) of the TFLite runtime, or None when ai_edge_litert is not installed."
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return None
    it = Interpreter(model_path=str(model_file(name)), num_threads=threads)
    it.allocate_tensors()
    idx = it.get_input_details()[0]["index"]

    def run():
        it.set_tensor(idx, x_nhwc); it.invoke()
    return timed(run, repeats, lambda: None)


def peak_mb(device):
    if device.type == "cuda": return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_H(H, v, device, a, rows, sync, g):
    for B in a.batches:
        x = (torch.rand(B, 3, 256, 256, generator=g) * 2 - 1).to(device)
        if device.type == "cuda": torch.cuda.reset_peak_memory_stats()

        def fwd():
            with torch.no_grad(): H(x)
        ms = timed(fwd, a.repeats, sync, a.warmup)
        ref = None
        if device.type == "cpu" and B == 1:
            ref = tflite_ms(f"pose_landmark_{v}.tflite", ((x.permute(0, 2, 3, 1) + 1) / 2).numpy(), a.repeats,
                            a.threads)
        rows.append((device.type, f"H {v} forward", B, ms, peak_mb(device), ref))
        xg = x.clone().requires_grad_()
        if device.type == "cuda": torch.cuda.reset_peak_memory_stats()

        def fwd_bwd():
            xg.grad = None
            H(xg).heatmaps.sum().backward()
        rows.append((device.type, f"H {v} forward+backward", B, timed(fwd_bwd, a.repeats, sync, a.warmup),
                     peak_mb(device), None))


def bench_detector(device, a, rows, sync, g):
    D = PersonDetector(device=device)
    x = (torch.rand(1, 3, 224, 224, generator=g) * 2 - 1).to(device)

    def det():
        with torch.no_grad(): D(x)
    ref = (tflite_ms("pose_detection.tflite", x.permute(0, 2, 3, 1).cpu().numpy(), a.repeats, a.threads)
           if device.type == "cpu" else None)
    rows.append((device.type, "detector network 224²", 1, timed(det, a.repeats, sync, a.warmup), peak_mb(device), ref))
    frame = (np.random.default_rng(0).random((720, 1280, 3)) * 255).astype(np.uint8)
    rows.append((device.type, "detect() on a 1280×720 frame", 1, timed(lambda: D.detect(frame), a.repeats, sync,
                                                                          a.warmup), peak_mb(device), None))


def bench_device(device, a, rows):
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    g = torch.Generator().manual_seed(0)
    for v in ["full"] + (["heavy"] if a.heavy else []):
        name = f"pose_landmark_{v}.tflite"
        if a.smoke and not at_hand(name):
            rows.append((device.type, f"H {v}: skipped, {name} not at hand (--smoke never downloads)", 0))
            continue
        bench_H(blazepose(v, device=device), v, device, a, rows, sync, g)
    if a.smoke and not at_hand("pose_detection.tflite"):
        rows.append((device.type, "detector: skipped, pose_detection.tflite not at hand (--smoke never downloads)", 0))
    else:
        bench_detector(device, a, rows, sync, g)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per row (default 10; --smoke 1)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch and the TFLite runtime "
                                                              "(default 2; --smoke 1)")
    ap.add_argument("--device", default="all", choices=["cpu", "cuda", "all"])
    ap.add_argument("--heavy", action="store_true", help="also time the heavy landmark model (the judge)")
    ap.add_argument("--smoke", action="store_true", help="batch 1, one timed run per row: seconds")
    a = ap.parse_args()
    a.repeats = a.repeats or (1 if a.smoke else 10)
    a.threads = a.threads or (1 if a.smoke else 2)
    a.warmup, a.batches = (1, (1,)) if a.smoke else (2, (1, 4))
    torch.set_num_threads(a.threads)
    devices = []
    if a.device in ("cpu", "all"): devices.append(torch.device("cpu"))
    if a.device in ("cuda", "all") and torch.cuda.is_available(): devices.append(torch.device("cuda"))
    rows = []
    for d in devices: bench_device(d, a, rows)
    print(f"machine: {machine_description()}")
    print(f"median of {a.repeats} runs; TFLite = ai-edge-litert with {a.threads} threads (CPU only)\n")
    print(f"| device | {'what':<30} | batch | ms/batch | ms/image | peak MB | TFLite ms | torch/TFLite |")
    print(f"|--------|{'-' * 32}|------:|---------:|---------:|--------:|----------:|-------------:|")
    for dev, what, B, *r in rows:
        if not r:
            print(f"| {dev:<6} | {what} | | | | | | |"); continue
        ms, mb, ref = r
        t = f"{ref:9.1f} | {ms / ref:12.2f}" if ref else f"{'–':>9} | {'–':>12}"
        print(f"| {dev:<6} | {what:<30} | {B:5d} | {ms:8.1f} | {ms / B:8.1f} | {mb:7.0f} | {t} |")


if __name__ == "__main__":
    main()
