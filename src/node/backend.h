// What executes a stage on a node. One small interface; the cpu backend runs the engine, the
// emulated backend also models a board (design.md, "Emulated board timing"); a real FPGA
// backend would implement the same three calls. Backends are used by one thread at a time
// (the node serialises access: one board, one loaded stage).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dnnsplit/ir.h"
#include "dnnsplit/node.h"
#include "dnnsplit/tensor.h"

namespace dnnsplit::node {

struct StageImage {
  std::string sha256;
  int index = -1;  // position in the plan, for messages
  std::shared_ptr<const ir::Graph> graph;
  StageTiming timing;
};

struct InferOutput {
  std::vector<Tensor> outputs;  // in stage-output order
  double modelled_s = 0;        // 0 when the backend models no board
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Throws Error when this backend cannot host the stage (e.g. no timing to model it).
  virtual void check_stage(const StageImage& stage) const = 0;
  // Makes `stage` the loaded stage (reconfigures). Returns the modelled reconfiguration time.
  virtual double load(const StageImage& stage) = 0;
  // Runs the loaded stage on a batch of `images` (dimension 0 of every input).
  virtual InferOutput infer(const std::vector<Tensor>& inputs, int64_t images) = 0;
  // Modelled seconds for the board running `timing`'s stage to send `bytes` (0: not modelled).
  // With pacing on, the node holds a message back that long before it goes out.
  virtual double link_seconds(const StageTiming& timing, int64_t bytes) const = 0;
  virtual bool paced() const { return false; }
};

// cpu: the engine; compiled sessions are cached per stage, so reloading a stage is cheap.
std::unique_ptr<Backend> make_cpu_backend(int engine_threads);
// emulated: the cpu backend plus the board model of the stage's timing; with `pace` load,
// infer and sends take (at least) their modelled wall-clock time.
std::unique_ptr<Backend> make_emulated_backend(int engine_threads, bool pace);
// "cpu" | "emulated"; throws Error listing the names for anything else.
std::unique_ptr<Backend> make_backend(const std::string& name, int engine_threads, bool pace);

}  // namespace dnnsplit::node
