// Session with Options::fast: the zoo's CNV networks compile for the fast kernels and give the
// reference path's outputs bit for bit, on several random batches and with two threads.
#include <gtest/gtest.h>

#include "dnnsplit/engine.h"
#include "kernels/plan_test_util.h"

namespace dnnsplit::engine {
namespace {

using kernels::testing::random_images;
using kernels::testing::zoo_graph;

TEST(SessionFast, ZooCnvRunsOnFastKernelsBitIdentical) {
  for (const std::string name : {"cnv-w2a2", "cnv-w1a1"}) {
    const ir::Graph graph = zoo_graph(name);
    const Session reference(graph);
    EXPECT_FALSE(reference.fast()) << name;
    for (const int threads : {1, 2}) {
      const Session fast(graph, Options{threads, true});
      ASSERT_TRUE(fast.fast()) << name << ": the fast plan should compile";
      for (const uint32_t seed : {1u, 2u, 3u}) {
        const Tensor images = random_images(graph.tensor(graph.inputs[0]).shape, 1 + seed, seed);
        const auto expect = reference.run({images});
        const auto got = fast.run({images});
        ASSERT_EQ(expect.size(), got.size());
        for (size_t k = 0; k < expect.size(); ++k) {
          EXPECT_TRUE(tensors_identical(expect[k], got[k]))
              << name << " threads " << threads << " seed " << seed << " output " << k;
        }
      }
    }
  }
}

}  // namespace
}  // namespace dnnsplit::engine
