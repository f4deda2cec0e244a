// Bytes per image at a tensor: the one definition the planner, the cost model and the wire share.
#include <algorithm>
#include <cctype>

#include "dnnsplit/analysis.h"
#include "dnnsplit/error.h"

namespace dnnsplit {

int tensor_bits(const ir::TensorInfo& tensor) {
  if (tensor.quant) return tensor.quant->storage_bits();
  switch (tensor.type) {
    case ElemType::kDouble:
    case ElemType::kInt64:
    case ElemType::kUint64: return 64;
    case ElemType::kFloat:
    case ElemType::kInt32:
    case ElemType::kUint32: return 32;
    case ElemType::kInt16:
    case ElemType::kUint16: return 16;
    case ElemType::kInt8:
    case ElemType::kUint8:
    case ElemType::kBool: return 8;  // ONNX stores a bool in a byte
  }
  return 32;
}

std::string tensor_type_name(const ir::TensorInfo& tensor) {
  if (tensor.quant) return tensor.quant->finn_name();
  std::string name = elem_type_name(tensor.type);  // float32, int64, ...
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  return name;
}

int64_t packed_bytes_per_image(const ir::Graph& graph, int tensor_id) {
  check(tensor_id >= 0 && static_cast<size_t>(tensor_id) < graph.tensors.size(),
        "packed_bytes_per_image: no tensor with id " + std::to_string(tensor_id));
  const ir::TensorInfo& tensor = graph.tensor(tensor_id);
  // Activations carry the batch in dimension 0; a constant is the same for every image.
  const size_t first = tensor.is_constant() || tensor.shape.empty() ? 0 : 1;
  int64_t elements = 1;
  for (size_t d = first; d < tensor.shape.size(); ++d) {
    check(tensor.shape[d] >= 0, "tensor '" + tensor.name + "' has no static shape (" +
                                    shape_to_string(tensor.shape) + "); cannot count its bytes per image");
    elements *= tensor.shape[d];
  }
  const int64_t bits = elements * tensor_bits(tensor);
  return (bits + 7) / 8;
}

}  // namespace dnnsplit
