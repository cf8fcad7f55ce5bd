"translate: pasting, panels, the temporal filter, and whole videos through a (random) generator."
from pathlib import Path

import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError, ensure_dir
from skeleton_cyclegan.folder import write_prepared
from skeleton_cyclegan.networks import ResnetGenerator
from skeleton_cyclegan.translate import TemporalFilter, ahead, generate, inference_amp, panel, paste_back, translate
from skeleton_cyclegan.video import read_frames, video_info, write_video


def fake_run(folder, size=32):
    "A run folder holding random G and F in the generators-only format training exports."
    from skeleton_cyclegan.checkpoint import GENERATORS_FORMAT, save_checkpoint
    torch.manual_seed(0)
    g, f = ResnetGenerator(ngf=4, n_blocks=1), ResnetGenerator(ngf=4, n_blocks=1)
    st = {"format": GENERATORS_FORMAT, "package_version": "test", "iteration": 0,
          "config": {"size": size, "ngf": 4, "n_blocks": 1}, "G": g.state_dict(), "F": f.state_dict()}
    save_checkpoint(st, ensure_dir(folder) / "generators.pt")
    return Path(folder)


def moving_square_frames(n=10, h=72, w=96):
    frames = np.full((n, h, w, 3), 40, np.uint8)
    for i in range(n): frames[i, 20:50, 10 + 4 * i:40 + 4 * i] = (200, 180, 60)
    return frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory, ffmpeg):
    "A 10-frame source video with audio and its prepared folder (crop windows placed by hand)."
    tmp = tmp_path_factory.mktemp("clip")
    frames = moving_square_frames()
    silent = write_video(list(frames), tmp / "silent.mp4", fps=10, progress=False)
    ffmpeg("-i", silent, "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:v", "copy", "-c:a", "aac",
           "-shortest", tmp / "src.mp4")
    src = tmp / "src.mp4"
    decoded = [(t, f) for t, f in read_frames(src)]
    keep = [i for i in range(len(decoded)) if i != 3]              # frame 3: the person was "lost"
    boxes = np.array([[25 + 4 * i, 35, 40] for i in keep], np.float32)
    from skeleton_cyclegan.track import crop_square
    crops = np.stack([crop_square(decoded[i][1], b, 48)[0] for i, b in zip(keep, boxes)])
    meta = dict(fps=10.0, frame_times=[round(decoded[i][0], 4) for i in keep], n_dropped=1,
                source=dict(path=str(src.resolve())), settings=dict(fps=None, max_frames=None))
    n = len(keep)
    lm = np.tile(np.linspace(5, 40, 66, dtype=np.float32).reshape(1, 33, 2), (n, 1, 1))
    pv = write_prepared(tmp / "prepared", crops, lm, np.ones((n, 33), np.float32), boxes, meta,
                        heatmap_logits=np.zeros((n, 33, 64, 64), np.float16), progress=False)
    return dict(tmp=tmp, src=src, pv=pv, n_src=len(decoded), keep=keep, run=fake_run(tmp / "run"))


def test_paste_back_places_crop_and_clips_at_the_border():
    bg = np.full((60, 80, 3), 10, np.uint8)
    crop = np.full((16, 16, 3), 250, np.uint8)
    out = paste_back(bg, crop, (40, 30, 32))
    assert out[30, 40].tolist() == [250] * 3 and out[2, 2].tolist() == [10] * 3
    assert out[14, 40, 0] < 250                       # the feathered border blends
    edge = paste_back(bg, crop, (78, 58, 32))         # mostly outside the frame
    assert edge.shape == bg.shape and edge[59, 79, 0] > 100
    assert np.array_equal(paste_back(bg, crop, (500, 500, 32)), bg)
    with pytest.raises(SkeletonCycleGANError, match="invalid crop window"):
        paste_back(bg, crop, (np.nan, 1, 1))


