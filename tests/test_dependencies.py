"""Dependencies that say the truth: every third-party import of the package is declared in settings.ini (the core
`requirements`, or an extra for imports that only a feature makes), every core requirement is used, every module
imports with the core requirements alone (extras and dev tools hidden), and the package installs from its
repository's URL with that metadata."""
import ast
import configparser
import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "skeleton_cyclegan"
MODULES = sorted(p for p in PKG.glob("*.py") if p.name not in ("__init__.py", "_modidx.py"))

# import name → distribution name, where they differ; a submodule of a declared package that needs another one
DIST_OF = {"PIL": "pillow", "imageio_ffmpeg": "imageio-ffmpeg", "torch_fidelity": "torch-fidelity"}
NEEDS = {"torch.utils.tensorboard": "tensorboard"}     # torch's TensorBoard writer imports the tensorboard package
DEV_ONLY = ["fastcore", "nbdev", "execnb", "pytest", "selenium", "nbformat", "nbconvert"]


def settings(text: str | None = None) -> configparser.SectionProxy:
    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read_string(text if text is not None else (ROOT / "settings.ini").read_text(encoding="utf-8"))
    return cfg["DEFAULT"]


def dist(spec: str) -> str:
    "The normalised distribution name of a requirement ('torchmetrics[image]>=1.0' → 'torchmetrics')."
    return re.match(r"[A-Za-z0-9._-]+", spec).group(0).lower().replace("_", "-")


def declared(c=None) -> tuple[set, dict]:
    "(core requirement names, extra name → requirement names) from settings.ini."
    c = c if c is not None else settings()
    extras = {k[len("extra_"):]: {dist(r) for r in v.split()} for k, v in c.items() if k.startswith("extra_")}
    return {dist(r) for r in c["requirements"].split()}, extras


def third_party_imports(path: Path) -> list[tuple[str, bool]]:
    "(dotted module, runs when the module is imported) for each absolute import of a non-standard-library module."
    tree, out = ast.parse(path.read_text()), []
    lazy = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0: names = [node.module]
        elif isinstance(node, ast.Import): names = [a.name for a in node.names]
        else: continue
        for name in names:
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top == "skeleton_cyclegan": continue
            out.append((name, id(node) not in lazy))
    return out


def needed(module: str) -> set[str]:
    "The distributions an import needs."
    out = {DIST_OF.get(module.split(".")[0], module.split(".")[0]).lower().replace("_", "-")}
    return out | {d for m, d in NEEDS.items() if module == m or module.startswith(m + ".")}


def test_every_third_party_import_is_declared():
    core, extras = declared()
    in_extras = set().union(*extras.values())
    missing, top_level_extra = [], []
    for p in MODULES:
        for mod, eager in third_party_imports(p):
            for d in needed(mod):
                if d not in core | in_extras: missing.append(f"{p.name}: {mod} needs {d}")
                elif eager and d not in core: top_level_extra.append(f"{p.name}: {mod} ({d} is only an extra)")
    assert not missing, f"imported but declared nowhere in settings.ini: {missing}"
    assert not top_level_extra, f"an extra imported when the module loads (import it inside the function that needs " \
                                f"it): {top_level_extra}"


def test_every_core_requirement_is_imported():
    core, _ = declared()
    used = {d for p in MODULES for mod, _ in third_party_imports(p) for d in needed(mod)}
    assert core - used == set(), f"declared in settings.ini requirements but imported by no module: {core - used}"


def test_the_extras_and_the_dev_extras():
    c = settings()
    core, extras = declared(c)
    assert {"tensorboard", "metrics", "export"} <= set(extras)
    assert "torchmetrics" in extras["metrics"] and "tensorboard" in extras["tensorboard"]
    assert {"onnx", "onnxscript", "onnxruntime"} <= extras["export"]
    assert set(c["dev_extras"].split()) <= set(extras)
    assert "torchvision" not in core, "torchvision is imported by no module"
    moviepy = next(r for r in c["requirements"].split() if dist(r) == "moviepy")
    assert "<3" in moviepy, "video.py reads moviepy's private reader fields: bound it below its next major version"


def test_every_module_imports_with_the_core_requirements_alone(tmp_path):
    "In a fresh interpreter where the extras and the dev tools cannot be imported, every module still imports."
    _, extras = declared()
    hidden = sorted({n.replace("-", "_") for e in extras.values() for n in e} | {"torch_fidelity", *DEV_ONLY})
    script = textwrap.dedent(f"""
        import importlib, importlib.abc, sys
        HIDDEN = {hidden!r}
        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in HIDDEN: raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        sys.meta_path.insert(0, Hide())
        for m in {[p.stem for p in MODULES]!r}: importlib.import_module("skeleton_cyclegan." + m)
        print("imported", len({[p.stem for p in MODULES]!r}))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"imported {len(MODULES)}" in r.stdout


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_installs_from_the_repository_url(tmp_path):
    "What `pip install \"skeleton-cyclegan @ git+URL\"` builds from the committed tree: its requirements and extras."
    import importlib.util
    head = subprocess.run(["git", "-C", str(ROOT), "show", "HEAD:settings.ini"], capture_output=True, text=True)
    if head.returncode != 0: pytest.skip("settings.ini is not committed yet")
    c = settings(head.stdout)
    assert c["git_url"] == "https://github.com/skeleton-cyclegan/skeleton-cyclegan"
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", str(tmp_path),
                        f"{c['repo']} @ git+file://{ROOT}"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    import zipfile
    wheel = zipfile.ZipFile(next(tmp_path.glob("*.whl")))
    names = wheel.namelist()
    assert "skeleton_cyclegan/cli.py" in names and "skeleton_cyclegan/_modidx.py" in names
    zoo = json.loads((ROOT / "skeleton_cyclegan" / "models" / "zoo.json").read_text())["models"]
    shipped = {"zoo.json"} | {m[k] for m in zoo.values() for k in ("file", "card")}
    assert {f"skeleton_cyclegan/models/{f}" for f in shipped} <= set(names), "the model zoo is not all in the wheel"
    meta = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    reqs = re.findall(r"^Requires-Dist: (.+)$", meta, re.M)
    core, extras = declared(c)
    assert {dist(r) for r in reqs if "extra ==" not in r} == core
    for name, wanted in extras.items():
        assert f"Provides-Extra: {name}" in meta
        assert {dist(r) for r in reqs if f'extra == "{name}"' in r} == wanted
    entry = wheel.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "skeleton-cyclegan = skeleton_cyclegan.cli:main" in entry
