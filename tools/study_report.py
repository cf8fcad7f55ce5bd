"""Print the tables of study/REPORT.md from the kept study results (study/results/*: every run's metrics.json and the
fixed answers in bounds_*.json), so the report can be regenerated and checked against the data.

    python tools/study_report.py              # print every table, each under its name
    python tools/study_report.py NAME ...     # print these tables only
    python tools/study_report.py --write      # rewrite the tables between the markers in study/REPORT.md
    python tools/study_report.py --check      # exit 1 when a table in study/REPORT.md is not what the results give

In REPORT.md a table sits between `<!-- table: NAME -->` and `<!-- /table -->`. Means and standard deviations are
over seeds, as `skeleton_cyclegan.study.summarize` computes them (numpy's std: the population std).
"""
import json
import re
import sys
from pathlib import Path

from skeleton_cyclegan.study import REAL_ACCEPTANCE, acceptance, collect, not_worse, summarize

ROOT = Path(__file__).resolve().parents[1]
KEPT = ROOT / "study" / "results"
REPORT = ROOT / "study" / "REPORT.md"
MARK = re.compile(r"(<!-- table: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /table -->)", re.S)

LABEL = {"plain": "none (plain CycleGAN)", "paper": "`paper` (eq. 5)", "coords": "`coords`",
         "coords views": "`coords` + views", "coords rt views": "`coords` + views + scale normalisation"}
FMT = {"angle_err": "{:.1f}", "arms_angle_err": "{:.1f}", "j2_angle_err": "{:.1f}", "h_gap": "{:+.2f}",
       "train_seconds": "{:,.0f}", "rt_mean_error": "{:.3f}", "jitter": "{:.3f}"}
HEAD = {"angle_err": "angle°", "arms_angle_err": "arms°", "rt_pck10": "rt PCK", "rt_arms_pck10": "rt arms",
        "gt_pck10": "gt PCK", "gt_arms_pck10": "gt arms", "pck10": "judge PCK", "arms_pck10": "judge arms",
        "h_gap": "H−judge", "called_B": "called B", "detail": "detail", "train_seconds": "train s",
        "j2_angle_err": "OpenPose angle°", "jitter_ratio": "jitter×"}
SCREEN = ["plain", "plain D16", "paper", "logits", "gaussian", "bones", "bones D16", "bones views", "coords",
          "coords views"]
LONG = ["plain", "coords", "coords views", "coords rt views"]
REAL = ["plain", "coords", "coords views", "coords rt views"]
_cache = {}


def summary(folder):
    "(rows, summarize(rows)) of the kept results in study/results/`folder`."
    if folder not in _cache:
        rows = collect(KEPT / folder)
        _cache[folder] = rows, summarize(rows)
    return _cache[folder]


def cell(t, metric, one_seed=False):
    "A (mean, std, n) triple as text: the mean, ± the std over seeds when there are several; '(1 seed)' if asked."
    if t is None: return "–"
    f = FMT.get(metric, "{:.2f}")
    s = f.format(t[0]) + (f" ± {f.format(t[1]).lstrip('+')}" if t[2] > 1 else "")
    return s + (" (1 seed)" if one_seed and t[2] == 1 else "")


def md(head, rows):
    "A markdown table."
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def results_table(folder, pair, budget, cands, metrics):
    "One row per candidate: seeds, then mean ± std over seeds of each metric at `budget`."
    _, S = summary(folder)
    rows = []
    for c in cands:
        m = S.get((pair, c, budget))
        if m: rows.append([c, str(m["angle_err"][2])] + [cell(m.get(k), k) for k in metrics])
    return md(["candidate", "seeds"] + [HEAD[k] for k in metrics], rows)


def budgets_table(folder, pair, cands, metric):
    "One row per candidate, one column per budget: `metric` (mean ± std over seeds)."
    _, S = summary(folder)
    budgets = sorted({b for (p, _, b) in S if p == pair})
    rows = [[c] + [cell(S.get((pair, c, b), {}).get(metric), metric) for b in budgets] for c in cands
            if any((pair, c, b) in S for b in budgets)]
    return md(["candidate"] + [f"{b:,} it." for b in budgets], rows)


def t_readme():
    "The README's one table: limb-angle error of each step, on every pair, at each kept budget."
    cols = [("cpu-disjoint", "disjoint", 1500, "angle_err"), ("cpu-disjoint-5000", "disjoint", 5000, "angle_err"),
            ("cpu-disjoint-5000", "disjoint", 5000, "rt_arms_pck10"), ("cpu-shared", "shared", 1500, "angle_err"),
            ("cpu-real", "real", 1500, "angle_err")]
    head = ["skeleton term", "hard pair @ 1,500", "hard pair @ 5,000", "rt arms PCK, hard pair @ 5,000",
            "shared pair @ 1,500", "real pair @ 1,500"]
    rows = [[LABEL[c]] + [cell(summary(f)[1].get((p, c, b), {}).get(k), k, one_seed=True) for f, p, b, k in cols]
            for c in LABEL]
    return md(head, rows)


