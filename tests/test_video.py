"The video component: metadata, sampling, writing, and every bad input the issue lists."
import os
import warnings

import numpy as np
import pytest

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.video import contact_sheet, read_frames, video_info, write_video


def ramp(n, h=32, w=48):
    "Frames whose brightness encodes their index, so sampling can be checked from pixels."
    return [np.full((h, w, 3), 10 * i, np.uint8) for i in range(n)]


def index_of(frame):
    return int(round(frame.mean() / 10))


@pytest.fixture
def clip(tmp_path):
    return write_video(ramp(20), tmp_path / "ramp.mp4", fps=10, progress=False)


def test_round_trip_and_sampling(clip):
    info = video_info(clip)
    assert (info.fps, info.n_frames, info.width, info.height, info.has_audio) == (10, 20, 48, 32, False)
    assert [index_of(f) for _, f in read_frames(clip)] == list(range(20))
    assert [index_of(f) for _, f in read_frames(clip, every=5)] == [0, 5, 10, 15]
    assert [index_of(f) for _, f in read_frames(clip, fps=5)] == list(range(0, 20, 2))
    assert [index_of(f) for _, f in read_frames(clip, max_frames=3)] == [0, 10, 19]
    ts = [t for t, _ in read_frames(clip, start=0.5, end=1.0)]
    assert ts[0] == pytest.approx(0.5) and ts[-1] <= 1.0 and len(ts) == 5
    assert [index_of(f) for _, f in read_frames(clip, start=1.0, every=3)] == [10, 13, 16, 19]


def test_fps_above_source_uses_each_frame_once(clip):
    with pytest.warns(UserWarning, match="above the video"):
        frames = [index_of(f) for _, f in read_frames(clip, fps=60)]
    assert frames == list(range(20))


def test_resize_short_side(clip):
    _, f = next(read_frames(clip, size=16))
    assert f.shape == (16, 24, 3)


@pytest.mark.parametrize("bad", ["missing", "folder", "text", "png", "empty"])
def test_not_a_video(tmp_path, bad):
    p = {"missing": tmp_path / "nope.mp4", "folder": tmp_path, "text": tmp_path / "notes.mp4",
         "png": tmp_path / "frame.png", "empty": tmp_path / "empty.mp4"}[bad]
    if bad == "text": p.write_text("this is not a video\n" * 50)
    if bad == "png":
        from PIL import Image
        Image.fromarray(ramp(1)[0]).save(p)
    if bad == "empty": p.write_bytes(b"")
    with pytest.raises(SkeletonCycleGANError) as e:
        video_info(p)
    assert str(p) in str(e.value)
    with pytest.raises(SkeletonCycleGANError):
        next(read_frames(p))


def test_truncated_mp4(tmp_path, clip):
    # moov atom at the end (ffmpeg's default without faststart): cut it off → no index, clear error
    ok = tmp_path / "plain.mp4"
    import imageio_ffmpeg, subprocess
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(clip), "-c", "copy", str(ok)], check=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(ok.read_bytes()[: ok.stat().st_size // 2])
    with pytest.raises(SkeletonCycleGANError, match="truncated|could not"):
        list(read_frames(cut))
    # faststart file cut in half: the index survives, so the frames that are there are read, no garbage
    fast = tmp_path / "fast_cut.mp4"
    fast.write_bytes(clip.read_bytes()[: clip.stat().st_size * 2 // 3])
    try:
        got = [index_of(f) for _, f in read_frames(fast)]
    except SkeletonCycleGANError:
        return
    assert 1 <= len(got) <= 20 and got == list(range(len(got)))


def test_zero_frame_and_audio_only(tmp_path, ffmpeg):
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x48:d=1:r=10", "-frames:v", "0", "-c:v", "libx264", tmp_path / "zero.mp4")
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "aac", tmp_path / "audio.mp4")
    for p in (tmp_path / "zero.mp4", tmp_path / "audio.mp4"):
        with pytest.raises(SkeletonCycleGANError):
            video_info(p)


def test_rotation_metadata(tmp_path, ffmpeg, clip):
    ffmpeg("-display_rotation", "90", "-i", clip, "-c", "copy", tmp_path / "rot.mp4")
    info = video_info(tmp_path / "rot.mp4")
    assert info.rotation in (90, 270) and (info.width, info.height) == (32, 48)
    frames = [f for _, f in read_frames(tmp_path / "rot.mp4")]
    assert frames[0].shape == (48, 32, 3) and len(frames) == 20
    assert [index_of(f) for f in frames[:5]] == [0, 1, 2, 3, 4]


def test_odd_and_portrait_sizes(tmp_path):
    frames = [np.random.default_rng(i).integers(0, 255, (1921, 1081, 3), np.uint8) for i in range(3)]
    out = write_video(frames, tmp_path / "odd.mp4", fps=5, progress=False)
    info = video_info(out)
    assert (info.width, info.height, info.n_frames) == (1082, 1922, 3)
    f = next(read_frames(out, size=64))[1]
    assert f.shape[1] == 64 and f.shape[0] == round(1922 * 64 / 1082)


def test_variable_frame_rate(tmp_path, ffmpeg):
    # two segments at 10 and 25 fps joined with their own timestamps: a VFR file
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x48:d=1:r=10", "-f", "lavfi", "-i", "testsrc=s=64x48:d=1:r=25",
           "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-fps_mode", "vfr",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", tmp_path / "vfr.mp4")
    info = video_info(tmp_path / "vfr.mp4")
    assert info.duration == pytest.approx(2.0, abs=0.15)
    got = list(read_frames(tmp_path / "vfr.mp4", fps=5))
    ts = [t for t, _ in got]
    assert 8 <= len(got) <= 12 and ts == sorted(ts)


def test_unwritable_output(tmp_path, clip):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SkeletonCycleGANError, match="not a folder|cannot write"):
        write_video(ramp(2), blocker / "out.mp4", fps=5, progress=False)
    with pytest.raises(SkeletonCycleGANError, match="cannot write"):
        write_video(ramp(2), "/proc/skeleton_cyclegan_test/out.mp4", fps=5, progress=False)


def test_write_is_atomic(tmp_path):
    def frames():
        yield from ramp(3)
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        write_video(frames(), tmp_path / "x.mp4", fps=5, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_audio_copied(tmp_path, ffmpeg):
    ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x48:d=2:r=10", "-f", "lavfi", "-i", "sine=d=2",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", tmp_path / "src.mp4")
    out = write_video(ramp(10), tmp_path / "out.mp4", fps=10, audio_from=tmp_path / "src.mp4", progress=False)
    assert video_info(out).has_audio


def test_contact_sheet():
    sheet = contact_sheet(ramp(6), times=[0, 1, 2, 3, 4, 5], cols=3, width=300)
    assert sheet.dtype == np.uint8 and sheet.shape[1] == 300 and sheet.shape[0] < 300


def test_real_videos(shared_data):
    info = video_info(shared_data / "videos" / "taiji.mp4")
    assert (info.width, info.height) == (1280, 720) and info.has_audio and 400 <= info.n_frames <= 420
    got = list(read_frames(shared_data / "videos" / "taiji.mp4", fps=2, size=128))
    assert len(got) == pytest.approx(info.duration * 2, abs=2)
    assert got[0][1].shape == (128, 228, 3)
    portrait = video_info(shared_data / "videos" / "short_basketball.mp4")
    assert portrait.height > portrait.width
