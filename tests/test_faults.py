"""The faults a user meets, made inside the tests: a run folder another training owns (or a dead one left locked),
a folder that holds a run, a kill before the first checkpoint, a full disk (patched writes raising ENOSPC, a free
space of 0), impossible numbers on the command line, a one-frame clip, a read-only cache, checkpoints from other
settings or that would run code, and the permissions of what the toolkit writes. Each case names what it checks."""
import builtins
import errno
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from skeleton_cyclegan.cli import main
from skeleton_cyclegan.core import SkeletonCycleGANError, atomic_path, save_json
from skeleton_cyclegan.folder import PreparedVideo, write_prepared

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--size", "64", "--load-size", "72", "--ngf", "8", "--ndf", "8", "--n-blocks", "1", "--n-layers-D", "2",
         "--lambda-skel", "0", "--sample-every", "0", "--pool-size", "2", "--device", "cpu"]
FULL = r"no space left on .+ while writing .+: free \d+ MB and run the same command again"


def _frames(n, size, seed):
    "Smooth random colour fields (uint8, n×size×size×3)."
    low = torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, 3, 4, 4)).astype(np.float32))
    up = torch.nn.functional.interpolate(low, size=(size, size), mode="bicubic", align_corners=False)
    return up.clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def _write(folder, n=4, seed=0):
    "A prepared folder of `n` 64² crops with given H(real) (no pose network needed: the runs train with λ_skel 0)."
    return write_prepared(folder, _frames(n, 64, seed), np.zeros((n, 33, 2), np.float32), np.ones((n, 33), np.float32),
                          np.zeros((n, 3), np.float32), {}, heatmap_logits=np.zeros((n, 33, 64, 64), np.float16),
                          progress=False)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp("prepared")
    return _write(d / "A", seed=0).folder, _write(d / "B", seed=1).folder


def train(prepared, run, *flags):
    "The train command, in this process: its exit status."
    A, B = map(str, prepared)
    return main(["train", "--a", A, "--b", B, "--out", str(run), *SMALL, *flags])


def _log(run):
    return [json.loads(l)["iteration"] for l in (Path(run) / "losses.jsonl").read_text().splitlines() if l.strip()]


def _error_lines(capsys):
    "What the command said on stderr, without the progress bars."
    return [l for l in capsys.readouterr().err.splitlines() if l.strip() and "%|" not in l]


