"The console script: installed, --help everywhere, --version, user errors as one line with exit 2."
import subprocess
import sys
from pathlib import Path

import pytest

import skeleton_cyclegan
from skeleton_cyclegan.cli import COMMANDS, build_parser

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
