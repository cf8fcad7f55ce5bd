"OpenPose as H: the torch port against TensorFlow's own outputs (fixtures), the H interface, assembly, mapping, drawing, errors."
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError, shared_data_dir, to_tensor
from skeleton_cyclegan.draw import SIDE_COLORS, draw_skeleton
from skeleton_cyclegan.openpose import (BLAZEPOSE_TO_COCO18, COCO18_TO_BLAZEPOSE, OPENPOSE_PAF_INDEX, assemble_people,
                                        blazepose_to_coco18, coco18_to_blazepose, find_peaks, load_openpose_graph,
                                        openpose, openpose_model_file)
from skeleton_cyclegan.pose import COCO18_EDGES, COCO18_FLIP_INDEX, COCO18_LIMBS, COCO18_NAMES
from skeleton_cyclegan.tfgraph import read_graphdef
from skeleton_cyclegan.tflite import same_pad

FIX = Path(__file__).parent / "fixtures" / "openpose"
META = json.loads((FIX / "meta.json").read_text())
_spec = importlib.util.spec_from_file_location("make_openpose_fixtures",
                                               Path(__file__).parent.parent / "tools" / "make_openpose_fixtures.py")
tool = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(tool)


@pytest.fixture(scope="module")
def graph():
    return load_openpose_graph()


@pytest.fixture(scope="module")
def H256():
    return openpose("cpu", input_size=256)


_inputs = {}


def _input(case):
    if case["name"] not in _inputs: _inputs[case["name"]] = tool.make_input(case, shared_data_dir())
    img = _inputs[case["name"]]
    if img is None: pytest.skip(f"{case['source']} is in ../shared/data, which is absent")
    if tool.sha(img) != case["input_sha256"]:
        pytest.skip(f"{case['name']}: the rebuilt input differs from the one the reference was made on "
                    "(another image/video decoder?); rerun tools/make_openpose_fixtures.py")
    return img


def _check_peaks(ref, peaks):
    rows = np.concatenate([np.c_[np.full(len(p), k), p] for k, p in enumerate(peaks)]).astype(np.float32)
    assert rows.shape == ref["peaks"].shape
    np.testing.assert_array_equal(rows[:, :3], ref["peaks"][:, :3])  # same parts at the same places
    np.testing.assert_allclose(rows[:, 3], ref["peaks"][:, 3], atol=1e-3)


@pytest.mark.parametrize("case", META["cases"], ids=[c["name"] for c in META["cases"]])
def test_graph_matches_tensorflow(case, graph):
    img = _input(case)
    ref = np.load(FIX / f"{case['name']}.npz")
    with torch.no_grad():
        y = graph(torch.from_numpy(img[..., ::-1].astype(np.float32).transpose(2, 0, 1).copy())[None])[0].numpy()
    assert list(y.shape) == case["out_shape"]
    if "maps" in ref:  # float16 storage adds ≤ 5e-4 for |values| < 2
        err = np.abs(y - ref["maps"].astype(np.float32))
        assert err[:19].max() <= 1e-3 and err[19:].max() <= 1e-3, (err[:19].max(), err[19:].max())
    np.testing.assert_allclose(y.reshape(-1)[ref["probe_index"]], ref["probe_value"], atol=2e-5, rtol=0)
    np.testing.assert_array_equal(y.reshape(57, -1).argmax(1), ref["argmax"])
    peaks, _ = find_peaks(torch.from_numpy(y[None, :18]))
    _check_peaks(ref, peaks[0])
    people = assemble_people(peaks[0], y[19:])
    assert len(people) == case["n_people"]
    if people: np.testing.assert_allclose(people[0][0], ref["person"], atol=1e-3)


