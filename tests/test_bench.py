"""Every bench/*.py runs in its --smoke mode (seconds, tiny sizes) and prints a table: benches that cannot rot.
No timing is asserted: the numbers of a smoke run mean nothing, only that the script still works end to end."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted((ROOT / "bench").glob("*.py"))


def test_the_benches_are_found():
    assert {"train_step.py", "reference_step.py", "networks.py"} <= {p.name for p in BENCHES}


@pytest.mark.parametrize("script", BENCHES, ids=[p.name for p in BENCHES])
def test_bench_smoke_mode_runs_and_prints_a_table(script, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT),
           "TMPDIR": str(tmp_path)}
    r = subprocess.run([sys.executable, str(script), "--smoke"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"{script.name} --smoke exited with {r.returncode}:\n{out[-3000:]}"
    lines = r.stdout.splitlines()
    # a table: a markdown header with its rule, or an aligned header line followed by rows
    markdown = any(re.match(r"^\|(-+|-+:|:?-+:?)\|", ln) for ln in lines)
    aligned = len([ln for ln in lines if re.match(r"^\S.*\s{2,}\S", ln)]) >= 2
    assert markdown or aligned, f"{script.name} --smoke printed no table:\n{r.stdout[-3000:]}"
    assert re.search(r"\d+ cores, torch ", r.stdout), \
        f"{script.name} --smoke does not say what it ran on (core.machine_description()):\n{r.stdout[-2000:]}"
