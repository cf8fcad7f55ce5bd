"""Library messages go through `logging` (one logger per module) and warnings through `warnings.warn`: library code
never prints; the command line shows them on stderr, info by default, debug with -v, only warnings with -q/--quiet
(before or after the command), each warning as one line."""
import ast
import logging
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p for p in (ROOT / "skeleton_cyclegan").glob("*.py") if p.name not in ("__init__.py", "_modidx.py"))
# prints that stay for now, each with its owner's reason: the lead's demo (issue 19) is being rewritten
STILL_PRINTING = {("evaluate", "demo"), ("showcase", "demo")}


def printing_functions(path: Path) -> set[tuple[str, str]]:
    "(module, outermost function) of every print() call outside the command line."
    tree, out = ast.parse(path.read_text()), set()
    for top in tree.body:
        for node in ast.walk(top):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                out.add((path.stem, getattr(top, "name", "<module>")))
    return out


def test_library_code_does_not_print():
    prints = set().union(*(printing_functions(p) for p in MODULES if p.stem != "cli")) - STILL_PRINTING
    assert not prints, f"library code prints (use logging.getLogger(__name__) or warnings.warn): {sorted(prints)}"


def test_modules_that_report_have_their_own_logger():
    for p in MODULES:
        text = p.read_text()
        if "_log." in text: assert "_log = logging.getLogger(__name__)" in text, p.name


def test_a_trainer_logs_where_it_printed(tmp_path, caplog, capsys):
    from skeleton_cyclegan.config import TrainConfig
    from skeleton_cyclegan.train import Trainer
    cfg = TrainConfig(size=32, ngf=4, ndf=4, n_blocks=1, n_layers_D=1, lambda_skel=0.0, max_iters=1, device="cpu",
                      tensorboard=False)
    with caplog.at_level(logging.INFO, logger="skeleton_cyclegan"):
        Trainer(cfg, [0], tmp_path / "run", resume=True, progress=False)   # a stand-in dataset: nothing is trained
    said = [r for r in caplog.records if "no checkpoint in" in r.getMessage()]
    assert len(said) == 1 and said[0].name == "skeleton_cyclegan.train" and said[0].levelno == logging.INFO
    assert capsys.readouterr() == ("", "")


def test_the_judge_warns_instead_of_printing(monkeypatch, capsys):
    import skeleton_cyclegan.judge as J
    import skeleton_cyclegan.pose as P
    from skeleton_cyclegan.core import SkeletonCycleGANError

    def blazepose(variant="full", device=None):
        if variant == "heavy": raise SkeletonCycleGANError("no network here")
        return SimpleNamespace(name="blazepose-full")
    monkeypatch.setattr(P, "blazepose", blazepose)
    with pytest.warns(UserWarning, match="BlazePose heavy could not be fetched"):
        j = J.JUDGES["blazepose-heavy"]("cpu")
    assert "pose preservation is overestimated" in j.note
    assert capsys.readouterr().out == ""


@pytest.fixture
def talker(monkeypatch):
    "A command that says something at each level, as library code does."
    from skeleton_cyclegan import cli

    def run(args):
        log = logging.getLogger("skeleton_cyclegan.talk")
        log.debug("the details"); log.info("what happens"); warnings.warn("something looks wrong")
        print("the result")
    monkeypatch.setitem(cli.COMMANDS, "talk", ("say things", lambda p: None, run))
    return cli.main


@pytest.mark.parametrize("flags, err", [
    ([], "what happens\nwarning: something looks wrong\n"),
    (["--quiet"], "warning: something looks wrong\n"), (["talk", "-q"], "warning: something looks wrong\n"),
    (["-v"], "skeleton_cyclegan.talk: the details\nskeleton_cyclegan.talk: what happens\n"
             "warning: skeleton_cyclegan: something looks wrong\n")])
def test_the_cli_shows_messages_by_level(talker, capsys, flags, err):
    argv = flags if flags[:1] == ["talk"] else flags + ["talk"]
    assert talker(argv) == 0
    assert capsys.readouterr() == ("the result\n", err)
    assert logging.getLogger("skeleton_cyclegan").handlers == []      # nothing left behind for library use


def test_quiet_silences_a_real_commands_info(tmp_path, capsys):
    import torch
    from skeleton_cyclegan.checkpoint import generators_state, save_checkpoint
    from skeleton_cyclegan.cli import main
    from skeleton_cyclegan.config import TrainConfig
    from skeleton_cyclegan.networks import ResnetGenerator
    G, F = ResnetGenerator(ngf=4, n_blocks=1), ResnetGenerator(ngf=4, n_blocks=1)
    save_checkpoint(generators_state(G, F, TrainConfig(size=32, ngf=4, n_blocks=1), 1, "t"), tmp_path / "generators.pt")
    assert main(["export", str(tmp_path), "--no-onnx"]) == 0
    assert "exported" in capsys.readouterr().err
    assert main(["--quiet", "export", str(tmp_path), "--no-onnx"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "wrote" in out
