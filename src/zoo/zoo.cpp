#include "dnnsplit/zoo.h"

#include <functional>

#include "dnnsplit/error.h"
#include "zoo_models.h"

namespace dnnsplit {

namespace {

struct Model {
  ZooEntry entry;
  std::function<std::string(const std::string&, uint64_t)> build;
};

const std::vector<Model>& models() {
  static const std::vector<Model> list = [] {
    const std::string cnv = "CNV for CIFAR-10: 6 conv 3x3 (64,64,128,128,256,256, no padding), max-pool after "
                            "conv1 and conv3, FC 256-512-512-10, 8-bit input quantizer; ";
    const std::string tfc = "TFC for MNIST: FC 784-64-64-64-10 with BatchNorm; ";
    const std::string bnn_source = "Brevitas bnn_pynq (models/CNV.py, TFC.py); finn-examples build/bnn-pynq";
    using zoo::build_cnv;
    using zoo::build_tfc;
    return std::vector<Model>{
        {{"cnv-w1a1", cnv + "bipolar weights and activations", {1, 3, 32, 32}, "UINT8", bnn_source},
         [](const std::string& n, uint64_t s) { return build_cnv(n, 1, s); }},
        {{"cnv-w2a2", cnv + "ternary (2-bit narrow) weights and activations", {1, 3, 32, 32}, "UINT8", bnn_source},
         [](const std::string& n, uint64_t s) { return build_cnv(n, 2, s); }},
        {{"tfc-w1a1", tfc + "bipolar weights and activations", {1, 1, 28, 28}, "UINT8",
          bnn_source + "; QONNX model zoo TFC_1W1A.onnx"},
         [](const std::string& n, uint64_t s) { return build_tfc(n, 1, s); }},
        {{"tfc-w2a2", tfc + "ternary (2-bit narrow) weights and activations", {1, 1, 28, 28}, "UINT8",
          bnn_source + "; QONNX model zoo TFC_2W2A.onnx"},
         [](const std::string& n, uint64_t s) { return build_tfc(n, 2, s); }},
        {{"mobilenetv1-w4a4",
          "MobileNet-V1 1.0 for ImageNet at 224x224: conv 3x3/2 (8-bit weights), 13 depthwise-separable "
          "blocks, 7x7 truncating average pool, FC 1024-1000; 4-bit weights and activations",
          {1, 3, 224, 224}, "UINT8",
          "Brevitas imagenet_classification quant_mobilenet_v1_4b; finn-examples build/mobilenet-v1"},
         zoo::build_mobilenet_v1},
        {{"resnet8-w4a4",
          "ResNet-8 for CIFAR-10: stem conv 3-16, three basic blocks (16, 32, 64 ch; stride 2 with 1x1 "
          "projection shortcut in blocks 2 and 3), global average pool, FC 64-10; 4-bit weights and activations",
          {1, 3, 32, 32}, "UINT8", "dnnsplit test topology after He et al. 2016 (basic residual blocks)"},
         zoo::build_resnet8},
    };
  }();
  return list;
}

}  // namespace

std::vector<ZooEntry> zoo_list() {
  std::vector<ZooEntry> entries;
  for (const auto& model : models()) entries.push_back(model.entry);
  return entries;
}

std::string zoo_build(const std::string& name, uint64_t seed) {
  std::string valid;
  for (const auto& model : models()) {
    if (model.entry.name == name) return model.build(name, seed);
    valid += (valid.empty() ? "" : ", ") + model.entry.name;
  }
  throw Error("unknown zoo model '" + name + "'; valid names: " + valid);
}

}  // namespace dnnsplit
