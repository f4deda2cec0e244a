// One function per subcommand; each lives in cmd_<name>.cpp, registers its options on the
// subcommand it is given and sets its callback. Callbacks throw dnnsplit::Error on bad input
// (main prints it as one line, exit code 2) and return normally on success.
#pragma once

#include <CLI/CLI.hpp>

namespace dnnsplit::cli {

void add_zoo_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_exec_command(CLI::App& app);
void add_eval_command(CLI::App& app);
// One-line "dnnsplit: error: ..." text for a command-line parse error (App::failure_message).
std::string format_parse_error(const CLI::App* app, const CLI::Error& e);
void add_plan_command(CLI::App& app);
void add_verify_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_estimate_command(CLI::App& app);
void add_boards_command(CLI::App& app);
void add_node_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_cluster_command(CLI::App& app);
void add_bench_command(CLI::App& app);

}  // namespace dnnsplit::cli