@pytest.mark.parametrize("case", [c for c in META["cases"] if c.get("H")], ids=lambda c: c["name"])
def test_H_matches_tensorflow(case, H256):
    "Through the H interface: RGB in [-1, 1] → BGR [0, 255] inside; heatmaps, PAFs and the main person."
    img = _input(case)
    ref = np.load(FIX / f"{case['name']}.npz")
    o = H256(to_tensor(img))
    if "maps" in ref:
        m = torch.from_numpy(ref["maps"].astype(np.float32))
        assert (o.heatmaps[0] - m[:18]).abs().max() <= 1e-3
        assert (o.pafs[0] - m[19:]).abs().max() <= 1e-3
        assert (o.background[0] - m[18]).abs().max() <= 1e-3
    full = torch.cat([o.heatmaps[0], o.background[0, None], o.pafs[0]]).reshape(-1)
    np.testing.assert_allclose(full[ref["probe_index"]].numpy(), ref["probe_value"], atol=2e-5, rtol=0)
    person = ref["person"]
    found = person[:, 2] > 0
    assert found.sum() >= 12  # one person, most of the body
    np.testing.assert_allclose(o.landmarks[0, found].numpy(), person[found, :2], atol=1e-3)
    np.testing.assert_array_equal(o.presence[0].numpy(), found.astype(np.float32))
    assert 0.3 < o.pose_flag.item() <= 1


@pytest.fixture(scope="module")
def H64():
    return openpose("cpu", input_size=64)  # small and fast: for what does not depend on the size


def test_gradients_reach_the_input_and_not_the_weights(H64):
    x = (torch.rand(2, 3, 96, 96) * 2 - 1).requires_grad_()
    o = H64(x, keypoints=False)
    (o.heatmaps.sum() + o.pafs.abs().sum()).backward()
    assert x.grad is not None and (x.grad != 0).float().mean() > 0.99
    assert all(not p.requires_grad and p.grad is None for p in H64.parameters())
    assert not H64.train().training  # H stays in eval mode


def test_float32_inside_autocast(H64):
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    ref = H64(x, keypoints=False).heatmaps
    with torch.autocast("cpu", dtype=torch.bfloat16):
        o = H64(x, keypoints=False)
    assert o.heatmaps.dtype == torch.float32 and torch.allclose(o.heatmaps, ref)


def test_interface(H256):
    assert (H256.num_keypoints, H256.input_size, H256.heatmap_size) == (18, 256, 32)
    assert H256.keypoint_names == COCO18_NAMES and H256.edges == COCO18_EDGES and H256.flip_index == COCO18_FLIP_INDEX
    o = H256(torch.zeros(2, 3, 100, 100))  # any square size, resized inside
    assert o.heatmaps.shape == (2, 18, 32, 32) and o.pafs.shape == (2, 38, 32, 32) and o.background.shape == (2, 32, 32)
    assert o.landmarks.shape == (2, 18, 2) and o.visibility.shape == o.presence.shape == (2, 18) and len(o) == 2
    assert torch.equal(o.heatmaps, o.heatmap_logits)  # regressed maps: no sigmoid
    assert o.pose_flag.eq(0).all() and o.presence.eq(0).all()  # a black image: nobody
    assert (o.landmarks >= 0).all() and (o.landmarks <= 100).all()  # best cells, in the input's 100-px frame
    assert torch.isnan(H256(torch.zeros(1, 3, 64, 64), keypoints=False).landmarks).all()
    assert openpose("cpu").heatmap_size == 46  # default: the graph's native 368


@pytest.mark.parametrize("x,msg", [(torch.zeros(1, 3, 64, 80), "square"), (torch.zeros(1, 1, 64, 64), "square"),
                                   (torch.zeros(1, 3, 64, 64) + 2, "[-1, 1]"), (torch.zeros(3, 64, 64), "square"),
                                   (torch.zeros(1, 3, 64, 64, dtype=torch.uint8), "float")])
def test_bad_input_is_a_clear_error(H256, x, msg):
    with pytest.raises(SkeletonCycleGANError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        H256(x)


def test_bad_model_files(tmp_path):
    with pytest.raises(SkeletonCycleGANError, match="input_size"):
        openpose("cpu", input_size=100)
    bad = tmp_path / "graph.pb"; bad.write_bytes(b"\x0a\x03abc" * 10)
    with pytest.raises(SkeletonCycleGANError, match="sha256"):
        openpose_model_file(bad)
    with pytest.raises(SkeletonCycleGANError, match="does not exist"):
        openpose_model_file(tmp_path / "missing.pb")
    bad.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SkeletonCycleGANError, match="GraphDef"):
        read_graphdef(bad)


