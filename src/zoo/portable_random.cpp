#include "portable_random.h"

#include <cmath>

namespace dnnsplit::zoo {

double Rng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  // Largest multiple of span that fits; values above it would bias the modulo.
  const uint64_t limit = span == 0 ? 0 : (~uint64_t{0} / span) * span;
  for (;;) {
    const uint64_t r = engine_();
    if (limit == 0 || r < limit) return lo + static_cast<int64_t>(span == 0 ? r : r % span);
  }
}

double Rng::normal() {
  double sum = 0.0;
  for (int i = 0; i < 12; ++i) sum += uniform();
  return sum - 6.0;
}

double portable_exp(double x) {
  constexpr double kLn2 = 0.6931471805599453094;
  // x = k ln2 + r with |r| <= ln2/2; e^x = 2^k e^r, and ldexp is exact.
  const double k = std::nearbyint(x / kLn2);
  const double r = x - k * kLn2;
  double term = 1.0;
  double sum = 1.0;
  for (int n = 1; n < 20; ++n) {
    term *= r / n;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));
}

double normal_cdf(double x) {
  // Phi(x) = 1/2 + phi(x) * sum x^(2n+1) / (1*3*...*(2n+1)) (Marsaglia 2004); the series
  // converges for every x, and beyond |x| = 9 the answer is 0 or 1 to double precision.
  if (x < -9.0) return 0.0;
  if (x > 9.0) return 1.0;
  double term = x;
  double sum = x;
  const double x2 = x * x;
  for (int n = 1; n < 500 && std::fabs(term) > 1e-17 * std::fabs(sum); ++n) {
    term *= x2 / (2 * n + 1);
    sum += term;
  }
  constexpr double kInvSqrt2Pi = 0.3989422804014326779;
  return 0.5 + sum * kInvSqrt2Pi * portable_exp(-0.5 * x2);
}

}  // namespace dnnsplit::zoo
