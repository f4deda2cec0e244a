#include "model_builders.h"

#include <unistd.h>

#include <cmath>

namespace dnnsplit::cost_test {

std::filesystem::path temp_dir(const std::string& tag) {
  const auto dir = std::filesystem::temp_directory_path() / ("dnnsplit_cost_" + tag + "_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

int64_t Lcg::uniform(int64_t lo, int64_t hi) {
  state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
  const uint64_t span = static_cast<uint64_t>(hi - lo + 1);
  return lo + static_cast<int64_t>((state_ >> 33) % span);
}

ir::QuantType quant_type(int bits, bool is_signed, bool narrow, float scale) {
  ir::QuantType q;
  q.bits = bits;
  q.is_signed = is_signed;
  q.narrow = narrow;
  q.bipolar = bits == 1 && is_signed;
  q.scale = {scale};
  q.zero_point = {0.0F};
  return q;
}

int GraphBuilder::input(const std::string& name, Shape shape, std::optional<ir::QuantType> quant) {
  ir::TensorInfo info;
  info.name = name;
  info.shape = std::move(shape);
  info.quant = std::move(quant);
  const int id = graph_.add_tensor(std::move(info));
  graph_.inputs.push_back(id);
  return id;
}

int GraphBuilder::constant(const std::string& name, Tensor value, std::optional<ir::QuantType> quant) {
  ir::TensorInfo info;
  info.name = name;
  info.shape = value.shape;
  info.type = value.type;
  info.constant = std::move(value);
  info.quant = std::move(quant);
  return graph_.add_tensor(std::move(info));
}

int GraphBuilder::scalar(const std::string& name, float value) {
  return constant(name + "_" + std::to_string(counter_++), Tensor::from_floats({}, {value}));
}

int GraphBuilder::node(const std::string& op, const std::vector<int>& inputs, Shape out_shape,
                       std::optional<ir::QuantType> out_quant, const std::string& domain) {
  const std::string name = op + "_" + std::to_string(counter_++);
  ir::TensorInfo out;
  out.name = name + "_out";
  out.shape = std::move(out_shape);
  out.quant = std::move(out_quant);
  const int out_id = graph_.add_tensor(std::move(out));
  ir::Node n;
  n.name = name;
  n.op_type = op;
  n.domain = domain;
  n.inputs = inputs;
  n.outputs = {out_id};
  graph_.nodes.push_back(std::move(n));
  return out_id;
}

int GraphBuilder::weights(const std::string& name, Shape shape, const std::vector<int64_t>& ints,
                          const ir::QuantType& quant) {
  const int64_t per_channel = quant.scale.size() > 1 ? shape_numel(shape) / shape[0] : 0;
  std::vector<float> values(ints.size());
  for (size_t i = 0; i < ints.size(); ++i) {
    const float s = per_channel ? quant.scale[i / static_cast<size_t>(per_channel)] : quant.scale[0];
    values[i] = static_cast<float>(ints[i]) * s;
  }
  return constant(name, Tensor::from_floats(std::move(shape), std::move(values)), quant);
}

int GraphBuilder::quant(int x, const ir::QuantType& q, Shape shape) {
  Shape scale_shape;
  if (q.scale.size() > 1) scale_shape = {1, static_cast<int64_t>(q.scale.size()), 1, 1};
  if (q.scale.size() > 1 && shape.size() == 2) scale_shape = {1, static_cast<int64_t>(q.scale.size())};
  const int scale = constant("scale_" + std::to_string(counter_++), Tensor::from_floats(scale_shape, q.scale));
  const int zero = scalar("zeropt", 0.0F);
  const int bits = scalar("bitwidth", static_cast<float>(q.bits));
  ir::QuantType out = q;
  if (q.scale.size() > 1) out.channel_axis = 1;
  const int y = node("Quant", {x, scale, zero, bits}, std::move(shape), out, "qonnx.custom_op.general");
  last().attributes["signed"] = int64_t{q.is_signed ? 1 : 0};
  last().attributes["narrow"] = int64_t{q.narrow ? 1 : 0};
  last().attributes["rounding_mode"] = std::string("ROUND");
  return y;
}

namespace {

std::vector<int64_t> random_ints(Lcg& rng, int64_t count, int64_t lo, int64_t hi) {
  std::vector<int64_t> v(static_cast<size_t>(count));
  for (auto& x : v) x = rng.uniform(lo, hi);
  return v;
}

std::vector<float> random_floats(Lcg& rng, int64_t count, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(count));
  for (auto& x : v) x = lo + (hi - lo) * static_cast<float>(rng.uniform(0, 1000)) / 1000.0F;
  return v;
}

int batch_norm(GraphBuilder& b, Lcg& rng, int x, int64_t c, const Shape& shape) {
  const int gamma =
      b.constant("bn_gamma_" + std::to_string(x), Tensor::from_floats({c}, random_floats(rng, c, 0.5F, 2.0F)));
  const int beta =
      b.constant("bn_beta_" + std::to_string(x), Tensor::from_floats({c}, random_floats(rng, c, -1.0F, 1.0F)));
  const int mean =
      b.constant("bn_mean_" + std::to_string(x), Tensor::from_floats({c}, random_floats(rng, c, -2.0F, 2.0F)));
  const int var =
      b.constant("bn_var_" + std::to_string(x), Tensor::from_floats({c}, random_floats(rng, c, 0.5F, 4.0F)));
  const int y = b.node("BatchNormalization", {x, gamma, beta, mean, var}, shape);
  b.last().attributes["epsilon"] = 1e-4F;
  return y;
}

int conv(GraphBuilder& b, int x, int w, const ConvSpec& spec, Shape out_shape) {
  const int y = b.node("Conv", {x, w}, std::move(out_shape));
  b.last().attributes["kernel_shape"] = std::vector<int64_t>{spec.kernel, spec.kernel};
  b.last().attributes["strides"] = std::vector<int64_t>{spec.stride, spec.stride};
  b.last().attributes["pads"] = std::vector<int64_t>{spec.pad, spec.pad, spec.pad, spec.pad};
  b.last().attributes["group"] = spec.group;
  return y;
}

ir::QuantType per_channel(ir::QuantType q, Lcg& rng, int64_t channels, int axis) {
  q.scale = random_floats(rng, channels, 0.01F, 0.05F);
  q.zero_point = {0.0F};
  q.channel_axis = axis;
  return q;
}

}  // namespace

ir::Graph build_cnv_w2a2(uint64_t seed) {
  Lcg rng(seed);
  GraphBuilder b;
  Shape shape{1, 3, 32, 32};
  int x = b.input("global_in", shape, quant_type(8, false, false));
  x = b.node("Div", {x, b.scalar("c255", 255.0F)}, shape);
  x = b.node("Mul", {x, b.scalar("c2", 2.0F)}, shape);
  x = b.node("Sub", {x, b.scalar("c1", 1.0F)}, shape);
  x = b.quant(x, quant_type(8, true, false, 1.0F / 128.0F), shape);
  const ir::QuantType w2 = quant_type(2, true, true);
  const ir::QuantType a2 = quant_type(2, true, true);
  struct Block {
    int64_t out;
    bool pool;
  };
  const Block blocks[] = {{64, false}, {64, true}, {128, false}, {128, true}, {256, false}, {256, false}};
  int64_t cin = 3;
  int64_t h = 32;
  for (const auto& blk : blocks) {
    const Shape wshape{blk.out, cin, 3, 3};
    const int w = b.weights("conv_w_" + std::to_string(x), wshape, random_ints(rng, shape_numel(wshape), -1, 1), w2);
    h -= 2;
    shape = {1, blk.out, h, h};
    x = conv(b, x, w, {blk.out, 3}, shape);
    x = batch_norm(b, rng, x, blk.out, shape);
    x = b.quant(x, a2, shape);
    if (blk.pool) {
      h /= 2;
      shape = {1, blk.out, h, h};
      x = b.node("MaxPool", {x}, shape);
      b.last().attributes["kernel_shape"] = std::vector<int64_t>{2, 2};
      b.last().attributes["strides"] = std::vector<int64_t>{2, 2};
    }
    cin = blk.out;
  }
  x = b.node("Flatten", {x}, {1, 256});
  int64_t k = 256;
  for (int64_t n : {512, 512}) {
    const int w = b.weights("fc_w_" + std::to_string(x), {k, n}, random_ints(rng, k * n, -1, 1), w2);
    x = b.node("MatMul", {x, w}, {1, n});
    x = batch_norm(b, rng, x, n, {1, n});
    x = b.quant(x, a2, {1, n});
    k = n;
  }
  const int w = b.weights("fc_w_last", {512, 10}, random_ints(rng, 5120, -1, 1), w2);
  x = b.node("MatMul", {x, w}, {1, 10});
  x = b.node("Mul", {x, b.scalar("tn_scale", 0.37F)}, {1, 10});
  x = b.node("Add", {x, b.scalar("tn_bias", 0.1F)}, {1, 10});
  b.output(x);
  ir::Graph g = b.take();
  g.name = "cnv_w2a2";
  return g;
}

ir::Graph build_mobilenet_v1_w4a4(uint64_t seed) {
  Lcg rng(seed);
  GraphBuilder b;
  Shape shape{1, 3, 224, 224};
  int x = b.input("global_in", shape, quant_type(8, false, false));
  x = b.node("Div", {x, b.scalar("c255", 255.0F)}, shape);
  const int mean = b.constant("mean", Tensor::from_floats({1, 3, 1, 1}, {0.485F, 0.456F, 0.406F}));
  x = b.node("Sub", {x, mean}, shape);
  x = b.node("Div", {x, b.scalar("std", 0.226F)}, shape);
  const ir::QuantType a4 = quant_type(4, false, false, 0.1F);
  // conv0: 3 -> 32, stride 2, no padding, 8-bit per-channel narrow weights.
  {
    const Shape wshape{32, 3, 3, 3};
    const int w = b.weights("conv0_w", wshape, random_ints(rng, shape_numel(wshape), -127, 127),
                            per_channel(quant_type(8, true, true), rng, 32, 0));
    shape = {1, 32, 111, 111};
    x = conv(b, x, w, {32, 3, 2, 0}, shape);
    x = batch_norm(b, rng, x, 32, shape);
    x = b.node("Relu", {x}, shape);
    x = b.quant(x, per_channel(a4, rng, 32, 1), shape);
  }
  struct Stage {
    int64_t out;
    int64_t stride;
  };
  const Stage stages[] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},  {512, 2}, {512, 1},
                          {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1}};
  int64_t c = 32;
  int64_t h = 111;
  for (size_t i = 0; i < std::size(stages); ++i) {
    const Stage& st = stages[i];
    const Shape dw_shape{c, 1, 3, 3};
    const int dw = b.weights("dw_w_" + std::to_string(i), dw_shape, random_ints(rng, c * 9, -7, 7),
                             per_channel(quant_type(4, true, true), rng, c, 0));
    h = (h + 2 - 3) / st.stride + 1;
    shape = {1, c, h, h};
    x = conv(b, x, dw, {c, 3, st.stride, 1, c}, shape);
    x = batch_norm(b, rng, x, c, shape);
    x = b.node("Relu", {x}, shape);
    x = b.quant(x, a4, shape);
    const Shape pw_shape{st.out, c, 1, 1};
    const int pw = b.weights("pw_w_" + std::to_string(i), pw_shape, random_ints(rng, st.out * c, -7, 7),
                             per_channel(quant_type(4, true, true), rng, st.out, 0));
    shape = {1, st.out, h, h};
    x = conv(b, x, pw, {st.out, 1}, shape);
    x = batch_norm(b, rng, x, st.out, shape);
    x = b.node("Relu", {x}, shape);
    const bool last_stage = st.out == 1024;
    x = b.quant(x, last_stage ? a4 : per_channel(a4, rng, st.out, 1), shape);
    c = st.out;
  }
  shape = {1, 1024, 1, 1};
  x = b.node("AveragePool", {x}, shape);
  b.last().attributes["kernel_shape"] = std::vector<int64_t>{7, 7};
  x = b.node("Mul", {x, b.scalar("pool_scale", 49.0F)}, shape);
  {
    const int scale = b.scalar("trunc_scale", 0.1F);
    const int zero = b.scalar("trunc_zero", 0.0F);
    const int in_bits = b.scalar("trunc_in_bits", 10.0F);
    const int out_bits = b.scalar("trunc_out_bits", 4.0F);
    x = b.node("Trunc", {x, scale, zero, in_bits, out_bits}, shape, quant_type(4, false, false, 0.1F),
               "qonnx.custom_op.general");
  }
  x = b.node("Flatten", {x}, {1, 1024});
  const int fc = b.weights("fc_w", {1024, 1000}, random_ints(rng, 1024000, -7, 7), quant_type(4, true, true, 0.02F));
  x = b.node("MatMul", {x, fc}, {1, 1000});
  const int bias = b.constant("fc_b", Tensor::from_floats({1000}, random_floats(rng, 1000, -1.0F, 1.0F)));
  x = b.node("Add", {x, bias}, {1, 1000});
  b.output(x);
  ir::Graph g = b.take();
  g.name = "mobilenet_v1_w4a4";
  return g;
}

}  // namespace dnnsplit::cost_test
