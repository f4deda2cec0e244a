#!/usr/bin/env bash
# The main job on an embedded default: builds dnnsplit if needed, splits the shipped trained
# CNV-W2A2 (models/cnv-w2a2-fashion.onnx) for 3 Zedboards, starts 3 local emulated-Zedboard
# nodes and streams all 10,000 Fashion-MNIST test images through the pipeline.
# Output goes to ./out/demo/ (plan, stage files, trace, report).
# Environment: DEMO_IMAGES=N runs the first N images only (0 = all), DEMO_BOARD=B, DEMO_STAGES=K.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x build/src/cli/dnnsplit ] || [ -n "$(find src include proto CMakeLists.txt -newer build/src/cli/dnnsplit -print -quit 2>/dev/null)" ]; then
  echo "== building dnnsplit (release; a few minutes the first time)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  ninja -C build dnnsplit
fi
bin=build/src/cli/dnnsplit
model=models/cnv-w2a2-fashion.onnx
board=${DEMO_BOARD:-zedboard}
stages=${DEMO_STAGES:-3}
images=${DEMO_IMAGES:-0}
out=out/demo
rm -rf "$out/plan"
mkdir -p "$out"

echo "== model: $model (trained CNV-W2A2, 2-bit weights and activations)"
"$bin" inspect "$model" | tail -n 3
echo
echo "== plan: $stages stages for $stages x $board, balanced throughput"
"$bin" plan "$model" --board "$board" --strategy balanced --stages "$stages" -o "$out/plan"
echo
echo "== run: $stages local nodes emulating $board, pipeline, Fashion-MNIST test images"
"$bin" run "$out/plan" --local "$stages" --board "$board" --fashion-mnist "$images" \
  --trace "$out/trace.json" --batch 50 | tee "$out/report.txt"
echo
expected=$(sed -n 's/.*"accuracy": \([0-9.]*\).*/\1/p' models/cnv-w2a2-fashion.expected.json | head -n 1)
if [ "$images" = 0 ]; then
  echo "whole model, as trained (PyTorch): accuracy $(awk -v a="$expected" 'BEGIN { printf "%.2f %%", 100 * a }') of 10000 images (models/cnv-w2a2-fashion.expected.json)"
fi
echo "files: $out/plan/plan.json (stages: $out/plan/stage-*.onnx, open in Netron), $out/trace.json (open in https://ui.perfetto.dev)"
