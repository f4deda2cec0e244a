// The three strategies over a CutTable. fill is the literature's greedy walk; min-transfer and
// balanced are exact dynamic programs over (cut position, boards used so far), so that
// heterogeneous board pools are assigned optimally too.
#include <algorithm>
#include <limits>
#include <set>

#include "dnnsplit/error.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::partition {

namespace {

constexpr int64_t kNoBytes = std::numeric_limits<int64_t>::max();
constexpr double kNoTime = std::numeric_limits<double>::infinity();
// Guard against pools whose state space would not fit in memory.
constexpr int64_t kMaxStates = 20'000'000;

std::string unit_label(const CutTable& table, int unit) {
  std::string label = "unit " + std::to_string(unit);
  if (static_cast<size_t>(unit) < table.unit_names.size()) label += " ('" + table.unit_names[unit] + "')";
  return label;
}

void validate(const CutTable& table) {
  check(table.units >= 1, "partition: the model has no layers to place on boards");
  check(table.cut_bytes.size() == static_cast<size_t>(table.units) + 1,
        "partition: cut table has " + std::to_string(table.cut_bytes.size()) + " cut entries for " +
            std::to_string(table.units) + " units");
  check(!table.boards.empty(), "partition: no board given");
  check(static_cast<bool>(table.segment), "partition: cut table has no segment costs");
  for (const auto& board : table.boards) {
    check(board.count == -1 || board.count >= 1, "partition: board '" + board.name + "' has count " +
                                                      std::to_string(board.count));
    check(board.link_bytes_per_s > 0.0, "partition: board '" + board.name + "' has no link bandwidth");
  }
  for (int t : table.fill_order) {
    check(t >= 0 && static_cast<size_t>(t) < table.boards.size(), "partition: fill order names an unknown board");
  }
}

double transfer_seconds(const CutTable& table, int begin, int board) {
  return begin > 0 ? static_cast<double>(table.cut_bytes[begin]) / table.boards[board].link_bytes_per_s : 0.0;
}

// Board usage vectors u (boards of each type used so far) encoded in mixed radix.
struct Pool {
  std::vector<int> caps;
  std::vector<int64_t> strides;
  std::vector<int> used_total;  // stages used, per state
  int64_t states = 1;

  Pool(const CutTable& table, int max_stages) {
    for (const auto& board : table.boards) {
      const int cap = board.count < 0 ? max_stages : std::min(board.count, max_stages);
      caps.push_back(cap);
      strides.push_back(states);
      states *= cap + 1;
      check(states <= kMaxStates, "partition: too many boards listed to search exactly (" +
                                      std::to_string(table.boards.size()) + " types)");
    }
    used_total.assign(static_cast<size_t>(states), 0);
    for (int64_t s = 0; s < states; ++s) {
      int total = 0;
      for (size_t t = 0; t < caps.size(); ++t) total += static_cast<int>((s / strides[t]) % (caps[t] + 1));
      used_total[static_cast<size_t>(s)] = total;
    }
  }
  bool can_add(int64_t state, int type) const {
    return (state / strides[type]) % (caps[type] + 1) < caps[type];
  }
};

// Every segment's cost evaluated once.
class SegmentCache {
 public:
  explicit SegmentCache(const CutTable& table)
      : n_(table.units), types_(static_cast<int>(table.boards.size())) {
    cost_.resize(static_cast<size_t>(n_ + 1) * (n_ + 1) * types_);
    seconds_.assign(cost_.size(), kNoTime);
    for (int i = 0; i < n_; ++i) {
      for (int j = i + 1; j <= n_; ++j) {
        for (int t = 0; t < types_; ++t) {
          const SegmentCost c = table.segment(i, j, t);
          cost_[index(i, j, t)] = c;
          if (c.fits) seconds_[index(i, j, t)] = c.compute_seconds + transfer_seconds(table, i, t);
        }
      }
    }
  }
  bool fits(int i, int j, int t) const { return cost_[index(i, j, t)].fits; }
  double seconds(int i, int j, int t) const { return seconds_[index(i, j, t)]; }
  std::vector<double> distinct_seconds() const {
    std::set<double> values;
    for (double s : seconds_) {
      if (s != kNoTime) values.insert(s);
    }
    return {values.begin(), values.end()};
  }

 private:
  size_t index(int i, int j, int t) const {
    return (static_cast<size_t>(i) * (n_ + 1) + j) * types_ + t;
  }
  int n_;
  int types_;
  std::vector<SegmentCost> cost_;
  std::vector<double> seconds_;
};

struct Solver {
  const CutTable& table;
  const SegmentCache& cache;
  const Pool& pool;
  int n;
  int types;
  int stages;  // exact number of stages wanted

  size_t at(int p, int64_t u) const { return static_cast<size_t>(p) * pool.states + u; }
  int64_t entry_bytes(int p) const { return p > 0 ? table.cut_bytes[p] : 0; }

