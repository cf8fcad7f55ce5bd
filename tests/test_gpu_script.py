"bench/gpu_run.sh: its CPU dry run (--tiny) goes through every step and leaves the summary, the tables and the results."
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "gpu_run.sh"
STEPS = ("00_machine", "01_train_step", "02_prepare", "03_translate", "04_data", "05_train", "06_clip")


def blazepose_folder(tmp) -> Path:
    "A folder holding BlazePose's two files (the script itself downloads nothing: the package fetches them here)."
    import shutil
    from skeleton_cyclegan.pose import model_file
    files = [model_file(n) for n in ("pose_detection.tflite", "pose_landmark_full.tflite")]
    if files[0].parent == files[1].parent: return files[0].parent
    for f in files: shutil.copy(f, tmp / f.name)
    return tmp


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_out")
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "OMP_NUM_THREADS": "1",
           "SKELETON_CYCLEGAN_MODELS": str(blazepose_folder(tmp_path_factory.mktemp("models")))}
    r = subprocess.run(["bash", str(SCRIPT), "--tiny"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return out, r


def test_tiny_run_finishes_every_step(tiny_run):
    out, r = tiny_run
    summary = (out / "summary.md").read_text() if (out / "summary.md").exists() else "(no summary.md)"
    assert r.returncode == 0, f"gpu_run.sh --tiny exited {r.returncode}:\n{r.stdout[-3000:]}\n{summary[:4000]}"
    for s in STEPS:
        assert (out / f"{s}.txt").is_file(), f"{s}.txt missing"
        assert f"| {s} | ok |" in summary, f"{s} is not reported ok in summary.md"
    assert "| fp32 |" in (out / "03_translate.txt").read_text()      # the translate bench's table


def test_tiny_run_trains_and_translates(tiny_run):
    from skeleton_cyclegan.video import video_info
    out, _ = tiny_run
    rows = (out / "losses.jsonl").read_text().splitlines()
    assert rows and '"iteration"' in rows[0]
    assert (out / "losses.png").stat().st_size > 0 and (out / "sample_strip.png").stat().st_size > 0
    assert video_info(out / "clip_AtoB.mp4").n_frames >= 1
    assert not (out / "work").exists()      # weights and crops are removed: only results come back


def test_help_and_bad_option():
    r = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--tiny" in r.stdout and "OUT" in r.stdout
    r = subprocess.run(["bash", str(SCRIPT), "--fast"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown option --fast" in r.stderr


def test_missing_videos_are_one_clear_line_and_the_run_goes_on(tmp_path):
    "No time at all (every timed step is skipped) and no videos: each problem is one line in the summary, exit 1."
    env = {**os.environ, "OUT": str(tmp_path), "PYTHON": sys.executable, "GPU_RUN_SECONDS": "1",
           "VIDEO_A": "/nonexistent/a.mp4", "SKELETON_CYCLEGAN_MODELS": str(tmp_path)}
    r = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    summary = (tmp_path / "summary.md").read_text()
    assert "| 00_machine | skipped | 0 | no time left before the deadline |" in summary
    assert "the real pair is absent: /nonexistent/a.mp4" in summary and "set VIDEO_A and VIDEO_B" in summary
    assert "| 05_train | FAIL |" in summary and "| 06_clip | FAIL |" in summary
