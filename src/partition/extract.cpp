// Cut analysis over the IR (which tensors cross a cut position) and stage sub-model extraction.
#include <algorithm>
#include <map>

#include "dnnsplit/analysis.h"
#include "dnnsplit/error.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::partition {

namespace {

// First position that no longer needs the tensor: one past its last reader; graph outputs are
// needed to the end.
struct Span {
  int def = -2;   // producing node, -1 for a graph input, -2 for constants / unused ids
  int last = -1;  // last reading node, or nodes.size() for graph outputs
  int slot = 0;   // output index at the producer, for a stable order
};

std::vector<Span> tensor_spans(const ir::Graph& graph) {
  std::vector<Span> spans(graph.tensors.size());
  for (size_t i = 0; i < graph.inputs.size(); ++i) {
    auto& s = spans[static_cast<size_t>(graph.inputs[i])];
    s.def = -1;
    s.slot = static_cast<int>(i);
  }
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const auto& node = graph.nodes[n];
    for (size_t k = 0; k < node.outputs.size(); ++k) {
      auto& s = spans[static_cast<size_t>(node.outputs[k])];
      s.def = static_cast<int>(n);
      s.slot = static_cast<int>(k);
    }
    for (int in : node.inputs) {
      if (in >= 0) spans[static_cast<size_t>(in)].last = std::max(spans[static_cast<size_t>(in)].last, static_cast<int>(n));
    }
  }
  for (int out : graph.outputs) spans[static_cast<size_t>(out)].last = static_cast<int>(graph.nodes.size());
  for (size_t t = 0; t < graph.tensors.size(); ++t) {
    if (graph.tensors[t].is_constant()) spans[t].def = -2;
  }
  return spans;
}

}  // namespace

std::vector<int> crossing_tensors(const ir::Graph& graph, int position) {
  const int n = static_cast<int>(graph.nodes.size());
  check(position >= 0 && position <= n, "cut position " + std::to_string(position) + " is outside the graph (" +
                                            std::to_string(n) + " nodes)");
  if (position == 0) return graph.inputs;
  if (position == n) return graph.outputs;
  const auto spans = tensor_spans(graph);
  std::vector<int> result;
  for (size_t t = 0; t < spans.size(); ++t) {
    const Span& s = spans[t];
    if (s.def >= -1 && s.def < position && s.last >= position) result.push_back(static_cast<int>(t));
  }
  std::stable_sort(result.begin(), result.end(), [&](int a, int b) {
    const Span& x = spans[static_cast<size_t>(a)];
    const Span& y = spans[static_cast<size_t>(b)];
    return x.def != y.def ? x.def < y.def : x.slot < y.slot;
  });
  return result;
}

int64_t crossing_bytes(const ir::Graph& graph, const std::vector<int>& tensors) {
  int64_t total = 0;
  for (int t : tensors) total += packed_bytes_per_image(graph, t);
  return total;
}

ir::Graph extract_stage(const ir::Graph& graph, int begin, int end, const std::string& name) {
  const int n = static_cast<int>(graph.nodes.size());
  check(begin >= 0 && begin < end && end <= n, "stage [" + std::to_string(begin) + ", " + std::to_string(end) +
                                                   ") is not a node range of '" + graph.name + "'");
  ir::Graph stage;
  stage.name = name;
  stage.opset = graph.opset;
  stage.source_path = graph.source_path;
  std::map<int, int> remap;  // source tensor id -> stage tensor id
  auto take = [&](int id) {
    if (id < 0) return -1;
    auto it = remap.find(id);
    if (it != remap.end()) return it->second;
    const int copy = stage.add_tensor(graph.tensor(id));
    remap.emplace(id, copy);
    return copy;
  };
  for (int id : crossing_tensors(graph, begin)) stage.inputs.push_back(take(id));
  for (int k = begin; k < end; ++k) {
    const ir::Node& source = graph.nodes[static_cast<size_t>(k)];
    ir::Node node = source;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const int id = source.inputs[i];
      // Everything a stage reads is a constant, made inside it, or one of its inputs.
      check(id < 0 || graph.tensor(id).is_constant() || remap.count(id),
            "stage " + name + ": " + source.describe() + " reads '" + graph.tensor(id).name +
                "', which is not available at the cut before it (graph not in topological order?)");
      node.inputs[i] = take(id);
    }
    for (size_t i = 0; i < node.outputs.size(); ++i) node.outputs[i] = take(source.outputs[i]);
    stage.nodes.push_back(std::move(node));
  }
  for (int id : crossing_tensors(graph, end)) {
    check(remap.count(id) != 0 || graph.tensor(id).is_constant(),
          "stage " + name + ": output '" + graph.tensor(id).name + "' is not available");
    stage.outputs.push_back(take(id));
  }
  return stage;
}

}  // namespace dnnsplit::partition
