// Per-channel statistics of activations, propagated through a network while it is built, so
// BatchNorm parameters and activation scales can be chosen analytically: the pre-BN sums get
// running_mean/running_var equal to their expected moments, and each quantizer's scale covers
// its input's range. Inputs are modelled as independent and uniform over the pixel values.
#pragma once

#include <functional>
#include <vector>

namespace dnnsplit::zoo {

// One channel's values over images and positions: a discrete distribution when support is
// non-empty, otherwise approximately normal with the given moments.
struct ChannelStats {
  double mean = 0.0;
  double var = 0.0;
  std::vector<double> support;  // ascending
  std::vector<double> prob;

  static ChannelStats normal(double mean, double var);
  static ChannelStats discrete(std::vector<double> values, std::vector<double> probs);
  bool is_discrete() const { return !support.empty(); }
  // The distribution as discrete points (a normal one is binned over +-6 sigma).
  ChannelStats as_discrete() const;
  // Smallest support value v with P(X <= v) >= p.
  double quantile(double p) const;
};

using Stats = std::vector<ChannelStats>;

// Y = f(X) applied to every channel (normals are discretized first).
Stats map_stats(const Stats& stats, const std::function<double(double)>& f);
// Y = a_c * X + b_c, exact on moments; a and b have one value or one per channel.
Stats affine_stats(const Stats& stats, const std::vector<double>& a, const std::vector<double>& b);
// Maximum of n independent draws of each channel.
Stats max_of_stats(const Stats& stats, int n);
// Mean of n independent draws of each channel.
Stats mean_of_stats(const Stats& stats, int n);
// Sum of two independent variables per channel.
Stats sum_stats(const Stats& a, const Stats& b);
// Each channel repeated `times` times in a row (flattening C x H x W into C*H*W channels).
Stats repeat_stats(const Stats& stats, int64_t times);

}  // namespace dnnsplit::zoo
