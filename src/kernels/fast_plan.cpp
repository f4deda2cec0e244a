// FastPlan: runs the compiled steps image by image, images shared among worker threads, each
// with the workspace it was given at compile time.
#include <algorithm>
#include <ctime>
#include <spdlog/spdlog.h>

#include "compiler.h"
#include "dnnsplit/error.h"

namespace dnnsplit::kernels {

size_t WorkspaceLayout::bytes_per_image() const {
  size_t n = bits * 8 + acc * 4;
  for (size_t c : codes) n += c;
  for (size_t f : floats) n += f * 4;
  return n;
}

Workspace WorkspaceLayout::make() const {
  Workspace ws;
  ws.group = group;
  const auto g = static_cast<size_t>(group);
  for (size_t n : codes) {
    ws.codes.emplace_back(n * g + kReadSlack, uint8_t{0});
    ws.code_stride.push_back(n);
  }
  for (size_t n : floats) {
    ws.floats.emplace_back(n * g + kReadSlack, 0.0F);
    ws.float_stride.push_back(n);
  }
  ws.tensors.resize(tensors * g);
  ws.scratch.assign(scratch, 0);
  ws.bits.assign(bits * g + kReadSlack / 8, 0);
  ws.acc.assign(acc * g, 0);
  return ws;
}

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { loop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run(int n, const std::function<void(int)>& fn) {
  n = std::clamp(n, 1, size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    active_ = n;
    pending_ = n - 1;
    ++generation_;
  }
  if (n > 1) wake_.notify_all();
  std::exception_ptr error;
  try {
    fn(0);
  } catch (...) {
    error = std::current_exception();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
  if (error) std::rethrow_exception(error);
  if (worker_error_) {
    auto e = worker_error_;
    worker_error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void ThreadPool::loop(int worker) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int)>* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || (generation_ != seen && worker < active_); });
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    std::exception_ptr error;
    try {
      (*job)(worker);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (error && !worker_error_) worker_error_ = error;
    if (--pending_ == 0) done_.notify_all();
  }
}

FastPlan::FastPlan() : impl_(std::make_unique<Impl>()) {}
FastPlan::~FastPlan() = default;
FastPlan::FastPlan(FastPlan&&) noexcept = default;
FastPlan& FastPlan::operator=(FastPlan&&) noexcept = default;

const std::vector<StepInfo>& FastPlan::steps() const { return impl_->infos; }
int FastPlan::threads() const { return impl_->threads; }
double FastPlan::fast_mac_share() const { return impl_->fast_share; }

void FastPlan::Impl::check_feed(const std::vector<Tensor>& inputs) const {
  check(inputs.size() == input_types.size(), "graph '" + graph_name + "' takes " + std::to_string(input_types.size()) +
                                                 " inputs, got " + std::to_string(inputs.size()));
  int64_t batch = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    const std::string what = "graph '" + graph_name + "' input '" + input_names[i] + "'";
    check(t.type == input_types[i], what + " expects " + elem_type_name(input_types[i]) + " values, got " +
                                        elem_type_name(t.type));
    const Shape& s = input_shapes[i];
    bool ok = t.shape.size() == s.size() && !t.shape.empty() && t.shape[0] >= 1;
    for (size_t d = 1; ok && d < s.size(); ++d) ok = s[d] < 0 || s[d] == t.shape[d];
    check(ok, what + " expects shape " + shape_to_string(s) + " (any batch >= 1 in dimension 0), got " +
                  shape_to_string(t.shape));
    const size_t stored = t.type == ElemType::kFloat ? t.f32.size() : t.type == ElemType::kDouble ? t.f64.size() : t.i64.size();
    check(static_cast<int64_t>(stored) == t.numel(), what + " holds " + std::to_string(stored) + " values for shape " +
                                                         shape_to_string(t.shape));
    check(batch < 0 || batch == t.shape[0], what + " has batch " + std::to_string(t.shape[0]) + ", another input " +
                                                std::to_string(batch));
    batch = t.shape[0];
  }
}

namespace {

int64_t batch_of(const std::vector<Tensor>& inputs) { return inputs.empty() ? 1 : inputs[0].shape[0]; }

// Output tensors for the batch when the graph states their shapes; the others stay empty and
// are shaped by the first image.
std::vector<Tensor> make_outputs(const std::vector<Shape>& shapes, const std::vector<ElemType>& types, int64_t batch) {
  std::vector<Tensor> out(shapes.size());
  for (size_t k = 0; k < shapes.size(); ++k) {
    Shape s = shapes[k];
    bool known = !s.empty();
    for (size_t d = 1; d < s.size(); ++d) known = known && s[d] >= 0;
    if (!known) continue;
    s[0] = batch;
    out[k] = Tensor::zeros(types[k], s);
  }
  return out;
}

}  // namespace

