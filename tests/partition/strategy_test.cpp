// Property tests: every strategy's split equals what a brute-force enumeration of all cut sets
// (and all board assignments) picks, on random chains of up to 12 units.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <tuple>

#include "dnnsplit/error.h"
#include "dnnsplit/partition.h"

namespace dnnsplit::partition {
namespace {

// Random, non-monotone segment costs with few distinct values so that ties are common.
CutTable random_table(std::mt19937& rng, int units, std::vector<BoardType> boards, double fit_probability) {
  CutTable table;
  table.units = units;
  table.boards = std::move(boards);
  std::uniform_int_distribution<int> bytes(1, 4);
  table.cut_bytes.assign(static_cast<size_t>(units) + 1, 0);
  for (int p = 1; p < units; ++p) table.cut_bytes[p] = bytes(rng) * 100;
  auto costs = std::make_shared<std::map<std::tuple<int, int, int>, SegmentCost>>();
  std::bernoulli_distribution fits(fit_probability);
  std::uniform_int_distribution<int> seconds(1, 5);
  for (int i = 0; i < units; ++i) {
    for (int j = i + 1; j <= units; ++j) {
      for (int t = 0; t < static_cast<int>(table.boards.size()); ++t) {
        (*costs)[{i, j, t}] = SegmentCost{fits(rng), seconds(rng) * 1.0};
      }
    }
  }
  table.segment = [costs](int i, int j, int t) { return costs->at({i, j, t}); };
  for (int t = 0; t < static_cast<int>(table.boards.size()); ++t) {
    const int count = table.boards[t].count < 0 ? 1 : table.boards[t].count;
    for (int c = 0; c < count; ++c) table.fill_order.push_back(t);
  }
  return table;
}

using Key = std::tuple<double, double, std::vector<int>>;

std::vector<int> sequence(const Split& split) {
  std::vector<int> seq;
  for (size_t k = 0; k < split.ends.size(); ++k) {
    seq.push_back(split.ends[k]);
    seq.push_back(split.boards[k]);
  }
  return seq;
}

Key key_of(const Split& split, Strategy strategy) {
  const double bytes = static_cast<double>(split.total_cut_bytes);
  if (strategy == Strategy::kBalanced) return {split.max_stage_seconds, bytes, sequence(split)};
  return {bytes, split.max_stage_seconds, sequence(split)};
}

// Calls visit(split) for every split that fits, any number of stages, any board assignment
// within the pool.
template <typename Visit>
void enumerate_splits(const CutTable& table, Visit visit) {
  const int n = table.units;
  const int types = static_cast<int>(table.boards.size());
  for (uint32_t mask = 0; mask < (1U << (n - 1)); ++mask) {
    std::vector<int> ends;
    for (int p = 1; p < n; ++p) {
      if (mask & (1U << (p - 1))) ends.push_back(p);
    }
    ends.push_back(n);
    const int k = static_cast<int>(ends.size());
    std::vector<int> boards(static_cast<size_t>(k), 0);
    while (true) {
      bool ok = true;
      std::vector<int> used(static_cast<size_t>(types), 0);
      int begin = 0;
      for (int s = 0; s < k && ok; ++s) {
        const int t = boards[s];
        ok = table.segment(begin, ends[s], t).fits && (table.boards[t].count < 0 || ++used[t] <= table.boards[t].count);
        begin = ends[s];
      }
      if (ok) visit(evaluate_split(table, ends, boards));
      int pos = 0;
      while (pos < k && ++boards[pos] == types) boards[pos++] = 0;
      if (pos == k) break;
    }
  }
}

std::optional<Split> brute_force(const CutTable& table, Strategy strategy, int stages) {
  if (stages == 0) {
    int fewest = -1;
    enumerate_splits(table, [&](const Split& s) {
      if (fewest < 0 || s.stages() < fewest) fewest = s.stages();
    });
    if (fewest < 0) return std::nullopt;
    stages = fewest;
  }
  std::optional<Split> best;
  enumerate_splits(table, [&](const Split& s) {
    if (s.stages() != stages) return;
    if (!best || key_of(s, strategy) < key_of(*best, strategy)) best = s;
  });
  return best;
}

void expect_same(const std::optional<Split>& expected, const CutTable& table, Strategy strategy, int stages,
                 const std::string& what) {
  if (!expected) {
    EXPECT_THROW(solve(table, strategy, stages), Error) << what;
    return;
  }
  const Split got = solve(table, strategy, stages);
  EXPECT_EQ(got.ends, expected->ends) << what;
  EXPECT_EQ(got.boards, expected->boards) << what;
  EXPECT_EQ(got.total_cut_bytes, expected->total_cut_bytes) << what;
  EXPECT_EQ(got.max_stage_seconds, expected->max_stage_seconds) << what;
}

TEST(StrategyProperty, MinTransferAndBalancedMatchBruteForceOnOneBoardType) {
  std::mt19937 rng(1234);
  int compared = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const int units = 1 + trial % 12;
    const CutTable table = random_table(rng, units, {{"b", -1, 100.0}}, trial % 3 == 0 ? 0.5 : 0.8);
    for (Strategy strategy : {Strategy::kMinTransfer, Strategy::kBalanced}) {
      for (int stages : {0, 1, 2, 3, units}) {
        if (stages > units) continue;
        const std::string what = "trial " + std::to_string(trial) + " " + strategy_name(strategy) + " K=" +
                                 std::to_string(stages);
        expect_same(brute_force(table, strategy, stages), table, strategy, stages, what);
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 800);
}

TEST(StrategyProperty, HeterogeneousPoolMatchesBruteForce) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 60; ++trial) {
    const int units = 2 + trial % 7;
    // Two boards of one type, one of another, links differing so transfer times differ.
    const CutTable table = random_table(rng, units, {{"small", 2, 100.0}, {"big", 1, 50.0}}, 0.75);
    for (Strategy strategy : {Strategy::kMinTransfer, Strategy::kBalanced}) {
      for (int stages : {0, 1, 2, 3}) {
        const std::string what = "trial " + std::to_string(trial) + " " + strategy_name(strategy) + " K=" +
                                 std::to_string(stages);
        if (stages == 0 && strategy == Strategy::kBalanced) {
          // balanced with several listed boards and no K uses all of them.
          expect_same(brute_force(table, strategy, std::min(3, units)), table, strategy, 0, what);
        } else {
          expect_same(brute_force(table, strategy, stages), table, strategy, stages, what);
        }
      }
    }
  }
}

// Additive resources (a real model's case): the greedy fill takes the fewest stages, and its
// cuts are the latest possible (lexicographically largest among the fewest-stage splits).
TEST(StrategyProperty, FillIsFewestStagesWithLatestCuts) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 150; ++trial) {
    const int units = 1 + trial % 12;
    std::uniform_int_distribution<int> size(1, 10);
    auto unit_size = std::make_shared<std::vector<int>>();
    for (int u = 0; u < units; ++u) unit_size->push_back(size(rng));
    const bool pool = trial % 2 == 1;
    CutTable table;
    table.units = units;
    table.cut_bytes.assign(static_cast<size_t>(units) + 1, 10);
    if (pool) {
      table.boards = {{"a", 6, 1.0}, {"b", 6, 1.0}};
      for (int k = 0; k < 12; ++k) table.fill_order.push_back(k % 2);  // a, b, a, b, ...
    } else {
      table.boards = {{"a", -1, 1.0}};
      table.fill_order = {0};
    }
    const std::vector<int> budget{10 + trial % 7, 14};
    table.segment = [unit_size, budget](int i, int j, int t) {
      int sum = 0;
      for (int u = i; u < j; ++u) sum += (*unit_size)[u];
      return SegmentCost{sum <= budget[t], 1.0};
    };
    // Brute force over cut sets with boards taken in fill order.
    std::optional<std::vector<int>> best;
    for (uint32_t mask = 0; mask < (1U << (units - 1)); ++mask) {
      std::vector<int> ends;
      for (int p = 1; p < units; ++p) {
        if (mask & (1U << (p - 1))) ends.push_back(p);
      }
      ends.push_back(units);
      bool ok = true;
      int begin = 0;
      for (size_t k = 0; k < ends.size() && ok; ++k) {
        const int t = table.fill_order[std::min(k, table.fill_order.size() - 1)];
        ok = table.segment(begin, ends[k], t).fits;
        begin = ends[k];
      }
      if (!ok) continue;
      if (!best || ends.size() < best->size() || (ends.size() == best->size() && ends > *best)) best = ends;
    }
    ASSERT_TRUE(best.has_value());  // every unit fits alone (size <= 10 <= budget)
    const Split got = solve(table, Strategy::kFill);
    EXPECT_EQ(got.ends, *best) << "trial " << trial;
  }
}