def t_bounds():
    "The fixed answers (bounds_<pair>.json), judged like the runs."
    keys = ["angle_err", "arms_angle_err", "rt_pck10", "rt_arms_pck10", "gt_pck10", "gt_arms_pck10", "h_gap",
            "called_B", "detail"]
    rows = []
    for f in sorted(KEPT.glob("*/bounds_*.json")):
        pair = f.stem.removeprefix("bounds_")
        for name, m in json.loads(f.read_text()).items():
            rows.append([pair, name.strip("[]")] + [cell((m[k], 0, 1), k) for k in keys])
    return md(["pair", "fixed answer"] + [HEAD[k] for k in keys], rows)


def t_acceptance():
    "Issue 10's criteria (study.acceptance) for the candidates that were meant to meet them, against plain."
    runs = [("cpu-disjoint-5000", "coords rt views"), ("cpu-disjoint-5000", "coords views"),
            ("cpu-disjoint", "coords views"), ("cpu-disjoint", "coords")]
    res = [acceptance(summary(f)[0], c) for f, c in runs]
    budget = lambda f, c: max(b for (p, k, b) in summary(f)[1] if p == "disjoint" and k == c)
    head = ["criterion"] + [f"{c} @ {budget(f, c):,}" for f, c in runs]
    rows = [[a["criterion"]] + [f"{'PASS' if r[i]['passed'] else '**FAIL**'} {r[i]['value']:.3g} ({r[i]['target']:.3g})"
                                 for r in res] for i, a in enumerate(res[0])]
    return md(head, rows)


def t_not_worse():
    "The shared pair's criterion (study.not_worse): not worse than plain beyond the larger seed std."
    rows = []
    for c in ("coords", "coords views", "coords rt views"):
        for n in not_worse(summary("cpu-shared")[0], c):
            rows.append([c, f"{n['match']}", f"{n['budget']:,} ({n['seconds']:,.0f} s)", f"{n['value']:.1f}",
                         f"{n['baseline_budget']:,} ({n['baseline_seconds']:,.0f} s)", f"{n['baseline']:.1f}",
                         f"{n['spread']:.1f}", "PASS" if n["passed"] else "**FAIL**"])
    return md(["candidate", "equal", "at it. (train s)", "angle°", "plain at it. (train s)", "plain angle°", "spread",
               "verdict"], rows)


def t_seeds():
    "Each seed's limb-angle error (and H−judge gap) at the largest budget, for every candidate run with several seeds."
    rows = []
    for folder in ("cpu-disjoint", "cpu-disjoint-5000", "cpu-shared", "cpu-real"):
        rs, S = summary(folder)
        for (pair, c, b) in sorted(S, key=lambda k: (k[0], k[1])):
            if b != max(k[2] for k in S if k[:2] == (pair, c)) or S[(pair, c, b)]["angle_err"][2] < 2: continue
            per = sorted((r["seed"], r["angle_err"], r["h_gap"]) for r in rs if (r["pair"], r["candidate"], r["budget"])
                         == (pair, c, b))
            assert [s for s, *_ in per] == [0, 1, 2], (folder, c, per)
            rows.append([folder, c, f"{b:,}"] + [f"{a:.1f} ({g:+.2f})" for _, a, g in per])
    return md(["kept in", "candidate", "it.", "seed 0: angle° (H−judge)", "seed 1", "seed 2"], rows)


def t_runs():
    "Every kept run: where, the machine line its metrics.json records, and its training seconds at the largest budget."
    rows = []
    for f in sorted(KEPT.glob("*/runs/*/*/seed*/metrics.json")):
        m = json.loads(f.read_text())
        b = max(m["budgets"], key=int)
        threads = re.search(r"\((\d+) threads?\)", m["machine"]).group(1)
        rows.append([f.parts[-6], m["pair"], m["candidate"], str(m["seed"]), f"{int(b):,}", threads,
                     f"{m['budgets'][b]['train_seconds']:,.0f}"])
    return md(["kept in", "pair", "candidate", "seed", "it.", "threads", "train s"], rows)


def t_machines():
    "The distinct machine lines of the kept runs."
    lines = {}
    for f in sorted(KEPT.glob("*/runs/*/*/seed*/metrics.json")):
        m = json.loads(f.read_text())
        lines.setdefault(m["machine"], []).append(f.parts[-6])
    return md(["machine (as each metrics.json records it)", "runs"], [[k, str(len(v))] for k, v in lines.items()])


def t_real_videos():
    "Issue 18's real pairs at 128² (cpu-real-128): each direction, candidate and budget, mean ± std over seeds."
    _, S = summary("cpu-real-128")
    keys = ["angle_err", "arms_angle_err", "j2_angle_err", "pck10", "h_gap", "called_B", "jitter_ratio", "detail",
            "train_seconds"]
    order = {c: i for i, c in enumerate(["plain", "coords", "coords temp", "coords rt", "coords rt views"])}
    rows = [[p, c, f"{b:,}", str(S[(p, c, b)]["angle_err"][2])] + [cell(S[(p, c, b)].get(k), k) for k in keys]
            for p, c, b in sorted(S, key=lambda k: (k[0], k[2], order.get(k[1], 9), k[1]))]
    return md(["direction", "candidate", "it.", "seeds"] + [HEAD[k] for k in keys], rows)