  // Slowest-stage minimum over splits into exactly `stages` stages.
  double min_max_seconds() const {
    std::vector<double> best(static_cast<size_t>(n + 1) * pool.states, kNoTime);
    for (int64_t u = 0; u < pool.states; ++u) {
      if (pool.used_total[u] == stages) best[at(n, u)] = 0.0;
    }
    for (int p = n - 1; p >= 0; --p) {
      for (int64_t u = 0; u < pool.states; ++u) {
        if (pool.used_total[u] >= stages) continue;
        double value = kNoTime;
        for (int q = p + 1; q <= n; ++q) {
          for (int t = 0; t < types; ++t) {
            if (!pool.can_add(u, t) || !cache.fits(p, q, t)) continue;
            const double rest = best[at(q, u + pool.strides[t])];
            if (rest == kNoTime) continue;
            value = std::min(value, std::max(cache.seconds(p, q, t), rest));
          }
        }
        best[at(p, u)] = value;
      }
    }
    return best[at(0, 0)];
  }

  // Least remaining cut bytes from every state when no stage may take longer than limit.
  std::vector<int64_t> min_bytes_table(double limit) const {
    std::vector<int64_t> best(static_cast<size_t>(n + 1) * pool.states, kNoBytes);
    for (int64_t u = 0; u < pool.states; ++u) {
      if (pool.used_total[u] == stages) best[at(n, u)] = 0;
    }
    for (int p = n - 1; p >= 0; --p) {
      for (int64_t u = 0; u < pool.states; ++u) {
        if (pool.used_total[u] >= stages) continue;
        int64_t value = kNoBytes;
        for (int q = p + 1; q <= n; ++q) {
          for (int t = 0; t < types; ++t) {
            if (!pool.can_add(u, t) || !cache.fits(p, q, t) || cache.seconds(p, q, t) > limit) continue;
            const int64_t rest = best[at(q, u + pool.strides[t])];
            if (rest == kNoBytes) continue;
            value = std::min(value, entry_bytes(p) + rest);
          }
        }
        best[at(p, u)] = value;
      }
    }
    return best;
  }

  // The lexicographically smallest (end, board) sequence with every stage within limit and
  // total cut bytes equal to the optimum in `best`.
  Split reconstruct(double limit, const std::vector<int64_t>& best) const {
    std::vector<int> ends;
    std::vector<int> boards;
    int p = 0;
    int64_t u = 0;
    int64_t remaining = best[at(0, 0)];
    while (p < n) {
      bool found = false;
      for (int q = p + 1; q <= n && !found; ++q) {
        for (int t = 0; t < types && !found; ++t) {
          if (!pool.can_add(u, t) || !cache.fits(p, q, t) || cache.seconds(p, q, t) > limit) continue;
          const int64_t rest = best[at(q, u + pool.strides[t])];
          if (rest == kNoBytes || entry_bytes(p) + rest != remaining) continue;
          ends.push_back(q);
          boards.push_back(t);
          remaining = rest;
          u += pool.strides[t];
          p = q;
          found = true;
        }
      }
      if (!found) throw Error("partition: internal error: no optimal split to reconstruct");
    }
    return evaluate_split(table, std::move(ends), std::move(boards));
  }
};

int max_pool_stages(const CutTable& table) {
  int total = 0;
  for (const auto& board : table.boards) {
    if (board.count < 0) return table.units;
    total += board.count;
  }
  return std::min(total, table.units);
}

int fewest_stages_cached(const CutTable& table, const SegmentCache& cache) {
  const int n = table.units;
  const Pool pool(table, max_pool_stages(table));
  std::vector<char> reach(static_cast<size_t>(n + 1) * pool.states, 0);
  reach[0] = 1;
  int fewest = -1;
  for (int p = 0; p <= n; ++p) {
    for (int64_t u = 0; u < pool.states; ++u) {
      if (!reach[static_cast<size_t>(p) * pool.states + u]) continue;
      if (p == n) {
        if (fewest < 0 || pool.used_total[u] < fewest) fewest = pool.used_total[u];
        continue;
      }
      for (int q = p + 1; q <= n; ++q) {
        for (int t = 0; t < static_cast<int>(table.boards.size()); ++t) {
          if (pool.can_add(u, t) && cache.fits(p, q, t)) {
            reach[static_cast<size_t>(q) * pool.states + u + pool.strides[t]] = 1;
          }
        }
      }
    }
  }
  return fewest;
}

Split solve_fill(const CutTable& table) {
  std::vector<int> order = table.fill_order;
  if (order.empty()) order.push_back(0);
  std::vector<int> used(table.boards.size(), 0);
  std::vector<int> ends;
  std::vector<int> boards;
  int p = 0;
  while (p < table.units) {
    const size_t k = ends.size();
    int t = 0;
    if (k < order.size()) {
      t = order[k];
    } else if (table.boards[order.back()].count < 0) {
      t = order.back();
    } else {
      throw Error("partition: fill needs more than the " + std::to_string(order.size()) +
                  " listed boards; " + unit_label(table, p) + " and later layers are left over");
    }
    check(table.boards[t].count < 0 || used[t] < table.boards[t].count,
          "partition: fill uses more '" + table.boards[t].name + "' boards than listed");
    ++used[t];
    check(table.segment(p, p + 1, t).fits,
          "partition: " + unit_label(table, p) + " does not fit board '" + table.boards[t].name + "' on its own");
    int q = p + 1;
    while (q < table.units && table.segment(p, q + 1, t).fits) ++q;
    ends.push_back(q);
    boards.push_back(t);
    p = q;
  }
  return evaluate_split(table, std::move(ends), std::move(boards));
}

}  // namespace

