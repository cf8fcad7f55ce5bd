"study/REPORT.md and the README quote the kept study results: their tables must be what tools/study_report.py prints."
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _report_tool():
    spec = importlib.util.spec_from_file_location("study_report", ROOT / "tools" / "study_report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_report_tables_match_the_kept_results():
    tool = _report_tool()
    text = (ROOT / "study" / "REPORT.md").read_text()
    names = [m.group("name") for m in tool.MARK.finditer(text)]
    assert {"readme", "bounds", "screen", "long", "acceptance", "shared", "real", "runs"} <= set(names), names
    assert not tool.stale(text), f"run `python tools/study_report.py --write`: {tool.stale(text)} differ"


def test_readme_table_is_the_reports():
    table = _report_tool().table("readme")
    index = "\n".join("".join(c["source"]) for c in json.loads((ROOT / "index.ipynb").read_text())["cells"])
    for name, text in (("README.md", (ROOT / "README.md").read_text()), ("index.ipynb", index)):
        assert table in text, f"{name} does not carry the report's results table (python tools/study_report.py readme)"
    assert "study/REPORT.md" in (ROOT / "README.md").read_text()


def test_a_stale_table_is_caught():
    tool = _report_tool()
    text = "x\n<!-- table: bounds -->\n| old |\n<!-- /table -->\n"
    assert tool.stale(text) == ["bounds"] and not tool.stale(tool.render(text))



def test_readme_speed_table_is_the_kept_benches():
    "The README's speed table is what tools/bench_report.py makes of study/results/cpu-bench (CI checks README = index)."
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "tools" / "bench_report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.table() in (ROOT / "README.md").read_text(), "README's speed table is stale: python tools/bench_report.py"
