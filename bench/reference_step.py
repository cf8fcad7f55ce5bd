"""The public reference CycleGAN's training step beside ours: same machine, same run, 128² (6 blocks), batch 1.

    python bench/reference_step.py --reference DIR [--size 128] [--repeats 6] [--threads 2]
    python bench/reference_step.py --smoke          # our rows only, tiny networks at 64², stand-in H: seconds

DIR is a checkout of the reference (junyanz/pytorch-CycleGAN-and-pix2pix; its .py files are enough), kept outside
this repository: its models are imported from there, never copied. It is built with its own defaults for this size:
netG resnet_6blocks below 256² (resnet_9blocks from 256² on, as ours), instance norm, lsgan, λ_A = λ_B = 10,
lambda_identity 0.5, pool 50, Adam (2e-4, 0.5), and `optimize_parameters()` is its step. (Its `data` package needs
torchvision for its loaders, which this bench does not use: a stand-in `data` module answers its option setter.)
Ours is the real Trainer's `train_step` on the synthetic dancers of bench/train_step.py (the dataset with its
retarget offsets); the reference trains on the same images. The steps alternate row by row, round after round,
so load on a shared machine hits every row alike; each cell is the median of --repeats rounds after one warm-up.
Target: our default step ≤ 0.4× the reference's.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_step as ts  # noqa: E402  (the data, H and Trainer of bench/train_step.py)


def reference_model(ref: Path, size: int, blocks: int, device, tiny: bool):
    "The reference's CycleGANModel with its defaults for `size` (set up as its train.py does), on `device`."
    if not (ref / "models" / "cycle_gan_model.py").is_file():
        raise SystemExit(f"{ref} is not a checkout of the reference CycleGAN (no models/cycle_gan_model.py)")
    stand_in = types.ModuleType("data")   # the dataset's option setter leaves the parser as it is (BaseDataset's)
    stand_in.get_option_setter = lambda name: (lambda parser, is_train: parser)
    sys.modules["data"], sys.path[:0] = stand_in, [str(ref)]
    import models
    from options.train_options import TrainOptions
    parser = TrainOptions().initialize(argparse.ArgumentParser())
    parser = models.get_option_setter("cycle_gan")(parser, True)
    argv = ["--dataroot", str(ref), "--model", "cycle_gan", "--netG", f"resnet_{9 if blocks >= 9 else 6}blocks",
            "--crop_size", str(size), "--load_size", str(round(size * 286 / 256)),
            "--checkpoints_dir", tempfile.mkdtemp(prefix="reference-")]
    opt = parser.parse_args(argv + (["--ngf", "8", "--ndf", "8"] if tiny else []))
    opt.isTrain, opt.device = True, torch.device(device)
    with contextlib.redirect_stdout(io.StringIO()):   # it prints its networks
        model = models.create_model(opt)
        model.setup(opt)
    return model, opt


def our_rows(a, data, H):
    "(label, what `train` runs by default?, step function) for our rows."
    amp_auto = ts.make_config(size=a.size, device=a.device).resolved().amp
    rows = []
    for label, kw in (("ours, reference objective (identity 0.5, no skeleton), fp32", dict(lambda_identity=0.5,
                                                                                          lambda_skel=0.0, amp="off")),
                      ("ours, default objective, fp32", dict(amp="off")),
                      ("ours, default objective, bf16 autocast", dict(amp="bf16"))):
        cfg = ts.make_config(size=a.size, device=a.device, max_iters=10**6, sample_every=0, checkpoint_every=0,
                             tensorboard=False, **a.nets, **kw)
        tr, batches = ts.bench_trainer(cfg, data, H, tempfile.mkdtemp(prefix="run-", dir=a.work))
        default = "default" in label and kw["amp"] == amp_auto
        rows.append((label, default, lambda i, tr=tr, b=batches: tr.train_step(b[i % len(b)])))
    return rows, batches


def reference_row(a, batches):
    model, opt = reference_model(Path(a.reference).resolve(), a.size, ts.blocks_for(a.size, a.nets), a.device, a.smoke)

    def step(i):
        b = batches[i % len(batches)]
        model.set_input({"A": b["x"], "B": b["y"], "A_paths": [""], "B_paths": [""]})
        model.optimize_parameters()
    return (f"reference CycleGAN ({opt.netG}, identity {opt.lambda_identity}, pool {opt.pool_size}), fp32", False,
            step)


def measure(rows, a):
    "Median seconds per step of each row: one warm-up each, then --repeats rounds taking every row in turn."
    sync = ts.sync_of(a.device)
    for _, _, step in rows: step(0)
    times = [[] for _ in rows]
    for r in range(a.repeats):
        for j, (_, _, step) in enumerate(rows):
            sync(); t = time.perf_counter(); step(r + 1); sync()
            times[j].append(time.perf_counter() - t)
    return [(statistics.median(t), min(t)) for t in times]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference", default=None, help="a checkout of the reference CycleGAN, outside this repository")
    p.add_argument("--size", type=int, default=None, help="image side (default 128; --smoke 64)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds, median reported (default 6; --smoke 2)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default 2; --smoke 1)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--stand-in-h", action="store_true", help="use the stand-in H even where BlazePose is available")
    p.add_argument("--smoke", action="store_true", help="tiny networks at 64², stand-in H (seconds); the reference "
                                                        "rows only with --reference")
    a = p.parse_args(argv)
    if a.reference is None and not a.smoke: p.error("give --reference DIR (or --smoke for our rows alone)")
    a.size, a.repeats = a.size or (64 if a.smoke else 128), a.repeats or (2 if a.smoke else 6)
    a.threads, a.nets = a.threads or (1 if a.smoke else 2), ts.TINY if a.smoke else {}
    torch.set_num_threads(a.threads)
    with tempfile.TemporaryDirectory(prefix="bench-reference-") as a.work:
        H, h_name = ts.load_H(a.device, a.stand_in_h, a.smoke)
        data = ts.make_data(Path(a.work) / "data", a.size if a.smoke else max(256, a.size), H)
        rows, batches = our_rows(a, data, H)
        if a.reference: rows.insert(0, reference_row(a, batches))
        times = measure(rows, a)
    ref = times[0][0] if a.reference else None
    from skeleton_cyclegan.core import machine_description
    print(f"# training step, batch 1, {a.size}², {ts.blocks_for(a.size, a.nets)} blocks{', tiny networks' * a.smoke}"
          f"; median of {a.repeats} alternating rounds after one warm-up; H: {h_name}")
    print(f"# machine: {machine_description()}; load average {os.getloadavg()[0]:.1f}")
    print("| what | s/iter (median) | min | ours / reference |")
    print("|---|---|---|---|")
    for (label, default, _), (med, mn) in zip(rows, times):
        rel = f"{med / ref:.2f}" if ref and not label.startswith("reference") else "-"
        print(f"| {label}{' (what `train` runs)' * default} | {med:.3f} | {mn:.3f} | {rel} |")
    if not a.reference: print("(the reference rows need --reference DIR)")
    else:
        med = {label: t[0] for (label, _, _), t in zip(rows, times)}
        fp32, bf16 = med["ours, default objective, fp32"], med["ours, default objective, bf16 autocast"]
        print(f"\ndefault step / reference step: fp32 {fp32 / ref:.2f}, bf16 {bf16 / ref:.2f} (target ≤ 0.4)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
