// Writing a whole output directory (a plan, a report) so that it appears complete or not at all.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dnnsplit::partition::detail {

using FileList = std::vector<std::pair<std::string, std::string>>;  // file name, bytes

// Writes the files into a temporary directory beside `dir` and renames it to `dir`. An existing
// `dir` is replaced only when it is empty or holds `marker` (a previous output of the same kind);
// otherwise, or when anything cannot be written, throws Error and leaves no temporary behind.
void write_directory_atomically(const std::string& dir, const FileList& files, const std::string& marker);

}  // namespace dnnsplit::partition::detail
