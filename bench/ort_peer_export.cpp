// ort_peer_export MODEL OUT_DIR: the ONNX Runtime peers of a QONNX model, for
// bench/ort_peer/run_peer.sh. Speed peers, not bit-exact twins:
//  - OUT_DIR/fp32.onnx: the same topology in float32: activation quantizers (Quant,
//    BipolarQuant, Trunc) become Identity, quantized weights become their float values.
//  - OUT_DIR/qdq.onnx: the QDQ int8 form ONNX Runtime's quantization tool writes, which ORT
//    fuses into QLinearConv / QLinearMatMul: each activation quantizer becomes
//    QuantizeLinear + DequantizeLinear (int8/uint8, one scale per tensor), each Conv / MatMul
//    gets int8 per-channel weights behind DequantizeLinear with a following BatchNormalization
//    folded in (int32 bias behind DequantizeLinear).
// MODEL is a file or a zoo name. FINN's MultiThreshold has no ONNX Runtime kernel: refused.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/zoo.h"

namespace dnnsplit {
namespace {

ir::Graph load(const std::string& model) {
  if (!std::filesystem::exists(model)) {
    for (const auto& entry : zoo_list()) {
      if (entry.name == model) return import_model_from_bytes(zoo_build(model, 1), model);
    }
  }
  return import_model(model);
}

bool is_activation_quantizer(const ir::Graph& g, const ir::Node& n) {
  return (ir::is_quant_op(n) || ir::is_bipolar_quant_op(n)) && !g.tensor(n.inputs[0]).is_constant();
}

// Common clean-up: standard opset 13 (QuantizeLinear axis), no QONNX annotations, any batch.
void finish(ir::Graph& g) {
  g.opset = std::max<int64_t>(g.opset, 13);
  for (auto& t : g.tensors) {
    t.quant.reset();
    if (!t.is_constant() && !t.shape.empty()) t.shape[0] = -1;
  }
  g.remove_dead_code();
}

ir::Graph to_fp32(ir::Graph g) {
  for (auto& n : g.nodes) {
    check(!ir::is_multithreshold_op(n), n.describe() + ": MultiThreshold has no ONNX Runtime kernel");
    if (ir::is_quant_op(n) || ir::is_bipolar_quant_op(n) || ir::is_trunc_op(n)) {
      n.op_type = "Identity";
      n.domain.clear();
      n.inputs.resize(1);
      n.attributes.clear();
    }
  }
  finish(g);
  return g;
}

class QdqBuilder {
 public:
  explicit QdqBuilder(const ir::Graph& source) : g_(source) {}

  ir::Graph build() {
    std::vector<ir::Node> nodes;
    std::set<size_t> skip;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (skip.count(i)) continue;
      ir::Node n = g_.nodes[i];
      check(!ir::is_multithreshold_op(n), n.describe() + ": MultiThreshold has no ONNX Runtime kernel");
      if (is_activation_quantizer(g_, n)) {
        quantize_activation(n, nodes);
      } else if (ir::is_trunc_op(n)) {
        n.op_type = "Identity";
        n.domain.clear();
        n.inputs.resize(1);
        n.attributes.clear();
        nodes.push_back(n);
      } else if ((n.op_type == "Conv" || n.op_type == "MatMul") && n.domain.empty() && n.inputs.size() >= 2 &&
                 g_.tensor(n.inputs[1]).is_constant() && g_.tensor(n.inputs[1]).quant) {
        linear(n, nodes, skip);
      } else {
        // Scales survive ops that keep values on their grid, so a later Conv finds them.
        if ((n.op_type == "MaxPool" || n.op_type == "Flatten" || n.op_type == "Reshape" || n.op_type == "Identity") &&
            act_scale_.count(n.inputs[0])) {
          act_scale_[n.outputs[0]] = act_scale_[n.inputs[0]];
        }
        nodes.push_back(n);
      }
    }
    g_.nodes = std::move(nodes);
    finish(g_);
    return g_;
  }

