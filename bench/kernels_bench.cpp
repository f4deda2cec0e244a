// Google Benchmark for the low-bit kernels: each family's list, each kernel, on the shapes that
// decide the whole-model rate (CNV conv1/conv3, MobileNet pointwise and depthwise layers).
// Counter "MAC/s" is multiply-accumulates per second (binary MACs for the popcount family).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "bgemm.h"
#include "conv_kernels.h"
#include "dnnsplit/engine.h"
#include "dnnsplit/kernels.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/zoo.h"
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
    {"cnv_w1a1_conv1", 784, 64, 576, 1, 1},        // the same layer on bipolar codes (u in {0, 1})
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

// ---- bgemm: the binary layers of CNV-W1A1 ----

struct BinShape {
  const char* layer;
  int64_t m, n, k_bits;
};
const BinShape kBinShapes[] = {
    {"cnv_w1a1_conv1", 784, 64, 576},
    {"cnv_w1a1_conv3", 100, 128, 1152},
    {"cnv_w1a1_conv5", 1, 256, 2304},
};

void bgemm_bench(benchmark::State& state, const BGemmKernel& kernel, BinShape s) {
  std::mt19937_64 rng(2);
  const int64_t words = (s.k_bits + 63) / 64;
  std::vector<uint64_t> a(static_cast<size_t>(s.m * words)), w(static_cast<size_t>(s.n * words));
  for (auto& v : a) v = rng();
  for (auto& v : w) v = rng();
  const auto packed = pack_bgemm_weights(w.data(), s.n, words, kernel.nr);
  std::vector<int32_t> t(static_cast<size_t>(s.n), 0);
  const auto packed_t = pack_thresholds(t.data(), s.n, 1, kernel.nr);
  std::vector<uint8_t> out(static_cast<size_t>(s.m * s.n));
  BGemmArgs args;
  args.a = a.data();
  args.lda = static_cast<size_t>(words);
  args.m = s.m;
  args.w = packed.data();
  args.n = s.n;
  args.k_words = words;
  args.k_bits = static_cast<int32_t>(s.k_bits);
  args.out = out.data();
  args.ldo = static_cast<size_t>(s.n);
  args.thresholds = packed_t.data();
  args.threshold_count = 1;
  for (auto _ : state) {
    kernel.fn(args);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(s.m * s.n * s.k_bits) * static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}

// ---- window kernels: MobileNet's depthwise layers and first conv ----

ConvGeometry conv_geometry(int64_t hw, int64_t c, int64_t oc, int64_t k, int64_t stride, int64_t pad) {
  ConvGeometry g;
  g.in_h = g.in_w = hw;
  g.in_c = c;
  g.out_c = oc;
  g.kernel_h = g.kernel_w = k;
  g.stride_h = g.stride_w = stride;
  g.pad_top = g.pad_left = pad;
  g.out_h = g.out_w = (hw + 2 * pad - k) / stride + 1;
  return g;
}

struct WindowShape {
  const char* layer;
  ConvGeometry g;
};
const WindowShape kDwShapes[] = {{"mnv1_b1_dw", conv_geometry(111, 32, 32, 3, 1, 1)},
                                 {"mnv1_b7_dw", conv_geometry(14, 512, 512, 3, 1, 1)}};
const WindowShape kDenseShapes[] = {{"mnv1_conv0", conv_geometry(224, 3, 32, 3, 2, 1)}};

void fconv_bench(benchmark::State& state, const FconvKernel& kernel, WindowShape s, bool filter) {
  const ConvGeometry& g = s.g;
  std::mt19937 rng(3);
  std::vector<float> in(static_cast<size_t>(g.in_h * g.in_w * g.in_c) + kReadSlack);
  for (auto& v : in) v = static_cast<float>(rng() % 1000) * 1e-3F;
  const int64_t cp = round_up(g.out_c, kernel.nr);
  const int64_t taps = g.taps();
  std::vector<double> w(static_cast<size_t>((kernel.depthwise ? 1 : g.in_c) * taps * cp));
  for (auto& v : w) v = static_cast<double>(static_cast<float>(static_cast<int>(rng() % 15) - 7) * 0.1F);  // float32 weights
  constexpr int kCount = 15;
  std::vector<float> t(static_cast<size_t>(g.out_c * kCount));
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<float>(i % kCount) * 0.1F - 0.7F;
  const auto tp = pack_float_thresholds(t.data(), g.out_c, kCount, kernel.nr);
  std::vector<uint8_t> out(static_cast<size_t>(g.out_h * g.out_w * g.out_c));
  FconvArgs args;
  args.g = &g;
  args.in = in.data();
  args.w = w.data();
  args.c_padded = cp;
  args.oy0 = 0;
  args.oy1 = g.out_h;
  args.out_codes = out.data();
  args.thresholds = tp.data();
  args.threshold_count = kCount;
  const auto f = filter ? make_fconv_filter(g, w, {}, cp, 1.0, t, kCount) : std::nullopt;
  if (f) use_fconv_filter(args, *f);
  for (auto _ : state) {
    kernel.fn(args);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double macs = static_cast<double>(g.out_h * g.out_w * g.out_c * taps * (kernel.depthwise ? 1 : g.in_c));
  state.counters["MAC/s"] = benchmark::Counter(macs * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// CNV's first max-pool: 28x28x64 codes, 2x2 stride 2.
void maxpool_bench(benchmark::State& state, const MaxPoolKernel& kernel) {
  const ConvGeometry g = conv_geometry(28, 64, 64, 2, 2, 0);
  std::mt19937 rng(6);
  std::vector<uint8_t> in(static_cast<size_t>(g.in_h * g.in_w * g.in_c) + kReadSlack);
  for (auto& v : in) v = static_cast<uint8_t>(rng() % 4);
  std::vector<uint8_t> out(static_cast<size_t>(g.out_h * g.out_w * g.out_c));
  for (auto _ : state) {
    kernel.fn(g, in.data(), 0, g.out_h, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(in.size() - kReadSlack) * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}

void dwconv_bench(benchmark::State& state, const DwKernel& kernel, WindowShape s) {
  const ConvGeometry& g = s.g;
  std::mt19937 rng(4);
  std::vector<uint8_t> in(static_cast<size_t>(g.in_h * g.in_w * g.in_c) + kReadSlack);
  for (auto& v : in) v = static_cast<uint8_t>(rng() % 16);
  const int64_t cp = round_up(g.out_c, kernel.nr);
  std::vector<int32_t> w(static_cast<size_t>(g.taps() * cp));
  for (auto& v : w) v = static_cast<int32_t>(rng() % 15) - 7;
  constexpr int kCount = 15;
  std::vector<int32_t> t(static_cast<size_t>(g.out_c * kCount));
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<int32_t>(i % kCount) * 20 - 150;
  const auto tp = pack_thresholds(t.data(), g.out_c, kCount, kernel.nr);
  std::vector<uint8_t> out(static_cast<size_t>(g.out_h * g.out_w * g.out_c));
  DwArgs args;
  args.g = &g;
  args.in = in.data();
  args.w = w.data();
  args.c_padded = cp;
  args.oy0 = 0;
  args.oy1 = g.out_h;
  args.out = out.data();
  args.thresholds = tp.data();
  args.threshold_count = kCount;
  const auto w16 = narrow_int16(w);
  const auto t16 = narrow_int16(tp);
  args.w16 = w16.data();  // 15 * 7 * 9 fits int16 sums
  args.thresholds16 = t16.data();
  for (auto _ : state) {
    kernel.fn(args);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["MAC/s"] = benchmark::Counter(static_cast<double>(g.out_h * g.out_w * g.out_c * g.taps()) *
                                                   static_cast<double>(state.iterations()),
                                               benchmark::Counter::kIsRate);
}

// im2col for CNV's conv1: the copy a GEMM over explicit rows pays per image.
void im2col_bench(benchmark::State& state) {
  const ConvGeometry g = conv_geometry(30, 64, 64, 3, 1, 0);
  std::vector<uint8_t> in(static_cast<size_t>(g.in_h * g.in_w * g.in_c) + kReadSlack, 1);
  const int64_t k = g.taps() * g.in_c;
  std::vector<uint8_t> a(static_cast<size_t>(56 * k));
  for (auto _ : state) {
    for (int64_t p0 = 0; p0 < g.out_h * g.out_w; p0 += 56) {
      im2col_u8(g, in.data(), p0, std::min(p0 + 56, g.out_h * g.out_w), 0, a.data(), static_cast<size_t>(k));
      benchmark::DoNotOptimize(a.data());
    }
  }
  state.counters["bytes/s"] = benchmark::Counter(static_cast<double>(g.out_h * g.out_w * k) * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(im2col_bench)->Name("im2col_u8__generic/cnv_conv1");

// Whole compiled plans of zoo models (the kernels in context): images per second, batch = 2 x threads.
void plan_bench(benchmark::State& state, const std::string& model, int threads) {
  const ir::Graph graph = import_model_from_bytes(zoo_build(model, 1), model);
  const int64_t opset = graph.opset;
  const FastPlan plan = compile_fast_plan(
      graph, [opset](const ir::Node& n, const std::vector<const Tensor*>& in) { return engine::run_node(n, in, opset); },
      {threads, true, 0});
  Shape shape = graph.tensor(graph.inputs[0]).shape;
  shape[0] = 2 * threads;
  std::mt19937 rng(5);
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (auto& x : v) x = static_cast<float>(rng() % 256);
  const std::vector<Tensor> inputs{Tensor::from_floats(shape, v)};
  for (auto _ : state) benchmark::DoNotOptimize(plan.run(inputs));
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(shape[0]) * static_cast<double>(state.iterations()),
                                                  benchmark::Counter::kIsRate);
}

int register_all() {
  for (const char* model : {"cnv-w2a2", "cnv-w1a1", "mobilenetv1-w4a4"}) {
    for (int threads : {1, 2}) {
      benchmark::RegisterBenchmark(("plan/" + std::string(model) + "/threads:" + std::to_string(threads)).c_str(), plan_bench,
                                   std::string(model), threads)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (const auto& kernel : qgemm_kernels()) {
    for (const auto& s : kGemmShapes) {
      benchmark::RegisterBenchmark((kernel.name + "/" + s.layer).c_str(), qgemm_bench, kernel, s);
    }
  }
  for (const auto& kernel : bgemm_kernels()) {
    for (const auto& s : kBinShapes) {
      benchmark::RegisterBenchmark((kernel.name + "/" + s.layer).c_str(), bgemm_bench, kernel, s);
    }
  }
  for (const auto& kernel : dwconv_kernels()) {
    for (const auto& s : kDwShapes) benchmark::RegisterBenchmark((kernel.name + "/" + s.layer).c_str(), dwconv_bench, kernel, s);
  }
  for (const auto& kernel : maxpool_kernels()) {
    benchmark::RegisterBenchmark((kernel.name + "/cnv_pool0").c_str(), maxpool_bench, kernel);
  }
  for (const bool dw : {false, true}) {
    for (const auto& kernel : fconv_kernels(dw)) {
      for (const auto& s : dw ? std::vector<WindowShape>(std::begin(kDwShapes), std::end(kDwShapes))
                              : std::vector<WindowShape>(std::begin(kDenseShapes), std::end(kDenseShapes))) {
        benchmark::RegisterBenchmark((kernel.name + "/" + s.layer).c_str(), fconv_bench, kernel, s, false);
        if (!dw && kernel.nr > 1) {
          benchmark::RegisterBenchmark((kernel.name + "+f32filter/" + s.layer).c_str(), fconv_bench, kernel, s, true);
        }
      }
    }
  }
  return 0;
}

const int kRegistered = register_all();

}  // namespace
}  // namespace dnnsplit::kernels

BENCHMARK_MAIN();
