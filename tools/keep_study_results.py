"""Copy a finished study's results (no weights) into the repository: study.json, summary.md, the curves, the fixed
answers (bounds_*.json), and per run
config.json, metrics.json, snapshot_seconds.json and a palette-compressed grid.png.

Pairs of real videos (a pair whose A or B is a video file) keep no grid: a grid shows the source frames and G's
translations of them, pictures of footage that is not ours to redistribute. Their numbers are kept.

    python tools/keep_study_results.py STUDY_OUT study/results/NAME
"""
import json
import shutil
import sys
from pathlib import Path

from PIL import Image

from skeleton_cyclegan.study import footage_pair


def small_png(src: Path, dst: Path, scale: float = 0.75):
    im = Image.open(src).convert("RGB")
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
    im.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)


def main(src, dst):
    src, dst = Path(src), Path(dst)
    study = json.loads((src / "study.json").read_text())
    dst.mkdir(parents=True, exist_ok=True)
    for f in ["study.json", "summary.md", *[p.name for p in [*src.glob("curves_*.png"), *src.glob("bounds_*.json")]]]:
        if (src / f).exists(): shutil.copy2(src / f, dst / f)
    for m in src.glob("runs/*/*/seed*/metrics.json"):
        run = m.parent
        out = dst / run.relative_to(src)
        out.mkdir(parents=True, exist_ok=True)
        for f in ("config.json", "metrics.json", "snapshot_seconds.json"):
            if (run / f).exists(): shutil.copy2(run / f, out / f)
        footage = footage_pair(study, json.loads(m.read_text())["pair"])
        if (run / "grid.png").exists() and not footage: small_png(run / "grid.png", out / "grid.png")
    print(f"kept {len(list(dst.rglob('metrics.json')))} runs in {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or not (Path(sys.argv[1]) / "study.json").exists():
        sys.exit("usage: python tools/keep_study_results.py STUDY_OUT study/results/NAME (STUDY_OUT: a study folder "
                 "with its study.json)")
    main(*sys.argv[1:3])
