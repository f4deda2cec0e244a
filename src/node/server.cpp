// Serving a node: gRPC server with the node service, the standard health service and server
// reflection (so grpcurl / grpc_cli / grpc_health_probe can talk to it), message limits and
// keepalive; and the `dnnsplit node` entry point that serves until a signal.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <csignal>
#include <cstdio>
#include <mutex>
#include <pthread.h>

#include "dnnsplit/error.h"
#include "dnnsplit/node.h"
#include "service.h"

namespace dnnsplit::node {

namespace {

constexpr const char* kServiceName = "dnnsplit.v1.Node";

std::string host_of(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace

struct NodeServer::Impl {
  std::unique_ptr<NodeCore> core;
  std::unique_ptr<NodeService> service;
  std::unique_ptr<grpc::Server> server;
  std::string address;
  std::mutex shutdown_mutex;
  bool shut_down = false;
};

NodeServer::NodeServer(const NodeOptions& options) : impl_(std::make_unique<Impl>()) {
  check(options.listen.find(':') != std::string::npos, "node: --listen needs HOST:PORT, got '" + options.listen + "'");
  impl_->core = std::make_unique<NodeCore>(options, options.name.empty() ? options.listen : options.name);
  impl_->service = std::make_unique<NodeService>(*impl_->core);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(impl_->service.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  // Callers ping every few seconds to notice dead nodes; allow it.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  impl_->server = builder.BuildAndStart();
  check(impl_->server != nullptr && port > 0, "node: cannot listen on " + options.listen +
                                                   " (address in use, or not an address of this machine)");
  impl_->address = host_of(options.listen) + ":" + std::to_string(port);
  if (options.name.empty()) impl_->core->set_name(impl_->address);
  auto* health = impl_->server->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(kServiceName, true);
    health->SetServingStatus(true);
  }
}

NodeServer::~NodeServer() { shutdown(); }

const std::string& NodeServer::address() const { return impl_->address; }

void NodeServer::shutdown(double grace_seconds) {
  std::lock_guard lock(impl_->shutdown_mutex);
  if (impl_->shut_down) return;
  impl_->shut_down = true;
  auto* health = impl_->server->GetHealthCheckService();
  if (health != nullptr) health->SetServingStatus(false);
  impl_->server->Shutdown(std::chrono::system_clock::now() +
                          std::chrono::duration_cast<std::chrono::system_clock::duration>(
                              std::chrono::duration<double>(grace_seconds)));
  impl_->server->Wait();
}

void NodeServer::wait() { impl_->server->Wait(); }

int run_node_until_signal(const NodeOptions& options) {
  // Block the stop signals before gRPC starts its threads (they inherit the mask), then wait
  // for one here: shutdown runs in an ordinary thread, not in a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (!is_loopback(host_of(options.listen))) {
    std::fprintf(stderr,
                 "dnnsplit node: WARNING: listening on %s, not loopback: anyone who can reach this address can "
                 "upload and run models on this node (no TLS, no token)\n",
                 options.listen.c_str());
  }
  NodeServer server(options);
  std::printf("dnnsplit node: listening on %s (backend %s%s%s, store %s)\n", server.address().c_str(),
              options.backend.c_str(), options.pace ? ", paced" : "",
              options.board.empty() ? "" : (", board " + options.board).c_str(), options.store_dir.c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (!options.quiet) {
    std::fprintf(stderr, "dnnsplit node %s: %s, shutting down\n", server.address().c_str(),
                 signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  }
  server.shutdown(2.0);
  return 0;
}

}  // namespace dnnsplit::node