std::vector<Tensor> FastPlan::run(const std::vector<Tensor>& inputs) const {
  const Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.run_mutex);
  s.check_feed(inputs);
  const int64_t batch = batch_of(inputs);
  std::vector<Tensor> outputs = make_outputs(s.output_shapes, s.output_types, batch);
  auto run_group = [&](int worker, int64_t first, int64_t count) {
    RunContext ctx{&inputs, &outputs, first, count, batch};
    for (const auto& step : s.steps) step->run(s.workspaces[static_cast<size_t>(worker)], ctx);
  };
  int64_t first = 0;
  if (std::any_of(outputs.begin(), outputs.end(), [](const Tensor& t) { return t.shape.empty(); })) {
    run_group(0, 0, 1);  // shapes the outputs the graph does not state
    first = 1;
  }
  const int64_t remaining = batch - first;
  if (remaining <= 0) return outputs;
  const int workers = static_cast<int>(std::min<int64_t>(s.threads, remaining));
  // Contiguous image ranges, one per worker, run in groups of the workspace's size.
  s.pool->run(workers, [&](int worker) {
    const int64_t begin = first + remaining * worker / workers;
    const int64_t end = first + remaining * (worker + 1) / workers;
    for (int64_t i = begin; i < end; i += s.layout.group) run_group(worker, i, std::min(s.layout.group, end - i));
  });
  return outputs;
}

std::vector<Tensor> FastPlan::run_profiled(const std::vector<Tensor>& inputs, std::vector<double>& step_seconds) const {
  const Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.run_mutex);
  s.check_feed(inputs);
  const int64_t batch = batch_of(inputs);
  std::vector<Tensor> outputs = make_outputs(s.output_shapes, s.output_types, batch);
  step_seconds.resize(s.steps.size(), 0.0);
  auto& ws = s.workspaces.front();
  // Thread CPU time: on a shared machine, wall time would charge other processes to the steps.
  auto now = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  };
  for (int64_t i = 0; i < batch; i += s.layout.group) {
    RunContext ctx{&inputs, &outputs, i, std::min(s.layout.group, batch - i), batch};
    for (size_t k = 0; k < s.steps.size(); ++k) {
      const double t0 = now();
      s.steps[k]->run(ws, ctx);
      step_seconds[k] += now() - t0;
    }
  }
  return outputs;
}

FastPlan compile_fast_plan(const ir::Graph& graph, const NodeEvaluator& evaluate, const CompileOptions& options) {
  check(options.threads >= 1, "threads must be at least 1, got " + std::to_string(options.threads));
  FastPlan plan;
  FastPlan::Impl& s = *plan.impl_;
  s.graph = std::make_shared<const ir::Graph>(graph);
  s.evaluate = evaluate;
  Compiler compiler(*s.graph, s.evaluate, options);
  compiler.compile();
  s.folded = std::move(compiler.folded_);
  s.steps = std::move(compiler.steps_);
  for (const auto& step : s.steps) s.infos.push_back(step->info());
  s.layout = compiler.layout_;
  s.threads = options.threads;
  // Images per group: weights of small layers (FC, 1x1 maps) are then read once per group,
  // within a memory budget per worker.
  constexpr size_t kGroupBytes = size_t{4} << 20;
  s.layout.group = options.group > 0 ? options.group
                                     : std::clamp<int64_t>(static_cast<int64_t>(kGroupBytes / std::max<size_t>(1, s.layout.bytes_per_image())), 1, 8);
  for (int i = 0; i < options.threads; ++i) s.workspaces.push_back(s.layout.make());
  s.pool = std::make_unique<ThreadPool>(options.threads);
  const int64_t total = compiler.fast_macs_ + compiler.slow_macs_;
  s.fast_share = total == 0 ? 0.0 : static_cast<double>(compiler.fast_macs_) / static_cast<double>(total);
  s.graph_name = graph.name;
  for (int id : graph.inputs) {
    s.input_shapes.push_back(graph.tensor(id).shape);
    s.input_types.push_back(graph.tensor(id).type);
    s.input_names.push_back(graph.tensor(id).name);
  }
  for (int id : graph.outputs) {
    s.output_shapes.push_back(graph.tensor(id).shape);
    s.output_types.push_back(graph.tensor(id).type);
  }
  int fast = 0;
  for (const auto& info : s.infos) fast += info.kernel.empty() ? 0 : 1;
  spdlog::debug("kernels: plan for '{}': {} steps, {} on fast kernels, {:.1f}% of MACs", graph.name, s.infos.size(), fast,
                100.0 * s.fast_share);
  return plan;
}

}  // namespace dnnsplit::kernels