def test_panel_has_three_captioned_tiles_and_draws_the_skeleton():
    src = np.zeros((64, 64, 3), np.uint8); gen = np.full((32, 32, 3), 128, np.uint8)
    lm = np.tile([[32.0, 32.0]], (33, 1)); lm[11], lm[23] = [10, 10], [50, 50]   # one torso edge
    p = panel(src, gen, lm, tile=80)
    assert p.shape == (96, 240, 3)
    third, second = p[16:, 160:], p[16:, 80:160]
    assert np.abs(third.astype(int) - second.astype(int)).sum() > 0   # the skeleton is drawn over generated
    assert panel(src, gen, None, tile=80).shape == (96, 160, 3)


def test_temporal_filter_removes_flicker_on_a_still_source_and_passes_motion():
    torch.manual_seed(0)
    gen = (torch.randn(12, 3, 16, 16) * 0.3).clamp(-1, 1)
    still = torch.zeros(12, 3, 16, 16)
    y = TemporalFilter(0.6)(still, gen)
    assert y.diff(dim=0).abs().mean() < 0.5 * gen.diff(dim=0).abs().mean()
    moving = torch.linspace(-1, 1, 12)[:, None, None, None].expand(12, 3, 16, 16)
    assert torch.allclose(TemporalFilter(0.6)(moving, gen), gen, atol=1e-3)
    f = TemporalFilter(0.6); f(still[:6], gen[:6]); b = f(still[6:], gen[6:])      # state carries across batches
    assert torch.allclose(b, y[6:], atol=1e-6)
    with pytest.raises(SkeletonCycleGANError): TemporalFilter(1.0)


def test_generate_streams_in_order_at_the_run_size():
    g = ResnetGenerator(ngf=4, n_blocks=1)
    crops = np.random.default_rng(0).integers(0, 255, (5, 48, 48, 3), dtype=np.uint8)
    outs = list(generate(g, crops, 32, batch=2, progress=False))
    one = list(generate(g, crops[3:4], 32, batch=1, progress=False))[0]
    assert len(outs) == 5 and outs[0].shape == (32, 32, 3) and outs[0].dtype == np.uint8
    assert np.abs(outs[3].astype(int) - one.astype(int)).max() <= 1


def test_generate_batches_give_the_frames_one_at_a_time_gives():
    torch.manual_seed(1)
    g = ResnetGenerator(ngf=4, n_blocks=1)
    crops = np.random.default_rng(1).integers(0, 255, (7, 40, 40, 3), dtype=np.uint8)
    single = np.stack(list(generate(g, crops, 32, batch=1, progress=False, amp="off")))
    for b in (3, 8):   # a last batch shorter than the others; one batch holding everything
        batched = np.stack(list(generate(g, crops, 32, batch=b, progress=False, amp="off")))
        assert batched.shape == single.shape and np.abs(batched.astype(int) - single).max() <= 1
    f1, f3 = TemporalFilter(0.6), TemporalFilter(0.6)        # the filter's state crosses batch borders
    a = np.stack(list(generate(g, crops, 32, batch=1, filter=f1, progress=False, amp="off")))
    b = np.stack(list(generate(g, crops, 32, batch=3, filter=f3, progress=False, amp="off")))
    assert np.abs(a.astype(int) - b).max() <= 1


def test_generate_in_bf16_is_close_to_float32():
    torch.manual_seed(2)
    g = ResnetGenerator(ngf=8, n_blocks=2)
    crops = np.random.default_rng(2).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    fp32 = np.stack(list(generate(g, crops, 32, batch=2, progress=False, amp="off"))).astype(int)
    bf16 = np.stack(list(generate(g, crops, 32, batch=2, progress=False, amp="bf16"))).astype(int)
    assert 0 < np.abs(bf16 - fp32).mean() < 2.5        # bf16 did run, and stays within a few levels of 255
    assert np.abs(bf16 - fp32).max() <= 32


