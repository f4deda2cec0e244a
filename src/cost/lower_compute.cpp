// lower_to_hw, compute part: convolutions (FMPadding + SWG + MVAU/VVAU, FINN's
// LowerConvsToMatMul + InferConvInpGen), matrix products, pooling and residual joins. Weight
// statistics for the bit-width minimisation are taken from the actual integer weights.
#include <algorithm>
#include <cmath>

#include "dnnsplit/error.h"
#include "layers.h"
#include "lower.h"

namespace dnnsplit::cost::detail {

namespace {

// Spatial view of an NCHW (or NCL, as H = 1) tensor shape.
struct Spatial {
  int64_t c = 0, h = 1, w = 1;
};

DataType sum_type(const DataType& t, int64_t count) {
  return DataType::smallest_for_range(t.min() * count, t.max() * count);
}

// An integer-list attribute of `count` entries, all >= `min_value` (FINN's defaults when absent).
std::vector<int64_t> ints_attr(const ir::Node& node, const char* key, size_t count, int64_t fallback, int64_t min_value,
                               const std::string& where) {
  auto v = node.attr_ints_or(key, std::vector<int64_t>(count, fallback));
  check(v.size() == count, where + ": attribute '" + key + "' must have " + std::to_string(count) + " entries, has " +
                               std::to_string(v.size()));
  for (int64_t x : v) {
    check(x >= min_value, where + ": attribute '" + key + "' has the value " + std::to_string(x));
  }
  return v;
}

}  // namespace

void Lowerer::add_weights(HwLayer& layer, int node_index, int weight_tensor, int out_axis) {
  const ir::TensorInfo& info = g_.tensor(weight_tensor);
  check(info.is_constant(), where(node_index) + ": weight input '" + info.name + "' is not a constant");
  const Tensor& t = *info.constant;
  const Shape& shape = t.shape;
  const auto values = t.as_doubles();
  auto stride_after = [&](int axis) {
    int64_t s = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) s *= shape[d];
    return s;
  };
  const int64_t outputs = shape[static_cast<size_t>(out_axis)];
  const int64_t out_stride = stride_after(out_axis);
  const std::optional<ir::QuantType>& quant = info.quant;
  const int q_axis = quant && quant->per_channel() ? quant->channel_axis : -1;
  check(q_axis < static_cast<int>(shape.size()),
        where(node_index) + ": weight '" + info.name + "' has a per-channel scale on a missing axis");
  const int64_t q_stride = q_axis >= 0 ? stride_after(q_axis) : 1;
  std::vector<int64_t> col_sum(static_cast<size_t>(outputs), 0);
  WeightStats stats;
  bool first = true;
  for (size_t i = 0; i < values.size(); ++i) {
    const auto idx = static_cast<int64_t>(i);
    double scale = 1.0;
    double zero = 0.0;
    if (quant) {
      const size_t c = q_axis >= 0 ? static_cast<size_t>((idx / q_stride) % shape[static_cast<size_t>(q_axis)]) : 0;
      scale = quant->scale.size() > 1 ? quant->scale.at(c) : quant->scale.at(0);
      zero = quant->zero_point.size() > 1 ? quant->zero_point.at(c) : quant->zero_point.at(0);
    }
    // (if/throw, not check(): the message must not be built for every weight)
    if (scale == 0.0) throw Error(where(node_index) + ": weight '" + info.name + "' has a zero scale");
    const double q = values[i] / scale + zero;
    const double r = std::nearbyint(q);
    if (std::fabs(q - r) > 1e-3 * std::max(1.0, std::fabs(r))) {
      throw Error(where(node_index) + ": weight '" + info.name + "' is not quantized (value " +
                  std::to_string(values[i]) + " is not on its integer grid); FINN needs integer weights");
    }
    const auto v = static_cast<int64_t>(r);
    stats.min = first ? v : std::min(stats.min, v);
    stats.max = first ? v : std::max(stats.max, v);
    first = false;
    col_sum[static_cast<size_t>((idx / out_stride) % outputs)] += std::abs(v);
  }
  stats.max_abs_col_sum = col_sum.empty() ? 0 : *std::max_element(col_sum.begin(), col_sum.end());
  layer.weight_type = quant ? DataType::from_quant(*quant) : DataType::smallest_for_range(stats.min, stats.max);
  layer.weights = stats;
}

