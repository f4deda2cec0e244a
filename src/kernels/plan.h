// Internal to the kernels: the compiled plan's steps and per-thread buffers. A plan runs one
// image at a time through its steps; every step reads and writes slots of a Workspace, which
// is allocated once per worker thread at compile time.
#pragma once

#include <condition_variable>
#include <exception>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bgemm.h"
#include "conv_kernels.h"
#include "dnnsplit/kernels.h"
#include "qgemm.h"
#include "streamline.h"

namespace dnnsplit::kernels {

// Buffers of one worker for a group of images: slot k of image j starts at j * stride[k]
// (images back to back, so the rows of a group form one matrix; the slack is at the end).
struct Workspace {
  int64_t group = 1;
  std::vector<std::vector<uint8_t>> codes;  // code buffers, NHWC per image
  std::vector<std::vector<float>> floats;   // float value buffers, NHWC per image
  std::vector<size_t> code_stride, float_stride;
  std::vector<Tensor> tensors;              // reference tensors (batch 1), [slot][image]
  std::vector<uint8_t> scratch;             // im2col rows (8-byte aligned: also bit rows)
  std::vector<uint64_t> bits;               // bit-packed pixels for bgemm, the whole group
  std::vector<int32_t> acc;                 // int32 results of float-output linear steps, the group

  uint8_t* code(int slot, int64_t j) { return codes[static_cast<size_t>(slot)].data() + static_cast<size_t>(j) * code_stride[static_cast<size_t>(slot)]; }
  float* flt(int slot, int64_t j) { return floats[static_cast<size_t>(slot)].data() + static_cast<size_t>(j) * float_stride[static_cast<size_t>(slot)]; }
  Tensor& tensor(int slot, int64_t j) { return tensors[static_cast<size_t>(slot * group + j)]; }
};

struct RunContext {
  const std::vector<Tensor>* inputs = nullptr;  // the whole batch
  std::vector<Tensor>* outputs = nullptr;       // the whole batch; empty shape: set by image 0
  int64_t image = 0;                            // first image of the group
  int64_t count = 1;                            // images in the group
  int64_t batch = 1;
};

class Step {
 public:
  explicit Step(StepInfo info) : info_(std::move(info)) {}
  virtual ~Step() = default;
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;
  // The whole group; steps that gain from it (one matrix for all images) override this.
  virtual void run(Workspace& ws, const RunContext& ctx) const {
    for (int64_t j = 0; j < ctx.count; ++j) run_image(ws, ctx, j);
  }
  // Image j of the group (ctx.image + j of the batch).
  virtual void run_image(Workspace& ws, const RunContext& ctx, int64_t j) const = 0;
  const StepInfo& info() const { return info_; }

 private:
  StepInfo info_;
};

// What a workspace must hold: per image and slot (codes, floats), and per group.
struct WorkspaceLayout {
  std::vector<size_t> codes;   // elements per image
  std::vector<size_t> floats;
  size_t tensors = 0;
  size_t scratch = 0;          // per call
  size_t bits = 0;             // per image
  size_t acc = 0;              // per image
  int64_t group = 1;
  size_t bytes_per_image() const;
  Workspace make() const;
};

// Persistent workers: run(n, fn) calls fn(worker) once on each of n workers (worker 0 is the
// caller) and returns when all are done.
class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void run(int n, const std::function<void(int)>& fn);

 private:
  void loop(int worker);
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int active_ = 0;  // workers taking part in the current job
  int pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr worker_error_;
};

struct FastPlan::Impl {
  // What the steps point into: the graph (nodes, constants), constants folded at compile time
  // (the vector's buffer never moves after compile) and the evaluator.
  std::shared_ptr<const ir::Graph> graph;
  std::vector<std::optional<Tensor>> folded;
  NodeEvaluator evaluate;
  std::vector<std::unique_ptr<Step>> steps;
  std::vector<StepInfo> infos;
  WorkspaceLayout layout;
  mutable std::vector<Workspace> workspaces;  // one per thread; run() is serialised
  std::unique_ptr<ThreadPool> pool;
  int threads = 1;
  double fast_share = 0.0;
  // Graph interface.
  std::vector<Shape> input_shapes;   // per graph input, as the graph states them
  std::vector<ElemType> input_types;
  std::vector<std::string> input_names;
  std::vector<Shape> output_shapes;  // as the graph states them (dimension 0: the batch)
  std::vector<ElemType> output_types;
  std::string graph_name;
  mutable std::mutex run_mutex;
  void check_feed(const std::vector<Tensor>& inputs) const;
};

}  // namespace dnnsplit::kernels
