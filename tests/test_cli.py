"The console script: installed, --help everywhere, --version, user errors as one line with exit 2."
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import skeleton_cyclegan
from skeleton_cyclegan.cli import COMMANDS

EXE = str(Path(sys.executable).with_name("skeleton-cyclegan"))


def run(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True)


def test_version():
    r = run("--version")
    assert r.returncode == 0 and skeleton_cyclegan.__version__ in r.stdout


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_help_everywhere(cmd):
    r = run(cmd, "--help")
    assert r.returncode == 0 and "usage: skeleton-cyclegan " + cmd in r.stdout


def test_user_error_is_one_clear_line(tmp_path):
    r = run("video-info", str(tmp_path / "missing.mp4"))
    assert r.returncode == 2
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_no_command_prints_help():
    r = run()
    assert r.returncode == 0 and "COMMAND" in r.stdout


def test_train_decides_its_config_in_config_for_run(monkeypatch, tmp_path):
    "The train command hands the flags given to config.config_for_run (the one place that reads a saved config)."
    import skeleton_cyclegan.config as C
    import skeleton_cyclegan.train as T
    from skeleton_cyclegan.cli import main
    seen = {}

    def config_for_run(out, resume=False, overrides=None):
        seen.update(out=out, resume=resume, overrides=overrides)
        return "the run's config"

    def train(a, b, out, cfg=None, resume=False, **kw):
        seen.update(a=a, cfg=cfg, train_resume=resume)
        return SimpleNamespace(is_main=False)
    monkeypatch.setattr(C, "config_for_run", config_for_run)
    monkeypatch.setattr(T, "train", train)
    assert main(["train", "--a", "A", "--b", "B", "--out", str(tmp_path), "--resume", "--size", "64"]) == 0
    assert seen == dict(out=str(tmp_path), resume=True, overrides={"size": 64}, a="A", cfg="the run's config",
                        train_resume=True)
