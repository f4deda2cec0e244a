// A small residual network for CIFAR-10 (stem + three basic blocks, He et al. 2016 style) with
// 4-bit weights and activations. Not a published FINN model: it is here because it is not a
// chain (each block's input feeds both its first conv and its shortcut Add).
#include <string>

#include "model_builder.h"
#include "zoo_models.h"

namespace dnnsplit::zoo {

std::string build_resnet8(const std::string& name, uint64_t seed) {
  ModelBuilder b(name, seed);
  Act x = b.input_uint8("global_in", {1, 3, 32, 32});
  x = b.elementwise(x, "prep_div", "Div", {255.0F});
  x = b.elementwise(x, "prep_mul", "Mul", {2.0F});
  x = b.elementwise(x, "prep_sub", "Sub", {1.0F});
  x = b.quant(x, "inp_quant", ActQuant{8, true, false, false, 1.0 / 128.0});

  const WeightQuant weights{4, true, 0.0};
  const ActQuant act{4, false, false, false, 0.0};
  x = b.conv(x, "stem", 16, 3, 1, 1, 1, weights);
  x = b.batch_norm(x, "stem_bn", 1e-5F);
  x = b.relu(x, "stem_relu");
  x = b.quant(x, "stem_act", act);

  constexpr int64_t kChannels[3] = {16, 32, 64};
  for (int s = 0; s < 3; ++s) {
    const std::string stage = "s" + std::to_string(s + 1);
    const int64_t stride = s == 0 ? 1 : 2;
    const Act block_in = x;
    Act y = b.conv(block_in, stage + "_conv_a", kChannels[s], 3, stride, 1, 1, weights);
    y = b.batch_norm(y, stage + "_conv_a_bn", 1e-5F);
    y = b.relu(y, stage + "_conv_a_relu");
    y = b.quant(y, stage + "_conv_a_act", act);
    y = b.conv(y, stage + "_conv_b", kChannels[s], 3, 1, 1, 1, weights);
    y = b.batch_norm(y, stage + "_conv_b_bn", 1e-5F);
    Act shortcut = block_in;
    if (stride != 1 || block_in.channels() != kChannels[s]) {
      shortcut = b.conv(block_in, stage + "_proj", kChannels[s], 1, stride, 0, 1, weights);
      shortcut = b.batch_norm(shortcut, stage + "_proj_bn", 1e-5F);
    }
    x = b.add(y, shortcut, stage + "_add");
    x = b.relu(x, stage + "_relu");
    x = b.quant(x, stage + "_act", act);
  }
  x = b.global_average_pool(x, "pool");
  x = b.quant(x, "pool_act", act);
  x = b.flatten(x, "flatten");
  x = b.matmul(x, "fc", 10, WeightQuant{4, false, 0.0});
  x = b.bias(x, "fc_bias");
  return b.finish(x);
}

}  // namespace dnnsplit::zoo
