"""Run every notebook in nbs/ through nbdev_test (cells flagged slow or gpu are skipped, as settings.ini says).

nbdev_test exits 0 when it finds no notebook, so each run must also report the notebook as completed."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT / "nbs").rglob("*.ipynb")
             if not p.is_symlink() and not any(part.startswith((".", "_")) for part in p.relative_to(ROOT / "nbs").parts))


def test_notebooks_found():
    assert len(NBS) >= 3, f"expected the component notebooks in {ROOT/'nbs'}, found {NBS}"


@pytest.mark.parametrize("nb", NBS, ids=[str(p.relative_to(ROOT / "nbs")) for p in NBS])
def test_notebook(nb):
    exe = Path(sys.executable).with_name("nbdev_test")
    r = subprocess.run([str(exe), "--path", str(nb), "--n_workers", "1", "--do_print"],
                       cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    out = r.stdout + r.stderr
    assert r.returncode == 0, f"nbdev_test failed on {nb.name}:\n{out[-6000:]}"
    assert f"Completed {nb}" in out, f"nbdev_test ran no notebook for {nb}:\n{out[-2000:]}"