def test_graphdef_reader_sees_the_whole_graph():
    nodes = read_graphdef(openpose_model_file())
    assert len(nodes) == 506
    conv0 = next(n for n in nodes if n["name"] == "MobilenetV1/Conv2d_0/Conv2D")
    assert conv0["op"] == "Conv2D" and conv0["attr"]["strides"] == [1, 2, 2, 1] and conv0["attr"]["padding"] == "SAME"
    w = next(n for n in nodes if n["name"] == "MobilenetV1/Conv2d_0/weights")["attr"]["value"]
    assert w.shape == (3, 3, 3, 24) and w.dtype == np.float32 and np.isfinite(w).all()


def test_same_padding_puts_the_extra_pixel_after():
    assert same_pad(256, 3, 2) == (0, 1)
    assert same_pad(255, 3, 2) == (1, 1)
    assert same_pad(64, 3, 1) == (1, 1)
    assert same_pad(25, 2, 2) == (0, 1)
    assert same_pad(24, 2, 2) == (0, 0)


def test_tables():
    assert [COCO18_FLIP_INDEX[i] for i in COCO18_FLIP_INDEX] == list(range(18))
    assert sorted(c for xy in OPENPOSE_PAF_INDEX for c in xy) == list(range(38))
    assert len(COCO18_LIMBS) == 19 and COCO18_EDGES == COCO18_LIMBS[:17]
    from skeleton_cyclegan.pose import BLAZEPOSE_NAMES
    for c, b in enumerate(COCO18_TO_BLAZEPOSE):
        assert (b is None) == (COCO18_NAMES[c] == "neck")
        if b is not None: assert BLAZEPOSE_NAMES[b] == COCO18_NAMES[c] and BLAZEPOSE_TO_COCO18[b] == c


def test_mapping_round_trip():
    p33 = torch.randn(2, 33, 2)
    p18 = blazepose_to_coco18(p33)
    assert p18.shape == (2, 18, 2) and torch.allclose(p18[:, 1], (p33[:, 11] + p33[:, 12]) / 2)
    back = coco18_to_blazepose(p18)
    shared = list(BLAZEPOSE_TO_COCO18)
    assert torch.equal(back[:, shared], p33[:, shared])
    assert torch.isnan(back[:, [1, 3, 4, 6, 9, 10, 17, 18, 19, 20, 21, 22, 29, 30, 31, 32]]).all()
    assert coco18_to_blazepose(p18.numpy(), fill=0).shape == (2, 33, 2)


def _synthetic_maps(people, size=256, stride=8):
    "Heatmaps and PAFs drawn for `people` (list of (18, 2) input-pixel points; NaN = missing), like the training targets."
    h = size // stride
    c = (np.arange(h) + 0.5) * stride
    X, Y = np.meshgrid(c, c)
    heat, paf = np.zeros((18, h, h), np.float32), np.zeros((38, h, h), np.float32)
    for kp in people:
        for k in range(18):
            if np.isfinite(kp[k]).all():
                heat[k] = np.maximum(heat[k], np.exp(-((X - kp[k, 0])**2 + (Y - kp[k, 1])**2) / (2 * 5.0**2)))
        for (i, j), (cx, cy) in zip(COCO18_LIMBS, OPENPOSE_PAF_INDEX):
            if not (np.isfinite(kp[i]).all() and np.isfinite(kp[j]).all()): continue
            d = kp[j] - kp[i]; n = np.linalg.norm(d); u = d / n
            rx, ry = X - kp[i, 0], Y - kp[i, 1]
            along, across = rx * u[0] + ry * u[1], np.abs(rx * u[1] - ry * u[0])
            m = (along >= -4) & (along <= n + 4) & (across <= 8)
            paf[cx][m], paf[cy][m] = u[0], u[1]
    return torch.from_numpy(heat)[None], paf


def _stick_figure(cx, cy, s):
    o = np.array([[0, -60], [0, -40], [-15, -40], [-25, -15], [-30, 10], [15, -40], [25, -15], [30, 10], [-10, 15],
                  [-12, 50], [-14, 85], [10, 15], [12, 50], [14, 85], [-7, -68], [7, -68], [-18, -60], [18, -60]], np.float32)
    return o * s + [cx, cy]


