"Stand-ins for the loss tests: a fast frozen H with BlazePose's interface, images of coloured discs, tiny networks."
from dataclasses import dataclass
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn

from skeleton_cyclegan.networks import PatchDiscriminator, ResnetGenerator, init_weights
from skeleton_cyclegan.skeleton import soft_argmax


@dataclass
class _PoseOut:  # the fields of pose.PoseOutput the losses read
    heatmap_logits: torch.Tensor
    landmarks: torch.Tensor
    visibility: torch.Tensor
    coord_temperature = 1.0
    activate = staticmethod(torch.sigmoid)


def pose_out(**kw):
    "A bare H output: BlazePose-style logits (sigmoid activation)."
    return SimpleNamespace(activate=torch.sigmoid, coord_temperature=1.0, **kw)


class StandInH(nn.Module):
    """A fast frozen H with BlazePose's interface: keypoint k's heat map is colour channel k (3 'keypoints'),
    logits = 20·channel − 10 on a 64×64 grid (−30 in a dark background, +10 on a bright blob)."""
    num_keypoints, flip_index, heatmap_size = 3, [0, 1, 2], 64

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(20.0), requires_grad=False)
        self.seen_dtypes = []

    def forward(self, x):
        self.seen_dtypes.append(x.dtype)
        S = x.shape[-1]
        logits = self.scale * F.interpolate(x, size=(64, 64), mode="bilinear", align_corners=False) - 10
        return _PoseOut(heatmap_logits=logits, landmarks=soft_argmax(logits) * S / 64,
                        visibility=torch.sigmoid(logits.amax((2, 3))))


def blobs(size=64, centres=((20, 20), (40, 24), (30, 44)), r=0.15, shift=(0.0, 0.0)):
    "Image (1,3,S,S) in [−1, 1]: channel k has a bright disc at centres[k] (in 64-px units, scaled to S), moved by `shift` (64-px units)."
    yy, xx = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    img = -torch.ones(1, 3, size, size)
    for k, (cx, cy) in enumerate(centres):
        cx, cy = (cx + shift[0]) * size / 64, (cy + shift[1]) * size / 64
        img[0, k][(xx - cx) ** 2 + (yy - cy) ** 2 <= (r * size) ** 2] = 1.0
    return img


def cached_of(H, x):
    with torch.no_grad():
        o = H(x)
    return dict(logits=o.heatmap_logits, landmarks=o.landmarks, visibility=o.visibility)


class Const(nn.Module):
    def __init__(self, c): super().__init__(); self.c = c
    def forward(self, x): return torch.full((x.shape[0], 1, 3, 3), self.c) + 0 * x.mean()


def nets():
    gen = torch.Generator().manual_seed(0)
    G, Fn = (init_weights(ResnetGenerator(ngf=4, n_blocks=1), generator=gen) for _ in range(2))
    D_A, D_B = (init_weights(PatchDiscriminator(ndf=4), generator=gen).requires_grad_(False) for _ in range(2))
    return G, Fn, D_A, D_B
