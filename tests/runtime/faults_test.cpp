// Bad input and faults: every one ends with a message naming the node and the stage (or the
// tensor), never with a crash, a hang or a silently missing result.
#include <gtest/gtest.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "client.h"
#include "dnnsplit/engine.h"
#include "dnnsplit/error.h"
#include "dnnsplit/npy.h"
#include "dnnsplit/orchestrator.h"
#include "runtime_support.h"
#include "wire_proto.h"

namespace dnnsplit::orchestrator {
namespace {

using testing::TempDir;

node::StageTiming stage_timing(double bottleneck, double reconfig_s) {
  return {"zedboard", 1e6, bottleneck, 400, reconfig_s, 1e8, 1e-4};
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class Faults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    graph_ = new ir::Graph(testing::tiny_model());
    testing::write_plan(*graph_, {2, 4}, dir_->path(),
                        {stage_timing(100, 0.0), stage_timing(200, 0.0), stage_timing(300, 0.0)});
  }
  static void TearDownTestSuite() {
    delete graph_;
    delete dir_;
  }
  static Plan plan() { return read_plan(dir_->path()); }
  static node::LocalCluster cluster(int nodes, const std::string& backend = "cpu", bool pace = false,
                                    const std::string& board = "") {
    node::LocalClusterOptions o;
    o.binary = testing::binary();
    o.nodes = nodes;
    o.backend = backend;
    o.pace = pace;
    o.board = board;
    return node::LocalCluster(o);
  }
  static std::string stage_bytes(int k) {
    std::ifstream in(dir_->file("stage-" + std::to_string(k) + ".onnx"), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static Tensor engine_output(const Tensor& x) { return engine::Session(*graph_).run({x}).at(0); }
  static TempDir* dir_;
  static ir::Graph* graph_;
};
TempDir* Faults::dir_ = nullptr;
ir::Graph* Faults::graph_ = nullptr;

grpc::Status raw_upload(v1::Node::Stub& stub, const std::string& bytes, const std::string& sha, uint64_t declared) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::UploadReply reply;
  auto writer = stub.UploadStage(&context, &reply);
  v1::UploadChunk chunk;
  chunk.mutable_header()->set_sha256(sha);
  chunk.mutable_header()->set_size_bytes(declared);
  chunk.mutable_header()->set_name("test.onnx");
  chunk.set_data(bytes);
  writer->Write(chunk);
  writer->WritesDone();
  return writer->Finish();
}

TEST_F(Faults, UploadsThatDoNotMatchOrAreNotModelsAreRefusedAndNothingIsStored) {
  auto nodes = cluster(1);
  auto channel = make_channel(nodes.addresses()[0], 64 << 20);
  auto stub = v1::Node::NewStub(channel);
  const std::string bytes = stage_bytes(0);
  const std::string sha = wire::sha256_hex(bytes);

  std::string tampered = bytes;
  tampered[tampered.size() / 2] ^= 1;
  grpc::Status s = raw_upload(*stub, tampered, sha, tampered.size());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("node " + nodes.addresses()[0]), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("not the declared " + sha), std::string::npos) << s.error_message();

  const std::string garbage = "this is not an onnx model";
  s = raw_upload(*stub, garbage, wire::sha256_hex(garbage), garbage.size());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("upload of stage " + wire::sha256_hex(garbage).substr(0, 12)), std::string::npos)
      << s.error_message();

  s = raw_upload(*stub, bytes, sha, uint64_t{1} << 40);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("limit"), std::string::npos) << s.error_message();

  s = raw_upload(*stub, bytes, "../../etc/passwd", bytes.size());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  NodeClient client(nodes.addresses()[0], 64 << 20, 10);
  EXPECT_TRUE(client.list().empty());
  // A correct upload is kept under its sha256, and uploading it again is a no-op.
  client.upload(bytes, sha, "stage-0.onnx");
  ASSERT_EQ(client.list().size(), 1U);
  EXPECT_EQ(client.list()[0].sha256(), sha);
  EXPECT_EQ(client.list()[0].size_bytes(), bytes.size());
}

