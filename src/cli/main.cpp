// dnnsplit: one tool, many subcommands. This file only dispatches; each subcommand lives in
// its own cmd_<name>.cpp.
#include <cstdio>
#include <exception>

#include "commands.h"
#include "dnnsplit/error.h"

namespace {

struct CommandEntry {
  const char* name;
  const char* summary;
  void (*add)(CLI::App&);
};

// The dispatch table, in the order `dnnsplit --help` lists the commands.
const CommandEntry kCommands[] = {
    {"zoo", "List and build the literature's networks as QONNX models", dnnsplit::cli::add_zoo_command},
    {"inspect", "Per-layer table of a model: shapes, bits, parameters, MACs, bytes/image", dnnsplit::cli::add_inspect_command},
    {"exec", "Run a whole model on a .npy batch on the CPU", dnnsplit::cli::add_exec_command},
    {"eval", "Top-1 accuracy of a classifier on the Fashion-MNIST test set", dnnsplit::cli::add_eval_command},
    {"plan", "Split a model into stages that each fit a board; write stage files and plan.json", dnnsplit::cli::add_plan_command},
    {"verify", "Check that the stages of a plan give outputs bit-identical to the whole model", dnnsplit::cli::add_verify_command},
    {"report", "Split-point study: first board's usage and bytes/image at every cut (Markdown, CSV, SVG)", dnnsplit::cli::add_report_command},
    {"estimate", "FINN resource and cycle estimate of a model on a board, per layer and in total", dnnsplit::cli::add_estimate_command},
    {"boards", "List the board catalog: resources, usable fractions, clock, reconfiguration, link", dnnsplit::cli::add_boards_command},
    {"node", "Serve one board: stage store, reconfiguration, inference, forwarding (gRPC)", dnnsplit::cli::add_node_command},
    {"run", "Run a plan on board nodes: pipeline, time-share, replication; timing report and trace", dnnsplit::cli::add_run_command},
    {"cluster", "Start N local board nodes on free ports and stop them cleanly", dnnsplit::cli::add_cluster_command},
    {"bench", "Images/s and latency of a model on this CPU (fast low-bit kernels or the reference), per step", dnnsplit::cli::add_bench_command},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dnnsplit: split quantized neural networks across small FPGA boards, and run them"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dnnsplit 0.1.0");
  app.failure_message(dnnsplit::cli::format_parse_error);
  for (const auto& command : kCommands) {
    command.add(*app.add_subcommand(command.name, command.summary));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const dnnsplit::Error& e) {
    std::fprintf(stderr, "dnnsplit: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dnnsplit: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
