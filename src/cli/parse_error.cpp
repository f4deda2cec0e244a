// How command-line parse errors are printed: one line, like every other error of dnnsplit.
#include <string>

#include "commands.h"

namespace dnnsplit::cli {

std::string format_parse_error(const CLI::App* app, const CLI::Error& e) {
  // The innermost subcommand given names the help to read ("dnnsplit zoo build --help").
  const CLI::App* current = app;
  std::string help = "dnnsplit";
  while (!current->get_subcommands().empty()) {
    current = current->get_subcommands().front();
    help += " " + current->get_name();
  }
  std::string message = e.what();
  // CLI11 checks "a subcommand is required" before it complains about the word it did not know.
  const auto unknown = current->remaining();
  if (e.get_name() == "RequiredError" && !unknown.empty() && !current->get_subcommands({}).empty()) {
    message = "unknown subcommand '" + unknown.front() + "'; commands:";
    for (const CLI::App* sub : current->get_subcommands({})) message += " " + sub->get_name();
  }
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "dnnsplit: error: " + message + " (see " + help + " --help)\n";
}

}  // namespace dnnsplit::cli
