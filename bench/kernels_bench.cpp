// Google Benchmark for the low-bit kernels: each family's list, each kernel, on the shapes that
// decide the whole-model rate (CNV conv1/conv3, MobileNet pointwise and depthwise layers).
// Counter "MAC/s" is multiply-accumulates per second (binary MACs for the popcount family).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "qgemm.h"

namespace dnnsplit::kernels {
namespace {

struct GemmShape {
  const char* layer;
  int64_t m, n, k;
  int a_max, w_max;
};

// Per image: rows = output pixels, n = output channels, k = kernel taps x input channels.
const GemmShape kGemmShapes[] = {
    {"cnv_w2a2_conv1", 784, 64, 576, 2, 1},        // 28x28 out, 3x3x64
    {"cnv_w2a2_conv3", 100, 128, 1152, 2, 1},      // 10x10 out, 3x3x128
    {"mnv1_w4a4_b2_pw", 3136, 128, 64, 15, 7},     // 56x56, 1x1 64->128
    {"mnv1_w4a4_b7_pw", 196, 512, 512, 15, 7},     // 14x14, 1x1 512->512
};

void qgemm_bench(benchmark::State& state, const QGemmKernel& kernel, GemmShape s) {
  std::mt19937 rng(1);
  const int64_t kp = round_up(s.k, kernel.kr);
  std::vector<uint8_t> a(static_cast<size_t>(s.m * kp));
  for (auto& v : a) v = static_cast<uint8_t>(rng() % (s.a_max + 1));
  std::vector<int8_t> w(static_cast<size_t>(s.n * s.k));
  for (auto& v : w) v = static_cast<int8_t>(static_cast<int>(rng() % (2 * s.w_max + 1)) - s.w_max);
  const auto packed = pack_qgemm_weights(w.data(), s.n, s.k, kernel.nr, kernel.kr);
  const int count = s.a_max == 2 ? 2 : 15;
  std::vector<int32_t> t(static_cast<size_t>(s.n * count));
  for (int64_t j = 0; j < s.n; ++j) {
    for (int q = 0; q < count; ++q) t[static_cast<size_t>(j * count + q)] = (q - count / 2) * 8;
  }
  const auto packed_t = pack_thresholds(t.data(), s.n, count, kernel.nr);
  std::vector<uint8_t> out(static_cast<size_t>(s.m * s.n));
  QGemmArgs args;
  args.a = a.data();
  args.lda = static_cast<size_t>(kp);
  args.m = s.m;
  args.w = packed.data();
  args.n = s.n;
  args.k_padded = kp;
  args.k_chunk = qgemm_k_chunk(kernel, s.a_max, s.w_max, kp);
  args.out = out.data();
  args.ldo = static_cast<size_t>(s.n);
  args.thresholds = packed_t.data();
  args.threshold_count = count;
  for (auto _ : state) {
    kernel.fn(args);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(s.m * s.n * s.k) * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}

int register_all() {
  for (const auto& kernel : qgemm_kernels()) {
    for (const auto& s : kGemmShapes) {
      benchmark::RegisterBenchmark((kernel.name + "/" + s.layer).c_str(), qgemm_bench, kernel, s);
    }
  }
  return 0;
}

const int kRegistered = register_all();

}  // namespace
}  // namespace dnnsplit::kernels

BENCHMARK_MAIN();
