"""The pose component: H (BlazePose) and the detector against the TFLite runtime's outputs (fixtures made by
tools/make_pose_fixtures.py with ai-edge-litert), gradients, freezing, every bad input the issue lists, the registry
of pose backends and the skeleton drawer.

The fixtures hold only reference outputs and, per input, a recipe that rebuilds it from ../shared/data
(tests/fixture_inputs.py): the tests that need a real input skip when that folder is absent."""
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import skeleton_cyclegan.pose as pose
from skeleton_cyclegan.core import SkeletonCycleGANError, shared_data_dir, to_tensor
from skeleton_cyclegan.detector import PersonDetector
from skeleton_cyclegan.draw import SIDE_COLORS, draw_heatmaps, draw_skeleton
from skeleton_cyclegan.pose import (BLAZEPOSE_EDGES, BLAZEPOSE_FLIP_INDEX, BLAZEPOSE_NAMES, BODY17, POSE_BACKENDS,
                                    PoseBackend, PoseNet, PoseOutput, blazepose, model_file, pose_backend)
from skeleton_cyclegan.tflite import load_tflite

sys.path.insert(0, str(Path(__file__).parent))
from fixture_inputs import rebuild_or_skip  # noqa: E402

FIX = Path(__file__).parent / "fixtures" / "pose"
MANIFEST = json.loads((FIX / "manifest.json").read_text())
CROPS = list(MANIFEST["crops"])
FRAMES = list(MANIFEST["frames"])
RECIPES = {n: c["recipe"] for kind in ("crops", "frames") for n, c in MANIFEST[kind].items()}
HM_LEVELS = 2 ** MANIFEST["heatmap_bits"] - 1


@pytest.fixture(scope="module")
def ref():
    return np.load(FIX / "reference.npz")


@pytest.fixture(scope="module")
def H():
    return blazepose(device="cpu")


@pytest.fixture(scope="module")
def D():
    return PersonDetector(device="cpu")


_inputs = {}  # name -> rebuilt input, or why it cannot be (decoding a video frame once is enough)


def image(name):
    "The fixture's input (uint8 RGB), rebuilt from ../shared/data by its recipe; skips the test without it."
    if name not in _inputs:
        try:
            _inputs[name] = rebuild_or_skip(name, RECIPES[name], shared_data_dir(), "tools/make_pose_fixtures.py")
        except pytest.skip.Exception as e:
            _inputs[name] = str(e.msg)
    if isinstance(_inputs[name], str): pytest.skip(_inputs[name])
    return _inputs[name].copy()


def check_against_reference(H, ref, name, variant):
    crop = image(name)
    with torch.no_grad():
        out = H(to_tensor(crop))
    r = f"{name}/{variant}"
    hm, ref_hm = out.heatmaps[0].numpy(), ref[f"{r}/heatmaps_q{MANIFEST['heatmap_bits']}"] / HM_LEVELS
    assert np.abs(hm - ref_hm).max() <= 1e-3  # the 11-bit reference adds ≤ 2.5e-4
    # the same argmax as TFLite's logits for all 33 points (a near-tie, within 1e-3 of our max logit, counts as the same)
    lg = out.heatmap_logits[0, :33].reshape(33, -1).numpy()
    ref_am = ref[f"{r}/heatmap_argmax"]
    same = (lg.argmax(1) == ref_am) | (lg[np.arange(33), ref_am] >= lg.max(1) - 1e-3)
    assert same.all(), np.flatnonzero(~same)
    lm = ref[f"{r}/landmarks"][:33]
    assert np.abs(out.landmarks[0].numpy() - lm[:, :2]).max() <= 1.0
    sig = lambda z: 1 / (1 + np.exp(-z))
    assert np.abs(out.visibility[0].numpy() - sig(lm[:, 3])).max() <= 1e-3
    assert np.abs(out.presence[0].numpy() - sig(lm[:, 4])).max() <= 1e-3
    assert abs(out.pose_flag.item() - ref[f"{r}/pose_flag"][0]) <= 1e-3
    seg = torch.sigmoid(out.segmentation[0]).numpy()
    assert np.abs(seg - ref[f"{r}/segmentation_q16"] / 65535).max() <= 1e-3
    return out


