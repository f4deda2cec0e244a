// One function per subcommand; each lives in cmd_<name>.cpp, registers its options on the
// subcommand it is given and sets its callback. Callbacks throw dnnsplit::Error on bad input
// (main prints it as one line, exit code 2) and return normally on success.
#pragma once

#include <CLI/CLI.hpp>

namespace dnnsplit::cli {

void add_zoo_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_exec_command(CLI::App& app);

}  // namespace dnnsplit::cli
