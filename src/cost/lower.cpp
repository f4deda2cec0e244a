// lower_to_hw: maps an imported graph onto the hardware layers a FINN dataflow build creates
// (convert_to_hw_layers + specialize_layers + GiveUniqueNodeNames), finn-facts.md (a)/(b).
//
// The walk follows FINN's streamlining in spirit: affine float ops (BatchNorm, scalar and
// per-channel Mul/Add/Sub/Div, Relu) and layout ops are absorbed by the next layer that consumes
// their stream, normally the thresholds that implement the following quantizer; a quantizer right
// after an MVAU/VVAU becomes its embedded thresholds (unless separate_thresholds), any other
// quantizer a Thresholding layer.
#include "lower.h"

#include <algorithm>
#include <cmath>

#include "dnnsplit/error.h"
#include "layers.h"

namespace dnnsplit::cost {

namespace detail {

namespace {

int64_t channels_of(const Shape& shape) {
  return shape.size() >= 2 ? shape[1] : (shape.empty() ? 1 : shape[0]);
}

int64_t pixels_of(const Shape& shape) {
  if (shape.size() <= 2) return 1;
  int64_t p = 1;
  for (size_t i = 2; i < shape.size(); ++i) p *= shape[i];
  return p;
}

bool is_layout_op(const std::string& op) {
  return op == "Reshape" || op == "Flatten" || op == "Transpose" || op == "Squeeze" || op == "Unsqueeze" ||
         op == "Identity" || op == "Dropout";
}

}  // namespace

Lowerer::Lowerer(const ir::Graph& graph, const LowerOptions& options) : g_(graph), opt_(options) {
  streams_.resize(g_.tensors.size());
  consumers_.assign(g_.tensors.size(), 0);
  derived_constant_.assign(g_.tensors.size(), false);
  for (const auto& node : g_.nodes) {
    for (int in : node.inputs) {
      if (in >= 0) ++consumers_[static_cast<size_t>(in)];
    }
  }
  hw_.source = g_.source_path;
  hw_.node_layer.assign(g_.nodes.size(), -1);
}

HwGraph Lowerer::run() {
  for (int in : g_.inputs) {
    const ir::TensorInfo& info = g_.tensor(in);
    Stream s;
    if (info.quant) {
      s.type = DataType::from_quant(*info.quant);
    } else if (opt_.input_type) {
      s.type = opt_.input_type;
    }
    set_output(in, s);
  }
  for (size_t i = 0; i < g_.nodes.size(); ++i) lower_node(static_cast<int>(i));
  finish_outputs();
  choose_backends();
  assign_finn_names(hw_);
  for (auto& layer : hw_.layers) std::sort(layer.ir_nodes.begin(), layer.ir_nodes.end());
  return std::move(hw_);
}

std::string Lowerer::where(int node_index) const {
  const std::string prefix = g_.source_path.empty() ? "" : g_.source_path + ": ";
  return prefix + g_.nodes[static_cast<size_t>(node_index)].describe();
}

bool Lowerer::is_constant(int tensor_id) const {
  return tensor_id >= 0 && (g_.tensor(tensor_id).is_constant() || derived_constant_[static_cast<size_t>(tensor_id)]);
}

int64_t Lowerer::dim(int node_index, int tensor_id, size_t axis) const {
  const ir::TensorInfo& info = g_.tensor(tensor_id);
  check(axis < info.shape.size() && info.shape[axis] > 0,
        where(node_index) + ": tensor '" + info.name + "' has no static shape " + shape_to_string(info.shape));
  return info.shape[axis];
}

const Stream& Lowerer::input_stream(int node_index, size_t slot) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(node_index)];
  check(slot < node.inputs.size() && node.inputs[slot] >= 0,
        where(node_index) + ": input " + std::to_string(slot) + " is missing");
  const int t = node.inputs[slot];
  const Stream& s = streams_[static_cast<size_t>(t)];
  check(s.valid,
        where(node_index) + ": input '" + g_.tensor(t).name + "' comes from a node that was not lowered to hardware");
  return s;
}

