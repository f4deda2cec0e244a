#include "commands.h"
namespace dnnsplit::cli {
void add_zoo_command(CLI::App& app) { (void)app; }
}  // namespace dnnsplit::cli
