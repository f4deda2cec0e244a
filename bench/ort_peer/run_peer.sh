#!/bin/sh
# The ONNX Runtime peer, in one run on this machine: the same network as dnnsplit's fast plan,
# exported as float32 and as QDQ int8, run by onnxruntime-node's CPU engine; prints each rate
# and dnnsplit's ratio to it.
# usage: bench/ort_peer/run_peer.sh BUILD_DIR MODEL [--threads N] [--batch B] [--seconds S]
# ROUNDS (default 3): the engines run in turn, round after round, and each reports the median
# of its rounds, so a slow spell of a shared machine (its clock swings by a third here) does not
# land on one engine only.
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

rounds=${ROUNDS:-3}
ours="" fp32="" qdq=""
i=0
while [ "$i" -lt "$rounds" ]; do
  ours="$ours$("${DNNSPLIT:-$build/src/cli/dnnsplit}" bench "$model" --json "$@" | tr -d '\n')
"
  fp32="$fp32$(NODE_PATH="$peer/node_modules" node "$here/ort_bench.js" "$out/fp32.onnx" "$@")
"
  qdq="$qdq$(NODE_PATH="$peer/node_modules" node "$here/ort_bench.js" "$out/qdq.onnx" "$@" 2>&1 | tr -d '\n')
"  # a QDQ export ORT cannot run leaves its error text, reported below
  i=$((i + 1))
done

python3 - "$ours" "$fp32" "$qdq" <<'PY'
import json, statistics, sys

def rounds(text):
    """Each line one run's JSON; (None, the line) for a line that is not (the engine did not run)."""
    out = []
    for line in text.strip().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            return None, line.strip()[:200]
    return out, ""

def median(runs, key):
    return statistics.median(r[key] for r in runs)

ours, _ = rounds(sys.argv[1])
wall, cpu = median(ours, "images_per_s"), median(ours, "images_per_cpu_s")
print(f"{ours[0]['model']}: {ours[0]['threads']} thread(s), batch {ours[0]['batch']}, median of {len(ours)} interleaved rounds")
print(f"  {'engine':24s} {'img/s':>10s} {'img/CPU-s':>10s}   dnnsplit is (wall, CPU)   rounds (img/s)")
print(f"  {'dnnsplit fast plan':24s} {wall:10.1f} {cpu:10.1f}   {'':24s} "
      + " ".join(f"{r['images_per_s']:.1f}" for r in ours))
for label, text in [("onnxruntime fp32", sys.argv[2]), ("onnxruntime qdq int8", sys.argv[3])]:
    runs, error = rounds(text)
    if not runs:
        print(f"  {label:24s} did not run: {error}")
        continue
    pw, pc = median(runs, "images_per_s"), median(runs, "images_per_cpu_s")
    print(f"  {label:24s} {pw:10.1f} {pc:10.1f}   {wall / pw:.2f}x, {cpu / pc:.2f}x{'':12s} "
          + " ".join(f"{r['images_per_s']:.1f}" for r in runs))
PY