def _no_space(*a, **k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _leftovers(folder):
    return sorted(p.name for p in Path(folder).rglob(".*tmp*"))


# ---- a run folder has one owner (issue 22, items 1 and 4)

def test_a_second_training_on_a_folder_in_use_exits_2_naming_its_owner(tmp_path, prepared, capsys):
    "A training runs in RUN (another process); a second one on RUN stops at once with one line naming the first."
    run = tmp_path / "run"
    first = subprocess.Popen([str(Path(sys.executable).with_name("skeleton-cyclegan")), "train", "--a",
                              str(prepared[0]), "--b", str(prepared[1]), "--out", str(run), *SMALL,
                              "--max-iters", "100000", "--checkpoint-every", "100000"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        t0 = time.time()
        while not (run / "config.json").exists():   # it owns the folder and has started
            assert first.poll() is None, first.stderr.read()[-2000:]
            assert time.time() - t0 < 300, "the first training never started"
            time.sleep(0.2)
        assert train(prepared, run, "--resume", "--max-iters", "2") == 2
        err = _error_lines(capsys)
        assert len(err) == 1 and f"process {first.pid} on {socket.gethostname()}" in err[0], err
        assert "in use by another training" in err[0] and "another --out" in err[0]
        assert not (run / "checkpoint.pt").exists()   # the second one wrote nothing
    finally:
        first.kill(); first.wait(30)


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_message(tmp_path, prepared, capsys, caplog):
    run = tmp_path / "run"
    run.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"]); dead.wait()   # a process that has ended (kill -9 alike)
    (run / "train.lock").write_text(json.dumps(dict(pid=dead.pid, host=socket.gethostname(), since="earlier")))
    assert train(prepared, run, "--max-iters", "2") == 0
    said = caplog.text + capsys.readouterr().err
    assert f"taking over {run / 'train.lock'}" in said and f"process {dead.pid}" in said and "no longer running" in said
    assert _log(run) == [1, 2] and not (run / "train.lock").exists()   # released at the end


def test_a_folder_that_holds_a_run_needs_resume_or_overwrite(tmp_path, prepared, capsys, caplog):
    run = tmp_path / "run"
    assert train(prepared, run, "--max-iters", "2") == 0
    ckpt = (run / "checkpoint.pt").read_bytes()
    capsys.readouterr()
    assert train(prepared, run, "--max-iters", "3") == 2                     # neither --resume nor --overwrite
    err = _error_lines(capsys)
    assert len(err) == 1 and all(s in err[0] for s in ("holds a run", "--resume", "--out", "--overwrite")), err
    assert (run / "checkpoint.pt").read_bytes() == ckpt and _log(run) == [1, 2]   # untouched
    assert train(prepared, run, "--resume", "--overwrite") == 2
    assert "not both" in _error_lines(capsys)[0]
    assert train(prepared, run, "--overwrite", "--max-iters", "3") == 0
    old = tmp_path / "run.previous-1"                                        # moved aside, nothing deleted
    assert (old / "checkpoint.pt").read_bytes() == ckpt and _log(old) == [1, 2]
    assert _log(run) == [1, 2, 3] and f"moved the earlier run in {run} to {old}" in caplog.text


def test_a_run_stopped_before_its_first_checkpoint_restarts_with_a_fresh_log(tmp_path, prepared):
    "Killed before the first checkpoint: config.json and a loss log, nothing to resume; no iteration is logged twice."
    run = tmp_path / "run"
    assert train(prepared, run, "--max-iters", "2") == 0
    for f in ("checkpoint.pt", "generators.pt"): (run / f).unlink()        # what a kill before the first one leaves
    assert train(prepared, run, "--resume", "--max-iters", "2") == 0       # resume: no checkpoint, a new run
    assert _log(run) == [1, 2]
    for f in ("checkpoint.pt", "generators.pt"): (run / f).unlink()
    assert train(prepared, run, "--max-iters", "2") == 0                   # a new run there: a new log too
    assert _log(run) == [1, 2]


# ---- a full disk and other failed writes (item 2)

@pytest.mark.parametrize("code, says", [(errno.ENOSPC, FULL), (errno.EDQUOT, FULL),
                                        (errno.EROFS, "read-only file system while writing .+: choose a folder"),
                                        (errno.EACCES, "permission denied while writing .+: choose a folder")])
def test_a_failed_write_is_one_line_and_keeps_the_old_file(tmp_path, code, says):
    save_json({"a": 1}, tmp_path / "x.json")
    with pytest.raises(SkeletonCycleGANError, match=says) as e:
        with atomic_path(tmp_path / "x.json") as tmp:
            tmp.write_text("half a fi")
            try: raise OSError(code, os.strerror(code))
            except OSError:   # as torch does: the OSError becomes the context of a RuntimeError
                raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534")
    assert len(str(e.value).splitlines()) == 1
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1} and _leftovers(tmp_path) == []


def test_a_full_disk_while_checkpointing_is_one_line_and_the_run_resumes(tmp_path, prepared, monkeypatch, capsys):
    run, real_save, calls = tmp_path / "run", torch.save, []

    def full_save(obj, f, *a, **k):
        if isinstance(obj, dict) and obj.get("format") == "skeleton-cyclegan-checkpoint":
            calls.append(1)
            if len(calls) == 2:                         # the second checkpoint finds the disk full half-way
                (f if hasattr(f, "write") else open(f, "wb")).write(b"half a checkpoint")
                try: _no_space()
                except OSError: raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64")
        return real_save(obj, f, *a, **k)
    monkeypatch.setattr(torch, "save", full_save)
    assert train(prepared, run, "--max-iters", "4", "--checkpoint-every", "2") == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and err[0].endswith("run the same command again with --resume."), err
    assert f"while writing {run / 'checkpoint.pt'}: free " in err[0] and "no space left on " in err[0]
    monkeypatch.setattr(torch, "save", real_save)
    from skeleton_cyclegan.checkpoint import load_checkpoint
    assert load_checkpoint(run / "checkpoint.pt")["iteration"] == 2 and _leftovers(run) == []
    assert train(prepared, run, "--max-iters", "4", "--checkpoint-every", "2", "--resume") == 0
    assert _log(run) == [1, 2, 3, 4]


def test_a_full_disk_while_logging_losses_is_one_line(tmp_path, prepared, monkeypatch):
    import skeleton_cyclegan.runlog as R
    import skeleton_cyclegan.train as T
    real_open = builtins.open

    def full_open(file, mode="r", *a, **k):
        f = real_open(file, mode, *a, **k)
        if str(file).endswith("losses.jsonl") and "a" in mode: f.write = _no_space
        return f
    monkeypatch.setattr(R, "open", full_open, raising=False)   # the loss log is written by runlog.RunRecord
    cfg = T.TrainConfig(size=64, load_size=72, ngf=8, ndf=8, n_blocks=1, n_layers_D=2, pool_size=2, max_iters=2,
                        log_every=1, sample_every=0, lambda_skel=0.0, device="cpu")
    from skeleton_cyclegan.data import UnpairedDataset
    with pytest.raises(SkeletonCycleGANError, match=FULL) as e:
        T.Trainer(cfg, UnpairedDataset(*prepared, size=64, load_size=72), tmp_path / "run", progress=False).fit()
    assert "losses.jsonl" in str(e.value)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from skeleton_cyclegan.video import write_video
    from test_data import rect_frame
    return write_video([rect_frame(i)[0] for i in range(16)], tmp_path_factory.mktemp("clip") / "walk.mp4", fps=10,
                       progress=False)


def stub_prepare(video, out):
    from skeleton_cyclegan.prepare import prepare
    from skeleton_cyclegan.track import CropSettings
    from test_data import StubDetector, StubH
    return prepare(video, out, size=64, H=StubH(), detector=StubDetector(), settings=CropSettings(track_size=64),
                   chunk=4, progress=False)


def test_a_full_disk_during_prepare_is_one_line_and_the_same_command_resumes(clip, tmp_path, monkeypatch):
    real_savez, calls = np.savez, []

    def full_savez(f, **arrays):
        calls.append(1)
        if len(calls) == 3: f.write(b"half a chunk"); _no_space()   # the third chunk finds the disk full
        return real_savez(f, **arrays)
    monkeypatch.setattr(np, "savez", full_savez)
    with pytest.raises(SkeletonCycleGANError, match=FULL + r"\.$") as e:
        stub_prepare(clip, tmp_path / "out")
    assert ".partial/track_000008.npz" in str(e.value) and _leftovers(tmp_path / "out") == []
    monkeypatch.setattr(np, "savez", real_savez)
    pv = stub_prepare(clip, tmp_path / "out")                     # the same command
    assert pv.meta["resumed"] and len(pv) == 16
    np.testing.assert_array_equal(pv.crops, stub_prepare(clip, tmp_path / "clean").crops)


def test_a_full_disk_stops_a_dataset_before_the_old_one_is_touched(tmp_path, monkeypatch):
    import shutil
    old = _write(tmp_path / "A", n=4, seed=0)
    before = {p.name: p.read_bytes() for p in old.folder.iterdir()}
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=100_000))   # 0.1 MB left
    with pytest.raises(SkeletonCycleGANError, match=r"no space left on .+ while writing .+A: free \d+ MB"):
        _write(tmp_path / "A", n=6, seed=1)
    assert {p.name: p.read_bytes() for p in old.folder.iterdir()} == before          # the old dataset, whole
    assert len(PreparedVideo(old.folder)) == 4


