// The kernel each family's plans use: the last (best) entry of its list, chosen once per process
// and logged; the generic entry when SIMD is switched off.
#include <spdlog/spdlog.h>

#include "bgemm.h"
#include "conv_kernels.h"
#include "qgemm.h"

namespace dnnsplit::kernels {

namespace {

template <typename Kernel>
const Kernel& choose(const std::vector<Kernel>& list, bool simd) {
  if (!simd) return list.front();
  spdlog::debug("kernels: using {}", list.back().name);
  return list.back();
}

}  // namespace

const QGemmKernel& qgemm_best(bool simd) {
  static const QGemmKernel& best = choose(qgemm_kernels(), true);
  return simd ? best : qgemm_kernels().front();
}

const DwKernel& dwconv_best(bool simd, bool int16_ok) {
  static const DwKernel& best = choose(dwconv_kernels(), true);
  static const DwKernel* best32 = [] {
    const auto& list = dwconv_kernels();
    for (auto it = list.rbegin(); it != list.rend(); ++it) {
      if (!it->int16_sums) return &*it;
    }
    return &list.front();
  }();
  if (!simd) return dwconv_kernels().front();
  return int16_ok || !best.int16_sums ? best : *best32;
}

const BGemmKernel& bgemm_best(bool simd) {
  static const BGemmKernel& best = choose(bgemm_kernels(), true);
  return simd ? best : bgemm_kernels().front();
}

const MaxPoolKernel& maxpool_best(bool simd) {
  static const MaxPoolKernel& best = choose(maxpool_kernels(), true);
  return simd ? best : maxpool_kernels().front();
}

const DecodeKernel& decode_best(bool simd) {
  static const DecodeKernel& best = choose(decode_kernels(), true);
  return simd ? best : decode_kernels().front();
}

const FconvKernel& fconv_best(bool depthwise, bool simd) {
  static const FconvKernel& dense = choose(fconv_kernels(false), true);
  static const FconvKernel& dw = choose(fconv_kernels(true), true);
  if (!simd) return fconv_kernels(depthwise).front();
  return depthwise ? dw : dense;
}

}  // namespace dnnsplit::kernels
