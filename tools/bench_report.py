"""The README's speed table, from the kept bench outputs in study/results/cpu-bench (see its COMMANDS.md).

    python tools/bench_report.py     # print the table
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEPT = ROOT / "study" / "results" / "cpu-bench"


def _find(name: str, pattern: str) -> tuple[str, ...]:
    text = (KEPT / name).read_text()
    m = re.search(pattern, text, re.M)
    if m is None: sys.exit(f"{KEPT / name}: no line matches {pattern!r}; rerun the bench (COMMANDS.md)")
    return m.groups()


def table() -> str:
    machine, = _find("reference_step.txt", r"^# machine: ([^;]+)")
    ref, = _find("reference_step.txt", r"^\| reference CycleGAN[^|]*\| ([\d.]+) \|")
    fp32, _, r32 = _find("reference_step.txt", r"^\| ours, default objective, fp32[^|]*\| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|")
    bf16, _, r16 = _find("reference_step.txt", r"^\| ours, default objective, bf16[^|]*\| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|")
    over, = _find("train_step.txt", r"^128² \(wall time\): skeleton-term overhead \(c\)/\(b\) = ([\d.]+)")
    prep, = _find("prepare.txt", r"^\| total \(prepare, end to end\)\s*\|\s*[\d.]+ \|\s*\d+% \|\s*([\d.]+) \|")
    g32, t32, q32 = _find("translate.txt", r"^\| fp32 \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|")
    g16, t16, q16 = _find("translate.txt", r"^\| bf16 \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|")
    rows = [
        ("training step, 128², 6 blocks, batch 1, default objective, fp32",
         f"{fp32} s ({r32}× the reference CycleGAN's {ref} s)", "≤ 0.4×"),
        ("the same in bf16 autocast (H in float32)", f"{bf16} s ({r16}×)", "≤ 0.4×"),
        ("skeleton-term overhead (default objective / the same without it)", f"{over}×", "≤ 1.15×"),
        ("prepare at 256 (track, crop, cache H), taiji.mp4", f"{prep} frames/s", "≥ 25 frames/s"),
        ("translate 256², 9 blocks, fp32: G alone → whole video", f"{g32} → {t32} frames/s ({q32}×)", "≥ 0.9×"),
        ("the same in bf16", f"{g16} → {t16} frames/s ({q16}×)", "≥ 0.9×"),
        ("one H100/H200: training step at 256², prepare, translate", "not measured yet (`bench/gpu_run.sh`)",
         "≥ 100 it/s, ≥ 200 and ≥ 300 frames/s"),
    ]
    out = [f"Measured on {machine} (`study/results/cpu-bench`):", "",
           "| what | measured | target |", "|---|---|---|"]
    return "\n".join(out + [f"| {a} | {b} | {c} |" for a, b, c in rows])


if __name__ == "__main__":
    print(table())
