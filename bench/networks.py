"""Speed of the generator and the discriminator: forward and forward+backward, batch 1, fp32 and bf16 autocast.

    .venv/bin/python bench/networks.py                      # 128² (G 6 blocks) and 256² (G 9 blocks), this CPU
    .venv/bin/python bench/networks.py --reps 7 --formats both --device cuda
    .venv/bin/python bench/networks.py --smoke              # 32², one run per cell: seconds (the test suite runs it)

Prints one table (median of `--reps` timed runs after one warm-up, milliseconds; a cell stops after 20 s with
at least 2 runs) and the machine it ran on.
The networks run channels-last by default, as the training loop runs them.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from skeleton_cyclegan.core import machine_description, pick_device
from skeleton_cyclegan.networks import (PatchDiscriminator, ResnetGenerator, default_n_blocks, init_weights,
                                        to_channels_last)


def _sync(device):
    if device.type == "cuda": torch.cuda.synchronize()


def time_it(fn, device, reps, cap_s=20.0):
    "Median and min seconds of `fn()` over `reps` runs after one warm-up (fewer, at least 2, once `cap_s` is spent)."
    fn(); _sync(device)
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); fn(); _sync(device); ts.append(time.perf_counter() - t)
        if len(ts) >= 2 and sum(ts) > cap_s: break   # keeps the whole run to a few minutes on a slow, shared CPU
    return statistics.median(ts), min(ts)


def bench(net_name, size, dtype, fmt, device, reps):
    gen = torch.Generator().manual_seed(0)
    net = (ResnetGenerator(n_blocks=default_n_blocks(size)) if net_name == "G" else PatchDiscriminator())
    net = init_weights(net, generator=gen).to(device)
    x = (torch.rand(1, 3, size, size, generator=gen) * 2 - 1).to(device)
    if fmt == "channels_last":
        to_channels_last(net); x = x.to(memory_format=torch.channels_last)
    amp = dict(device_type=device.type, dtype=torch.bfloat16, enabled=dtype == "bf16")

    def fwd():
        with torch.no_grad(), torch.autocast(**amp): net(x)

    def fwd_bwd():
        net.zero_grad(set_to_none=True)
        with torch.autocast(**amp):
            out = net(x)
            loss = out.float().square().mean() if net_name == "D" else out.float().abs().mean()
        loss.backward()

    return time_it(fwd, device, reps), time_it(fwd_bwd, device, reps)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=None, help="sides (default 128 256; --smoke: 32)")
    p.add_argument("--reps", type=int, default=None, help="timed runs per cell, median reported (default 3; --smoke 1)")
    p.add_argument("--dtypes", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    p.add_argument("--formats", default="channels_last", choices=["channels_last", "contiguous", "both"])
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default 2, the dev machine's cores; "
                                                             "--smoke: 1)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--smoke", action="store_true", help="32², one timed run per cell: seconds")
    a = p.parse_args(argv)
    a.sizes = a.sizes or ([32] if a.smoke else [128, 256])
    a.reps = a.reps or (1 if a.smoke else 3)
    a.threads = a.threads or (1 if a.smoke else 2)
    torch.set_num_threads(a.threads)
    device = pick_device(a.device)
    fmts = ["channels_last", "contiguous"] if a.formats == "both" else [a.formats]
    print(f"# networks benchmark: batch 1, median of {a.reps} runs (min in brackets), ms")
    print(f"# machine: {machine_description()}; device {device}")
    print("| net | size | blocks | format | dtype | forward ms | forward+backward ms |")
    print("|---|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    for size in a.sizes:
        for net_name in ("G", "D"):
            for fmt in fmts:
                for dtype in a.dtypes:
                    (f_med, f_min), (b_med, b_min) = bench(net_name, size, dtype, fmt, device, a.reps)
                    blocks = default_n_blocks(size) if net_name == "G" else "-"
                    print(f"| {net_name} | {size}² | {blocks} | {fmt} | {dtype} | {f_med*1e3:.1f} ({f_min*1e3:.1f}) "
                          f"| {b_med*1e3:.1f} ({b_min*1e3:.1f}) |", flush=True)
    print(f"# total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