DataType Lowerer::require_type(int node_index, size_t slot) {
  const Stream& s = input_stream(node_index, slot);
  const std::string name = g_.tensor(g_.nodes[static_cast<size_t>(node_index)].inputs[slot]).name;
  check(!s.float_tail, where(node_index) + ": input '" + name + "' comes after an op FINN cannot build in hardware");
  check(s.type.has_value(), where(node_index) + ": input '" + name +
                                "' has no integer type; FINN builds only quantized streams (quantize the tensor "
                                "or annotate the graph input, e.g. as UINT8)");
  return *s.type;
}

void Lowerer::cover(int layer, const std::vector<int>& nodes) {
  for (int n : nodes) {
    if (n < 0 || hw_.node_layer[static_cast<size_t>(n)] >= 0) continue;
    hw_.node_layer[static_cast<size_t>(n)] = layer;
    hw_.layers[static_cast<size_t>(layer)].ir_nodes.push_back(n);
  }
}

int Lowerer::add_layer(HwLayer layer, const std::vector<int>& covered) {
  hw_.layers.push_back(std::move(layer));
  const int index = static_cast<int>(hw_.layers.size()) - 1;
  cover(index, covered);
  return index;
}

void Lowerer::set_output(int tensor_id, Stream stream) {
  stream.valid = true;
  stream.shape = g_.tensor(tensor_id).shape;
  if (consumers_[static_cast<size_t>(tensor_id)] >= 2 && !stream.float_tail) {
    // InsertDuplicateStreams: a stream read by several layers is copied in hardware.
    HwLayer dup;
    dup.op = HwOp::kDuplicateStreams;
    dup.channels = channels_of(stream.shape);
    dup.num_vectors = pixels_of(stream.shape);
    if (stream.type) dup.input_type = dup.output_type = *stream.type;
    dup.inputs = {stream.layer};
    stream.layer = add_layer(std::move(dup), {});
  }
  streams_[static_cast<size_t>(tensor_id)] = std::move(stream);
}

void Lowerer::pass_through(int node_index, bool affine, bool per_channel) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(node_index)];
  size_t slot = 0;
  while (slot + 1 < node.inputs.size() && is_constant(node.inputs[slot])) ++slot;
  Stream out = input_stream(node_index, slot);
  out.pending.push_back(node_index);
  if (affine && per_channel) out.per_channel.push_back(node_index);
  set_output(node.outputs[0], std::move(out));
}

