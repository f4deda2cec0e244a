#!/usr/bin/python3
"""Trains CNV-W2A2 on Fashion-MNIST (quantization-aware, Brevitas-style) and writes it as a
QONNX file with exactly the structure of `dnnsplit zoo build cnv-w2a2` (the zoo model is the
template; only initializer values change), plus the expected predictions for C++ tests.

A tool for making the shipped model (models/cnv-w2a2-fashion.onnx), not part of the tests.
Uses Debian's python3-torch and python3-onnx; run with /usr/bin/python3. One thread, seeded,
deterministic data order. Example (about 50 minutes on one core):

    OMP_NUM_THREADS=1 nice -n 19 /usr/bin/python3 tools/train_cnv_fashion.py \
        --template /tmp/template.onnx --out models/cnv-w2a2-fashion.onnx
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist_data as fm  # noqa: E402
from cnv_w2a2_torch import CNV, snap_thresholds  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=fm.DEFAULT_DIR)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=200, help="linear warm-up iterations")
    p.add_argument("--train-limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--no-augment", action="store_true", help="no random shift / horizontal flip")
    p.add_argument("--checkpoint", default="/tmp/cnv_w2a2_fashion.pt")
    p.add_argument("--export-only", action="store_true", help="load --checkpoint, skip training")
    p.add_argument("--template", help="`dnnsplit zoo build cnv-w2a2 -o FILE` output")
    p.add_argument("--out", default="models/cnv-w2a2-fashion.onnx")
    p.add_argument("--expected", default="models/cnv-w2a2-fashion.expected.json")
    p.add_argument("--test-limit", type=int, default=0, help="evaluate only the first N test images (quick checks)")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args()


def augment(x, gen):
    """Random shift by up to 2 pixels (zero fill) and random horizontal flip."""
    n = x.shape[0]
    padded = F.pad(x, (2, 2, 2, 2))
    offsets = torch.randint(0, 5, (n, 2), generator=gen)
    out = torch.empty_like(x)
    for i in range(n):
        dy, dx = int(offsets[i, 0]), int(offsets[i, 1])
        out[i] = padded[i, :, dy:dy + 32, dx:dx + 32]
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def evaluate(model, images, labels, batch=500):
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, images.shape[0], batch):
            x = images[i:i + batch].float().expand(-1, 3, -1, -1)
            preds.append(model(x).argmax(dim=1))
    model.train()
    preds = torch.cat(preds)
    return int((preds == labels).sum()) / len(labels), preds


def train(args, model, train_x, train_y, test_x, test_y):
    gen = torch.Generator().manual_seed(args.seed + 1)
    params_bn = [p for n, p in model.named_parameters() if "bn" in n or "tensor_norm" in n]
    params_w = [p for n, p in model.named_parameters() if not ("bn" in n or "tensor_norm" in n)]
    opt = torch.optim.Adam([{"params": params_w}, {"params": params_bn}], lr=args.lr)
    n = train_x.shape[0]
    steps_per_epoch = n // args.batch
    total = steps_per_epoch * args.epochs
    step, start, cpu_start = 0, time.time(), time.process_time()
    model.train()
    for epoch in range(args.epochs):
        perm = torch.randperm(n, generator=gen)
        run_loss, run_ok, run_n = 0.0, 0, 0
        for b in range(steps_per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            x = train_x[idx].float()
            if not args.no_augment:
                x = augment(x, gen)
            x = x.expand(-1, 3, -1, -1)
            y = train_y[idx]
            lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * step / total))
            for g in opt.param_groups:
                g["lr"] = lr
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            model.clip_weights()
            step += 1
            run_loss += float(loss) * len(y)
            run_ok += int((out.argmax(1) == y).sum())
            run_n += len(y)
            if step % 50 == 0:
                el = time.time() - start
                print(f"epoch {epoch + 1} step {step}/{total} loss {run_loss / run_n:.4f} "
                      f"train-acc {run_ok / run_n:.4f} lr {lr:.5f} elapsed {el / 60:.1f} min "
                      f"eta {el / step * (total - step) / 60:.1f} min", flush=True)
        acc, _ = evaluate(model, test_x, test_y)
        print(f"== epoch {epoch + 1}: train loss {run_loss / run_n:.4f} train-acc {run_ok / run_n:.4f} "
              f"test-acc {acc:.4f} elapsed {(time.time() - start) / 60:.1f} min", flush=True)
    return time.time() - start, time.process_time() - cpu_start


def format_expected(expected):
    """JSON with each list on one line."""
    lines = ["{"]
    items = list(expected.items())
    for i, (key, value) in enumerate(items):
        lines.append(f"  {json.dumps(key)}: {json.dumps(value)}" + ("," if i + 1 < len(items) else ""))
    return "\n".join(lines) + "\n}\n"


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True)

    tr_img, tr_lab = fm.load("train", args.data_dir)
    te_img, te_lab = fm.load("test", args.data_dir)
    if args.train_limit:
        tr_img, tr_lab = tr_img[:args.train_limit], tr_lab[:args.train_limit]
    if args.test_limit:
        te_img, te_lab = te_img[:args.test_limit], te_lab[:args.test_limit]
    # One grey plane per image; expanded to 3 identical channels per batch.
    train_x = torch.from_numpy(fm.cnv_input(tr_img)[:, :1].copy())
    test_x = torch.from_numpy(fm.cnv_input(te_img)[:, :1].copy())
    train_y, test_y = torch.from_numpy(tr_lab), torch.from_numpy(te_lab)

    model = CNV()
    info = {}
    if args.export_only:
        state = torch.load(args.checkpoint)
        model.load_state_dict(state["model"])
        info = state["info"]
    else:
        seconds, cpu_seconds = train(args, model, train_x, train_y, test_x, test_y)
        info = {"seed": args.seed, "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
                "augment": not args.no_augment, "train_images": int(train_x.shape[0]),
                "train_wall_minutes": round(seconds / 60, 1), "train_cpu_minutes": round(cpu_seconds / 60, 1)}
        torch.save({"model": model.state_dict(), "info": info}, args.checkpoint)
        print(f"checkpoint written to {args.checkpoint}")

    acc_trained, pred_trained = evaluate(model, test_x, test_y)
    moved = snap_thresholds(model)
    acc, pred = evaluate(model, test_x, test_y)
    changed = int((pred != pred_trained).sum())
    print(f"test accuracy as trained {acc_trained:.4f}; after moving {moved} BN rounding edges off the "
          f"input lattice {acc:.4f} ({changed} predictions changed)")
    info.update({"accuracy_before_snap": acc_trained, "snapped_edges": moved})

    if args.template:
        import export_qonnx  # needs python3-onnx
        export_qonnx.write(model, args.template, args.out)
        print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")
        export_qonnx.check_file(args.out, fm.cnv_input(te_img), pred.numpy())
        expected = {
            "model": os.path.basename(args.out),
            "dataset": "fashion-mnist", "split": "test",
            "images": int(test_y.shape[0]),
            "correct": int((pred == test_y).sum()),
            "accuracy": acc,
            "first_predictions": [int(v) for v in pred[:200]],
            "first_labels": [int(v) for v in test_y[:200]],
            "training": info,
        }
        with open(args.expected, "w") as f:
            f.write(format_expected(expected))
        print(f"wrote {args.expected}")


if __name__ == "__main__":
    main()
