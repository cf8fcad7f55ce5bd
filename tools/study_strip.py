"""A labelled picture of G(A) from several study snapshots on the same test frames of A, enlarged without smoothing
so that blur and texture show as they are (the study's grids shrink them).

    python tools/study_strip.py OUT.png DATA/A_test LABEL=RUN/G_001500.pt [LABEL=RUN/G_001500.pt ...]
"""
import sys

import numpy as np
from PIL import Image, ImageDraw

from skeleton_cyclegan.checkpoint import load_generators
from skeleton_cyclegan.folder import PreparedVideo
from skeleton_cyclegan.translate import generate

TILE, LABEL_W, N = 128, 120, 8


def strip(out, data, snapshots):
    crops = np.asarray(PreparedVideo(data).crops[:64:64 // N])
    def row(label, frames):
        tiles = np.concatenate([np.asarray(Image.fromarray(f).resize((TILE, TILE), Image.NEAREST)) for f in frames], 1)
        head = Image.new("RGB", (LABEL_W, TILE), "white")
        ImageDraw.Draw(head).multiline_text((6, TILE // 2 - 14), label.replace(" @", "\n@"), fill="black")
        return np.concatenate([np.asarray(head), tiles], 1)
    rows = [row("source (A)", crops)]
    for spec in snapshots:
        label, path = spec.split("=", 1)
        G, _, c = load_generators(path, device="cpu")
        rows.append(row(label, np.stack(list(generate(G, crops, int(c["size"]), progress=False)))))
    im = Image.fromarray(np.concatenate(rows, 0))
    im.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)   # small enough to keep in git
    print(f"wrote {out}")


if __name__ == "__main__":
    strip(sys.argv[1], sys.argv[2], sys.argv[3:])