void Lowerer::lower_node(int index) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  const bool all_constant =
      std::all_of(node.inputs.begin(), node.inputs.end(), [&](int t) { return t < 0 || is_constant(t); });
  if (all_constant) {
    // A constant computation left unfolded (e.g. Pow in a BatchNorm export): no hardware, and its
    // outputs count as constants for the ops that use them.
    for (int t : node.outputs) {
      if (t >= 0) derived_constant_[static_cast<size_t>(t)] = true;
    }
    return;
  }
  if (ir::is_quant_op(node) || ir::is_bipolar_quant_op(node) || ir::is_multithreshold_op(node)) {
    lower_quantizer(index);
    return;
  }
  if (ir::is_trunc_op(node)) {
    lower_trunc(index);
    return;
  }
  const std::string& op = node.op_type;
  check(node.domain.empty() || node.domain == "ai.onnx",
        where(index) + ": custom op of domain '" + node.domain + "' has no FINN hardware layer in this cost model");
  auto constant_numel = [&]() -> int64_t {
    for (int t : node.inputs) {
      if (!is_constant(t)) continue;
      const ir::TensorInfo& info = g_.tensor(t);
      return info.constant ? info.constant->numel() : shape_numel(info.shape);
    }
    return int64_t{1};
  };
  const bool two_streams = node.inputs.size() >= 2 && !is_constant(node.inputs[0]) && !is_constant(node.inputs[1]);
  if (op == "Conv") {
    lower_conv(index);
  } else if (op == "MatMul") {
    lower_matmul(index, false);
  } else if (op == "Gemm") {
    lower_matmul(index, true);
  } else if (op == "MaxPool") {
    lower_maxpool(index);
  } else if (op == "AveragePool") {
    lower_average_pool(index, false);
  } else if (op == "GlobalAveragePool") {
    lower_average_pool(index, true);
  } else if (op == "Add" && two_streams) {
    lower_add_streams(index);
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    check(!two_streams, where(index) + ": " + op + " of two non-constant tensors has no FINN hardware layer");
    pass_through(index, true, constant_numel() > 1);
  } else if (op == "BatchNormalization") {
    pass_through(index, true, channels_of(g_.tensor(node.inputs[0]).shape) > 1);
  } else if (op == "Relu" || is_layout_op(op)) {
    pass_through(index, false, false);
  } else if (op == "TopK") {
    const int k_tensor = node.inputs.size() > 1 ? node.inputs[1] : -1;
    check(k_tensor >= 0 && g_.tensor(k_tensor).is_constant(), where(index) + ": K must be a constant");
    lower_label_select(index, static_cast<int64_t>(g_.tensor(k_tensor).constant->at(0)));
  } else if (op == "ArgMax") {
    lower_label_select(index, 1);
  } else if (op == "Softmax" || op == "LogSoftmax") {
    pass_through(index, false, false);
    streams_[static_cast<size_t>(node.outputs[0])].float_tail = true;
  } else {
    throw Error(where(index) + ": " + op +
                " has no FINN hardware layer in this cost model (supported: Conv, MatMul, Gemm, MaxPool, "
                "AveragePool, GlobalAveragePool, Add, quantizers, affine and layout ops, TopK)");
  }
}

void Lowerer::lower_quantizer(int index) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  const Stream in = input_stream(index, 0);
  const ir::TensorInfo& out_info = g_.tensor(node.outputs[0]);
  if (opt_.host_input_quantizers && in.layer < 0 && !in.type && !in.float_tail) {
    // The host quantizes the float input; this node and the ops before it stay in software.
    Stream out;
    if (ir::is_bipolar_quant_op(node)) {
      out.type = DataType{1, true, true};
    } else if (ir::is_multithreshold_op(node)) {
      out.type = DataType::parse(node.attr_string_or("out_dtype", ""));
    } else if (out_info.quant) {
      out.type = DataType::from_quant(*out_info.quant);
    }
    check(out.type.has_value(), where(index) + ": the quantizer of a float input has no integer output type");
    set_output(node.outputs[0], std::move(out));
    return;
  }
  const DataType itype = require_type(index, 0);
  DataType otype;
  int64_t steps = 0;
  std::optional<std::pair<int64_t, int64_t>> range;
  if (ir::is_multithreshold_op(node)) {
    const std::string name = node.attr_string_or("out_dtype", "");
    const auto parsed = DataType::parse(name);
    check(parsed.has_value(), where(index) + ": out_dtype '" + name + "' is not an integer FINN data type");
    otype = *parsed;
    check(node.inputs.size() > 1 && node.inputs[1] >= 0 && g_.tensor(node.inputs[1]).is_constant(),
          where(index) + ": thresholds must be a constant");
    const Tensor& t = *g_.tensor(node.inputs[1]).constant;
    check(t.shape.size() == 2,
          where(index) + ": thresholds must have shape (channels, steps), got " + shape_to_string(t.shape));
    steps = t.shape[1];
    if (t.numel() > 0) {
      // RoundAndClipThresholds: integer inputs compare against ceil(t), clipped to [min, max + 1].
      const auto values = t.as_doubles();
      const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
      auto clip = [&](double v) {
        return std::clamp(static_cast<int64_t>(std::ceil(v)), itype.min(), itype.max() + 1);
      };
      range = std::make_pair(clip(*lo), clip(*hi));
    }
  } else if (ir::is_bipolar_quant_op(node)) {
    otype = DataType{1, true, true};
    steps = 1;
  } else {
    check(out_info.quant.has_value(), where(index) +
                                          ": quantizer parameters (scale, zero point, bit width) "
                                          "must be constants");
    const ir::QuantType& q = *out_info.quant;
    check(q.bits <= 8, where(index) + ": a " + std::to_string(q.bits) +
                           "-bit activation quantizer; FINN turns only quantizers of at most 8 bits into thresholds");
    otype = DataType::from_quant(q);
    steps = q.bipolar ? 1 : q.max_int() - q.min_int();
  }
  std::vector<int> covered = in.pending;
  covered.push_back(index);
  Stream out;
  out.type = otype;
  if (!opt_.separate_thresholds && in.accumulator && in.layer >= 0) {
    HwLayer& producer = hw_.layers[static_cast<size_t>(in.layer)];
    if ((producer.op == HwOp::kMvau || producer.op == HwOp::kVvau) && !producer.thresholds) {
      // InferQuantizedMatrixVectorActivation / VectorVectorActivation: thresholds move inside.
      producer.thresholds = true;
      producer.output_type = otype;
      producer.num_steps = steps;
      cover(in.layer, covered);
      out.layer = in.layer;
      set_output(node.outputs[0], std::move(out));
      return;
    }
  }
  HwLayer thr;
  thr.op = HwOp::kThresholding;
  thr.backend = Backend::kRtl;
  thr.channels = channels_of(in.shape);
  thr.num_vectors = pixels_of(in.shape);
  thr.input_type = itype;
  thr.output_type = otype;
  thr.num_steps = steps;
  thr.threshold_range = range;
  thr.folding.ram_style = RamStyle::kDistributed;  // Thresholding_hls default
  thr.inputs = {in.layer};
  out.layer = add_layer(std::move(thr), covered);
  set_output(node.outputs[0], std::move(out));
}