@pytest.mark.parametrize("name", CROPS)
def test_landmark_model_matches_tflite(H, ref, name):
    out = check_against_reference(H, ref, name, "full")
    assert out.pose_flag.item() > 0.9  # a real person


def test_heavy_model_matches_tflite(ref):
    name = next(n for n, c in MANIFEST["crops"].items() if "heavy" in c["variants"])
    cached = pose.cache_dir("models") / "pose_landmark_heavy.tflite"
    if not cached.exists() and shutil.which("npm") is None:
        pytest.skip("pose_landmark_heavy.tflite is not cached and npm (needed to fetch it) is absent")
    Hh = blazepose("heavy", device="cpu")
    assert Hh.name == "blazepose-heavy"
    check_against_reference(Hh, ref, name, "heavy")


@pytest.mark.parametrize("name", FRAMES)
def test_detector_matches_tflite(D, ref, name):
    x = to_tensor(image(name))  # the recipe rebuilds the letterboxed 224² input itself
    with torch.no_grad():
        reg, logits = D(x)
    ref_logits = torch.from_numpy(ref[f"{name}/score_logits"])
    assert (torch.sigmoid(logits[0]) - torch.sigmoid(ref_logits)).abs().max() <= 1e-3
    top = torch.from_numpy(ref[f"{name}/top_anchors"]).long()
    ours = D.decode(reg[0, top], logits[0, top], top)
    theirs = D.decode(torch.from_numpy(ref[f"{name}/top_regressors"]), ref_logits[top], top)
    for a, b in zip(ours, theirs):  # boxes, keypoints (224 px), scores
        assert (a - b).abs().max() <= 1e-3 * 224 if a.ndim > 1 else (a - b).abs().max() <= 1e-3
    # the best anchor is the same
    assert logits[0].argmax().item() == int(np.argmax(ref[f"{name}/score_logits"]))


def test_detect_on_a_frame(D):
    frame = image("det_taiji")
    dets = D.detect(frame)
    assert len(dets) == 1 and dets[0].score > 0.9
    d = dets[0]
    assert d.keypoints.shape == (4, 2) and d.box.shape == (4,)
    cx, cy, side, rot = d.roi()
    # the mid-hip lies below the face box, the body ROI contains the face box, the person stands upright
    assert cy > d.box[3] and side > d.box[2] - d.box[0]
    assert cx - side / 2 < d.box[0] and d.box[2] < cx + side / 2 and abs(rot) < 0.3
    # a larger frame (same content upscaled) gives the same detection in its own pixels
    big = np.array(Image.fromarray(frame).resize((448, 448), Image.BILINEAR))
    d2 = D.detect(big)[0]
    assert np.abs(d2.keypoints / 2 - d.keypoints).max() < 3


def test_detect_nobody_and_bad_frames(D):
    assert D.detect(np.zeros((120, 200, 3), np.uint8)) == []
    for bad in [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8), np.zeros((10, 10, 3), np.float32)]:
        with pytest.raises(SkeletonCycleGANError, match="uint8"):
            D.detect(bad)


def figure_crop(seed: int = 0) -> np.ndarray:
    "A synthetic dancer's 256² frame: an input that needs no footage, so these tests also run without ../shared."
    from skeleton_cyclegan.render import render_frames
    from skeleton_cyclegan.synthetic import DOMAIN_A
    return render_frames(DOMAIN_A, 1, 256, seed=seed)[0][0]


def crop(kind: str, name: str, seed: int = 0) -> np.ndarray:
    return image(name) if kind == "real" else figure_crop(seed)


@pytest.mark.parametrize("kind", ["real", "synthetic"])
def test_gradients_reach_the_input(H, kind):
    x = to_tensor(crop(kind, "lm_taiji")).requires_grad_()
    out = H(x)
    out.heatmaps.sum().backward()
    assert (x.grad.abs().sum(1) > 0).float().mean() > 0.99
    assert all(p.grad is None for p in H.parameters())  # frozen: nothing accumulates in H


