#include <algorithm>
#include <queue>
#include <set>
#include <unordered_map>

#include "dnnsplit/error.h"
#include "dnnsplit/ir.h"

namespace dnnsplit::ir {

namespace {

const std::set<std::string>& qonnx_domains() {
  static const std::set<std::string> domains{"onnx.brevitas", "qonnx.custom_op.general", "finn.custom_op.general",
                                             "finn", "qonnx"};
  return domains;
}

template <typename T>
const T* attr_as(const Node& node, const std::string& key, const char* type_name) {
  auto it = node.attributes.find(key);
  if (it == node.attributes.end()) return nullptr;
  const T* value = std::get_if<T>(&it->second);
  check(value != nullptr, node.describe() + ": attribute '" + key + "' is not " + type_name);
  return value;
}

}  // namespace

bool is_qonnx_domain(const std::string& domain) { return qonnx_domains().count(domain) != 0; }

bool is_quant_op(const Node& node) {
  return (node.op_type == "Quant" || node.op_type == "IntQuant") && is_qonnx_domain(node.domain);
}
bool is_bipolar_quant_op(const Node& node) { return node.op_type == "BipolarQuant" && is_qonnx_domain(node.domain); }
bool is_trunc_op(const Node& node) { return node.op_type == "Trunc" && is_qonnx_domain(node.domain); }
bool is_multithreshold_op(const Node& node) {
  return node.op_type == "MultiThreshold" && is_qonnx_domain(node.domain);
}

int64_t Node::attr_int(const std::string& key) const {
  const auto* v = attr_as<int64_t>(*this, key, "an integer");
  check(v != nullptr, describe() + ": required attribute '" + key + "' is missing");
  return *v;
}
int64_t Node::attr_int_or(const std::string& key, int64_t fallback) const {
  const auto* v = attr_as<int64_t>(*this, key, "an integer");
  return v ? *v : fallback;
}
float Node::attr_float_or(const std::string& key, float fallback) const {
  const auto* v = attr_as<float>(*this, key, "a float");
  return v ? *v : fallback;
}
std::string Node::attr_string_or(const std::string& key, const std::string& fallback) const {
  const auto* v = attr_as<std::string>(*this, key, "a string");
  return v ? *v : fallback;
}
std::vector<int64_t> Node::attr_ints_or(const std::string& key, std::vector<int64_t> fallback) const {
  const auto* v = attr_as<std::vector<int64_t>>(*this, key, "a list of integers");
  return v ? *v : fallback;
}
std::vector<float> Node::attr_floats_or(const std::string& key, std::vector<float> fallback) const {
  const auto* v = attr_as<std::vector<float>>(*this, key, "a list of floats");
  return v ? *v : fallback;
}
const Tensor* Node::attr_tensor(const std::string& key) const { return attr_as<Tensor>(*this, key, "a tensor"); }

std::string Node::describe() const { return "node '" + name + "' (" + op_type + ")"; }

int Graph::find_tensor(const std::string& tensor_name) const {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].name == tensor_name) return static_cast<int>(i);
  }
  return -1;
}

int Graph::add_tensor(TensorInfo info) {
  check(find_tensor(info.name) < 0, "tensor '" + info.name + "' defined twice");
  tensors.push_back(std::move(info));
  return static_cast<int>(tensors.size()) - 1;
}

int Graph::producer(int tensor_id) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& outs = nodes[i].outputs;
    if (std::find(outs.begin(), outs.end(), tensor_id) != outs.end()) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> Graph::consumers(int tensor_id) const {
  std::vector<int> result;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const auto& ins = nodes[i].inputs;
    if (std::find(ins.begin(), ins.end(), tensor_id) != ins.end()) result.push_back(static_cast<int>(i));
  }
  return result;
}

void Graph::sort_topologically() {
  std::unordered_map<int, int> producer_of;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (int out : nodes[i].outputs) {
      check(!producer_of.count(out), "tensor '" + tensor(out).name + "' is produced by two nodes");
      producer_of[out] = static_cast<int>(i);
    }
  }
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<int>> users(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (int in : nodes[i].inputs) {
      if (in < 0) continue;
      auto it = producer_of.find(in);
      if (it == producer_of.end()) {
        const auto& info = tensor(in);
        const bool is_input = std::find(inputs.begin(), inputs.end(), in) != inputs.end();
        check(is_input || info.is_constant(), nodes[i].describe() + ": input '" + info.name +
                                                  "' is neither a graph input, an initializer nor produced by a node");
        continue;
      }
      ++pending[i];
      users[static_cast<size_t>(it->second)].push_back(static_cast<int>(i));
    }
  }
  // Kahn's algorithm, taking ready nodes in original order so a sorted graph stays unchanged.
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (pending[i] == 0) ready.push(static_cast<int>(i));
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  while (!ready.empty()) {
    const int i = ready.top();
    ready.pop();
    sorted.push_back(nodes[static_cast<size_t>(i)]);
    for (int user : users[static_cast<size_t>(i)]) {
      if (--pending[static_cast<size_t>(user)] == 0) ready.push(user);
    }
  }
  if (sorted.size() != nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      check(pending[i] == 0, nodes[i].describe() + " is part of a cycle");
    }
  }
  nodes = std::move(sorted);
}

void Graph::remove_dead_code() {
  std::set<int> live(outputs.begin(), outputs.end());
  std::vector<bool> keep(nodes.size(), false);
  for (size_t k = nodes.size(); k-- > 0;) {
    const auto& node = nodes[k];
    const bool needed = std::any_of(node.outputs.begin(), node.outputs.end(), [&](int t) { return live.count(t); });
    if (!needed) continue;
    keep[k] = true;
    for (int in : node.inputs) {
      if (in >= 0) live.insert(in);
    }
  }
  std::vector<Node> kept;
  for (size_t k = 0; k < nodes.size(); ++k) {
    if (keep[k]) kept.push_back(std::move(nodes[k]));
  }
  nodes = std::move(kept);
  // Compact the tensor table, keeping graph inputs even when unused.
  for (int in : inputs) live.insert(in);
  for (const auto& node : nodes) {
    for (int out : node.outputs) live.insert(out);
  }
  std::vector<int> remap(tensors.size(), -1);
  std::vector<TensorInfo> compact;
  for (size_t t = 0; t < tensors.size(); ++t) {
    if (!live.count(static_cast<int>(t))) continue;
    remap[t] = static_cast<int>(compact.size());
    compact.push_back(std::move(tensors[t]));
  }
  auto fix = [&](std::vector<int>& ids) {
    for (int& id : ids) {
      if (id >= 0) id = remap[static_cast<size_t>(id)];
    }
  };
  for (auto& node : nodes) {
    fix(node.inputs);
    fix(node.outputs);
  }
  fix(inputs);
  fix(outputs);
  tensors = std::move(compact);
}

}  // namespace dnnsplit::ir
