// What crosses the network between boards: tensor specs and tensors packed at their bit width.
//
// A quantized tensor travels as its integer codes q = round(x / scale) + zero_point, packed
// LSB-first at the type's storage bits (a 2-bit tensor is 4 values per byte; signed codes in
// two's complement, bipolar -1/+1 as bit 0/1); its scale travels once per stream in the spec.
// Tensors without a quantized type travel as raw little-endian values of their element type.
// Decoding gives back values bit-identical to the originals: pack_tensor checks every value
// and refuses one that is off its grid. The one exception is the sign of zero: -0.0 is sent
// as code 0 and comes back as +0.0 (the integer grid has no negative zero).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/tensor.h"

namespace dnnsplit::wire {

// Version of proto/dnnsplit/v1/node.proto's semantics; nodes refuse streams of another version.
inline constexpr uint32_t kProtocolVersion = 1;
// gRPC puts a 5-byte prefix (compression flag + length) in front of every message.
inline constexpr int64_t kGrpcMessagePrefixBytes = 5;

struct TensorSpec {
  std::string name;
  ElemType type = ElemType::kFloat;
  Shape shape;  // dimension 0 is the batch, as in the model (usually 1)
  std::optional<ir::QuantType> quant;

  // Product of dimensions 1..; throws Error when one of them is unknown or not positive.
  int64_t elements_per_image() const;
  // Storage bits of one value on the wire: the quantized type's, else the element type's.
  int bits_per_value() const;
  // ceil(elements * bits / 8): the plan's bytes/image.
  int64_t bytes_per_image() const;
  // ceil(images * elements * bits / 8): a batch is packed as one bit stream.
  int64_t packed_bytes(int64_t images) const;
  // "'act5_out' INT2 [1, 256, 1, 1]" for messages.
  std::string describe() const;
};

// The spec of a graph tensor (shape, element type and quantized type as the IR knows them).
TensorSpec spec_from_tensor_info(const ir::TensorInfo& info);

// "" when `given` describes the same wire tensor as `expected` (name, element type, shape after
// the batch dimension, quantized type); otherwise one sentence naming the first difference.
std::string spec_difference(const TensorSpec& expected, const TensorSpec& given);

// Packs `tensor` (dimension 0: any number of images; the other dimensions as the spec's).
// Throws Error naming `what`, the tensor, the index and the value for a value off the grid,
// out of range, not finite, or a shape or element type that is not the spec's.
std::string pack_tensor(const TensorSpec& spec, const Tensor& tensor, const std::string& what);
// Inverse of pack_tensor for a batch of `images`. Throws Error naming `what` when the byte
// count is not exactly packed_bytes(images) or a code lies outside the type's range.
Tensor unpack_tensor(const TensorSpec& spec, std::string_view bytes, int64_t images, const std::string& what);

// Lower-case hex sha256 of bytes, and incrementally for streamed uploads.
std::string sha256_hex(std::string_view bytes);
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string finish_hex();

 private:
  void* ctx_;  // EVP_MD_CTX, kept out of this header
};
// True for 64 lower-case hex digits: the only names a node's store accepts.
bool is_sha256_hex(std::string_view text);

}  // namespace dnnsplit::wire
