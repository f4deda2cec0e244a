#include "dnnsplit/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "dnnsplit/error.h"

namespace dnnsplit {

std::string read_file_bytes(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + what + " '" + path + "': " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  check(!in.bad(), "error reading " + what + " '" + path + "'");
  return std::move(buffer).str();
}

void write_file_atomic(const std::string& path, std::string_view bytes, const std::string& what) {
  // pid + counter makes the temporary name unique among concurrent writers; O_EXCL guards the
  // rest (a stale file left by a killed process), and mode 0666 lets the umask apply as usual.
  static std::atomic<unsigned> counter{0};
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temp = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) throw Error("cannot write " + what + " '" + path + "': " + std::strerror(errno));
  const char* p = bytes.data();
  size_t left = bytes.size();
  int error = 0;
  while (left > 0 && error == 0) {
    const ssize_t written = ::write(fd, p, left);
    if (written < 0) {
      if (errno != EINTR) error = errno;
      continue;
    }
    p += written;
    left -= static_cast<size_t>(written);
  }
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && std::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    std::remove(temp.c_str());
    throw Error("cannot write " + what + " '" + path + "': " + std::strerror(error));
  }
}

}  // namespace dnnsplit
