// Internal to the kernels: turns a Highway dispatch table of "entries" functions (one per
// compiled target, each returning that target's kernels) into one list of what this CPU runs.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

#include "hwy/targets.h"

namespace dnnsplit::kernels {

// "avx2", "sse4", ... for kernel names.
inline std::string hwy_target_suffix(int64_t target) {
  std::string name = hwy::TargetName(target);
  for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return name;
}

// Entry 0 of a multi-target table is Highway's chooser, not a target. Worse targets (higher
// bits) come first, so the best kernel ends the list; entries of the same name are kept once.
template <typename Kernel, typename Table>
std::vector<Kernel> collect_hwy_kernels(const Table& table) {
  std::vector<std::pair<int64_t, Kernel>> found;
  const int64_t supported = hwy::SupportedTargets();
  const size_t first = std::size(table) > 1 ? 1 : 0;
  for (size_t i = first; i < std::size(table); ++i) {
    if (table[i] == nullptr) continue;
    int64_t target = 0;
    auto kernels = table[i](&target);
    if ((supported & target) == 0) continue;
    for (auto& k : kernels) {
      const bool seen = std::any_of(found.begin(), found.end(), [&](const auto& f) { return f.second.name == k.name; });
      if (!seen) found.emplace_back(target, std::move(k));
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  std::vector<Kernel> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

}  // namespace dnnsplit::kernels
