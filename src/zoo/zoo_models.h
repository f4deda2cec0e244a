// The zoo's model builders, one function per topology family (internal to src/zoo).
#pragma once

#include <cstdint>
#include <string>

namespace dnnsplit::zoo {

// Brevitas bnn_pynq CNV with `bits`-bit weights and activations (1 or 2).
std::string build_cnv(const std::string& name, int bits, uint64_t seed);
// Brevitas bnn_pynq TFC with `bits`-bit weights and activations (1 or 2).
std::string build_tfc(const std::string& name, int bits, uint64_t seed);
// Brevitas MobileNet-V1 1.0 at 224x224, 4-bit weights and activations, 8-bit first layer.
std::string build_mobilenet_v1(const std::string& name, uint64_t seed);
// A ResNet-8 for CIFAR-10 with 4-bit weights and activations.
std::string build_resnet8(const std::string& name, uint64_t seed);

}  // namespace dnnsplit::zoo
