// dnnsplit cluster up N [--board B] [--backend ...] [--pace]: N local nodes on free ports.
// Prints their addresses (one line, comma-separated) and keeps them until SIGINT/SIGTERM.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <pthread.h>

#include "commands.h"
#include "dnnsplit/error.h"
#include "dnnsplit/node.h"

namespace dnnsplit::cli {

namespace {

std::string self_binary() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  check(n > 0, "cluster: cannot find the dnnsplit binary (/proc/self/exe)");
  return std::string(path, static_cast<size_t>(n));
}

}  // namespace

void add_cluster_command(CLI::App& app) {
  app.require_subcommand(1);
  auto* up = app.add_subcommand("up", "Start N local nodes on 127.0.0.1 and keep them until Ctrl-C / SIGTERM");
  auto options = std::make_shared<node::LocalClusterOptions>();
  auto addresses_file = std::make_shared<std::string>();
  up->add_option("count", options->nodes, "number of nodes")->required()->check(CLI::Range(1, 64));
  up->add_option("--board", options->board, "board every node emulates");
  up->add_option("--backend", options->backend, "cpu or emulated")
      ->check(CLI::IsMember({"cpu", "emulated"}))
      ->capture_default_str();
  up->add_flag("--pace", options->pace, "emulated: sleep so wall-clock follows the modelled board");
  up->add_option("--store-root", options->store_root,
                 "keep the stores in DIR/node-<i> (default: temporary directories, removed at the end)");
  up->add_option("--addresses-file", *addresses_file, "also write the addresses line to this file");
  up->callback([options, addresses_file] {
    // Blocked before the nodes start, so only sigwait below sees the stop signals.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    options->binary = self_binary();
    node::LocalCluster cluster(*options);
    const std::string line = cluster.addresses_joined();
    if (!addresses_file->empty()) {
      std::ofstream out(*addresses_file, std::ios::trunc);
      out << line << "\n";
      check(out.good(), "cluster: cannot write " + *addresses_file);
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "dnnsplit cluster: %d nodes up; Ctrl-C or SIGTERM stops them\n", options->nodes);
    int signal_number = 0;
    sigwait(&stop, &signal_number);
    cluster.stop();
    std::fprintf(stderr, "dnnsplit cluster: nodes stopped\n");
  });
}

}  // namespace dnnsplit::cli