void Lowerer::lower_trunc(int index) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  Stream in = input_stream(index, 0);
  const bool after_pool = in.layer >= 0 && (hw_.layers[static_cast<size_t>(in.layer)].op == HwOp::kPool ||
                                            hw_.layers[static_cast<size_t>(in.layer)].op == HwOp::kGlobalAccPool);
  check(after_pool && !in.float_tail,
        where(index) + ": Trunc is supported only after an average pool (FINN's QuantAvgPool2d)");
  const ir::TensorInfo& out_info = g_.tensor(node.outputs[0]);
  check(out_info.quant.has_value(), where(index) + ": Trunc parameters must be constants");
  // The pool becomes a QuantAvgPool: sum, then shift down to the Trunc's output bits.
  HwLayer& pool = hw_.layers[static_cast<size_t>(in.layer)];
  pool.output_type = DataType::from_quant(*out_info.quant);
  std::vector<int> covered = in.pending;
  covered.push_back(index);
  cover(in.layer, covered);
  Stream out;
  out.layer = in.layer;
  out.type = pool.output_type;
  set_output(node.outputs[0], std::move(out));
}

int Lowerer::add_channelwise_ops(Stream& stream) {
  // Per-channel affine ops FINN cannot absorb into a TopK become ChannelwiseOp layers.
  int added = 0;
  for (int n : stream.per_channel) {
    if (hw_.node_layer[static_cast<size_t>(n)] >= 0) continue;
    HwLayer op;
    op.op = HwOp::kChannelwiseOp;
    op.channels = channels_of(stream.shape);
    op.num_vectors = pixels_of(stream.shape);
    if (stream.type) op.input_type = op.output_type = *stream.type;
    op.folding.ram_style = RamStyle::kDistributed;  // ChannelwiseOp_hls default
    op.inputs = {stream.layer};
    stream.layer = add_layer(std::move(op), {n});
    ++added;
  }
  stream.per_channel.clear();
  return added;
}