CutTable chain_of(int units, int per_board) {
  CutTable table;
  table.units = units;
  table.cut_bytes.assign(static_cast<size_t>(units) + 1, 8);
  table.boards = {{"zed", -1, 1e6}};
  table.fill_order = {0};
  for (int u = 0; u < units; ++u) table.unit_names.push_back("layer" + std::to_string(u));
  table.segment = [per_board](int i, int j, int) { return SegmentCost{j - i <= per_board, 0.001 * (j - i)}; };
  return table;
}

TEST(Strategy, RejectsBadRequestsWithClearMessages) {
  const CutTable table = chain_of(4, 2);
  EXPECT_THROW(parse_strategy("greedy"), Error);
  try {
    solve(table, Strategy::kMinTransfer, 5);
    FAIL() << "K > units accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("larger than the number of layers"), std::string::npos) << e.what();
  }
  EXPECT_THROW(solve(table, Strategy::kFill, 2), Error);
  EXPECT_THROW(solve(table, Strategy::kBalanced, -1), Error);
  // One stage cannot hold 4 units of which 2 fit a board.
  try {
    solve(table, Strategy::kBalanced, 1);
    FAIL() << "infeasible K accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no split into 1 stages fits the listed boards (the fewest that fit is 2)"),
              std::string::npos) << e.what();
  }
  // A pool of two boards cannot take three stages.
  CutTable pool = table;
  pool.boards = {{"zed", 2, 1e6}};
  pool.fill_order = {0, 0};
  EXPECT_THROW(solve(pool, Strategy::kMinTransfer, 3), Error);
  EXPECT_EQ(solve(pool, Strategy::kFill).stages(), 2);
  pool.boards = {{"zed", 1, 1e6}};
  pool.fill_order = {0};
  EXPECT_THROW(solve(pool, Strategy::kFill), Error);  // two stages needed, one board listed
}

TEST(Strategy, FillNamesTheLayerThatDoesNotFitAlone) {
  CutTable table = chain_of(3, 1);
  table.segment = [](int i, int j, int) { return SegmentCost{j - i == 1 && i != 1, 1.0}; };
  try {
    solve(table, Strategy::kFill);
    FAIL() << "unit 1 fits nowhere but fill succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'layer1'"), std::string::npos) << e.what();
  }
}

TEST(Strategy, FewestStagesCountsTheChain) {
  EXPECT_EQ(fewest_stages(chain_of(7, 3)), 3);  // 3 + 3 + 1
  EXPECT_EQ(fewest_stages(chain_of(6, 6)), 1);
}

}  // namespace
}  // namespace dnnsplit::partition