def test_assembly_recovers_a_drawn_person_and_picks_the_main_one():
    big, small = _stick_figure(90, 128, 1.2), _stick_figure(200, 140, 0.8)
    small[[14, 16]] = np.nan  # missing right eye and ear
    heat, paf = _synthetic_maps([big, small])
    peaks, best = find_peaks(heat)
    people = assemble_people(peaks[0], paf)
    assert len(people) == 2
    main, other = people[0][0], people[1][0]
    assert np.abs(main[:, :2] - big).max() <= 2.5  # ×4 upsampled grid: 2 px cells
    ok = np.isfinite(small).all(1)
    assert (other[~ok, 2] == 0).all() and np.abs(other[ok, :2] - small[ok]).max() <= 2.5
    assert best.shape == (1, 18, 3)


def test_keypoints_through_H_are_in_input_pixels(H256):
    "H.keypoints on drawn maps: the main person's points, in network-input pixels."
    fig = _stick_figure(128, 128, 1.0)
    heat, paf = _synthetic_maps([fig])
    lm, vis, pres, flag = H256.keypoints(heat, torch.from_numpy(paf)[None])
    assert pres.eq(1).all() and np.abs(lm[0].numpy() - fig).max() <= 2.5 and 0.5 < flag.item() <= 1


def test_draw_skeleton_in_the_openpose_layout(H256):
    img = np.zeros((64, 64, 3), np.uint8)
    kp = _stick_figure(32, 32, 0.3)
    out = draw_skeleton(img, kp, layout=H256)
    assert out.shape == img.shape and out.dtype == np.uint8 and (out > 0).any() and not (img > 0).any()
    colours = {tuple(c) for c in out.reshape(-1, 3)} - {(0, 0, 0)}
    assert colours == set(SIDE_COLORS.values())  # left, right and centre limbs
    vis = np.zeros(18); vis[[2, 3]] = 1  # one limb (right upper arm) only
    one = draw_skeleton(img, torch.from_numpy(kp), vis, layout="openpose")
    assert 0 < (one > 0).any(-1).sum() < (out > 0).any(-1).sum()
    assert {tuple(c) for c in one.reshape(-1, 3)} - {(0, 0, 0)} == {SIDE_COLORS["right"]}
    with pytest.raises(SkeletonCycleGANError, match="18 points"):
        draw_skeleton(img, np.zeros((17, 2)), layout="openpose")


def test_landmarks_are_in_the_callers_pixels(H256):
    "An image at twice the network's size gives (about) twice the coordinates."
    case = next(c for c in META["cases"] if c["name"] == "skier_256")
    img = _input(case)
    big = np.repeat(np.repeat(img, 2, 0), 2, 1)
    o1, o2 = H256(to_tensor(img)), H256(to_tensor(big))
    both = (o1.presence[0] * o2.presence[0]).bool()
    assert both.sum() >= 12
    assert (o2.landmarks[0, both] - 2 * o1.landmarks[0, both]).abs().median() <= 4


def test_skeleton_losses_work_through_openpose(H256):
    "Every skeleton-loss form works with OpenPose as H: maps are used as they are (no sigmoid), 0 for the same pose."
    from skeleton_cyclegan.losses import SKELETON_LOSSES, skeleton_loss
    from skeleton_cyclegan.render import render_frames
    from skeleton_cyclegan.synthetic import DOMAIN_A
    from skeleton_cyclegan.core import to_tensor
    r = render_frames(DOMAIN_A, 12, size=256, seed=3)
    frames = r[0] if isinstance(r, tuple) else r
    x, moved = to_tensor(frames[0]), to_tensor(frames[11])
    with torch.no_grad():
        out = H256(x)
    assert torch.equal(out.heatmaps, out.heatmap_logits)  # regressed maps, not logits
    cached = dict(logits=out.heatmap_logits, landmarks=out.landmarks, visibility=out.visibility)
    for name in SKELETON_LOSSES:
        same = skeleton_loss(name, H256, x, cached).item()
        other = skeleton_loss(name, H256, moved, cached).item()
        assert other > same, (name, same, other)
        if name != "gaussian": assert same == pytest.approx(0, abs=1e-6), name