TEST_F(Faults, UnknownStageAndMismatchedStreamsNameTheNodeStageAndTensor) {
  auto nodes = cluster(1);
  const std::string address = nodes.addresses()[0];
  NodeClient client(address, 64 << 20, 10);
  const std::string unknown(64, 'a');
  v1::StageRef ref;
  ref.set_sha256(unknown);
  ref.set_index(4);
  const std::string load = error_of([&] { client.load(ref); });
  EXPECT_NE(load.find("stage 4"), std::string::npos) << load;
  EXPECT_NE(load.find("NOT_FOUND"), std::string::npos) << load;
  EXPECT_NE(load.find(address), std::string::npos) << load;

  // A stream whose input spec disagrees with the stage file's input.
  const Plan p = plan();
  client.upload(stage_bytes(1), p.stages[1].sha256, "stage-1.onnx");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = client.stub().Infer(&context);
  v1::InferRequest request;
  auto* open = request.mutable_open();
  open->set_protocol_version(wire::kProtocolVersion);
  auto* hop = open->add_hops();
  hop->set_address(address);
  hop->mutable_stage()->set_sha256(p.stages[1].sha256);
  hop->mutable_stage()->set_index(1);
  for (const auto& spec : p.stages[1].outputs) *hop->add_outputs() = wire::spec_to_proto(spec);
  wire::TensorSpec wrong = p.stages[1].inputs[0];
  wrong.shape = {1, 17};
  *open->add_inputs() = wire::spec_to_proto(wrong);
  ASSERT_TRUE(stream->Write(request));
  v1::InferReply reply;
  ASSERT_TRUE(stream->Read(&reply));
  ASSERT_TRUE(reply.has_failure());
  stream->WritesDone();
  const grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("node " + address + ", stage 1"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("'q1'"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("[1, 17]"), std::string::npos) << s.error_message();
  EXPECT_EQ(reply.failure().message(), s.error_message());
}

TEST_F(Faults, WrongInputShapeTypeOrValuesFailBeforeAnyResult) {
  const Plan p = plan();
  RunOptions o;
  o.nodes = {"127.0.0.1:1"};  // never reached: inputs are checked first
  const std::string shape = error_of([&] { run(p, {Tensor::from_floats({2, 9}, std::vector<float>(18, 1.0F))}, o); });
  EXPECT_NE(shape.find("shape [2, 9]"), std::string::npos) << shape;
  EXPECT_NE(shape.find("'x'"), std::string::npos) << shape;
  const std::string count = error_of([&] { run(p, {}, o); });
  EXPECT_NE(count.find("1 inputs, 0 were given"), std::string::npos) << count;
  const std::string dtype = error_of([&] { run(p, {Tensor::from_floats({1, 8}, {0.5F, 0, 0, 0, 0, 0, 0, 0})}, o); });
  EXPECT_NE(dtype.find("not on its grid"), std::string::npos) << dtype;
  EXPECT_NE(dtype.find("index 0"), std::string::npos) << dtype;
  const std::string range = error_of([&] { run(p, {Tensor::from_floats({1, 8}, {16, 0, 0, 0, 0, 0, 0, 0})}, o); });
  EXPECT_NE(range.find("outside"), std::string::npos) << range;
  // Integer inputs convert exactly: this one passes the checks and only then meets the dead node.
  const std::string ints =
      error_of([&] { run(p, {Tensor::from_ints(ElemType::kInt64, {1, 8}, {1, 2, 3, 4, 5, 6, 7, 8})}, o); });
  EXPECT_NE(ints.find("127.0.0.1:1 is unreachable"), std::string::npos) << ints;
}

TEST_F(Faults, UnreachableNodeIsNamedWithItsStages) {
  auto nodes = cluster(2);
  RunOptions o;
  o.nodes = {nodes.addresses()[0], "127.0.0.1:1", nodes.addresses()[1]};
  const std::string e = error_of([&] { run(plan(), {testing::tiny_inputs(4, 1)}, o); });
  EXPECT_NE(e.find("node 127.0.0.1:1 is unreachable"), std::string::npos) << e;
  EXPECT_NE(e.find("stage 1"), std::string::npos) << e;
}

TEST_F(Faults, BoardMismatchIsRefused) {
  auto nodes = cluster(3, "emulated", false, "pynq-z1");
  RunOptions o;
  o.nodes = nodes.addresses();
  const std::string e = error_of([&] { run(plan(), {testing::tiny_inputs(4, 1)}, o); });
  EXPECT_NE(e.find("pynq-z1"), std::string::npos) << e;
  EXPECT_NE(e.find("'zedboard'"), std::string::npos) << e;
  EXPECT_NE(e.find("stage 0"), std::string::npos) << e;
}

TEST_F(Faults, NodeDyingMidRunFailsTheRunNamingItAndItsStage) {
  TempDir dir;
  // Paced: each batch of 1 takes 20 ms of modelled compute per stage, so the run lasts long
  // enough to lose a node in the middle of it.
  testing::write_plan(*graph_, {2, 4}, dir.path(),
                      {stage_timing(100, 0.0), {"zedboard", 1e6, 100, 20000, 0.0, 1e8, 0.0}, stage_timing(300, 0.0)});
  auto nodes = cluster(3, "emulated", true);
  const std::string victim = nodes.addresses()[1];
  RunOptions o;
  o.nodes = nodes.addresses();
  o.batch = 1;
  o.run_timeout_s = 60;
  std::atomic<bool> killed{false};
  o.progress = [&](int64_t done, int64_t) {
    if (done >= 3 && !killed.exchange(true)) nodes.kill_node(1);
  };
  const auto start = std::chrono::steady_clock::now();
  const std::string e = error_of([&] { run(read_plan(dir.path()), {testing::tiny_inputs(200, 6)}, o); });
  EXPECT_TRUE(killed.load());
  EXPECT_NE(e.find("run failed"), std::string::npos) << e;
  EXPECT_NE(e.find(victim), std::string::npos) << e;
  EXPECT_NE(e.find("stage 1"), std::string::npos) << e;
  // Noticed promptly, not by the run's deadline.
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30.0);
}

