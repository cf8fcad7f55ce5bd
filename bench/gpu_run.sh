#!/usr/bin/env bash
# One prepared device run: at most 8 minutes wall on one H100/H200, everything it writes under $OUT.
#
#   bash bench/gpu_run.sh            # on the GPU machine, from the repository root
#   bash bench/gpu_run.sh --tiny     # a CPU dry run of every step at tiny sizes (a couple of minutes; the tests run it)
#   bash bench/gpu_run.sh --kit DIR  # with a kit (bench/device_kit.sh); .device/ is used without asking, except --tiny
#   bash bench/gpu_run.sh --print-env  # the interpreter, paths and kit it would use (wheels installed), then stop
#
# On the borrowed GPU machine (no internet, its own python3 with torch, not our .venv, no ../shared):
#   1. here: bash bench/device_kit.sh   (fills the git-ignored .device/: the real pair, BlazePose's files, wheels)
#   2. the device tool's run call: command "bash bench/gpu_run.sh", carry [".device"], timeout_s 540;
#      the results come back under $OUT (summary.md first; put its tables in the note, keep them under study/results)
# With a kit: its wheels are installed into /tmp/site (GPU_RUN_SITE), PYTHONPATH is the repository root and that
# folder, and VIDEO_A, VIDEO_B, SKELETON_CYCLEGAN_MODELS, SKELETON_CYCLEGAN_SHARED_DATA point into it (unless set).
#
# Steps (each one's table in $OUT/NN_step.txt, its log in $OUT/logs/; a step that fails is reported, the run goes on):
#   00 machine     nvidia-smi, torch, CUDA, the CPU
#   01 train_step  bench/train_step.py --gpu: it/s at 256² (fp32, bf16, bf16 + CUDA graphs, fp16 + scaler), peak
#                  memory, share of peak FLOP/s
#   02 prepare     bench/prepare.py --device cuda: prepare's frames/s on the GPU
#   03 translate   bench/translate.py --device cuda: translate's frames/s against G's bare forward pass
#   04 data        skeleton-cyclegan prepare of the real pair (taiji → dance_basketball) at 256
#   05 train       skeleton-cyclegan train, 256², default method, --time-budget = the minutes left
#   06 clip        skeleton-cyclegan translate: a 5-second panel clip of A through G
# Results in $OUT: summary.md (every table), sample_strip.png, losses.png, losses.jsonl, clip_AtoB.mp4; without --tiny
# the step tables, logs/, config.json and 03_translate.json are packed into steps.tar.gz (the device returns 8 files).
# Exit status 0 when every step is ok, 1 otherwise. Nothing is downloaded; only a kit's wheels are installed.
# Environment (relative paths start at the repository root):
#   OUT (./gpu_out)  PYTHON (.venv/bin/python, else python3)  VIDEO_A, VIDEO_B (../shared/data/videos/taiji.mp4, dance_basketball.mp4)
#   SKELETON_CYCLEGAN_MODELS: a folder with pose_detection.tflite and pose_landmark_full.tflite (default: the user
#   cache when it holds them)   GPU_RUN_SECONDS: the whole run's limit (480; --tiny 300)
#   KEEP_WORK=1: keep $OUT/work (weights, crops; removed at the end otherwise)
set -u -o pipefail

TINY=0
KIT=""
KIT_GIVEN=0
PRINT_ENV=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) TINY=1 ;;
    --kit) [ $# -ge 2 ] || { echo "gpu_run.sh: --kit needs a folder" >&2; exit 2; }; KIT=$2; KIT_GIVEN=1; shift ;;
    --print-env) PRINT_ENV=1 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_run.sh: unknown option $1 (use --tiny, --kit DIR, --print-env or --help)" >&2; exit 2 ;;
  esac
  shift
done

cd "$(dirname "$0")/.." || exit 1        # the repository root: the relative paths below start there
START=$(date +%s)
LIMIT=${GPU_RUN_SECONDS:-$([ "$TINY" = 1 ] && echo 300 || echo 480)}
DEADLINE=$((START + LIMIT))
END_RESERVE=10                         # seconds kept for the summary and the clean-up
OUT=${OUT:-./gpu_out}
PY=${PYTHON:-.venv/bin/python}
[ -n "${PYTHON:-}" ] || [ -x "$PY" ] || PY=python3    # the GPU machine has no .venv: its python3 holds torch

