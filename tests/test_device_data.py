"""Tests of skeleton_cyclegan.device_data: `DeviceBatches.batch` gives what `collate` of the dataset's items gives
(keys, shapes, dtypes, values), on both branches (frames on the device, frames in host memory), across epochs, with
and without offsets, flips, resizing up and down; and it reads nothing back from the device."""
import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.data import UnpairedDataset
from skeleton_cyclegan.device_data import DeviceBatches, crop_flip, frames_nbytes
from skeleton_cyclegan.folder import write_prepared
from skeleton_cyclegan.pose import BLAZEPOSE_NAMES
from skeleton_cyclegan.steps import collate

torch.set_num_threads(1)   # small tensors: one thread is faster on a shared machine
EXACT = ("ia", "ib", "lx", "ly", "vx", "vy", "flip_x", "flip_y", "rx", "ry")


def toy_video(folder, n, S, seed=0):
    "n frames of S-px crops: a bar walking right plus noise, its corners as keypoints, Gaussian heat maps at them."
    rng = np.random.default_rng(seed)
    crops = rng.integers(0, 60, size=(n, S, S, 3), dtype=np.uint8)
    lm = np.zeros((n, 33, 2), np.float32)
    for i in range(n):
        x0, w = S // 8 + i, S // 4
        crops[i, S // 5:S - S // 5, x0:x0 + w] = (255, 200, 120)
        for k, name in enumerate(BLAZEPOSE_NAMES):
            lm[i, k] = [x0 + w if "left" in name else x0 if "right" in name else x0 + w / 2,
                        S // 5 if "shoulder" in name else S - S // 5 if "hip" in name else S / 2 + k / 7]
    c = (np.arange(64) + 0.5) * S / 64
    d2 = (c[None, None, None] - lm[..., 0, None, None]) ** 2 + (c[None, None, :, None] - lm[..., 1, None, None]) ** 2
    logits = (-50 + 60 * np.exp(-d2 / (2 * (1.5 * S / 64) ** 2))).astype(np.float16)
    vis = rng.random((n, 33), dtype=np.float32)
    return write_prepared(folder, crops, lm, vis, np.tile([[50, 50, 100]], (n, 1)), dict(fps=10),
                          heatmap_logits=logits, progress=False)


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    "A: 7 frames at 32 px; B: 5 frames at 24 px (resized up); C: 4 frames at 48 px (resized down, antialiased)."
    d = tmp_path_factory.mktemp("device_data")
    return dict(A=toy_video(d / "A", 7, 32), B=toy_video(d / "B", 5, 24, 1), C=toy_video(d / "C", 4, 48, 2))


def offsets_for(ds, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(len(P), 33, 2)).astype(np.float32) for P in (ds.A, ds.B)]


def assert_same(db, idx, atol=1e-5, heat_atol=1e-4):
    "db.batch(idx) against collate of the dataset's items: same keys, shapes, dtypes, device; values within float tolerance."
    want, got = collate([db.dataset[i] for i in idx]), db.batch(idx)
    assert list(got) == list(want)
    for k, w in want.items():
        g = got[k]
        assert (g.shape, g.dtype, g.device.type) == (w.shape, w.dtype, db.device.type), k
        g = g.cpu()
        if k in EXACT: assert torch.equal(g, w), k
        else: torch.testing.assert_close(g, w, atol=heat_atol if k in ("hx", "hy") else atol, rtol=1e-5, msg=k)
    return got


BATCHES = [[0], [6, 3], [1, 4, 2, 5], [3, 3, 0]]


@pytest.mark.parametrize("pin_limit", [None, 0], ids=["frames-on-device", "frames-in-host-memory"])
@pytest.mark.parametrize("with_offsets", [False, True], ids=["no-offsets", "offsets"])
def test_batches_equal_the_dataloader_path(videos, pin_limit, with_offsets):
    ds = UnpairedDataset(videos["A"], videos["B"], size=32, seed=3)
    if with_offsets: ds.set_offsets(*offsets_for(ds))
    db = DeviceBatches(ds, "cpu", pin_limit_bytes=pin_limit)
    assert db.on_device == (pin_limit is None) and not db.pinned
    flips = []
    for e in range(3):
        ds.set_epoch(e)
        for idx in BATCHES:
            b = assert_same(db, idx)
            flips += b["flip_x"].tolist() + b["flip_y"].tolist()
        assert ("rx" in b) == with_offsets
    assert set(flips) == {True, False}             # both branches of the flip were compared


@pytest.mark.parametrize("case", ["no-flip", "load-equals-size", "no-resize", "downscale", "B-longer"])
def test_other_settings(videos, case):
    A, B, C = videos["A"], videos["B"], videos["C"]
    ds = dict(**{"no-flip": UnpairedDataset(A, B, size=32, flip=False, seed=1),
                 "load-equals-size": UnpairedDataset(A, B, size=32, load_size=32, seed=1),   # A: no crop, B: resized
                 "no-resize": UnpairedDataset(A, A, size=32, load_size=32, flip=False),      # the cache itself
                 "downscale": UnpairedDataset(A, C, size=32, seed=2),                        # C: 48 → 36, antialiased
                 "B-longer": UnpairedDataset(B, A, size=24, seed=4)})[case]                   # 7 items from 5 A frames
    ds.set_offsets(*offsets_for(ds, 1))
    db = DeviceBatches(ds, "cpu")
    for e in range(2):
        ds.set_epoch(e)
        for idx in BATCHES + [list(range(len(ds)))]:
            b = assert_same(db, idx)
    if case in ("no-flip", "no-resize"): assert not b["flip_x"].any() and not b["flip_y"].any()
    if case == "no-resize":
        want = torch.from_numpy(np.array(A.heatmap_logits()[list(range(7))], np.float32))
        assert torch.equal(b["hx"], want)
        assert torch.equal(b["x"], torch.from_numpy(np.array(A.crops)).permute(0, 3, 1, 2).float() / 127.5 - 1)


def test_epochs_and_offsets_followed_by_one_instance(videos):
    "One DeviceBatches for a whole run: set_epoch, offsets set (or dropped) after the upload show in the batches."
    ds = UnpairedDataset(videos["A"], videos["B"], size=32, seed=5)
    db = DeviceBatches(ds, "cpu")
    first = db.batch(list(range(7)))
    ds.set_epoch(1)
    second = assert_same(db, list(range(7)))
    assert not torch.equal(first["x"], second["x"])
    ds.set_epoch(0)
    assert torch.equal(db.batch(list(range(7)))["x"], first["x"])
    rA, rB = offsets_for(ds)
    ds.set_offsets(rA, rB)
    b = assert_same(db, [2, 5])
    assert torch.equal(b["x"], first["x"][[2, 5]])          # offsets change nothing else
    ds.set_offsets(rA * 2, rB)
    torch.testing.assert_close(db.batch([2, 5])["rx"], 2 * b["rx"])
    ds.offsets = None
    assert "rx" not in assert_same(db, [1])


def test_memory_decision(videos):
    ds = UnpairedDataset(videos["A"], videos["B"], size=32)
    n = frames_nbytes(ds)
    assert n == 12 * (33 * 64 * 64 * 2 + 33 * 3 * 4) + 3 * (7 * 32 * 32 + 5 * 24 * 24)
    assert DeviceBatches(ds, "cpu", pin_limit_bytes=n).on_device
    host = DeviceBatches(ds, "cpu", pin_limit_bytes=n - 1)
    assert not host.on_device and not host.pinned and "host memory" in repr(host)
    assert host.tables["A"]["crops"].shape == (7, 3, 32, 32) and host.tables["B"]["heat"].dtype == torch.float16
    assert torch.equal(host.tables["B"]["crops"][3].permute(1, 2, 0), torch.from_numpy(np.array(videos["B"].crops[3])))
    ds.set_offsets(*offsets_for(ds))
    assert frames_nbytes(ds) == n + 12 * 33 * 2 * 4


def test_crop_flip():
    img = torch.arange(2 * 2 * 6 * 6.0).reshape(2, 2, 6, 6)
    out = crop_flip(img, torch.tensor([1, 3]), torch.tensor([2, 0]), torch.tensor([True, False]), 3)
    assert torch.equal(out[0], img[0, :, 2:5, 1:4].flip(-1)) and torch.equal(out[1], img[1, :, 0:3, 3:6])


def test_bad_inputs(videos):
    with pytest.raises(SkeletonCycleGANError, match="needs a data.UnpairedDataset"): DeviceBatches([1, 2], "cpu")
    db = DeviceBatches(UnpairedDataset(videos["A"], videos["B"], size=32), "cpu")
    with pytest.raises(IndexError): db.batch([0, 7])
    with pytest.raises(IndexError): db.batch([-1])


def test_batch_reads_nothing_back(videos, monkeypatch):
    "No device value reaches the host inside `batch`: every tensor-to-host conversion raises while it runs."
    ds = UnpairedDataset(videos["A"], videos["B"], size=32, seed=3)
    ds.set_offsets(*offsets_for(ds))
    dbs = [DeviceBatches(ds, "cpu"), DeviceBatches(ds, "cpu", pin_limit_bytes=0)]

    def read_back(*a, **k): raise AssertionError("a tensor was read on the host")
    for name in ("item", "tolist", "__bool__", "__int__", "__float__", "__index__", "numpy"):
        monkeypatch.setattr(torch.Tensor, name, read_back)
    out = [db.batch([1, 4, 6]) for db in dbs]
    monkeypatch.undo()
    want = assert_same(dbs[0], [1, 4, 6])
    for b in out:
        for k in want: assert torch.equal(b[k], want[k]), k


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("pin_limit", [None, 0], ids=["frames-on-device", "frames-in-pinned-memory"])
def test_cuda_batches(videos, pin_limit):
    ds = UnpairedDataset(videos["A"], videos["C"], size=32, seed=3)
    ds.set_offsets(*offsets_for(ds))
    db = DeviceBatches(ds, "cuda", pin_limit_bytes=pin_limit)
    assert db.on_device == (pin_limit is None) and db.pinned == (pin_limit == 0)
    for idx in BATCHES: assert_same(db, idx, atol=1e-4, heat_atol=1e-2)
