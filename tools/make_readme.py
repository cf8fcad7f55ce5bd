"""Make README.md from index.ipynb without quarto (nbdev_readme needs quarto, which cannot be installed here).

    python tools/make_readme.py            # convert the committed index.ipynb (with its stored outputs)
    python tools/make_readme.py --execute  # run index.ipynb first, refreshing its outputs in place
    python tools/make_readme.py --check    # exit 1 when README.md is not what index.ipynb says (CI)

Cells starting with `#| hide` are dropped; `#|` directive lines are removed from shown code.
Image outputs go to `readme_files/`."""
import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import ExecutePreprocessor, Preprocessor

ROOT = Path(__file__).resolve().parents[1]


class DropHidden(Preprocessor):
    def preprocess(self, nb, resources):
        cells = []
        for c in nb.cells:
            lines = c.source.splitlines()
            if any(l.strip().replace(" ", "") in ("#|hide", "#|include:false") for l in lines): continue
            if c.cell_type == "code":
                c.source = "\n".join(l for l in lines if not l.lstrip().startswith("#|")).strip("\n")
                if not c.source and not c.get("outputs"): continue
            cells.append(c)
        nb.cells = cells
        return nb, resources


def render() -> tuple[str, dict]:
    nb = nbformat.read(ROOT / "index.ipynb", as_version=4)
    exp = MarkdownExporter()
    exp.register_preprocessor(DropHidden(), enabled=True)
    body, res = exp.from_notebook_node(nb, resources={"output_files_dir": "readme_files"})
    return body.rstrip() + "\n", res.get("outputs", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--execute", action="store_true")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if a.execute:
        nb = nbformat.read(ROOT / "index.ipynb", as_version=4)
        ExecutePreprocessor(timeout=1200).preprocess(nb, {"metadata": {"path": str(ROOT)}})
        nbformat.write(nb, ROOT / "index.ipynb")
    body, files = render()
    if a.check:
        readme = (ROOT / "README.md").read_text() if (ROOT / "README.md").exists() else ""
        missing = [f for f in files if not (ROOT / f).exists() or (ROOT / f).read_bytes() != files[f]]
        if readme != body or missing:
            print("README.md is stale: run `python tools/make_readme.py` and commit README.md and readme_files/.")
            sys.exit(1)
        print("README.md is up to date.")
        return
    for name, data in files.items():
        (ROOT / name).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / name).write_bytes(data)
    (ROOT / "README.md").write_text(body)
    print(f"wrote README.md and {len(files)} image(s)")


if __name__ == "__main__":
    main()
