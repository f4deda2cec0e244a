// CNV and TFC from Brevitas' bnn_pynq examples, as FINN's finn-examples feed them: input
// declared UINT8 and divided by 255, mapped to [-1, 1], constant-scale quantizers throughout.
#include <string>

#include "model_builder.h"
#include "zoo_models.h"

namespace dnnsplit::zoo {

namespace {

// Brevitas' CommonActQuant at 1 or 2 bits: min -1, max 1, narrow, scale 1 (bipolar / ternary).
ActQuant bnn_act(int bits) { return ActQuant{bits, true, true, false, 1.0}; }

}  // namespace

std::string build_cnv(const std::string& name, int bits, uint64_t seed) {
  ModelBuilder b(name, seed);
  Act x = b.input_uint8("global_in", {1, 3, 32, 32});
  x = b.elementwise(x, "prep_div", "Div", {255.0F});
  x = b.elementwise(x, "prep_mul", "Mul", {2.0F});
  x = b.elementwise(x, "prep_sub", "Sub", {1.0F});
  // 8-bit signed non-narrow input quantizer with power-of-two scale: Q1.7 over [-1, 1).
  x = b.quant(x, "inp_quant", ActQuant{8, true, false, false, 1.0 / 128.0});

  const WeightQuant weights{bits, false, 1.0};
  constexpr int64_t kChannels[6] = {64, 64, 128, 128, 256, 256};
  int pool = 0;
  for (int i = 0; i < 6; ++i) {
    const std::string layer = "conv" + std::to_string(i);
    x = b.conv(x, layer, kChannels[i], 3, 1, 0, 1, weights);
    x = b.batch_norm(x, layer + "_bn", 1e-4F);
    x = b.quant(x, layer + "_act", bnn_act(bits));
    if (i == 1 || i == 3) x = b.max_pool(x, "pool" + std::to_string(pool++), 2, 2);
  }
  x = b.flatten(x, "flatten");
  for (int i = 0; i < 2; ++i) {
    const std::string layer = "fc" + std::to_string(i);
    x = b.matmul(x, layer, 512, weights);
    x = b.batch_norm(x, layer + "_bn", 1e-4F);
    x = b.quant(x, layer + "_act", bnn_act(bits));
  }
  x = b.matmul(x, "fc2", 10, weights);
  x = b.tensor_norm(x, "tnorm", true);
  return b.finish(x);
}

std::string build_tfc(const std::string& name, int bits, uint64_t seed) {
  ModelBuilder b(name, seed);
  Act x = b.input_uint8("global_in", {1, 1, 28, 28});
  x = b.elementwise(x, "prep_div", "Div", {255.0F});
  // The QONNX zoo export flattens first, then maps [0, 1] to [-1, 1] and quantizes at the
  // activation width (TFC_2W2A.onnx: Reshape, Mul 2, Sub 1, Quant 2-bit narrow scale 1).
  x = b.flatten(x, "flatten");
  x = b.elementwise(x, "prep_mul", "Mul", {2.0F});
  x = b.elementwise(x, "prep_sub", "Sub", {1.0F});
  x = b.quant(x, "inp_quant", bnn_act(bits));

  const WeightQuant weights{bits, false, 1.0};
  for (int i = 0; i < 3; ++i) {
    const std::string layer = "fc" + std::to_string(i);
    x = b.matmul(x, layer, 64, weights);
    x = b.batch_norm(x, layer + "_bn", 1e-5F);
    x = b.quant(x, layer + "_act", bnn_act(bits));
  }
  x = b.matmul(x, "fc3", 10, weights);
  // TensorNorm exported unfolded, as in the QONNX zoo file.
  x = b.tensor_norm(x, "tnorm", false);
  return b.finish(x);
}

}  // namespace dnnsplit::zoo