def test_inference_amp_picks_by_device(monkeypatch):
    import skeleton_cyclegan.precision as precision
    import skeleton_cyclegan.translate as tr
    assert inference_amp(None, "cpu") == "off"                 # generate's default: float32 on every CPU
    for native, want in ((True, "bf16"), (False, "off")):
        monkeypatch.setattr(tr, "cpu_native_bf16", lambda: native)
        assert inference_amp("auto", "cpu") == want
    assert inference_amp("fp16", "cpu") == "fp16" and inference_amp("off", "cpu") == "off"
    for cap, want in (((9, 0), "bf16"), ((7, 5), "fp16")):     # an H100, a T4
        monkeypatch.setattr(precision, "cuda_capability", lambda dev, cap=cap: cap)
        assert inference_amp("auto", "cuda:0") == want and inference_amp(None, "cuda:0") == want
    with pytest.raises(SkeletonCycleGANError, match="choose one of auto, bf16, fp16, off"):
        inference_amp("fp8", "cpu")


def test_ahead_keeps_order_passes_errors_and_stops_its_thread():
    import threading
    assert list(ahead(iter(range(20)), depth=3)) == list(range(20))

    def broken():
        yield 1
        raise ValueError("boom")
    with pytest.raises(ValueError, match="boom"): list(ahead(broken()))
    closed = []

    def source():
        try: yield from range(10**6)
        finally: closed.append(threading.current_thread().name)
    it = ahead(source(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()                     # the consumer stops early: the producer is closed in its own thread, then ends
    assert closed == ["translate-ahead"]
    assert not any(t.name == "translate-ahead" for t in threading.enumerate())


def test_translate_panel_and_crops(clip):
    n = len(clip["keep"])
    p = translate(clip["run"], clip["pv"].folder, clip["tmp"] / "panel.mp4", output="panel", progress=False)
    i = video_info(p)
    assert (i.n_frames, i.width, i.height) == (n, 3 * 256, 256 + 16)
    assert not i.has_audio           # a frame was dropped: the audio would no longer line up
    c = translate(clip["run"], clip["pv"].folder, clip["tmp"] / "crops.mp4", output="crops", direction="BtoA",
                  smooth=0.5, max_frames=4, progress=False)
    assert (video_info(c).n_frames, video_info(c).width) == (4, 32)


def test_translate_paste_keeps_every_source_frame_and_the_audio(clip):
    p = translate(clip["run"], clip["pv"].folder, clip["tmp"] / "paste.mp4", output="paste", progress=False)
    i = video_info(p)
    assert (i.n_frames, i.width, i.height) == (clip["n_src"], 96, 72)
    assert i.has_audio
    out = [f for _, f in read_frames(p)]
    src = [f for _, f in read_frames(clip["src"])]
    diff = [np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(out, src)]
    assert diff[3] < 2 < min(diff[:3])   # the lost frame passes through; the others carry the generated crop


def test_translate_errors(clip, tmp_path):
    run, folder = clip["run"], clip["pv"].folder
    with pytest.raises(SkeletonCycleGANError, match="mp4"): translate(run, folder, tmp_path / "x.avi", progress=False)
    with pytest.raises(SkeletonCycleGANError, match="output"): translate(run, folder, tmp_path / "x.mp4", output="gif")
    with pytest.raises(SkeletonCycleGANError, match="direction"): translate(run, folder, tmp_path / "x.mp4", direction="up")
    with pytest.raises(SkeletonCycleGANError, match="does not exist"): translate(run, tmp_path / "nope.mp4", tmp_path / "x.mp4")
    with pytest.raises(SkeletonCycleGANError, match="not a prepared dataset"): translate(run, tmp_path, tmp_path / "x.mp4")
    with pytest.raises(SkeletonCycleGANError, match="amp='half'"): translate(run, folder, tmp_path / "x.mp4", amp="half")


def test_translate_in_bf16_matches_float32(clip):
    kw = dict(output="crops", max_frames=4, progress=False)
    a = translate(clip["run"], clip["pv"].folder, clip["tmp"] / "fp32.mp4", amp="off", **kw)
    b = translate(clip["run"], clip["pv"].folder, clip["tmp"] / "bf16.mp4", amp="bf16", **kw)
    fa, fb = ([f for _, f in read_frames(p)] for p in (a, b))
    assert len(fa) == len(fb) == 4
    assert np.mean([np.abs(x.astype(int) - y).mean() for x, y in zip(fa, fb)]) < 4   # H.264 noise + bf16