Strategy parse_strategy(const std::string& name) {
  if (name == "fill") return Strategy::kFill;
  if (name == "min-transfer") return Strategy::kMinTransfer;
  if (name == "balanced") return Strategy::kBalanced;
  throw Error("unknown strategy '" + name + "' (expected fill, min-transfer or balanced)");
}

std::string strategy_name(Strategy strategy) {
  switch (strategy) {
    case Strategy::kFill: return "fill";
    case Strategy::kMinTransfer: return "min-transfer";
    case Strategy::kBalanced: return "balanced";
  }
  return "?";
}

double stage_seconds(const CutTable& table, int begin, int end, int board) {
  return table.segment(begin, end, board).compute_seconds + transfer_seconds(table, begin, board);
}

Split evaluate_split(const CutTable& table, std::vector<int> ends, std::vector<int> boards) {
  Split split;
  split.ends = std::move(ends);
  split.boards = std::move(boards);
  int begin = 0;
  for (size_t k = 0; k < split.ends.size(); ++k) {
    split.max_stage_seconds =
        std::max(split.max_stage_seconds, stage_seconds(table, begin, split.ends[k], split.boards[k]));
    if (begin > 0) split.total_cut_bytes += table.cut_bytes[begin];
    begin = split.ends[k];
  }
  return split;
}

int fewest_stages(const CutTable& table) {
  validate(table);
  const SegmentCache cache(table);
  return fewest_stages_cached(table, cache);
}

Split solve(const CutTable& table, Strategy strategy, int stages) {
  validate(table);
  check(stages >= 0, "partition: --stages must be positive, got " + std::to_string(stages));
  if (strategy == Strategy::kFill) {
    check(stages == 0, "partition: --stages does not apply to --strategy fill (it takes as many stages as the "
                       "layers need); use min-transfer or balanced for a fixed number of stages");
    return solve_fill(table);
  }
  check(stages <= table.units, "partition: --stages " + std::to_string(stages) + " is larger than the number of "
                               "layers the model can be cut between (" + std::to_string(table.units) + ")");
  const int pool_limit = max_pool_stages(table);
  check(stages <= pool_limit, "partition: --stages " + std::to_string(stages) + " needs more boards than the " +
                                  std::to_string(pool_limit) + " listed");
  const SegmentCache cache(table);
  if (stages == 0 && strategy == Strategy::kBalanced && table.fill_order.size() > 1) {
    stages = std::min(static_cast<int>(table.fill_order.size()), table.units);
  }
  if (stages == 0) {
    stages = fewest_stages_cached(table, cache);
    check(stages > 0, "partition: the model does not fit the listed boards even when cut at every layer boundary");
  }
  const Pool pool(table, stages);
  const Solver solver{table, cache, pool, table.units, static_cast<int>(table.boards.size()), stages};

  double limit = kNoTime;
  if (strategy == Strategy::kBalanced) {
    limit = solver.min_max_seconds();
  } else {
    // Least bytes first; then the smallest stage-time limit that still reaches them.
    const int64_t bytes = solver.min_bytes_table(kNoTime)[solver.at(0, 0)];
    if (bytes != kNoBytes) {
      const std::vector<double> candidates = cache.distinct_seconds();
      size_t lo = 0;
      size_t hi = candidates.size() - 1;
      while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (solver.min_bytes_table(candidates[mid])[solver.at(0, 0)] == bytes) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      limit = candidates[lo];
    }
  }
  const std::vector<int64_t> best = solver.min_bytes_table(limit);
  if (best[solver.at(0, 0)] == kNoBytes) {
    const int fewest = fewest_stages_cached(table, cache);
    throw Error("partition: no split into " + std::to_string(stages) + " stages fits the listed boards" +
                (fewest > stages ? " (the fewest that fit is " + std::to_string(fewest) + ")"
                                 : fewest < 0 ? " (no split fits at all)" : ""));
  }
  return solver.reconstruct(limit, best);
}

}  // namespace dnnsplit::partition
