"Shared pytest fixtures: the real test footage beside the project, and small videos made on the fly."
import os
import subprocess

import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import shared_data_dir

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def shared_data():
    "../shared/data, or skip: the real footage is never copied into the project."
    d = shared_data_dir()
    if d is None:
        pytest.skip("real test footage not found: ../shared/data (or $SKELETON_CYCLEGAN_SHARED_DATA) is absent")
    return d


@pytest.fixture(scope="session")
def ffmpeg():
    "The ffmpeg binary shipped by imageio-ffmpeg, to make odd test videos."
    import imageio_ffmpeg
    exe = imageio_ffmpeg.get_ffmpeg_exe()

    def run(*args):
        subprocess.run([exe, "-loglevel", "error", "-y", *map(str, args)], check=True)
    return run
