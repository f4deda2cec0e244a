#include "activation_stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "portable_random.h"

namespace dnnsplit::zoo {

namespace {

ChannelStats from_map(const std::map<double, double>& mass) {
  std::vector<double> values;
  std::vector<double> probs;
  for (const auto& [v, p] : mass) {
    if (p <= 0.0) continue;
    values.push_back(v);
    probs.push_back(p);
  }
  return ChannelStats::discrete(std::move(values), std::move(probs));
}

double at(const std::vector<double>& v, size_t c) { return v.size() == 1 ? v[0] : v.at(c); }

}  // namespace

ChannelStats ChannelStats::normal(double mean, double var) {
  ChannelStats s;
  s.mean = mean;
  s.var = std::max(var, 0.0);
  return s;
}

ChannelStats ChannelStats::discrete(std::vector<double> values, std::vector<double> probs) {
  if (values.empty() || values.size() != probs.size()) throw std::logic_error("discrete stats need values");
  ChannelStats s;
  double total = 0.0;
  for (double p : probs) total += p;
  double mean = 0.0;
  for (size_t i = 0; i < values.size(); ++i) mean += values[i] * probs[i] / total;
  double var = 0.0;
  for (size_t i = 0; i < values.size(); ++i) var += (values[i] - mean) * (values[i] - mean) * probs[i] / total;
  for (double& p : probs) p /= total;
  s.mean = mean;
  s.var = var;
  s.support = std::move(values);
  s.prob = std::move(probs);
  return s;
}

ChannelStats ChannelStats::as_discrete() const {
  if (is_discrete()) return *this;
  if (var <= 0.0) return discrete({mean}, {1.0});
  constexpr int kBins = 241;
  constexpr double kRange = 6.0;
  const double sigma = std::sqrt(var);
  const double width = 2.0 * kRange / kBins;
  std::vector<double> values;
  std::vector<double> probs;
  double lower = 0.0;  // the tails beyond +-6 sigma go to the outermost bins
  for (int i = 0; i < kBins; ++i) {
    const double z_hi = -kRange + (i + 1) * width;
    const double upper = i + 1 == kBins ? 1.0 : normal_cdf(z_hi);
    values.push_back(mean + sigma * (z_hi - width / 2));
    probs.push_back(upper - lower);
    lower = upper;
  }
  return discrete(std::move(values), std::move(probs));
}

double ChannelStats::quantile(double p) const {
  const ChannelStats d = as_discrete();
  double cumulative = 0.0;
  for (size_t i = 0; i < d.support.size(); ++i) {
    cumulative += d.prob[i];
    if (cumulative >= p) return d.support[i];
  }
  return d.support.back();
}

Stats map_stats(const Stats& stats, const std::function<double(double)>& f) {
  Stats out;
  out.reserve(stats.size());
  for (const auto& s : stats) {
    const ChannelStats d = s.as_discrete();
    std::map<double, double> mass;
    for (size_t i = 0; i < d.support.size(); ++i) mass[f(d.support[i])] += d.prob[i];
    out.push_back(from_map(mass));
  }
  return out;
}

Stats affine_stats(const Stats& stats, const std::vector<double>& a, const std::vector<double>& b) {
  Stats out;
  out.reserve(stats.size());
  for (size_t c = 0; c < stats.size(); ++c) {
    const double ac = at(a, c);
    const double bc = at(b, c);
    if (stats[c].is_discrete()) {
      out.push_back(map_stats({stats[c]}, [&](double x) { return ac * x + bc; })[0]);
    } else {
      out.push_back(ChannelStats::normal(ac * stats[c].mean + bc, ac * ac * stats[c].var));
    }
  }
  return out;
}

Stats max_of_stats(const Stats& stats, int n) {
  Stats out;
  out.reserve(stats.size());
  for (const auto& s : stats) {
    const ChannelStats d = s.as_discrete();
    std::vector<double> probs(d.support.size());
    double cumulative = 0.0;
    double previous = 0.0;  // P(max <= previous support value)
    for (size_t i = 0; i < d.support.size(); ++i) {
      cumulative += d.prob[i];
      double now = 1.0;  // cumulative^n by multiplication: libm's pow is not portable
      for (int k = 0; k < n; ++k) now *= std::min(cumulative, 1.0);
      probs[i] = now - previous;
      previous = now;
    }
    out.push_back(ChannelStats::discrete(d.support, probs));
  }
  return out;
}

Stats mean_of_stats(const Stats& stats, int n) {
  Stats out;
  out.reserve(stats.size());
  for (const auto& s : stats) out.push_back(ChannelStats::normal(s.mean, s.var / n));
  return out;
}

Stats sum_stats(const Stats& a, const Stats& b) {
  if (a.size() != b.size()) throw std::logic_error("sum_stats: channel counts differ");
  Stats out;
  out.reserve(a.size());
  for (size_t c = 0; c < a.size(); ++c) out.push_back(ChannelStats::normal(a[c].mean + b[c].mean, a[c].var + b[c].var));
  return out;
}

Stats repeat_stats(const Stats& stats, int64_t times) {
  Stats out;
  out.reserve(stats.size() * static_cast<size_t>(times));
  for (const auto& s : stats) {
    for (int64_t i = 0; i < times; ++i) out.push_back(s);
  }
  return out;
}

}  // namespace dnnsplit::zoo