int Lowerer::add_padding(const Stream& in, const std::array<int64_t, 4>& pads, const std::vector<int>& covered) {
  HwLayer pad;
  pad.op = HwOp::kFmPadding;
  pad.backend = Backend::kRtl;
  pad.channels = in.shape[1];
  pad.ifm = {in.shape.size() == 4 ? in.shape[2] : 1, in.shape.back()};
  pad.ofm = {pad.ifm[0] + pads[0] + pads[2], pad.ifm[1] + pads[1] + pads[3]};
  pad.padding = pads;
  pad.input_type = pad.output_type = *in.type;
  pad.inputs = {in.layer};
  return add_layer(std::move(pad), covered);
}

void Lowerer::lower_conv(int index) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  Stream in = input_stream(index, 0);
  const DataType itype = require_type(index, 0);
  if (in.accumulator) {
    throw Error(where(index) + ": consumes the raw accumulator of " + hw_op_name(hw_.layers[in.layer].op) +
                "; FINN needs a quantizer between two convolutions or matrix products");
  }
  const int x = node.inputs[0];
  check(node.inputs.size() >= 2 && is_constant(node.inputs[1]), where(index) + ": the weight input is not a constant");
  const int wt = node.inputs[1];
  const size_t rank = g_.tensor(x).shape.size();
  check(rank == 4 || rank == 3,
        where(index) + ": only 1D and 2D convolutions are supported, input rank is " + std::to_string(rank));
  const bool is2d = rank == 4;
  const int y = node.outputs[0];
  Spatial s{dim(index, x, 1), is2d ? dim(index, x, 2) : 1, dim(index, x, rank - 1)};
  const int64_t m = dim(index, wt, 0);
  const int64_t kh = is2d ? dim(index, wt, 2) : 1;
  const int64_t kw = dim(index, wt, rank - 1);
  const int64_t oh = is2d ? dim(index, y, 2) : 1;
  const int64_t ow = dim(index, y, rank - 1);
  const int64_t group = node.attr_int_or("group", 1);
  auto strides = ints_attr(node, "strides", rank - 2, 1, 1, where(index));
  auto dilations = ints_attr(node, "dilations", rank - 2, 1, 1, where(index));
  auto pads = ints_attr(node, "pads", 2 * (rank - 2), 0, 0, where(index));
  if (!is2d) {
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
    pads = {0, pads[0], 0, pads[1]};
  }
  const std::string auto_pad = node.attr_string_or("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const int64_t in_dims[2] = {s.h, s.w};
    const int64_t k[2] = {kh, kw};
    for (int d = 0; d < 2; ++d) {
      const int64_t out = (in_dims[d] + strides[d] - 1) / strides[d];
      const int64_t total = std::max<int64_t>(0, (out - 1) * strides[d] + (k[d] - 1) * dilations[d] + 1 - in_dims[d]);
      const int64_t small = total / 2;
      pads[d] = auto_pad == "SAME_UPPER" ? small : total - small;
      pads[d + 2] = total - pads[d];
    }
  } else {
    check(auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad.empty(),
          where(index) + ": auto_pad '" + auto_pad + "' is not supported");
    if (auto_pad == "VALID") pads = {0, 0, 0, 0};
  }
  check(pads.size() == 4, where(index) + ": pads must have 4 entries for a 2D convolution");
  const bool depthwise = group > 1 && group == s.c && m == s.c && dim(index, wt, 1) == 1;
  check(group == 1 || depthwise, where(index) + ": grouped convolution (group " + std::to_string(group) +
                                     ") other than depthwise has no FINN hardware layer");

  std::vector<int> covered = in.pending;
  int prev = in.layer;
  const std::array<int64_t, 4> pad4{pads[0], pads[1], pads[2], pads[3]};
  const bool padded = std::any_of(pad4.begin(), pad4.end(), [](int64_t p) { return p != 0; });
  int64_t ph = s.h;
  int64_t pw = s.w;
  if (padded) {
    Stream padded_in = in;
    padded_in.shape = {1, s.c, s.h, s.w};
    prev = add_padding(padded_in, pad4, covered);
    covered.clear();
    ph += pad4[0] + pad4[2];
    pw += pad4[1] + pad4[3];
  }
  const bool pointwise = kh == 1 && kw == 1;
  const bool unit_stride = strides[0] == 1 && strides[1] == 1;
  if (!(pointwise && unit_stride)) {
    HwLayer win;
    win.op = (pointwise && !depthwise) ? HwOp::kDownSampler : HwOp::kSwg;
    win.backend = win.op == HwOp::kSwg ? Backend::kRtl : Backend::kHls;
    win.channels = s.c;
    win.kernel = {kh, kw};
    win.ifm = {ph, pw};
    win.ofm = {oh, ow};
    win.stride = {strides[0], strides[1]};
    win.dilation = {dilations[0], dilations[1]};
    win.depthwise = depthwise;
    win.input_type = win.output_type = itype;
    win.folding.ram_style = RamStyle::kDistributed;  // ConvolutionInputGenerator default
    win.inputs = {prev};
    prev = add_layer(std::move(win), covered);
    covered.clear();
  }
  HwLayer compute;
  compute.op = depthwise ? HwOp::kVvau : HwOp::kMvau;
  compute.input_type = itype;
  compute.kernel = {kh, kw};
  compute.ifm = {ph, pw};
  compute.ofm = {oh, ow};
  compute.num_vectors = oh * ow;
  compute.channels = s.c;
  compute.mw = kh * kw * (depthwise ? 1 : s.c);
  compute.mh = m;
  compute.inputs = {prev};
  add_weights(compute, index, wt, 0);
  compute.output_type = accumulator_type(compute);
  covered.push_back(index);
  Stream out;
  out.type = compute.output_type;
  out.accumulator = true;
  out.layer = add_layer(std::move(compute), covered);
  set_output(y, std::move(out));
}

