// Formula helpers shared by several hardware layers: FINN-R memory models, the memory-primitive
// choice of FINN's threshold estimator, and the accumulator bound of its LUT model.
#include <cmath>

#include "layers.h"

namespace dnnsplit::cost::detail {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

int bits_for(int64_t x) {
  int k = 0;
  while (k < 63 && (int64_t{1} << k) < x) ++k;
  return k;
}

int64_t bram18_finn_r(int64_t width, int64_t depth, bool vvau_divisors) {
  // matrixvectoractivation.py bram_estimation (UG573 SDP aspect ratios); the VVAU copy divides
  // the wide classes by 8/16/32 instead of 9/18/36.
  const int64_t d9 = vvau_divisors ? 8 : 9;
  const int64_t d18 = vvau_divisors ? 16 : 18;
  const int64_t d36 = vvau_divisors ? 32 : 36;
  if (width == 1) return ceil_div(depth, 16384);
  if (width == 2) return ceil_div(depth, 8192);
  if (width <= 4) return ceil_div(depth, 4096) * ceil_div(width, 4);
  if (width <= 9) return ceil_div(depth, 2048) * ceil_div(width, d9);
  if (width <= 18 || depth > 512) return ceil_div(depth, 1024) * ceil_div(width, d18);
  return ceil_div(depth, 512) * ceil_div(width, d36);
}

int64_t uram_blocks(int64_t width, int64_t depth) {
  return ceil_div(width, 72) * ceil_div(depth, 4096);
}

double acc_bound_bits(double alpha) {
  return std::ceil(alpha + std::log2(1.0 + std::pow(2.0, -alpha)) + 1.0);
}

int64_t finn_r_luts(int64_t pe, double mult, double adder, double acc, double thr, double cmp, int64_t c2) {
  // Same operation order as FINN's Python so that int() truncates the same double.
  const double inner = mult + adder + acc + thr + cmp;
  const double value = 300.0 + 1.1 * (static_cast<double>(pe) * inner) + static_cast<double>(c2);
  return static_cast<int64_t>(value);
}

MemoryChoice pick_memory_primitive(int64_t width, int64_t depth, const std::vector<std::string>& kinds) {
  struct Primitive {
    const char* kind;
    const char* name;
    int64_t width;
    int64_t depth;
  };
  // util/basic.py mem_primitives_versal, in its order (the order breaks ties).
  static const Primitive kPrimitives[] = {
      {"URAM", "URAM_72x4096", 72, 4096},   {"URAM", "URAM_36x8192", 36, 8192},
      {"URAM", "URAM_18x16384", 18, 16384}, {"URAM", "URAM_9x32768", 9, 32768},
      {"BRAM18", "BRAM18_36x512", 36, 512}, {"BRAM18", "BRAM18_18x1024", 18, 1024},
      {"BRAM18", "BRAM18_9x2048", 9, 2048}, {"LUTRAM", "LUTRAM", 1, 64},
  };
  MemoryChoice best;
  bool found = false;
  for (const auto& p : kPrimitives) {
    bool allowed = false;
    for (const auto& k : kinds) allowed = allowed || k == p.kind;
    if (!allowed) continue;
    const int64_t count = ceil_div(width, p.width) * ceil_div(depth, p.depth);
    const int64_t waste = count * p.width * p.depth - width * depth;
    if (!found || waste < best.waste_bits) {
      best = {p.kind, p.name, count, waste};
      found = true;
    }
  }
  return best;
}

}  // namespace dnnsplit::cost::detail
