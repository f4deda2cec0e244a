#!/usr/bin/env bash
# The main job on an embedded default: builds dnnsplit if needed, then takes a shipped model
# through the whole tool chain. Output goes to ./out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x build/src/cli/dnnsplit ] || [ -n "$(find src include CMakeLists.txt -newer build/src/cli/dnnsplit -print -quit 2>/dev/null)" ]; then
  echo "== building dnnsplit (release)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build dnnsplit
fi
bin=build/src/cli/dnnsplit
out=out/demo
mkdir -p "$out"

echo "== zoo: building CNV-W2A2 (seed 1)"
"$bin" zoo build cnv-w2a2 --seed 1 -o "$out/cnv-w2a2.onnx"
echo "== inspect"
"$bin" inspect "$out/cnv-w2a2.onnx"
echo "== exec on 4 Fashion-MNIST test images"
"$bin" eval "$out/cnv-w2a2.onnx" --dataset fashion-mnist --limit 4
