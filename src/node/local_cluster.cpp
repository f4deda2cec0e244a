// N `dnnsplit node` processes on 127.0.0.1, for the demo, `dnnsplit cluster up` and tests.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "dnnsplit/error.h"
#include "dnnsplit/node.h"

namespace dnnsplit::node {

namespace {

using Clock = std::chrono::steady_clock;

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;
};

Child spawn(const std::vector<std::string>& args) {
  int fds[2];
  check(pipe2(fds, O_CLOEXEC) == 0, "cluster: cannot create a pipe");
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    throw Error("cluster: fork failed");
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    dup2(fds[1], STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

// Reads the child's first stdout line ("dnnsplit node: listening on HOST:PORT ...").
std::string read_address(const Child& child, double timeout_s, const std::string& who) {
  std::string line;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    check(left > 0, who + " did not report its address within " + std::to_string(timeout_s) + " s");
    pollfd p{child.stdout_fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    check(ready >= 0, who + ": poll failed");
    if (ready == 0) continue;
    char buffer[256];
    const ssize_t n = read(child.stdout_fd, buffer, sizeof buffer);
    if (n <= 0) {
      int status = 0;
      waitpid(child.pid, &status, 0);
      throw Error(who + " exited (status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                  ") before reporting its address; see its error above");
    }
    line.append(buffer, static_cast<size_t>(n));
  }
  const std::string marker = "listening on ";
  const size_t at = line.find(marker);
  check(at != std::string::npos, who + " printed an unexpected first line: " + line);
  const size_t begin = at + marker.size();
  const size_t end = line.find_first_of(" \n", begin);
  return line.substr(begin, end - begin);
}

bool wait_exit(pid_t pid, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

LocalCluster::LocalCluster(const LocalClusterOptions& options) {
  check(options.nodes >= 1 && options.nodes <= 64, "cluster: between 1 and 64 nodes, got " + std::to_string(options.nodes));
  check(!options.binary.empty() && access(options.binary.c_str(), X_OK) == 0,
        "cluster: cannot execute the dnnsplit binary '" + options.binary + "'");
  std::string root = options.store_root;
  if (root.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "dnnsplit-cluster-XXXXXX").string();
    check(mkdtemp(pattern.data()) != nullptr, "cluster: cannot create a temporary directory");
    root = pattern;
    temp_dirs_.push_back(root);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);
    check(!ec, "cluster: cannot create " + root + ": " + ec.message());
  }
  std::vector<int> fds;
  try {
    for (int i = 0; i < options.nodes; ++i) {
      std::vector<std::string> args{options.binary, "node", "--listen", "127.0.0.1:0", "--store",
                                    (std::filesystem::path(root) / ("node-" + std::to_string(i))).string(),
                                    "--backend", options.backend, "--quiet"};
      if (!options.board.empty()) args.insert(args.end(), {"--board", options.board});
      if (options.pace) args.emplace_back("--pace");
      const Child child = spawn(args);
      pids_.push_back(child.pid);
      fds.push_back(child.stdout_fd);
      addresses_.push_back(read_address(child, options.start_timeout_s, "node " + std::to_string(i)));
    }
  } catch (...) {
    for (int fd : fds) close(fd);
    stop();
    throw;
  }
  // The nodes print nothing more on stdout; closing the pipe cannot hurt them.
  for (int fd : fds) close(fd);
}

LocalCluster::~LocalCluster() { stop(); }

std::string LocalCluster::addresses_joined() const {
  std::string out;
  for (const auto& a : addresses_) out += (out.empty() ? "" : ",") + a;
  return out;
}

void LocalCluster::kill_node(int node) {
  const pid_t pid = pids_.at(static_cast<size_t>(node));
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  wait_exit(pid, 5.0);
  pids_[static_cast<size_t>(node)] = -1;
}

void LocalCluster::stop() {
  for (pid_t pid : pids_) {
    if (pid > 0) kill(pid, SIGTERM);
  }
  for (auto& pid : pids_) {
    if (pid <= 0) continue;
    if (!wait_exit(pid, 5.0)) {
      kill(pid, SIGKILL);
      wait_exit(pid, 5.0);
    }
    pid = -1;
  }
  for (const auto& dir : temp_dirs_) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  temp_dirs_.clear();
}

}  // namespace dnnsplit::node
