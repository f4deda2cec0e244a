#!/bin/sh
# The ONNX Runtime peer, in one run on this machine: the same network as dnnsplit's fast plan,
# exported as float32 and as QDQ int8, run by onnxruntime-node's CPU engine; prints each rate
# and dnnsplit's ratio to it.
# usage: bench/ort_peer/run_peer.sh BUILD_DIR MODEL [--threads N] [--batch B] [--seconds S]
#   MODEL: a zoo name (cnv-w2a2, mobilenetv1-w4a4, ...) or a model file.
# Installs onnxruntime-node into BUILD_DIR/ort-peer on first use (ONNXRUNTIME_NODE_INSTALL=skip:
# the CPU engine ships in the package; its install script would fetch GPU libraries).
# DNNSPLIT overrides the dnnsplit binary (default BUILD_DIR/src/cli/dnnsplit).
# Rates are reported per wall-second and per CPU-second of the process: on a shared machine the
# second is the one that other processes do not dilute.
set -eu
build=$(cd "$1" && pwd)
model=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
peer="$build/ort-peer"
mkdir -p "$peer"
if [ ! -d "$peer/node_modules/onnxruntime-node" ]; then
  (cd "$peer" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund onnxruntime-node@1.30.0 >&2)
fi
name=$(basename "$model" .onnx)
out="$peer/models/$name"
"$build/bench/ort_peer_export" "$model" "$out" >/dev/null

ours=$("${DNNSPLIT:-$build/src/cli/dnnsplit}" bench "$model" --json "$@")
fp32=$(NODE_PATH="$peer/node_modules" node "$here/ort_bench.js" "$out/fp32.onnx" "$@")
qdq=$(NODE_PATH="$peer/node_modules" node "$here/ort_bench.js" "$out/qdq.onnx" "$@" 2>&1) || qdq=""

python3 - "$ours" "$fp32" "$qdq" <<'PY'
import json, sys
ours = json.loads(sys.argv[1])
peers = [("onnxruntime fp32", sys.argv[2]), ("onnxruntime qdq int8", sys.argv[3])]
print(f"{ours['model']}: {ours['threads']} thread(s), batch {ours['batch']}")
print(f"  {'engine':24s} {'img/s':>10s} {'img/CPU-s':>10s}   dnnsplit is (wall, CPU)")
print(f"  {'dnnsplit fast plan':24s} {ours['images_per_s']:10.1f} {ours['images_per_cpu_s']:10.1f}")
for label, text in peers:
    try:
        r = json.loads(text)
    except ValueError:
        print(f"  {label:24s} did not run: {text.strip()[:200]}")
        continue
    print(f"  {label:24s} {r['images_per_s']:10.1f} {r['images_per_cpu_s']:10.1f}   "
          f"{ours['images_per_s'] / r['images_per_s']:.2f}x, {ours['images_per_cpu_s'] / r['images_per_cpu_s']:.2f}x")
PY
