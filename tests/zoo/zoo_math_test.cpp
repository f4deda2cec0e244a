// The zoo's portable random numbers and activation statistics against independent values
// (libm, closed forms worked by hand).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "../../src/zoo/activation_stats.h"
#include "../../src/zoo/portable_random.h"

namespace dnnsplit::zoo {
namespace {

TEST(PortableMath, ExpAndNormalCdfMatchLibm) {
  for (double x : {-30.0, -5.5, -1.0, -0.3, 0.0, 0.7, 1.0, 2.5, 10.0, 40.0}) {
    EXPECT_NEAR(portable_exp(x) / std::exp(x), 1.0, 1e-14) << x;
  }
  for (double x : {-12.0, -8.5, -4.0, -1.96, -0.5, 0.0, 0.25, 1.0, 1.96, 3.0, 6.0, 8.9, 12.0}) {
    EXPECT_NEAR(normal_cdf(x), 0.5 * std::erfc(-x / std::sqrt(2.0)), 1e-12) << x;
  }
}

TEST(PortableMath, RngIsSeededUniformAndInRange) {
  Rng a(11), b(11), c(12);
  int same = 0;
  for (int i = 0; i < 100; ++i) {
    const double u = a.uniform();
    EXPECT_EQ(u, b.uniform());
    same += u == c.uniform() ? 1 : 0;
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  EXPECT_LT(same, 3);
  // 60,000 draws over -7..7: each value 4,000 +- 4 standard deviations (~62 each).
  std::vector<int> counts(15, 0);
  for (int i = 0; i < 60000; ++i) {
    const int64_t v = a.uniform_int(-7, 7);
    ASSERT_GE(v, -7);
    ASSERT_LE(v, 7);
    ++counts[static_cast<size_t>(v + 7)];
  }
  for (int n : counts) EXPECT_NEAR(n, 4000, 250);
  // Irwin-Hall(12) - 6 has mean 0 and variance 1.
  double sum = 0.0, sum2 = 0.0;
  for (int i = 0; i < 20000; ++i) {
    const double z = a.normal();
    sum += z;
    sum2 += z * z;
  }
  EXPECT_NEAR(sum / 20000, 0.0, 0.03);
  EXPECT_NEAR(sum2 / 20000, 1.0, 0.04);
}

TEST(ActivationStats, MaxOfFourTernaryValues) {
  // X uniform over {-1, 0, 1}: P(max of 4 = -1) = (1/3)^4, P(max <= 0) = (2/3)^4.
  const Stats x{ChannelStats::discrete({-1.0, 0.0, 1.0}, {1.0, 1.0, 1.0})};
  EXPECT_NEAR(x[0].mean, 0.0, 1e-15);
  EXPECT_NEAR(x[0].var, 2.0 / 3.0, 1e-15);
  const Stats m = max_of_stats(x, 4);
  ASSERT_EQ(m[0].support.size(), 3U);
  EXPECT_NEAR(m[0].prob[0], 1.0 / 81.0, 1e-15);
  EXPECT_NEAR(m[0].prob[1], 16.0 / 81.0 - 1.0 / 81.0, 1e-15);
  EXPECT_NEAR(m[0].prob[2], 1.0 - 16.0 / 81.0, 1e-15);
}

TEST(ActivationStats, QuantizingANormalMatchesItsCdf) {
  // N(0, 1) rounded to integers and clamped to [-1, 1]: P(0) = Phi(0.5) - Phi(-0.5) = 0.38292.
  const Stats z{ChannelStats::normal(0.0, 1.0)};
  const Stats q = map_stats(z, [](double v) { return std::clamp(std::nearbyint(v), -1.0, 1.0); });
  ASSERT_EQ(q[0].support, (std::vector<double>{-1.0, 0.0, 1.0}));
  // The normal is binned 241 ways over +-6 sigma: a rounding boundary inside a bin moves up to
  // ~0.025 sigma of mass (0.009 here) to one side.
  EXPECT_NEAR(q[0].prob[1], 0.382925, 0.02);
  EXPECT_NEAR(q[0].prob[0], q[0].prob[2], 1e-12);
  EXPECT_NEAR(z[0].quantile(0.975), 1.96, 0.05);
  // Affine maps are exact on moments; sums add them.
  const Stats a = affine_stats(z, {2.0}, {1.0});
  EXPECT_DOUBLE_EQ(a[0].mean, 1.0);
  EXPECT_DOUBLE_EQ(a[0].var, 4.0);
  const Stats s = sum_stats(a, z);
  EXPECT_DOUBLE_EQ(s[0].var, 5.0);
  EXPECT_DOUBLE_EQ(mean_of_stats(s, 5)[0].var, 1.0);
  EXPECT_EQ(repeat_stats(s, 3).size(), 3U);
}

}  // namespace
}  // namespace dnnsplit::zoo