def test_arrays_are_written_without_a_memory_map(tmp_path, monkeypatch):
    "A page of a mapped file that finds the disk full kills the process (SIGBUS): datasets are written plainly."
    from skeleton_cyclegan.folder import ensure_pose_cache
    real = np.memmap

    class ReadOnlyMaps(real):
        def __new__(cls, *a, mode="r+", **k):
            assert mode in ("r", "c"), "a memory-mapped write ends in SIGBUS on a full disk"
            return real.__new__(cls, *a, mode=mode, **k)
    monkeypatch.setattr(np, "memmap", ReadOnlyMaps)
    pv = ensure_pose_cache(_write(tmp_path / "A"), TinyH(), progress=False)
    assert pv.heatmap_logits("tiny").shape == (4, 3, 16, 16) and pv.pose_landmarks("tiny").shape == (4, 3, 2)


class TinyH(torch.nn.Module):
    "A second pose network with three points and 16×16 heat maps: enough to cache its H(real)."
    name, flip_index, input_size = "tiny", [0, 1, 2], 64

    def forward(self, x):
        n = len(x)
        return SimpleNamespace(heatmap_logits=torch.zeros(n, 3, 16, 16), landmarks=torch.zeros(n, 3, 2),
                               visibility=torch.ones(n, 3), pose_flag=torch.ones(n))