void Lowerer::lower_matmul(int index, bool gemm) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  check(node.inputs.size() >= 2 && !is_constant(node.inputs[0]) && is_constant(node.inputs[1]),
        where(index) + ": only activation x constant weight products map to an MVAU");
  Stream in = input_stream(index, 0);
  const DataType itype = require_type(index, 0);
  if (in.accumulator) {
    throw Error(where(index) + ": consumes the raw accumulator of " + hw_op_name(hw_.layers[in.layer].op) +
                "; FINN needs a quantizer between two convolutions or matrix products");
  }
  const int x = node.inputs[0];
  const int wt = node.inputs[1];
  const Shape& xs = g_.tensor(x).shape;
  check(!xs.empty(), where(index) + ": input has no shape");
  const bool trans_b = gemm && node.attr_int_or("transB", 0) != 0;
  check(!gemm || node.attr_int_or("transA", 0) == 0, where(index) + ": transA is not supported");
  check(g_.tensor(wt).shape.size() == 2, where(index) + ": weight must be a matrix");
  const int64_t k = dim(index, x, xs.size() - 1);
  const int64_t wk = dim(index, wt, trans_b ? 1 : 0);
  const int64_t n = dim(index, wt, trans_b ? 0 : 1);
  check(k == wk,
        where(index) + ": input width " + std::to_string(k) + " does not match weight rows " + std::to_string(wk));
  int64_t vectors = 1;
  for (size_t d = 0; d + 1 < xs.size(); ++d) vectors *= dim(index, x, d);
  HwLayer mvau;
  mvau.op = HwOp::kMvau;
  mvau.input_type = itype;
  mvau.mw = k;
  mvau.mh = n;
  mvau.num_vectors = vectors;
  mvau.inputs = {in.layer};
  add_weights(mvau, index, wt, trans_b ? 0 : 1);
  mvau.output_type = accumulator_type(mvau);
  std::vector<int> covered = in.pending;
  covered.push_back(index);
  Stream out;
  out.type = mvau.output_type;
  out.accumulator = true;
  out.layer = add_layer(std::move(mvau), covered);
  set_output(node.outputs[0], std::move(out));
}

