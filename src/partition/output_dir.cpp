#include "output_dir.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "dnnsplit/error.h"

namespace dnnsplit::partition::detail {

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  check(out.good(), path.string() + ": cannot create file");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  check(!out.fail(), path.string() + ": write failed (disk full?)");
}

}  // namespace

void write_directory_atomically(const std::string& dir, const FileList& files, const std::string& marker) {
  check(!dir.empty(), "no output directory given");
  fs::path target = fs::path(dir);
  if (!target.has_filename()) target = target.parent_path();  // "out/" -> "out"
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  check(fs::is_directory(parent, ec), dir + ": cannot write output directory: '" + parent.string() +
                                          "' does not exist or is not a directory");
  const bool exists = fs::exists(target, ec);
  if (exists) {
    check(fs::is_directory(target, ec), dir + ": exists and is not a directory");
    const bool empty = fs::is_empty(target, ec);
    check(empty || fs::exists(target / marker, ec),
          dir + ": exists, is not empty and holds no " + marker + "; refusing to overwrite it");
  }
  const std::string tag = "." + target.filename().string() + ".tmp-" + std::to_string(::getpid());
  const fs::path temp = parent / tag;
  fs::remove_all(temp, ec);
  if (!fs::create_directory(temp, ec) || ec) {
    throw Error(dir + ": cannot write output directory: cannot create '" + temp.string() + "': " + ec.message());
  }
  try {
    for (const auto& [name, bytes] : files) write_file(temp / name, bytes);
    fs::path backup;
    if (exists) {
      backup = parent / (tag + ".old");
      fs::rename(target, backup, ec);
      check(!ec, dir + ": cannot move the previous directory aside: " + ec.message());
    }
    fs::rename(temp, target, ec);
    if (ec) {
      const std::string message = ec.message();
      if (exists) fs::rename(backup, target, ec);
      throw Error(dir + ": cannot move the new directory into place: " + message);
    }
    if (exists) fs::remove_all(backup, ec);
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
}

}  // namespace dnnsplit::partition::detail
