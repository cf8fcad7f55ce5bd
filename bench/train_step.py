"""Seconds per training iteration (batch 1) of the real Trainer, for the default objective and those it is compared to:

  (a) reference: identity 0.5·λ_cyc, no skeleton term (the public CycleGAN's objective)
  (b) paper, no skeleton term
  (c) default: TrainConfig() as it is (coords form, random views, retargeting to the other build, λ_skel automatic)
  (d) (c) recomputing H(real) every step instead of reading the dataset's cache
  (e) (c) with bf16 autocast for G and D (H stays float32)
  (f) coords form, no views, no retargeting (what footage resolves to)
  (g) (f) with the frame-to-frame term L_temp (lambda_temp 1: G, F and H also see each frame's successor)
  (h) (f) with the person-mask term L_mask (lambda_mask 1: H's mask of the fakes against x's and y's cached ones)

Skeleton-term overhead = (c) / (b) (target ≤ 1.15); L_temp's = (g) / (f), L_mask's = (h) / (f) (`--objectives f,g,h`:
not in the default).
The data are two synthetic dancers (8 frames each) prepared at max(256, size) as `train` prepares them, with H(real)
cached, read through `train.training_data` and handed to the Trainer, which gives the dataset its retarget offsets
on its own path. Items are collated before timing (the loader's cost is bench/data.py's); `train_step` is timed with
a device synchronisation only at the boundaries of each timed repetition.

CPU (default): 128² with 6 residual blocks and 256² with 9, 2 threads, median of --repeats single iterations after
one warm-up, each configuration in its own process (so peak RSS is its own).
    python bench/train_step.py                      # ~6 min on 2 quiet cores; --sizes 128 for ~1.5 min
    python bench/train_step.py --flops              # GFLOP per iteration of (a)-(d), counted (~2 min)
GPU: iterations/s at 256² (9 blocks) for fp32 (TF32 convolutions), bf16, bf16 + CUDA graphs and fp16 + GradScaler,
peak memory, and the share of the GPU's peak FLOP/s (FLOPs counted with torch.utils.flop_counter on one iteration).
    python bench/train_step.py --gpu                # ~1-2 min on one H100/H200
Smoke (tiny networks at 64², a stand-in H, one process, a few seconds; the test suite runs it):
    python bench/train_step.py --smoke
The real H (BlazePose full) is used when its model file is at hand; otherwise a stand-in conv net with its interface
and a similar cost, and the table says so. A row that fails prints its error and the script exits with status 1.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from skeleton_cyclegan.config import auto_skeleton

OBJECTIVES = {
    "a": ("reference: identity 0.5, no skeleton", dict(lambda_identity=0.5, lambda_skel=0.0)),
    "b": ("paper, no skeleton term", dict(lambda_skel=0.0)),
    "c": ("default (coords, views, retarget, λ_skel auto)", dict()),
    "d": ("default, H(real) recomputed every step", dict(cache_h_real=False)),
    "e": ("default + bf16 autocast", dict(amp="bf16")),
    "f": ("coords, no views, no retarget (footage)", auto_skeleton("coords", footage=True)),
    "g": ("(f) + L_temp (lambda_temp 1)", dict(auto_skeleton("coords", footage=True), lambda_temp=1.0)),
    "h": ("(f) + L_mask (lambda_mask 1)", dict(auto_skeleton("coords", footage=True), lambda_mask=1.0)),
}
# the GPU rows: the run settings a user picks (TrainConfig's amp and cuda_graphs; data_on_device stays automatic)
GPU_MODES = {"fp32": dict(amp="off", cuda_graphs=False), "bf16": dict(amp="bf16", cuda_graphs=False),
             "bf16+graphs": dict(amp="bf16", cuda_graphs=True), "fp16+scaler": dict(amp="fp16", cuda_graphs=False)}
TINY = dict(ngf=8, ndf=8, n_blocks=1, pool_size=2)   # --smoke: tiny networks, a pool full after 2 steps
# dense peak TFLOP/s: (bf16/fp16 tensor cores, fp32 convolutions: TF32 from Ampere on, plain fp32 before)
PEAKS = {"H200": (989, 494), "H100 PCIE": (756, 378), "H100 NVL": (835, 418), "H100": (989, 494),
         "A100": (312, 156), "A10G": (70, 35), "A10": (125, 62.5), "L40S": (362, 183), "L4": (121, 60),
         "V100": (125, 15.7), "T4": (65, 8.1)}


def gpu_peak(name: str):
    "(half-precision, fp32/TF32) dense peak TFLOP/s of the GPU called `name`, or None when not in the table."
    n = name.upper()
    return next((v for k, v in PEAKS.items() if k in n), None)


class StandInH(nn.Module):
    """A frozen conv net with BlazePose's interface and a similar cost (256² in, 33×64×64 heat maps and a 64² person
    mask out); `width` < 1 makes it cheaper (--smoke)."""
    name, num_keypoints, input_size, heatmap_size = "blazepose-stand-in", 33, 256, 64

    def __init__(self, width: float = 1.0):
        super().__init__()
        from skeleton_cyclegan.pose import pose_backend
        self.flip_index = list(pose_backend("blazepose").flip_index)
        c, layers = [3] + [max(4, round(n * width)) for n in (24, 48, 96, 192)], []
        for i in range(4):
            layers += [nn.Conv2d(c[i], c[i + 1], 3, stride=2 if i < 2 else 1, padding=1), nn.ReLU(),
                       nn.Conv2d(c[i + 1], c[i + 1], 3, padding=1, groups=c[i + 1]), nn.ReLU()]
        self.body, self.head, self.seg = nn.Sequential(*layers), nn.Conv2d(c[-1], 33, 1), nn.Conv2d(c[-1], 1, 1)
        self.requires_grad_(False)

    def forward(self, x):
        from skeleton_cyclegan.pose import PoseOutput
        S = x.shape[-1]
        x = nn.functional.interpolate(x.float(), size=(256, 256), mode="bilinear", align_corners=False)
        f = self.body(x)
        h = self.head(f)
        p = torch.softmax(h.flatten(2), -1).view_as(h)
        g = (torch.arange(64, device=x.device, dtype=torch.float32) + 0.5) * S / 64
        lm = torch.stack([(p.sum(2) * g).sum(-1), (p.sum(3) * g).sum(-1)], -1)
        vis = torch.sigmoid(h.amax((2, 3)))
        return PoseOutput(heatmap_logits=h, landmarks=lm, visibility=vis, presence=vis, pose_flag=vis.mean(1),
                          segmentation=self.seg(f)[:, 0])


def load_H(device, stand_in=False, smoke=False):
    "(H, what it is): BlazePose full, or the stand-in when asked or when BlazePose cannot be loaded here."
    if smoke: return StandInH(width=0.25).to(device).eval(), "small stand-in H (smoke)"
    if stand_in: return StandInH().to(device).eval(), "stand-in H"
    try:
        from skeleton_cyclegan.pose import blazepose
        return blazepose(device=device), "BlazePose full"
    except Exception as e:  # no model file on this machine
        print(f"note: BlazePose unavailable ({type(e).__name__}: {str(e)[:120]}); using a stand-in H", file=sys.stderr)
        return StandInH().to(device).eval(), "stand-in H (BlazePose unavailable)"


def make_data(folder, size, H, n_frames=8) -> list[str]:
    "Two synthetic dancers rendered into prepared folders (crops of `size` px) with H(real) cached; their paths."
    from skeleton_cyclegan.render import make_dataset
    from skeleton_cyclegan.synthetic import DOMAIN_A, DOMAIN_B
    return [str(make_dataset(d, Path(folder) / n, n_frames, size, seed, H=H, progress=False).folder)
            for n, d, seed in (("A", DOMAIN_A, 0), ("B", DOMAIN_B, 1))]


def make_config(**kw):
    "A TrainConfig, or a clear error naming the settings this version of the package does not have yet."
    from skeleton_cyclegan.config import TrainConfig
    unknown = sorted(set(kw) - {f.name for f in dataclasses.fields(TrainConfig)})
    if unknown: raise ValueError(f"this version's TrainConfig has no {', '.join(unknown)}")
    return TrainConfig(**kw)


def bench_trainer(cfg, data, H, out):
    "The Trainer on `training_data` of the prepared folders, and one collated batch per item (epoch 0)."
    from skeleton_cyclegan.steps import collate
    from skeleton_cyclegan.train import Trainer, training_data
    ds = training_data(*data, cfg.resolved(), H, progress=False)
    tr = Trainer(cfg, ds, out, H=H, progress=False)
    if tr.cfg.skeleton_on and tr.cfg.skel_retarget and ds.offsets is None:
        raise RuntimeError("the dataset has no retarget offsets: the bench would not measure the default")
    ds.set_epoch(0)
    return tr, [collate([ds[i]]) for i in range(len(ds))]


def sync_of(device):
    return torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)


def count_flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as fc: fn()
    return fc.get_total_flops()


def child(spec: dict) -> dict:
    "Measure one configuration in this process."
    from skeleton_cyclegan.core import machine_description
    torch.set_num_threads(spec["threads"])
    dev = torch.device(spec["device"])
    H, h_name = load_H(dev, spec["stand_in"], spec["smoke"])
    cfg = make_config(size=spec["size"], device=spec["device"], max_iters=10**6, log_every=10**6, sample_every=0,
                      checkpoint_every=0, tensorboard=False, **spec["nets"], **spec["cfg"])
    tr, batches = bench_trainer(cfg, spec["data"], H, tempfile.mkdtemp(prefix="run-", dir=spec["work"]))
    if tr.cfg.data_on_device:   # the batches made on the device, as training makes them (inside the timed steps)
        it = tr._batches()
        step = lambda i: tr.train_step(next(it))
    else: step = lambda i: tr.train_step(batches[i % len(batches)])
    sync, n = sync_of(dev), spec["iters"]
    flops = count_flops(lambda: step(0)) if spec.get("count_flops") else None
    for i in range(spec["warmup"]): step(i)
    sync()
    if dev.type == "cuda": torch.cuda.reset_peak_memory_stats()
    times, cpu = [], []
    for _ in range(spec["repeats"]):
        sync(); t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n): step(i)
        sync(); times.append((time.perf_counter() - t0) / n); cpu.append((time.process_time() - c0) / n)
    out = dict(sec=statistics.median(times), all=times, cpu_sec=statistics.median(cpu), H=h_name, flops=flops,
               machine=machine_description(), amp=tr.cfg.amp, blocks=tr.cfg.n_blocks,
               graphs=bool(getattr(getattr(tr, "_graph", None), "captured", False)),   # a CUDA graph replays
               data_on_device=bool(tr.cfg.data_on_device),
               rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if dev.type == "cuda":
        out.update(gpu_mem_mb=torch.cuda.max_memory_allocated() / 2**20, gpu=torch.cuda.get_device_name())
    return out


def run_child(spec, in_process=False) -> dict:
    "One configuration in its own process (or in this one, for --smoke); a failure comes back as {'error': line}."
    if in_process:
        try: return child(spec)
        except Exception as e: return dict(error=f"{type(e).__name__}: {str(e).strip().splitlines()[0][:160]}")
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True)
    if r.returncode != 0: return dict(error=(r.stderr.strip().splitlines() or ["?"])[-1][:160])
    return json.loads(r.stdout.strip().splitlines()[-1])


def blocks_for(size, nets):
    from skeleton_cyclegan.networks import default_n_blocks
    return nets.get("n_blocks") or default_n_blocks(size)


def cpu_table(a, work, data, failed) -> None:
    rows = {}
    print(f"| size | blocks | objective | amp | s/iter (median of {a.repeats}) | runs | CPU s/iter (all threads) "
          "| peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for S in a.sizes:
        for k in a.objectives:
            spec = dict(size=S, device="cpu", cfg=OBJECTIVES[k][1], nets=a.nets, warmup=a.warmup, repeats=a.repeats,
                        iters=1, threads=a.threads, stand_in=a.stand_in_h, smoke=a.smoke, data=data[S], work=work)
            r = rows[S, k] = run_child(spec, a.smoke)
            head = f"| {S}² | {blocks_for(S, a.nets)} | ({k}) {OBJECTIVES[k][0]} |"
            if "error" in r:
                failed.append(r["error"]); print(f"{head} | error: {r['error']} | | | |", flush=True); continue
            print(f"{head} {r['amp']} | {r['sec']:.3f} | {', '.join(f'{t:.3f}' for t in r['all'])} | "
                  f"{r['cpu_sec']:.3f} | {r['rss_mb']:.0f} |", flush=True)
    print()
    for S in a.sizes:
        for what in ("sec", "cpu_sec"):
            ra, rb, rc = (rows.get((S, k), {}).get(what) for k in "abc")
            if rb and rc:
                print(f"{S}² ({'wall' if what == 'sec' else 'CPU'} time): skeleton-term overhead (c)/(b) = "
                      f"{rc / rb:.2f} (target ≤ 1.15)" + (f", (c)/(a) = {rc / ra:.2f}" if ra else ""))
            rf = rows.get((S, "f"), {}).get(what)
            for k, term in (("g", "L_temp"), ("h", "L_mask")):
                r = rows.get((S, k), {}).get(what)
                if rf and r:
                    print(f"{S}² ({'wall' if what == 'sec' else 'CPU'} time): {term} overhead ({k})/(f) = "
                          f"{r / rf:.2f}")
    d = next((r for r in rows.values() if "machine" in r), None)
    if d: print(f"machine: {d['machine']}; load average {os.getloadavg()[0]:.1f}; H: {d['H']}")


def flops_table(a, work, data, failed) -> None:
    "GFLOP per iteration of (a)-(d), counted on one step of the real Trainer at each size (machine-independent)."
    torch.set_num_threads(a.threads)
    H, h_name = load_H("cpu", a.stand_in_h, a.smoke)
    print(f"| size | blocks | objective | GFLOP/iter (counted, H: {h_name}) | × (b) |")
    print("|---|---|---|---|---|")
    for S in a.sizes:
        tot = {}
        for k in "abcd":
            try:
                cfg = make_config(size=S, device="cpu", max_iters=10, sample_every=0, checkpoint_every=0,
                                  tensorboard=False, **a.nets, **OBJECTIVES[k][1])
                tr, batches = bench_trainer(cfg, data[S], H, tempfile.mkdtemp(prefix="flops-", dir=work))
                tot[k] = count_flops(lambda: tr.train_step(batches[0]))
            except Exception as e:
                tot[k] = e
                failed.append(str(e))
        for k, v in tot.items():
            head = f"| {S}² | {blocks_for(S, a.nets)} | ({k}) {OBJECTIVES[k][0]} |"
            if isinstance(v, Exception): print(f"{head} error: {str(v)[:160]} | |"); continue
            rel = f"{v / tot['b']:.2f}" if isinstance(tot.get("b"), int) else "?"
            print(f"{head} {v / 1e9:.1f} | {rel} |", flush=True)


def gpu_table(a, work, data, failed) -> None:
    print(f"| objective | mode | it/s (median of {a.repeats}×{a.iters}) | ms/iter | TFLOP/iter | TFLOP/s | % of peak "
          "| peak GPU mem MB |")
    print("|---|---|---|---|---|---|---|---|")
    cuda = torch.cuda.is_available()
    if not cuda and not a.smoke:
        print("| - | - | skipped: no CUDA device on this machine | | | | | |")
        return
    if not cuda: print("| (the rows below ran on the CPU: --smoke without CUDA only checks that they run) "
                       "| | | | | | | |")
    S, info, flops = a.gpu_size, None, {}
    for k in a.objectives if a.gpu else ["c"]:   # --smoke after the CPU table: the default objective
        for m in a.modes:
            graphs = GPU_MODES[m]["cuda_graphs"]
            mode = {**GPU_MODES[m], **({} if cuda else dict(data_on_device=True))}   # CPU: the device data path too
            spec = dict(size=S, device="cuda" if cuda else "cpu", cfg={**OBJECTIVES[k][1], **mode}, nets=a.nets,
                        warmup=a.gpu_warmup, repeats=a.repeats, iters=a.iters, threads=4 if cuda else a.threads,
                        stand_in=a.stand_in_h,
                        smoke=a.smoke, count_flops=not graphs and k not in flops, data=data[S], work=work)
            r = run_child(spec, a.smoke)
            if "error" in r:
                failed.append(r["error"]); print(f"| ({k}) | {m} | error: {r['error']} | | | | | |", flush=True)
                continue
            info = info or r
            if r.get("flops"): flops[k] = r["flops"]
            fl, peak = flops.get(k), gpu_peak(r.get("gpu", ""))
            ps = peak and peak[1 if m == "fp32" else 0]
            tfs = fl / r["sec"] / 1e12 if fl else None
            frac = f"{100 * tfs / ps:.1f}% of {ps}" if tfs and ps else "?"
            how = " (capture failed: eager)" if graphs and not r["graphs"] and cuda else ""
            mem = f"{r['gpu_mem_mb']:.0f}" if cuda else f"- (CPU: {r['rss_mb']:.0f} MB RSS)"
            print(f"| ({k}) {OBJECTIVES[k][0]} | {m}{how} | {1 / r['sec']:.1f} | {1000 * r['sec']:.2f} | "
                  f"{fl / 1e12 if fl else float('nan'):.3f} | {tfs or float('nan'):.1f} | {frac} | "
                  f"{mem} |", flush=True)
    if info:
        where = "on the device" if info["data_on_device"] else "on the host"
        print(f"\n{S}², {info['blocks']} blocks, batches made {where}; machine: {info['machine']}; H: {info['H']}")
        print("paper's schedule: 200 epochs × 1500 frames = 300k iterations: hours at X it/s = 300000 / X / 3600 "
              "(≤ 1 h needs ≥ 83 it/s)")


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gpu", action="store_true", help="the GPU table (fp32, bf16, bf16+graphs, fp16+scaler)")
    p.add_argument("--smoke", action="store_true", help="tiny networks at 64², stand-in H, in one process (seconds)")
    p.add_argument("--flops", action="store_true", help="count GFLOP per iteration of (a)-(d) instead of timing")
    p.add_argument("--sizes", default=None, help="CPU: comma-separated sizes (default 128,256)")
    p.add_argument("--gpu-size", type=int, default=None, help="GPU: the size (default 256)")
    p.add_argument("--objectives", default=None, help="which of a-h (CPU default: a,b,c,d,e; GPU default: c)")
    p.add_argument("--repeats", type=int, default=None, help="timed repetitions (CPU default 3, GPU 5)")
    p.add_argument("--warmup", type=int, default=1, help="CPU: untimed iterations first")
    p.add_argument("--iters", type=int, default=None, help="GPU: iterations per timed repetition (default 20)")
    p.add_argument("--modes", default=",".join(GPU_MODES), help=f"GPU modes, of {', '.join(GPU_MODES)}")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default 2; --smoke: 1)")
    p.add_argument("--stand-in-h", action="store_true", help="use the stand-in H even where BlazePose is available")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    a.nets = TINY if a.smoke else {}
    a.threads = a.threads or (1 if a.smoke else 2)
    a.sizes = [int(s) for s in (a.sizes or ("64" if a.smoke else "128,256")).split(",")]
    a.gpu_size = a.gpu_size or (64 if a.smoke else 256)
    a.objectives = (a.objectives or ("c" if a.gpu else "a,b,c,d,e")).split(",")
    a.repeats = a.repeats or (2 if a.smoke else 5 if a.gpu else 3)
    a.iters = a.iters or (1 if a.smoke else 20)
    # the step is captured in a CUDA graph once the image pools are full (50 fakes; 2 in --smoke) and 3 warm-ups
    a.gpu_warmup = (8 if torch.cuda.is_available() else 2) if a.smoke else 64
    a.modes = a.modes.split(",")
    bad = [k for k in a.objectives if k not in OBJECTIVES] + [m for m in a.modes if m not in GPU_MODES]
    if bad: p.error(f"unknown objective or mode: {', '.join(bad)}")
    return a


def main(argv=None) -> int:
    a = parse(argv)
    if a.child:
        print(json.dumps(child(json.loads(a.child)))); return 0
    torch.set_num_threads(a.threads)
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-train-") as work:
        sizes = {a.gpu_size} if a.gpu else set(a.sizes) | ({a.gpu_size} if a.smoke else set())
        cuda = a.gpu and torch.cuda.is_available()
        H, _ = load_H("cuda" if cuda else "cpu", a.stand_in_h, a.smoke)
        prep = {S: S if a.smoke else max(256, S) for S in sizes}   # the crops `train` prepares (tiny in --smoke)
        made = {P: make_data(Path(work) / f"data-{P}", P, H) for P in set(prep.values())}
        data = {S: made[P] for S, P in prep.items()}
        del H
        if a.gpu: gpu_table(a, work, data, failed)
        elif a.flops: flops_table(a, work, data, failed)
        else:
            cpu_table(a, work, data, failed)
            if a.smoke:   # the other tables' code paths too
                print(); flops_table(a, work, data, failed)
                print(); gpu_table(a, work, data, failed)
    if failed: print(f"\n{len(failed)} row(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
