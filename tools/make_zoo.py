"""Build the model zoo (skeleton_cyclegan/models/) from finished training runs: each run's G in half precision, its
model card (JSON + a short text) with the commands, settings, version, iterations, training time, machine and the
scores of score_card on the card's frames, and zoo.json with every file's sha256.

    python tools/make_zoo.py RUNS_ROOT          # RUNS_ROOT/runs/{pair}/{method}/ and RUNS_ROOT/logs_{pair}_{method}.txt

The runs were made with the commands the cards quote (see CARD_COMMANDS below); the cards' scores are recomputed
here from the half-precision weights that ship, so a test can recompute them again."""
import argparse
import json
import re
import sys
from dataclasses import asdict
from pathlib import Path


from skeleton_cyclegan import __version__
from skeleton_cyclegan.checkpoint import load_checkpoint, load_generators
from skeleton_cyclegan.config import TrainConfig
from skeleton_cyclegan.core import save_json, sha256_file
from skeleton_cyclegan.showcase import score_card
from skeleton_cyclegan.zoo import load, save_generator, zoo_dir

PAIRS = {"disjoint": ("disjoint-A", "disjoint-B", "A only moves its arms, B only its legs (their moves do not overlap)"),
         "shared": ("A", "B", "both dance the same repertoire of moves")}
METHODS = {"skeleton": ("Skeleton-CycleGAN, the default method (coords + views + scale normalisation)", ""),
           "plain": ("plain CycleGAN (lambda_skel = 0), the same budget", " --lambda-skel 0")}
DATA_COMMAND = ("python -c \"from skeleton_cyclegan.study import load_study; from skeleton_cyclegan.study_run import "
                "study_data; study_data(load_study(), '{pair}', 'data/{pair}')\"")
TRAIN_COMMAND = ("skeleton-cyclegan train --a data/{pair}/A --b data/{pair}/B --out runs/{pair}/{method} --size 64 "
                 "--ngf 24 --n-blocks 6 --max-iters 5000 --n-epochs 1 --n-epochs-decay 1 --checkpoint-every 500 "
                 "--log-every 50 --sample-every 500 --seed 0{extra}")
MACHINE = ("this project's CPU machine (2 AMD EPYC cores, no GPU), one thread per run (OMP_NUM_THREADS=1) at nice 19, "
           "sharing the cores with other jobs: the wall time is an upper bound")


def wall_seconds(log: Path):
    "Elapsed wall time from /usr/bin/time -v in a run's log (summed over resumed parts), or None."
    if not log.exists(): return None
    total = 0.0
    for m in re.finditer(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", log.read_text(errors="replace")):
        parts = [float(p) for p in m.group(1).split(":")]
        total += sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return round(total) if total else None


def frames_spec(pair):
    A, B, _ = PAIRS[pair]
    return dict(A=A, B=B, motion_frames=100, seed=2, render_size=128, judged=64, size=64)


def build(root: Path, out: Path):
    index = {}
    for pair in PAIRS:
        for method, (what, extra) in METHODS.items():
            run = root / "runs" / pair / method
            if not (run / "generators.pt").exists():
                print(f"skip {pair}/{method}: no finished run in {run}", file=sys.stderr); continue
            G, _, settings = load_generators(run, "cpu")
            stem = f"{pair}-{method}"
            save_generator(G, settings, out / f"{stem}.pt")
            ck = load_checkpoint(run / "checkpoint.pt")
            cfg = TrainConfig.from_dict(json.loads((run / "config.json").read_text())).resolved("cpu")
            index[f"{pair}/{method}"] = dict(file=f"{stem}.pt", sha256=sha256_file(out / f"{stem}.pt"),
                                             bytes=(out / f"{stem}.pt").stat().st_size, card=f"{stem}.json")
            save_json({"format": "skeleton-cyclegan-zoo", "models": index}, out / "zoo.json")
            Gz, s = load(f"{pair}/{method}", "cpu", folder=out)      # the shipped half-precision weights
            spec = frames_spec(pair)
            A, B, about = PAIRS[pair]
            card = dict(name=f"{pair}/{method}", title=f"{what}: synthetic dancer {A} -> {B}",
                        direction="A->B (G only)", pair=dict(A=A, B=B, about=about), method=what,
                        commands=dict(data=DATA_COMMAND.format(pair=pair),
                                      train=TRAIN_COMMAND.format(pair=pair, method=method, extra=extra)),
                        settings={k: v for k, v in asdict(cfg).items() if k != "device"},
                        package_version_trained=ck.get("package_version"), package_version_card=__version__,
                        iterations=int(ck["iteration"]), training_seconds=wall_seconds(root / f"logs_{pair}_{method}.txt"),
                        machine=MACHINE, weights=dict(dtype="float16", ngf=s["ngf"], n_blocks=s["n_blocks"],
                                                     size=s["size"], parameters=sum(p.numel() for p in Gz.parameters())),
                        frames=spec, judge="blazepose-heavy",
                        scores=score_card(Gz, s, spec, device="cpu"),
                        tolerance=dict(angle_err=1.0, arms_angle_err=1.5, pck=0.03))
            save_json(card, out / f"{stem}.json")
            (out / f"{stem}.md").write_text(card_text(card))
            print(f"{pair}/{method}: {card['scores']}")
    return index


def card_text(c: dict) -> str:
    s = c["scores"]
    t = c["training_seconds"]
    return "\n".join([
        f"# {c['name']}", "", c["title"] + ".", "",
        f"- Pair: {c['pair']['A']} -> {c['pair']['B']}: {c['pair']['about']}.",
        f"- Weights: G (A->B) only, {c['weights']['parameters']:,} parameters in float16 (ngf {c['weights']['ngf']}, "
        f"{c['weights']['n_blocks']} residual blocks, {c['weights']['size']}x{c['weights']['size']} images).",
        f"- Trained: {c['iterations']:,} iterations" + (f", {t / 60:.0f} min wall" if t else "")
        + f" on {c['machine']}; package {c['package_version_trained']}.",
        f"- Data: `{c['commands']['data']}`", f"- Training: `{c['commands']['train']}`",
        f"- Judged by BlazePose heavy (not H) on {c['frames']['judged']} frames of a motion of A not seen in training "
        f"(seed {c['frames']['seed']}): limb-angle error {s['angle_err']:.1f} deg (arms {s['arms_angle_err']:.1f}), "
        f"PCK@0.1 {s['gt_pck10']:.2f} against the ground truth, arms PCK@0.1 {s['rt_arms_pck10']:.2f} against the "
        "retargeted ground truth (where B's arms should be).",
        "- Synthetic data only: it shows the method's effect; it is not a model for real people.", ""])


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root", type=Path, help="folder with runs/{pair}/{method} and logs_{pair}_{method}.txt")
    p.add_argument("--out", type=Path, default=zoo_dir(), help="the zoo folder (default: the package's)")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    idx = build(a.root, a.out)
    print(f"{len(idx)} models, {sum(v['bytes'] for v in idx.values()) / 1e6:.2f} MB in {a.out}")
