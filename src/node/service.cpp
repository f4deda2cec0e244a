#include "service.h"

#include "dnnsplit/error.h"
#include "infer_session.h"

namespace dnnsplit::node {

namespace {

double seconds_between(int64_t start_ns, int64_t end_ns) { return static_cast<double>(end_ns - start_ns) * 1e-9; }

}  // namespace

grpc::Status NodeService::ListStages(grpc::ServerContext*, const v1::ListStagesRequest*, v1::ListStagesReply* reply) {
  for (const auto& s : core_.store().list()) {
    auto* info = reply->add_stages();
    info->set_sha256(s.sha256);
    info->set_size_bytes(s.size_bytes);
    info->set_name(s.name);
  }
  return grpc::Status::OK;
}

grpc::Status NodeService::UploadStage(grpc::ServerContext*, grpc::ServerReader<v1::UploadChunk>* reader,
                                      v1::UploadReply* reply) {
  const int64_t start = NodeCore::now_ns();
  const std::string node = "node " + core_.name();
  v1::UploadChunk chunk;
  if (!reader->Read(&chunk)) return {grpc::StatusCode::INVALID_ARGUMENT, node + ": upload stream without a header"};
  if (!chunk.has_header()) return {grpc::StatusCode::INVALID_ARGUMENT, node + ": the first upload chunk must carry the header"};
  const v1::UploadHeader h = chunk.header();  // chunk is overwritten by the next Read
  std::unique_ptr<StageStore::Upload> upload;
  try {
    upload = core_.store().begin_upload({h.sha256(), h.size_bytes(), h.name()});
    upload->append(chunk.data());
    while (reader->Read(&chunk)) {
      check(!chunk.has_header(), "upload of stage " + h.sha256().substr(0, 12) + ": a second header arrived");
      upload->append(chunk.data());
    }
    reply->set_already_stored(upload->commit());
  } catch (const LimitError& e) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, node + ": " + e.what()};
  } catch (const Error& e) {
    return {grpc::StatusCode::INVALID_ARGUMENT, node + ": " + e.what()};
  }
  auto* info = reply->mutable_stage();
  info->set_sha256(h.sha256());
  info->set_size_bytes(h.size_bytes());
  info->set_name(h.name());
  reply->set_measured_s(seconds_between(start, NodeCore::now_ns()));
  return grpc::Status::OK;
}

grpc::Status NodeService::LoadStage(grpc::ServerContext* context, const v1::LoadStageRequest* request,
                                    v1::LoadStageReply* reply) {
  const auto& ref = request->stage();
  const std::string where = "node " + core_.name() + ", stage " + std::to_string(ref.index());
  if (!core_.store().contains(ref.sha256())) {
    return {grpc::StatusCode::NOT_FOUND, where + ": stage file " + ref.sha256() + " is not in the node's store"};
  }
  StageImage stage;
  try {
    stage = core_.prepare(ref.sha256(), ref.index(), timing_from_proto(ref.timing()));
  } catch (const Error& e) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "node " + core_.name() + ": " + e.what()};
  }
  const uint64_t ticket = core_.device().enqueue(stage.sha256);
  std::optional<LoadOutcome> outcome;
  try {
    outcome = core_.acquire(ticket, stage, [&] { return context->IsCancelled(); });
  } catch (const Error& e) {
    return {grpc::StatusCode::FAILED_PRECONDITION, where + ": reconfiguration failed: " + e.what()};
  }
  if (!outcome) return {grpc::StatusCode::DEADLINE_EXCEEDED, where + ": the board stayed busy until the call ended"};
  core_.release();
  reply->set_already_loaded(outcome->already_loaded);
  reply->set_measured_s(seconds_between(outcome->start_ns, outcome->end_ns));
  reply->set_modelled_s(outcome->already_loaded ? 0.0 : outcome->modelled_s);
  return grpc::Status::OK;
}

grpc::Status NodeService::Status(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusReply* reply) {
  const auto& options = core_.options();
  reply->set_protocol_version(wire::kProtocolVersion);
  reply->set_node(core_.name());
  reply->set_board(options.board);
  reply->set_backend(core_.backend().name());
  reply->set_pace(core_.backend().paced());
  reply->set_loaded_sha256(core_.device().loaded());
  reply->set_loaded_index(reply->loaded_sha256().empty() ? -1 : core_.loaded_index());
  const CounterValues c = core_.counters();
  auto* out = reply->mutable_counters();
  out->set_loads(c.loads);
  out->set_batches(c.batches);
  out->set_images(c.images);
  out->set_bytes_received(c.bytes_received);
  out->set_bytes_sent(c.bytes_sent);
  out->set_reconfig_measured_s(c.reconfig_measured_s);
  out->set_reconfig_modelled_s(c.reconfig_modelled_s);
  out->set_compute_measured_s(c.compute_measured_s);
  out->set_compute_modelled_s(c.compute_modelled_s);
  out->set_link_modelled_s(c.link_modelled_s);
  out->set_streams(c.streams);
  out->set_failed_streams(c.failed_streams);
  reply->set_clock_ns(NodeCore::now_ns());
  reply->set_max_message_bytes(static_cast<uint64_t>(options.max_message_bytes));
  reply->set_max_stage_bytes(static_cast<uint64_t>(options.max_stage_bytes));
  return grpc::Status::OK;
}

grpc::Status NodeService::Infer(grpc::ServerContext* context,
                                grpc::ServerReaderWriter<v1::InferReply, v1::InferRequest>* stream) {
  return run_infer_session(core_, context, stream);
}

}  // namespace dnnsplit::node