 private:
  int constant(const std::string& name, Tensor t) {
    ir::TensorInfo info;
    info.name = name;
    info.type = t.type;
    info.shape = t.shape;
    info.constant = std::move(t);
    return g_.add_tensor(std::move(info));
  }
  int tensor(const std::string& name, ElemType type) {
    ir::TensorInfo info;
    info.name = name;
    info.type = type;
    return g_.add_tensor(std::move(info));
  }
  static ir::Node node(const std::string& name, const std::string& op, std::vector<int> in, std::vector<int> out) {
    ir::Node n;
    n.name = name;
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = std::move(out);
    return n;
  }

  // Quant -> QuantizeLinear + DequantizeLinear with one scale (the largest per-channel one).
  void quantize_activation(const ir::Node& q, std::vector<ir::Node>& nodes) {
    const auto& info = g_.tensor(q.outputs[0]);
    const bool is_signed = !info.quant || info.quant->is_signed || info.quant->bipolar;
    float scale = 1.0F;
    if (info.quant) scale = *std::max_element(info.quant->scale.begin(), info.quant->scale.end());
    const ElemType type = is_signed ? ElemType::kInt8 : ElemType::kUint8;
    const int s = constant(q.name + "_qdq_scale", Tensor::from_floats({}, {scale}));
    const int z = constant(q.name + "_qdq_zero", Tensor::from_ints(type, {}, {0}));
    const int codes = tensor(q.name + "_qdq_codes", type);
    nodes.push_back(node(q.name + "_q", "QuantizeLinear", {q.inputs[0], s, z}, {codes}));
    nodes.push_back(node(q.name + "_dq", "DequantizeLinear", {codes, s, z}, {q.outputs[0]}));
    act_scale_[q.outputs[0]] = scale;
  }

