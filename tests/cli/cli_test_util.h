// Running the built dnnsplit binary (DNNSPLIT_BINARY) and capturing its exit code and output.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "io/io_test_util.h"

extern char** environ;

namespace dnnsplit::test {

struct CliResult {
  int exit_code = -1;  // -1 when the process did not exit normally (signal)
  std::string out;
  std::string err;
};

inline CliResult run_cli(const std::vector<std::string>& args) {
  const TempDir dir;
  const std::string out_path = dir.path() + "/stdout";
  const std::string err_path = dir.path() + "/stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_storage = {DNNSPLIT_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  CliResult result;
  const int spawned = posix_spawn(&pid, DNNSPLIT_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    ADD_FAILURE() << "cannot start " << DNNSPLIT_BINARY;
    return result;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  result.out = bytes_of(out_path);
  result.err = bytes_of(err_path);
  return result;
}

// The contract for bad input: exit code 2 and exactly one line on stderr, starting
// "dnnsplit: error:" and naming every part given. DNNSPLIT_SHOW_ERRORS=1 prints each line, to
// review the wording.
inline void expect_cli_error(const CliResult& r, const std::vector<std::string>& parts) {
  if (std::getenv("DNNSPLIT_SHOW_ERRORS")) std::fprintf(stderr, "  >> %s", r.err.c_str());
  EXPECT_EQ(r.exit_code, 2) << "stderr: " << r.err;
  EXPECT_EQ(r.err.rfind("dnnsplit: error: ", 0), 0U) << "stderr: " << r.err;
  EXPECT_TRUE(!r.err.empty() && r.err.find('\n') == r.err.size() - 1) << "not exactly one line: " << r.err;
  for (const auto& part : parts) EXPECT_NE(r.err.find(part), std::string::npos) << "'" << part << "' not in: " << r.err;
}

}  // namespace dnnsplit::test