void Lowerer::lower_maxpool(int index) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  Stream in = input_stream(index, 0);
  const DataType itype = require_type(index, 0);
  const int x = node.inputs[0];
  const int y = node.outputs[0];
  check(g_.tensor(x).shape.size() == 4, where(index) + ": only 2D max pooling is supported");
  const Spatial s{dim(index, x, 1), dim(index, x, 2), dim(index, x, 3)};
  check(node.has_attr("kernel_shape"), where(index) + ": attribute 'kernel_shape' is missing");
  const auto kernel = ints_attr(node, "kernel_shape", 2, 0, 1, where(index));
  const auto strides = ints_attr(node, "strides", 2, 1, 1, where(index));
  const auto pads = ints_attr(node, "pads", 4, 0, 0, where(index));
  const auto dilations = ints_attr(node, "dilations", 2, 1, 1, where(index));
  check(dilations[0] == 1 && dilations[1] == 1, where(index) + ": dilated max pooling is not supported");
  const int64_t oh = dim(index, y, 2);
  const int64_t ow = dim(index, y, 3);
  const bool no_pad = std::all_of(pads.begin(), pads.end(), [](int64_t p) { return p == 0; });
  Stream out;
  out.type = itype;
  out.pending = in.pending;  // affine ops move past the max pool into the next thresholds
  out.per_channel = in.per_channel;
  if (kernel[0] == strides[0] && kernel[1] == strides[1] && no_pad && s.h % kernel[0] == 0 && s.w % kernel[1] == 0) {
    HwLayer pool;  // InferStreamingMaxPool
    pool.op = HwOp::kStreamingMaxPool;
    pool.channels = s.c;
    pool.ifm = {s.h, s.w};
    pool.ofm = {oh, ow};
    pool.kernel = {kernel[0], kernel[1]};
    pool.stride = {strides[0], strides[1]};
    pool.input_type = pool.output_type = itype;
    pool.inputs = {in.layer};
    out.layer = add_layer(std::move(pool), {index});
  } else {
    int prev = in.layer;
    int64_t ph = s.h;
    int64_t pw = s.w;
    if (!no_pad) {
      Stream padded_in = in;
      padded_in.shape = {1, s.c, s.h, s.w};
      prev = add_padding(padded_in, {pads[0], pads[1], pads[2], pads[3]}, {});
      ph += pads[0] + pads[2];
      pw += pads[1] + pads[3];
    }
    HwLayer win;  // InferPool: depthwise SWG + Pool
    win.op = HwOp::kSwg;
    win.backend = Backend::kRtl;
    win.channels = s.c;
    win.kernel = {kernel[0], kernel[1]};
    win.ifm = {ph, pw};
    win.ofm = {oh, ow};
    win.stride = {strides[0], strides[1]};
    win.depthwise = true;
    win.input_type = win.output_type = itype;
    win.folding.ram_style = RamStyle::kDistributed;
    win.inputs = {prev};
    prev = add_layer(std::move(win), {});
    HwLayer pool;
    pool.op = HwOp::kPool;
    pool.channels = s.c;
    pool.kernel = {kernel[0], kernel[1]};
    pool.ofm = {oh, ow};
    pool.input_type = pool.output_type = itype;
    pool.inputs = {prev};
    out.layer = add_layer(std::move(pool), {index});
  }
  set_output(y, std::move(out));
}

