// Whole-file reads and atomic writes with errors that name the file.
#pragma once

#include <string>
#include <string_view>

namespace dnnsplit {

// Reads the whole file; `what` (e.g. ".npy file") words the error when it cannot be opened.
std::string read_file_bytes(const std::string& path, const std::string& what);

// Writes to a temporary file in the same directory, then renames it over path, so readers never
// see a half-written file and a failed write leaves any old file in place.
void write_file_atomic(const std::string& path, std::string_view bytes, const std::string& what);

}  // namespace dnnsplit