REAL_DEFAULT = "coords"   # what the default resolves to on real videos (tests/test_study.py checks it)
REAL_PAIRS = ("R1", "R2")   # the pairs; variants of them (`R2 edge`: other preparation) are screens


def t_real_acceptance():
    "Issue 18's criteria (study.REAL_ACCEPTANCE) for the default on each direction of the real pairs at 128²."
    rs, S = summary("cpu-real-128")
    pairs = sorted({p for (p, c, _) in S if c == REAL_DEFAULT and p.rsplit(" ", 1)[0] in REAL_PAIRS})
    own = [c for c in REAL_ACCEPTANCE if c[3:] != (REAL_DEFAULT,)]   # "≤ coords alone" is moot for coords itself
    res = [acceptance(rs, REAL_DEFAULT, pair=p, criteria=own) for p in pairs]
    crits = list(dict.fromkeys(a["criterion"] for r in res for a in r))
    got = lambda r, k: next((a for a in r if a["criterion"] == k), None)
    fmt = lambda a: "–" if a is None else f"{'PASS' if a['passed'] else '**FAIL**'} {a['value']:.3g} ({a['target']:.3g})"
    return md(["criterion (value, target)"] + pairs, [[k] + [fmt(got(r, k)) for r in res] for k in crits])


M_LONG = ["angle_err", "arms_angle_err", "rt_pck10", "rt_arms_pck10", "gt_pck10", "gt_arms_pck10", "h_gap", "called_B",
          "detail", "train_seconds"]
M_SCREEN = ["angle_err", "arms_angle_err", "rt_arms_pck10", "gt_pck10", "h_gap", "detail", "train_seconds"]
M_REAL = ["angle_err", "arms_angle_err", "pck10", "h_gap", "detail", "train_seconds"]
TABLES = {
    "readme": t_readme,
    "machines": t_machines,
    "bounds": t_bounds,
    "screen": lambda: results_table("cpu-disjoint", "disjoint", 1500, SCREEN, M_SCREEN),
    "screen-budgets": lambda: budgets_table("cpu-disjoint", "disjoint", SCREEN, "angle_err"),
    "long": lambda: results_table("cpu-disjoint-5000", "disjoint", 5000, LONG, M_LONG),
    "long-2000": lambda: results_table("cpu-disjoint-5000", "disjoint", 2000, LONG, M_LONG),
    "long-angle": lambda: budgets_table("cpu-disjoint-5000", "disjoint", LONG, "angle_err"),
    "long-rt-arms": lambda: budgets_table("cpu-disjoint-5000", "disjoint", LONG, "rt_arms_pck10"),
    "acceptance": t_acceptance,
    "shared": lambda: results_table("cpu-shared", "shared", 1500, LONG, M_SCREEN),
    "shared-angle": lambda: budgets_table("cpu-shared", "shared", LONG, "angle_err"),
    "not-worse": t_not_worse,
    "real": lambda: results_table("cpu-real", "real", 1500, REAL, M_REAL),
    "real-angle": lambda: budgets_table("cpu-real", "real", REAL, "angle_err"),
    "real-videos": t_real_videos,
    "real-videos-acceptance": t_real_acceptance,
    "seeds": t_seeds,
    "runs": t_runs,
}


def table(name) -> str:
    if name not in TABLES: raise SystemExit(f"no table {name!r}: choose from {', '.join(TABLES)}")
    return TABLES[name]()


def render(text: str) -> str:
    "`text` with every marked table replaced by what the kept results give now."
    return MARK.sub(lambda m: m.group(1) + table(m.group("name")) + "\n" + m.group(4), text)


def stale(text: str) -> list[str]:
    "The names of the marked tables in `text` that differ from what the kept results give."
    return [m.group("name") for m in MARK.finditer(text) if m.group("body") != table(m.group("name")) + "\n"]


def main(args):
    if args[:1] == ["--write"]:
        REPORT.write_text(render(REPORT.read_text()))
        print(f"rewrote the tables of {REPORT.relative_to(ROOT)}")
    elif args[:1] == ["--check"]:
        bad = stale(REPORT.read_text())
        if bad: sys.exit(f"{REPORT.relative_to(ROOT)}: tables {bad} differ from the kept results: "
                         "run `python tools/study_report.py --write`.")
        print(f"{REPORT.relative_to(ROOT)}: every table matches the kept results.")
    else:
        for name in args or TABLES: print(f"<!-- table: {name} -->\n{table(name)}\n<!-- /table -->\n")


if __name__ == "__main__":
    main(sys.argv[1:])
