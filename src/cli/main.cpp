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
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dnnsplit: split quantized neural networks across small FPGA boards, and run them"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dnnsplit 0.1.0");
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