@pytest.mark.parametrize("kind", ["real", "synthetic"])
def test_gradients_match_finite_differences(H, kind):
    "H's float32 autograd gradient against central differences of the float64 network along a random direction."
    net64 = load_tflite(model_file("pose_landmark_full.tflite")).double()
    u8 = torch.from_numpy(crop(kind, "lm_dance", 1)).permute(2, 0, 1)[None]
    g = torch.Generator().manual_seed(0)
    w = torch.rand(1, 33, 64, 64, generator=g, dtype=torch.float64)
    v = torch.randn(u8.shape, generator=g, dtype=torch.float64)

    def scalar(hm_logits, lm):  # a mix of sigmoid heatmaps and landmarks, as the skeleton losses use them
        return (torch.sigmoid(hm_logits[:, :33]) * w.to(hm_logits)).sum() + 1e-3 * lm.sum()

    x0 = u8.double() / 127.5 - 1
    if kind == "synthetic":   # flat colours put activations exactly on ReLU6 kinks; a little fixed noise moves them off
        x0 = x0 + 0.02 * torch.randn(x0.shape, generator=g, dtype=torch.float64)
    x = x0.float().requires_grad_()
    o = H(x)
    scalar(o.heatmap_logits, o.landmarks).backward()
    an = (x.grad.double() * v).sum()

    def f(x11):  # the same scalar through the float64 network (H maps [-1, 1] to [0, 1] itself)
        lm, flag, seg, hm, world = net64((x11 + 1) / 2)
        return scalar(hm, lm.view(-1, 39, 5)[:, :33, :2])
    # ReLU6 kinks: a step of 1e-5 already crosses some (0.8% error); 1e-8 in float64 stays on the linear pieces
    eps = 1e-8
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # float64 depthwise convs run group by group: threads only add waiting on a busy machine
    try:
        with torch.no_grad():
            fd = (f(x0 + eps * v) - f(x0 - eps * v)) / (2 * eps)
    finally:
        torch.set_num_threads(threads)
    if kind == "real":
        assert abs(fd - an) <= 1e-3 * abs(an), (fd.item(), an.item())
    else:
        # on the flat-coloured figure float32 accumulation alone costs 0.4% (measured: float64 autograd matches the
        # differences to 1e-5, H's float32 gradient is 0.37% off), so: exact in float64, close in float32
        xd = x0.clone().requires_grad_()
        f(xd).backward()
        an64 = (xd.grad * v).sum()
        assert abs(fd - an64) <= 1e-4 * abs(an64), (fd.item(), an64.item())
        assert abs(fd - an) <= 1e-2 * abs(an), (fd.item(), an.item())


