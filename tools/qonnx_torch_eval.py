"""A small QONNX interpreter on torch ops, independent of the training code: it walks the
exported graph node by node, so evaluating the written file checks the export itself.
Supports the ops the zoo's CNV/LFC/TFC-style graphs use. `dtype` float32 follows ONNX's
float32 semantics op by op; float64 is a cross-check that no result sits on a rounding edge."""
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _quant(x, scale, zeropt, bits, signed, narrow, mode):
    bits = int(bits.item())
    if signed:
        lo, hi = -(2 ** (bits - 1)) + (1 if narrow else 0), 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2 ** bits - 1 - (1 if narrow else 0)
    q = x / scale + zeropt
    q = torch.clamp(q, lo, hi)
    mode = mode.upper()
    if mode == "ROUND":
        q = torch.round(q)  # half to even
    elif mode == "FLOOR":
        q = torch.floor(q)
    elif mode == "CEIL":
        q = torch.ceil(q)
    else:
        raise ValueError(f"rounding mode {mode} not supported here")
    return (q - zeropt) * scale


def _pads(attrs, rank):
    pads = attrs.get("pads", [0] * (2 * rank))
    if any(pads[i] != pads[i + rank] for i in range(rank)):
        raise ValueError(f"asymmetric pads {pads} not supported here")
    return tuple(pads[:rank])


class Interpreter:
    def __init__(self, path, dtype=torch.float32, on_quant=None):
        """on_quant(node, x, scale, zeropt, bits, signed, narrow) is called before every Quant whose
        input is not a constant."""
        self.on_quant = on_quant
        self.model = onnx.load(path)
        self.dtype = dtype
        g = self.model.graph
        self.consts = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()).to(dtype) for i in g.initializer}
        self.input_name = [i.name for i in g.input if i.name not in self.consts][0]
        self.output_name = g.output[0].name

    def run(self, x):
        env = dict(self.consts)
        env[self.input_name] = x.to(self.dtype)
        for node in self.model.graph.node:
            ins = [env[n] if n else None for n in node.input]
            a = _attrs(node)
            op = node.op_type
            if op in ("Add", "Sub", "Mul", "Div"):
                y = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op](ins[0], ins[1])
            elif op == "Quant":
                if self.on_quant and node.input[0] not in self.consts:
                    self.on_quant(node, *ins[:4], a.get("signed", 1), a.get("narrow", 0))
                mode = a.get("rounding_mode", b"ROUND")
                y = _quant(ins[0], ins[1], ins[2], ins[3], a.get("signed", 1), a.get("narrow", 0),
                           mode.decode() if isinstance(mode, bytes) else mode)
            elif op == "BipolarQuant":
                y = torch.where(ins[0] >= 0, 1.0, -1.0).to(self.dtype) * ins[1]
            elif op == "Conv":
                k = len(ins[1].shape) - 2
                y = F.conv2d(ins[0], ins[1], ins[2] if len(ins) > 2 else None, stride=tuple(a.get("strides", [1] * k)),
                             padding=_pads(a, k), dilation=tuple(a.get("dilations", [1] * k)), groups=a.get("group", 1))
            elif op == "BatchNormalization":
                scale, bias, mean, var = ins[1:5]
                shape = [1, -1] + [1] * (ins[0].dim() - 2)
                eps = torch.tensor(a.get("epsilon", 1e-5), dtype=torch.float32).to(self.dtype)
                std = torch.sqrt(var + eps)
                y = (ins[0] - mean.view(shape)) / std.view(shape) * scale.view(shape) + bias.view(shape)
            elif op == "MaxPool":
                k = a["kernel_shape"]
                y = F.max_pool2d(ins[0], tuple(k), stride=tuple(a.get("strides", [1] * len(k))),
                                 padding=_pads(a, len(k)))
            elif op == "Relu":
                y = torch.relu(ins[0])
            elif op == "Flatten":
                axis = a.get("axis", 1)
                y = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
            elif op == "Reshape":
                shape = [int(s) for s in ins[1].tolist()]
                shape = [ins[0].shape[i] if s == 0 else s for i, s in enumerate(shape)]
                y = ins[0].reshape(shape)
            elif op == "MatMul":
                y = torch.matmul(ins[0], ins[1])
            elif op == "Transpose":
                y = ins[0].permute(*a["perm"])
            else:
                raise ValueError(f"{node.name}: op {op} not supported by this interpreter")
            env[node.output[0]] = y
        return env[self.output_name]


def predict(path, images_u8, dtype=torch.float32, batch=500):
    """Class predictions (argmax, first maximum wins) and the raw outputs."""
    interp = Interpreter(path, dtype)
    outs = []
    with torch.no_grad():
        for i in range(0, images_u8.shape[0], batch):
            outs.append(interp.run(torch.from_numpy(images_u8[i:i + batch]).to(dtype)))
    out = torch.cat(outs)
    return out.argmax(dim=1).numpy(), out.numpy()


def main():
    """Writes the predicted class of every Fashion-MNIST test image as an int64 .npy, so the C++
    engine can be compared with this independent interpreter to the image
    (`dnnsplit eval MODEL --dataset fashion-mnist --compare-predictions FILE`)."""
    import argparse

    import fashion_mnist_data as fm
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("model")
    p.add_argument("--out", required=True, help="predictions .npy (int64, one per test image)")
    p.add_argument("--data-dir", default=fm.DEFAULT_DIR)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    images, labels = fm.load("test", args.data_dir)
    pred32, _ = predict(args.model, fm.cnv_input(images), torch.float32)
    pred64, _ = predict(args.model, fm.cnv_input(images), torch.float64)
    if (pred32 != pred64).any():
        raise SystemExit(f"{args.model}: float32 and float64 disagree on {int((pred32 != pred64).sum())} images")
    np.save(args.out, pred32.astype(np.int64))
    print(f"{args.out}: {pred32.shape[0]} predictions, accuracy {(pred32 == labels).mean():.4f}")


if __name__ == "__main__":
    main()
