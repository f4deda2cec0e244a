// run(): connect, check, upload, pack, stream through the schedule, put the outputs together.
#include <algorithm>
#include <deque>
#include <fstream>
#include <future>
#include <map>
#include <set>

#include "chain_stream.h"
#include "dnnsplit/error.h"
#include "dnnsplit/npy.h"
#include "dnnsplit/orchestrator.h"
#include "report_build.h"
#include "wire_proto.h"

namespace dnnsplit::orchestrator {

namespace {

// Room for the batch message's own fields beside the packed tensors.
constexpr int64_t kMessageHeadroomBytes = 4096;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Tensor slice_images(const Tensor& t, int64_t first, int64_t count) {
  Shape shape = t.shape;
  shape[0] = count;
  Tensor out = Tensor::zeros(t.type, shape);
  const int64_t per = t.shape[0] > 0 ? t.numel() / t.shape[0] : 0;
  const auto begin = static_cast<size_t>(first * per);
  const auto n = static_cast<size_t>(count * per);
  if (t.type == ElemType::kFloat) {
    std::copy_n(t.f32.begin() + static_cast<std::ptrdiff_t>(begin), n, out.f32.begin());
  } else if (t.type == ElemType::kDouble) {
    std::copy_n(t.f64.begin() + static_cast<std::ptrdiff_t>(begin), n, out.f64.begin());
  } else {
    std::copy_n(t.i64.begin() + static_cast<std::ptrdiff_t>(begin), n, out.i64.begin());
  }
  return out;
}

void append_images(Tensor& into, const Tensor& part) {
  if (into.shape.empty()) {
    into = part;
    return;
  }
  into.shape[0] += part.shape[0];
  into.f32.insert(into.f32.end(), part.f32.begin(), part.f32.end());
  into.f64.insert(into.f64.end(), part.f64.begin(), part.f64.end());
  into.i64.insert(into.i64.end(), part.i64.begin(), part.i64.end());
}

v1::StageRef stage_ref(const PlanStage& stage) {
  v1::StageRef ref;
  ref.set_sha256(stage.sha256);
  ref.set_index(stage.index);
  auto* t = ref.mutable_timing();
  t->set_board(stage.timing.board);
  t->set_clock_hz(stage.timing.clock_hz);
  t->set_bottleneck_cycles(stage.timing.bottleneck_cycles);
  t->set_critical_path_cycles(stage.timing.critical_path_cycles);
  t->set_reconfiguration_s(stage.timing.reconfiguration_s);
  t->set_link_bits_per_s(stage.timing.link_bits_per_s);
  t->set_link_latency_s(stage.timing.link_latency_s);
  return ref;
}

v1::StreamOpen stream_open(const Plan& plan, const std::vector<int>& chain, const std::vector<std::string>& nodes,
                           const std::string& run_id) {
  v1::StreamOpen open;
  open.set_protocol_version(wire::kProtocolVersion);
  open.set_run_id(run_id);
  open.set_caller("dnnsplit run");
  for (const auto& spec : plan.model_inputs) *open.add_inputs() = wire::spec_to_proto(spec);
  for (size_t s = 0; s < plan.stages.size(); ++s) {
    auto* hop = open.add_hops();
    hop->set_address(nodes[static_cast<size_t>(chain[s])]);
    *hop->mutable_stage() = stage_ref(plan.stages[s]);
    for (const auto& spec : plan.stages[s].outputs) *hop->add_outputs() = wire::spec_to_proto(spec);
  }
  return open;
}

// Runs f(i) for every node at once; the first Error (by node order) is rethrown.
template <typename F>
void for_each_node(size_t count, F f) {
  std::vector<std::future<void>> jobs;
  for (size_t i = 0; i < count; ++i) jobs.push_back(std::async(std::launch::async, [&f, i] { f(i); }));
  std::exception_ptr first;
  for (auto& j : jobs) {
    try {
      j.get();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

std::string stage_list(const std::set<int>& stages) {
  std::string out;
  for (int s : stages) out += (out.empty() ? "" : ", ") + std::to_string(s);
  return (stages.size() == 1 ? "stage " : "stages ") + out;
}

}  // namespace

RunResult run(const Plan& plan, const std::vector<Tensor>& given, const RunOptions& options) {
  check(!options.nodes.empty(), "run: no nodes given (--nodes HOST:PORT,...)");
  check(options.batch >= 1, "run: --batch must be at least 1");
  check(std::set<std::string>(options.nodes.begin(), options.nodes.end()).size() == options.nodes.size(),
        "run: a node is listed twice in --nodes");
  const Schedule schedule = make_schedule(plan, static_cast<int>(options.nodes.size()), options.mode, options.replicate);

  // Inputs: one tensor per model input, the same number of images in each.
  check(given.size() == plan.model_inputs.size(), "run: the model has " + std::to_string(plan.model_inputs.size()) +
                                                      " inputs, " + std::to_string(given.size()) + " were given");
  std::vector<Tensor> inputs;
  int64_t images = -1;
  for (size_t i = 0; i < given.size(); ++i) {
    const auto& spec = plan.model_inputs[i];
    const std::string what = "input " + std::to_string(i) + " ('" + spec.name + "')";
    Tensor t = cast_tensor_exact(given[i], spec.type, what);
    bool same = t.shape.size() == spec.shape.size() && !t.shape.empty() && t.shape[0] >= 1;
    for (size_t d = 1; same && d < t.shape.size(); ++d) same = t.shape[d] == spec.shape[d];
    check(same, what + ": shape " + shape_to_string(t.shape) + " does not fit the model's " +
                    shape_to_string(spec.shape) + " (any number of images in dimension 0)");
    check(images < 0 || t.shape[0] == images, what + ": " + std::to_string(t.shape[0]) + " images, the first input has " +
                                                  std::to_string(images));
    images = t.shape[0];
    inputs.push_back(std::move(t));
  }

  // Pack every batch now: values off their grid fail before any node is contacted.
  const auto groups = split_images(schedule.mode, images, options.batch, options.chunk);
  std::vector<PackedBatch> batches;
  std::vector<std::pair<size_t, size_t>> rounds;  // [first, end) message of every group
  int64_t next_image = 0;
  for (const auto& group : groups) {
    rounds.emplace_back(batches.size(), batches.size() + group.size());
    for (int64_t count : group) {
      PackedBatch b;
      b.sequence = batches.size();
      b.first_image = next_image;
      b.images = count;
      auto* msg = b.request.mutable_batch();
      msg->set_sequence(b.sequence);
      msg->set_images(static_cast<uint32_t>(b.images));
      for (size_t i = 0; i < inputs.size(); ++i) {
        std::string packed = wire::pack_tensor(plan.model_inputs[i], slice_images(inputs[i], next_image, b.images),
                                               "input batch " + std::to_string(b.sequence));
        b.payload_bytes += static_cast<int64_t>(packed.size());
        msg->add_tensors(std::move(packed));
      }
      b.message_bytes = wire::message_wire_bytes(b.request);
      batches.push_back(std::move(b));
      next_image += count;
    }
  }

  // Which node runs which stages.
  std::vector<std::set<int>> node_stages(options.nodes.size());
  for (const auto& chain : schedule.chains) {
    for (size_t s = 0; s < chain.size(); ++s) node_stages[static_cast<size_t>(chain[s])].insert(static_cast<int>(s));
  }

  // Connect: status of every node (reachable, protocol, board), clock offsets.
  std::vector<std::unique_ptr<NodeClient>> clients;
  for (const auto& address : options.nodes) {
    clients.push_back(std::make_unique<NodeClient>(address, options.max_message_bytes, options.call_timeout_s));
  }
  std::vector<v1::StatusReply> status(options.nodes.size());
  for_each_node(clients.size(), [&](size_t n) {
    try {
      status[n] = clients[n]->status(3);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + (node_stages[n].empty() ? "" : "; it was to run " + stage_list(node_stages[n])));
    }
  });
  int64_t message_limit = options.max_message_bytes;
  for (size_t n = 0; n < clients.size(); ++n) {
    const auto& st = status[n];
    check(st.protocol_version() == wire::kProtocolVersion,
          "node " + options.nodes[n] + " speaks protocol version " + std::to_string(st.protocol_version()) +
              ", this client " + std::to_string(wire::kProtocolVersion));
    for (int s : node_stages[n]) {
      const auto& board = plan.stages[static_cast<size_t>(s)].board;
      check(st.board().empty() || board.empty() || st.board() == board,
            "node " + options.nodes[n] + " emulates board '" + st.board() + "' but stage " + std::to_string(s) +
                " was planned for '" + board + "'");
    }
    message_limit = std::min(message_limit, static_cast<int64_t>(st.max_message_bytes()));
  }
  // Every message (inputs, each cut, outputs) must fit the smallest message limit.
  int64_t largest = 0;
  for (const auto& b : batches) largest = std::max(largest, b.images);
  auto check_fits = [&](const std::vector<wire::TensorSpec>& specs, const std::string& what) {
    int64_t bytes = 0;
    for (const auto& spec : specs) bytes += spec.packed_bytes(largest);
    check(bytes + kMessageHeadroomBytes <= message_limit,
          "run: a message of " + std::to_string(largest) + " images is " + std::to_string(bytes) + " bytes at " +
              what + ", above the message limit of " + std::to_string(message_limit) +
              " bytes; use a smaller --batch (--chunk in time-share) or raise the limit on every node");
  };
  check_fits(plan.model_inputs, "the model inputs");
  for (const auto& stage : plan.stages) check_fits(stage.outputs, "the outputs of stage " + std::to_string(stage.index));

  // Upload the stages each node lacks.
  int64_t upload_bytes = 0;
  std::mutex upload_mutex;
  for_each_node(clients.size(), [&](size_t n) {
    if (node_stages[n].empty()) return;
    std::set<std::string> stored;
    for (const auto& info : clients[n]->list()) stored.insert(info.sha256());
    for (int s : node_stages[n]) {
      const PlanStage& stage = plan.stages[static_cast<size_t>(s)];
      if (stored.count(stage.sha256) != 0) continue;
      const std::string bytes = read_file(stage.file);
      check(wire::sha256_hex(bytes) == stage.sha256, stage.file + " changed since the plan was read");
      const int64_t sent = clients[n]->upload(bytes, stage.sha256, "stage-" + std::to_string(s) + ".onnx");
      std::lock_guard lock(upload_mutex);
      upload_bytes += sent;
    }
  });

  // Which stage each node holds now: the schedule model starts from there.
  ModelOptions model_options;
  model_options.rounds_in_flight = options.rounds_in_flight;
  model_options.in_flight = options.in_flight;
  model_options.chunk = options.chunk;
  for (const auto& st : status) {
    int loaded = -1;
    for (const auto& stage : plan.stages) {
      if (stage.sha256 == st.loaded_sha256()) loaded = stage.index;
    }
    model_options.initially_loaded.push_back(loaded);
  }

  RunState state(plan.model_outputs, batches.size(), images, options.progress);
  const std::string run_id = std::to_string(steady_now_ns());
  const auto deadline = std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                               std::chrono::duration<double>(options.run_timeout_s));
  const int64_t start_ns = steady_now_ns();
  if (schedule.mode == Mode::kPipeline) {
    std::vector<std::unique_ptr<ChainStream>> streams;
    for (size_t c = 0; c < schedule.chains.size(); ++c) {
      std::vector<const PackedBatch*> mine;
      for (size_t b = c; b < batches.size(); b += schedule.chains.size()) mine.push_back(&batches[b]);
      if (mine.empty()) continue;
      auto& head = *clients[static_cast<size_t>(schedule.chains[c][0])];
      streams.push_back(std::make_unique<ChainStream>(state, head, stream_open(plan, schedule.chains[c], options.nodes, run_id),
                                                      mine, options.in_flight, deadline));
      if (!streams.back()->open()) break;
      streams.back()->start();
    }
    for (auto& s : streams) s->join();
  } else {
    // One stream per round, opened in order; at most rounds_in_flight open at once.
    std::deque<std::unique_ptr<ChainStream>> open_rounds;
    const auto& chain = schedule.chains.front();
    auto& first_node = *clients[static_cast<size_t>(chain[0])];
    for (size_t r = 0; r < rounds.size() && !state.failed(); ++r) {
      while (!state.failed()) {
        while (!open_rounds.empty() && open_rounds.front()->finished()) {
          open_rounds.front()->join();
          open_rounds.pop_front();
        }
        if (static_cast<int>(open_rounds.size()) < std::max(1, options.rounds_in_flight)) break;
        state.wait_for_change(std::chrono::milliseconds(20));
      }
      if (state.failed()) break;
      std::vector<const PackedBatch*> messages;
      for (size_t m = rounds[r].first; m < rounds[r].second; ++m) messages.push_back(&batches[m]);
      // The whole round may be in flight: the first node buffers it while it waits for its board.
      const int window = static_cast<int>(messages.size());
      auto round = std::make_unique<ChainStream>(state, first_node, stream_open(plan, chain, options.nodes, run_id),
                                                 std::move(messages), window, deadline);
      if (!round->open()) break;
      round->start();
      open_rounds.push_back(std::move(round));
    }
    for (auto& round : open_rounds) round->join();
  }
  const int64_t end_ns = steady_now_ns();
  if (state.failed()) throw Error("run failed: " + state.error());
  for (size_t b = 0; b < batches.size(); ++b) {
    check(state.have[b], "run failed: batch " + std::to_string(b) + " (images " + std::to_string(batches[b].first_image) +
                             ".." + std::to_string(batches[b].first_image + batches[b].images - 1) + ") never came back");
  }

  RunResult result;
  result.outputs.resize(plan.model_outputs.size());
  for (size_t b = 0; b < batches.size(); ++b) {
    for (size_t k = 0; k < result.outputs.size(); ++k) append_images(result.outputs[k], state.results[b][k]);
    state.results[b].clear();
  }
  RunFacts facts{plan, schedule, options, status, clients, batches, state, start_ns, end_ns, upload_bytes, model_options};
  result.report = build_report(facts);
  return result;
}

}  // namespace dnnsplit::orchestrator
