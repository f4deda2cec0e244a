#include "node_core.h"

#include <grpcpp/grpcpp.h>

#include "dnnsplit/error.h"

namespace dnnsplit::node {

NodeCore::NodeCore(const NodeOptions& options, std::string name)
    : options_(options),
      name_(std::move(name)),
      store_(options.store_dir, options.max_stage_bytes),
      backend_(make_backend(options.backend, options.engine_threads, options.pace)) {
  check(options.max_message_bytes >= 1024, "node: the message size limit must be at least 1024 bytes");
  check(options.max_buffered_bytes >= options.max_message_bytes,
        "node: the buffer limit must be at least one message");
}

std::string NodeCore::name() const {
  std::lock_guard lock(name_mutex_);
  return name_;
}

void NodeCore::set_name(const std::string& name) {
  std::lock_guard lock(name_mutex_);
  name_ = name;
}

int64_t NodeCore::now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

StageImage NodeCore::prepare(const std::string& sha256, int index, const StageTiming& timing) {
  const std::string what = "stage " + std::to_string(index);
  check(wire::is_sha256_hex(sha256), what + ": address '" + sha256 + "' is not a lower-case hex sha256");
  if (!options_.board.empty() && !timing.board.empty()) {
    check(timing.board == options_.board, what + " is planned for board '" + timing.board + "' but node " + name() +
                                              " is a '" + options_.board + "'");
  }
  StageImage image;
  image.sha256 = sha256;
  image.index = index;
  image.timing = timing;
  try {
    image.graph = store_.graph(sha256);
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  backend_->check_stage(image);
  return image;
}

std::optional<LoadOutcome> NodeCore::acquire(uint64_t ticket, const StageImage& stage,
                                             const std::function<bool()>& abandon) {
  LoadOutcome outcome;
  Device::Grant grant;
  auto reload = [&] {
    std::lock_guard lock(compute_mutex_);
    outcome.start_ns = now_ns();
    outcome.modelled_s = backend_->load(stage);
    outcome.end_ns = now_ns();
  };
  if (!device_.acquire(ticket, stage.sha256, reload, abandon, grant)) return std::nullopt;
  outcome.already_loaded = grant.already_loaded;
  if (grant.already_loaded) {
    outcome.start_ns = outcome.end_ns = now_ns();
  } else {
    count([&](CounterValues& c) {
      ++c.loads;
      c.reconfig_measured_s += static_cast<double>(outcome.end_ns - outcome.start_ns) * 1e-9;
      c.reconfig_modelled_s += outcome.modelled_s;
    });
    std::lock_guard lock(counters_mutex_);
    loaded_index_ = stage.index;
  }
  return outcome;
}

ComputeOutcome NodeCore::compute(const StageImage& stage, const std::vector<Tensor>& inputs, int64_t images) {
  std::lock_guard lock(compute_mutex_);
  check(device_.loaded() == stage.sha256, "stage " + std::to_string(stage.index) + " is not the loaded stage");
  ComputeOutcome out;
  out.start_ns = now_ns();
  out.output = backend_->infer(inputs, images);
  out.end_ns = now_ns();
  count([&](CounterValues& c) {
    ++c.batches;
    c.images += static_cast<uint64_t>(images);
    c.compute_measured_s += static_cast<double>(out.end_ns - out.start_ns) * 1e-9;
    c.compute_modelled_s += out.output.modelled_s;
  });
  return out;
}

bool NodeCore::reserve_buffer(int64_t bytes) {
  const int64_t after = buffered_.fetch_add(bytes) + bytes;
  if (after <= options_.max_buffered_bytes) return true;
  buffered_.fetch_sub(bytes);
  return false;
}

void NodeCore::free_buffer(int64_t bytes) { buffered_.fetch_sub(bytes); }

std::shared_ptr<grpc::Channel> NodeCore::channel_to(const std::string& address) {
  std::lock_guard lock(channels_mutex_);
  auto it = channels_.find(address);
  if (it != channels_.end()) return it->second;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
  // A next node that vanishes without closing its socket is noticed within seconds.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  channels_[address] = channel;
  return channel;
}

void NodeCore::count(const std::function<void(CounterValues&)>& update) {
  std::lock_guard lock(counters_mutex_);
  update(counters_);
}

CounterValues NodeCore::counters() const {
  std::lock_guard lock(counters_mutex_);
  return counters_;
}

int NodeCore::loaded_index() const {
  std::lock_guard lock(counters_mutex_);
  return loaded_index_;
}

}  // namespace dnnsplit::node
