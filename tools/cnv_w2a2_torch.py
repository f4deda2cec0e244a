"""CNV-W2A2 in plain PyTorch with Brevitas-style quantization-aware training (finn-facts (b)):
constant-scale (1.0) ternary weights and activations, signed narrow 2-bit, round half even,
straight-through estimators; 8-bit input quantizer with scale 2^-7; BatchNorm eps 1e-4;
TensorNorm at the end. In eval mode every op follows the exported QONNX graph's float32
semantics (Quant: clamp(x/scale) then round half even; BatchNormalization as ONNX computes it;
TensorNorm as the folded Mul then Add)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-4
INPUT_SCALE = 2.0 ** -7
CONV_CHANNELS = [(64, False), (64, True), (128, False), (128, True), (256, False), (256, False)]
FC_FEATURES = [512, 512]


def ternary_ste(x):
    """Quant(scale 1, zero point 0, 2 bits, signed, narrow): values {-1, 0, +1}. Gradient passes
    through inside [-1, 1] and is zero outside (Brevitas' TensorClamp + round STE)."""
    xc = torch.clamp(x, -1.0, 1.0)
    return xc + (torch.round(xc) - xc).detach()


def ternary(x):
    return torch.round(torch.clamp(x, -1.0, 1.0))


class TernaryAct(nn.Module):
    def forward(self, x):
        return ternary_ste(x) if self.training else ternary(x)


class OnnxBatchNorm(nn.BatchNorm2d):
    """BatchNorm whose inference path is ONNX's: (x - mean) / sqrt(var + eps) * gamma + beta."""

    def _check_input_dim(self, x):
        if x.dim() not in (2, 4):
            raise ValueError(f"expected 2-D or 4-D input, got {x.dim()}-D")

    def forward(self, x):
        if self.training:
            return super().forward(x)
        shape = [1, -1] + [1] * (x.dim() - 2)
        std = torch.sqrt(self.running_var + torch.tensor(self.eps, dtype=torch.float32))
        return (x - self.running_mean.view(shape)) / std.view(shape) * self.weight.view(shape) + self.bias.view(shape)


class TernaryConv(nn.Conv2d):
    def __init__(self, cin, cout):
        super().__init__(cin, cout, 3, padding=0, bias=False)
        nn.init.uniform_(self.weight, -1.0, 1.0)  # as Brevitas' CNV

    def forward(self, x):
        w = ternary_ste(self.weight) if self.training else ternary(self.weight)
        return F.conv2d(x, w)


class TernaryLinear(nn.Linear):
    def __init__(self, fin, fout):
        super().__init__(fin, fout, bias=False)
        nn.init.uniform_(self.weight, -1.0, 1.0)

    def forward(self, x):
        w = ternary_ste(self.weight) if self.training else ternary(self.weight)
        # Exported as MatMul with the (in, out) weight.
        return torch.matmul(x, w.t())


class TensorNorm(nn.Module):
    """Brevitas' TensorNorm: one scalar BN over the whole tensor. Inference uses the folded
    float32 constants mul, add as the exported Mul and Add nodes."""

    def __init__(self, eps=BN_EPS, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(1))
        self.register_buffer("running_mean", torch.zeros(1))
        self.register_buffer("running_var", torch.ones(1))

    def folded(self):
        """(mul, add) as float32 scalars, computed in float64."""
        std = math.sqrt(float(self.running_var) + self.eps)
        mul = float(self.weight) / std
        add = float(self.bias) - float(self.running_mean) * mul
        return torch.tensor(mul, dtype=torch.float32), torch.tensor(add, dtype=torch.float32)

    def forward(self, x):
        if self.training:
            mean = x.mean()
            var = x.var(unbiased=False)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * x.var(unbiased=True))
            return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
        mul, add = self.folded()
        return x * mul + add


def quantize_input(x):
    """Graph prologue: Div 255, Mul 2, Sub 1, Quant 8-bit signed non-narrow scale 2^-7."""
    x = x / torch.tensor(255.0) * torch.tensor(2.0) - torch.tensor(1.0)
    q = torch.clamp(x / torch.tensor(INPUT_SCALE), -128.0, 127.0)
    return torch.round(q) * torch.tensor(INPUT_SCALE)