void Lowerer::lower_label_select(int index, int64_t k) {
  const ir::Node& node = g_.nodes[static_cast<size_t>(index)];
  Stream in = input_stream(index, 0);
  check(in.type.has_value(), where(index) + ": input '" + g_.tensor(node.inputs[0]).name + "' has no integer type");
  add_channelwise_ops(in);
  const int64_t labels = in.shape.empty() ? 1 : in.shape.back();
  check(k >= 1 && k <= labels, where(index) + ": K " + std::to_string(k) + " is not in 1.." + std::to_string(labels));
  HwLayer sel;
  sel.op = HwOp::kLabelSelect;
  sel.channels = labels;
  sel.top_k = k;
  sel.input_type = *in.type;
  sel.output_type = DataType::of_uint(static_cast<int>(ceil_div(std::max(1, bits_for(labels)), 8) * 8));
  sel.inputs = {in.layer};
  std::vector<int> covered = in.pending;
  covered.push_back(index);
  const int layer = add_layer(std::move(sel), covered);
  has_label_select_ = true;
  for (int t : node.outputs) {
    if (t < 0) continue;
    Stream out;
    out.layer = layer;
    out.type = hw_.layers[static_cast<size_t>(layer)].output_type;
    set_output(t, std::move(out));
  }
}

void Lowerer::finish_outputs() {
  bool inserted = false;
  for (int t : g_.outputs) {
    Stream& s = streams_[static_cast<size_t>(t)];
    if (!s.valid) continue;
    const int64_t channels = channels_of(s.shape);
    const bool vector = s.shape.size() >= 2 && pixels_of(s.shape) == 1 && channels > 1;
    if (opt_.top_k > 0 && !has_label_select_ && vector && s.type) {
      // InsertTopK, as finn-examples builds do; scalar affine tail ops are absorbed into it.
      add_channelwise_ops(s);
      HwLayer sel;
      sel.op = HwOp::kLabelSelect;
      sel.channels = s.shape.back();
      sel.top_k = std::min(opt_.top_k, sel.channels);
      sel.input_type = *s.type;
      sel.output_type = DataType::of_uint(static_cast<int>(ceil_div(std::max(1, bits_for(sel.channels)), 8) * 8));
      sel.inputs = {s.layer};
      s.layer = add_layer(std::move(sel), s.pending);
      s.pending.clear();
      inserted = true;
    } else if (s.layer >= 0 && s.pending.empty()) {
      hw_.layers[static_cast<size_t>(s.layer)].feeds_graph_output = true;
    }
  }
  has_label_select_ = has_label_select_ || inserted;
}

void Lowerer::choose_backends() {
  // specialize_layers.py: MVAU/VVAU become RTL only without embedded thresholds, with signed
  // weights of 4..8 bits and 4..8-bit inputs (9-bit signed on DSP58); DSP48E1 also needs
  // narrow-range weights; VVAU_rtl exists only on Versal (DSP58).
  for (auto& layer : hw_.layers) {
    if (layer.op != HwOp::kMvau && layer.op != HwOp::kVvau) continue;
    const DataType& w = layer.weight_type;
    const DataType& a = layer.input_type;
    bool rtl = !layer.thresholds && !w.bipolar && !a.bipolar && w.min() < 0 && w.bits >= 4 && w.bits <= 8 &&
               a.bits >= 4 && (a.bits <= 8 || (a.bits == 9 && a.is_signed));
    if (layer.op == HwOp::kMvau && opt_.dsp_block == DspBlock::kDsp48E1) {
      const bool narrow = layer.weights ? layer.weights->min != w.min() : false;
      rtl = rtl && narrow;
    }
    if (layer.op == HwOp::kVvau) rtl = rtl && opt_.dsp_block == DspBlock::kDsp58;
    layer.backend = rtl ? Backend::kRtl : Backend::kHls;
  }
}

}  // namespace detail

HwGraph lower_to_hw(const ir::Graph& graph, const LowerOptions& options) {
  check(options.top_k >= 0, "top_k must not be negative");
  detail::Lowerer lowerer(graph, options);
  return lowerer.run();
}

}  // namespace dnnsplit::cost
