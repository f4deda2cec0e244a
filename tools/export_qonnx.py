"""Writes a trained cnv_w2a2_torch.CNV into the graph `dnnsplit zoo build cnv-w2a2` produces:
the zoo file is the template, and only initializer values change (names, shapes, nodes and
quantizer scales stay). Then checks the written file with an independent interpreter."""
import numpy as np
import onnx
import torch
from onnx import numpy_helper

import qonnx_torch_eval


def _producer(graph):
    return {o: n for n in graph.node for o in n.output}


def _weight_initializer(graph, inits, producer, node):
    """Name of the float initializer behind the weight Quant feeding `node` (input 1)."""
    quant = producer.get(node.input[1])
    if quant is None or quant.op_type != "Quant" or quant.input[0] not in inits:
        raise ValueError(f"template node {node.name}: weight is not a Quant of an initializer")
    for i, expected in ((1, 1.0), (2, 0.0), (3, 2.0)):
        value = numpy_helper.to_array(inits[quant.input[i]])
        if value.size != 1 or float(value) != expected:
            raise ValueError(f"template {quant.name}: input {i} is {value}, expected {expected}")
    return quant.input[0]


def write(model, template_path, out_path):
    m = onnx.load(template_path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    producer = _producer(g)
    convs = [n for n in g.node if n.op_type == "Conv"]
    matmuls = [n for n in g.node if n.op_type == "MatMul"]
    bns = [n for n in g.node if n.op_type == "BatchNormalization"]
    if len(convs) != len(model.convs) or len(matmuls) != len(model.fcs) + 1 or \
            len(bns) != len(model.conv_bns) + len(model.fc_bns):
        raise ValueError(f"template {template_path}: {len(convs)} Conv, {len(matmuls)} MatMul, {len(bns)} "
                         "BatchNormalization do not match CNV")
    values = {}
    for node, layer in zip(convs, model.convs):
        values[_weight_initializer(g, inits, producer, node)] = layer.weight.detach().numpy()
    for node, layer in zip(matmuls, list(model.fcs) + [model.classifier]):
        values[_weight_initializer(g, inits, producer, node)] = layer.weight.detach().numpy().T
    for node, bn in zip(bns, list(model.conv_bns) + list(model.fc_bns)):
        eps = [a.f for a in node.attribute if a.name == "epsilon"]
        if not eps or abs(eps[0] - bn.eps) > 1e-9:
            raise ValueError(f"template {node.name}: epsilon {eps} differs from the trained {bn.eps}")
        for name, tensor in zip(node.input[1:5], (bn.weight, bn.bias, bn.running_mean, bn.running_var)):
            values[name] = tensor.detach().numpy()
    # TensorNorm: the Mul and Add by scalars after the last MatMul.
    after = [n for n in g.node if n.input and n.input[0] == matmuls[-1].output[0]]
    if len(after) != 1 or after[0].op_type != "Mul":
        raise ValueError("template: expected the folded TensorNorm Mul after the last MatMul")
    mul_node = after[0]
    add_node = [n for n in g.node if n.input and n.input[0] == mul_node.output[0]]
    if len(add_node) != 1 or add_node[0].op_type != "Add" or add_node[0].output[0] != g.output[0].name:
        raise ValueError("template: expected the TensorNorm Add as the graph output")
    mul, add = model.tensor_norm.folded()
    values[mul_node.input[1]] = mul.numpy()
    values[add_node[0].input[1]] = add.numpy()

    for name, value in values.items():
        old = inits[name]
        value = np.array(value, dtype=np.float32)  # keeps 0-d scalars 0-d
        if tuple(old.dims) != value.shape or old.data_type != onnx.TensorProto.FLOAT:
            raise ValueError(f"initializer {name}: template shape {tuple(old.dims)}, trained {value.shape}")
        old.CopyFrom(numpy_helper.from_array(value, name))
    m.doc_string = ("CNV-W2A2 trained on Fashion-MNIST (28x28 zero-padded to 32x32, grey replicated to 3 "
                    "channels) by tools/train_cnv_fashion.py; structure of `dnnsplit zoo build cnv-w2a2`")
    onnx.checker.check_model(m)
    onnx.save(m, out_path)


def _margins(path, images_u8, batch=500):
    """Smallest distance, over all test images, of an activation Quant's x/scale to a rounding
    edge it could fall on (a half-integer strictly inside its clamp range), per Quant kind."""
    worst = {}

    def watch(node, x, scale, zeropt, bits, signed, narrow):
        q = x / scale + zeropt
        b = int(bits.item())
        lo = -(2 ** (b - 1)) + (1 if narrow else 0) if signed else 0
        hi = 2 ** (b - 1) - 1 if signed else 2 ** b - 1 - (1 if narrow else 0)
        inside = q[(q > lo) & (q < hi)]
        if inside.numel():
            d = (inside - torch.floor(inside) - 0.5).abs().min().item()
            key = node.name.split("_")[0] if b == 8 else f"{b}-bit"
            worst[key] = min(worst.get(key, 1.0), d)

    interp = qonnx_torch_eval.Interpreter(path, torch.float64, on_quant=watch)
    with torch.no_grad():
        for i in range(0, images_u8.shape[0], batch):
            interp.run(torch.from_numpy(images_u8[i:i + batch]).double())
    return worst


def check_file(path, images_u8, torch_pred):
    pred32, out32 = qonnx_torch_eval.predict(path, images_u8, torch.float32)
    pred64, _ = qonnx_torch_eval.predict(path, images_u8, torch.float64)
    top2 = np.sort(out32, axis=1)[:, -2:]
    ties = int((top2[:, 0] == top2[:, 1]).sum())
    print(f"file check: interpreter float32 vs trained torch model: {int((pred32 != torch_pred).sum())} "
          f"disagreements; float32 vs float64: {int((pred32 != pred64).sum())}; images whose two best "
          f"scores tie (first index wins): {ties}")
    for key, d in sorted(_margins(path, images_u8).items()):
        print(f"  activation Quant {key}: smallest distance of x/scale to a rounding edge {d:.6f}")
    if (pred32 != torch_pred).any() or (pred32 != pred64).any():
        raise SystemExit("the exported file does not reproduce the trained model")
