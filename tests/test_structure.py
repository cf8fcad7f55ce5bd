"""The package's shape: small modules with one job, short notebook cells, imports in one direction (the order of the
notebooks), no private names across modules, pose backends chosen through the registry, lines of at most 120."""
import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "skeleton_cyclegan"
MODULES = sorted(p for p in PKG.glob("*.py") if p.name not in ("__init__.py", "_modidx.py"))
MAX_MODULE_LINES, MAX_CELL_LINES, MAX_LINE = 400, 40, 120


def _exports(nb: Path):
    for c in json.loads(nb.read_text())["cells"]:
        m = re.match(r"#\|\s*default_exp\s+(\S+)", "".join(c["source"]))
        if c["cell_type"] == "code" and m: return m.group(1)


def module_order() -> list[str]:
    "The modules in the order of their notebooks (nbs/NN_name.ipynb): the direction data flows."
    nbs = sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if not p.is_symlink())
    return [m for m in map(_exports, nbs) if m]


def imported(path: Path) -> list[tuple[str, list[str]]]:
    "(module, names) for every import of a package module anywhere in the file, lazy imports included."
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level == 1: out.append((mod, [a.name for a in node.names]))
            elif mod.startswith("skeleton_cyclegan."): out.append((mod.split(".", 1)[1], [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name.split(".", 1)[1], []) for a in node.names if a.name.startswith("skeleton_cyclegan.")]
    return out


def test_every_module_has_its_notebook_and_is_small():
    order = module_order()
    assert len(order) == len(set(order)), "two notebooks export the same module"
    for p in MODULES:
        assert p.stem in order, f"{p.name} is exported by no notebook: delete it or give it a notebook"
        n = len(p.read_text().splitlines())
        assert n <= MAX_MODULE_LINES, f"{p.name} has {n} lines (at most {MAX_MODULE_LINES}): split it by job"


def test_notebook_cells_are_short():
    for nb in sorted((ROOT / "nbs").rglob("*.ipynb")):
        if nb.is_symlink() or ".ipynb_checkpoints" in nb.parts: continue
        for i, c in enumerate(json.loads(nb.read_text())["cells"]):
            n = len("".join(c["source"]).splitlines())
            if c["cell_type"] == "code":
                assert n <= MAX_CELL_LINES, f"{nb.relative_to(ROOT)} cell {i} has {n} lines (at most {MAX_CELL_LINES})"


def test_imports_flow_one_way_and_never_take_private_names():
    order = {m: i for i, m in enumerate(module_order())}
    for p in MODULES:
        for mod, names in imported(p):
            assert mod in order, f"{p.name} imports an unknown module {mod}"
            assert order[mod] < order[p.stem], f"{p.name} imports {mod}, which comes after it (nbs order)"
            private = [n for n in names if n.startswith("_")]
            assert not private, f"{p.name} imports private names {private} from {mod}"
        text = p.read_text()
        for mod in order:
            assert not re.search(rf"\b{mod}\._[a-z]", text), f"{p.name} uses a private name of {mod}"


def test_data_does_not_import_the_losses():
    for mod in ("track", "folder", "prepare", "data"):
        assert not {m for m, _ in imported(PKG / f"{mod}.py")} & {"losses", "skeleton"}, mod


def test_pose_backends_are_chosen_through_the_registry():
    names = r"""["'](?:blazepose|openpose)["']"""
    compare = re.compile(rf"(?:==|!=)\s*{names}|{names}\s*(?:==|!=|in\b)|\bstartswith\(\s*{names}")
    for p in MODULES:
        if p.stem in ("pose", "openpose"): continue
        hits = [l.strip() for l in p.read_text().splitlines() if compare.search(l)]
        assert not hits, f"{p.name} compares pose-backend names (use pose.pose_backend): {hits}"


def test_lines_are_at_most_120_characters():
    for p in MODULES:
        for i, l in enumerate(p.read_text().splitlines(), 1):
            if l.startswith("__all__ = "): continue   # nbdev wraps the name list at 120 after this prefix
            assert len(l) <= MAX_LINE, f"{p.name}:{i} has {len(l)} characters"


@pytest.mark.parametrize("mod", [p.stem for p in MODULES])
def test_each_module_imports_on_its_own(mod):
    import importlib
    importlib.import_module(f"skeleton_cyclegan.{mod}")