def test_a_video_ffmpeg_could_not_finish_is_one_line_and_the_old_one_stays(tmp_path, monkeypatch):
    "ffmpeg on a full disk exits with an error that imageio-ffmpeg does not check: the file is probed before the rename."
    import imageio_ffmpeg
    import shutil
    from skeleton_cyclegan.video import video_info, write_video
    out = write_video([np.zeros((32, 32, 3), np.uint8)] * 3, tmp_path / "v.mp4", fps=10, progress=False)

    def ffmpeg_on_a_full_disk(path, size, **kw):
        Path(path).write_bytes(b"\x00\x00\x00\x18ftypisom")      # what it got out before the disk filled
        while True: yield
    monkeypatch.setattr(imageio_ffmpeg, "write_frames", ffmpeg_on_a_full_disk)
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=0))
    with pytest.raises(SkeletonCycleGANError, match=FULL) as e:
        write_video([np.ones((32, 32, 3), np.uint8)] * 5, out, fps=10, progress=False)
    assert str(out) in str(e.value) and _leftovers(tmp_path) == []
    monkeypatch.undo()
    assert video_info(out).n_frames == 3


# ---- impossible numbers (item 3)

@pytest.mark.parametrize("cmd, flag, value, says", [
    ("train", "--lr", "nan", "lr=nan"), ("train", "--beta1", "1.5", "beta1=1.5"), ("train", "--lr", "inf", "lr=inf"),
    ("train", "--lambda-cyc", "nan", "lambda_cyc=nan"), ("train", "--lambda-skel", "nan", "lambda_skel=nan"),
    ("prepare", "--fps", "nan", "fps=nan"), ("prepare", "--max-frames", "0", "max_frames=0"),
    ("prepare", "--size", "8", "size=8"), ("translate", "--smooth", "nan", "smooth=nan"),
    ("translate", "--batch", "0", "batch=0"), ("translate", "--max-frames", "-1", "max_frames=-1")])
