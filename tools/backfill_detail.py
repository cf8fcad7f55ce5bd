"""Add the `detail` metric (evaluate.detail: G(A)'s fine structure relative to real B) to study runs judged before it
existed, from their kept G snapshots; the same frames and sizes as `evaluate_run` (the first `eval_frames` test crops
of A, the first max(n, 64) crops of B). Runs that already have it are left alone.

    python tools/backfill_detail.py STUDY_OUT [STUDY_OUT ...]
"""
import sys
from pathlib import Path

import numpy as np

from skeleton_cyclegan.core import load_json, save_json, to_uint8
from skeleton_cyclegan.folder import PreparedVideo
from skeleton_cyclegan.evaluate import slug
from skeleton_cyclegan.metrics import detail
from skeleton_cyclegan.checkpoint import load_generators
from skeleton_cyclegan.translate import generate, resize_crops


def backfill(out: Path) -> int:
    study, n_done = load_json(out / "study.json"), 0
    for m in sorted(out.glob("runs/*/*/seed*/metrics.json")):
        meta = load_json(m)
        todo = [b for b, r in meta["budgets"].items() if "detail" not in r and (m.parent / f"G_{int(b):06d}.pt").exists()]
        if not todo: continue
        data = out / "data" / slug(meta["pair"])
        if not (data / "A_test").exists(): continue      # real pairs: judged with the detail metric from the start
        size, n = int(meta["config"]["size"]), int(study.get("eval_frames", 100))
        crops = np.asarray(PreparedVideo(data / "A_test").crops[:n])
        B = PreparedVideo(data / "B").crops
        base = detail(to_uint8(resize_crops(np.asarray(B[:max(len(crops), 64)]), size)))
        for b in todo:
            G, _, _ = load_generators(m.parent / f"G_{int(b):06d}.pt", device="cpu")
            gen = np.stack(list(generate(G, crops, size, progress=False)))
            meta["budgets"][b]["detail"] = detail(gen) / max(base, 1e-6)
        save_json(meta, m)
        n_done += len(todo)
        print(f"{m.parent.relative_to(out)}: detail at {todo}")
    return n_done


if __name__ == "__main__":
    for o in sys.argv[1:]: print(f"{o}: {backfill(Path(o))} snapshots")