class CNV(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs, self.conv_bns, self.pools = nn.ModuleList(), nn.ModuleList(), []
        cin = 3
        for cout, pool in CONV_CHANNELS:
            self.convs.append(TernaryConv(cin, cout))
            self.conv_bns.append(OnnxBatchNorm(cout, eps=BN_EPS))
            self.pools.append(pool)
            cin = cout
        self.fcs, self.fc_bns = nn.ModuleList(), nn.ModuleList()
        fin = cin
        for fout in FC_FEATURES:
            self.fcs.append(TernaryLinear(fin, fout))
            self.fc_bns.append(OnnxBatchNorm(fout, eps=BN_EPS))
            fin = fout
        self.classifier = TernaryLinear(fin, 10)
        self.tensor_norm = TensorNorm()
        self.act = TernaryAct()

    def quant_layers(self):
        return list(self.convs) + list(self.fcs) + [self.classifier]

    def clip_weights(self):
        with torch.no_grad():
            for layer in self.quant_layers():
                layer.weight.clamp_(-1.0, 1.0)

    def bn_lattice(self):
        """(bn, unit, bound) per BN: its input takes values unit * integer with |value| <= bound."""
        out = []
        unit = INPUT_SCALE
        for conv, bn in zip(self.convs, self.conv_bns):
            fan_in = conv.weight[0].numel()
            out.append((bn, unit, fan_in * 1.0))
            unit = 1.0
        for fc, bn in zip(self.fcs, self.fc_bns):
            out.append((bn, 1.0, fc.weight.shape[1] * 1.0))
        return out

    def forward(self, x_uint8_values):
        x = quantize_input(x_uint8_values)
        for conv, bn, pool in zip(self.convs, self.conv_bns, self.pools):
            x = self.act(bn(conv(x)))
            if pool:
                x = F.max_pool2d(x, 2, 2)
        x = torch.flatten(x, 1)
        for fc, bn in zip(self.fcs, self.fc_bns):
            x = self.act(bn(fc(x)))
        return self.tensor_norm(self.classifier(x))


def snap_thresholds(model):
    """Reparameterise each BatchNorm so that its two rounding edges (output +-0.5, where the
    ternary code changes) sit halfway between the values its integer-lattice input can take.
    For every reachable input the codes stay those of the trained network (an input exactly
    on an edge keeps code 0, as round half even gives), but no reachable value lies within
    half a lattice step of an edge, so float32, float64 or any op order agree. Returns how many
    edges moved."""
    moved = 0
    with torch.no_grad():
        for bn, unit, bound in model.bn_lattice():
            mean = bn.running_mean.double()
            std = torch.sqrt(bn.running_var.double() + bn.eps)
            gamma, beta = bn.weight.double().clone(), bn.bias.double().clone()
            for c in range(gamma.numel()):
                a = float(gamma[c] / std[c])
                b = float(beta[c] - mean[c] * a)
                if abs(a) < 1e-12:
                    continue
                edges = {+1: (0.5 - b) / a, -1: (-0.5 - b) / a}
                toward_zero = {+1: math.copysign(1.0, edges[-1] - edges[+1]),
                               -1: math.copysign(1.0, edges[+1] - edges[-1])}
                snapped = {}
                for side, t in edges.items():
                    if abs(t) > bound + unit:
                        continue
                    k = t / unit
                    if k == math.floor(k):
                        snapped[side] = t + 0.5 * unit * toward_zero[side]
                    else:
                        snapped[side] = (math.floor(k) + 0.5) * unit
                if not snapped:
                    continue
                if len(snapped) == 2:
                    if snapped[+1] == snapped[-1]:  # no reachable input gives code 0
                        s = snapped[+1]
                        snapped[+1] = s - 0.25 * unit * toward_zero[+1]
                        snapped[-1] = s - 0.25 * unit * toward_zero[-1]
                    a2 = 1.0 / (snapped[+1] - snapped[-1])
                    b2 = 0.5 - a2 * snapped[+1]
                else:
                    side, s = next(iter(snapped.items()))
                    a2 = a
                    b2 = 0.5 * side - a * s
                gamma[c] = a2 * std[c]
                beta[c] = b2 + a2 * mean[c]
                moved += len(snapped)
            bn.weight.copy_(gamma.float())
            bn.bias.copy_(beta.float())
    return moved
