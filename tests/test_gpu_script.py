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


# ---- the kit for the GPU machine (bench/device_kit.sh) and gpu_run.sh's use of it ---------------------------------
KIT_SCRIPT = ROOT / "bench" / "device_kit.sh"
KIT_VARS = ("VIDEO_A", "VIDEO_B", "SKELETON_CYCLEGAN_MODELS", "SKELETON_CYCLEGAN_SHARED_DATA", "PYTHONPATH")


def clean_env(**kw) -> dict:
    "This environment without the variables a kit sets (so that the script's own choices show), plus `kw`."
    return {**{k: v for k, v in os.environ.items() if k not in KIT_VARS}, "PYTHON": sys.executable, **kw}


def test_kit_dry_run_lists_what_it_would_collect(tmp_path):
    from skeleton_cyclegan.core import cache_dir
    videos = ROOT.parent / "shared" / "data" / "videos"
    if not (videos / "taiji.mp4").is_file() or not (videos / "dance_basketball.mp4").is_file():
        pytest.skip("../shared/data/videos (the real pair) is absent here")
    models = Path(os.environ.get("SKELETON_CYCLEGAN_MODELS") or cache_dir("models"))
    if not all((models / n).is_file() for n in ("pose_detection.tflite", "pose_landmark_full.tflite")):
        pytest.skip("BlazePose's files are not in the model cache here")
    kit = tmp_path / "kit"
    r = subprocess.run(["bash", str(KIT_SCRIPT), "--dry-run", "--kit", str(kit)], cwd=ROOT,
                       env=clean_env(SKELETON_CYCLEGAN_MODELS=str(models)), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for what in ("data/videos/taiji.mp4", "data/videos/dance_basketball.mp4", "models/pose_detection.tflite",
                 str(models / "pose_landmark_full.tflite"), "imageio-ffmpeg==", "moviepy==", "tflite==", "MiB"):
        assert what in r.stdout, f"{what!r} not listed:\n{r.stdout}"
    assert not kit.exists()                  # a dry run copies and downloads nothing


def test_kit_names_a_missing_video_and_fails(tmp_path):
    r = subprocess.run(["bash", str(KIT_SCRIPT), "--dry-run", "--kit", str(tmp_path / "kit")], cwd=ROOT,
                       env=clean_env(VIDEO_A="/nonexistent/a.mp4"), capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "MISSING /nonexistent/a.mp4: set VIDEO_A and VIDEO_B" in r.stdout
    r = subprocess.run(["bash", str(KIT_SCRIPT), "--fast"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown option --fast" in r.stderr


def probe_wheel(folder: Path) -> Path:
    "A minimal wheel holding one module, `gpu_run_probe`, written by hand (pip installs it offline)."
    import zipfile
    name = "gpu_run_probe-0.1.dist-info"
    files = {"gpu_run_probe.py": "WHERE = __file__\n",
             f"{name}/METADATA": "Metadata-Version: 2.1\nName: gpu-run-probe\nVersion: 0.1\n",
             f"{name}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{name}/RECORD"] = "".join(f"{f},,\n" for f in [*files, f"{name}/RECORD"])
    folder.mkdir(parents=True, exist_ok=True)
    whl = folder / "gpu_run_probe-0.1-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        for f, text in files.items(): z.writestr(f, text)
    return whl


def print_env(*args, **kw) -> tuple[subprocess.CompletedProcess, dict]:
    r = subprocess.run(["bash", str(SCRIPT), "--print-env", *args], cwd=ROOT, env=clean_env(**kw),
                       capture_output=True, text=True, timeout=120)
    return r, dict(l.split("=", 1) for l in r.stdout.splitlines() if "=" in l)


def test_print_env_takes_the_kits_paths_and_installs_its_wheels(tmp_path):
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        pytest.skip("this interpreter has no pip")
    kit, site, out = tmp_path / "kit", tmp_path / "site", tmp_path / "out"
    (kit / "data" / "videos").mkdir(parents=True); (kit / "models").mkdir()
    probe_wheel(kit / "wheels")
    r, e = print_env("--kit", str(kit), GPU_RUN_SITE=str(site), OUT=str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert e["KIT"] == str(kit) and e["KIT_ERR"] == "" and e["KIT_NOTE"].startswith("1 wheels installed into")
    assert e["PYTHONPATH"] == f"{ROOT}:{site}"          # the tree itself, then the wheels: nothing installed there
    assert e["VIDEO_A"] == f"{kit}/data/videos/taiji.mp4" and e["VIDEO_B"] == f"{kit}/data/videos/dance_basketball.mp4"
    assert e["SKELETON_CYCLEGAN_MODELS"] == f"{kit}/models" and e["SKELETON_CYCLEGAN_SHARED_DATA"] == f"{kit}/data"
    assert e["skeleton_cyclegan"] == str(ROOT / "skeleton_cyclegan" / "__init__.py")
    assert (site / "gpu_run_probe.py").is_file()
    assert not out.exists()                              # --print-env writes no results


def test_print_env_keeps_what_is_set_and_refuses_a_missing_kit(tmp_path):
    kit = tmp_path / "kit"
    (kit / "models").mkdir(parents=True)
    r, e = print_env("--kit", str(kit), VIDEO_A="/my/a.mp4", SKELETON_CYCLEGAN_MODELS="/my/models",
                     GPU_RUN_SITE=str(tmp_path / "site"))
    assert r.returncode == 0 and e["KIT_NOTE"] == "no wheels in the kit"
    assert e["VIDEO_A"] == "/my/a.mp4" and e["SKELETON_CYCLEGAN_MODELS"] == "/my/models"
    assert e["VIDEO_B"] == f"{kit}/data/videos/dance_basketball.mp4"
    r, _ = print_env("--kit", str(tmp_path / "nothing"))
    assert r.returncode == 2 and f"no kit at {tmp_path / 'nothing'}" in r.stderr


def test_a_gpu_run_brings_back_few_files(tmp_path):
    "The device returns at most 8 files from $OUT: without --tiny the step tables and logs are packed into one."
    import tarfile
    env = clean_env(OUT=str(tmp_path / "out"), GPU_RUN_SECONDS="1", VIDEO_A="/nonexistent/a.mp4",
                    SKELETON_CYCLEGAN_MODELS=str(tmp_path), GPU_RUN_SITE=str(tmp_path / "site"))
    r = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    top = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(top) <= 8 and "summary.md" in top and "steps.tar.gz" in top and "logs" not in top, top
    with tarfile.open(tmp_path / "out" / "steps.tar.gz") as t: names = t.getnames()
    assert "04_data.txt" in names and "logs" in names, names
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "## 04_data" in summary and "steps.tar.gz" in summary
