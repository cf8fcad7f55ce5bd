#!/usr/bin/env bash
# Fills .device/ (git-ignored) with what bench/gpu_run.sh needs on the GPU machine and cannot get there: that machine
# runs a copy of this working tree with its own python3 (torch and many packages, not our .venv), has no internet, and
# ../shared does not travel. Run it here, where pip can download; then the device call carries ".device".
#
#   bash bench/device_kit.sh              # fill .device/ and print its size
#   bash bench/device_kit.sh --dry-run    # list what it would collect (sources, sizes, wheels); copies nothing
#   bash bench/device_kit.sh --kit DIR    # another folder (relative paths start at the repository root)
#
# .device/data/videos/  taiji.mp4, dance_basketball.mp4: the real pair (third-party footage: it travels in this ignored
#                       folder, it is never committed); laid out as ../shared/data is, for SKELETON_CYCLEGAN_SHARED_DATA
# .device/models/       BlazePose's pose_detection.tflite and pose_landmark_full.tflite, from the package's own lookup
#                       ($SKELETON_CYCLEGAN_MODELS, else the user cache; fetched into the cache when neither has them)
# .device/wheels/       the packages our code imports on gpu_run.sh's paths that the device image lacks (see WHEELS)
# .device/kit.txt       what is in the kit and the commit it was made at
# Environment: PYTHON (.venv/bin/python, else python3) runs the package's lookup; VIDEO_A, VIDEO_B (the pair's files).
# Exit status 0 when the kit is complete and, with the working tree, fits what the device call takes (64 MiB).
set -u -o pipefail

# Python 3.12, manylinux x86_64, pure Python except imageio-ffmpeg (its wheel is the ffmpeg binary the video code runs).
# imageio-ffmpeg stays at 0.7.0 (ffmpeg 7.0.2 with libx264): 0.8's wheel is 68 MB, more than the device call carries.
# moviepy and its needs (decorator, proglog, python-dotenv) read videos; tflite parses BlazePose's files.
# The device image has the rest (torch, numpy, pillow, matplotlib, tqdm, safetensors, imageio, flatbuffers: KINDS.md).
WHEELS=(imageio-ffmpeg==0.7.0 moviepy==2.2.1 decorator==5.3.1 proglog==0.1.12 python-dotenv==1.2.4 tflite==2.18.0)
MODELS=(pose_detection.tflite pose_landmark_full.tflite)
LIMIT_MIB=64                                       # what one device call carries: working tree and kit together

