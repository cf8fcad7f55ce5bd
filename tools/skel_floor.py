"""What the skeleton term reads when the generator is perfect: L_skel of real frames against their own cache.

With G(x) = x the `coords` term is only H's disagreement with itself (the training crop against the cached prepared
crop); random views add H's disagreement across views of the same frame, and retargeting adds the build offsets.
A term whose floor is large next to what training reaches steers G with noise: this prints the floors per video.

    python tools/skel_floor.py STUDY_OUT/data/R1 STUDY_OUT/data/R2 --sizes 128 64 [--frames 48 --draws 4]
    python tools/skel_floor.py --study STUDY_OUT

Each folder holds A/ and B/ (real pairs: A/train, B/train); a table goes to stdout. With --study: what each run of
the study reached instead (L_skel of G and F and the automatic λ_skel, averaged over its last 10 % of iterations).
"""
import json
import argparse
from pathlib import Path

import numpy as np
import torch

from skeleton_cyclegan.data import UnpairedDataset
from skeleton_cyclegan.folder import PreparedVideo
from skeleton_cyclegan.pose import pose_backend
from skeleton_cyclegan.skeleton import PointSkeletonTerm, retarget_offsets
from skeleton_cyclegan.steps import cached_from_batch, collate

FORMS = {"coords": (0.0, False), "coords views": (1.0, False), "coords rt": (0.0, True),   # (skel_views, skel_retarget)
         "coords rt views": (1.0, True)}


def training_folder(pair: Path, side: str) -> PreparedVideo:
    p = pair / side
    return PreparedVideo(p / "train" if (p / "train").is_dir() else p)


def floors(pair: Path, size: int, H, frames: int, draws: int, seed: int = 0) -> dict:
    "{form: (mean over A's frames, mean over B's)} of L_skel with G and F the identity."
    A, B = training_folder(pair, "A"), training_folder(pair, "B")
    ds = UnpairedDataset(A, B, size=size, seed=seed, offsets=retarget_offsets(A, B)[:2])
    idx = np.linspace(0, len(ds) - 1, frames).round().astype(int)
    out = {}
    for form, (views, rt) in FORMS.items():
        term = PointSkeletonTerm("coords", views, rt, torch.Generator().manual_seed(seed))
        g, f = [], []
        for i in idx:
            b = collate([ds[int(i)]])
            for _ in range(draws if views else 1):
                with torch.no_grad():
                    lg, lf = term(H, b["x"], b["y"], cached_from_batch(b, "x"), cached_from_batch(b, "y"))
                g.append(float(lg)); f.append(float(lf))
        out[form] = (float(np.mean(g)), float(np.mean(f)))
    return out


def reached(study: Path):
    "Per run of a study folder: mean skel_G, skel_F and λ_skel over the last 10 % of its logged iterations."
    print("| run | iterations | L_skel G | L_skel F | λ_skel | λ_skel·(G + F) |")
    print("|---|---|---|---|---|---|")
    for log in sorted(study.glob("runs/*/*/seed*/losses.jsonl")):
        rows = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
        end = rows[-1]["iteration"]
        tail = [r for r in rows if r["iteration"] > 0.9 * end]
        m = {k: float(np.mean([r.get(k, 0.0) for r in tail])) for k in ("skel_G", "skel_F", "lambda_skel")}
        print(f"| {log.parent.relative_to(study / 'runs')} | {end} | {m['skel_G']:.4f} | {m['skel_F']:.4f} | "
              f"{m['lambda_skel']:.1f} | {m['lambda_skel'] * (m['skel_G'] + m['skel_F']):.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", nargs="*", type=Path)
    ap.add_argument("--study", type=Path, help="a study folder: print what its runs reached")
    ap.add_argument("--sizes", nargs="+", type=int, default=[128])
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--draws", type=int, default=4, help="random views per frame")
    a = ap.parse_args()
    if a.study: return reached(a.study)
    torch.set_num_threads(1)
    H = pose_backend("blazepose").load("cpu")
    print(f"L_skel (coords, unit image sides) with G = F = identity; {a.frames} frames, {a.draws} views each; "
          f"{torch.__version__}, CPU")
    print("| pair | size | side | " + " | ".join(FORMS) + " |")
    print("|---|---|---|" + "---|" * len(FORMS))
    for pair in a.pairs:
        for size in a.sizes:
            r = floors(pair, size, H, a.frames, a.draws)
            for k, side in enumerate("AB"):
                print(f"| {pair.name} | {size} | {side} | " + " | ".join(f"{r[f][k]:.4f}" for f in FORMS) + " |",
                      flush=True)


if __name__ == "__main__":
    main()