# the kit (bench/device_kit.sh): wheels for what that python3 lacks, the real pair and BlazePose's files
[ "$KIT_GIVEN" = 0 ] && [ "$TINY" = 0 ] && [ -d .device ] && KIT=.device
KIT_NOTE=""
KIT_ERR=""
if [ -n "$KIT" ]; then
  [ -d "$KIT" ] || { echo "gpu_run.sh: no kit at $KIT: make it with bash bench/device_kit.sh, carry it" >&2; exit 2; }
  KIT=$(cd "$KIT" && pwd)
  SITE=${GPU_RUN_SITE:-/tmp/site}
  wheels=("$KIT"/wheels/*.whl)
  if [ -e "${wheels[0]}" ]; then
    if log=$("$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" \
        "${wheels[@]}" 2>&1); then
      KIT_NOTE="${#wheels[@]} wheels installed into $SITE in $(($(date +%s) - START)) s"
    else
      KIT_ERR="the kit's wheels did not install into $SITE: $(grep -v '^\s*$' <<< "$log" | tail -n 1 | cut -c1-300)"
    fi
  else
    KIT_NOTE="no wheels in the kit"
  fi
  # no package is installed there: skeleton_cyclegan comes from this tree, the kit's packages from $SITE
  export PYTHONPATH="$PWD:$SITE${PYTHONPATH:+:$PYTHONPATH}"
  VIDEO_A=${VIDEO_A:-$KIT/data/videos/taiji.mp4}
  VIDEO_B=${VIDEO_B:-$KIT/data/videos/dance_basketball.mp4}
  [ -z "${SKELETON_CYCLEGAN_MODELS:-}" ] && [ -d "$KIT/models" ] && export SKELETON_CYCLEGAN_MODELS=$KIT/models
  [ -z "${SKELETON_CYCLEGAN_SHARED_DATA:-}" ] && [ -d "$KIT/data/videos" ] \
    && export SKELETON_CYCLEGAN_SHARED_DATA=$KIT/data
elif [ "$PY" = python3 ]; then
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
VIDEO_A=${VIDEO_A:-../shared/data/videos/taiji.mp4}
VIDEO_B=${VIDEO_B:-../shared/data/videos/dance_basketball.mp4}

# everything the tools cache or write goes under $OUT; the pose models are read where they already are
if [ -z "${SKELETON_CYCLEGAN_MODELS:-}" ]; then
  cached=${SKELETON_CYCLEGAN_CACHE:-$HOME/.cache/skeleton_cyclegan}/models
  if [ -f "$cached/pose_detection.tflite" ] && [ -f "$cached/pose_landmark_full.tflite" ]; then
    export SKELETON_CYCLEGAN_MODELS=$cached
  fi
fi
NO_MODELS=""
[ -n "${SKELETON_CYCLEGAN_MODELS:-}" ] || NO_MODELS="BlazePose's model files are not at hand: put pose_detection.tflite \
and pose_landmark_full.tflite in a folder and set SKELETON_CYCLEGAN_MODELS to it (this script downloads nothing)"

if [ "$PRINT_ENV" = 1 ]; then
  for v in PY KIT KIT_NOTE KIT_ERR PYTHONPATH VIDEO_A VIDEO_B SKELETON_CYCLEGAN_MODELS SKELETON_CYCLEGAN_SHARED_DATA; do
    echo "$v=${!v:-}"
  done
  "$PY" -c 'import skeleton_cyclegan; print("skeleton_cyclegan=" + skeleton_cyclegan.__file__)' \
    || echo "skeleton_cyclegan=not importable by $PY"
  [ -z "$KIT_ERR" ]; exit
fi
mkdir -p "$OUT/logs" "$OUT/work/tmp" "$OUT/work/cache" "$OUT/work/mpl" || { echo "cannot write $OUT" >&2; exit 1; }
OUT=$(cd "$OUT" && pwd)
WORK=$OUT/work
STATUS=$WORK/status.tsv
: > "$STATUS"
rm -f "$OUT"/[0-9][0-9]_*.txt "$OUT/summary.md"   # a rerun into the same folder reports only its own steps
export SKELETON_CYCLEGAN_CACHE=$WORK/cache TMPDIR=$WORK/tmp MPLCONFIGDIR=$WORK/mpl PYTHONUNBUFFERED=1
if [ "$TINY" = 1 ]; then
  export CUDA_VISIBLE_DEVICES=""       # the dry run stays on the CPU
  export PREP="--size 128 --max-frames 24"
else
  export PREP="--size 256"
fi
export PY TINY WORK VIDEO_A VIDEO_B KIT

left() { echo $((DEADLINE - $(date +%s) - END_RESERVE)); }
# the clip's and training's start-up seconds, and the least training worth running: the steps before keep HOLD free
CLIP_S=45
if [ "$TINY" = 1 ]; then START_S=30; MIN_TRAIN_S=12; else START_S=45; MIN_TRAIN_S=120; fi
HOLD=$((CLIP_S + START_S + MIN_TRAIN_S))

# the commands the steps run (functions, so that `timeout` can run them through bash -c)
scg() { "$PY" -c 'import sys; from skeleton_cyclegan.cli import main; sys.exit(main())' "$@"; }

machine() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   mode: $([ "$TINY" = 1 ] && echo 'tiny (CPU dry run)' || echo GPU)"
  echo "commit: $(git rev-parse --short HEAD 2> /dev/null || echo unknown)"
  [ -n "$KIT" ] && echo "kit: $KIT, $(head -n 1 "$KIT/kit.txt" 2> /dev/null || echo 'no kit.txt')"
  if command -v nvidia-smi > /dev/null; then nvidia-smi || true; else echo "nvidia-smi: not found"; fi
  "$PY" - << 'EOF'
import torch
from skeleton_cyclegan.core import machine_description
from skeleton_cyclegan.precision import cpu_native_bf16
print(machine_description())
import importlib, sys
print(f"python {sys.version.split()[0]} ({sys.executable})")
for m in ("skeleton_cyclegan", "moviepy", "imageio_ffmpeg", "tflite"):   # the kit's packages come from its folder
    try: mod = importlib.import_module(m); print(f"{m} {getattr(mod, '__version__', '')}: {mod.__file__}")
    except ImportError as e: print(f"{m}: {e}")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
      f"CPU native bf16: {cpu_native_bf16()}")
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f"cuda:{i} {p.name}, capability {p.major}.{p.minor}, {p.total_memory / 2**30:.0f} GiB, "
          f"{p.multi_processor_count} SMs")
EOF
}

data() { scg prepare "$VIDEO_A" --out "$WORK/A" $PREP && scg prepare "$VIDEO_B" --out "$WORK/B" $PREP; }

synthetic() {   # --tiny without the real pair: two rendered dancers, prepared (H's landmarks and cache) as `prepare` does
  "$PY" - "$WORK" << 'EOF'
import sys
from pathlib import Path
from skeleton_cyclegan.render import make_dataset
from skeleton_cyclegan.synthetic import DOMAIN_A, DOMAIN_B
for d, name in ((DOMAIN_A, "A"), (DOMAIN_B, "B")):
    pv = make_dataset(d, Path(sys.argv[1]) / name, n_frames=24, size=128, progress=False)
    print(f"{name}: synthetic {d.name}, {len(pv)} frames of {pv.size} px (the real videos are absent)")
EOF
}

train_table() {   # what the training run left: iterations, the last losses, the sample strip
  "$PY" - "$WORK/run" "$1" "$OUT/logs/05_train.log" << 'EOF'
import json, re, sys
from pathlib import Path
run = Path(sys.argv[1]); log = run / "losses.jsonl"
rows = [json.loads(l) for l in log.read_text().splitlines() if l.strip()] if log.exists() else []
print(f"time budget: {sys.argv[2]} min; iterations logged: {len(rows)}")
said = Path(sys.argv[3]).read_text(errors="replace") if Path(sys.argv[3]).exists() else ""
for line in re.findall(r"time budget [^\r\n]*", said): print(f"trainer: {line.strip()}")
rates = re.findall(r"([\d.]+)(it/s|s/it)[,\]]", said)     # the progress bar's last rate
if rates: print(f"progress bar, last rate: {rates[-1][0]} {rates[-1][1]}")
if rows:
    last = rows[-1]
    print("| " + " | ".join(last) + " |\n|" + "---|" * len(last))
    print("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in last.values()) + " |")
samples = sorted((run / "samples").glob("*.png")) if (run / "samples").exists() else []
print(f"sample strip: {samples[-1].name if samples else 'none written'}")
EOF
}

# step NAME CAP COMMAND...: run COMMAND for at most CAP seconds (never past the deadline), stdout to $OUT/NAME.txt
step() {
  local name=$1 cap=$2; shift 2
  local l; l=$(($(left) - HOLD))
  ((cap > l)) && cap=$l
  if ((cap < 5)); then
    printf '%s\tskipped\t0\tno time left before the deadline\n' "$name" >> "$STATUS"
    echo "[$name] skipped: no time left"; return 1
  fi
  echo "[$name] up to ${cap} s: $*"
  local t0 rc dt what; t0=$(date +%s)
  # SIGINT first, to the whole group: a training run saves its checkpoint on an interrupt; KILL 20 s later
  timeout -k 20 -s INT "$cap" bash -c "$(declare -f scg machine data synthetic); \"\$@\"" "$name" "$@" \
    > "$OUT/$name.txt" 2> "$OUT/logs/$name.log"
  rc=$?
  dt=$(($(date +%s) - t0))
  case $rc in
    0) what=ok ;;
    124 | 130 | 137) what="stopped at its time cap (${cap} s)" ;;
    *) what="failed (exit $rc): $(grep -v '^\s*$' "$OUT/logs/$name.log" | tail -n 1 | cut -c1-300)" ;;
  esac
  printf '%s\t%s\t%s\t%s\n' "$name" "$([ $rc = 0 ] && echo ok || echo FAIL)" "$dt" "$what" >> "$STATUS"
  echo "[$name] $what, ${dt} s"
  return $rc
}

# fail NAME MESSAGE: a step that cannot start, in one line
fail() { printf '%s\tFAIL\t0\t%s\n' "$1" "$2" >> "$STATUS"; echo "$2" > "$OUT/$1.txt"; echo "[$1] $2"; }

# ---- 00 kit, 00 machine, 01-03 benches ----------------------------------------------------------------------------------
if [ -n "$KIT_ERR" ]; then
  fail 00_kit "$KIT_ERR"
elif [ -n "$KIT" ]; then
  printf '%s\tok\t0\t%s\n' 00_kit "$KIT_NOTE" >> "$STATUS"
  { echo "$KIT: $KIT_NOTE"; cat "$KIT/kit.txt" 2> /dev/null; } > "$OUT/00_kit.txt"
fi
step 00_machine 30 machine
if [ "$TINY" = 1 ]; then
  step 01_train_step 90 "$PY" bench/train_step.py --smoke
  step 02_prepare 90 "$PY" bench/prepare.py --smoke
  step 03_translate 60 "$PY" bench/translate.py --smoke
else
  step 01_train_step 120 "$PY" bench/train_step.py --gpu
  PREP_BENCH=(--device cuda)
  [ -f "$VIDEO_A" ] && PREP_BENCH+=(--video "$VIDEO_A")   # the bench's default, ../shared, is absent there
  step 02_prepare 60 "$PY" bench/prepare.py "${PREP_BENCH[@]}"
  step 03_translate 75 "$PY" bench/translate.py --device cuda --json "$OUT/03_translate.json"
fi

# ---- 04 data: the real pair, or (--tiny without it) two rendered synthetic dancers ----------------------------
if [ -n "$NO_MODELS" ]; then
  fail 04_data "$NO_MODELS"
elif [ -f "$VIDEO_A" ] && [ -f "$VIDEO_B" ]; then
  step 04_data 90 data
elif [ "$TINY" = 1 ]; then
  step 04_data 90 synthetic
else
  fail 04_data "the real pair is absent: $VIDEO_A or $VIDEO_B does not exist; set VIDEO_A and VIDEO_B to the videos"
fi

# ---- 05 train for the minutes left, keeping time for the clip -------------------------------------------------
if [ -f "$WORK/A/meta.json" ] && [ -f "$WORK/B/meta.json" ]; then
  HOLD=0
  if [ "$TINY" = 1 ]; then
    TRAIN=(--size 64 --ngf 8 --ndf 8 --n-blocks 1 --sample-every 5 --log-every 5)
  else
    TRAIN=(--size 256 --sample-every 1000 --log-every 50)
  fi
  BUDGET_S=$(($(left) - CLIP_S - START_S))    # train's clock starts after its start-up; the clip comes after it
  [ "$TINY" = 1 ] && ((BUDGET_S > MIN_TRAIN_S)) && BUDGET_S=$MIN_TRAIN_S
  if ((BUDGET_S >= MIN_TRAIN_S / 2)); then
    MINUTES=$(awk -v s="$BUDGET_S" 'BEGIN { printf "%.2f", s / 60 }')
    step 05_train $((BUDGET_S + START_S)) scg train --a "$WORK/A" --b "$WORK/B" --out "$WORK/run" \
      --time-budget "$MINUTES" --checkpoint-every 1000000 --no-tensorboard "${TRAIN[@]}"
    for f in losses.jsonl losses.png config.json; do [ -f "$WORK/run/$f" ] && cp "$WORK/run/$f" "$OUT/"; done
    last=$(ls "$WORK/run/samples/"*.png 2> /dev/null | sort | tail -n 1)
    [ -n "$last" ] && cp "$last" "$OUT/sample_strip.png"
    train_table "$MINUTES" >> "$OUT/05_train.txt" 2>> "$OUT/logs/05_train.log"
  else
    fail 05_train "no time left to train (${BUDGET_S} s)"
  fi
else
  fail 05_train "no prepared data (step 04_data did not finish)"
fi

# ---- 06 a 5-second clip of A through G --------------------------------------------------------------------------
if [ -f "$WORK/run/generators.pt" ] || [ -f "$WORK/run/checkpoint.pt" ]; then
  N=$("$PY" -c 'import json, sys; print(max(1, round(5 * float(json.load(open(sys.argv[1])).get("fps") or 25))))' \
      "$WORK/A/meta.json" 2> /dev/null || echo 125)
  HOLD=0
  step 06_clip 60 scg translate "$WORK/run" "$WORK/A" "$OUT/clip_AtoB.mp4" --max-frames "$N"
else
  fail 06_clip "no trained generators to translate with (step 05_train left none)"
fi

# ---- summary ------------------------------------------------------------------------------------------------------
{
  echo "# gpu_run.sh$([ "$TINY" = 1 ] && echo ' --tiny (a CPU dry run: its sizes and numbers mean nothing)')"
  echo
  echo "$(($(date +%s) - START)) s wall of a ${LIMIT} s limit."
  echo
  echo "| step | status | seconds | note |"
  echo "|---|---|---:|---|"
  while IFS=$'\t' read -r name st dt what; do echo "| $name | $st | $dt | ${what//|/\\|} |"; done < "$STATUS"
  for f in "$OUT"/[0-9][0-9]_*.txt; do
    [ -f "$f" ] || continue
    echo; echo "## $(basename "$f" .txt)"; echo; echo '```'; cut -c1-400 "$f" | tail -n 60; echo '```'
  done
} > "$OUT/summary.md"
FAILED=$(grep -c -v $'\tok\t' "$STATUS")
[ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
if [ "$TINY" = 0 ]; then   # the device tool brings back at most 8 files: the step tables and logs travel as one
  (cd "$OUT" && tar -czf steps.tar.gz --remove-files $(ls -d [0-9][0-9]_*.txt 03_translate.json config.json logs \
    2> /dev/null)) || echo "could not pack the step tables and logs into $OUT/steps.tar.gz" >&2
fi
{
  echo
  echo "Files: $(cd "$OUT" && ls -1 | grep -v -x -e work -e logs -e summary.md | tr '\n' ' ')"
  [ -f "$OUT/steps.tar.gz" ] && echo "(steps.tar.gz: each step's table, logs/, config.json, 03_translate.json)"
} >> "$OUT/summary.md"
echo "summary: $OUT/summary.md ($(($(date +%s) - START)) s; $FAILED step(s) not ok)"
exit $((FAILED > 0))
