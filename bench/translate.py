"""Whole-video translation against G's own limit: frames/s of G's bare forward pass and of `translate`, and the ratio.

    .venv/bin/python bench/translate.py                    # 256², 9 blocks, float32 and bf16, this CPU (~3 min on 2 quiet cores)
    .venv/bin/python bench/translate.py --device cuda      # the same on a GPU, 512 frames a run (~1 min)
    .venv/bin/python bench/translate.py --smoke            # a tiny G and clip on the CPU, seconds (the tests run it)

G's bare forward: G over as many frames, in batches already on the device (inference mode, the row's precision, the
layout translate uses). Whole video: `translate` of a prepared clip (a synthetic dancer, crops of max(256, size) px)
to an mp4, everything included (loading G, reading and resizing the crops, G, making the frames, H.264 encoding), for
two outputs: 'crops' (the generated crops alone) and 'panel' (source | generated | skeleton, translate's default).
Each is the median of --reps rounds after a one-batch warm-up; within a round G and the two translations take turns,
so that other work on the machine slows them alike. ratio = translate / G.
Target: ratio ≥ 0.9 and, on one H100/H200, ≥ 300 frames/s. Timings on a machine that runs other work are rough.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from skeleton_cyclegan.checkpoint import GENERATORS_FORMAT, save_checkpoint
from skeleton_cyclegan.core import machine_description, pick_device
from skeleton_cyclegan.folder import write_prepared
from skeleton_cyclegan.networks import ResnetGenerator, init_weights, to_channels_last
from skeleton_cyclegan.precision import cpu_native_bf16
from skeleton_cyclegan.render import render_frames
from skeleton_cyclegan.synthetic import DOMAIN_A
from skeleton_cyclegan.translate import amp_autocast, inference_amp, translate

OUTPUTS = ("crops", "panel")


def _sync(dev):
    if dev.type == "cuda": torch.cuda.synchronize(dev)


def make_inputs(folder: Path, size: int, n_blocks: int, ngf: int, n_frames: int, side: int):
    "A run folder with a random G (and F) and a prepared clip of `n_frames` synthetic dancer crops of `side` px."
    g = init_weights(ResnetGenerator(ngf=ngf, n_blocks=n_blocks), generator=torch.Generator().manual_seed(0))
    st = {"format": GENERATORS_FORMAT, "package_version": "bench", "iteration": 0,
          "config": {"size": size, "ngf": ngf, "n_blocks": n_blocks}, "G": g.state_dict(), "F": g.state_dict()}
    (folder / "run").mkdir(parents=True, exist_ok=True)
    save_checkpoint(st, folder / "run" / "generators.pt")
    k = min(n_frames, 16)   # a few distinct poses, repeated: rendering is not what is measured
    frames, mot = render_frames(DOMAIN_A, k, size=side, seed=0, progress=False)
    idx = np.arange(n_frames) % k
    boxes = np.tile(np.array([[side / 2, side / 2, side]], np.float32), (n_frames, 1))
    pv = write_prepared(folder / "clip", frames[idx], (mot.keypoints * side)[idx], np.ones((n_frames, 33), np.float32),
                        boxes, dict(fps=25.0), heatmap_logits=np.zeros((n_frames, 33, 8, 8), np.float16),
                        progress=False)
    return folder / "run", pv.folder, g


def bare_g(g, size: int, batch: int, dev, amp: str):
    "A function running G alone over batches already on the device, as translate runs it: seconds for `n` frames."
    g = g.to(dev).eval()
    x = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(1)).mul(2).sub(1).to(dev)
    x = x.contiguous(memory_format=torch.channels_last)   # as translate feeds G
    if dev.type == "cuda": to_channels_last(g)

    def seconds(n: int) -> float:
        _sync(dev); t = time.perf_counter()
        with torch.inference_mode():
            for _ in range(-(-n // batch)):
                with amp_autocast(amp, dev): g(x)
        _sync(dev)
        return time.perf_counter() - t
    return seconds


def whole_video(run, clip, out: Path, output: str, batch: int, dev, amp: str):
    "A function running `translate` on the clip: seconds for its first `n` frames."
    def seconds(n: int) -> float:
        _sync(dev); t = time.perf_counter()
        translate(run, clip, out, output=output, batch=batch, device=dev, amp=amp, max_frames=n, progress=False)
        _sync(dev)
        return time.perf_counter() - t
    return seconds


def measure(fns: dict, n: int, batch: int, reps: int) -> dict:
    """Frames/s of each function over `n` frames: median of `reps` rounds after a one-batch warm-up; the functions
    take turns within a round, so that load from other work falls on all of them alike."""
    for f in fns.values(): f(batch)
    ts = {k: [] for k in fns}
    for _ in range(reps):
        for k, f in fns.items(): ts[k].append(f(n))
    return {k: n / statistics.median(v) for k, v in ts.items()}


def amp_label(amp: str, dev) -> str:
    if amp == "off": return "fp32" + (" (TF32 convs)" if dev.type == "cuda" and torch.backends.cudnn.allow_tf32 else "")
    if amp == "bf16" and dev.type == "cpu" and not cpu_native_bf16(): return "bf16 (no native bf16: emulated)"
    return amp


def run(args) -> list[dict]:
    dev = pick_device(args.device)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_translate_") as tmp:
        t0 = time.perf_counter()
        run_dir, clip, g = make_inputs(Path(tmp), args.size, args.blocks, args.ngf, args.frames, max(256, args.size)
                                       if not args.smoke else 2 * args.size)
        print(f"inputs ready in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        for amp in args.amps.split(","):
            amp = inference_amp(amp, dev)
            fns = dict(g_fps=bare_g(g, args.size, args.batch, dev, amp))
            for o in OUTPUTS: fns[o] = whole_video(run_dir, clip, Path(tmp) / f"{o}.mp4", o, args.batch, dev, amp)
            rows.append(dict(precision=amp_label(amp, dev), **measure(fns, args.frames, args.batch, args.reps)))
            print(f"  {rows[-1]}", file=sys.stderr)
    return rows


def table(rows, args, dev) -> str:
    head = (f"translate vs G's bare forward: {args.size}², G {args.blocks} blocks ngf {args.ngf}, batch {args.batch}, "
            f"{args.frames}-frame clip, median of {args.reps}{' (smoke)' if args.smoke else ''}\n"
            f"machine: {machine_description()} [{dev}]\n")
    lines = ["| precision | G forward (frames/s) | translate crops (frames/s) | ratio | translate panel (frames/s) "
             "| ratio |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['precision']} | {r['g_fps']:.2f} | {r['crops']:.2f} | {r['crops'] / r['g_fps']:.2f} | "
                     f"{r['panel']:.2f} | {r['panel'] / r['g_fps']:.2f} |")
    return head + "\n".join(lines) + "\ntarget: ratio ≥ 0.9; ≥ 300 frames/s on one H100/H200. Rough where the machine" \
                                     " runs other work."


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--size", type=int, default=256, help="the run's size (default 256)")
    p.add_argument("--blocks", type=int, default=9, help="G's residual blocks (default 9)")
    p.add_argument("--ngf", type=int, default=64, help="G's width (default 64)")
    p.add_argument("--batch", type=int, default=8, help="frames per G call (translate's default 8)")
    p.add_argument("--frames", type=int, default=None, help="frames in the clip (default 16 on CPU, 512 on CUDA)")
    p.add_argument("--reps", type=int, default=3, help="timed repetitions (default 3)")
    p.add_argument("--amps", default="off,bf16", help="precisions, comma-separated: off (fp32), bf16, fp16, auto")
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    p.add_argument("--smoke", action="store_true", help="tiny G (32², 1 block, ngf 8), 8 frames, 1 rep, on the CPU")
    args = p.parse_args(argv)
    if args.smoke:
        args.device, args.size, args.blocks, args.ngf, args.batch, args.reps = "cpu", 32, 1, 8, 4, 1
        args.frames = args.frames or 8
    dev = pick_device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available(): sys.exit("--device cuda: no CUDA device here.")
    args.frames = args.frames or (512 if dev.type == "cuda" else 16)
    rows = run(args)
    print(table(rows, args, dev))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(machine=machine_description(), args=vars(args), rows=rows), indent=1))


if __name__ == "__main__":
    main()