def test_impossible_numbers_exit_2_with_one_line_each(tmp_path, capsys, clip, cmd, flag, value, says):
    args = {"train": ["train", "--a", str(clip), "--b", str(clip), "--out", str(tmp_path / "run")],
            "prepare": ["prepare", str(clip), "--out", str(tmp_path / "p")],
            "translate": ["translate", str(tmp_path / "run"), str(clip), str(tmp_path / "t.mp4")]}[cmd]
    assert main([*args, flag, value]) == 2
    err = _error_lines(capsys)
    assert len(err) == 2 and err[0].endswith(f"error: invalid {cmd}{'ing' if cmd == 'train' else ''} settings:"), err
    assert err[1].strip().startswith(says + ":") and "Traceback" not in "".join(err)
    assert not (tmp_path / "run").exists() and not (tmp_path / "p").exists()   # refused before any work


# ---- short clips (item 5)

def test_a_one_frame_clip_prepares(tmp_path, ffmpeg):
    "One frame at 12 fps lasts 0.08 s: ffmpeg's probe counts 0 frames, yet the frame decodes."
    from skeleton_cyclegan.video import video_info
    one = tmp_path / "one.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=160x120:r=12", "-vf", "drawbox=x=40:y=50:w=20:h=40:color=white:t=fill",
           "-frames:v", "1", "-pix_fmt", "yuv420p", one)
    assert video_info(one).n_frames == 1
    pv = stub_prepare(one, tmp_path / "out")
    assert len(pv) == 1 and pv.meta["n_dropped"] == 0


# ---- a read-only cache (item 6)

@pytest.fixture
def read_only(monkeypatch):
    "The folders in the list it returns are read-only for this process (root ignores chmod): writes fail with EROFS."
    roots = []
    under = lambda p: any(Path(os.path.abspath(p)).is_relative_to(r) for r in roots)
    real_open, real_io_open, real_os_open, real_mkdir = builtins.open, io.open, os.open, os.mkdir

    def refuse(p): raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(p))

    def os_open(p, flags, *a, **k):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and under(p): refuse(p)
        return real_os_open(p, flags, *a, **k)

    def mkdir(p, *a, **k):
        if under(p) and not os.path.exists(p): refuse(p)
        return real_mkdir(p, *a, **k)

    def opener(real):
        def open_(p, mode="r", *a, **k):
            if isinstance(p, (str, os.PathLike)) and any(c in mode for c in "wax+") and under(p): refuse(p)
            return real(p, mode, *a, **k)
        return open_
    for mod, name, f in ((os, "open", os_open), (os, "mkdir", mkdir), (builtins, "open", opener(real_open)),
                         (io, "open", opener(real_io_open))):
        monkeypatch.setattr(mod, name, f)
    for name in ("unlink", "remove", "rename", "replace"):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda p, *a, _real=real, **k: refuse(p) if under(p) else _real(p, *a, **k))
    return roots


@pytest.fixture
def cache_with_models(tmp_path, monkeypatch):
    from skeleton_cyclegan.pose import MODEL_FILES, model_file
    try: files = {n: model_file(n) for n in MODEL_FILES}
    except SkeletonCycleGANError as e: pytest.skip(f"model files not available here: {e}")
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    for n, p in files.items(): (cache / "models" / n).symlink_to(p)
    monkeypatch.setenv("SKELETON_CYCLEGAN_CACHE", str(cache))
    monkeypatch.delenv("SKELETON_CYCLEGAN_MODELS", raising=False)
    return cache


def test_a_read_only_cache_that_holds_every_model_works(cache_with_models, read_only, tmp_path, capsys, monkeypatch):
    from skeleton_cyclegan import pose
    read_only.append(cache_with_models.absolute())
    assert main(["info"]) == 0 and f"cache: {cache_with_models}" in capsys.readouterr().out
    for n in pose.MODEL_FILES: assert pose.model_file(n) == cache_with_models / "models" / n
    read_only.clear(); (cache_with_models / "models" / "pose_detection.tflite").unlink()   # a file missing
    read_only.append(cache_with_models.absolute())                                          # adding it needs writing
    monkeypatch.setattr(pose, "_from_mediapipe", lambda member: None)
    monkeypatch.setattr(pose, "_fetch_pip", lambda dest: pytest.fail("no download into a read-only cache"))
    with pytest.raises(SkeletonCycleGANError, match=r"cannot write to the folder .+models \(Read-only file system\)"):
        pose.model_file("pose_detection.tflite")


