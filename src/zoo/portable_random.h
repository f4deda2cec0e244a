// Random numbers and the few transcendental functions the zoo needs, written with integer and
// IEEE basic arithmetic only, so a seed gives the same model bytes with any standard library
// (std::*_distribution and libm's exp/erf differ between implementations).
#pragma once

#include <cstdint>
#include <random>

namespace dnnsplit::zoo {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi] (inclusive), by rejection so every value is equally likely.
  int64_t uniform_int(int64_t lo, int64_t hi);
  // Approximately standard normal: Irwin-Hall sum of 12 uniforms minus 6 (tails cut at +-6).
  double normal();

 private:
  std::mt19937_64 engine_;  // the engine itself is fully specified by the standard
};

// e^x by range reduction and a Taylor series; |relative error| < 1e-15 for |x| < 700.
double portable_exp(double x);
// Standard normal cumulative distribution function, absolute error < 1e-12.
double normal_cdf(double x);

}  // namespace dnnsplit::zoo
