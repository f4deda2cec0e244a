// The cpu backend: executes stages with the engine.
#include <map>

#include "backend.h"
#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"

namespace dnnsplit::node {

namespace {

constexpr size_t kMaxCachedSessions = 16;

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : threads_(threads) {}

  std::string name() const override { return "cpu"; }
  void check_stage(const StageImage& stage) const override {
    check(stage.graph != nullptr, "stage " + std::to_string(stage.index) + " has no graph");
  }

  double load(const StageImage& stage) override {
    check_stage(stage);
    auto it = sessions_.find(stage.sha256);
    if (it == sessions_.end()) {
      if (sessions_.size() >= kMaxCachedSessions) sessions_.clear();
      it = sessions_.emplace(stage.sha256, std::make_shared<engine::Session>(*stage.graph, engine::Options{threads_, /*fast=*/true}))
               .first;
    }
    loaded_ = it->second;
    loaded_index_ = stage.index;
    return 0.0;
  }

  InferOutput infer(const std::vector<Tensor>& inputs, int64_t images) override {
    check(loaded_ != nullptr, "no stage is loaded");
    InferOutput out;
    out.outputs = loaded_->run(inputs);
    for (const auto& t : out.outputs) {
      check(!t.shape.empty() && t.shape[0] == images,
            "stage " + std::to_string(loaded_index_) + " returned an output of shape " + shape_to_string(t.shape) +
                " for a batch of " + std::to_string(images) + " images");
    }
    return out;
  }

  double link_seconds(const StageTiming& /*timing*/, int64_t /*bytes*/) const override { return 0.0; }

 private:
  int threads_;
  std::map<std::string, std::shared_ptr<engine::Session>> sessions_;
  std::shared_ptr<engine::Session> loaded_;
  int loaded_index_ = -1;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int engine_threads) { return std::make_unique<CpuBackend>(engine_threads); }

std::unique_ptr<Backend> make_backend(const std::string& name, int engine_threads, bool pace) {
  if (name == "cpu") {
    check(!pace, "node: --pace needs the emulated backend (there is no board model to follow on cpu)");
    return make_cpu_backend(engine_threads);
  }
  if (name == "emulated") return make_emulated_backend(engine_threads, pace);
  throw Error("node: unknown backend '" + name + "' (known: cpu, emulated)");
}

}  // namespace dnnsplit::node
