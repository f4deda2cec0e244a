// Feeding a model (input checks and conversion) and reading classes off its output.
#include <algorithm>
#include <numeric>

#include "dnnsplit/dataset.h"
#include "dnnsplit/error.h"
#include "dnnsplit/npy.h"

namespace dnnsplit {

namespace {

std::string shape_with_batch(const Shape& shape) {
  std::string text = "[N";
  for (size_t i = 1; i < shape.size(); ++i) text += ", " + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return text + "]";
}

}  // namespace

bool output_is_topk_indices(const ir::Graph& graph, int output_position) {
  if (output_position < 0 || static_cast<size_t>(output_position) >= graph.outputs.size()) return false;
  const int tensor = graph.outputs[static_cast<size_t>(output_position)];
  const int producer = graph.producer(tensor);
  if (producer < 0) return false;
  const ir::Node& node = graph.nodes[static_cast<size_t>(producer)];
  return node.op_type == "TopK" && node.domain.empty() && node.outputs.size() == 2 && node.outputs[1] == tensor;
}

std::vector<std::vector<int64_t>> top_classes(const Tensor& output, int64_t k, bool indices_given) {
  check(!output.shape.empty() && output.shape[0] >= 1,
        "the model output has shape " + shape_to_string(output.shape) + ", which has no batch dimension");
  check(k >= 1, "--top needs k >= 1, got " + std::to_string(k));
  const int64_t batch = output.shape[0];
  const int64_t per_image = output.numel() / batch;
  check(per_image >= k, "the model output has " + std::to_string(per_image) + " values per image (shape " +
                            shape_to_string(output.shape) + "), fewer than the " + std::to_string(k) + " requested");
  const std::vector<double> values = output.as_doubles();
  std::vector<std::vector<int64_t>> result(static_cast<size_t>(batch));
  for (int64_t n = 0; n < batch; ++n) {
    const double* row = values.data() + n * per_image;
    auto& best = result[static_cast<size_t>(n)];
    if (indices_given) {
      best.assign(row, row + k);  // values are class indices already
      continue;
    }
    std::vector<int64_t> order(static_cast<size_t>(per_image));
    std::iota(order.begin(), order.end(), 0);
    // stable_sort keeps the lower index first among equal scores.
    std::stable_sort(order.begin(), order.end(), [row](int64_t a, int64_t b) { return row[a] > row[b]; });
    best.assign(order.begin(), order.begin() + k);
  }
  return result;
}

Tensor prepare_model_input(const ir::Graph& graph, int input_position, const Tensor& given, const std::string& what) {
  check(input_position >= 0 && static_cast<size_t>(input_position) < graph.inputs.size(),
        what + ": the model has " + std::to_string(graph.inputs.size()) + " inputs, no input number " +
            std::to_string(input_position + 1));
  const ir::TensorInfo& input = graph.tensor(graph.inputs[static_cast<size_t>(input_position)]);
  const Shape& expected = input.shape;
  bool matches = given.shape.size() == expected.size() && !given.shape.empty() && given.shape[0] >= 1;
  for (size_t i = 1; matches && i < expected.size(); ++i) {
    matches = expected[i] < 0 || expected[i] == given.shape[i];
  }
  check(matches, what + " has shape " + shape_to_string(given.shape) + " but model input '" + input.name +
                     "' expects " + shape_with_batch(expected) + " (any batch N >= 1)");
  return cast_tensor_exact(given, input.type, what + " (for model input '" + input.name + "')");
}

}  // namespace dnnsplit
