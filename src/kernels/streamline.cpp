// Streamlining: per-channel chains after linear nodes and their integer thresholds.
#include "streamline.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <set>

#include "dnnsplit/error.h"

namespace dnnsplit::kernels {

std::optional<CodeMap> code_map_of(const ir::QuantType& q, int64_t channels, size_t rank) {
  for (float z : q.zero_point) {
    if (z != 0.0F) return std::nullopt;
  }
  CodeMap map;
  if (q.bipolar) {
    map.a = 2;
    map.b = -1;
    map.levels = 2;
  } else {
    const int64_t levels = q.max_int() - q.min_int() + 1;
    if (levels < 2 || levels > 256) return std::nullopt;
    map.levels = static_cast<int>(levels);
    map.b = static_cast<int>(q.min_int());
  }
  for (float s : q.scale) {
    if (!std::isfinite(s) || s <= 0.0F) return std::nullopt;
  }
  if (q.scale.size() == 1) {
    map.scale.assign(static_cast<size_t>(channels), static_cast<double>(q.scale[0]));
  } else {
    if (static_cast<int64_t>(q.scale.size()) != channels || q.channel_axis != 1 || rank < 2) return std::nullopt;
    map.scale.assign(q.scale.begin(), q.scale.end());
    map.per_channel = true;
  }
  return map;
}

namespace {

// A constant that applies one value per channel (axis 1 of a tensor of rank `rank`), or one value.
bool per_channel_constant(const Tensor* t, int64_t channels, size_t rank) {
  if (t == nullptr || !t->is_float()) return false;
  if (t->numel() == 1) return true;
  if (t->numel() != channels || t->shape.size() > rank) return false;
  const size_t offset = rank - t->shape.size();
  for (size_t d = 0; d < t->shape.size(); ++d) {
    if (t->shape[d] != 1 && d + offset != 1) return false;
  }
  return true;
}

bool only_first_output_used(const ir::Graph& graph, const ir::Node& node) {
  for (size_t k = 1; k < node.outputs.size(); ++k) {
    const int id = node.outputs[k];
    if (id < 0) continue;
    if (!graph.consumers(id).empty()) return false;
    if (std::find(graph.outputs.begin(), graph.outputs.end(), id) != graph.outputs.end()) return false;
  }
  return true;
}

}  // namespace

bool is_chain_op(const ir::Graph& graph, const ir::Node& node, int data, int64_t channels, size_t rank,
                 const std::function<const Tensor*(int)>& constant) {
  if (node.inputs.empty() || node.outputs.empty() || !only_first_output_used(graph, node)) return false;
  auto others_per_channel = [&](size_t first) {
    for (size_t i = first; i < node.inputs.size(); ++i) {
      if (node.inputs[i] < 0) continue;
      if (node.inputs[i] == data || !per_channel_constant(constant(node.inputs[i]), channels, rank)) return false;
    }
    return true;
  };
  const std::string& op = node.op_type;
  if (node.domain.empty() || node.domain == "ai.onnx") {
    if (op == "Relu" || op == "Identity") return node.inputs[0] == data;
    if (op == "Clip") return node.inputs[0] == data && others_per_channel(1);
    if (op == "BatchNormalization") {
      if (node.inputs[0] != data || node.attr_int_or("training_mode", 0) != 0 || node.inputs.size() != 5) return false;
      for (size_t i = 1; i < 5; ++i) {
        const Tensor* t = node.inputs[i] < 0 ? nullptr : constant(node.inputs[i]);
        if (t == nullptr || !t->is_float() || t->numel() != channels || t->shape.size() != 1) return false;
      }
      return true;
    }
    if (op == "Mul" || op == "Add" || op == "Sub") {
      if (node.inputs.size() != 2) return false;
      const int other = node.inputs[0] == data ? node.inputs[1] : node.inputs[0];
      if (node.inputs[0] != data && node.inputs[1] != data) return false;
      return other != data && per_channel_constant(constant(other), channels, rank);
    }
    if (op == "Div") {
      // x / c is monotone; c / x is not.
      return node.inputs.size() == 2 && node.inputs[0] == data && node.inputs[1] != data &&
             per_channel_constant(constant(node.inputs[1]), channels, rank);
    }
    return false;
  }
  if (!ir::is_qonnx_domain(node.domain)) return false;
  if (ir::is_quant_op(node) || ir::is_bipolar_quant_op(node)) return node.inputs[0] == data && others_per_channel(1);
  if (ir::is_multithreshold_op(node)) {
    if (node.inputs.size() != 2 || node.inputs[0] != data) return false;
    if (node.attr_string_or("data_layout", "NCHW") != "NCHW") return false;
    const Tensor* t = constant(node.inputs[1]);
    return t != nullptr && t->shape.size() == 2 && (t->shape[0] == 1 || t->shape[0] == channels);
  }
  return false;
}

namespace {

bool is_graph_output(const ir::Graph& graph, int id) {
  return std::find(graph.outputs.begin(), graph.outputs.end(), id) != graph.outputs.end();
}

// Ops that move values without arithmetic, so a -0 they read reaches their output unchanged.
bool moves_values(const ir::Node& node) {
  static const std::set<std::string> kOps = {"Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose",
                                             "MaxPool", "GlobalMaxPool", "Concat", "Slice", "Split", "Gather",
                                             "Expand", "Tile", "DepthToSpace", "SpaceToDepth"};
  return (node.domain.empty() || node.domain == "ai.onnx") && kOps.count(node.op_type) > 0;
}

// Whether values of tensor `id` reach a graph output unchanged through value-moving ops, such as
// a max-pool or flatten that ends a split stage (or, when `self`, as the output itself).
bool copied_to_output(const ir::Graph& graph, int id, bool self) {
  std::vector<int> todo{id};
  std::set<int> seen{id};
  while (!todo.empty()) {
    const int t = todo.back();
    todo.pop_back();
    if ((self || t != id) && is_graph_output(graph, t)) return true;
    for (int c : graph.consumers(t)) {
      const ir::Node& node = graph.nodes[static_cast<size_t>(c)];
      if (!moves_values(node)) continue;
      for (int o : node.outputs) {
        if (o >= 0 && seen.insert(o).second) todo.push_back(o);
      }
    }
  }
  return false;
}

}  // namespace

Chain find_chain(const ir::Graph& graph, int start, int64_t channels, const std::function<const Tensor*(int)>& constant,
                 bool end_at_output) {
  Chain chain;
  const size_t rank = graph.tensor(start).shape.size();
  std::vector<int> nodes;
  int current = start;
  size_t cut = 0;
  int end = -1;
  while (!is_graph_output(graph, current)) {
    const auto consumers = graph.consumers(current);
    if (consumers.size() != 1) break;
    const ir::Node& node = graph.nodes[static_cast<size_t>(consumers[0])];
    if (!is_chain_op(graph, node, current, channels, rank, constant)) break;
    nodes.push_back(consumers[0]);
    current = node.outputs[0];
    const auto& info = graph.tensor(current);
    if (info.quant && info.shape.size() == rank && !copied_to_output(graph, current, !end_at_output)) {
      if (auto map = code_map_of(*info.quant, channels, rank)) {
        cut = nodes.size();
        end = current;
        chain.out = *map;
      }
    }
  }
  nodes.resize(cut);
  chain.nodes = std::move(nodes);
  chain.end_tensor = end;
  return chain;
}

ChainEvaluator::ChainEvaluator(const ir::Graph& graph, const Chain& chain, int64_t channels, size_t rank,
                               const std::function<const Tensor*(int)>& constant, const NodeEvaluator& evaluate)
    : graph_(graph), chain_(chain), channels_(channels), rank_(rank), constant_(constant), evaluate_(evaluate) {}

std::vector<int> ChainEvaluator::codes(const std::vector<float>& inputs, std::vector<float>* values) const {
  const auto rows = static_cast<int64_t>(inputs.size()) / channels_;
  Shape shape(std::max<size_t>(rank_, 2), 1);
  shape[0] = rows;
  shape[1] = channels_;
  Tensor x = Tensor::from_floats(shape, inputs);
  int current = graph_.nodes[static_cast<size_t>(chain_.nodes.front())].inputs[0];
  for (int index : chain_.nodes) {
    const ir::Node& node = graph_.nodes[static_cast<size_t>(index)];
    std::vector<const Tensor*> args;
    for (int id : node.inputs) args.push_back(id < 0 ? nullptr : id == current ? &x : constant_(id));
    auto out = evaluate_(node, args);
    x = std::move(out.at(0));
    current = node.outputs[0];
  }
  check(x.type == ElemType::kFloat && x.numel() == static_cast<int64_t>(inputs.size()),
        "chain ending at '" + graph_.tensor(chain_.end_tensor).name + "' did not keep its float32 shape");
  const CodeMap& map = chain_.out;
  std::vector<int> result(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const double s = map.scale[i % static_cast<size_t>(channels_)];
    const double q = std::nearbyint(static_cast<double>(x.f32[i]) / s);
    const double u = (q - map.b) / map.a;
    const bool ok = std::isfinite(q) && std::floor(u) == u && u >= 0 && u < map.levels;
    result[i] = ok ? static_cast<int>(u) : -1;
  }
  if (values != nullptr) *values = x.f32;
  return result;
}

std::vector<int8_t> chain_directions(const ChainEvaluator& chain, const PositionRange& range,
                                     const std::function<float(int64_t, int64_t)>& y) {
  const int64_t channels = chain.channels();
  std::vector<float> in(static_cast<size_t>(2 * channels));
  for (int64_t c = 0; c < channels; ++c) {
    in[static_cast<size_t>(c)] = y(c, range.lo[static_cast<size_t>(c)]);
    in[static_cast<size_t>(channels + c)] = y(c, range.hi[static_cast<size_t>(c)]);
  }
  const auto codes = chain.codes(in, nullptr);
  std::vector<int8_t> dir(static_cast<size_t>(channels), 1);
  for (int64_t c = 0; c < channels; ++c) {
    if (codes[static_cast<size_t>(c)] > codes[static_cast<size_t>(channels + c)]) dir[static_cast<size_t>(c)] = -1;
  }
  return dir;
}

Requant derive_requant(const ChainEvaluator& chain, const CodeMap& out, const PositionRange& range,
                       const std::function<float(int64_t, int64_t)>& y, const std::string& node_name) {
  const int64_t channels = chain.channels();
  const int count = out.levels - 1;
  const auto cs = static_cast<size_t>(channels);
  Requant rq;
  rq.count = count;
  // Invariant per (channel, level t+1): code(lo) <= t < code(hi), lo / hi outside the range
  // standing for -inf / +inf.
  std::vector<int64_t> lo(cs * static_cast<size_t>(count)), hi(lo.size());
  for (size_t c = 0; c < cs; ++c) {
    for (int t = 0; t < count; ++t) {
      lo[c * static_cast<size_t>(count) + static_cast<size_t>(t)] = range.lo[c] - 1;
      hi[c * static_cast<size_t>(count) + static_cast<size_t>(t)] = range.hi[c] + 1;
    }
  }
  auto bad = [&](const std::string& what) {
    return Error(node_name + ": cannot streamline the chain ending at this node: " + what);
  };
  std::vector<float> in(lo.size());
  for (;;) {
    bool open = false;
    std::vector<int64_t> mid(lo.size());
    for (size_t i = 0; i < lo.size(); ++i) {
      const size_t c = i / static_cast<size_t>(count);
      if (hi[i] - lo[i] > 1) open = true;
      mid[i] = std::clamp(lo[i] + (hi[i] - lo[i]) / 2, range.lo[c], range.hi[c]);
    }
    if (!open) break;
    // Row t of the evaluated batch holds level t+1 of every channel.
    for (size_t i = 0; i < lo.size(); ++i) {
      const size_t c = i / static_cast<size_t>(count);
      const size_t t = i % static_cast<size_t>(count);
      in[t * cs + c] = y(static_cast<int64_t>(c), mid[i]);
    }
    const auto codes = chain.codes(in, nullptr);
    for (size_t i = 0; i < lo.size(); ++i) {
      if (hi[i] - lo[i] <= 1) continue;
      const size_t c = i / static_cast<size_t>(count);
      const int t = static_cast<int>(i % static_cast<size_t>(count));
      const int code = codes[static_cast<size_t>(t) * cs + c];
      if (code < 0) throw bad("a result is not on the output grid");
      (code >= t + 1 ? hi[i] : lo[i]) = mid[i];
    }
  }
  rq.thresholds = hi;
  for (size_t c = 0; c < cs; ++c) {
    auto first = rq.thresholds.begin() + static_cast<ptrdiff_t>(c * static_cast<size_t>(count));
    if (!std::is_sorted(first, first + count)) throw bad("thresholds are not ascending");
  }

  // Check the count of thresholds against the chain at the range ends, around every threshold
  // and at evenly spaced points; record the float of every code met.
  std::vector<std::vector<int64_t>> samples(cs);
  for (size_t c = 0; c < cs; ++c) {
    auto& s = samples[c];
    s.push_back(range.lo[c]);
    s.push_back(range.hi[c]);
    for (int t = 0; t < count; ++t) {
      const int64_t at = rq.thresholds[c * static_cast<size_t>(count) + static_cast<size_t>(t)];
      for (int64_t d = -1; d <= 0; ++d) s.push_back(std::clamp(at + d, range.lo[c], range.hi[c]));
    }
    constexpr int kSpaced = 33;
    for (int k = 1; k < kSpaced; ++k) {
      const double f = static_cast<double>(k) / kSpaced;
      s.push_back(range.lo[c] + static_cast<int64_t>(f * static_cast<double>(range.hi[c] - range.lo[c])));
    }
  }
  size_t rows = 0;
  for (const auto& s : samples) rows = std::max(rows, s.size());
  std::vector<float> sample_in(rows * cs);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cs; ++c) {
      sample_in[r * cs + c] = y(static_cast<int64_t>(c), samples[c][std::min(r, samples[c].size() - 1)]);
    }
  }
  std::vector<float> sample_values;
  const auto sample_codes = chain.codes(sample_in, &sample_values);
  rq.values.assign(cs * static_cast<size_t>(out.levels), 0.0F);
  std::vector<bool> seen(rq.values.size(), false);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cs; ++c) {
      const int64_t at = samples[c][std::min(r, samples[c].size() - 1)];
      const int code = sample_codes[r * cs + c];
      const auto first = rq.thresholds.begin() + static_cast<ptrdiff_t>(c * static_cast<size_t>(count));
      const auto expect = static_cast<int>(std::upper_bound(first, first + count, at) - first);
      if (code != expect) throw bad("the chain is not monotone in its input on channel " + std::to_string(c));
      const size_t slot = c * static_cast<size_t>(out.levels) + static_cast<size_t>(code);
      // The code of zero may come out as -0 or +0 depending on the input; codes cannot carry
      // the sign, so decoded tensors hold +0 (sums and integer layers cannot tell them apart).
      const float v = sample_values[r * cs + c] == 0.0F ? 0.0F : sample_values[r * cs + c];
      if (seen[slot] && std::bit_cast<uint32_t>(rq.values[slot]) != std::bit_cast<uint32_t>(v)) {
        throw bad("code " + std::to_string(code) + " stands for two different values on channel " + std::to_string(c));
      }
      rq.values[slot] = v;
      seen[slot] = true;
    }
  }
  // Codes never produced keep the grid's nominal value (they are never read).
  for (size_t c = 0; c < cs; ++c) {
    for (int u = 0; u < out.levels; ++u) {
      const size_t slot = c * static_cast<size_t>(out.levels) + static_cast<size_t>(u);
      if (!seen[slot]) rq.values[slot] = static_cast<float>((out.a * u + out.b) * out.scale[c]);
    }
  }
  return rq;
}

int64_t float_key(float v) {
  const auto bits = std::bit_cast<uint32_t>(v);
  return (bits & 0x80000000U) != 0 ? -static_cast<int64_t>(bits & 0x7FFFFFFFU) : static_cast<int64_t>(bits);
}

float key_float(int64_t key) {
  if (key >= 0) return std::bit_cast<float>(static_cast<uint32_t>(key));
  return std::bit_cast<float>(0x80000000U | static_cast<uint32_t>(-key));
}

}  // namespace dnnsplit::kernels