void Lowerer::lower_average_pool(int index, bool global) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  Stream in = input_stream(index, 0);
  const DataType itype = require_type(index, 0);
  const int x = node.inputs[0];
  const int y = node.outputs[0];
  check(g_.tensor(x).shape.size() == 4, where(index) + ": only 2D average pooling is supported");
  const Spatial s{dim(index, x, 1), dim(index, x, 2), dim(index, x, 3)};
  Stream out;
  out.pending = in.pending;
  out.per_channel = in.per_channel;
  if (global) {
    HwLayer pool;  // InferGlobalAccPoolLayer: sum here, the 1/N scale stays pending
    pool.op = HwOp::kGlobalAccPool;
    pool.channels = s.c;
    pool.num_vectors = s.h * s.w;
    pool.input_type = itype;
    pool.output_type = sum_type(itype, s.h * s.w);
    pool.inputs = {in.layer};
    out.type = pool.output_type;
    out.layer = add_layer(std::move(pool), {index});
    set_output(y, std::move(out));
    return;
  }
  check(node.has_attr("kernel_shape"), where(index) + ": attribute 'kernel_shape' is missing");
  const auto kernel = ints_attr(node, "kernel_shape", 2, 0, 1, where(index));
  const auto strides = ints_attr(node, "strides", 2, 1, 1, where(index));
  const auto pads = ints_attr(node, "pads", 4, 0, 0, where(index));
  const int64_t oh = dim(index, y, 2);
  const int64_t ow = dim(index, y, 3);
  int prev = in.layer;
  int64_t ph = s.h;
  int64_t pw = s.w;
  if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; })) {
    Stream padded_in = in;
    padded_in.shape = {1, s.c, s.h, s.w};
    prev = add_padding(padded_in, {pads[0], pads[1], pads[2], pads[3]}, {});
    ph += pads[0] + pads[2];
    pw += pads[1] + pads[3];
  }
  HwLayer win;  // InferPool: depthwise SWG + Pool (QuantAvgPool2d)
  win.op = HwOp::kSwg;
  win.backend = Backend::kRtl;
  win.channels = s.c;
  win.kernel = {kernel[0], kernel[1]};
  win.ifm = {ph, pw};
  win.ofm = {oh, ow};
  win.stride = {strides[0], strides[1]};
  win.depthwise = true;
  win.input_type = win.output_type = itype;
  win.folding.ram_style = RamStyle::kDistributed;
  win.inputs = {prev};
  prev = add_layer(std::move(win), {});
  HwLayer pool;
  pool.op = HwOp::kPool;
  pool.channels = s.c;
  pool.kernel = {kernel[0], kernel[1]};
  pool.ofm = {oh, ow};
  pool.input_type = itype;
  pool.output_type = sum_type(itype, kernel[0] * kernel[1]);  // until a Trunc narrows it
  pool.inputs = {prev};
  out.type = pool.output_type;
  out.layer = add_layer(std::move(pool), {index});
  set_output(y, std::move(out));
}

void Lowerer::lower_add_streams(int index) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  const Stream a = input_stream(index, 0);
  const Stream b = input_stream(index, 1);
  const DataType ta = require_type(index, 0);
  const DataType tb = require_type(index, 1);
  // A branch may end in a raw accumulator (conv + BN, no quantizer before the join, as in the
  // zoo's ResNet-8): its MVAU then keeps no thresholds and the adder takes the accumulator; the
  // branches' affine ops go into the thresholds after the join (FINN needs matching scales there).
  const Shape& ys = g_.tensor(node.outputs[0]).shape;
  HwLayer add;
  add.op = HwOp::kAddStreams;
  add.channels = ys.size() >= 2 ? ys[1] : 1;
  int64_t pixels = 1;
  for (size_t d = 2; d < ys.size(); ++d) pixels *= ys[d];
  add.num_vectors = pixels;
  add.input_type = ta;
  add.output_type = DataType::smallest_for_range(ta.min() + tb.min(), ta.max() + tb.max());
  add.inputs = {a.layer, b.layer};
  std::vector<int> covered = a.pending;
  covered.insert(covered.end(), b.pending.begin(), b.pending.end());
  covered.push_back(index);
  Stream out;
  out.type = add.output_type;
  out.layer = add_layer(std::move(add), covered);
  set_output(node.outputs[0], std::move(out));
}

}  // namespace dnnsplit::cost::detail
