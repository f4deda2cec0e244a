// Conv / MatMul / Gemm that the reference runs on its exact integer path but no fast kernel
// covers (grouped conv, batched MatMul, transposed A, ...). The node evaluator only knows the
// float path, so it is handed the integer codes as float64 tensors: their products and sums are
// exact in double (checked bound < 2^53), which gives the reference's int64 sum S; the step then
// applies the reference's formula y = float32(S * (s_act * s_w[oc]) + bias[oc]) itself.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "compiler.h"
#include "dnnsplit/error.h"

namespace dnnsplit::kernels {

namespace {

struct ExactLinearSpec {
  ReferenceSpec ref;          // the node, its data input slot and output slot
  ir::Node sum_node;          // data and weight only; Gemm without alpha / beta
  Tensor weight_codes;        // float64 codes in the weight's layout
  double act_scale = 1.0;
  int64_t act_min = 0, act_max = 0;
  std::string act_what;       // for off-grid errors
  std::vector<double> scale;  // s_act * s_w, size 1 or one per output channel
  std::vector<double> bias;   // Conv bias / Gemm beta * C per output channel; empty: none
  double alpha = 1.0;
  bool conv = false, gemm = false;
};

class ExactLinearStep final : public Step {
 public:
  ExactLinearStep(StepInfo info, ExactLinearSpec spec) : Step(std::move(info)), s_(std::move(spec)) {}
  void run_image(Workspace& ws, const RunContext&, int64_t j) const override {
    const Tensor& x = ws.tensor(s_.ref.input_slots[0], j);
    check(x.type == ElemType::kFloat, s_.act_what + " must be float32 for the integer path");
    Tensor codes = Tensor::zeros(ElemType::kDouble, x.shape);
    for (size_t i = 0; i < x.f32.size(); ++i) {
      const double q = std::nearbyint(static_cast<double>(x.f32[i]) / s_.act_scale);
      if (!(q >= static_cast<double>(s_.act_min) && q <= static_cast<double>(s_.act_max)) ||
          static_cast<float>(q * s_.act_scale) != x.f32[i]) {
        std::ostringstream msg;
        msg << s_.act_what << " value " << x.f32[i] << " at flat index " << i << " is not on its grid with scale "
            << s_.act_scale;
        throw Error(msg.str());
      }
      codes.f64[i] = q;
    }
    auto sums = (*s_.ref.evaluate)(s_.sum_node, {&codes, &s_.weight_codes});
    const Tensor& sum = sums.at(0);
    check(sum.type == ElemType::kDouble, s_.sum_node.describe() + ": integer sums did not come back as float64");
    const Shape& shape = sum.shape;
    const int64_t channels = s_.conv ? shape.at(1) : shape.back();
    const int64_t inner = s_.conv ? shape_numel(shape) / (shape.at(0) * channels) : 1;
    Tensor y = Tensor::zeros(ElemType::kFloat, shape);
    for (size_t i = 0; i < sum.f64.size(); ++i) {
      const auto ch = static_cast<size_t>((static_cast<int64_t>(i) / inner) % channels);
      const double scaled = sum.f64[i] * s_.scale[s_.scale.size() == 1 ? 0 : ch];
      const double b = s_.bias.empty() ? 0.0 : s_.bias[ch];
      y.f32[i] = static_cast<float>(s_.gemm ? s_.alpha * scaled + b : scaled + b);
    }
    ws.tensor(s_.ref.output_slots[0], j) = std::move(y);
  }

