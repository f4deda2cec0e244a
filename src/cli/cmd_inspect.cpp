#include "commands.h"
namespace dnnsplit::cli {
void add_inspect_command(CLI::App& app) { (void)app; }
}  // namespace dnnsplit::cli
