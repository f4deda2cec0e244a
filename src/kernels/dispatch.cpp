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

const DwKernel& dwconv_best(bool simd) {
  static const DwKernel& best = choose(dwconv_kernels(), true);
  return simd ? best : dwconv_kernels().front();
}

const BGemmKernel& bgemm_best(bool simd) {
  static const BGemmKernel& best = choose(bgemm_kernels(), true);
  return simd ? best : bgemm_kernels().front();
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
