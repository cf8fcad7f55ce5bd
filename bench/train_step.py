"""Seconds per Skeleton-CycleGAN training iteration (batch 1) and peak memory, for five objectives:

  (a) the reference's default objective (identity 0.5·λ_cyc, no skeleton term)
  (b) the paper's objective without the skeleton term
  (c) Skeleton-CycleGAN with H(real) from the dataset's cache (H runs on the two fakes only)
  (d) the same, recomputing H(real) every step
  (e) (c) with CPU bf16 autocast for G and D (H stays float32)

CPU (default): 128² with 6 residual blocks and 256² with 9, 2 threads, median of --repeats single iterations,
each configuration in its own process (so peak RSS is its own).
    python bench/train_step.py                  # ~10 min on 2 busy cores; --sizes 128 for ~3 min
GPU: iterations/s at 256² (9 blocks) for fp32, bf16 and bf16 + torch.compile, peak memory, and the fraction of the
GPU's peak FLOP/s reached (FLOPs counted with torch.utils.flop_counter on one iteration).
    python bench/train_step.py --gpu            # ~3-5 min on one H100 (compile included)
The real H (BlazePose full) is used when its model file is in the cache (SKELETON_CYCLEGAN_CACHE); otherwise a
stand-in conv net with a similar cost is used and the table says so.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {
    "a": ("reference: identity 0.5, no skeleton", dict(lambda_identity=0.5, lambda_skel=0.0)),
    "b": ("paper, no skeleton term", dict(lambda_skel=0.0)),
    "c": ("skeleton, cached H(real)", dict()),
    "d": ("skeleton, H(real) every step", dict(cache_h_real=False)),
    "e": ("(c) + CPU bf16 autocast", dict(amp="bf16")),
}
GPU_MODES = {"fp32": dict(amp="off"), "bf16": dict(amp="bf16"), "bf16+compile": dict(amp="bf16", compile=True),
             "bf16+compile-ro": dict(amp="bf16", compile=True, compile_mode="reduce-overhead")}  # ro: CUDA graphs
# dense peak TFLOP/s (tensor cores; fp32 convolutions run as TF32 by default in cuDNN)
PEAKS = {"H100 SXM": {"bf16": 989, "tf32": 494}, "H100 PCIe": {"bf16": 756, "tf32": 378}, "H100 NVL": {"bf16": 835, "tf32": 418},
         "H200": {"bf16": 989, "tf32": 494}, "A100": {"bf16": 312, "tf32": 156}, "L4": {"bf16": 121, "tf32": 60}}


def _peak(name: str):
    n = name.upper()
    if "H200" in n: return PEAKS["H200"]
    if "H100" in n: return PEAKS["H100 PCIe"] if "PCIE" in n else PEAKS["H100 NVL"] if "NVL" in n else PEAKS["H100 SXM"]
    for k, v in PEAKS.items():
        if k.upper() in n: return v
    return None


def _stand_in_H(device):
    "A frozen conv net shaped like H (256² in, 33×64×64 heatmaps out) for machines without the BlazePose file."
    import dataclasses
    import torch
    from torch import nn

    @dataclasses.dataclass
    class PoseOutput:                       # what the skeleton losses read of H's output (pose.PoseOutput needs tflite)
        heatmap_logits: torch.Tensor
        landmarks: torch.Tensor
        visibility: torch.Tensor

    class StandIn(nn.Module):
        name, num_keypoints = "stand-in", 33
        def __init__(self):
            super().__init__()
            c = [3, 24, 48, 96, 192]
            layers = []
            for i in range(4):
                layers += [nn.Conv2d(c[i], c[i + 1], 3, stride=2 if i < 2 else 1, padding=1), nn.ReLU(),
                           nn.Conv2d(c[i + 1], c[i + 1], 3, padding=1, groups=c[i + 1]), nn.ReLU()]
            self.body, self.head = nn.Sequential(*layers), nn.Conv2d(192, 33, 1)
            for p in self.parameters(): p.requires_grad_(False)
        def forward(self, x):
            S = x.shape[-1]
            with torch.autocast(x.device.type, enabled=False):
                x = nn.functional.interpolate(x.float(), size=(256, 256), mode="bilinear", align_corners=False)
                h = self.head(self.body(x))
                B = h.shape[0]
                p = torch.softmax(h.flatten(2), -1).view(B, 33, 64, 64)
                g = (torch.arange(64, device=x.device, dtype=torch.float32) + 0.5) * S / 64
                lm = torch.stack([(p.sum(2) * g).sum(-1), (p.sum(3) * g).sum(-1)], -1)
                return PoseOutput(heatmap_logits=h, landmarks=lm, visibility=torch.sigmoid(h.amax((2, 3))))
    return StandIn().to(device).eval()


def _load_H(device, stand_in=False):
    if stand_in: return _stand_in_H(device), "stand-in H (asked for)"
    try:
        from skeleton_cyclegan.pose import blazepose
        return blazepose(device=device), "BlazePose full"
    except Exception as e:  # no model file or no tflite package on this machine
        print(f"note: BlazePose unavailable ({type(e).__name__}: {str(e)[:120]}); using a stand-in H", file=sys.stderr)
        return _stand_in_H(device), "stand-in H (BlazePose unavailable)"


def child(spec: dict) -> dict:
    "Measure one configuration in this process."
    import torch
    import skeleton_cyclegan.train as T
    from skeleton_cyclegan.core import machine_description
    torch.set_num_threads(spec.get("threads", 2))
    dev = torch.device(spec["device"])
    cuda = dev.type == "cuda"
    if cuda: torch.backends.cudnn.benchmark = True
    H, h_name = _load_H(dev, spec.get("stand_in", False))
    S = spec["size"]
    g = torch.Generator().manual_seed(0)
    smooth = lambda: torch.nn.functional.interpolate(torch.rand(2, 3, 8, 8, generator=g) * 2 - 1, size=(S, S), mode="bicubic",
                                                     align_corners=False).clamp(-1, 1)
    x, y = smooth(), smooth()
    with torch.no_grad():
        ox, oy = H(x.to(dev)), H(y.to(dev))
    items = [dict(x=x[i], y=y[i], hx=ox.heatmap_logits[i].cpu().half().float(), hy=oy.heatmap_logits[i].cpu().half().float(),
                  lx=ox.landmarks[i].cpu(), ly=oy.landmarks[i].cpu(), vx=ox.visibility[i].cpu(), vy=oy.visibility[i].cpu())
             for i in range(2)]
    from skeleton_cyclegan.steps import collate
    batches = [collate([it]) for it in items]
    cfg = T.TrainConfig(size=S, n_blocks=spec["blocks"], device=spec["device"], max_iters=10**6, log_every=10**6,
                        sample_every=0, checkpoint_every=0, **spec["cfg"])
    import tempfile
    tr = T.Trainer(cfg, items, tempfile.mkdtemp(prefix="bench-train-"), H=H, progress=False)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    flops = None
    if spec.get("count_flops"):
        from torch.utils.flop_counter import FlopCounterMode
        with FlopCounterMode(display=False) as fc: tr.train_step(batches[0])
        flops = fc.get_total_flops()
    n = spec.get("iters", 1)
    for i in range(spec["warmup"]): tr.train_step(batches[i % 2])
    sync()
    if cuda: torch.cuda.reset_peak_memory_stats()
    times, cpu = [], []
    for r in range(spec["repeats"]):
        sync(); t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n): tr.train_step(batches[i % 2])
        sync(); times.append((time.perf_counter() - t0) / n); cpu.append((time.process_time() - c0) / n)
    out = dict(sec=statistics.median(times), all=times, cpu_sec=statistics.median(cpu), H=h_name, flops=flops, machine=machine_description(),
               rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if cuda: out.update(gpu_mem_mb=torch.cuda.max_memory_allocated() / 2**20, gpu=torch.cuda.get_device_name())
    return out


def flops_table(sizes):
    "FLOPs per iteration of each objective, counted (torch.utils.flop_counter) on one step at 64² and scaled to each size;"
    "H always runs at 256² inside, so its FLOPs are counted once and not scaled. Machine-independent, and quick."
    import torch
    import skeleton_cyclegan.train as T
    from torch.utils.flop_counter import FlopCounterMode
    torch.set_num_threads(2)
    H, h_name = _load_H("cpu")
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with FlopCounterMode(display=False) as fc: H(x)
    h_f = fc.get_total_flops()
    xg = x.clone().requires_grad_(True)
    with FlopCounterMode(display=False) as fc: H(xg).heatmap_logits.sum().backward()
    h_fb = fc.get_total_flops()
    with torch.no_grad(): o = H(x)
    item = dict(x=x[0], y=x[0].flip(-1), hx=o.heatmap_logits[0], hy=o.heatmap_logits[0], lx=o.landmarks[0], ly=o.landmarks[0],
                vx=o.visibility[0], vy=o.visibility[0])
    from skeleton_cyclegan.steps import collate
    batch = collate([item])
    print(f"H ({h_name}, input resized to 256²): forward {h_f / 1e9:.1f} GFLOP, forward+backward {h_fb / 1e9:.1f} GFLOP")
    print("| size | blocks | objective | GFLOP/iter (G, D: counted at 64² × (size/64)²; H: counted) | × (b) |")
    print("|---|---|---|---|---|")
    import tempfile
    for S in sizes:
        blocks = 9 if S >= 256 else 6
        gd = {}
        for k in ("a", "b"):
            tr = T.Trainer(T.TrainConfig(size=64, n_blocks=blocks, device="cpu", max_iters=10, sample_every=0, checkpoint_every=0,
                                         **CONFIGS[k][1]), [item], tempfile.mkdtemp(prefix="bench-flops-"), progress=False)
            with FlopCounterMode(display=False) as fc: tr.train_step(batch)
            gd[k] = fc.get_total_flops() * (S / 64) ** 2
        tot = {"a": gd["a"], "b": gd["b"], "c": gd["b"] + 2 * h_fb, "d": gd["b"] + 2 * h_fb + 2 * h_f}
        for k, v in tot.items():
            print(f"| {S}² | {blocks} | ({k}) {CONFIGS[k][0]} | {v / 1e9:.0f} | {v / tot['b']:.2f} |")
        print(f"| {S}² | {blocks} | (c)/(a) | | {tot['c'] / tot['a']:.2f} |")


def run_child(spec) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True)
    if r.returncode != 0:
        return dict(error=(r.stderr.strip().splitlines() or ["?"])[-1][:160])
    return json.loads(r.stdout.strip().splitlines()[-1])


def cpu_table(sizes, repeats, keys, warmup=None):
    rows = {}
    print(f"| size | blocks | objective | s/iter (median of {repeats}) | runs | CPU s/iter (all threads) | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for S in sizes:
        blocks = 9 if S >= 256 else 6
        for k in keys:
            r = run_child(dict(size=S, blocks=blocks, device="cpu", cfg=CONFIGS[k][1], warmup=(1 if S < 256 else 0) if warmup is None else warmup,
                               repeats=repeats, threads=2))
            rows[S, k] = r
            if "error" in r: print(f"| {S}² | {blocks} | ({k}) {CONFIGS[k][0]} | error: {r['error']} | | | |"); continue
            print(f"| {S}² | {blocks} | ({k}) {CONFIGS[k][0]} | {r['sec']:.2f} | {', '.join(f'{t:.2f}' for t in r['all'])} | "
                  f"{r['cpu_sec']:.2f} | {r['rss_mb']:.0f} |", flush=True)
    for S in sizes:
        for what in ("sec", "cpu_sec"):
            a, b, c = (rows.get((S, k), {}).get(what) for k in "abc")
            if b and c: print(f"\n{S}² ({'wall' if what == 'sec' else 'CPU'} time): (c)/(b) = {c / b:.2f} (target ≤ 1.15)"
                              + (f", (c)/(a) = {c / a:.2f} (target ≤ 0.75)" if a else ""))
    d = next((r for r in rows.values() if "machine" in r), None)
    if d: print(f"machine: {d['machine']}; H: {d['H']}")


def gpu_table(repeats, iters, modes, keys, stand_in=False):
    print(f"| objective | mode | it/s (median of {repeats}×{iters}) | ms/iter | TFLOP/iter | TFLOP/s | % of peak | peak GPU mem MB |")
    print("|---|---|---|---|---|---|---|---|")
    info = None
    for k in keys:
        for m in modes:
            spec = dict(size=256, blocks=9, device="cuda", cfg={**CONFIGS[k][1], **GPU_MODES[m]}, warmup=15 if "compile" in m else 5,
                        repeats=repeats, iters=iters, threads=4, count_flops=m == "fp32", stand_in=stand_in)
            r = run_child(spec)
            if "error" in r: print(f"| ({k}) | {m} | error: {r['error']} | | | | | |", flush=True); continue
            info = info or r
            if r.get("flops"): info.setdefault("flops_by_key", {})[k] = r["flops"]
            fl = (info.get("flops_by_key") or {}).get(k)
            peak = _peak(r.get("gpu", ""))
            ps = peak and (peak["tf32"] if m == "fp32" else peak["bf16"])
            tfs = fl * (1 / r["sec"]) / 1e12 if fl else None
            frac = f"{100 * tfs / ps:.1f}% of {ps} ({'tf32' if m == 'fp32' else 'bf16'})" if tfs and ps else "?"
            print(f"| ({k}) {CONFIGS[k][0]} | {m} | {1 / r['sec']:.1f} | {1000 * r['sec']:.2f} | "
                  f"{fl / 1e12 if fl else float('nan'):.3f} | {tfs or float('nan'):.1f} | {frac} | {r['gpu_mem_mb']:.0f} |", flush=True)
    if info:
        print(f"\nmachine: {info['machine']}; H: {info['H']}")
        print("paper's schedule: 200 epochs × 1500 frames = 300k iterations: "
              "hours at X it/s = 300000 / X / 3600 (≤ 1 h needs ≥ 83 it/s)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gpu", action="store_true", help="measure on CUDA at 256²: fp32, bf16, bf16+compile")
    p.add_argument("--sizes", default="128,256", help="CPU: comma-separated sizes")
    p.add_argument("--objectives", default=None, help="which of a,b,c,d,e (CPU default: all; GPU default: c)")
    p.add_argument("--repeats", type=int, default=None, help="timed repetitions (CPU default 3, GPU 5)")
    p.add_argument("--warmup", type=int, default=None, help="CPU: untimed iterations first (default 1 below 256², 0 at 256²)")
    p.add_argument("--iters", type=int, default=20, help="GPU: iterations per timed repetition")
    p.add_argument("--modes", default="fp32,bf16,bf16+compile,bf16+compile-ro", help="GPU modes (compile-ro: mode reduce-overhead, CUDA graphs)")
    p.add_argument("--flops", action="store_true", help="CPU: count FLOPs per iteration of (a)-(d) instead of timing (quick)")
    p.add_argument("--stand-in-h", action="store_true", help="GPU: use the stand-in H even when BlazePose is available")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(json.loads(a.child))))
    elif a.flops:
        flops_table([int(s) for s in a.sizes.split(",")])
    elif a.gpu:
        gpu_table(a.repeats or 5, a.iters, a.modes.split(","), (a.objectives or "c").split(","), a.stand_in_h)
    else:
        cpu_table([int(s) for s in a.sizes.split(",")], a.repeats or 3, (a.objectives or "a,b,c,d,e").split(","), a.warmup)
