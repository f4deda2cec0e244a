// Small hand-built IR graphs for the analysis tests (shapes and grids set by hand, no import).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"

namespace dnnsplit::test {

inline ir::QuantType grid(int bits, bool is_signed, bool bipolar = false) {
  ir::QuantType q;
  q.bits = bits;
  q.is_signed = is_signed;
  q.bipolar = bipolar;
  return q;
}

class GraphBuilder {
 public:
  int activation(const std::string& name, Shape shape, std::optional<ir::QuantType> quant = std::nullopt,
                 ElemType type = ElemType::kFloat) {
    ir::TensorInfo info;
    info.name = name;
    info.type = type;
    info.shape = std::move(shape);
    info.quant = std::move(quant);
    return graph.add_tensor(std::move(info));
  }
  int input(const std::string& name, Shape shape, std::optional<ir::QuantType> quant = std::nullopt) {
    const int id = activation(name, std::move(shape), std::move(quant));
    graph.inputs.push_back(id);
    return id;
  }
  int constant(const std::string& name, Shape shape, std::optional<ir::QuantType> quant = std::nullopt) {
    ir::TensorInfo info;
    info.name = name;
    info.shape = shape;
    info.quant = std::move(quant);
    info.constant = Tensor::zeros(ElemType::kFloat, std::move(shape));
    return graph.add_tensor(std::move(info));
  }
  ir::Node& node(const std::string& op, const std::string& name, std::vector<int> inputs, std::vector<int> outputs,
                 const std::string& domain = "") {
    ir::Node n;
    n.op_type = op;
    n.name = name;
    n.domain = domain;
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    graph.nodes.push_back(std::move(n));
    return graph.nodes.back();
  }
  void output(int id) { graph.outputs.push_back(id); }

  ir::Graph graph;
};

}  // namespace dnnsplit::test