def test_a_real_one_frame_clip_prepares_from_a_read_only_cache(cache_with_models, read_only, tmp_path, ffmpeg,
                                                               shared_data):
    "The first frame of a real short clip, alone at 12 fps: BlazePose and the detector from a read-only cache."
    from skeleton_cyclegan.prepare import prepare
    one = tmp_path / "one.mp4"
    ffmpeg("-i", shared_data / "videos" / "short_basketball.mp4", "-frames:v", "1", "-r", "12", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", one)
    read_only.append(cache_with_models.absolute())
    pv = prepare(one, tmp_path / "out", size=64, progress=False)
    assert len(pv) == 1 and pv.meta["n_dropped"] == 0 and pv.meta["source_info"]["n_frames"] == 1


# ---- checkpoints from elsewhere (item 7)

def test_resuming_with_another_ngf_names_the_setting_in_one_line(tmp_path, prepared, capsys):
    run = tmp_path / "run"
    assert train(prepared, run, "--max-iters", "1") == 0
    capsys.readouterr()
    assert main(["train", "--a", str(prepared[0]), "--b", str(prepared[1]), "--out", str(run), "--resume",
                 "--ngf", "16", "--max-iters", "2"]) == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and f"{run / 'checkpoint.pt'} was trained with ngf=8, this run asks for ngf=16: " in err[0]
    assert "resume without --ngf" in err[0]


class Sneaky:
    "Unpickling it would run a shell command."
    def __init__(self, flag): self.flag = flag
    def __reduce__(self): return (os.system, (f"touch {self.flag}",))


@pytest.mark.parametrize("where", ["checkpoint", "generators"])
def test_a_file_that_would_run_code_is_not_trusted(tmp_path, prepared, capsys, where):
    run, flag = tmp_path / "run", tmp_path / "code-ran"
    assert train(prepared, run, "--max-iters", "1") == 0
    name = f"{where}.pt"
    torch.save({"format": f"skeleton-cyclegan-{where}", "G": Sneaky(flag)}, run / name)
    capsys.readouterr()
    args = (["train", "--a", str(prepared[0]), "--b", str(prepared[1]), "--out", str(run), "--resume"]
            if where == "checkpoint" else ["translate", str(run / name), str(prepared[0]), str(tmp_path / "t.mp4")])
    assert main(args) == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and f"{run / name} is not a checkpoint this toolkit can trust" in err[0], err
    assert "weights_only" not in err[0] and not flag.exists()


def test_a_generators_file_is_not_a_training_checkpoint(tmp_path, prepared, capsys):
    run = tmp_path / "run"
    assert train(prepared, run, "--max-iters", "1") == 0
    (run / "checkpoint.pt").write_bytes((run / "generators.pt").read_bytes())
    capsys.readouterr()
    assert main(["train", "--a", str(prepared[0]), "--b", str(prepared[1]), "--out", str(run), "--resume"]) == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and "checkpoint.pt is a generators file, not a training checkpoint" in err[0], err


# ---- permissions (issue 21, item 5)

def test_what_the_toolkit_writes_gets_the_umask_permissions(tmp_path, prepared):
    "Every file written (JSON, arrays, checkpoints, generators, logs, videos) is 0666 less the umask, as any new file."
    from skeleton_cyclegan.video import write_video
    old = os.umask(0o027)
    try:
        _write(tmp_path / "A")
        assert train(prepared, tmp_path / "run", "--max-iters", "1") == 0
        write_video([np.zeros((32, 32, 3), np.uint8)] * 2, tmp_path / "v.mp4", fps=10, progress=False)
    finally:
        os.umask(old)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) >= 12
    assert {str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777) for p in files} == \
        {str(p.relative_to(tmp_path)): oct(0o640) for p in files}
