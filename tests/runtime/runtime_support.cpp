#include "runtime_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "dnnsplit/error.h"
#include "dnnsplit/model_io.h"
#include "dnnsplit/partition.h"
#include "dnnsplit/wire.h"

namespace dnnsplit::testing {

namespace {

using nlohmann::json;

Tensor scalar(float v) { return Tensor::from_floats({}, {v}); }

Tensor weights(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(static_cast<size_t>(rows * cols));
  for (auto& w : v) w = static_cast<float>(static_cast<int>(rng() % 5) - 2);  // -2..2
  return Tensor::from_floats({rows, cols}, v);
}

json tensor_json(const ir::TensorInfo& info) {
  const wire::TensorSpec spec = wire::spec_from_tensor_info(info);
  json quant = nullptr;
  if (info.quant) {
    const auto& q = *info.quant;
    quant = {{"finn_datatype", q.finn_name()}, {"bits", q.bits},       {"signed", q.is_signed},
             {"narrow", q.narrow},             {"bipolar", q.bipolar}, {"scale", q.scale},
             {"zero_point", q.zero_point},     {"channel_axis", q.channel_axis}};
  }
  return {{"name", info.name},
          {"shape", info.shape},
          {"dtype", elem_type_name(info.type)},
          {"quant", quant},
          {"bytes_per_image", spec.bytes_per_image()}};
}

json tensors_json(const ir::Graph& g, const std::vector<int>& ids) {
  json list = json::array();
  for (int id : ids) list.push_back(tensor_json(g.tensor(id)));
  return list;
}

}  // namespace

ir::Graph tiny_model() {
  ir::Graph g;
  g.name = "tiny";
  g.opset = 13;
  auto tensor = [&](const std::string& name, Shape shape) {
    return g.add_tensor({name, ElemType::kFloat, std::move(shape), std::nullopt, std::nullopt});
  };
  auto constant = [&](const std::string& name, Tensor t) {
    ir::TensorInfo info{name, t.type, t.shape, std::nullopt, t};
    return g.add_tensor(info);
  };
  ir::QuantType in_type;
  in_type.bits = 4;
  in_type.is_signed = false;
  const int x = g.add_tensor({"x", ElemType::kFloat, {1, 8}, in_type, std::nullopt});
  g.inputs = {x};
  auto matmul = [&](const std::string& name, int in, int w, int out) {
    ir::Node n;
    n.name = name;
    n.op_type = "MatMul";
    n.inputs = {in, w};
    n.outputs = {out};
    g.nodes.push_back(n);
  };
  auto quant = [&](const std::string& name, int in, float s, int bits, bool is_signed, int out) {
    ir::Node n;
    n.name = name;
    n.op_type = "Quant";
    n.domain = "qonnx.custom_op.general";
    n.inputs = {in, constant(name + "_scale", scalar(s)), constant(name + "_zeropt", scalar(0.0F)),
                constant(name + "_bits", scalar(static_cast<float>(bits)))};
    n.outputs = {out};
    n.attributes["signed"] = int64_t{is_signed ? 1 : 0};
    n.attributes["narrow"] = int64_t{0};
    n.attributes["rounding_mode"] = std::string("ROUND");
    g.nodes.push_back(n);
  };
  const int a1 = tensor("a1", {1, 16});
  const int q1 = tensor("q1", {1, 16});
  const int a2 = tensor("a2", {1, 12});
  const int q2 = tensor("q2", {1, 12});
  const int logits = tensor("logits", {1, 10});
  matmul("mm0", x, constant("w0", weights(8, 16, 1)), a1);
  quant("quant0", a1, 0.5F, 3, true, q1);
  matmul("mm1", q1, constant("w1", weights(16, 12, 2)), a2);
  quant("quant1", a2, 0.25F, 2, false, q2);
  matmul("mm2", q2, constant("w2", weights(12, 10, 3)), logits);
  g.outputs = {logits};
  return import_model_from_bytes(export_model_to_bytes(g), "tiny model");
}

ir::Graph wide_model() {
  ir::Graph g;
  g.name = "wide";
  g.opset = 13;
  ir::QuantType in_type;
  in_type.bits = 4;
  in_type.is_signed = false;
  const int x = g.add_tensor({"x", ElemType::kFloat, {1, 8}, in_type, std::nullopt});
  g.inputs = {x};
  auto constant = [&](const std::string& name, Tensor t) {
    ir::TensorInfo info{name, t.type, t.shape, std::nullopt, t};
    return g.add_tensor(info);
  };
  const int a = g.add_tensor({"a", ElemType::kFloat, {1, 1024}, std::nullopt, std::nullopt});
  const int q = g.add_tensor({"q", ElemType::kFloat, {1, 1024}, std::nullopt, std::nullopt});
  const int y = g.add_tensor({"y", ElemType::kFloat, {1, 4}, std::nullopt, std::nullopt});
  ir::Node mm0;
  mm0.name = "mm0";
  mm0.op_type = "MatMul";
  mm0.inputs = {x, constant("w0", weights(8, 1024, 4))};
  mm0.outputs = {a};
  ir::Node quant;
  quant.name = "quant0";
  quant.op_type = "Quant";
  quant.domain = "qonnx.custom_op.general";
  quant.inputs = {a, constant("s", scalar(1.0F)), constant("z", scalar(0.0F)), constant("b", scalar(8.0F))};
  quant.outputs = {q};
  quant.attributes["signed"] = int64_t{0};
  quant.attributes["narrow"] = int64_t{0};
  quant.attributes["rounding_mode"] = std::string("ROUND");
  ir::Node mm1;
  mm1.name = "mm1";
  mm1.op_type = "MatMul";
  mm1.inputs = {q, constant("w1", weights(1024, 4, 5))};
  mm1.outputs = {y};
  g.nodes = {mm0, quant, mm1};
  g.outputs = {y};
  return import_model_from_bytes(export_model_to_bytes(g), "wide model");
}

Tensor tiny_inputs(int64_t images, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> v(static_cast<size_t>(images * 8));
  for (auto& x : v) x = static_cast<float>(rng() % 16);
  return Tensor::from_floats({images, 8}, v);
}

std::string write_plan(const ir::Graph& graph, const std::vector<int>& cuts, const std::string& dir,
                       const std::vector<node::StageTiming>& timings) {
  std::vector<int> bounds{0};
  bounds.insert(bounds.end(), cuts.begin(), cuts.end());
  bounds.push_back(static_cast<int>(graph.nodes.size()));
  check(timings.size() + 1 == bounds.size(), "write_plan: one timing per stage");
  json plan;
  plan["schema"] = "dnnsplit-plan/1";
  plan["created_by"] = "runtime test";
  plan["strategy"] = "fill";
  plan["model_inputs"] = tensors_json(graph, graph.inputs);
  plan["model_outputs"] = tensors_json(graph, graph.outputs);
  plan["stages"] = json::array();
  plan["cuts"] = json::array();
  for (size_t k = 0; k + 1 < bounds.size(); ++k) {
    const ir::Graph stage = partition::extract_stage(graph, bounds[k], bounds[k + 1], "stage" + std::to_string(k));
    const std::string bytes = export_model_to_bytes(stage);
    const std::string file = "stage-" + std::to_string(k) + ".onnx";
    std::ofstream(dir + "/" + file, std::ios::binary) << bytes;
    const auto& t = timings[k];
    plan["stages"].push_back(
        {{"index", k},
         {"file", file},
         {"sha256", wire::sha256_hex(bytes)},
         {"board", t.board},
         {"inputs", tensors_json(graph, partition::crossing_tensors(graph, bounds[k]))},
         {"outputs", tensors_json(graph, partition::crossing_tensors(graph, bounds[k + 1]))},
         {"timing",
          {{"clock_hz", t.clock_hz},
           {"bottleneck_cycles", t.bottleneck_cycles},
           {"critical_path_cycles", t.critical_path_cycles},
           {"reconfiguration_s", t.reconfiguration_s},
           {"link_bits_per_s", t.link_bits_per_s},
           {"link_latency_s", t.link_latency_s}}}});
    if (k + 2 < bounds.size()) {
      const auto crossing = partition::crossing_tensors(graph, bounds[k + 1]);
      int64_t bytes_per_image = 0;
      for (int id : crossing) bytes_per_image += wire::spec_from_tensor_info(graph.tensor(id)).bytes_per_image();
      plan["cuts"].push_back({{"after_stage", k}, {"bytes_per_image", bytes_per_image}, {"tensors", tensors_json(graph, crossing)}});
    }
  }
  std::ofstream(dir + "/plan.json") << plan.dump(2) << "\n";
  return dir;
}

CountingProxy::CountingProxy(const std::string& target) {
  target_port_ = std::stoi(target.substr(target.rfind(':') + 1));
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  check(listen_fd_ >= 0 && bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            listen(listen_fd_, 16) == 0,
        "proxy: cannot listen");
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  address_ = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  check(pipe2(wake_, O_CLOEXEC) == 0, "proxy: pipe failed");
  thread_ = std::thread([this] { loop(); });
}

CountingProxy::~CountingProxy() {
  const char c = 'x';
  (void)!write(wake_[1], &c, 1);
  thread_.join();
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void CountingProxy::loop() {
  struct Pair {
    int client, server;
  };
  std::vector<Pair> pairs;
  std::vector<char> buffer(1 << 16);
  while (true) {
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), 1000) < 0) continue;
    if (fds[0].revents != 0) break;
    if ((fds[1].revents & POLLIN) != 0) {
      const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(target_port_));
      if (client >= 0 && server >= 0 && connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        pairs.push_back({client, server});
      } else {
        if (client >= 0) close(client);
        if (server >= 0) close(server);
      }
      continue;  // the pair list changed: rebuild the poll set
    }
    std::vector<Pair> kept;
    for (size_t i = 0; i < pairs.size(); ++i) {
      bool open = true;
      for (int side = 0; side < 2 && open; ++side) {
        const pollfd& f = fds[2 + 2 * i + static_cast<size_t>(side)];
        if (f.revents == 0) continue;
        const int from = side == 0 ? pairs[i].client : pairs[i].server;
        const int to = side == 0 ? pairs[i].server : pairs[i].client;
        const ssize_t n = read(from, buffer.data(), buffer.size());
        if (n <= 0) {
          open = false;
          break;
        }
        (side == 0 ? to_target_ : from_target_) += n;
        for (ssize_t done = 0; done < n;) {
          const ssize_t w = send(to, buffer.data() + done, static_cast<size_t>(n - done), MSG_NOSIGNAL);
          if (w <= 0) {
            open = false;
            break;
          }
          done += w;
        }
      }
      if (open) {
        kept.push_back(pairs[i]);
      } else {
        close(pairs[i].client);
        close(pairs[i].server);
      }
    }
    pairs = kept;
  }
  for (const auto& p : pairs) {
    close(p.client);
    close(p.server);
  }
}

std::string binary() { return DNNSPLIT_BINARY; }

CommandResult run_binary(const std::vector<std::string>& args, double timeout_s) {
  TempDir dir;
  const std::string out_file = dir.file("out"), err_file = dir.file("err");
  std::vector<std::string> full{binary()};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  check(pid >= 0, "fork failed");
  if (pid == 0) {
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      result.err = "timed out";
      return result;
    }
    usleep(10000);
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  };
  result.out = slurp(out_file);
  result.err = slurp(err_file);
  return result;
}

}  // namespace dnnsplit::testing
