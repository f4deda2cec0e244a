// Shared by the runtime tests: a small quantized model built by hand, a plan of it written the
// way docs/plan-schema.md says, temporary directories, node processes.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/node.h"
#include "dnnsplit/tensor.h"
#include "temp_dir.h"

namespace dnnsplit::testing {

// x (UINT4, [1, 8]) -> MatMul -> Quant INT3 (scale 0.5) -> MatMul -> Quant UINT2 (scale 0.25)
// -> MatMul -> logits (float, [1, 10]); exported and imported again, so every tensor carries
// the shapes and quantized types the importer infers. Nodes: 5; cut positions 2 and 4 give three
// stages whose cuts carry 16 x 3 bits (6 B) and 12 x 2 bits (3 B) per image.
ir::Graph tiny_model();

// Images of a UINT4 [N, 8] input: integers 0..15 as float, from a fixed seed.
Tensor tiny_inputs(int64_t images, uint32_t seed);

// Writes stage-K.onnx and plan.json into dir for the cuts at the given node positions, with one
// timing entry per stage. Returns dir.
std::string write_plan(const ir::Graph& graph, const std::vector<int>& cuts, const std::string& dir,
                       const std::vector<node::StageTiming>& timings);

using test::TempDir;

// Like tiny_model but with a wide middle: x (UINT4, [1, 8]) -> MatMul -> Quant UINT8 [1, 1024]
// -> MatMul -> logits [1, 4]. Cut position 2 carries 1024 bytes per image while the inputs are 4
// and the outputs 16: what crosses the client's link tells whether the cut bounced through it.
ir::Graph wide_model();

// A TCP relay on 127.0.0.1 that counts the bytes in each direction: the measured traffic of one
// link.
class CountingProxy {
 public:
  explicit CountingProxy(const std::string& target);
  ~CountingProxy();
  CountingProxy(const CountingProxy&) = delete;
  CountingProxy& operator=(const CountingProxy&) = delete;
  const std::string& address() const { return address_; }
  int64_t bytes_to_target() const { return to_target_.load(); }
  int64_t bytes_from_target() const { return from_target_.load(); }

 private:
  void loop();
  int target_port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::string address_;
  std::atomic<int64_t> to_target_{0}, from_target_{0};
  std::thread thread_;
};

// The dnnsplit binary under test.
std::string binary();

// Runs the dnnsplit binary with args; returns the exit code, stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
CommandResult run_binary(const std::vector<std::string>& args, double timeout_s = 120);

}  // namespace dnnsplit::testing
