// MobileNet-V1 1.0 (224x224) as Brevitas' quant_mobilenet_v1_4b with finn-examples' pre-
// processing: /255, per-channel mean subtraction, global std division, input declared UINT8.
#include <string>

#include "model_builder.h"
#include "zoo_models.h"

namespace dnnsplit::zoo {

namespace {

struct Block {
  int64_t in_channels;
  int64_t out_channels;
  int64_t stride;
};

// Stages [[32], [64], [128,128], [256,256], [512 x 6], [1024,1024]]: the first block of every
// stage after the first has stride 2.
constexpr Block kBlocks[13] = {{32, 64, 1},    {64, 128, 2},   {128, 128, 1}, {128, 256, 2},  {256, 256, 1},
                               {256, 512, 2},  {512, 512, 1},  {512, 512, 1}, {512, 512, 1},  {512, 512, 1},
                               {512, 512, 1},  {512, 1024, 2}, {1024, 1024, 1}};

ActQuant relu_act(bool per_channel) { return ActQuant{4, false, false, per_channel, 0.0}; }

}  // namespace

std::string build_mobilenet_v1(const std::string& name, uint64_t seed) {
  ModelBuilder b(name, seed);
  Act x = b.input_uint8("global_in", {1, 3, 224, 224});
  x = b.elementwise(x, "prep_div", "Div", {255.0F});
  x = b.elementwise(x, "prep_sub_mean", "Sub", {0.485F, 0.456F, 0.406F});
  x = b.elementwise(x, "prep_div_std", "Div", {0.226F});

  // Init block: 3x3 stride 2 without padding (111x111 out), 8-bit per-channel weights.
  x = b.conv(x, "conv0", 32, 3, 2, 0, 1, WeightQuant{8, true, 0.0});
  x = b.batch_norm(x, "conv0_bn", 1e-5F);
  x = b.relu(x, "conv0_relu");
  x = b.quant(x, "conv0_act", relu_act(true));

  const WeightQuant weights{4, true, 0.0};
  for (int i = 0; i < 13; ++i) {
    const Block& block = kBlocks[i];
    const std::string prefix = "b" + std::to_string(i + 1);
    x = b.conv(x, prefix + "_dw", block.in_channels, 3, block.stride, 1, block.in_channels, weights);
    x = b.batch_norm(x, prefix + "_dw_bn", 1e-5F);
    x = b.relu(x, prefix + "_dw_relu");
    x = b.quant(x, prefix + "_dw_act", relu_act(false));
    x = b.conv(x, prefix + "_pw", block.out_channels, 1, 1, 0, 1, weights);
    x = b.batch_norm(x, prefix + "_pw_bn", 1e-5F);
    x = b.relu(x, prefix + "_pw_relu");
    // The last stage feeds the average pool, which needs one scale for all channels.
    x = b.quant(x, prefix + "_pw_act", relu_act(i < 11));
  }

  // TruncAvgPool2d as Brevitas exports it: AveragePool, Mul by k^2 (the window sum), Trunc
  // from the 10-bit sum (15 * 49 < 2^10) to 4 bits with the input's scale.
  const float act_scale = x.quant_scale.at(0);
  x = b.average_pool(x, "pool", 7, 1);
  x = b.elementwise(x, "pool_mul", "Mul", {49.0F});
  x = b.trunc(x, "pool_trunc", act_scale, 10, 4);
  x = b.flatten(x, "flatten");
  x = b.matmul(x, "fc", 1000, WeightQuant{4, false, 0.0});
  x = b.bias(x, "fc_bias");
  return b.finish(x);
}

}  // namespace dnnsplit::zoo