DRY=0
KIT=.device
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --kit) [ $# -ge 2 ] || { echo "device_kit.sh: --kit needs a folder" >&2; exit 2; }; KIT=$2; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "device_kit.sh: unknown option $1 (use --dry-run, --kit DIR or --help)" >&2; exit 2 ;;
  esac
  shift
done

cd "$(dirname "$0")/.." || exit 1
PY=${PYTHON:-.venv/bin/python}
[ -n "${PYTHON:-}" ] || [ -x "$PY" ] || PY=python3
VIDEO_A=${VIDEO_A:-../shared/data/videos/taiji.mp4}
VIDEO_B=${VIDEO_B:-../shared/data/videos/dance_basketball.mp4}
MISSING=0
size() { stat -L -c %s "$1" 2> /dev/null || echo 0; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
item() { printf '  %-44s %10s  %s\n' "$1" "$(mib "$2")" "$3"; }   # destination, bytes, source

# the models where the package looks for them (pose.model_file's order), without downloading anything
models_at() {
  "$PY" - "${MODELS[@]}" << 'EOF'
import os, sys
from skeleton_cyclegan.core import cache_dir
explicit = os.environ.get("SKELETON_CYCLEGAN_MODELS")
for name in sys.argv[1:]:
    p = os.path.join(explicit, name) if explicit else str(cache_dir("models") / name)
    print(p if os.path.isfile(p) else f"MISSING {p}")
EOF
}

echo "kit: $KIT$([ "$DRY" = 1 ] && echo ' (dry run: nothing is copied or downloaded)')"
TOTAL=0
echo "videos (the real pair):"
for v in "$VIDEO_A" "$VIDEO_B"; do
  if [ -f "$v" ]; then item "data/videos/$(basename "$v")" "$(size "$v")" "$v"; TOTAL=$((TOTAL + $(size "$v")))
  else echo "  MISSING $v: set VIDEO_A and VIDEO_B to the pair's files"; MISSING=1; fi
done
echo "models (BlazePose):"
mapfile -t MODEL_SRC < <(models_at)
if [ ${#MODEL_SRC[@]} -ne ${#MODELS[@]} ]; then
  echo "  MISSING: $PY could not look the models up (is skeleton_cyclegan importable there?)"; MISSING=1
fi
for src in "${MODEL_SRC[@]}"; do
  if [ "${src#MISSING }" = "$src" ]; then item "models/$(basename "$src")" "$(size "$src")" "$src"
    TOTAL=$((TOTAL + $(size "$src")))
  elif [ "$DRY" = 1 ]; then echo "  ${src}: the kit would fetch it with the package (skeleton_cyclegan.pose.model_file)"
  else echo "  ${src#MISSING }: absent, fetching it with the package"; fi
done
echo "wheels (python 3.12, manylinux x86_64):"
for w in "${WHEELS[@]}"; do
  have=$(ls "$KIT/wheels/$(echo "${w%%==*}" | tr - _)-${w##*==}-"*.whl 2> /dev/null | head -n 1)
  if [ -n "$have" ]; then item "wheels/$(basename "$have")" "$(size "$have")" "(in the kit)"
    TOTAL=$((TOTAL + $(size "$have")))
  else printf '  %-44s %10s  %s\n' "$w" "?" "pip download"; fi
done

if [ "$DRY" = 1 ]; then
  echo "known so far: $(mib "$TOTAL") (wheels not yet downloaded are not counted; imageio-ffmpeg's is about 28 MiB)"
  exit $MISSING
fi
[ "$MISSING" = 0 ] || { echo "device_kit.sh: the kit cannot be complete (see MISSING above)" >&2; exit 1; }

# ---- collect ----------------------------------------------------------------------------------------------------
mkdir -p "$KIT/data/videos" "$KIT/models" "$KIT/wheels" || exit 1
cp -f "$VIDEO_A" "$KIT/data/videos/taiji.mp4" && cp -f "$VIDEO_B" "$KIT/data/videos/dance_basketball.mp4" || exit 1
chmod u+w "$KIT/data/videos/"*.mp4
"$PY" - "$KIT/models" "${MODELS[@]}" << 'EOF' || { echo "device_kit.sh: no BlazePose files" >&2; exit 1; }
import shutil, sys
from skeleton_cyclegan.pose import model_file     # the package's lookup: checks the pinned sha256, fetches if needed
for name in sys.argv[2:]: shutil.copyfile(model_file(name), f"{sys.argv[1]}/{name}")
EOF
keep=()
for w in "${WHEELS[@]}"; do
  pattern="$(echo "${w%%==*}" | tr - _)-${w##*==}-*.whl"
  keep+=("$pattern")
  compgen -G "$KIT/wheels/$pattern" > /dev/null && continue
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$KIT/wheels" "$w" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) \
    || { echo "device_kit.sh: pip could not download $w" >&2; exit 1; }
done
for f in "$KIT/wheels/"*.whl; do    # one version of each: two stop the whole install there
  ok=0; for p in "${keep[@]}"; do case "$(basename "$f")" in $p) ok=1 ;; esac; done
  [ "$ok" = 1 ] || { echo "removing $(basename "$f") (not in WHEELS)"; rm -f "$f"; }
done
{
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) at commit $(git rev-parse --short HEAD 2> /dev/null || echo unknown)"
  (cd "$KIT" && find . -type f ! -name kit.txt -printf '%P %s\n' | sort)
} > "$KIT/kit.txt"

KIT_BYTES=$(du -sb "$KIT" | cut -f1)
TREE_BYTES=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2> /dev/null \
  | awk '{ s += $1 } END { print s + 0 }')
echo "kit: $(find "$KIT" -type f | wc -l) files, $(mib "$KIT_BYTES") in $KIT"
echo "with the working tree ($(mib "$TREE_BYTES")): $(mib $((KIT_BYTES + TREE_BYTES))) of the ${LIMIT_MIB} MiB" \
  "a device call carries"
if ((KIT_BYTES + TREE_BYTES > LIMIT_MIB * 1048576)); then
  echo "device_kit.sh: too large for one device call: the tree and the kit must stay under ${LIMIT_MIB} MiB" >&2
  exit 1
fi
