// dnnsplit node --listen HOST:PORT --store DIR [--board B] [--backend cpu|emulated] [--pace]:
// one board's server. Thin: parse, one library call.
#include <memory>

#include "commands.h"
#include "dnnsplit/node.h"

namespace dnnsplit::cli {

void add_node_command(CLI::App& app) {
  auto options = std::make_shared<node::NodeOptions>();
  auto message_mb = std::make_shared<int64_t>(64);
  auto stage_mb = std::make_shared<int64_t>(512);
  app.footer(
      "Serves one board: keeps stage files in --store (addressed by sha256; nothing is written outside it), loads "
      "one stage at a time (= reconfigures) and runs batches, forwarding results to the next node of a chain. "
      "Prints 'listening on HOST:PORT' first; stops on SIGINT/SIGTERM. Speaks gRPC (proto/dnnsplit/v1/node.proto) "
      "with the standard health service and server reflection. Binding anything but 127.0.0.1 exposes the node to "
      "the network without authentication.");
  app.add_option("--listen", options->listen, "HOST:PORT to listen on; port 0 lets the OS choose")
      ->capture_default_str();
  app.add_option("--store", options->store_dir, "stage store directory (created if missing)")->required();
  app.add_option("--board", options->board, "board this node emulates; stages planned for another board are refused");
  app.add_option("--backend", options->backend, "cpu (the engine) or emulated (the engine plus the board model)")
      ->check(CLI::IsMember({"cpu", "emulated"}))
      ->capture_default_str();
  app.add_flag("--pace", options->pace, "emulated: sleep so wall-clock follows the modelled board");
  app.add_flag("--quiet", options->quiet, "no message on stderr when stopped by a signal");
  app.add_option("--name", options->name, "name in messages and records (default: the bound address)");
  app.add_option("--threads", options->engine_threads, "engine threads")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--max-message-mb", *message_mb, "largest gRPC message accepted or sent, MiB")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-stage-mb", *stage_mb, "largest stage file accepted by upload, MiB")
      ->capture_default_str()
      ->check(CLI::Range(1, 16384));
  app.callback([options, message_mb, stage_mb] {
    options->max_message_bytes = *message_mb << 20;
    options->max_stage_bytes = *stage_mb << 20;
    options->max_buffered_bytes = std::max<int64_t>(options->max_buffered_bytes, options->max_message_bytes);
    const int code = node::run_node_until_signal(*options);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace dnnsplit::cli