  // Conv / MatMul (+ BatchNormalization folded) with int8 per-channel weights.
  void linear(ir::Node n, std::vector<ir::Node>& nodes, std::set<size_t>& skip) {
    const Tensor& w = *g_.tensor(n.inputs[1]).constant;
    const bool conv = n.op_type == "Conv";
    const int64_t channels = conv ? w.shape[0] : w.shape.back();
    const int64_t per = w.numel() / channels;
    auto at = [&](int64_t oc, int64_t k) { return conv ? oc * per + k : k * channels + oc; };
    std::vector<double> wf(static_cast<size_t>(w.numel()));
    for (int64_t i = 0; i < w.numel(); ++i) wf[static_cast<size_t>(i)] = w.f32[static_cast<size_t>(i)];
    std::vector<double> bias(static_cast<size_t>(channels), 0.0);
    bool has_bias = false;
    if (conv && n.inputs.size() > 2 && n.inputs[2] >= 0 && g_.tensor(n.inputs[2]).is_constant()) {
      bias = g_.tensor(n.inputs[2]).constant->as_doubles();
      has_bias = true;
    }
    int out = n.outputs[0];
    const auto consumers = g_.consumers(out);
    if (consumers.size() == 1) {
      const ir::Node& bn = g_.nodes[static_cast<size_t>(consumers[0])];
      if (bn.op_type == "BatchNormalization" && bn.domain.empty() && bn.inputs.size() == 5 &&
          std::all_of(bn.inputs.begin() + 1, bn.inputs.end(), [&](int id) { return g_.tensor(id).is_constant(); })) {
        const auto gamma = g_.tensor(bn.inputs[1]).constant->as_doubles();
        const auto beta = g_.tensor(bn.inputs[2]).constant->as_doubles();
        const auto mean = g_.tensor(bn.inputs[3]).constant->as_doubles();
        const auto var = g_.tensor(bn.inputs[4]).constant->as_doubles();
        const double eps = bn.attr_float_or("epsilon", 1e-5F);
        for (int64_t oc = 0; oc < channels; ++oc) {
          const auto c = static_cast<size_t>(oc);
          const double a = gamma[c] / std::sqrt(var[c] + eps);
          for (int64_t k = 0; k < per; ++k) wf[static_cast<size_t>(at(oc, k))] *= a;
          bias[c] = (bias[c] - mean[c]) * a + beta[c];
        }
        has_bias = true;
        out = bn.outputs[0];
        skip.insert(static_cast<size_t>(consumers[0]));
      }
    }
    // Symmetric int8 per output channel.
    std::vector<float> scale(static_cast<size_t>(channels));
    std::vector<int64_t> codes(wf.size());
    for (int64_t oc = 0; oc < channels; ++oc) {
      double m = 0.0;
      for (int64_t k = 0; k < per; ++k) m = std::max(m, std::fabs(wf[static_cast<size_t>(at(oc, k))]));
      const double s = m > 0 ? m / 127.0 : 1.0;
      scale[static_cast<size_t>(oc)] = static_cast<float>(s);
      for (int64_t k = 0; k < per; ++k) {
        const auto i = static_cast<size_t>(at(oc, k));
        codes[i] = static_cast<int64_t>(std::clamp(std::nearbyint(wf[i] / s), -127.0, 127.0));
      }
    }
    const std::string base = n.name + "_qdq";
    const int wq = constant(base + "_w", Tensor::from_ints(ElemType::kInt8, w.shape, codes));
    const int ws = constant(base + "_w_scale", Tensor::from_floats({channels}, scale));
    const int wz = constant(base + "_w_zero", Tensor::from_ints(ElemType::kInt8, {channels}, std::vector<int64_t>(static_cast<size_t>(channels), 0)));
    const int wdq = tensor(base + "_w_dq", ElemType::kFloat);
    ir::Node dq = node(base + "_w_dequant", "DequantizeLinear", {wq, ws, wz}, {wdq});
    dq.attributes["axis"] = int64_t{conv ? 0 : 1};
    nodes.push_back(dq);
    n.inputs[1] = wdq;
    n.outputs[0] = out;
    const auto sx = act_scale_.find(n.inputs[0]);
    if (has_bias && conv && sx != act_scale_.end()) {
      // int32 bias on the accumulator's grid (s_x * s_w), as QLinearConv wants it.
      std::vector<int64_t> bq(static_cast<size_t>(channels));
      std::vector<float> bs(static_cast<size_t>(channels));
      for (size_t c = 0; c < bq.size(); ++c) {
        bs[c] = sx->second * scale[c];
        bq[c] = static_cast<int64_t>(std::nearbyint(bias[c] / bs[c]));
      }
      const int bqi = constant(base + "_b", Tensor::from_ints(ElemType::kInt32, {channels}, bq));
      const int bsi = constant(base + "_b_scale", Tensor::from_floats({channels}, bs));
      const int bzi = constant(base + "_b_zero", Tensor::from_ints(ElemType::kInt32, {channels}, std::vector<int64_t>(bq.size(), 0)));
      const int bdq = tensor(base + "_b_dq", ElemType::kFloat);
      ir::Node bnode = node(base + "_b_dequant", "DequantizeLinear", {bqi, bsi, bzi}, {bdq});
      bnode.attributes["axis"] = int64_t{0};
      nodes.push_back(bnode);
      n.inputs.resize(3);
      n.inputs[2] = bdq;
      nodes.push_back(n);
    } else if (has_bias) {
      std::vector<float> bf(bias.begin(), bias.end());
      if (conv) {
        n.inputs.resize(3);
        n.inputs[2] = constant(base + "_b", Tensor::from_floats({channels}, bf));
        nodes.push_back(n);
      } else {
        const int mm = tensor(base + "_mm", ElemType::kFloat);
        n.outputs[0] = mm;
        nodes.push_back(n);
        nodes.push_back(node(base + "_bias", "Add", {mm, constant(base + "_b", Tensor::from_floats({channels}, bf))}, {out}));
      }
    } else {
      nodes.push_back(n);
    }
  }

  ir::Graph g_;
  std::map<int, float> act_scale_;  // tensor id -> scale of the QDQ pair that produced it
};

}  // namespace
}  // namespace dnnsplit

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ort_peer_export MODEL OUT_DIR\n");
    return 2;
  }
  try {
    const dnnsplit::ir::Graph graph = dnnsplit::load(argv[1]);
    std::filesystem::create_directories(argv[2]);
    const std::filesystem::path dir(argv[2]);
    dnnsplit::export_model(dnnsplit::to_fp32(graph), (dir / "fp32.onnx").string());
    dnnsplit::export_model(dnnsplit::QdqBuilder(graph).build(), (dir / "qdq.onnx").string());
    std::printf("%s\n%s\n", (dir / "fp32.onnx").c_str(), (dir / "qdq.onnx").c_str());
  } catch (const dnnsplit::Error& e) {
    std::fprintf(stderr, "ort_peer_export: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