def test_noise_has_low_pose_flag(H):
    x = torch.rand(2, 3, 256, 256, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        assert (H(x).pose_flag < 0.1).all()


@pytest.mark.parametrize("kind", ["real", "synthetic"])
def test_interface_batch_size_and_autocast(H, kind):
    crops = [crop(kind, n, i) for i, n in enumerate(CROPS[:2])]
    x = to_tensor(np.stack(crops))
    with torch.no_grad():
        both = H(x)
        one = H(x[1:])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            amp = H(x[1:])
        big = H(torch.nn.functional.interpolate(x[1:], size=512, mode="bilinear", align_corners=False))
    assert isinstance(both, PoseOutput) and len(both) == 2
    assert both.heatmap_logits.shape == (2, 33, 64, 64) and both.landmarks.shape == (2, 33, 2)
    assert both.visibility.shape == both.presence.shape == (2, 33) and both.pose_flag.shape == (2,)
    assert both.segmentation.shape == (2, 256, 256)
    assert (both.heatmaps[1] - one.heatmaps[0]).abs().max() < 1e-4
    assert amp.heatmap_logits.dtype == torch.float32 and (amp.heatmaps - one.heatmaps).abs().max() < 1e-4
    # a 512² input gives landmarks in 512 px: twice the 256 px ones (the network sees nearly the same image)
    assert (big.landmarks / 2 - one.landmarks).abs().median() < 1.0
    assert H.input_size == 256 and H.heatmap_size == 64 and H.num_keypoints == 33 and H.name == "blazepose-full"


def test_fp32_convs_restores_the_users_setting():
    c = torch.backends.cudnn
    new_api = hasattr(getattr(c, "conv", None), "fp32_precision")
    before = c.conv.fp32_precision if new_api else c.allow_tf32
    with pose.fp32_convs("cuda"):  # only flips flags: runs without a GPU
        assert (c.conv.fp32_precision == "ieee") if new_api else (c.allow_tf32 is False)
    assert (c.conv.fp32_precision if new_api else c.allow_tf32) == before


def test_frozen(H):
    assert isinstance(H, PoseNet) and isinstance(H, torch.nn.Module)
    assert not any(p.requires_grad for p in H.parameters())
    H.train()
    assert not H.training and not any(m.training for m in H.modules())


@pytest.mark.parametrize("bad, msg", [
    (torch.zeros(3, 256, 256), "shape"),
    (torch.zeros(1, 4, 256, 256), "shape"),
    (torch.zeros(1, 3, 256, 128), "square"),
    (torch.zeros(1, 3, 256, 256, dtype=torch.uint8), "float"),
    (torch.full((1, 3, 64, 64), 255.0), r"\[-1, 1\]"),
    (torch.full((1, 3, 64, 64), float("nan")), r"\[-1, 1\]"),
    (np.zeros((1, 3, 64, 64), np.float32), "tensor"),
])
def test_bad_input(H, bad, msg):
    with pytest.raises(SkeletonCycleGANError, match=msg):
        H(bad)


def test_tampered_and_missing_model_files(tmp_path):
    src = model_file("pose_landmark_full.tflite")
    bad = tmp_path / "pose_landmark_full.tflite"
    data = bytearray(src.read_bytes()); data[len(data) // 2] ^= 1
    bad.write_bytes(bytes(data))
    with pytest.raises(SkeletonCycleGANError, match="sha256"):
        model_file("pose_landmark_full.tflite", path=bad)
    with pytest.raises(SkeletonCycleGANError, match="sha256"):
        model_file("pose_landmark_full.tflite", path=tmp_path)  # a folder holding the file
    with pytest.raises(SkeletonCycleGANError, match="does not exist"):
        model_file("pose_landmark_full.tflite", path=tmp_path / "nope.tflite")
    with pytest.raises(SkeletonCycleGANError, match="unknown model file"):
        model_file("pose_landmark_lite.tflite")


def test_tampered_cache_is_fetched_again_and_offline_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_CYCLEGAN_CACHE", str(tmp_path))
    monkeypatch.delenv("SKELETON_CYCLEGAN_MODELS", raising=False)
    monkeypatch.setattr(pose, "_from_mediapipe", lambda member: None)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "pose_detection.tflite").write_bytes(b"partial download")
    calls = []

    def offline(dest):
        calls.append(dest)
        return "`pip download` failed: no network"
    monkeypatch.setattr(pose, "_fetch_pip", offline)
    with pytest.raises(SkeletonCycleGANError, match="could not fetch pose_detection.tflite") as e:
        model_file("pose_detection.tflite")
    assert "sha256 must be" in str(e.value) and "SKELETON_CYCLEGAN_MODELS" in str(e.value)
    assert calls and not (tmp_path / "models" / "pose_detection.tflite").exists()  # the damaged file was dropped
    monkeypatch.setattr(pose.shutil, "which", lambda name: None)
    with pytest.raises(SkeletonCycleGANError, match="npm is not installed"):
        model_file("pose_landmark_heavy.tflite")


def test_corrupt_file(tmp_path):
    p = tmp_path / "broken.tflite"
    p.write_bytes(b"\x00" * 64)
    with pytest.raises(SkeletonCycleGANError, match="not a readable TFLite model"):
        load_tflite(p)


def _patch_op(buf, old, new):
    "Rewrite the operator code `old` into `new` inside a TFLite flatbuffer (both of its code fields)."
    import tflite
    m = tflite.Model.GetRootAsModel(buf, 0)
    for i in range(m.OperatorCodesLength()):
        oc = m.OperatorCodes(i)
        if oc.BuiltinCode() == old:
            t = oc._tab
            buf[t.Pos + t.Offset(4)] = new                                   # deprecated_builtin_code (int8)
            if t.Offset(10):
                buf[t.Pos + t.Offset(10):t.Pos + t.Offset(10) + 4] = new.to_bytes(4, "little")  # builtin_code (int32)
            return buf
    raise AssertionError("op not found")


def test_unsupported_op(tmp_path):
    import tflite
    buf = bytearray(model_file("pose_landmark_full.tflite").read_bytes())
    p = tmp_path / "patched.tflite"
    p.write_bytes(bytes(_patch_op(buf, tflite.BuiltinOperator.LOGISTIC, tflite.BuiltinOperator.TANH)))
    with pytest.raises(SkeletonCycleGANError, match="TANH"):
        load_tflite(p)


def test_keypoint_tables():
    assert len(BLAZEPOSE_NAMES) == 33 and len(set(BLAZEPOSE_NAMES)) == 33
    assert [BLAZEPOSE_FLIP_INDEX[i] for i in BLAZEPOSE_FLIP_INDEX] == list(range(33))
    for i, j in enumerate(BLAZEPOSE_FLIP_INDEX):
        a, b = BLAZEPOSE_NAMES[i], BLAZEPOSE_NAMES[j]
        if "left" not in a and "right" not in a: assert a == b
        else: assert a.replace("left", "right") == b or a.replace("right", "left") == b
    assert all(0 <= i < 33 and 0 <= j < 33 and i != j for i, j in BLAZEPOSE_EDGES)
    # the edge set is symmetric under the flip
    flipped = {tuple(sorted((BLAZEPOSE_FLIP_INDEX[i], BLAZEPOSE_FLIP_INDEX[j]))) for i, j in BLAZEPOSE_EDGES}
    assert flipped == {tuple(sorted(e)) for e in BLAZEPOSE_EDGES}
    assert len(BODY17) == 17 and BLAZEPOSE_NAMES[BODY17[0]] == "nose"


@pytest.mark.parametrize("kind", ["real", "synthetic"])
def test_flip_consistency(H, kind):
    "Mirroring the image mirrors H's heatmaps, with left and right swapped by flip_index."
    x = to_tensor(crop(kind, "lm_standing", 2))
    with torch.no_grad():
        a, b = H(x).heatmaps, H(x.flip(-1)).heatmaps
    peaks = lambda h: h.flatten(2).argmax(-1)
    body = [i for i in BODY17 if i > 10]  # shoulders to ankles: clear peaks
    pa = peaks(a.flip(-1)[:, BLAZEPOSE_FLIP_INDEX])[0, body]
    pb = peaks(b)[0, body]
    ya, xa, yb, xb = pa // 64, pa % 64, pb // 64, pb % 64
    assert ((ya - yb).abs() + (xa - xb).abs()).max() <= 3


def test_drawing():
    img = np.zeros((100, 120, 3), np.uint8)
    lm = np.full((33, 2), 50.0)
    lm[11], lm[12] = (20, 30), (90, 30)
    out = draw_skeleton(img, lm, visibility=np.ones(33))
    assert out.shape == img.shape and out.dtype == np.uint8 and img.max() == 0  # a copy
    assert out[30, 55].any() and not out[80, 5].any()  # on the shoulder line, far from it
    vis = np.ones(33); vis[12] = 0
    assert not draw_skeleton(img, lm, visibility=vis)[30, 85].any()
    assert (draw_skeleton(img, lm, color=(255, 0, 0))[30, 55] == (255, 0, 0)).all()
    hm = np.zeros((33, 16, 16), np.float32); hm[3, 4, 5] = 1
    h = draw_heatmaps(hm)
    assert h.shape == (16, 16, 3) and h.dtype == np.uint8 and h[4, 5].max() == 255 and h[0, 0].max() == 0
    assert draw_heatmaps(torch.from_numpy(hm), img).shape == img.shape
    with pytest.raises(SkeletonCycleGANError):
        draw_skeleton(np.zeros((10, 10)), lm)


def test_drawing_both_layouts_by_side(H):
    "One drawer for both layouts, named, as a backend or as a network: left, right and centre in their own colours."
    img = np.full((100, 120, 3), 7, np.uint8)
    lm = np.full((33, 2), np.nan)                        # NaN points (and their limbs) are left out
    lm[11], lm[12], lm[13], lm[14] = (20, 30), (90, 30), (20, 80), (90, 80)   # shoulders, elbows
    for layout in ("blazepose", POSE_BACKENDS["blazepose"], H):
        out = draw_skeleton(img, torch.from_numpy(lm), layout=layout)
        assert tuple(out[30, 55]) == SIDE_COLORS["centre"]  # the shoulder line joins both sides
        assert tuple(out[55, 20]) == SIDE_COLORS["left"] and tuple(out[55, 90]) == SIDE_COLORS["right"]
        assert (out[5, 5] == 7).all() and (img == 7).all()   # the rest untouched, on a copy
    kp = np.full((18, 2), np.nan)
    kp[1], kp[2], kp[3], kp[5], kp[6] = (60, 20), (40, 20), (40, 60), (80, 20), (80, 60)  # neck, shoulders, elbows
    vis = np.ones(18); vis[6] = 0.1
    for layout in ("openpose", POSE_BACKENDS["openpose"], POSE_BACKENDS["openpose"].load("cpu", input_size=64)):
        out = draw_skeleton(img, kp, visibility=vis, layout=layout)
        assert tuple(out[20, 50]) == SIDE_COLORS["centre"] and tuple(out[20, 70]) == SIDE_COLORS["centre"]
        assert tuple(out[40, 40]) == SIDE_COLORS["right"]    # right upper arm
        assert (out[40, 80] == 7).all()                       # the left elbow is not visible enough: no left upper arm
    one = draw_skeleton(img, kp, layout="openpose", color=(255, 0, 0), thickness=2, min_visibility=0.05)
    assert tuple(one[40, 40]) == tuple(one[40, 80]) == (255, 0, 0)
    with pytest.raises(SkeletonCycleGANError, match="33 points"):
        draw_skeleton(img, kp)                                 # COCO-18 points in the BlazePose layout
    with pytest.raises(SkeletonCycleGANError, match="unknown pose backend"):
        draw_skeleton(img, lm, layout="coco")


def test_registry_tables_agree_with_the_networks(H):
    "Each backend's tables are its network's attributes; flips are involutions that map the edges onto themselves."
    from skeleton_cyclegan.openpose import OpenPose, OpenPoseOutput
    assert list(POSE_BACKENDS) == ["blazepose", "openpose"]
    for b, net, out in [(POSE_BACKENDS["blazepose"], type(H), PoseOutput),
                        (POSE_BACKENDS["openpose"], OpenPose, OpenPoseOutput)]:
        assert isinstance(b, PoseBackend) and net.backend == b.name
        assert b.keypoint_names == tuple(net.keypoint_names) and b.num_keypoints == net.num_keypoints
        assert b.edges == tuple(net.edges) and b.flip_index == tuple(net.flip_index)
        assert b.coord_temperature == out.coord_temperature
        assert [b.flip_index[i] for i in b.flip_index] == list(range(b.num_keypoints))
        assert all(0 <= i < b.num_keypoints and 0 <= j < b.num_keypoints for i, j in b.edges)
        flipped = {tuple(sorted((b.flip_index[i], b.flip_index[j]))) for i, j in b.edges}
        assert flipped == {tuple(sorted(e)) for e in b.edges}
    b = POSE_BACKENDS["blazepose"]
    assert b.coord_temperature == 1.0 and POSE_BACKENDS["openpose"].coord_temperature == 0.05
    loaded = b.load("cpu")
    assert isinstance(loaded, type(H)) and loaded.name == b.network == H.name and pose_backend(loaded) is b


def test_registry_loads_openpose():
    b = POSE_BACKENDS["openpose"]
    Ho = b.load("cpu", input_size=64)
    assert type(Ho).__name__ == "OpenPose" and Ho.name == b.network and Ho.input_size == 64 and pose_backend(Ho) is b


def test_pose_backend_takes_a_name_a_backend_or_a_network(H):
    b = POSE_BACKENDS["blazepose"]
    assert pose_backend("blazepose") is b and pose_backend(b) is b and pose_backend(H) is b

    class Named(torch.nn.Module):  # no `backend` attribute: the first word of its name
        name = "openpose-thin"
    assert pose_backend(Named()) is POSE_BACKENDS["openpose"]

    class Foreign(torch.nn.Module):
        backend = "alphapose"
    for bad in ["alphapose", "BlazePose", "", None, 3, Foreign()]:
        with pytest.raises(SkeletonCycleGANError, match="unknown pose backend") as e:
            pose_backend(bad)
        assert "blazepose, openpose" in str(e.value)


def test_only_blazepose_tracks_people_in_prepare():
    from skeleton_cyclegan.pose import pose_backend
    assert pose_backend("blazepose").tracks and not pose_backend("openpose").tracks