 private:
  ExactLinearSpec s_;
};

}  // namespace

bool Compiler::exact_reference(size_t index) {
  const ir::Node& node = graph_.nodes[index];
  if (node.outputs.size() != 1 || node.outputs[0] < 0) return false;
  const auto& dinfo = graph_.tensor(node.inputs[0]);
  const auto& winfo = graph_.tensor(node.inputs[1]);
  const Tensor* w = constant(node.inputs[1]);
  const auto& dq = *dinfo.quant;
  const auto& wq = *winfo.quant;
  ExactLinearSpec spec;
  spec.conv = node.op_type == "Conv";
  spec.gemm = node.op_type == "Gemm";
  spec.act_scale = dq.scale[0];
  spec.act_min = dq.min_int();
  spec.act_max = dq.max_int();
  spec.act_what = node.describe() + " input '" + dinfo.name + "' (" + dq.finn_name() + ")";
  // Weight codes and the largest |S| they allow, which must stay exact in double.
  const int64_t axis = spec.conv ? 0 : spec.gemm ? (node.attr_int_or("transB", 0) != 0 ? 0 : 1)
                                                 : static_cast<int64_t>(w->shape.size()) - 1;
  if (axis < 0 || static_cast<size_t>(axis) >= w->shape.size()) return false;
  const int64_t n = w->shape[static_cast<size_t>(axis)];
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < w->shape.size(); ++d) inner *= w->shape[d];
  spec.weight_codes = Tensor::zeros(ElemType::kDouble, w->shape);
  double wabs = 0.0;
  for (size_t i = 0; i < w->f32.size(); ++i) {
    const auto ch = static_cast<size_t>((static_cast<int64_t>(i) / inner) % n);
    const double sw = wq.scale.size() == 1 ? wq.scale[0] : wq.scale[ch];
    const double q = std::nearbyint(static_cast<double>(w->f32[i]) / sw);
    if (static_cast<float>(q * sw) != w->f32[i]) return false;
    spec.weight_codes.f64[i] = q;
    wabs += std::fabs(q);
  }
  const double amax = std::max(std::fabs(static_cast<double>(spec.act_min)), std::fabs(static_cast<double>(spec.act_max)));
  if (wabs * amax >= 0x1p52) return false;
  for (int64_t ch = 0; ch < (wq.scale.size() == 1 ? 1 : n); ++ch) {
    spec.scale.push_back(spec.act_scale * static_cast<double>(wq.scale[static_cast<size_t>(ch)]));
  }
  const bool has_extra = node.inputs.size() > 2 && node.inputs[2] >= 0;
  if (has_extra) {
    const Tensor* extra = constant(node.inputs[2]);
    if (extra == nullptr || !extra->is_float() || (spec.conv && extra->numel() != n) || node.op_type == "MatMul") return false;
    if (spec.gemm && extra->numel() != 1 && (extra->numel() != n || extra->shape.size() > 2 || (extra->shape.size() == 2 && extra->shape[0] != 1))) {
      return false;
    }
    const double beta = spec.gemm ? node.attr_float_or("beta", 1.0F) : 1.0;
    for (int64_t ch = 0; ch < n; ++ch) spec.bias.push_back(beta * extra->at(extra->numel() == 1 ? 0 : ch));
  }
  if (spec.gemm) spec.alpha = node.attr_float_or("alpha", 1.0F);
  spec.sum_node = node;
  spec.sum_node.inputs.resize(2);
  spec.sum_node.attributes.erase("alpha");
  spec.sum_node.attributes.erase("beta");
  spec.ref.node = &node;
  spec.ref.evaluate = &evaluate_;
  spec.ref.input_slots = {as_tensor(node.inputs[0])};
  const int slot = new_tensor_slot();
  spec.ref.output_slots = {slot};
  const int out = node.outputs[0];
  values_[static_cast<size_t>(out)].kind = ValueRef::kTensor;
  values_[static_cast<size_t>(out)].slot = slot;
  tensor_slot_[static_cast<size_t>(out)] = slot;
  const int64_t macs = reference_macs(node);
  slow_macs_ += macs;
  add_step(std::make_unique<ExactLinearStep>(StepInfo{node.name, "reference", "", macs}, std::move(spec)));
  return true;
}

}  // namespace dnnsplit::kernels