TEST_F(Faults, CommandLineExitsNonZeroWithTheNodeInTheMessage) {
  TempDir dir;
  write_npy(dir.file("x.npy"), testing::tiny_inputs(3, 1));
  const auto r = testing::run_binary({"run", dir_->path(), "--nodes", "127.0.0.1:1", "--input", dir.file("x.npy"),
                                      "-o", dir.file("y.npy")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:1 is unreachable"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("y.npy")));
}

TEST_F(Faults, CommandLineRunWritesTheSameOutputsAsTheLibrary) {
  TempDir dir;
  const Tensor x = testing::tiny_inputs(9, 8);
  write_npy(dir.file("x.npy"), x);
  auto nodes = cluster(2, "emulated");
  const auto r = testing::run_binary({"run", dir_->path(), "--nodes", nodes.addresses_joined(), "--input",
                                      dir.file("x.npy"), "-o", dir.file("y.npy"), "--batch", "2", "--trace",
                                      dir.file("trace.json")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("mode timeshare"), std::string::npos) << r.out;
  EXPECT_TRUE(tensors_identical(read_npy(dir.file("y.npy")), engine_output(x)));
  std::ifstream trace(dir.file("trace.json"));
  const std::string text{std::istreambuf_iterator<char>(trace), std::istreambuf_iterator<char>()};
  EXPECT_NE(text.find("\"traceEvents\""), std::string::npos);
  EXPECT_NE(text.find("stage 2 reconfigure"), std::string::npos);
  EXPECT_NE(text.find("(modelled)"), std::string::npos);
}

// The standard gRPC health service and server reflection answer, as stock tools would call them.
TEST_F(Faults, HealthAndReflectionAnswerStockClients) {
  auto nodes = cluster(1);
  auto channel = make_channel(nodes.addresses()[0], 64 << 20);
  grpc::GenericStub generic(channel);
  // grpc.health.v1.HealthCheckRequest{service: "dnnsplit.v1.Node"}: field 1, length-delimited.
  const std::string service = "dnnsplit.v1.Node";
  std::string request = std::string(1, '\x0a') + static_cast<char>(service.size()) + service;
  grpc::ByteBuffer send, received;
  grpc::Slice slice(request);
  send = grpc::ByteBuffer(&slice, 1);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &send, &received,
                    [&](grpc::Status s) {
                      std::lock_guard lock(mu);
                      status = s;
                      done = true;
                      cv.notify_all();
                    });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  received.Dump(&slices);
  std::string reply;
  for (const auto& s : slices) reply += std::string(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(reply, std::string("\x08\x01", 2));  // status: SERVING

  // grpc.reflection.v1alpha.ServerReflectionRequest{list_services: ""}: field 7.
  grpc::ClientContext rcontext;
  rcontext.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = generic.PrepareCall(&rcontext, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::Slice list(std::string("\x3a\x00", 2));
  grpc::ByteBuffer list_request(&list, 1);
  call->Write(list_request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer list_reply;
  call->Read(&list_reply, reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  slices.clear();
  list_reply.Dump(&slices);
  std::string services;
  for (const auto& s : slices) services += std::string(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_NE(services.find("dnnsplit.v1.Node"), std::string::npos);
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos);
  call->WritesDone(reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  grpc::Status finish;
  call->Finish(&finish, reinterpret_cast<void*>(5));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(5)) {
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

// A node that misbehaves on purpose: answers every batch of a chain itself (zeros), but sends
// one result twice or drops one. The client must notice either.
class FakeNode final : public v1::Node::Service {
 public:
  enum class Fault { kDuplicate, kDrop };
  FakeNode(Fault fault, std::vector<std::string> stored) : fault_(fault), stored_(std::move(stored)) {}
  grpc::Status Status(grpc::ServerContext*, const v1::StatusRequest*, v1::StatusReply* reply) override {
    reply->set_protocol_version(wire::kProtocolVersion);
    reply->set_node("fake");
    reply->set_max_message_bytes(64 << 20);
    return grpc::Status::OK;
  }
  grpc::Status ListStages(grpc::ServerContext*, const v1::ListStagesRequest*, v1::ListStagesReply* reply) override {
    for (const auto& sha : stored_) reply->add_stages()->set_sha256(sha);
    return grpc::Status::OK;
  }
  grpc::Status Infer(grpc::ServerContext*, grpc::ServerReaderWriter<v1::InferReply, v1::InferRequest>* stream) override {
    v1::InferRequest request;
    if (!stream->Read(&request)) return grpc::Status::OK;
    const int64_t out_bytes = wire::spec_from_proto(request.open().hops().rbegin()->outputs(0), "fake").bytes_per_image();
    v1::InferReply ready;
    ready.mutable_ready()->add_chain("fake");
    stream->Write(ready);
    while (stream->Read(&request)) {
      const auto& b = request.batch();
      v1::InferReply reply;
      reply.mutable_result()->set_sequence(b.sequence());
      reply.mutable_result()->set_images(b.images());
      reply.mutable_result()->add_tensors(std::string(static_cast<size_t>(out_bytes * b.images()), '\0'));
      if (fault_ == Fault::kDrop && b.sequence() == 1) continue;
      stream->Write(reply);
      if (fault_ == Fault::kDuplicate && b.sequence() == 1) stream->Write(reply);
    }
    return grpc::Status::OK;
  }

 private:
  Fault fault_;
  std::vector<std::string> stored_;
};

TEST_F(Faults, ResultsThatComeBackTwiceOrNeverFailTheRun) {
  const Plan p = plan();
  std::vector<std::string> stored;
  for (const auto& s : p.stages) stored.push_back(s.sha256);
  for (auto fault : {FakeNode::Fault::kDuplicate, FakeNode::Fault::kDrop}) {
    FakeNode service(fault, stored);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    auto server = builder.BuildAndStart();
    ASSERT_NE(server, nullptr);
    RunOptions o;
    o.nodes = {"127.0.0.1:" + std::to_string(port)};
    o.batch = 2;
    o.rounds_in_flight = 1;
    const std::string e = error_of([&] { run(p, {testing::tiny_inputs(8, 1)}, o); });
    if (fault == FakeNode::Fault::kDuplicate) {
      EXPECT_NE(e.find("batch 1"), std::string::npos) << e;
      EXPECT_NE(e.find("came back twice"), std::string::npos) << e;
    } else {
      EXPECT_NE(e.find("without the results of batch 1"), std::string::npos) << e;
    }
    EXPECT_NE(e.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e;
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
}

TEST_F(Faults, MessagesAboveTheLimitAreRefusedBeforeSending) {
  auto nodes = cluster(3);
  RunOptions o;
  o.nodes = nodes.addresses();
  o.batch = 100;  // outputs: 100 x 40 B = 4000 B, beyond 5000 B with the message headroom
  o.max_message_bytes = 5000;
  const std::string e = error_of([&] { run(plan(), {testing::tiny_inputs(100, 1)}, o); });
  EXPECT_NE(e.find("the outputs of stage 2"), std::string::npos) << e;
  EXPECT_NE(e.find("message limit of 5000 bytes"), std::string::npos) << e;
}

TEST(ClusterCommand, StartsNodesPrintsAddressesAndStopsThemOnSigterm) {
  TempDir dir;
  const std::string file = dir.file("addresses");
  std::string bin = testing::binary();
  std::vector<std::string> args{bin, "cluster", "up", "2", "--addresses-file", file, "--backend", "emulated"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string line;
  for (int i = 0; i < 400 && line.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    std::ifstream in(file);
    std::getline(in, line);
  }
  ASSERT_FALSE(line.empty());
  const auto comma = line.find(',');
  ASSERT_NE(comma, std::string::npos) << line;
  const std::vector<std::string> addresses{line.substr(0, comma), line.substr(comma + 1)};
  for (const auto& a : addresses) {
    EXPECT_EQ(NodeClient(a, 64 << 20, 10).status().backend(), "emulated");
  }
  kill(pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (const auto& a : addresses) {
    EXPECT_NE(error_of([&] { NodeClient(a, 64 << 20, 2).status(); }).find("unreachable"), std::string::npos);
  }
}

}  // namespace
}  // namespace dnnsplit::orchestrator
